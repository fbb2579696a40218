"""A remediation plan: the changes the findings propose, checked in a what-if.

Pure: snapshot in, plan out. The plan says what every path and every finding
would become, and how to roll each change back, before anything is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from ..changes import render as registry
from ..changes.kinds import Workspace
from ..engine.trace import Engine
from ..errors import UsageError
from ..model import Snapshot
from ..rules import Finding, Severity, check
from ..safetext import terminal
from . import changes as ch
from .diff import PathChange, diff


@dataclass(frozen=True)
class Step:
    change: ch.Change
    reasons: tuple[str, ...]  # rule IDs that proposed it
    rollback: tuple[ch.Change, ...]


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    path_changes: tuple[PathChange, ...]
    resolved: tuple[Finding, ...]  # findings gone after the plan
    introduced: tuple[Finding, ...]  # findings the plan would create
    after: Snapshot
    skipped: tuple[tuple[ch.Change, str], ...] = ()  # proposed, but esxcli would refuse it at that point
    before: Optional[Snapshot] = None  # the state the plan starts from (renderers that restate a vmk need it)

    def states(self) -> list[tuple[Optional[Snapshot], Optional[Snapshot]]]:
        """Each step's host as it stands before and after the step (the what-if applied step by
        step), as one-host snapshots: what a renderer that restates a vmk (Ansible) reads."""
        if self.before is None:
            return [(None, None)] * len(self.steps)
        ws = Workspace(self.before)
        out: list[tuple[Optional[Snapshot], Optional[Snapshot]]] = []
        for s in self.steps:
            before = ws.view(s.change.host)
            ws.apply(s.change)
            out.append((before, ws.view(s.change.host)))
        return out

    def to_dict(self) -> dict[str, Any]:
        steps = []
        for s, (state, after) in zip(self.steps, self.states()):
            steps.append({
                "host": s.change.host,
                "change": s.change.describe(),
                "op": s.change.to_dict(),
                "rollback_ops": [r.to_dict() for r in s.rollback],
                "rules": list(s.reasons),
                **registry.commands(s.change, state),
                "rollback": {name: [r.command(u, after) for u in s.rollback] for name, r in registry.renderers().items()},
            })
        return {
            "version": 1,
            "kind": "plan",
            "steps": steps,
            "path_changes": [c.to_dict() for c in self.path_changes],
            "resolved": [{"rule": f.rule, "host": f.host, "nodes": list(f.nodes), "message": f.message} for f in self.resolved],
            "introduced": [{"rule": f.rule, "host": f.host, "nodes": list(f.nodes), "message": f.message} for f in self.introduced],
            "skipped": [{"change": c.describe(), "op": c.to_dict(), "reason": why} for c, why in self.skipped],
        }


def _key(f: Finding) -> tuple:
    return (f.rule, f.host, f.nodes, f.vmk)


def build(snap: Snapshot, min_severity: Severity = Severity.WARNING, rules: Iterable[str] = (),
          hosts: Iterable[str] = (), nodes: Iterable[str] = ()) -> Plan:
    """Collect the proposed changes (deduplicated, in host order), apply them to a
    copy and compare paths and findings before and after."""
    wanted_rules, wanted_hosts, wanted_nodes = set(rules), set(hosts), set(nodes)
    engine = Engine(snap)
    before_paths = engine.trace()
    before = check(engine, before_paths)
    proposed: dict[ch.Change, list[str]] = {}
    for f in before:
        if f.severity.rank < min_severity.rank or (wanted_rules and f.rule not in wanted_rules):
            continue
        if wanted_hosts and f.host not in wanted_hosts:
            continue
        # A host-wide finding (no nodes) concerns every node's pairs.
        if wanted_nodes and f.nodes and not wanted_nodes & set(f.nodes):
            continue
        for c in f.fix.changes:
            proposed.setdefault(c, [])
            if f.rule not in proposed[c]:
                proposed[c].append(f.rule)
    steps = []
    skipped = []
    ws = Workspace(snap)
    for change, reasons in proposed.items():
        try:
            rollback = tuple(ws.inverse(change))
        except UsageError:  # VmkRemove: no automatic rollback; the plan says so
            rollback = ()
        try:
            ws.apply(change)
        except UsageError as exc:  # e.g. the route exists already: a plan never fails halfway
            skipped.append((change, str(exc)))
            continue
        steps.append(Step(change, tuple(reasons), rollback))
    after = ws.snapshot()
    after_engine = Engine(after)
    after_paths = after_engine.trace()
    after_findings = check(after_engine, after_paths)
    keys_after = {_key(f) for f in after_findings}
    keys_before = {_key(f) for f in before}
    return Plan(
        tuple(steps),
        tuple(diff(before_paths, after_paths)),
        tuple(f for f in before if _key(f) not in keys_after),
        tuple(f for f in after_findings if _key(f) not in keys_before),
        after,
        tuple(skipped),
        before=snap,
    )


def render_text(plan: Plan) -> str:
    if not plan.steps:
        return "nothing to change: no finding at this severity proposes a host change\n"
    lines = [f"plan: {len(plan.steps)} change(s)"]
    host = None
    for i, s in enumerate(plan.steps, 1):
        if s.change.host != host:
            host = s.change.host
            lines.append(f"  {host}")
        lines.append(f"    {i}. {s.change.describe()}  [{', '.join(s.reasons)}]")
        lines.append(f"       $ {ch.esxcli(s.change)}")
        if s.rollback:
            lines.append(f"       rollback: {'; '.join(ch.esxcli(r) for r in s.rollback)}")
        else:
            lines.append("       rollback: none automatic (recreate by hand)")
    lines.append("")
    lines.append("what the plan does to the paths:")
    from .diff import render

    lines += ["  " + line for line in render(list(plan.path_changes)).splitlines()]
    for change, why in plan.skipped:
        lines.append(f"  skipped: {change.describe()}: {why}")
    lines.append(f"findings resolved: {len(plan.resolved)}; introduced: {len(plan.introduced)}")
    for f in plan.introduced:
        lines.append(f"  NEW {f.rule} {f.host}: {f.message}")
    return terminal("\n".join(lines) + "\n")


def render_script(plan: Plan, kind: str) -> str:
    """The plan as a script in one of the registered formats (:mod:`nbdpath.changes.render`)."""
    steps = [registry.ScriptStep(s.change, s.reasons, s.rollback) for s in plan.steps]
    return registry.script(kind, steps, plan.before if plan.before is not None else plan.after)
