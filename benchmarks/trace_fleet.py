"""Benchmark: load + trace + check of a generated fleet (clusters of 16, 16 backup nodes).

Each size runs in a fresh subprocess so peak memory (ru_maxrss) is its own.
Wall time on a shared 2-core machine is noisy; "cpu s" (process time) is
printed beside it. The peer is the same engine with shape sharing off (every pair traced from
scratch), run side by side at the smaller sizes.

    python benchmarks/trace_fleet.py                 # 1k, 10k, 50k hosts
    python benchmarks/trace_fleet.py --hosts 10000   # one size
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_S, TARGET_MIB = 2.0, 1024


def one(path: str, share: bool) -> dict:
    from nbdpath.commands.core import load_inputs
    from nbdpath.engine import Engine
    from nbdpath.rules import check

    c0 = time.process_time()
    t0 = time.perf_counter()
    [(_, snap)] = load_inputs(path, None)  # what `nbdpath check FILE` does
    t1 = time.perf_counter()
    engine = Engine(snap, share=share)
    paths = engine.trace()
    t2 = time.perf_counter()
    findings = check(engine, paths)
    t3 = time.perf_counter()
    return {
        "hosts": len(snap.hosts), "pairs": len(paths), "findings": len(findings),
        "load_s": t1 - t0, "trace_s": t2 - t1, "check_s": t3 - t2, "total_s": t3 - t0,
        "cpu_s": time.process_time() - c0,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run(n: int, share: bool, tmp: str) -> dict:
    path = os.path.join(tmp, f"fleet-{n}.json")
    if not os.path.exists(path):
        sys.path.insert(0, HERE)
        import fleetgen

        fleetgen.write(path, n)
    out = subprocess.run(
        [sys.executable, __file__, "--child", path, "--share" if share else "--no-share"],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, nargs="*", default=[1000, 10000, 50000])
    ap.add_argument("--peer-max", type=int, default=10000, help="largest size the (slow) peer runs at")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--share", dest="share", action="store_true", default=True, help=argparse.SUPPRESS)
    ap.add_argument("--no-share", dest="share", action="store_false", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.child, args.share)))
        return 0
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'hosts':>7} {'pairs':>8} {'load s':>7} {'trace s':>8} {'check s':>8} {'total s':>8} "
          f"{'cpu s':>6} {'pairs/s':>9} {'peak MiB':>9} {'peer total s':>13} {'speedup':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.hosts:
            r = run(n, True, tmp)
            peer = run(n, False, tmp) if n <= args.peer_max else None
            ratio = f"{peer['total_s'] / r['total_s']:.1f}x" if peer else "-"
            peer_s = f"{peer['total_s']:.2f}" if peer else "-"
            print(f"{r['hosts']:>7} {r['pairs']:>8} {r['load_s']:>7.2f} {r['trace_s']:>8.2f} {r['check_s']:>8.2f} "
                  f"{r['total_s']:>8.2f} {r['cpu_s']:>6.2f} {r['pairs'] / r['total_s']:>9.0f} {r['peak_mib']:>9.0f} "
                  f"{peer_s:>13} {ratio:>8}")
            if n == 10000:
                ok = r["total_s"] <= TARGET_S and r["peak_mib"] <= TARGET_MIB
                print(f"        target 10k hosts: <= {TARGET_S} s and <= {TARGET_MIB} MiB -> {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
