"""Size and speed of `nbdpath history record`: N nightly runs of a fleetgen estate, ~1% of hosts changing a night.

    python benchmarks/history.py [--hosts 1000] [--runs 365] [--churn 0.01] [--db FILE]

Each night a different ~1% of the hosts change (a backup uplink goes down or comes back, or a
static route is added or removed), the snapshot is validated, traced, checked and recorded like
`nbdpath history record` does. Prints the database size and the seconds per record.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))

from fleetgen import generate  # noqa: E402

from nbdpath.commands.history import drift_between, record_snapshot  # noqa: E402
from nbdpath.history.store import Store  # noqa: E402
from nbdpath.model import Snapshot  # noqa: E402


def mutate(doc: dict, night: int, churn: float) -> None:
    hosts = doc["hosts"]
    n = max(1, int(len(hosts) * churn))
    for k in range(n):
        h = hosts[(night * n + k) % len(hosts)]
        if k % 2:
            pnic = h["pnics"][2]
            pnic["link_up"] = not pnic["link_up"]
        else:
            stack = h["netstacks"][0]
            extra = {"network": "12.0.0.0/24", "gateway": stack["gateway"]}
            routes = stack.setdefault("routes", [])
            if extra in routes:
                routes.remove(extra)
            else:
                routes.append(extra)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=365)
    ap.add_argument("--churn", type=float, default=0.01)
    ap.add_argument("--db")
    args = ap.parse_args()
    db = args.db or os.path.join(tempfile.mkdtemp(prefix="nbdpath-history-"), "history.sqlite")
    doc = generate(args.hosts)
    record_s = 0.0
    with Store(db, create=True) as store:
        for night in range(args.runs):
            if night:
                mutate(doc, night, args.churn)
            snap = Snapshot.model_validate(copy.deepcopy(doc))
            t0 = time.perf_counter()
            at = time.strftime("%Y-%m-%dT02:00:00Z", time.gmtime(1767232800 + night * 86400))
            record_snapshot(store, snap, "benchmark", at)
            record_s += time.perf_counter() - t0
        runs = store.runs()
        t0 = time.perf_counter()
        d = drift_between(store, runs[-2].id, runs[-1].id)
        drift_s = time.perf_counter() - t0
    size = os.path.getsize(db)
    print(f"hosts={args.hosts} runs={args.runs} churn={args.churn:.2%}")
    print(f"database: {size / 1e6:.1f} MB ({size / args.runs / 1e3:.1f} kB per run)  {db}")
    print(f"record (trace + check + store): {record_s / args.runs:.2f} s per run")
    print(f"drift of the last two runs: {drift_s:.3f} s, {len(d.config)} config / {len(d.paths)} path changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
