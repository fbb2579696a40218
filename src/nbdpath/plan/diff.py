"""What a change does to every path: compare the traces of two snapshots."""

from __future__ import annotations

from dataclasses import dataclass
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


def _changed(outcomes: _OutcomeDiff, b: Path, a: Path) -> Optional[PathChange]:
    if b is a:  # a host the plan leaves alone keeps its paths
        return None
    ob, oa = b.outcome, a.outcome
    changed = outcomes.changes(ob, oa)
    eb, ea = b.endpoint, a.endpoint
    if eb.ip != ea.ip or eb.vmk != ea.vmk:
        tb, ta = _endpoint_text(b), _endpoint_text(a)
        if tb != ta:
            changed = (("endpoint", tb, ta), *changed)
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

    for c in changes:
        ch = c.changes
        if not ch:
            listed = "[]"
        else:
            try:
                if ch[0][0] == "endpoint":  # the host's own addresses: never shared
                    head = _enc({"field": ch[0][0], "before": ch[0][1], "after": ch[0][2]}, entry)
                    text_ = head + ("," + entry + entries(ch[1:]) if len(ch) > 1 else "")
                else:
                    text_ = entries(ch)
            except TypeError:  # an unhashable value: no cache
                text_ = ("," + entry).join(_enc({"field": f, "before": b, "after": a}, entry) for f, b, a in ch)
            listed = "[" + entry + text_ + inner + "]"
        yield (f'{{{inner}"host": {_enc(c.host, inner)},{inner}"node": {text(c.node)},{inner}"status": '
               f'{text(c.status)},{inner}"verdict_before": {text(c.verdict_before)},{inner}"verdict_after": '
               f'{text(c.verdict_after)},{inner}"changes": {listed}{nl}}}')


def render(changes: list[PathChange]) -> str:
    return terminal("\n".join(lines(changes)) + "\n")


def lines(changes: list[PathChange]) -> list[str]:
    """:func:`render`'s lines, not yet escaped (a caller that escapes its whole text escapes once)."""
    if not changes:
        return ["no path changes"]
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
    out.append(f"{len(changes)} path(s) changed")
    return out


def _field_lines(changes: tuple[tuple[str, Any, Any], ...]) -> str:
    # JSON keeps null; text says what an admin reads: nothing there.
    return "\n".join(f"    {f}: {'none' if b is None else b} -> {'none' if a is None else a}"
                     for f, b, a in changes if f != "verdict")
