"""A remediation plan: the changes the findings propose, checked in a what-if.

Pure: snapshot in, plan out. The plan says what every path and every finding
would become, and how to roll each change back, before anything is touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Iterable, Iterator, Optional, TextIO

from ..changes import render as registry
from ..changes.kinds import Workspace
from ..engine.trace import Engine
from ..engine.types import Path
from ..errors import UsageError
from ..model import Host, Snapshot
from ..render.stream import ITEM_NL, TOP_NL, _enc, _str, write_joined_list
from ..rules import Finding, Severity, check
from ..safetext import terminal
from . import changes as ch
from .diff import PathChange, diff, json_items
from .diff import change_lines


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

    # Each step's host before and after it, recorded by build (replaying 14,000 steps again cost
    # as much as building the plan).
    hosts: tuple[tuple[Host, Host], ...] = ()
    # Every pair after the plan, as the what-if traced it (empty for a Plan made by hand): each
    # job's window after the plan is estimated from them instead of a trace of its own.
    after_paths: tuple[Path, ...] = field(default=(), repr=False, compare=False)

    def states(self) -> list[tuple[Optional[Snapshot], Optional[Snapshot]]]:
        """Each step's host as it stands before and after the step (the what-if applied step by
        step), as one-host snapshots: what a renderer that restates a vmk (Ansible) reads."""
        return list(self._states())

    def _states(self) -> Iterator[tuple[Optional[Snapshot], Optional[Snapshot]]]:
        return _step_states(self.steps, self.hosts, self.before)

    def step_dicts(self, formats: Optional[Iterable[str]] = None) -> Iterator[dict[str, Any]]:
        """Each step as in the JSON, one by one; ``formats``: only these renderers' commands and
        rollbacks (the Markdown plan shows two of them: all four cost 18 s at 10,000 hosts)."""
        renderers = registry.renderers()
        if formats is not None:
            renderers = {name: renderers[name] for name in formats}
        for s, (state, after) in zip(self.steps, self._states()):
            yield {
                "host": s.change.host,
                "change": s.change.describe(),
                "op": s.change.to_dict(),
                "rollback_ops": [r.to_dict() for r in s.rollback],
                "rules": list(s.reasons),
                **{name: r.command(s.change, state) for name, r in renderers.items()},
                "rollback": {name: [r.command(u, after) for u in s.rollback] for name, r in renderers.items()},
            }

    def _json_steps(self) -> Iterator[str]:
        return _json_steps(self.steps, self._states())

    def tail(self) -> dict[str, Any]:
        """The JSON's members after the path changes: findings resolved and introduced, steps skipped."""
        return {
            "resolved": [{"rule": f.rule, "host": f.host, "nodes": list(f.nodes), "message": f.message} for f in self.resolved],
            "introduced": [{"rule": f.rule, "host": f.host, "nodes": list(f.nodes), "message": f.message} for f in self.introduced],
            "skipped": self._skipped(),
        }

    def _skipped(self) -> list[dict[str, Any]]:
        return [{"change": c.describe(), "op": c.to_dict(), "reason": why} for c, why in self.skipped]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "kind": "plan",
            "steps": list(self.step_dicts()),
            "path_changes": [c.to_dict() for c in self.path_changes],
            **self.tail(),
        }

    def write_json(self, fh: TextIO, extra: Optional[dict[str, Any]] = None) -> None:
        """``json.dumps({**self.to_dict(), **extra}, indent=2) + "\n"`` onto ``fh``, step by
        step and path by path: the whole document of a 10,000-host plan was 1.1 GiB."""
        write_json_steps(self, fh)
        self.write_json_rest(fh, extra)

    def write_json_rest(self, fh: TextIO, extra: Optional[dict[str, Any]] = None) -> None:
        """What :meth:`write_json` writes after :func:`write_json_steps`: the path changes on."""
        fh.write(',\n  "path_changes": ')
        _write_texts(fh, json_items(self.path_changes, _ITEM_NL))
        extra = extra or {}
        if extra.keys() & {"resolved", "introduced"}:  # a caller's own: where the merge places it
            rest: dict[str, Any] = {**self.tail(), **extra}
        else:
            for key, found in (("resolved", self.resolved), ("introduced", self.introduced)):
                fh.write(f',\n  "{key}": ')
                _write_texts(fh, _json_findings(found))
            rest = {"skipped": self._skipped(), **extra}
        for key, value in rest.items():
            fh.write(f",\n  {_enc(key, '')}: {_enc(value, _NL)}")
        fh.write("\n}\n")


