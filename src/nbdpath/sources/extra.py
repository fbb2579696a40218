"""What vCenter does not know: backup nodes, routers, segments, DNS and backup jobs.

They come from a small hand-written YAML file (``--merge FILE``, format in
docs/discover.md) or from ``--node`` / ``--dns`` flags, and are merged into
a discovered snapshot. Pure functions over text; reading files is the
caller's business.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

from ..errors import InputError
from ..model import BackupNode, Interface, Snapshot, parse
from ..model.load import _dotted, _line_of, load_yaml
from ..model.validate import problems

# The keys a merge file may hold; everything else is vCenter's to report.
MERGE_KEYS = ("name", "description", "segments", "routers", "backup_nodes", "dns", "jobs")
# A job's VMs, hosts and clusters are vCenter's: checked once merged with what discovery found.
_DISCOVERED_REFS = ("vms", "clusters", "hosts", "transfer_addresses")


def _discovered_ref(path: tuple) -> bool:
    return len(path) > 2 and path[0] == "jobs" and path[2] in _DISCOVERED_REFS


def parse_merge(text: str, source: str) -> Snapshot:
    """Parse a merge file into a host-less Snapshot; errors name file and line."""
    data = load_yaml(text, source) if not text.lstrip().startswith("{") else None
    if isinstance(data, dict):
        for key in data:
            if isinstance(key, str) and key.startswith("x-"):
                continue
            if key not in MERGE_KEYS and key != "version":
                raise InputError(
                    source, str(key),
                    f"only {', '.join(MERGE_KEYS)} in a merge file; {key!r} comes from vCenter",
                    _line_of(text, (key,)),
                )
    return parse(text, source, deferred=_discovered_ref)


def parse_node_flag(value: str) -> BackupNode:
    """``NAME=ADDRESS/LEN[,ADDRESS/LEN...][@GATEWAY]``, e.g. ``proxy01=10.40.0.50/24@10.40.0.1``;
    a node with a leg on the backup subnet: ``proxy01=10.10.0.50/24,10.30.0.50/24@10.10.0.1``."""
    expected = "NAME=ADDRESS/LEN[,ADDRESS/LEN...][@GATEWAY], e.g. proxy01=10.40.0.50/24@10.40.0.1"
    name, sep, rest = value.partition("=")
    addresses, _, gateway = rest.partition("@")
    parts = [a.strip() for a in addresses.split(",")]
    if not sep or not name.strip() or not all(parts):
        raise InputError("--node", value, expected)
    try:
        ifaces = tuple(Interface(name=f"eth{i}", address=a) for i, a in enumerate(parts))
        return BackupNode(name=name.strip(), interfaces=ifaces, gateway=gateway.strip() or None)
    except ValueError as exc:
        raise InputError("--node", value, f"{expected} ({_first_error(exc)})") from None


def parse_node_flags(values) -> list[BackupNode]:
    """Every ``--node``; the same NAME given again adds interfaces to that node."""
    nodes: dict[str, BackupNode] = {}
    for value in values:
        node = parse_node_flag(value)
        seen = nodes.get(node.name)
        if seen is None:
            nodes[node.name] = node
            continue
        if seen.gateway and node.gateway and seen.gateway != node.gateway:
            raise InputError("--node", value, f"one gateway per node; {node.name} already has {seen.gateway}")
        start = len(seen.interfaces)
        extra = tuple(Interface(name=f"eth{start + i}", address=it.address) for i, it in enumerate(node.interfaces))
        nodes[node.name] = BackupNode(name=node.name, interfaces=seen.interfaces + extra,
                                      gateway=seen.gateway or node.gateway)
    return list(nodes.values())


def parse_dns_flag(value: str) -> tuple[str, str]:
    """``NAME=IP``: how the backup node resolves a host name."""
    name, sep, ip = value.partition("=")
    try:
        ipaddress.ip_address(ip.strip())
    except ValueError:
        sep = ""
    if not sep or not name.strip():
        raise InputError("--dns", value, "NAME=IP, e.g. esx01.lab.local=10.10.0.11")
    return name.strip(), ip.strip()


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first.get("msg", exc)).removeprefix("Value error, ")
    return str(exc)


def merge(
    discovered: Snapshot,
    extra: Snapshot | None = None,
    source: str = "<merge>",
    nodes: Iterable[BackupNode] = (),
    dns: dict[str, str] | None = None,
    before_discovery: bool = False,
) -> Snapshot:
    """Discovered hosts + the hand-written rest, checked as one snapshot.
    ``before_discovery``: the early check of a merge file, before any host is read; its
    jobs' references to VMs, hosts and clusters wait for the real merge."""
    extra = extra or Snapshot()
    update = {
        "segments": extra.segments,
        "routers": extra.routers,
        "backup_nodes": extra.backup_nodes + tuple(nodes),
        "dns": {**extra.dns, **(dns or {})},
        "jobs": discovered.jobs + extra.jobs,
    }
    if "name" in extra.model_fields_set:
        update["name"] = extra.name
    if "description" in extra.model_fields_set:
        update["description"] = extra.description
    merged = discovered.model_copy(update=update)
    # model_copy skips validation: re-validate the whole, then cross references.
    merged = Snapshot.model_validate(merged.model_dump())
    for path, expected in problems(merged):
        if not (before_discovery and _discovered_ref(path)):
            raise InputError(source, _dotted(path), f"{expected} (after merging with the discovered hosts)")
    return merged
