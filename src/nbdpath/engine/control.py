"""The control path beside the data path.

Field report 1: "control traffic for backup (snapshot creation and so on) is
still using the management port". Isolating NBD moves only the data. Each
pair's control flows are traced as short paths of their own:

- node -> vCenter TCP 443: the backup application's session (snapshots, the
  NFC ticket); vCenter's address comes from ``vcenters[].address``;
- node -> endpoint TCP 902: the NFC ticket and authd exchange, which public
  VDDK logs show going to the same address as the data;
- node -> the host's management address TCP 443: host-level API calls some
  products make; and
- host -> vCenter: vpxa answers and the snapshot work arrive on the
  management network, out of whichever vmk the host's default-stack route
  lookup picks.

Reachability is "nothing described rules it out": vCenter is not a device of
the snapshot, so a packet for it that leaves the described network is
assumed delivered (A11), and one sent onto a subnet it sits on is assumed
answered (A8).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..model import DEFAULT_STACK, Snapshot
from .addr import ip_int, ip_str, is_ipv4
from .routing import lookup
from .topology import HostView, Network

MAX_HOPS = 32


@dataclass(frozen=True, slots=True)
class ControlFlow:
    flow: str  # node-vcenter / nfc-auth / node-management / host-vcenter
    src: str
    dst: Optional[str]  # None: the address is not known
    port: int
    reachable: Optional[bool]  # None: cannot tell (address unknown)
    via: Optional[str]  # the vmk (host side) or interface (node side) it leaves on
    reason: str
    on_management: Optional[bool] = None  # host side: leaves on the management vmk

    def to_dict(self) -> dict[str, Any]:
        return {"flow": self.flow, "src": self.src, "dst": self.dst, "port": self.port, "reachable": self.reachable,
                "via": self.via, "on_management": self.on_management, "reason": self.reason}


def vcenter_address(snap: Snapshot, vcenter: Optional[str]) -> tuple[Optional[int], str]:
    """The IPv4 address the backup nodes reach ``vcenter`` at, and how it is known."""
    vcs = {v.name: v for v in snap.vcenters}
    vc = vcs.get(vcenter or "") or (snap.vcenters[0] if len(snap.vcenters) == 1 else None)
    if vc is None:
        return None, "no vCenter in the snapshot for this host (vcenters[], hosts[].vcenter)"
    for candidate in (vc.address, vc.name.rsplit(":", 1)[0] if vc.name.count(":") == 1 else vc.name):
        if candidate and is_ipv4(candidate):
            return ip_int(candidate), f"vCenter {vc.name} at {candidate}"
        if candidate and candidate in snap.dns:
            return ip_int(snap.dns[candidate]), f"vCenter {vc.name}, which resolves to {snap.dns[candidate]}"
    return None, f"vCenter {vc.name}'s address is unknown: give vcenters[].address or a dns entry"


def reach(net: Network, start: str, dst: int, table=None, segments: Optional[dict[str, str]] = None,
          ) -> tuple[bool, str, Optional[str]]:
    """Whether a packet from ``start`` ("node:X", or a host given by its route
    ``table`` and vmk ``segments``) can reach ``dst``, why, and the interface it
    leaves ``start`` on."""
    device, first_iface = start, None
    for _ in range(MAX_HOPS):
        if table is not None and device == start:
            rows = table
            ifaces = None
        else:
            kind, _, name = device.partition(":")
            dv = net.nodes[name] if kind == "node" else net.routers[name]
            rows, ifaces = dv.table, dv.ifaces
        entry = lookup(rows, dst)
        if entry is None:
            return False, f"{device} has no route to {ip_str(dst)}", first_iface
        first_iface = first_iface or entry.iface
        segment = ifaces[entry.iface].segment if ifaces is not None else (segments or {}).get(entry.iface)
        if entry.gateway is None:
            return True, f"{ip_str(dst)} is on {device}'s connected subnet ({entry.iface}); assumed to answer", first_iface
        owner = net.owners.get((segment, entry.gateway)) if segment is not None else None
        if owner is None or not owner.device.startswith("router:"):
            if segment in net.routed_segments:
                return False, (f"{device} sends {ip_str(dst)} to {ip_str(entry.gateway)}, which no described router "
                               f"owns on {segment}"), first_iface
            return True, (f"{device} sends {ip_str(dst)} via {ip_str(entry.gateway)} into the network the snapshot "
                          "does not describe (A11)"), first_iface
        device = owner.device
    return False, f"routing loop towards {ip_str(dst)}", first_iface


def node_flows(net: Network, snap: Snapshot, node: str, vcenter: Optional[str]) -> ControlFlow:
    ip, how = vcenter_address(snap, vcenter)
    if ip is None:
        return ControlFlow("node-vcenter", node, None, 443, None, None, how)
    ok, why, via = reach(net, f"node:{node}", ip)
    return ControlFlow("node-vcenter", node, ip_str(ip), 443, ok, via, f"{how}: {why}")


def host_flow(net: Network, hv: HostView, snap: Snapshot) -> ControlFlow:
    """vpxa/hostd to vCenter: the host's default-stack lookup decides the vmk."""
    ip, how = vcenter_address(snap, hv.host.vcenter)
    name = hv.host.name
    if ip is None:
        return ControlFlow("host-vcenter", name, None, 443, None, None, how)
    table = hv.tables.get(DEFAULT_STACK, ((), ()))[0]
    ok, why, via = reach(net, hv.device, ip, table, {d: i.segment for d, i in hv.ifaces.items()})
    mgmt = via in hv.management_vmks if via else None
    where = (f"leaves {via}" + (", the management vmk" if mgmt else "")) if via else "has no way out"
    return ControlFlow("host-vcenter", name, ip_str(ip), 443, ok, via, f"{how}: control traffic {where}; {why}", mgmt)


__all__ = ["ControlFlow", "host_flow", "node_flows", "reach", "vcenter_address"]
