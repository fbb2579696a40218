"""Benchmark: `nbdpath estimate` on 100,000 VMs, 10,000 hosts, 16 nodes, 50 jobs vs a naive per-VM loop.

nbdpath: `nbdpath estimate FILE --format json -o OUT` in a fresh process,
wall time, CPU seconds (user + sys) and peak RSS from `/usr/bin/time -f "%e
%U %S %M"` (what a user waits for, imports and loading the snapshot
included). On a machine shared with other work the CPU seconds are the
steadier figure.

``--pythonpath SRC`` (repeatable) runs other source trees (e.g. a git
worktree of an older commit) beside this one, interleaved run by run, so a
change in the machine's load hits every tree alike; each run's output is
compared byte for byte with this tree's.

``--phases`` also runs each tree's phases in fresh processes (imports, load,
selection, prepare with the trace, the jobs, JSON), CPU seconds with the GC
off as the command runs it: where the time goes, tree by tree.

Naive (what a script would do): per job, scan every VM for the job's
clusters, trace each selected VM's host -> node pair on its own
(Engine.trace_pair, nothing shared between VMs of one host) and add its
disks' time per node. It stops after ``--naive-budget`` seconds and
extrapolates linearly from the VMs it did; the figure says so.

    python benchmarks/estimate.py [--hosts 10000] [--vms 100000] [--jobs 50] [--repeat 3]
    python benchmarks/estimate.py --pythonpath /tmp/est-before/src --no-naive   # before/after
    python benchmarks/estimate.py --pythonpath /tmp/est-before/src --no-naive --phases

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

THIS_TREE = str(HERE.parent / "src")


def ours(snapshot: Path, out: Path, src: str = THIS_TREE) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS KiB) of one fresh `nbdpath estimate` process running ``src``."""
    # `python -m nbdpath` rather than the installed script: an older tree may predate its entry point.
    env = {**os.environ, "PYTHONPATH": src}
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", sys.executable, "-m", "nbdpath", "estimate",
                           str(snapshot), "--format", "json", "-o", str(out)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"nbdpath estimate ({src}) failed: {proc.stderr[-2000:]}")
    wall, user, sys_s, rss = proc.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(sys_s), int(rss)


# Run in a fresh process per tree (``--phases``): CPU seconds of each phase of the command, the GC
# off as the command runs it. Only calls every tree since 7add985 has.
PHASES = """
import gc, json, sys, time
t0 = time.process_time()
from nbdpath.commands import estimate as command
from nbdpath.estimate import window
from nbdpath.model import load_file
gc.disable()
t1 = time.process_time()
snap = load_file(sys.argv[1])
t2 = time.process_time()
est = window.Estimator(snap)
jobs = list(snap.jobs)
for job in jobs:
    est.selected(job)
t3 = time.process_time()
est.prepare(jobs)
t4 = time.process_time()
found = [est.job(job) for job in jobs]
t5 = time.process_time()
command._rendered({"jobs": [e.to_dict() for e in found]}, "json")
t6 = time.process_time()
print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "selection": t3 - t2, "prepare + trace": t4 - t3,
                  "jobs": t5 - t4, "json": t6 - t5}))
"""


def phases(snapshot: Path, src: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": src}
    proc = subprocess.run([sys.executable, "-c", PHASES, str(snapshot)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"phases ({src}) failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


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
    ap.add_argument("--no-naive", action="store_true", help="skip the naive loop (before/after comparisons)")
    ap.add_argument("--phases", action="store_true",
                    help="also CPU seconds per phase (imports, load, selection, trace, jobs, JSON), fresh processes")
    ap.add_argument("--pythonpath", action="append", default=[], metavar="SRC",
                    help="also run this source tree, interleaved with this one (repeatable)")
    args = ap.parse_args()

    trees = [THIS_TREE, *args.pythonpath]
    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp) / "fleet.json"
        fleet = fleetgen.add_vms(fleetgen.generate(args.hosts, args.nodes), args.vms, args.jobs)
        snap.write_text(json.dumps(fleet, separators=(",", ":")))
        size = snap.stat().st_size
        runs: dict[str, list[tuple[float, float, int]]] = {t: [] for t in trees}
        outputs = {t: Path(tmp) / f"estimate-{i}.json" for i, t in enumerate(trees)}
        for _ in range(args.repeat):
            for t in trees:
                runs[t].append(ours(snap, outputs[t], t))
        split: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
        for _ in range(args.repeat if args.phases else 0):
            for t in trees:
                split[t].append(phases(snap, t))
        result = json.loads(outputs[THIS_TREE].read_text())
        same = {t: outputs[t].read_bytes() == outputs[THIS_TREE].read_bytes() for t in trees}
        naive_s, done, selected = (0.0, 0, 0) if args.no_naive else naive(snap, args.naive_budget)
    print(f"machine: {platform.machine()} {platform.system()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"fleet: {args.hosts} hosts, {args.vms} VMs, {args.nodes} nodes, {len(fleet['jobs'])} jobs; "
          f"snapshot {size / 2**20:.1f} MiB JSON")
    for t in trees:
        r = runs[t]
        label = "this tree" if t == THIS_TREE else t
        print(f"nbdpath estimate ({label}): {statistics.median(x[0] for x in r):7.2f} s wall "
              f"(median of {args.repeat}: {', '.join(f'{x[0]:.2f}' for x in r)}), "
              f"{statistics.median(x[1] for x in r):.2f} s CPU ({', '.join(f'{x[1]:.2f}' for x in r)}), "
              f"peak RSS {max(x[2] for x in r) / 1024:.0f} MiB, {len(result['jobs'])} jobs"
              + ("" if t == THIS_TREE else f", output {'identical' if same[t] else 'DIFFERS'}"))
    for t in trees if args.phases else ():
        label = "this tree" if t == THIS_TREE else t
        print(f"phases, CPU s, median (min) of {args.repeat} ({label}): " + ", ".join(
            f"{k} {statistics.median(r[k] for r in split[t]):.2f} ({min(r[k] for r in split[t]):.2f})"
            for k in split[t][0]))
    wall = statistics.median(x[0] for x in runs[THIS_TREE])
    rss = max(x[2] for x in runs[THIS_TREE])
    if not args.no_naive:
        how = "measured" if done >= selected else f"extrapolated from {done:,} of {selected:,} VMs"
        print(f"naive per-VM loop: {naive_s:7.2f} s ({how}; in-process, snapshot load included)")
        print(f"speed-up         : {naive_s / wall:7.1f}x   target: <= 5 s and <= 1 GiB")
    ok = wall <= 5 and rss <= 1 << 20 and all(same.values())
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
