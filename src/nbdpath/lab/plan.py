"""Turn a snapshot into a declarative Linux lab: namespaces, links, routes.

Pure: a Snapshot plus the pairs to stream in, out comes a :class:`LabPlan`
that :mod:`nbdpath.lab.kernel` applies. Nothing here touches the system,
so every emulation decision is unit-testable without root.

What is emulated and how (see docs/lab.md for the Linux-vs-ESXi notes):

- one namespace per ESXi host, holding only its **default TCP/IP stack**:
  one interface per enabled vmk with IPv4 on that stack, named after it,
  added in vmk-number order (so the first vmk of a shared subnet owns the
  first connected route, as on ESXi), the stack's static routes and default
  gateway; a per-vmk gateway is left out, as it is not in ESXi's routing
  table (engine assumption A5);
- one namespace per backup node and per router, forwarding on in routers,
  and ``INVALID`` conntrack dropped in ``stateful`` routers;
- one bridge per L2 segment, all in one "switch" namespace, so nothing is
  added to the root namespace's networking.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Iterable, Literal, Optional, Sequence

from ..model import DEFAULT_STACK, Host, Snapshot, Teaming, Vmk
from ..engine.teaming import effective

NFC_PORT = 902
PREFIX_RE = re.compile(r"^nbl[0-9a-f]{5}$")
# Every namespace of a run is "<prefix>-<role letter><index>".
NETNS_RE = re.compile(r"^(nbl[0-9a-f]{5})-[shnr]\d+$")
IFNAME_MAX = 15  # IFNAMSIZ - 1
_IFNAME_OK = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")

Role = Literal["switch", "host", "node", "router"]
_ROLE_LETTER = {"switch": "s", "host": "h", "node": "n", "router": "r"}

# Sysctls every namespace gets before its interfaces exist ("default" then
# applies to them). IPv6 off: no router solicitations or DAD on the counters.
# Redirects off: a Linux router would otherwise teach hosts shortcuts that
# change the reply path mid-flow.
_COMMON_SYSCTLS: tuple[tuple[str, str], ...] = (
    ("net.ipv6.conf.all.disable_ipv6", "1"),
    ("net.ipv6.conf.default.disable_ipv6", "1"),
    ("net.ipv4.conf.all.rp_filter", "0"),
    ("net.ipv4.conf.default.rp_filter", "0"),
    ("net.ipv4.conf.all.accept_redirects", "0"),
    ("net.ipv4.conf.default.accept_redirects", "0"),
    ("net.ipv4.conf.all.send_redirects", "0"),
    ("net.ipv4.conf.default.send_redirects", "0"),
    # ESXi answers ARP for a vmk's own IP on that vmk only, and sources ARP
    # from the egress vmk's address; Linux's defaults (answer for any local
    # IP on any interface) would let one veth answer for another vmk. Nodes
    # and routers get the same, as the engine expects of them (an address
    # is reachable on the segment its interface sits on, nowhere else).
    ("net.ipv4.conf.all.arp_ignore", "1"),
    ("net.ipv4.conf.default.arp_ignore", "1"),
    ("net.ipv4.conf.all.arp_announce", "2"),
    ("net.ipv4.conf.default.arp_announce", "2"),
)
_HOST_SYSCTLS = (("net.ipv4.ip_forward", "0"),)
_NODE_SYSCTLS = (("net.ipv4.ip_forward", "0"),)
_ROUTER_SYSCTLS = (("net.ipv4.ip_forward", "1"),)
# Without "loose" pickup conntrack will not adopt a flow it did not see
# start, so a half-seen handshake is INVALID, as on a real firewall.
_STATEFUL_SYSCTLS = (("net.netfilter.nf_conntrack_tcp_loose", "0"),)


@dataclass(frozen=True, slots=True)
class Netns:
    name: str
    role: Role
    device: str  # the snapshot's name for what this namespace stands for
    sysctls: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Bridge:
    name: str  # in the switch namespace
    segment: str


@dataclass(frozen=True, slots=True)
class Link:
    """A veth pair: ``ifname`` in ``netns``, ``peer`` in the switch namespace.

    ``bridge`` is None for an interface on no known segment: it stays
    unplugged, as the engine treats it (no L2 neighbour at all).
    """

    netns: str
    ifname: str
    peer: str
    bridge: Optional[str]
    address: str  # a.b.c.d/len
    label: str  # snapshot's interface name (vmk2, eth0, ...)
    mac: Optional[str] = None


@dataclass(frozen=True, slots=True)
class RouteSpec:
    netns: str
    destination: str  # CIDR; 0.0.0.0/0 for default
    gateway: Optional[str]  # None: a connected route (needs ``dev``)
    dev: Optional[str] = None
    source: Optional[str] = None
    table: Optional[int] = None  # None: main
    kind: str = "unicast"  # or "unreachable"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    netns: str
    source: str
    table: int
    priority: int


@dataclass(frozen=True, slots=True)
class FilterRule:
    netns: str
    args: tuple[str, ...]  # iptables arguments


@dataclass(frozen=True, slots=True)
class Stream:
    """One host -> node pair: the node connects, the host streams back."""

    host: str
    node: str
    host_netns: str
    node_netns: str
    endpoint_ip: Optional[str]
    host_interfaces: tuple[str, ...]  # interface names in host_netns
    skip_reason: Optional[str] = None  # set when the pair cannot be emulated


@dataclass(frozen=True, slots=True)
class LabPlan:
    prefix: str
    namespaces: tuple[Netns, ...]
    bridges: tuple[Bridge, ...]
    links: tuple[Link, ...]
    routes: tuple[RouteSpec, ...]
    rules: tuple[RuleSpec, ...]
    filters: tuple[FilterRule, ...]
    streams: tuple[Stream, ...]
    notes: tuple[str, ...] = field(default=())  # what was left out, and why

    @property
    def switch_netns(self) -> str:
        return f"{self.prefix}-s0"

    def netns_of(self, role: Role, device: str) -> str:
        for ns in self.namespaces:
            if ns.role == role and ns.device == device:
                return ns.name
        raise KeyError(f"{role} {device!r} is not in this lab")


def check_prefix(prefix: str) -> str:
    if not PREFIX_RE.match(prefix):
        raise ValueError(f"lab prefix must look like nbl1a2b3, not {prefix!r}")
    return prefix


def ifname_for(label: str, index: int, fallback: str = "eth") -> str:
    """The snapshot's interface name when Linux accepts it, else ``eth<index>``."""
    if len(label) <= IFNAME_MAX and _IFNAME_OK.match(label) and label not in ("lo", "all", "default"):
        return label
    return f"{fallback}{index}"


