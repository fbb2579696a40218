"""Checks for the known NBD pitfalls; one module per family, stable rule IDs."""

from __future__ import annotations

from itertools import groupby
from operator import attrgetter
from typing import AbstractSet, Iterable, Optional

from ..engine.trace import Engine
from ..io import gc_paused
from ..engine.types import Path
from . import control, endpoint, l2, links, product, routing
from .base import RULES, Finding, Fix, Rule, Severity


def check(engine: Engine, paths: Iterable[Path], hosts: Optional[AbstractSet[str]] = None) -> list[Finding]:
    """Every finding for the snapshot behind ``engine``, hosts in snapshot order;
    ``hosts``: only these hosts' (a finding concerns one host: its configuration,
    its paths and the network's, never another host's).

    Path findings depend on the pair's outcome and the host's shape only, so
    hosts sharing an outcome (see Engine.trace) share findings, re-addressed
    to each host.
    """
    # Engine.trace yields a host's pairs together: grouping runs in C (160,000 pairs at 10k hosts).
    by_host: dict[str, list[Path]] = {}
    for host, pairs in groupby(paths, key=_HOST):
        listed = by_host.get(host)
        if listed is None:
            by_host[host] = list(pairs)
        else:
            listed.extend(pairs)
    prefs = {
        n.name: n.network_preference.preferred_networks
        for n in engine.snapshot.backup_nodes if n.network_preference and n.network_preference.preferred_networks
    }
    with gc_paused():
        return _check(engine, by_host, prefs, hosts)


_HOST = attrgetter("host")
_OUTCOME = attrgetter("outcome")


def _check(engine: Engine, by_host: dict, prefs: dict, only: Optional[AbstractSet[str]]) -> list[Finding]:
    out: list[Finding] = []
    net = engine.network
    # Hosts whose paths share outcomes (one network shape) share findings too.
    templates: dict[tuple, tuple[str, list[Finding]]] = {}
    segment_vlans = {s.name: s.vlan for s in engine.snapshot.segments}
    for host in engine.snapshot.hosts:
        if only is not None and host.name not in only:
            continue
        hv = engine.host_view(host.name)
        out.extend(endpoint.host_rules(hv, engine.endpoint(host.name)))
        out.extend(routing.host_rules(hv))
        out.extend(links.host_rules(hv))
        out.extend(l2.host_rules(hv, segment_vlans))
        paths = by_host.get(host.name, ())
        key = tuple(map(id, map(_OUTCOME, paths)))
        hit = templates.get(key)
        if hit is not None and hit[0] != host.name:
            out.extend(_readdress(f, host.name) for f in hit[1])
        else:
            found = []
            for p in paths:
                found += _qualified(p, [*endpoint.path_rules(p), *routing.path_rules(p, hv, net),
                                        *links.path_rules(p, hv, net)])
                found += control.path_rules(p)
            grouped = group(found)
            templates[key] = (host.name, grouped)
            out.extend(grouped)
        if prefs:
            out.extend(group([f for p in paths if p.node in prefs
                              for f in product.path_rules(p, hv, net, prefs[p.node])]))
    return out


def _qualified(path: Path, findings: list[Finding]) -> list[Finding]:
    """A path finding whose verdict hangs on an unverified assumption says so, and what holds otherwise."""
    alts = [a for a in path.outcome.alternatives if a.verdict is not None]
    if not alts or not findings:
        return findings
    note = "; ".join(f"{a.assumption}: if {a.if_not}, the verdict is {a.verdict.value}" for a in alts)
    return [Finding(f.rule, f.severity, f.host, f"{f.message} (this rests on {note})", f.fix, f.nodes, f.vmk)
            for f in findings]


def group(findings: list[Finding]) -> list[Finding]:
    """One finding per host, rule, message and fix, naming every node it concerns."""
    merged: dict[tuple, Finding] = {}
    for f in findings:
        key = (f.rule, f.host, f.message, f.fix, f.vmk)
        seen = merged.get(key)
        merged[key] = f if seen is None else Finding(f.rule, f.severity, f.host, f.message, f.fix, seen.nodes + f.nodes, f.vmk)
    return list(merged.values())


def _readdress(f: Finding, host: str) -> Finding:
    # Plain constructors: dataclasses.replace costs ~4 us a call, 2 s at 10k hosts.
    fix = f.fix
    if fix.changes:
        fix = Fix(fix.summary, tuple(c.with_host(host) for c in fix.changes), fix.manual)
    return Finding(f.rule, f.severity, host, f.message, fix, f.nodes, f.vmk)


def worst(findings: Iterable[Finding]) -> Severity | None:
    ranks = [f.severity for f in findings]
    return max(ranks, key=lambda s: s.rank) if ranks else None


__all__ = ["RULES", "Finding", "Fix", "Rule", "Severity", "check", "worst"]
