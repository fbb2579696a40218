"""Benchmark: bring up, stream and tear down the 20-host x 4-node lab.

Prints wall-clock figures per phase; no assertion here (the agreement is
asserted in tests/lab). Run as root:  python benchmarks/lab_scale.py [HOSTS NODES RUNS]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lab"))

from estates import fleet  # noqa: E402

from nbdpath import engine  # noqa: E402
from nbdpath.lab.kernel import Limits  # noqa: E402
from nbdpath.lab.run import run  # noqa: E402


def main() -> None:
    hosts, nodes, runs = (int(a) for a in (sys.argv[1:4] + ["20", "4", "3"][len(sys.argv[1:4]):]))
    snap = fleet(hosts, nodes)
    paths = engine.trace(snap)
    limits = Limits()  # the CLI defaults: 8 MiB per stream, 2 s connect/idle, 10 s total
    rows = []
    for i in range(runs):
        t0 = time.monotonic()
        result = run(snap, paths, limits)
        wall = time.monotonic() - t0
        t = result.timings
        broken = sum(1 for c in result.checks if not c.observation.completed)
        rows.append((t["up"], t["streams"], t["down"], wall))
        print(f"run {i + 1}: {hosts}x{nodes} pairs={len(result.checks)} agree={result.agree} "
              f"incomplete={broken} up={t['up']:.2f}s streams={t['streams']:.2f}s down={t['down']:.2f}s wall={wall:.2f}s")
    med = [statistics.median(col) for col in zip(*rows)]
    print(f"median: up={med[0]:.2f}s streams={med[1]:.2f}s down={med[2]:.2f}s wall={med[3]:.2f}s "
          f"({len(paths)} streams of {limits.nbytes >> 20} MiB)")


if __name__ == "__main__":
    main()