@dataclass(frozen=True)
class Proposal:
    """The changes the findings propose, each applied to a copy of the snapshot, before the
    what-if traces and checks the copy again: all a script needs (``render_script``), and
    the plan JSON's steps. :func:`assess` makes the :class:`Plan` of it."""

    steps: tuple[Step, ...]
    skipped: tuple[tuple[ch.Change, str], ...]
    after: Snapshot
    before: Snapshot
    hosts: tuple[tuple[Host, Host], ...]
    # What the what-if starts from: the snapshot's paths and findings.
    before_paths: list[Path] = field(repr=False, compare=False)
    before_findings: list[Finding] = field(repr=False, compare=False)

    def _states(self) -> Iterator[tuple[Optional[Snapshot], Optional[Snapshot]]]:
        return _step_states(self.steps, self.hosts, self.before)

    def _json_steps(self) -> Iterator[str]:
        return _json_steps(self.steps, self._states())


def write_json_steps(plan: Plan | Proposal, fh: TextIO) -> None:
    """The plan JSON up to its steps (:meth:`Plan.write_json`'s first part), of a plan or of
    the proposal it is assessed from: a fleet's steps are written while the what-if runs."""
    fh.write('{\n  "version": 1,\n  "kind": "plan",\n  "steps": ')
    _write_texts(fh, plan._json_steps())


def _json_steps(steps: tuple[Step, ...], states: Iterable[tuple[Optional[Snapshot], Optional[Snapshot]]]
                ) -> Iterator[str]:
    """Each of :meth:`Plan.step_dicts` as ``_enc(step, _ITEM_NL)``, encoded as the commands are
    rendered, with no dict between (the dicts and their encoding were 1.2 s of a
    10,000-host plan's JSON)."""
    inner = _ITEM_NL + "  "
    item = inner + "  "
    renderers = list(registry.renderers().items())
    heads = [f",{inner}{_str(name)}: " for name, _ in renderers]
    rollback_heads = [f"{item}{_str(name)}: " for name, _ in renderers]
    rules: dict[tuple[str, ...], str] = {}  # the few rule lists recur on every step
    for s, (state, after) in zip(steps, states):
        c = s.change
        listed = rules.get(s.reasons)
        if listed is None:
            listed = rules[s.reasons] = _enc(list(s.reasons), inner)
        parts = [f'{{{inner}"host": {_enc(c.host, inner)},{inner}"change": {_enc(c.describe(), inner)},'
                 f'{inner}"op": {_enc(c.to_dict(), inner)},{inner}"rollback_ops": '
                 f'{_enc([r.to_dict() for r in s.rollback], inner)},{inner}"rules": {listed}']
        for head, (_, r) in zip(heads, renderers):
            parts.append(head + _enc(r.command(c, state), inner))
        undo = []
        for head, (_, r) in zip(rollback_heads, renderers):
            undo.append(head + _enc([r.command(u, after) for u in s.rollback], item))
        parts.append(f",{inner}\"rollback\": {{" + ",".join(undo) + inner + "}" + _ITEM_NL + "}")
        yield "".join(parts)


def _step_states(steps: tuple[Step, ...], hosts: tuple[tuple[Host, Host], ...], before: Optional[Snapshot]
                 ) -> Iterator[tuple[Optional[Snapshot], Optional[Snapshot]]]:
    """Each step's host before and after it as one-host snapshots (Plan.states)."""
    if before is None:
        yield from [(None, None)] * len(steps)
        return
    if len(hosts) != len(steps):  # a Plan made by hand: replay it
        ws = Workspace(before)
        for s in steps:
            state = ws.view(s.change.host)
            ws.apply(s.change)
            yield state, ws.view(s.change.host)
        return
    views: dict[int, tuple[Host, Snapshot]] = {}

    def view(host: Host) -> Snapshot:
        # A host unchanged by a step is the next step's state: one view for both.
        hit = views.get(id(host))
        if hit is None or hit[0] is not host:
            views.clear()  # steps come host by host: only the current host's views recur
            hit = views[id(host)] = (host, before.model_copy(update={"hosts": (host,)}))
        return hit[1]

    for host_before, host_after in hosts:
        state = view(host_before)
        yield state, view(host_after)


