"""Rules about the control path beside the data: vCenter and the management address."""

from __future__ import annotations

from typing import Iterator

from ..engine.types import Path
from .base import Finding, Fix, Severity, finding, rule

CONTROL_UNREACHABLE = rule(
    "NBD015", "control-path-unreachable", Severity.ERROR,
    "A backup node or host cannot reach vCenter or the host's management address",
    """Isolating NBD moves only the data: the backup application still logs in to vCenter (TCP 443) to create
    snapshots and get NFC tickets, some products call the host's management address, and the host's vpxa talks
    to vCenter over its management vmk (field report 1: "control traffic for backup ... is still using the
    management port"). If one of these cannot get through, the job fails before any data moves, whatever the
    NBD path looks like.""",
)

_WHAT = {
    "node-vcenter": "the backup node cannot reach vCenter",
    "node-management": "the backup node cannot reach the host's management address",
    "host-vcenter": "the host cannot reach vCenter",
}


def path_rules(path: Path) -> Iterator[Finding]:
    for c in path.control:
        if c.reachable is False and c.flow in _WHAT:
            yield finding(
                CONTROL_UNREACHABLE, path.host, f"{_WHAT[c.flow]} ({c.src} -> {c.dst}:{c.port}): {c.reason}",
                Fix(f"Give {c.src} a route to {c.dst} (or open TCP {c.port} between them); the NFC data path "
                    "does not replace it.", ()),
                node=path.node,
            )
