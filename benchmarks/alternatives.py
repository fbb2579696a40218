"""Benchmark: the cost of "how sure is the answer" at fleet size.

Traces a generated fleet (benchmarks/fleetgen.py) twice, each in a fresh
process: with alternatives (the default: every unverified assumption a path
used is traced again under its other reading) and without (the peer). Prints
both and the ratio; the target is at most 1.5x.

    python benchmarks/alternatives.py [--hosts 10000] [--strip]

--strip removes segments and routers first, so every routed path rests on
A11 and has an alternative to compute (the worst case).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def one(path: str, alternatives: bool) -> dict:
    from nbdpath.commands.core import load_inputs
    from nbdpath.engine import Engine

    [(_, snap)] = load_inputs(path, None)
    t0, c0 = time.perf_counter(), time.process_time()
    paths = Engine(snap, alternatives=alternatives).trace()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    unsure = sum(1 for p in paths if not p.outcome.robust)
    with_alt = sum(1 for p in paths if p.outcome.alternatives)
    return {"pairs": len(paths), "trace_s": round(wall, 3), "cpu_s": round(cpu, 3), "not_robust": unsure,
            "with_alternatives": with_alt}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--strip", action="store_true")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.child[0], args.child[1] == "1")))
        return 0
    sys.path.insert(0, HERE)
    import fleetgen

    with tempfile.TemporaryDirectory() as tmp:
        doc = fleetgen.generate(args.hosts)
        if args.strip:
            doc.pop("segments", None)
            doc.pop("routers", None)
        path = os.path.join(tmp, "fleet.json")
        with open(path, "w") as fh:
            json.dump(doc, fh)
        rows = {}
        for flag in ("0", "1"):
            out = subprocess.run([sys.executable, __file__, "--child", path, flag], capture_output=True, text=True,
                                 check=True).stdout
            rows[flag] = json.loads(out)
    base, alt = rows["0"], rows["1"]
    print(f"machine: {os.uname().machine}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{args.hosts} hosts{' (segments and routers stripped)' if args.strip else ''}, {base['pairs']} pairs")
    print(f"  without alternatives: trace {base['trace_s']:.2f} s (cpu {base['cpu_s']:.2f} s)")
    print(f"  with alternatives:    trace {alt['trace_s']:.2f} s (cpu {alt['cpu_s']:.2f} s); "
          f"{alt['with_alternatives']} pairs carry one, {alt['not_robust']} not robust")
    ratio = alt["cpu_s"] / base["cpu_s"] if base["cpu_s"] else float("nan")
    print(f"  ratio (cpu): {ratio:.2f}x  (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
