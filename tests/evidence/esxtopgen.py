"""Write esxtop batch CSVs in the documented perfmon layout (every cell quoted).

Header: ``(PDH-CSV 4.0) (UTC)(0)``, then ``\\\\host\\Network Port(portset:id:client)\\Counter``
cells, 16 counters per port, some with esxtop's double spaces.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable

COUNTERS = (
    "Link Up", "Link Speed (MBits/sec)", "Full Duplex",
    "Packets Transmitted/sec", "MBits Transmitted/sec", "Packets Received/sec", "MBits Received/sec",
    "Average Packet Size  Transmitted (Bytes)", "Average Packet Size  Received (Bytes)",
    "% Outbound Packets Dropped", "% Received Packets Dropped",
    "Multicast Packets Transmitted/sec", "Multicast Packets Received/sec",
    "Broadcast Packets Transmitted/sec", "Broadcast Packets Received/sec", "Port ID",
)
OTHER = ("Memory\\Kernel MBytes", "Group Cpu(1:system)\\% Used", "Physical Cpu(_Total)\\% Util Time")

# rate(port client, sample index) -> (tx Mbit/s, rx Mbit/s)
Rates = Callable[[str, int], tuple[float, float]]


def q(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


def header(host: str, ports: Iterable[str], drop: frozenset[str] = frozenset()) -> list[str]:
    cells = ["(PDH-CSV 4.0) (UTC)(0)"] + [f"\\\\{host}\\{o}" for o in OTHER]
    for inst in ports:
        for c in COUNTERS:
            cell = f"\\\\{host}\\Network Port({inst})\\{c}"
            if cell not in drop:
                cells.append(cell)
    return cells


def write(path, host: str, ports: list[str], rows: int, rates: Rates,
          drop: frozenset[str] = frozenset(), start: datetime = datetime(2026, 11, 21, 8, 0, 0)) -> None:
    cells = header(host, ports, drop)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(q(c) for c in cells) + "\r\n")
        for i in range(rows):
            f.write(",".join(q(v) for v in row(cells, i, rates, start)) + "\r\n")


def row(cells: list[str], i: int, rates: Rates, start: datetime) -> list[str]:
    out = [(start + timedelta(seconds=2 * i)).strftime("%m/%d/%Y %H:%M:%S")]
    for cell in cells[1:]:
        if "Network Port(" not in cell:
            out.append("12.50")
            continue
        inst = cell[cell.index("(") + 1:cell.rindex(")")]
        client = inst.split(":", 2)[2]
        tx, rx = rates(client, i)
        counter = cell.rsplit("\\", 1)[1]
        out.append({"MBits Transmitted/sec": f"{tx:.2f}", "MBits Received/sec": f"{rx:.2f}"}.get(counter, "0.00"))
    return out


REPORT2_PORTS = [
    "vSwitch0:33554436:vmk0", "vSwitch0:33554437:vmk3", "vSwitch0:33554438:vmk4",
    "vSwitch0:2214592514:vmnic0", "vSwitch0:2214592515:vmnic1",
    "vSwitch0:2214592516:vmnic2", "vSwitch0:2214592517:vmnic3",
    "vSwitch0:33554440:2101234:rubrik-vm.eth0",
]


def report2_rates(start: int = 10, end: int = 40) -> Rates:
    """Field report 2: vmk0 receives the node's ACKs, vmk4 transmits over vmnic2."""

    def rates(client: str, i: int) -> tuple[float, float]:
        backup = start <= i <= end
        wobble = (i * 37 % 11) / 10.0  # deterministic variation for correlation
        vmk4_tx = 3000.0 + 300 * wobble if backup else 0.0
        vmk0_tx = 0.3 + wobble / 10
        table = {
            "vmk0": (vmk0_tx, 45.0 + wobble if backup else 0.2),
            "vmk3": (0.5, 0.5),
            "vmk4": (vmk4_tx, 0.1),
            "vmnic0": (vmk0_tx + 0.1, 45.5 + wobble if backup else 0.4),
            "vmnic1": (0.05, 0.3),
            "vmnic2": (vmk4_tx + 0.2, 0.2),
            "vmnic3": (0.5, 0.5 + wobble),
        }
        return table.get(client, (2.0 + wobble, 1.0))

    return rates
