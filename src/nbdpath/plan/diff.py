"""What a change does to every path: compare the traces of two snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..engine.types import Path
from ..safetext import terminal


def _key_fields(p: Path) -> dict[str, Any]:
    o = p.outcome
    return {
        "endpoint": f"{p.endpoint.ip} ({p.endpoint.vmk})",
        "ingress_vmk": o.ingress_vmk,
        "egress_vmk": o.egress_vmk,
        "egress_uplinks": ", ".join(u.name for u in o.egress_uplinks) or None,
        "bottleneck_mbps": o.bottleneck_mbps,
        "verdict": o.verdict.value,
        "degraded": "; ".join(o.degraded) or None,
    }


@dataclass(frozen=True)
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


def diff(old: list[Path], new: list[Path]) -> list[PathChange]:
    before = {(p.host, p.node): p for p in old}
    after = {(p.host, p.node): p for p in new}
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        b, a = before.get(key), after.get(key)
        if b is None and a is not None:
            out.append(PathChange(*key, "added", (), None, a.verdict.value))
        elif a is None and b is not None:
            out.append(PathChange(*key, "removed", (), b.verdict.value, None))
        elif a is not None and b is not None:
            fb, fa = _key_fields(b), _key_fields(a)
            changed = tuple((k, fb[k], fa[k]) for k in fb if fb[k] != fa[k])
            if changed:
                out.append(PathChange(*key, "changed", changed, b.verdict.value, a.verdict.value))
    return out


def render(changes: list[PathChange]) -> str:
    if not changes:
        return "no path changes\n"
    lines = []
    for c in changes:
        head = f"{c.host} -> {c.node}: "
        if c.status != "changed":
            lines.append(head + c.status + f" ({c.verdict_after or c.verdict_before})")
            continue
        lines.append(head + (f"{c.verdict_before} -> {c.verdict_after}" if c.verdict_before != c.verdict_after else c.verdict_after or ""))
        for f, b, a in c.changes:
            if f != "verdict":
                # JSON keeps null; text says what an admin reads: nothing there.
                lines.append(f"    {f}: {'none' if b is None else b} -> {'none' if a is None else a}")
    lines.append(f"{len(changes)} path(s) changed")
    return terminal("\n".join(lines) + "\n")