def _segment_index(snap: Snapshot) -> list[tuple[ipaddress.IPv4Network, str]]:
    nets = []
    for seg in snap.segments:
        for subnet in seg.subnets:
            net = ipaddress.ip_network(subnet)
            if net.version == 4:
                nets.append((net, seg.name))
    # Longest prefix first: a /28 carved out of a /24 wins (engine does so too).
    nets.sort(key=lambda item: -item[0].prefixlen)
    return nets


def segment_for(address: str, explicit: Optional[str], index: Sequence[tuple[ipaddress.IPv4Network, str]]) -> str:
    """Explicit segment, else the segment whose (longest) subnet holds the address,
    else the address's own subnet as an implicit segment (the engine's A8)."""
    if explicit:
        return explicit
    iface = ipaddress.ip_interface(address)
    for net, name in index:
        if iface.ip in net:
            return name
    return f"subnet {iface.network}"


def _valid_mac(mac: Optional[str]) -> Optional[str]:
    if not mac or not re.fullmatch(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}", mac):
        return None
    mac = mac.replace("-", ":").lower()
    if int(mac[:2], 16) & 1 or mac == "00:00:00:00:00:00":
        return None  # multicast / zero: the kernel refuses it
    return mac


class _RouteTable:
    """Routes of one namespace's table, added the way ``ip route add`` would.

    The kernel refuses a gateway on no connected subnet and a second route
    to a prefix it already has; record those as notes instead of failing.
    """

    def __init__(self, netns: str, where: str, connected: Sequence[tuple[str, ipaddress.IPv4Interface]], table: Optional[int] = None):
        self.netns = netns
        self.where = where
        self.connected = connected  # (ifname, address), in the order they were added
        self.table = table
        self.prefixes = {str(addr.network) for _, addr in connected}
        self.routes: list[RouteSpec] = []
        self.notes: list[str] = []

    def add(self, destination: str, gateway: str, what: str) -> bool:
        if ":" in destination:  # as in the engine: IPv6 is kept in snapshots, not traced or emulated
            self.notes.append(f"{self.where}: {what} {destination} via {gateway} left out: IPv6 is not emulated")
            return False
        dest = str(ipaddress.ip_network(destination))
        gw = ipaddress.ip_address(gateway)
        # Linux resolves a gateway by its longest connected prefix.
        holders = [(a.network.prefixlen, i) for i, (_, a) in enumerate(self.connected) if gw in a.network]
        if not holders:
            self.notes.append(f"{self.where}: {what} {dest} via {gateway} left out: gateway is on no connected subnet")
            return False
        if any(gw == a.ip for _, a in self.connected):
            self.notes.append(f"{self.where}: {what} {dest} via {gateway} left out: the gateway is this device's own address")
            return False
        if dest in self.prefixes:
            self.notes.append(f"{self.where}: {what} {dest} via {gateway} left out: {dest} is already routed")
            return False
        self.prefixes.add(dest)
        self.routes.append(RouteSpec(self.netns, dest, gateway, table=self.table))
        return True