_NL = TOP_NL  # a top-level key's value
_ITEM_NL = ITEM_NL  # an item of a top-level list


def _json_findings(findings: Iterable[Finding]) -> Iterator[str]:
    """Each finding as ``_enc({"rule", "host", "nodes", "message"}, _ITEM_NL)`` (as :meth:`Plan.tail`
    lists them), with no dict between: 18,000 of them at 10,000 hosts, their rules and node
    lists recurring."""
    inner = _ITEM_NL + "  "
    texts: dict[Any, str] = {}

    def text(v: Any) -> str:
        try:
            hit = texts.get(v)
        except TypeError:  # unhashable: no cache
            return _enc(list(v) if isinstance(v, tuple) else v, inner)
        if hit is None:
            hit = texts[v] = _enc(list(v) if isinstance(v, tuple) else v, inner)
        return hit

    for f in findings:
        yield (f'{{{inner}"rule": {text(f.rule)},{inner}"host": {_enc(f.host, inner)},{inner}"nodes": '
               f'{text(f.nodes)},{inner}"message": {_enc(f.message, inner)}{_ITEM_NL}}}')


def _write_texts(fh: TextIO, texts: Iterable[str]) -> None:
    """A top-level list of items already encoded."""
    sep = "["
    for text in texts:
        fh.write(sep + _ITEM_NL + text)
        sep = ","
    fh.write("[]" if sep == "[" else _NL + "]")


def _key(f: Finding) -> tuple:
    return (f.rule, f.host, f.nodes, f.vmk)


def build(snap: Snapshot, min_severity: Severity = Severity.WARNING, rules: Iterable[str] = (),
          hosts: Iterable[str] = (), nodes: Iterable[str] = ()) -> Plan:
    """Collect the proposed changes (deduplicated, in host order), apply them to a
    copy and compare paths and findings before and after."""
    return assess(propose(snap, min_severity, rules, hosts, nodes))


def propose(snap: Snapshot, min_severity: Severity = Severity.WARNING, rules: Iterable[str] = (),
            hosts: Iterable[str] = (), nodes: Iterable[str] = (), within: Optional[Iterable[str]] = None
            ) -> Proposal:
    """:func:`build` up to the what-if: the proposed changes (deduplicated, in host order),
    each with its rollback, applied to a copy.

    ``within``: only these hosts traced and checked (None: all). A finding concerns one host
    (rules.check), so the plan of a part of the hosts is that part of the whole plan: a plan
    for one cluster need not trace the estate, and a fleet's plan is made in two halves at
    once (commands/whatif.py). The proposal's ``after`` then changes only these hosts."""
    wanted_rules, wanted_hosts, wanted_nodes = set(rules), set(hosts), set(nodes)
    engine = Engine(snap)
    scope = None if within is None else set(within)
    before_paths = engine.trace(hosts=scope)
    before = check(engine, before_paths, hosts=scope)
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
    states = []
    ws = Workspace(snap)
    for change, reasons in proposed.items():
        try:
            rollback = tuple(ws.inverse(change))
        except UsageError:  # VmkRemove: no automatic rollback; the plan says so
            rollback = ()
        try:
            host = ws.host(change.host)
            ws.apply(change)
        except UsageError as exc:  # e.g. the route exists already: a plan never fails halfway
            skipped.append((change, str(exc)))
            continue
        steps.append(Step(change, tuple(reasons), rollback))
        states.append((host, ws.host(change.host)))
    return Proposal(tuple(steps), tuple(skipped), ws.snapshot(), snap, tuple(states), before_paths, before)


