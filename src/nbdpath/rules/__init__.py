"""Checks for the known NBD pitfalls; one module per family, stable rule IDs."""

from __future__ import annotations

from typing import Iterable

from ..engine.endpoint import select
from ..engine.trace import Engine, no_gc
from ..engine.types import Path
from . import endpoint, links, product, routing
from .base import RULES, Finding, Fix, Rule, Severity


def check(engine: Engine, paths: Iterable[Path]) -> list[Finding]:
    """Every finding for the snapshot behind ``engine``, hosts in snapshot order.

    Path findings depend on the pair's outcome and the host's shape only, so
    hosts sharing an outcome (see Engine.trace) share findings, re-addressed
    to each host.
    """
    by_host: dict[str, list[Path]] = {}
    for p in paths:
        by_host.setdefault(p.host, []).append(p)
    prefs = {
        n.name: n.network_preference.preferred_networks if n.network_preference else ()
        for n in engine.snapshot.backup_nodes
    }
    with no_gc():
        return _check(engine, by_host, prefs)


def _check(engine: Engine, by_host: dict, prefs: dict) -> list[Finding]:
    out: list[Finding] = []
    net = engine.network
    shared: dict[int, tuple[str, list[Finding]]] = {}
    for host in engine.snapshot.hosts:
        hv = engine.host_view(host.name)
        out.extend(endpoint.host_rules(hv, select(hv, engine.snapshot)))
        out.extend(routing.host_rules(hv))
        out.extend(links.host_rules(hv))
        for p in by_host.get(host.name, ()):
            key = id(p.outcome)
            hit = shared.get(key)
            if hit is not None and hit[0] != host.name:
                out.extend(_readdress(f, host.name) for f in hit[1])
            else:
                found = [*endpoint.path_rules(p), *routing.path_rules(p, hv, net), *links.path_rules(p, hv, net)]
                shared[key] = (host.name, found)
                out.extend(found)
            if prefs.get(p.node):
                out.extend(product.path_rules(p, hv, net, prefs[p.node]))
    return out


def _readdress(f: Finding, host: str) -> Finding:
    # Plain constructors: dataclasses.replace costs ~4 us a call, 2 s at 10k hosts.
    fix = f.fix
    if fix.changes:
        fix = Fix(fix.summary, tuple(c.with_host(host) for c in fix.changes), fix.manual)
    return Finding(f.rule, f.severity, host, f.message, fix, f.node, f.vmk)


def worst(findings: Iterable[Finding]) -> Severity | None:
    ranks = [f.severity for f in findings]
    return max(ranks, key=lambda s: s.rank) if ranks else None


__all__ = ["RULES", "Finding", "Fix", "Rule", "Severity", "check", "worst"]
