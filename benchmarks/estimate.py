"""Benchmark: `nbdpath estimate` on 100,000 VMs, 10,000 hosts, 16 nodes, 50 jobs vs a naive per-VM loop.

nbdpath: `nbdpath estimate FILE --format json -o OUT` in a fresh process,
wall time and peak RSS from `/usr/bin/time -f "%e %M"` (what a user waits
for, imports and loading the snapshot included).

Naive (what a script would do): per job, scan every VM for the job's
clusters, trace each selected VM's host -> node pair on its own
(Engine.trace_pair, nothing shared between VMs of one host) and add its
disks' time per node. It stops after ``--naive-budget`` seconds and
extrapolates linearly from the VMs it did; the figure says so.

    python benchmarks/estimate.py [--hosts 10000] [--vms 100000] [--jobs 50] [--repeat 3]

Target (issue 9): at most 5 s and 1 GiB. Prints the figures; not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fleetgen  # noqa: E402

NBDPATH = Path(sys.executable).with_name("nbdpath")


def ours(snapshot: Path, out: Path) -> tuple[float, int]:
    """(wall s, peak RSS KiB) of one fresh `nbdpath estimate` process."""
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", str(NBDPATH), "estimate", str(snapshot),
                           "--format", "json", "-o", str(out)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"nbdpath estimate failed: {proc.stderr[-2000:]}")
    wall, rss = proc.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss)


def naive(snapshot: Path, budget_s: float) -> tuple[float, int, int]:
    """(seconds, VMs done, VMs selected in all): the per-VM loop, extrapolated past ``budget_s``."""
    from nbdpath.engine.trace import Engine
    from nbdpath.estimate.constants import Constants
    from nbdpath.model import load_file

    t0 = time.perf_counter()
    snap = load_file(snapshot)
    engine = Engine(snap)
    c = Constants()
    cluster_of = {h.name: h.cluster for h in snap.hosts}
    selected = sum(1 for j in snap.jobs for v in snap.vms if cluster_of[v.host] in set(j.clusters))
    done = 0
    windows = {}
    for job in snap.jobs:
        clusters = set(job.clusters)
        per_node: dict[str, float] = {}
        stream = c.stream_mbps(job.transport)
        for i, vm in enumerate(snap.vms):
            if cluster_of[vm.host] not in clusters:
                continue
            node = job.nodes[i % len(job.nodes)]
            p = engine.trace_pair(vm.host, node, record=False)
            mbps = min(stream, (p.outcome.bottleneck_mbps or float("inf")) * c.link_efficiency)
            share = 1.0 if job.mode == "full" else job.changed_fraction
            seconds = sum(d.capacity_gib * share * (1 << 30) * 8 / 1e6 / mbps for d in vm.disks)
            per_node[node] = per_node.get(node, 0.0) + seconds / job.concurrency.per_node
            done += 1
            if time.perf_counter() - t0 > budget_s:
                break
        windows[job.name] = max(per_node.values(), default=0.0)
        if time.perf_counter() - t0 > budget_s:
            break
    elapsed = time.perf_counter() - t0
    return elapsed * selected / max(done, 1), done, selected


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--vms", type=int, default=100000)
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive-budget", type=float, default=120.0, help="seconds before the naive loop extrapolates")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp) / "fleet.json"
        fleet = fleetgen.add_vms(fleetgen.generate(args.hosts, args.nodes), args.vms, args.jobs)
        snap.write_text(json.dumps(fleet, separators=(",", ":")))
        size = snap.stat().st_size
        runs = [ours(snap, Path(tmp) / "estimate.json") for _ in range(args.repeat)]
        result = json.loads((Path(tmp) / "estimate.json").read_text())
        naive_s, done, selected = naive(snap, args.naive_budget)
    wall = statistics.median(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    print(f"machine: {platform.machine()} {platform.system()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"fleet: {args.hosts} hosts, {args.vms} VMs, {args.nodes} nodes, {len(fleet['jobs'])} jobs; "
          f"snapshot {size / 2**20:.1f} MiB JSON")
    print(f"nbdpath estimate : {wall:7.2f} s wall (median of {args.repeat}: {', '.join(f'{r[0]:.2f}' for r in runs)}), "
          f"peak RSS {rss / 1024:.0f} MiB, {len(result['jobs'])} jobs")
    how = "measured" if done >= selected else f"extrapolated from {done:,} of {selected:,} VMs"
    print(f"naive per-VM loop: {naive_s:7.2f} s ({how}; in-process, snapshot load included)")
    print(f"speed-up         : {naive_s / wall:7.1f}x   target: <= 5 s and <= 1 GiB")
    ok = wall <= 5 and rss <= 1 << 20
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