def assess(proposal: Proposal) -> Plan:
    """The what-if of a proposal: its changed hosts traced and checked again, and what that
    does to every path and finding."""
    steps, after, before = proposal.steps, proposal.after, proposal.before_findings
    after_engine = Engine(after)
    touched = {s.change.host for s in steps}
    after_paths = _retrace(proposal.before_paths, after_engine, touched)
    after_findings = _recheck(before, after, after_engine, after_paths, touched)
    keys_after = {_key(f) for f in after_findings}
    keys_before = {_key(f) for f in before}
    return Plan(
        steps,
        tuple(diff(proposal.before_paths, after_paths)),
        tuple(f for f in before if _key(f) not in keys_after),
        tuple(f for f in after_findings if _key(f) not in keys_before),
        after,
        proposal.skipped,
        before=proposal.before,
        hosts=proposal.hosts,
        after_paths=tuple(after_paths),
    )


def _retrace(before: list[Path], engine: Engine, touched: set[str]) -> list[Path]:
    """The paths after the plan: a host's traces depend on its own configuration and the
    network's, which no host change touches, so a host no step changes keeps its paths
    (its shared outcomes) and only the changed hosts are traced again."""
    if not touched:
        return before
    again: dict[str, list[Path]] = {}
    for p in engine.trace(hosts=touched):
        again.setdefault(p.host, []).append(p)
    out: list[Path] = []
    for p in before:
        paths = again.get(p.host)
        if paths is None:
            out.append(p)
        elif paths:  # the changed host's new paths, where its old ones started
            out.extend(paths)
            paths.clear()
    return out


def _recheck(before: list[Finding], after: Snapshot, engine: Engine, paths: list[Path],
             touched: set[str]) -> list[Finding]:
    """The findings after the plan, as ``check`` of the whole snapshot lists them: a finding
    concerns one host (its configuration, its paths, the network's), so a host no step
    changes keeps its findings and only the changed hosts are checked again (a plan for one
    cluster of a 10,000-host estate re-checked all of it)."""
    if len(touched) == len(after.hosts):
        return check(engine, paths)
    fresh: dict[str, list[Finding]] = {}
    for f in check(engine, [p for p in paths if p.host in touched], hosts=touched):
        fresh.setdefault(f.host, []).append(f)
    kept: dict[str, list[Finding]] = {}
    for f in before:
        if f.host not in touched:
            kept.setdefault(f.host, []).append(f)
    out: list[Finding] = []
    for h in after.hosts:
        out += fresh.get(h.name, ()) if h.name in touched else kept.get(h.name, ())
    return out


def render_text(plan: Plan) -> str:
    if not plan.steps:
        return NOTHING_TO_CHANGE
    counts = text_counts(plan)
    return (text_head(counts) + terminal(_steps_text(plan.steps, 1)) + _PATHS_HEAD
            + terminal(_paths_text(plan.path_changes)) + paths_tail(counts)
            + terminal(_skipped_text(plan.skipped)) + findings_line(counts) + terminal(_new_text(plan.introduced)))


NOTHING_TO_CHANGE = "nothing to change: no finding at this severity proposes a host change\n"
_PATHS_HEAD = "\nwhat the plan does to the paths:\n"
# The plan's text in sections, in the order it shows them: what a plan made of two halves of
# the hosts (commands/whatif.py) joins, each section of the first half then the second's.
TEXT_SECTIONS = ("steps", "paths", "skipped", "introduced")


def text_counts(plan: Plan) -> dict[str, int]:
    """What the text's head and middle lines count: add two halves' for the whole."""
    return {"steps": len(plan.steps), "paths": len(plan.path_changes), "resolved": len(plan.resolved),
            "introduced": len(plan.introduced)}


def write_text_sections(plan: Plan, out: Any, first: int = 1) -> None:
    """The plan's text sections (:data:`TEXT_SECTIONS`) through ``out`` (``write``, ``end(name)``:
    io.SectionWriter), escaped, its steps numbered from ``first``."""
    for name, text in (("steps", _steps_text(plan.steps, first)), ("paths", _paths_text(plan.path_changes)),
                       ("skipped", _skipped_text(plan.skipped)), ("introduced", _new_text(plan.introduced))):
        out.write(terminal(text))
        out.end(name)


