"""Where each plan step stands against the live state (pure).

The live state is a :class:`~nbdpath.model.Snapshot` read from vCenter; a
step is *pending* (it would change something), *done* (the live state
already matches: re-runs skip it) or *blocked* (it cannot be applied: host
gone, vmk missing, a conflicting route, ...). A dry run assesses every step
on the state the earlier steps would leave, so a plan whose step 2 depends
on step 1 reads as it will run.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import changes as ch
from ..changes import Assessment, Status
from ..model import Host, Snapshot

__all__ = ["Assessment", "Status", "StepView", "assess", "assess_plan", "find_host", "live_inverse"]


def find_host(snap: Snapshot, name: str) -> Host | None:
    return next((h for h in snap.hosts if h.name == name), None)


def assess(change: ch.Change, snap: Snapshot, allow_irreversible: bool = False, restoring: bool = False) -> Assessment:
    """The status of one change on the live state ``snap``.

    The precondition is the change kind's own (the one the what-if checks too);
    what apply adds is policy: an irreversible change needs --allow-irreversible.
    ``restoring``: the change puts back what was there before (a rollback), so the
    checks of what is *sensible* (backup tag on 7.0+, default stack) give way.
    """
    host = find_host(snap, change.host)
    if host is None:
        why = snap.missing.get(change.host)
        return Assessment(Status.BLOCKED, f"host {change.host} not found live" + (f" ({why})" if why else ""))
    a = change.assess(host, restoring)
    if a.status is Status.PENDING and not change.reversible and not allow_irreversible:
        return Assessment(Status.BLOCKED, f"{change.describe()} cannot be undone by nbdpath; "
                                          "give --allow-irreversible to include it")
    return a


@dataclass(frozen=True)
class StepView:
    """One step as a dry run shows it."""

    number: int
    change: ch.Change
    assessment: Assessment
    rollback: tuple[ch.Change, ...]


def assess_plan(steps, snap: Snapshot, allow_irreversible: bool = False) -> list[StepView]:
    """Every step on the state the earlier (pending) steps would leave, starting from ``snap``."""
    out = []
    state = snap
    for step in steps:
        a = assess(step.change, state, allow_irreversible)
        rollback: tuple[ch.Change, ...] = ()
        if a.status is Status.PENDING:
            rollback = live_inverse(step.change, state)
            state = ch.apply(state, step.change)
        out.append(StepView(step.number, step.change, a, rollback))
    return out


def live_inverse(change: ch.Change, snap: Snapshot) -> tuple[ch.Change, ...]:
    """What undoes ``change`` given the live state before it; () for an irreversible one."""
    return tuple(change.inverse(snap)) if change.reversible else ()
