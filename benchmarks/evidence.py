"""Benchmark: `nbdpath evidence summarize` on a 1 GB capture and a 17,000-column esxtop CSV.

Generates both into a temporary directory (deleted afterwards) and times,
side by side in one run:
  - capture: nbdpath's struct reader, a plain dpkt loop doing the same
    per-flow sums, and `tshark -q -z conv,tcp` (Debian's tshark);
  - esxtop CSV: nbdpath's network-column reader, in MB/s.
Peak memory (max RSS) is measured per child process with os.wait4, on two
sizes of each input to show it does not grow with the file.

Run: python benchmarks/evidence.py [--capture-mb 1024] [--csv-rows 10000] [--before SRC] [--only-nbdpath]
``--before SRC`` also times an older nbdpath (a ``src`` directory, e.g. from
``git archive COMMIT src | tar -x -C /tmp/before``) on the same files, side by side.
Prints a table; results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple, Optional

FRAME = 1514  # Ethernet frame of a 1500-byte IP packet
FLOWS = [  # (src, dst, sport, dport); the third is NFC
    ("10.0.0.50", "10.0.0.60", 40001, 445),
    ("10.0.0.11", "10.0.0.70", 3260, 50002),
    ("10.30.0.11", "10.30.0.50", 902, 40003),
    ("10.0.0.12", "10.0.0.80", 2049, 50004),
]

DPKT_LOOP = r"""
import sys, dpkt, collections
totals = collections.Counter()
with open(sys.argv[1], "rb") as f:
    for ts, buf in dpkt.pcap.Reader(f):
        eth = dpkt.ethernet.Ethernet(buf)
        ip = eth.data
        if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.tcp.TCP):
            continue
        tcp = ip.data
        if 902 in (tcp.sport, tcp.dport):
            totals[(ip.src, ip.dst, tcp.sport, tcp.dport, eth.src)] += len(tcp.data)
