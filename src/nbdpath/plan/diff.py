"""What a change does to every path: compare the traces of two snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby, repeat
from operator import attrgetter, is_
from typing import Any, Iterable, Iterator, Optional

from ..engine.types import Outcome, Path
from ..render.stream import _enc
from ..safetext import terminal

# The compared fields after "endpoint", in the order a change lists them.
_OUTCOME_FIELDS = ("ingress_vmk", "egress_vmk", "egress_uplinks", "bottleneck_mbps", "verdict", "degraded")


def _outcome_fields(o: Outcome) -> tuple[Any, ...]:
    return (
        o.ingress_vmk,
        o.egress_vmk,
        ", ".join(u.name for u in o.egress_uplinks) or None,
        o.bottleneck_mbps,
        o.verdict.value,
        "; ".join(o.degraded) or None,
    )


def _endpoint_text(p: Path) -> str:
    return f"{p.endpoint.ip} ({p.endpoint.vmk})"


@dataclass(frozen=True, slots=True)  # slots: ~100,000 of them at fleet size
class PathChange:
    host: str
    node: str
    status: str  # changed / added / removed
    changes: tuple[tuple[str, Any, Any], ...]  # (field, before, after)
    verdict_before: Optional[str]
    verdict_after: Optional[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host, "node": self.node, "status": self.status,
            "verdict_before": self.verdict_before, "verdict_after": self.verdict_after,
            "changes": [{"field": f, "before": b, "after": a} for f, b, a in self.changes],
        }


class _OutcomeDiff:
    """Field changes between two outcomes, computed once per pair of outcome objects: hosts of
    one shape share outcomes (Engine.trace), so 160,000 paths have ~12,000 of them."""

    def __init__(self) -> None:
        self._fields: dict[int, tuple[Outcome, tuple[Any, ...]]] = {}
        self._pairs: dict[tuple[int, int], tuple[tuple[str, Any, Any], ...]] = {}

    def fields(self, o: Outcome) -> tuple[Any, ...]:
        # The outcome is kept beside its fields so that its id is not reused while cached.
        hit = self._fields.get(id(o))
        if hit is None:
            hit = self._fields[id(o)] = (o, _outcome_fields(o))
        return hit[1]

    def changes(self, b: Outcome, a: Outcome) -> tuple[tuple[str, Any, Any], ...]:
        key = (id(b), id(a))
        hit = self._pairs.get(key)
        if hit is None:
            fb, fa = self.fields(b), self.fields(a)
            hit = self._pairs[key] = tuple((k, x, y) for k, x, y in zip(_OUTCOME_FIELDS, fb, fa) if x != y)
        return hit


def diff(old: list[Path], new: list[Path]) -> list[PathChange]:
    outcomes = _OutcomeDiff()
    by_rows = _by_rows(outcomes, old, new)
    if by_rows is not None:
        return by_rows
    if len(old) == len(new) and all(b.host == a.host and b.node == a.node for b, a in zip(old, new)):
        # The same pairs in the same order (a what-if of one snapshot): no lookups. A pair listed
        # twice keeps its first place and its last path, as the dicts below do.
        if len({(a.host, a.node) for a in new}) == len(new):
            return [c for b, a in zip(old, new) if (c := _changed(outcomes, b, a)) is not None]
    before = {(p.host, p.node): p for p in old}
    after = {(p.host, p.node): p for p in new}
    out = []
    for key, b in before.items():
        a = after.get(key)
        if a is None:
            out.append(PathChange(*key, "removed", (), b.verdict.value, None))
            continue
        c = _changed(outcomes, b, a)
        if c is not None:
            out.append(c)
    for key, a in after.items():
        if key not in before:
            out.append(PathChange(*key, "added", (), None, a.verdict.value))
    return out


def _path_change_maker():
    """``PathChange(*fields)`` without the frozen dataclass's __init__ (six object.__setattr__
    calls): the slots set directly, 1.7 -> 0.7 us a change, 96,000 changes at 10,000 hosts."""
    host, node, status, changes, before, after = (
        PathChange.__dict__[name].__set__
        for name in ("host", "node", "status", "changes", "verdict_before", "verdict_after"))
    new = object.__new__

    def make(h: str, n: str, s: str, ch: tuple, vb: Optional[str], va: Optional[str]) -> PathChange:
        c = new(PathChange)
        host(c, h)
        node(c, n)
        status(c, s)
        changes(c, ch)
        before(c, vb)
        after(c, va)
        return c

    return make


_new_change = _path_change_maker()
_HOST = attrgetter("host")
_NODE = attrgetter("node")
_OUTCOME = attrgetter("outcome")
_ENDPOINT = attrgetter("endpoint")

# Per distinct row: each pair's (node, outcome field changes, verdict before, verdict after),
# all of them and only those whose outcome changed.
_Row = tuple[list[tuple[str, tuple, str, str]], list[tuple[str, tuple, str, str]]]


def _by_rows(outcomes: _OutcomeDiff, old: list[Path], new: list[Path]) -> Optional[list[PathChange]]:
    """:func:`diff` of two traces of the same pairs in the same order (a what-if of one
    snapshot), row by row: hosts of one shape share their rows' outcomes before and after
    (Engine.trace), so a row's changes are worked out once per distinct pair of rows and
    re-addressed to each host (10,000 hosts: 0.78 -> 0.2 s). None unless both are the same
    rows of distinct hosts (then the pair-by-pair comparison decides)."""
    if len(old) != len(new):
        return None
    runs = [(host, len(list(g))) for host, g in groupby(old, _HOST)]
    if runs != [(host, len(list(g))) for host, g in groupby(new, _HOST)] or len(runs) != len({h for h, _ in runs}):
        return None  # other hosts, or a host in two runs
    sizes = [size for _, size in runs]
    rows: dict[tuple, _Row] = {}
    names_ok: dict[tuple, bool] = {}
    out: list[PathChange] = []
    i = 0
    for size in sizes:
        rb, ra = old[i:i + size], new[i:i + size]
        i += size
        if all(map(is_, rb, ra)):  # a host the plan leaves alone keeps its paths
            continue
        names = tuple(map(_NODE, rb))
        ok = names_ok.get(names)
        if ok is None:
            ok = names_ok[names] = len(set(names)) == len(names)
        if not ok or tuple(map(_NODE, ra)) != names:
            return None
        eb, ea = rb[0].endpoint, ra[0].endpoint
        # A row shares one endpoint (Engine.trace); paths made otherwise are compared one by one.
        if not all(map(is_, map(_ENDPOINT, rb), repeat(eb))) or not all(map(is_, map(_ENDPOINT, ra), repeat(ea))):
            out += [c for b, a in zip(rb, ra) if (c := _changed(outcomes, b, a)) is not None]
            continue
        key = (names, tuple(map(id, map(_OUTCOME, rb))), tuple(map(id, map(_OUTCOME, ra))))
        row = rows.get(key)
        if row is None:
            row = rows[key] = _row(outcomes, rb, ra)
        host = rb[0].host
        moved = _endpoint_change(rb[0], ra[0])
        if moved is None:
            out += [_new_change(host, node, "changed", ch, vb, va) for node, ch, vb, va in row[1]]
        else:
            out += [_new_change(host, node, "changed", (moved, *ch), vb, va) for node, ch, vb, va in row[0]]
    return out


def _row(outcomes: _OutcomeDiff, rb: list[Path], ra: list[Path]) -> _Row:
    every = [(b.node, outcomes.changes(b.outcome, a.outcome), b.outcome.verdict.value, a.outcome.verdict.value)
             for b, a in zip(rb, ra)]
    return every, [r for r in every if r[1]]


def _endpoint_change(b: Path, a: Path) -> Optional[tuple[str, str, str]]:
    eb, ea = b.endpoint, a.endpoint
    if eb.ip != ea.ip or eb.vmk != ea.vmk:
        tb, ta = _endpoint_text(b), _endpoint_text(a)
        if tb != ta:
            return ("endpoint", tb, ta)
    return None


def _changed(outcomes: _OutcomeDiff, b: Path, a: Path) -> Optional[PathChange]:
    if b is a:  # a host the plan leaves alone keeps its paths
        return None
    ob, oa = b.outcome, a.outcome
    changed = outcomes.changes(ob, oa)
    moved = _endpoint_change(b, a)
    if moved is not None:
        changed = (moved, *changed)
    return PathChange(b.host, b.node, "changed", changed, ob.verdict.value, oa.verdict.value) if changed else None


def json_items(changes: Iterable[PathChange], nl: str) -> Iterator[str]:
    """Each change as ``_enc(change.to_dict(), nl)``; the field changes of one pair of
    outcomes recur on every host of a shape: their text is made once."""
    inner, entry = nl + "  ", nl + "    "
    fields: dict[tuple, str] = {}

    def entries(changes: tuple) -> str:
        hit = fields.get(changes)
        if hit is None:
            hit = fields[changes] = ("," + entry).join(
                _enc({"field": f, "before": b, "after": a}, entry) for f, b, a in changes)
        return hit

    texts: dict[Any, str] = {}  # node names, statuses and verdicts recur on every pair

    def text(v: Any) -> str:
        hit = texts.get(v)
        if hit is None:
            hit = texts[v] = _enc(v, inner)
        return hit

    first = "{" + inner + '"host": '
    # A change's text after its host, by its field changes' identity and the rest: a row's
    # changes are one tuple on every host of a shape (diff), 96,000 texts of ~600 kinds at
    # 10,000 hosts (each value kept beside its key so that the id is not reused meanwhile).
    tails: dict[tuple, tuple[tuple, str]] = {}
    for c in changes:
        ch = c.changes
        key = (id(ch), c.node, c.status, c.verdict_before, c.verdict_after)
        hit = tails.get(key)
        if hit is not None and hit[0] is ch:
            yield first + _enc(c.host, inner) + hit[1]
            continue
        mid = (f',{inner}"node": {text(c.node)},{inner}"status": {text(c.status)},{inner}"verdict_before": '
               f'{text(c.verdict_before)},{inner}"verdict_after": {text(c.verdict_after)},{inner}"changes": ')
        if not ch:
            listed = "[]"
        else:
            own = False
            try:
                if ch[0][0] == "endpoint":  # the host's own addresses: never shared
                    own = True
                    head = _enc({"field": ch[0][0], "before": ch[0][1], "after": ch[0][2]}, entry)
                    text_ = head + ("," + entry + entries(ch[1:]) if len(ch) > 1 else "")
                else:
                    text_ = entries(ch)
            except TypeError:  # an unhashable value: no cache
                text_ = ("," + entry).join(_enc({"field": f, "before": b, "after": a}, entry) for f, b, a in ch)
                own = True
            listed = "[" + entry + text_ + inner + "]"
            if not own:
                tails[key] = (ch, mid + listed + nl + "}")
        yield first + _enc(c.host, inner) + mid + listed + nl + "}"


def yaml_items(changes: Iterable[PathChange]) -> Iterator[str]:
    """Each change as ``stream._yaml_item(change.to_dict())`` (an item of a top-level list): a
    change's text after its host is made once per distinct (field changes, node, status,
    verdicts), as :func:`json_items` does (a 10,000-host diff's YAML, 96,000 items: 2.68 -> 1.8 s, end to end)."""
    from ..render.stream import _member_at, _members, _seq

    tails: dict[tuple, tuple[tuple, str]] = {}
    heads: dict[tuple, str] = {}  # node, status and verdicts: recur on every host
    entries: dict[tuple, str] = {}  # field changes after an endpoint's: recur per shape

    def listed(fields: tuple) -> str:
        try:
            hit = entries.get(fields)
        except TypeError:  # an unhashable value: no cache
            return _seq([{"field": f, "before": b, "after": a} for f, b, a in fields], 2)
        if hit is None:
            hit = entries[fields] = _seq([{"field": f, "before": b, "after": a} for f, b, a in fields], 2)
        return hit

    for c in changes:
        ch = c.changes
        if ch and ch[0][0] == "endpoint":  # the host's own addresses first: only the rest is shared
            mid = (c.node, c.status, c.verdict_before, c.verdict_after)
            head = heads.get(mid)
            if head is None:
                head = heads[mid] = _members(dict(zip(("node", "status", "verdict_before", "verdict_after"), mid)), 2)
            own = _seq([{"field": ch[0][0], "before": ch[0][1], "after": ch[0][2]}], 2)
            yield ("- " + _member_at("host", c.host, 2)[2:] + head + "  changes:\n" + own
                   + (listed(ch[1:]) if len(ch) > 1 else ""))
            continue
        key = (id(ch), c.node, c.status, c.verdict_before, c.verdict_after)
        hit = tails.get(key)
        if hit is None or hit[0] is not ch:
            d = c.to_dict()
            del d["host"]
            hit = tails[key] = (ch, _members(d, 2))
        yield "- " + _member_at("host", c.host, 2)[2:] + hit[1]


def render(changes: list[PathChange]) -> str:
    return terminal("\n".join(lines(changes)) + "\n")


def lines(changes: list[PathChange]) -> list[str]:
    """:func:`render`'s lines, not yet escaped (a caller that escapes its whole text escapes once)."""
    if not changes:
        return ["no path changes"]
    return change_lines(changes) + [f"{len(changes)} path(s) changed"]


def change_lines(changes: list[PathChange]) -> list[str]:
    """:func:`lines` but their count: a change's lines (its field changes' joined into one)."""
    out = []
    fields: dict[tuple, str] = {}  # one text per distinct field changes (they recur per shape)
    for c in changes:
        head = f"{c.host} -> {c.node}: "
        if c.status != "changed":
            out.append(head + c.status + f" ({c.verdict_after or c.verdict_before})")
            continue
        out.append(head + (f"{c.verdict_before} -> {c.verdict_after}" if c.verdict_before != c.verdict_after else c.verdict_after or ""))
        try:
            text = fields.get(c.changes)
            if text is None:
                text = fields[c.changes] = _field_lines(c.changes)
        except TypeError:  # an unhashable value: no cache
            text = _field_lines(c.changes)
        if text:
            out.append(text)
    return out


def _field_lines(changes: tuple[tuple[str, Any, Any], ...]) -> str:
    # JSON keeps null; text says what an admin reads: nothing there.
    return "\n".join(f"    {f}: {'none' if b is None else b} -> {'none' if a is None else a}"
                     for f, b, a in changes if f != "verdict")
