"""Benchmark: `nbdpath evidence summarize` on hostile sizes (issue 8).

Generates, in a temporary directory deleted afterwards, the inputs of the
audit and times each in a fresh process (wall clock, peak RSS via os.wait4):
  - log-nfc-9000 / log-nfc-90000: one log line of 'vpxa-nfc://' repeated
    (a regex that backtracks over it is quadratic);
  - pcap-1M-flows: a ~70 MB pcap of 1,000,000 SYNs, each its own TCP 902 flow;
  - esxtop-2000x2000: a ~2.6 MB esxtop CSV with 2,000 vmk and 2,000 vmnic ports;
  - log-3M-urls: an ~84 MB log of 3,000,000 distinct NFC URLs.

Run: python benchmarks/hostile.py [--timeout 600] [--format json|table] [--only NAME ...]
Prints a table; results are recorded in benchmarks/README.md ("Hostile sizes").
"""

from __future__ import annotations

import argparse
import shutil
import socket
import struct
import sys
import tempfile
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).parent))
from evidence import timed, warm  # noqa: E402


def nfc_line(path: Path, repeats: int) -> None:
    path.write_text("2026-11-21T08:14:02.702Z| vpxa| I125: " + "vpxa-nfc://" * repeats + "\n")


def _syn(i: int) -> bytes:
    """Ethernet + IPv4 + TCP SYN from a distinct node address and port to host:902."""
    src = socket.inet_aton(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}")
    tcp = struct.pack(">HHIIBBHHH", 1024 + i % 60000, 902, 1, 0, 0x50, 0x02, 65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 0, 0x4000, 64, 6, 0, src, socket.inet_aton("10.200.0.11"))
    return bytes.fromhex("0050566c0002" "005056aa0050") + b"\x08\x00" + ip + tcp


def many_flows(path: Path, flows: int = 1_000_000) -> None:
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i in range(flows):
            frame = _syn(i)
            out.write(struct.pack("<IIII", 1700000000 + i // 1000, i % 1000, len(frame), len(frame)) + frame)


def many_ports(path: Path, vmks: int = 2000, vmnics: int = 2000, rows: int = 36) -> None:
    clients = [f"vmk{i}" for i in range(vmks)] + [f"vmnic{i}" for i in range(vmnics)]
    header = ["(PDH-CSV 4.0) (UTC)(0)"]
    for k, client in enumerate(clients):
        for counter in ("MBits Transmitted/sec", "MBits Received/sec"):
            header.append(f"\\\\esx01\\Network Port(vSwitch0:{33554432 + k}:{client})\\{counter}")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write('"' + '","'.join(header) + '"\r\n')
        for r in range(rows):
            cells = [f"{(r * 7 + k) % 50}.0" for k in range(2 * len(clients))]
            f.write(f'"11/21/2026 08:00:{r % 60:02d}","' + '","'.join(cells) + '"\r\n')


def many_urls(path: Path, urls: int = 3_000_000) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(0, urls, 1000):
            f.write("".join(f"vpxa-nfc://d@10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}:902\n"
                            for n in range(i, min(urls, i + 1000))))


CASES: dict[str, Callable[[Path], None]] = {
    "log-nfc-9000": lambda p: nfc_line(p, 9000),
    "log-nfc-90000": lambda p: nfc_line(p, 90000),
    "pcap-1M-flows": many_flows,
    "esxtop-2000x2000": many_ports,
    "log-3M-urls": many_urls,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=600.0, help="stop a run after this many seconds")
    ap.add_argument("--format", choices=["json", "table"], default="json")
    ap.add_argument("--only", nargs="*", choices=sorted(CASES), default=sorted(CASES, key=list(CASES).index))
    args = ap.parse_args()
    nbd = [sys.executable, "-m", "nbdpath", "evidence", "summarize", "--format", args.format]
    tmp = Path(tempfile.mkdtemp(prefix="nbdpath-hostile-"))
    print(f"{'input':<18} {'MB':>7} {'exit':>5} {'seconds':>9} {'max RSS MiB':>12}  warnings")
    try:
        for name in args.only:
            path = tmp / (name + (".pcap" if name.startswith("pcap") else ".csv" if "esxtop" in name else ".log"))
            CASES[name](path)
            warm(path)
            run = timed(nbd + [str(path)], check=False, timeout=args.timeout)
            seconds = f"{run.seconds:9.2f}" if not run.timed_out else f">{args.timeout:8.0f}"
            notes = sum(line.startswith("nbdpath: warning:") for line in run.stderr.splitlines())
            print(f"{name:<18} {path.stat().st_size / 1e6:7.1f} {run.code:>5} {seconds} {run.rss_mib:12d}  {notes}",
                  flush=True)
            path.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
