"""One lab run end to end: plan, build, stream, compare, tear down."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any, Optional, Sequence

from ..engine.types import Path
from ..model import Snapshot
from . import plan as lab_plan
from .compare import Check, compare, prediction
from .kernel import Lab, Limits, new_prefix, require, run_streams

VERSION = 1  # of the lab result JSON ({"version", "kind": "lab-run" | "lab-verify", ...})


@dataclass(frozen=True, slots=True)
class LabRun:
    snapshot: str
    prefix: str
    checks: tuple[Check, ...]
    notes: tuple[str, ...]
    timings: dict[str, float]
    limits: Limits
    pcaps: Optional[str] = None

    @property
    def agree(self) -> bool:
        return all(c.agree for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "kind": "lab-run",
            "snapshot": self.snapshot,
            "prefix": self.prefix,
            "agree": self.agree,
            "limits": {
                "bytes": self.limits.nbytes, "connect_timeout_s": self.limits.connect_timeout,
                "idle_timeout_s": self.limits.idle_timeout, "total_timeout_s": self.limits.total_timeout,
            },
            "pairs": [c.to_dict() for c in self.checks],
            "notes": list(self.notes),
            "emulation": "default TCP/IP stack only; see docs/lab.md for Linux-vs-ESXi differences",
            "pcaps": self.pcaps,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }


def plan_for(snap: Snapshot, paths: Sequence[Path], prefix: Optional[str] = None) -> lab_plan.LabPlan:
    # The kernel lab builds only what the snapshot describes; a path through the
    # undescribed routed network (A11) has nothing to run on.
    unemulated = {(p.host, p.node): "the path crosses a routed network the snapshot does not describe (A11); "
                  "describe its routers to emulate it" for p in paths if "A11-unmodelled-routing" in p.outcome.assumptions}
    return lab_plan.build(snap, [(p.host, p.node, p.endpoint.ip) for p in paths], prefix or new_prefix(), unemulated)


def run(
    snap: Snapshot,
    paths: Sequence[Path],
    limits: Optional[Limits] = None,
    keep_pcaps: Optional[FsPath] = None,
    prefix: Optional[str] = None,
    workers: int = 32,
    snaplen: int = 128,
) -> LabRun:
    """Build the lab for ``paths``, stream each pair once, compare, tear down."""
    limits = limits or Limits()
    the_plan = plan_for(snap, paths, prefix)
    require(need_tcpdump=keep_pcaps is not None, need_iptables=bool(the_plan.filters))
    t0 = time.monotonic()
    lab = Lab(the_plan)
    with lab:
        if keep_pcaps is not None:
            lab.start_captures(keep_pcaps, snaplen)
        t1 = time.monotonic()
        observations = run_streams(the_plan, limits, workers)
        lab.timings["streams"] = time.monotonic() - t1
    lab.timings["total"] = time.monotonic() - t0
    checks = tuple(compare(prediction(p), o) for p, o in zip(paths, observations, strict=True))
    return LabRun(snap.name, the_plan.prefix, checks, the_plan.notes, dict(lab.timings), limits,
                  str(keep_pcaps) if keep_pcaps else None)
