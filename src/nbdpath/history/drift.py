"""Compare two runs of the same estate: configuration changes next to the path changes
they caused, and findings new or resolved. Pure: JSON data in, typed changes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

# Best first; a pair moving right got worse.
VERDICT_ORDER = ("ISOLATED", "NOT_ISOLATED", "ASYMMETRIC", "BROKEN_BY_FIREWALL", "UNREACHABLE")


def verdict_rank(verdict: Optional[str]) -> int:
    return VERDICT_ORDER.index(verdict) if verdict in VERDICT_ORDER else len(VERDICT_ORDER)


@dataclass(frozen=True)
class ConfigChange:
    host: str
    kind: str  # tag-added, tag-removed, route-added, route-removed, gateway-changed, uplink-link,
    #            vmk-added, vmk-removed, vmk-moved, vmk-address, vmk-netstack, host-added, host-removed
    subject: str  # the vmk, netstack or pnic it is about
    before: Any = None
    after: Any = None

    def describe(self) -> str:
        if self.kind in ("tag-added", "tag-removed"):
            verb = "added to" if self.kind == "tag-added" else "removed from"
            return f"tag {self.after or self.before} {verb} {self.subject}"
        if self.kind in ("route-added", "route-removed"):
            r = self.after if self.kind == "route-added" else self.before
            return f"route {r} {'added to' if self.kind == 'route-added' else 'removed from'} {self.subject}"
        if self.kind in ("host-added", "host-removed", "vmk-added", "vmk-removed"):
            what, _, how = self.kind.partition("-")
            return f"{what} {self.subject} {how}"
        label = {"gateway-changed": "gateway", "uplink-link": "link up", "vmk-moved": "port group",
                 "vmk-address": "address", "vmk-netstack": "netstack"}[self.kind]
        return f"{self.subject} {label}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class PathChange:
    host: str
    node: str
    before: Optional[dict[str, Any]]  # {verdict, egress, bottleneck}; None: pair absent
    after: Optional[dict[str, Any]]

    @property
    def worse(self) -> bool:
        if self.before is None or self.after is None:
            return False  # a pair that appears or goes away (host added/removed) is not a regression
        return verdict_rank(self.after["verdict"]) > verdict_rank(self.before["verdict"])


@dataclass(frozen=True)
class FindingChange:
    host: str
    status: str  # new / resolved
    finding: dict[str, Any]

    @property
    def worse(self) -> bool:
        return self.status == "new" and self.finding.get("severity") == "error"


@dataclass
class Drift:
    config: list[ConfigChange] = field(default_factory=list)
    paths: list[PathChange] = field(default_factory=list)
    findings: list[FindingChange] = field(default_factory=list)

    @property
    def worse(self) -> bool:
        return any(p.worse for p in self.paths) or any(f.worse for f in self.findings)

    def hosts(self) -> list[str]:
        seen: dict[str, None] = {}
        changes: list[ConfigChange | PathChange | FindingChange] = [*self.config, *self.paths, *self.findings]
        for c in changes:
            seen.setdefault(c.host, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "worse": self.worse,
            "config": [config_item(c) for c in self.config],
            "paths": [path_item(p) for p in self.paths],
            "findings": [finding_item(f) for f in self.findings],
        }


# Each change as the JSON lists it: ``{**asdict(change), ...}`` without asdict's deep copy
# (1.8 s of a whole-fleet drift at 10,000 hosts); the values are JSON data, only read.
def config_item(c: ConfigChange) -> dict[str, Any]:
    return {"host": c.host, "kind": c.kind, "subject": c.subject, "before": c.before, "after": c.after,
            "text": c.describe()}


def path_item(p: PathChange) -> dict[str, Any]:
    return {"host": p.host, "node": p.node, "before": p.before, "after": p.after, "worse": p.worse}


def finding_item(f: FindingChange) -> dict[str, Any]:
    return {"host": f.host, "status": f.status, "finding": f.finding, "worse": f.worse}


HostState = tuple[Optional[dict[str, Any]], Optional[dict[str, Any]]]  # (snapshot part, results)


def compare(a: dict[str, HostState], b: dict[str, HostState]) -> Drift:
    """Drift between two runs, given the hosts whose part or results differ (others may be left out)."""
    out = Drift()
    for host in list(a) + [h for h in b if h not in a]:
        pa, ra = a.get(host, (None, None))
        pb, rb = b.get(host, (None, None))
        out.config += config_changes(host, pa, pb)
        out.paths += path_changes(host, (ra or {}).get("paths", []), (rb or {}).get("paths", []))
        out.findings += finding_changes(host, (ra or {}).get("findings", []), (rb or {}).get("findings", []))
    return out


def config_changes(host: str, a: Optional[dict], b: Optional[dict]) -> list[ConfigChange]:
    if a is None or b is None:
        if a is b:
            return []
        return [ConfigChange(host, "host-added" if a is None else "host-removed", host)]
    return _vmk_changes(host, a, b) + _stack_changes(host, a, b) + _pnic_changes(host, a, b)


def _by(items: Any, key: str) -> dict[str, dict]:
    return {i[key]: i for i in items or () if isinstance(i, dict) and key in i}


def _vmk_changes(host: str, a: dict, b: dict) -> list[ConfigChange]:
    va, vb = _by(a.get("vmks"), "device"), _by(b.get("vmks"), "device")
    out = [ConfigChange(host, "vmk-removed", d) for d in va if d not in vb]
    out += [ConfigChange(host, "vmk-added", d) for d in vb if d not in va]
    for d in (d for d in va if d in vb):
        x, y = va[d], vb[d]
        for fld, kind in (("portgroup", "vmk-moved"), ("ipv4", "vmk-address"), ("netstack", "vmk-netstack")):
            if x.get(fld) != y.get(fld):
                out.append(ConfigChange(host, kind, d, x.get(fld), y.get(fld)))
        sa, sb = list(x.get("services") or ()), list(y.get("services") or ())
        out += [ConfigChange(host, "tag-removed", d, before=s) for s in sa if s not in sb]
        out += [ConfigChange(host, "tag-added", d, after=s) for s in sb if s not in sa]
    return out


def _route_text(r: dict) -> str:
    return f"{r.get('network')} via {r.get('gateway')}"


def _stack_changes(host: str, a: dict, b: dict) -> list[ConfigChange]:
    out = []
    na, nb = _by(a.get("netstacks"), "key"), _by(b.get("netstacks"), "key")
    for key in list(na) + [k for k in nb if k not in na]:
        x, y = na.get(key, {}), nb.get(key, {})
        if x.get("gateway") != y.get("gateway"):
            out.append(ConfigChange(host, "gateway-changed", key, x.get("gateway"), y.get("gateway")))
        ra = [_route_text(r) for r in x.get("routes") or ()]
        rb = [_route_text(r) for r in y.get("routes") or ()]
        out += [ConfigChange(host, "route-removed", key, before=r) for r in ra if r not in rb]
        out += [ConfigChange(host, "route-added", key, after=r) for r in rb if r not in ra]
    return out


def _pnic_changes(host: str, a: dict, b: dict) -> list[ConfigChange]:
    pa, pb = _by(a.get("pnics"), "name"), _by(b.get("pnics"), "name")
    return [ConfigChange(host, "uplink-link", n, pa[n].get("link_up", True), pb[n].get("link_up", True))
            for n in pa if n in pb and pa[n].get("link_up", True) != pb[n].get("link_up", True)]


def _path_view(p: dict) -> dict[str, Any]:
    return {"verdict": p.get("verdict"), "egress": p.get("egress"), "bottleneck": p.get("bottleneck")}


def _path_key(p: dict) -> tuple:
    return (p.get("verdict"), p.get("egress"), p.get("bottleneck"))


def path_changes(host: str, a: list[dict], b: list[dict]) -> list[PathChange]:
    # Compared as tuples, a view made only of a changed pair (256,000 views were 15% of a
    # whole-fleet drift at 10,000 hosts).
    pa = {p["node"]: p for p in a}
    pb = {p["node"]: p for p in b}
    out = []
    for n in list(pa) + [n for n in pb if n not in pa]:
        x, y = pa.get(n), pb.get(n)
        if (None if x is None else _path_key(x)) != (None if y is None else _path_key(y)):
            out.append(PathChange(host, n, None if x is None else _path_view(x), None if y is None else _path_view(y)))
    return out


def _finding_key(f: dict) -> tuple:
    return (f.get("rule"), f.get("severity"), f.get("vmk"), tuple(f.get("nodes") or ()), f.get("message"))


def finding_changes(host: str, a: list[dict], b: list[dict]) -> list[FindingChange]:
    ka, kb = {_finding_key(f) for f in a}, {_finding_key(f) for f in b}
    return ([FindingChange(host, "resolved", f) for f in a if _finding_key(f) not in kb]
            + [FindingChange(host, "new", f) for f in b if _finding_key(f) not in ka])