@dataclass
class _Builder:
    snap: Snapshot
    prefix: str
    namespaces: list[Netns] = field(default_factory=list)
    bridges: dict[str, Bridge] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    routes: list[RouteSpec] = field(default_factory=list)
    rules: list[RuleSpec] = field(default_factory=list)
    filters: list[FilterRule] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    segments: list[tuple[ipaddress.IPv4Network, str]] = field(default_factory=list)
    macs: set[str] = field(default_factory=set)

    def netns(self, role: Role, device: str, sysctls: Iterable[tuple[str, str]]) -> str:
        n = self.counters.get(role, 0)
        self.counters[role] = n + 1
        name = f"{self.prefix}-{_ROLE_LETTER[role]}{n}"
        self.namespaces.append(Netns(name, role, device, _COMMON_SYSCTLS + tuple(sysctls)))
        return name

    def bridge(self, segment: Optional[str]) -> Optional[str]:
        if segment is None:
            return None
        if segment not in self.bridges:
            self.bridges[segment] = Bridge(f"br{len(self.bridges)}", segment)
        return self.bridges[segment].name

    def link(self, netns: str, ifname: str, address: str, label: str, segment: Optional[str], mac: Optional[str],
             noted: bool = False) -> Link:
        # The peer's name only has to be unique inside the switch namespace.
        peer = f"{netns.rsplit('-', 1)[1]}.{ifname}"[:IFNAME_MAX]
        mac = _valid_mac(mac)
        if mac in self.macs:
            self.notes.append(f"{netns} {label}: MAC {mac} is used twice; the kernel picks a random one")
            mac = None
        if mac:
            self.macs.add(mac)
        link = Link(netns, ifname, peer, self.bridge(segment), address, label, mac)
        self.links.append(link)
        if segment is None and not noted:
            self.notes.append(f"{netns} {label} ({address}): on no known segment, left unplugged")
        return link


