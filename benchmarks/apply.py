"""Benchmark: nbdpath apply against a 1,000-host vcsim, dry run, execute and rollback.

Every step reads the live state before it (skip if done) and after it
(confirm). nbdpath reads the whole inventory once (the dry run) and then
only the step's host; the peer ("full reads") re-reads the whole inventory
before and after each step, as a naive runner would. Same plan, same
simulator, one after the other (rolled back in between).

    python benchmarks/apply.py [--hosts 1000] [--steps 10]

Prints figures; not a test. Machine and results: docs/apply.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "vcsim"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import vcsim_launcher
from discover import fleet

from nbdpath import apply as ap
from nbdpath.apply.planfile import PlanFile, PlannedStep
from nbdpath.plan import changes as ch
from nbdpath.sources import vcenter


class FullReads(ap.VcenterLive):
    """The peer: every read is a bulk read of the whole inventory."""

    def read(self, hosts=None):
        return super().read(None)


def run(cls, sim, plan: PlanFile, tmp: str, tag: str) -> dict[str, float]:
    t0 = time.perf_counter()
    live = cls.open(sim.server, vcenter.Credentials(sim.user, sim.password), vcenter.ConnectOptions(ca_file=str(sim.cert)))
    t_connect = time.perf_counter() - t0
    t0 = time.perf_counter()
    views = ap.preflight(plan, live)
    t_dry = time.perf_counter() - t0
    assert all(v.assessment.status is ap.Status.PENDING for v in views)
    journal = ap.JournalFile(str(Path(tmp) / f"{tag}.json"), ap.Journal(plan.source, plan.sha256, "bench", "t"))
    t0 = time.perf_counter()
    result = ap.execute(plan, live, journal)
    t_exec = time.perf_counter() - t0
    assert result.state == "completed", result.message
    t0 = time.perf_counter()
    back = ap.undo(ap.JournalFile(journal.path, ap.load_journal(journal.path)), live)
    t_undo = time.perf_counter() - t0
    assert back.state == "rolled-back", back.message
    live.close()
    return {"connect": t_connect, "dry": t_dry, "exec": t_exec, "undo": t_undo, "writes": journal.writes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    snap = fleet("veeam-tag-routed", args.hosts)
    # One static route per host on the first hosts: the fix the routed lab's plan proposes.
    steps = tuple(PlannedStep(i + 1, ch.RouteAdd(h.name, "10.40.0.0/24", "10.30.0.1"), ())
                  for i, h in enumerate(snap.hosts[: args.steps]))
    plan = PlanFile("bench-plan.json", "0" * 64, steps)
    with tempfile.TemporaryDirectory() as tmp:
        sim = vcsim_launcher.start(snap, Path(tmp) / "vc")
        try:
            ours = run(ap.VcenterLive, sim, plan, tmp, "ours")
            peer = run(FullReads, sim, plan, tmp, "peer")
        finally:
            sim.stop()
    n = args.steps
    print(f"machine: {platform.machine()}, Python {platform.python_version()}; {args.hosts} hosts, {n} steps")
    print("| runner | connect s | dry run s | execute s | per step s | rollback s | per undo s | journal writes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in (("nbdpath (host-scoped reads)", ours), ("peer: full reads", peer)):
        print(f"| {name} | {r['connect']:.2f} | {r['dry']:.2f} | {r['exec']:.2f} | {(r['exec'] - r['dry']) / n:.3f} "
              f"| {r['undo']:.2f} | {r['undo'] / n:.3f} | {r['writes']} |")
    print("(execute includes its own preflight read; per step = (execute - dry run) / steps)")


if __name__ == "__main__":
    main()
