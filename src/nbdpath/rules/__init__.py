"""Checks for the known NBD pitfalls; one module per family, stable rule IDs."""

from __future__ import annotations

from typing import Iterable

from ..engine.endpoint import select
from ..engine.trace import Engine
from ..engine.types import Path
from . import endpoint, links, product, routing
from .base import RULES, Finding, Fix, Rule, Severity


def check(engine: Engine, paths: Iterable[Path]) -> list[Finding]:
    """Every finding for the snapshot behind ``engine``, hosts in snapshot order."""
    by_host: dict[str, list[Path]] = {}
    for p in paths:
        by_host.setdefault(p.host, []).append(p)
    prefs = {
        n.name: n.network_preference.preferred_networks if n.network_preference else ()
        for n in engine.snapshot.backup_nodes
    }
    out: list[Finding] = []
    net = engine.network
    for host in engine.snapshot.hosts:
        hv = engine.host_view(host.name)
        out.extend(endpoint.host_rules(hv, select(hv, engine.snapshot)))
        out.extend(routing.host_rules(hv))
        out.extend(links.host_rules(hv))
        for p in by_host.get(host.name, ()):
            out.extend(endpoint.path_rules(p))
            out.extend(routing.path_rules(p, hv, net))
            out.extend(links.path_rules(p, hv, net))
            out.extend(product.path_rules(p, hv, net, prefs.get(p.node, ())))
    return out


def worst(findings: Iterable[Finding]) -> Severity | None:
    ranks = [f.severity for f in findings]
    return max(ranks, key=lambda s: s.rank) if ranks else None


__all__ = ["RULES", "Finding", "Fix", "Rule", "Severity", "check", "worst"]