def build(snap: Snapshot, pairs: Sequence[tuple[str, str, Optional[str]]], prefix: str,
          unemulated: Optional[dict[tuple[str, str], str]] = None) -> LabPlan:
    """Plan a lab for ``snap`` that streams over ``pairs`` (host, node, endpoint IP).

    The endpoint IP is the engine's answer to "which address does vCenter
    hand out": vSphere logic no kernel can emulate, so it is an input.
    ``unemulated`` names pairs the lab cannot stand for, with the reason
    (paths through the network the snapshot does not describe).
    """
    unemulated = unemulated or {}
    check_prefix(prefix)
    b = _Builder(snap, prefix, segments=_segment_index(snap))
    b.netns("switch", "segments", ())  # always <prefix>-s0: holds every bridge
    host_ifaces: dict[str, tuple[str, tuple[str, ...]]] = {}
    other_stack_ips: dict[str, dict[str, str]] = {}

    for host in snap.hosts:
        ns = b.netns("host", host.name, _HOST_SYSCTLS)
        where = f"host {host.name}"
        vmks = sorted(host.vmks, key=lambda v: v.number)
        connected: list[tuple[str, ipaddress.IPv4Interface]] = []
        other_stack_ips[host.name] = {}
        for i, vmk in enumerate(vmks):
            if not (vmk.enabled and vmk.ipv4):
                continue
            if vmk.netstack != DEFAULT_STACK:
                other_stack_ips[host.name][vmk.ipv4.split("/")[0]] = f"{vmk.device} on {vmk.netstack}"
                b.notes.append(f"{where} {vmk.device}: on netstack {vmk.netstack}; only {DEFAULT_STACK} is emulated")
                continue
            name = ifname_for(vmk.device, i, "vmk")
            seg = segment_for(vmk.ipv4, vmk.segment, b.segments)
            cut = cut_off(host, vmk, snap)
            if cut and seg is not None:
                b.notes.append(f"{where} {vmk.device}: {cut}; left unplugged")
            b.link(ns, name, vmk.ipv4, vmk.device, None if cut else seg, vmk.mac, noted=bool(cut))
            connected.append((name, ipaddress.IPv4Interface(vmk.ipv4)))
        host_ifaces[host.name] = (ns, tuple(n for n, _ in connected))
        stack = next((s for s in host.netstacks if s.key == DEFAULT_STACK), None)
        main = _RouteTable(ns, where, connected)
        if stack is not None:
            for r in stack.routes:
                main.add(r.network, r.gateway, "static route")
            if stack.gateway:
                main.add("0.0.0.0/0", stack.gateway, "default gateway")
        b.routes.extend(main.routes)
        b.notes.extend(main.notes)
        # A per-vmk gateway is not in the routing table (engine assumption A5):
        # NFC replies follow the stack's table, so the lab installs nothing for it.
        for vmk in vmks:
            if vmk.gateway and vmk.enabled and vmk.ipv4 and vmk.netstack == DEFAULT_STACK:
                b.notes.append(f"{where} {vmk.device}: per-vmk gateway {vmk.gateway} is not in the routing table "
                               "(A5); not installed")

    node_ns: dict[str, str] = {}
    for node in snap.backup_nodes:
        ns = b.netns("node", node.name, _NODE_SYSCTLS)
        node_ns[node.name] = ns
        connected = _device_links(b, ns, node.interfaces)
        rt = _RouteTable(ns, f"node {node.name}", connected)
        for r in node.routes:
            rt.add(r.network, r.gateway, "static route")
        if node.gateway:
            rt.add("0.0.0.0/0", node.gateway, "default gateway")
        b.routes.extend(rt.routes)
        b.notes.extend(rt.notes)

    for router in snap.routers:
        extra = _STATEFUL_SYSCTLS if router.stateful else ()
        ns = b.netns("router", router.name, _ROUTER_SYSCTLS + extra)
        connected = _device_links(b, ns, router.interfaces)
        rt = _RouteTable(ns, f"router {router.name}", connected)
        for r in router.routes:
            rt.add(r.network, r.gateway, "static route")
        b.routes.extend(rt.routes)
        b.notes.extend(rt.notes)
        if router.stateful:
            b.filters.append(FilterRule(ns, ("-A", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")))

    streams = []
    for host_name, node_name, endpoint in pairs:
        if host_name not in host_ifaces:
            raise KeyError(f"host {host_name!r} is not in the snapshot")
        if node_name not in node_ns:
            raise KeyError(f"backup node {node_name!r} is not in the snapshot")
        hns, ifaces = host_ifaces[host_name]
        skip = None
        if endpoint is None:
            skip = "no endpoint address: nothing to connect to"
        elif endpoint in other_stack_ips[host_name]:
            skip = f"endpoint {endpoint} is {other_stack_ips[host_name][endpoint]}; only {DEFAULT_STACK} is emulated"
        skip = skip or unemulated.get((host_name, node_name))
        streams.append(Stream(host_name, node_name, hns, node_ns[node_name], endpoint, ifaces, skip))

    return LabPlan(
        prefix,
        tuple(b.namespaces),
        tuple(b.bridges.values()),
        tuple(b.links),
        tuple(b.routes),
        tuple(b.rules),
        tuple(b.filters),
        tuple(streams),
        tuple(dict.fromkeys(b.notes)),
    )


def cut_off(host: Host, vmk: Vmk, snap: Snapshot) -> Optional[str]:
    """Why ``vmk`` has no uplink that can carry its frames, or None if it has one.

    The kernel knows nothing of teaming, so a vmk whose port group has no
    active or standby uplink up is emulated as an unplugged veth.
    """
    for vs in host.vswitches:
        for pg in vs.portgroups:
            if pg.name == vmk.portgroup:
                nics = _carriers(vs.teaming, pg.teaming, vs.uplinks, {u: u for u in vs.uplinks})
                return _why_cut(nics, host, vmk)
    dvs_by_name = {d.name: d for d in snap.dvswitches}
    for member in host.dvswitches:
        dvs = dvs_by_name.get(member.switch)
        if dvs is None:
            continue
        for dpg in dvs.portgroups:
            if dpg.name == vmk.portgroup:
                nics = _carriers(dvs.teaming, dpg.teaming, dvs.uplink_ports, member.uplinks)
                return _why_cut(nics, host, vmk)
    return f"port group {vmk.portgroup} is on none of the host's switches"


def _carriers(switch: Teaming, pg: Optional[Teaming], ports: Sequence[str], to_nic: dict[str, str]) -> list[str]:
    _, active, standby, _, _ = effective(switch, pg, ports)
    return [to_nic[u] for u in active + standby if u in to_nic]


def _why_cut(nics: list[str], host: Host, vmk: Vmk) -> Optional[str]:
    up = {p.name for p in host.pnics if p.link_up}
    if any(n in up for n in nics):
        return None
    return f"no active or standby uplink of port group {vmk.portgroup} is up"


def _device_links(b: _Builder, ns: str, interfaces) -> list[tuple[str, ipaddress.IPv4Interface]]:
    connected: list[tuple[str, ipaddress.IPv4Interface]] = []
    used: set[str] = set()
    for i, iface in enumerate(interfaces):
        if ":" in iface.address:  # as in the engine: IPv6 is kept in snapshots, not traced or emulated
            b.notes.append(f"{ns} {iface.name} {iface.address}: IPv6 is not emulated; left out")
            continue
        name = ifname_for(iface.name, i)
        if name in used:
            name = f"eth{i}"
        used.add(name)
        seg = segment_for(iface.address, iface.segment, b.segments)
        b.link(ns, name, iface.address, iface.name, seg, None)
        connected.append((name, ipaddress.IPv4Interface(iface.address)))
    return connected


__all__ = [
    "Bridge", "FilterRule", "LabPlan", "Link", "NETNS_RE", "NFC_PORT", "Netns", "PREFIX_RE", "RouteSpec",
    "RuleSpec", "Stream", "build", "check_prefix", "ifname_for", "segment_for",
]
