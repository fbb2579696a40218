"""Rules about the physical links that carry the data."""

from __future__ import annotations

from typing import Iterator, Optional

from ..engine.topology import HostView, Network
from ..engine.types import Path
from ..model import BACKUP_NFC, DEFAULT_STACK
from ..changes import RouteAdd, TagAdd
from ..safetext import sh
from .base import Finding, Fix, Severity, finding, rule
from .routing import gateway_on, node_subnet

SLOWER_LINK = rule(
    "NBD006", "slower-than-available", Severity.WARNING, "NBD data runs over a slower link than the host has",
    """The data leaves over uplinks slower than another vmk on the same stack could use, typically 1 GbE
    management beside 10 GbE data links (field report 2). On 7.0+ tag a vmk on the fast links with
    vSphereBackupNFC and make the node reach it on its subnet (or with a static route back).""",
)
UPLINK_DEGRADED = rule(
    "NBD007", "uplink-down-or-standby", Severity.WARNING, "The data vmk runs on standby uplinks or with an active uplink down",
    """An active uplink of the egress vmk's port group is down, or only standby uplinks are left. NBD still flows,
    with less bandwidth or redundancy than designed.""",
)


def _fastest_vmk(hv: HostView, network: Network, node_ifaces) -> Optional[str]:
    """The fastest non-management vmk on the default stack that the node can reach
    on its own subnet or through a router; services-free vmks first."""
    best, best_key = None, (-1, -1)
    for dev, choice in hv.uplinks.items():
        if dev not in hv.ifaces or hv.stack_of.get(dev) != DEFAULT_STACK or dev in hv.management_vmks:
            continue
        iface = hv.ifaces[dev]
        on_subnet = any(i.network == iface.network and i.prefixlen == iface.prefixlen for i in node_ifaces)
        if not on_subnet and gateway_on(network, iface.segment) is None:
            continue
        vmk = next(v for v in hv.host.vmks if v.device == dev)
        free = int(not [s for s in vmk.services if s != BACKUP_NFC])
        speeds = [u.speed_mbps for u in choice.uplinks if u.speed_mbps]
        if speeds and (min(speeds), free) > best_key:
            best, best_key = dev, (min(speeds), free)
    return best


def path_rules(path: Path, hv: HostView, network: Network) -> Iterator[Finding]:
    o = path.outcome
    slow = next((d for d in o.degraded if getattr(d, "kind", None) == "slower-than-available"), None)
    if slow:
        node = network.nodes[path.node]
        fast = _fastest_vmk(hv, network, node.ifaces.values())
        changes: tuple = ()
        summary = (f"Carry NBD on the fast links: put a vmk on the node's subnet on the fast uplinks and tag it "
                   f"with {BACKUP_NFC} (7.0+), or make an existing fast vmk reachable from the node.")
        if fast and o.endpoint_vmk == fast:
            summary = (f"{fast} already is the endpoint on the fast uplinks, but the reply leaves {o.egress_vmk}: "
                       "fix the return route (NBD005, NBD009 or NBD017 for this pair say how).")
        elif fast and hv.host.has_backup_tag:
            changes = (TagAdd(path.host, fast),)
            fast_if = hv.ifaces[fast]
            on_subnet = any(i.network == fast_if.network and i.prefixlen == fast_if.prefixlen for i in node.ifaces.values())
            summary = f"Tag {fast} (on the fast uplinks) with {BACKUP_NFC}"
            if not on_subnet:
                gw = gateway_on(network, fast_if.segment)
                subnet = node_subnet(network, path)
                if gw and subnet:
                    changes += (RouteAdd(path.host, subnet, gw),)
                    summary += f" and route {subnet} back via {gw} so the reply stays on it"
            summary += "."
        elif fast:
            summary = (f"ESXi {hv.host.version} cannot move NBD by tag; put a vmk on the node's subnet on the fast "
                       f"uplinks (field report 2's trick), only where no stateful firewall sits in between.")
        yield finding(SLOWER_LINK, path.host, str(slow), Fix(summary, changes), node=path.node, vmk=o.egress_vmk)


def host_rules(hv: HostView) -> Iterator[Finding]:
    for dev, choice in hv.uplinks.items():
        if not choice.degraded:
            continue
        down = [u for u in hv.pnics.values() if not u.link_up]
        yield finding(
            UPLINK_DEGRADED, hv.host.name, f"{dev}: {'; '.join(choice.degraded)} ({choice.reason})",
            Fix(
                "Restore the link (cabling, physical switch port) or change the port group's failover order.",
                (), tuple(f"check {n.name}'s link (cable, switch port): esxcli network nic get -n {sh(n.name)}" for n in down),
            ),
            vmk=dev,
        )