def write_text_joined(fh: TextIO, counts: dict[str, int], halves: Iterable[Any]) -> None:
    """:func:`render_text` of a plan made in parts: ``counts`` summed over them, each part's
    sections copied in turn (``half.copy(name, fh)``: io.Sections)."""
    halves = list(halves)
    if not counts["steps"]:
        fh.write(NOTHING_TO_CHANGE)
        return
    fh.write(text_head(counts))
    for name in TEXT_SECTIONS:
        if name == "paths":
            fh.write(_PATHS_HEAD)
        for half in halves:
            half.copy(name, fh)
        if name == "paths":
            fh.write(paths_tail(counts))
        elif name == "skipped":
            fh.write(findings_line(counts))


def text_head(counts: dict[str, int]) -> str:
    return f"plan: {counts['steps']} change(s)\n"


def paths_tail(counts: dict[str, int]) -> str:
    return f"  {counts['paths']} path(s) changed\n" if counts["paths"] else "  no path changes\n"


def findings_line(counts: dict[str, int]) -> str:
    return f"findings resolved: {counts['resolved']}; introduced: {counts['introduced']}\n"


def _steps_text(steps: Iterable[Step], first: int) -> str:
    lines = []
    host = None
    for i, s in enumerate(steps, first):
        if s.change.host != host:
            host = s.change.host
            lines.append(f"  {host}")
        lines.append(f"    {i}. {s.change.describe()}  [{', '.join(s.reasons)}]")
        lines.append(f"       $ {ch.esxcli(s.change)}")
        if s.rollback:
            lines.append(f"       rollback: {'; '.join(ch.esxcli(r) for r in s.rollback)}")
        else:
            lines.append("       rollback: none automatic (recreate by hand)")
    return "".join(line + "\n" for line in lines)


def _paths_text(changes: Iterable[PathChange]) -> str:
    # terminal() escapes every line break but "\n", so indenting after each "\n" here is
    # indenting the escaped text's lines (one replace, not a split and 100,000 joins).
    text = "\n".join(change_lines(list(changes)))
    return "  " + text.replace("\n", "\n  ") + "\n" if text else ""


def _skipped_text(skipped: Iterable[tuple[ch.Change, str]]) -> str:
    return "".join(f"  skipped: {change.describe()}: {why}\n" for change, why in skipped)


def _new_text(introduced: Iterable[Finding]) -> str:
    return "".join(f"  NEW {f.rule} {f.host}: {f.message}\n" for f in introduced)


# The plan JSON's lists, in order (Plan.write_json): what a plan made in parts joins.
JSON_SECTIONS = ("steps", "path_changes", "resolved", "introduced", "skipped")


def write_json_sections(plan: Plan, out: Any) -> None:
    """Each list of :data:`JSON_SECTIONS` through ``out`` (``write``, ``end``: io.SectionWriter),
    every item as ``"," + newline + its text``, as :func:`write_json_joined` joins them."""
    for name, items in (("steps", plan._json_steps()), ("path_changes", json_items(plan.path_changes, _ITEM_NL)),
                        ("resolved", _json_findings(plan.resolved)),
                        ("introduced", _json_findings(plan.introduced)),
                        ("skipped", (_enc(s, _ITEM_NL) for s in plan._skipped()))):
        sep = "," + _ITEM_NL
        for text in items:
            out.write(sep + text)
        out.end(name)


def write_json_joined(fh: TextIO, halves: Iterable[Any]) -> None:
    """:meth:`Plan.write_json` of a plan made in parts (no ``extra``), each list the parts'
    items in turn (``half.copy(name, fh, skip)``: io.Sections; the first item's comma skipped)."""
    halves = list(halves)
    fh.write('{\n  "version": 1,\n  "kind": "plan"')
    for name in JSON_SECTIONS:
        write_joined_list(fh, name, halves)
    fh.write("\n}\n")


def render_script(plan: Plan | Proposal, kind: str) -> str:
    """The plan as a script in one of the registered formats (:mod:`nbdpath.changes.render`);
    a script needs no what-if, so a :class:`Proposal` renders as its plan would."""
    # Each step's state only for a renderer that reads it: 14,000 one-host copies otherwise unused.
    states = plan._states() if getattr(registry.get(kind), "READS_STATE", False) else repeat((None, None))
    steps = [registry.ScriptStep(s.change, s.reasons, s.rollback, state) for s, (state, _) in zip(plan.steps, states)]
    return registry.script(kind, steps, plan.before if plan.before is not None else plan.after)