print(sum(totals.values()))
"""


def _frame(src: str, dst: str, sport: int, dport: int) -> bytes:
    import socket

    payload = FRAME - 14 - 20 - 20
    tcp = struct.pack(">HHIIBBHHH", sport, dport, 1, 1, 0x50, 0x10, 65535, 0, 0) + bytes(payload)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return bytes.fromhex("005056aa0050" "0050566c0002") + b"\x08\x00" + ip + tcp


def make_capture(path: Path, megabytes: int) -> int:
    frames = [_frame(*f) for f in FLOWS]
    per_batch = 4096
    record = 16 + FRAME
    n_total = megabytes * (1 << 20) // record
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        batch = bytearray(record * per_batch)
        for i in range(per_batch):
            struct.pack_into("<IIII", batch, i * record, 0, 0, FRAME, FRAME)
            batch[i * record + 16:(i + 1) * record] = frames[i % len(frames)]
        written = 0
        t = 1700000000
        while written < n_total:
            k = min(per_batch, n_total - written)
            for i in range(0, k, 64):  # advance time every 64 frames: cheap and monotonic
                struct.pack_into("<II", batch, i * record, t, i)
            t += 1
            out.write(memoryview(batch)[: k * record])
            written += k
    return n_total


def make_csv(path: Path, rows: int, columns: int = 17000, ports: int = 120) -> None:
    """esxtop-like: `ports` Network Ports x 16 counters, the rest other counters."""
    counters = ["Link Up", "Link Speed (MBits/sec)", "Full Duplex", "Packets Transmitted/sec",
                "MBits Transmitted/sec", "Packets Received/sec", "MBits Received/sec",
                "Average Packet Size  Transmitted (Bytes)", "Average Packet Size  Received (Bytes)",
                "% Outbound Packets Dropped", "% Received Packets Dropped", "Multicast Packets Transmitted/sec",
                "Multicast Packets Received/sec", "Broadcast Packets Transmitted/sec",
                "Broadcast Packets Received/sec", "Port ID"]
    names = []
    for p in range(ports):
        client = f"vmk{p}" if p < 6 else (f"vmnic{p - 6}" if p < 14 else f"{2100000 + p}:vm{p}.eth0")
        for c in counters:
            names.append(f"\\\\esx01\\Network Port(vSwitch0:{33554432 + p}:{client})\\{c}")
    others = columns - 1 - len(names)
    header = ["(PDH-CSV 4.0) (UTC)(0)"] + [f"\\\\esx01\\Group Cpu({i}:world{i})\\% Used" for i in range(others)] + names
    other_cells = '","'.join(["12.50"] * others)
    net_static = ["0.00"] * len(names)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write('"' + '","'.join(header) + '"\r\n')
        for r in range(rows):
            cells = list(net_static)
            cells[4] = f"{(r * 37) % 3000}.00"  # vmk0 MBits Transmitted/sec
            cells[16 * 6 + 4] = f"{(r * 37) % 3000 + 1}.00"  # vmnic0 follows it
            ts = f"11/21/2026 {8 + r // 1800:02d}:{(r // 30) % 60:02d}:{(r * 2) % 60:02d}"
            f.write(f'"{ts}","{other_cells}","' + '","'.join(cells) + '"\r\n')


class Run(NamedTuple):
    seconds: float
    rss_mib: int  # peak RSS of that one child
    stdout: str
    stderr: str
    code: int
    timed_out: bool


def timed(cmd: list[str], check: bool = True, timeout: Optional[float] = None,
          env: Optional[dict[str, str]] = None) -> Run:
    """Run ``cmd`` as a child; wall seconds and peak RSS of that child alone (os.wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        killer = threading.Timer(timeout, proc.kill) if timeout else None
        if killer:
            killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        timed_out = bool(killer) and not killer.is_alive()
        if killer:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = Run(elapsed, usage.ru_maxrss // 1024, out.read().decode(), err.read().decode("utf-8", "replace"),
                  proc.returncode, timed_out)
    if check and run.code != 0:
        raise SystemExit(f"{cmd[:4]} failed with {run.code}")
    return run


def warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture-mb", type=int, default=1024)
    ap.add_argument("--csv-rows", type=int, default=10000)
    ap.add_argument("--before", metavar="SRC", help="also time the nbdpath package in SRC (an older src/)")
    ap.add_argument("--only-nbdpath", action="store_true", help="leave out the dpkt and tshark runs")
    args = ap.parse_args()
    nbd = [sys.executable, "-m", "nbdpath", "evidence", "summarize", "--format", "json"]
    versions = [("", None)]
    if args.before:
        versions.append((" (before)", {**os.environ, "PYTHONPATH": str(Path(args.before).resolve())}))
    tmp = Path(tempfile.mkdtemp(prefix="nbdpath-bench-"))
    rows = []
    try:
        small, big = tmp / "small.pcap", tmp / "big.pcap"
        make_capture(small, args.capture_mb // 4)
        packets = make_capture(big, args.capture_mb)
        size_mb = big.stat().st_size / 1e6
        for label, cap in (("capture 1/4", small), ("capture", big)):
            for tag, env in versions:
                warm(cap)
                s, rss = timed(nbd + [str(cap)], env=env)[:2]
                rows.append((f"nbdpath summarize, {label}{tag}", cap.stat().st_size / 1e6, s, rss))
        if args.only_nbdpath:
            big.unlink()
        if big.exists():
            warm(big)
        if not args.only_nbdpath:
            s_dpkt, rss_dpkt = timed([sys.executable, "-c", DPKT_LOOP, str(big)])[:2]
            rows.append(("plain dpkt loop, capture", size_mb, s_dpkt, rss_dpkt))
        if shutil.which("tshark") and not args.only_nbdpath:
            warm(big)
            s_ts, rss_ts = timed(["tshark", "-q", "-z", "conv,tcp", "-r", str(big)])[:2]
            rows.append(("tshark -q -z conv,tcp, capture", size_mb, s_ts, rss_ts))
        big.unlink(missing_ok=True)
        small.unlink()
        csv_small, csv_big = tmp / "small.csv", tmp / "big.csv"
        make_csv(csv_small, max(1, args.csv_rows // 10))
        make_csv(csv_big, args.csv_rows)
        for label, csv in ((f"esxtop CSV {args.csv_rows // 10} rows", csv_small),
                           (f"esxtop CSV {args.csv_rows} rows", csv_big)):
            for tag, env in versions:
                warm(csv)
                s, rss, out = timed(nbd + [str(csv)], env=env)[:3]
                assert '"transmitting_vmk": "vmk0"' in out and '"vmnic": "vmnic0"' in out
                rows.append((f"nbdpath summarize, {label}{tag}", csv.stat().st_size / 1e6, s, rss))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"capture: {packets} frames of {FRAME} bytes, {len(FLOWS)} flows (one on TCP 902)")
    print(f"{'run':<44} {'MB':>8} {'seconds':>8} {'MB/s':>8} {'max RSS MiB':>12}")
    for name, mb, s, rss in rows:
        print(f"{name:<44} {mb:8.0f} {s:8.2f} {mb / s:8.0f} {rss:12d}")


if __name__ == "__main__":
    main()
