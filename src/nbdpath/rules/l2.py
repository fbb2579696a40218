"""Rules about the layer-2 attachment of vmks: VLAN and MTU."""

from __future__ import annotations

from typing import Iterator

from ..engine.topology import HostView
from ..changes import PortgroupVlanSet, VmkMtuSet
from .base import Finding, Fix, Severity, finding, rule

VLAN_MISMATCH = rule(
    "NBD013", "vlan-mismatch", Severity.WARNING, "A vmk's port group VLAN differs from its subnet's segment VLAN",
    """The vmk's address puts it on a segment (by its subnet) whose VLAN differs from the VLAN its port group
    tags. On the wire the vmk then sits in another broadcast domain and cannot reach the gateway or nodes of its
    subnet; nbdpath traced it on the segment of its subnet (assumption A8). Correct the port group VLAN or the
    snapshot's segment.""",
)
MTU_MISMATCH = rule(
    "NBD014", "vmk-mtu-above-switch", Severity.WARNING, "A vmk's MTU is larger than its switch's MTU",
    """A vmk configured for jumbo frames on a switch with a smaller MTU drops or fragments large frames: NBD
    sessions stall or crawl while small probes (ping, vmkping without -s) still work. Raise the switch MTU (and
    the physical network's) or lower the vmk's.""",
)


def host_rules(hv: HostView, segment_vlans: dict[str, int | None]) -> Iterator[Finding]:
    name = hv.host.name
    for v in hv.host.vmks:
        pg = hv.pgs.get(v.portgroup)
        if pg is None:
            continue
        iface = hv.ifaces.get(v.device)
        seg_vlan = segment_vlans.get(iface.segment) if iface and iface.segment else None
        if seg_vlan is not None and pg.vlan not in (seg_vlan, 0) and iface is not None:
            yield finding(
                VLAN_MISMATCH, name,
                f"{v.device} ({iface.cidr}) is on port group {pg.name} VLAN {pg.vlan}, but segment {iface.segment} is VLAN {seg_vlan}",
                Fix(f"Set port group {pg.name} to VLAN {seg_vlan}, or fix the segment in the snapshot.",
                    (PortgroupVlanSet(name, pg.name, seg_vlan, pg.vlan),) if not pg.distributed else (),
                    () if not pg.distributed else
                    (f"in vCenter, set VLAN {seg_vlan} on distributed port group {pg.name} of {pg.switch} "
                     "(one setting for every host on that switch)",)),
                vmk=v.device,
            )
        if v.mtu > pg.mtu:
            yield finding(
                MTU_MISMATCH, name, f"{v.device} has MTU {v.mtu} but {pg.switch} allows {pg.mtu}",
                Fix(f"Raise {pg.switch}'s MTU to {v.mtu} (and the physical path's), or set {v.device} to {pg.mtu}.",
                    (VmkMtuSet(name, v.device, pg.mtu, v.mtu),),
                    (f"or instead raise {pg.switch}'s MTU to {v.mtu}, once every physical hop carries it",)),
                vmk=v.device,
            )
