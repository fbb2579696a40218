"""Compile a Snapshot into lookup structures the trace walks.

``Network`` holds everything outside the hosts (segments, routers, backup
nodes); ``HostView`` one host's vmks, port groups, uplink choices and route
tables. Both are pure derivations of the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter
from typing import Optional

from ..model import DEFAULT_STACK, Host, PhysicalNic, Snapshot, Vmk
from .addr import cidr, ip_int, ip_str, mask, parse_cidr
from .routing import L3Iface, RouteEntry, Unusable, build_table
from .teaming import PortGroupInfo, UplinkChoice, choose, portgroups


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A backup node or router: interfaces and one routing table."""

    kind: str  # node / router
    name: str
    ifaces: dict[str, L3Iface]
    table: tuple[RouteEntry, ...]
    unusable: tuple[Unusable, ...]
    stateful: bool = False
    capacity_mbps: Optional[int] = None
    ips: frozenset = frozenset()

    @property
    def device(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(slots=True)
class Network:
    segments_by_len: dict[int, dict[int, str]]
    owners: dict[tuple[str, int], L3Iface]
    nodes: dict[str, DeviceView]
    routers: dict[str, DeviceView]
    # Prefixes routers and nodes route on; a host subnet that holds a more
    # specific one is not "uniform" and its hosts are traced one by one.
    prefixes: tuple[tuple[int, int], ...]
    # segment -> first router address on it: the gateway a host route would use.
    gateways: dict[str, int] = field(default_factory=dict)
    # Segments a described router has an interface on. A gateway nobody owns on
    # one of them is an error in the description; elsewhere it stands for the
    # unmodelled routed network (assumption A11).
    routed_segments: set[str] = field(default_factory=set)
    # Node and router addresses, for delivery through the unmodelled network.
    by_ip: dict[int, L3Iface] = field(default_factory=dict)
    # Firewalls described only by the networks they sit between:
    # (name, (net, plen), (net, plen)).
    between: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = ()
    _uniform: dict[int, set[int]] = field(default_factory=dict)
    # For gateway_for: the snapshot, and the implied gateways once worked out.
    _snap: Optional[Snapshot] = None
    _implied: Optional[dict[str, int]] = None

    def gateway_for(self, segment: Optional[str]) -> Optional[int]:
        """The gateway a host route onto ``segment`` would use: its first router
        address, or on segments no router is described for, the first gateway
        the hosts and nodes name (A11). The latter scans every vmk, so it is
        worked out on the first ask: rules need it only when they propose a
        route, never the trace (0.12 s of a 10k-host load otherwise)."""
        if segment is None:
            return None
        ip = self.gateways.get(segment)
        if ip is None and segment not in self.routed_segments and self._snap is not None:
            if self._implied is None:
                self._implied = _implied_gateways(self._snap, self)
            ip = self._implied.get(segment)
        return ip

    def firewalls_between(self, a: int, b: int) -> list[str]:
        """Described-only firewalls a packet crosses from address ``a`` to ``b``."""
        out = []
        for name, (na, pa), (nb, pb) in self.between:
            in_a, in_b = (a & mask(pa)) == na, (b & mask(pb)) == nb
            if (in_a and in_b) or ((a & mask(pb)) == nb and (b & mask(pa)) == na):
                out.append(name)
        return out

    def segment_for(self, declared: Optional[str], ip: int, prefixlen: int, network: int) -> str:
        """An interface's segment: the one it ``declared``, else the described segment holding
        ``ip``, else its subnet's implicit one (A8)."""
        return declared or self.segment_of(ip) or implicit_segment(network, prefixlen)

    def segment_of(self, ip: int) -> Optional[str]:
        for plen, nets in self.segments_by_len.items():
            seg = nets.get(ip & mask(plen))
            if seg is not None:
                return seg
        return None

    def uniform(self, network: int, prefixlen: int) -> bool:
        covered = self._uniform.get(prefixlen)
        if covered is None:
            # Every prefix longer than prefixlen, cut down to prefixlen bits.
            m = mask(prefixlen)
            covered = self._uniform[prefixlen] = {n & m for n, p in self.prefixes if p > prefixlen}
        return network not in covered


@dataclass(frozen=True, slots=True)
class NodeClass:
    """Backup nodes that no trace tells apart but by their own addresses (node_classes)."""

    ips: frozenset  # every member's addresses
    subnets: tuple[tuple[int, int], ...]  # (network, prefixlen) of the members' interfaces


def node_classes(net: Network) -> dict[str, NodeClass]:
    """Node name -> its class, for nodes with a twin: the same interfaces (names, subnets,
    segments, speeds) and routing table, on subnets nothing described routes finer than,
    their addresses held by no other interface and no route's gateway.

    A packet then meets the same routes and devices whichever twin sends or receives it,
    and it ends on the twin the walk started for: traces differ in the node's address
    only. A 10k-host fleet's 16 nodes are two classes (12,000 traces -> 1,500). What a
    host adds (its routes and addresses) is checked per host (engine.trace)."""
    holders: dict[int, int] = {}
    gateways: set[int] = set()
    for dv in (*net.nodes.values(), *net.routers.values()):
        for i in dv.ifaces.values():
            holders[i.ip] = holders.get(i.ip, 0) + 1
        gateways.update(e.gateway for e in dv.table if e.gateway is not None)
    walls = [p for _, a, b in net.between for p in (a, b)]

    def alone(iface: L3Iface) -> bool:
        m = mask(iface.prefixlen)
        return holders[iface.ip] == 1 and iface.ip not in gateways \
            and net.uniform(iface.network, iface.prefixlen) \
            and not any(p > iface.prefixlen and n & m == iface.network for n, p in walls)

    twins: dict[tuple, list[DeviceView]] = {}
    for node in net.nodes.values():
        if node.ifaces and all(alone(i) for i in node.ifaces.values()):
            key = (tuple((i.name, i.prefixlen, i.network, i.segment, i.speed_mbps) for i in node.ifaces.values()),
                   node.table, node.unusable, node.stateful, node.capacity_mbps)
            twins.setdefault(key, []).append(node)
    out: dict[str, NodeClass] = {}
    for members in twins.values():
        if len(members) > 1:
            cls = NodeClass(frozenset(i.ip for n in members for i in n.ifaces.values()),
                            tuple(dict.fromkeys((i.network, i.prefixlen) for i in members[0].ifaces.values())))
            out.update((n.name, cls) for n in members)
    return out


@lru_cache(maxsize=1 << 16)
def implicit_segment(network: int, prefixlen: int) -> str:
    """Addresses of one subnet share one L2 segment unless segments say otherwise."""
    return f"subnet {ip_str(network)}/{prefixlen}"


def compile_network(snap: Snapshot) -> Network:
    by_len: dict[int, dict[int, str]] = {}
    for seg in snap.segments:
        for subnet in seg.subnets:
            if ":" in subnet:
                continue
            _, plen, net = parse_cidr(subnet)
            by_len.setdefault(plen, {})[net] = seg.name
    # Longest segment subnet first, so a /28 carved out of a /24 wins.
    by_len = dict(sorted(by_len.items(), key=lambda kv: -kv[0]))
    network = Network(by_len, {}, {}, {}, ())
    prefixes: list[tuple[int, int]] = []

    def ifaces_of(kind: str, name: str, items) -> dict[str, L3Iface]:
        out = {}
        for it in items:
            if ":" in it.address:
                continue  # IPv6 is kept in the snapshot but not traced (docs/engine.md, "Limits")
            ip, plen, net = parse_cidr(it.address)
            seg = network.segment_for(it.segment, ip, plen, net)
            iface = L3Iface(f"{kind}:{name}", it.name, ip, plen, net, seg, it.speed_mbps)
            out[it.name] = iface
            prefixes.append((net, plen))
            network.owners[(seg, ip)] = iface
            network.by_ip.setdefault(ip, iface)
        return out

    for node in snap.backup_nodes:
        ifs = ifaces_of("node", node.name, node.interfaces)
        routes = [(r.network, r.gateway, "static") for r in node.routes if ":" not in r.network]
        if node.gateway and ":" not in node.gateway:
            routes.append(("0.0.0.0/0", node.gateway, "default"))
        table, unusable = build_table(ifs.values(), routes)
        network.nodes[node.name] = DeviceView("node", node.name, ifs, table, unusable, ips=frozenset(i.ip for i in ifs.values()))
        prefixes.extend((parse_cidr(r.network)[2], parse_cidr(r.network)[1]) for r in node.routes if ":" not in r.network)
    for router in snap.routers:
        ifs = ifaces_of("router", router.name, router.interfaces)
        table, unusable = build_table(ifs.values(), [(r.network, r.gateway, "static") for r in router.routes if ":" not in r.network])
        network.routers[router.name] = DeviceView(
            "router", router.name, ifs, table, unusable, router.stateful, router.capacity_mbps,
            frozenset(i.ip for i in ifs.values()),
        )
        for i in ifs.values():
            assert i.segment is not None, "ifaces_of names every segment (segment_for)"
            network.gateways.setdefault(i.segment, i.ip)
            network.routed_segments.add(i.segment)
        prefixes.extend((parse_cidr(r.network)[2], parse_cidr(r.network)[1]) for r in router.routes if ":" not in r.network)
    for fw in snap.firewalls:
        if any(":" in b for b in fw.between):
            continue
        # In ``routers`` too: verdicts look stateful firewalls and capacities up by name.
        network.routers[fw.name] = DeviceView("router", fw.name, {}, (), (), fw.stateful, fw.capacity_mbps)
        (_, pa, na), (_, pb, nb) = (parse_cidr(b) for b in fw.between)
        network.between += ((fw.name, (na, pa), (nb, pb)),)
    network.prefixes = tuple(set(prefixes))
    network._snap = snap
    return network


def _implied_gateways(snap: Snapshot, network: Network) -> dict[str, int]:
    """Where no router is described, the gateways hosts and nodes name stand for
    the routed network's legs (A11): rules propose them as next hops."""
    named: set[str] = set()
    for host in snap.hosts:
        for stack in host.netstacks:
            if stack.gateway:
                named.add(stack.gateway)
            named.update(r.gateway for r in stack.routes)
        named.update(v.gateway for v in host.vmks if v.gateway)
    for node in snap.backup_nodes:
        if node.gateway:
            named.add(node.gateway)
        named.update(r.gateway for r in node.routes)
    named = {g for g in named if ":" not in g}
    implied: dict[str, int] = {}
    if not named:
        return implied
    subnets: dict[tuple[int, int], str] = {}
    for host in snap.hosts:
        for v in host.vmks:
            if v.ipv4:
                ip, plen, net = parse_cidr(v.ipv4)
                if (net, plen) not in subnets:
                    subnets[(net, plen)] = network.segment_for(v.segment, ip, plen, net)
    for iface in network.by_ip.values():
        assert iface.segment is not None, "by_ip holds ifaces_of's interfaces only, each with its segment"
        subnets.setdefault((iface.network, iface.prefixlen), iface.segment)
    lengths = sorted({plen for _, plen in subnets}, reverse=True)
    for gw in sorted(named, key=ip_int):
        ip = ip_int(gw)
        seg = next((subnets[(ip & mask(p), p)] for p in lengths if (ip & mask(p), p) in subnets), None)
        if seg is not None and seg not in network.routed_segments:
            implied.setdefault(seg, ip)
    return implied


# Not frozen: built once per host (10,000 a fleet trace), 13 frozen fields cost 3.5 us, plain ones 0.6;
# it holds dicts, so it never was hashable.
@dataclass(slots=True)
class HostView:
    host: Host
    device: str
    ifaces: dict[str, L3Iface]  # enabled vmks with an IPv4 address, in vmk order
    stack_of: dict[str, str]  # vmk -> netstack key
    pgs: dict[str, PortGroupInfo]
    uplinks: dict[str, UplinkChoice]  # vmk -> uplink choice
    tables: dict[str, tuple[tuple[RouteEntry, ...], tuple[Unusable, ...]]]  # per netstack
    vmk_tables: dict[str, tuple[tuple[RouteEntry, ...], tuple[Unusable, ...]]]  # per-vmk gateway override
    management_vmks: tuple[str, ...]
    pnics: dict
    vmks: tuple[Vmk, ...]  # in vmk-number order
    # Netstacks whose routing table was read from the host: which vmk owns a
    # shared subnet is then a fact, not assumption A3.
    observed: frozenset = frozenset()
    # One dict per compiled configuration, the same object in every view re-addressed
    # from it: the engine keeps facts that hold for the whole configuration here, and
    # its identity stands for the configuration (a host's shape, engine.trace).
    config: dict = field(default_factory=dict, compare=False, repr=False)


def compile_host(host: Host, snap: Snapshot, network: Network, dvs_index: dict, cache: Optional[dict] = None) -> HostView:
    """One host's view. With ``cache``, hosts that differ only by name, addresses
    and MACs (a cluster) reuse the first one's view, re-addressed: switches,
    teaming, stacks and route tables are the same objects (10k hosts: ~0.3 s)."""
    if cache is None:
        return _compile_host(host, snap, network, dvs_index, None)
    cidrs = [cidr(v.ipv4) if v.ipv4 else None for v in host.vmks]
    subnets = tuple([c[1:] if c else None for c in cidrs])
    config = _config(host)
    # Hosts of a cluster come one after another: comparing with the previous host's
    # configuration costs the models' __eq__ only, a dict lookup their __hash__ too
    # (12 Python calls a host: 0.09 s of 10k hosts' 0.3 s).
    last = cache.get(_PREVIOUS)
    if last is not None and last[0] == subnets and last[1] == config:
        template = last[2]
    else:
        key = ("host", config, subnets)
        template = cache.get(key)
        if template is None:
            template = cache[key] = _compile_host(host, snap, network, dvs_index, cache)
        cache[_PREVIOUS] = (subnets, config, template)
        if template.host is host:
            return template
    device = f"host:{host.name}"
    mine = {v.device: (v, c) for v, c in zip(host.vmks, cidrs)}
    ifaces = {}
    for dev, t in template.ifaces.items():
        vmk, parsed = mine[dev]
        assert parsed is not None  # the template's interfaces are vmks with an address, as this host's are
        ip, plen, net = parsed
        # The segment is looked up for this host's own address: a segment described narrower
        # than the vmk's subnet (two /25s in a /24) can hold one host of a cluster and not the next.
        ifaces[dev] = L3Iface(device, dev, ip, plen, net, network.segment_for(vmk.segment, ip, plen, net))
    return HostView(host, device, ifaces, template.stack_of, template.pgs, template.uplinks, template.tables,
                    template.vmk_tables, template.management_vmks, {p.name: p for p in host.pnics},
                    tuple([mine[v.device][0] for v in template.vmks]), template.observed, template.config)


_PREVIOUS = ("previous host",)  # compile_host's cache key for the last configuration it saw


# Every field of a NIC but its MAC, which is the NIC's own and not its host's configuration.
_NIC = attrgetter(*(f for f in PhysicalNic.model_fields if f != "mac"))


def _switching(host: Host) -> tuple:
    """What teaming reads: NICs and switches. Keyed with the NICs' MACs, no two hosts of a
    discovered estate had one view (1,000 hosts with MACs: trace 0.54 -> 0.12 s CPU)."""
    return (tuple(map(_NIC, host.pnics)), host.vswitches,
            tuple([(m.switch, tuple(sorted(m.uplinks.items()))) for m in host.dvswitches]))


def _config(host: Host) -> tuple:
    """What a host's view depends on besides its name, vmk addresses and MACs."""
    return (*_switching(host), host.netstacks,
            tuple([(v.device, v.portgroup, v.netstack, v.services, v.gateway, v.enabled, v.segment)
                   for v in host.vmks]))


def _compile_host(host: Host, snap: Snapshot, network: Network, dvs_index: dict, cache: Optional[dict]) -> HostView:
    device = f"host:{host.name}"
    vmks = sorted(host.vmks, key=lambda v: v.number)
    ifaces: dict[str, L3Iface] = {}
    stack_of = {}
    for v in vmks:
        stack_of[v.device] = v.netstack
        if not (v.enabled and v.ipv4):
            continue
        ip, plen, net = parse_cidr(v.ipv4)
        seg = network.segment_for(v.segment, ip, plen, net)
        ifaces[v.device] = L3Iface(device, v.device, ip, plen, net, seg)
    pnics = {p.name: p for p in host.pnics}
    # Hosts of a cluster share switches and NICs: teaming is worked out once
    # per distinct configuration (0.4 s of 0.54 s at 10k hosts otherwise).
    key = None
    if cache is not None:
        key = _switching(host)
        hit = cache.get(key)
    if cache is None or hit is None:
        pgs = portgroups(host, snap, dvs_index)
        choices = {name: choose(pg, pnics) for name, pg in pgs.items()}
        if cache is not None:
            cache[key] = (pgs, choices)
    else:
        pgs, choices = hit
    uplinks = {v.device: choices[v.portgroup] for v in vmks if v.portgroup in choices}
    def table(members: list[L3Iface], routes: list[tuple[str, str, str]]):
        # Route entries hold subnets, not host addresses: hosts of a cluster share them.
        if cache is None:
            return build_table(members, routes)
        key = ("table", tuple((m.name, m.network, m.prefixlen) for m in members), tuple(routes))
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = build_table(members, routes)
        return hit

    tables = {}
    for stack in host.netstacks:
        members = [i for d, i in ifaces.items() if stack_of[d] == stack.key]
        routes = [(r.network, r.gateway, "static") for r in stack.routes if ":" not in r.network]
        if stack.gateway:
            routes.append(("0.0.0.0/0", stack.gateway, "default"))
        if stack.route_table is not None:
            members, routes = _observed(stack.route_table, members, routes)
        tables[stack.key] = table(members, routes)
    vmk_tables = {}
    for v in vmks:
        if v.gateway and v.device in ifaces:
            members = [i for d, i in ifaces.items() if stack_of[d] == v.netstack]
            vmk_tables[v.device] = table(members, [("0.0.0.0/0", v.gateway, "vmk-gateway")])
    mgmt = tuple(v.device for v in vmks if "management" in v.services)
    observed = frozenset(s.key for s in host.netstacks if s.route_table is not None)
    return HostView(host, device, ifaces, stack_of, pgs, uplinks, tables, vmk_tables, mgmt, pnics, tuple(vmks),
                    observed)


def _observed(rows, members: list[L3Iface], routes: list[tuple[str, str, str]]):
    """Fold a routing table read from the host into the configured one.

    The table's connected rows say which vmk owns a subnet several vmks share
    (VMware: the first created, which vmk numbers do not always tell), so those
    vmks go first; its dynamic rows (ICMP redirects) are added. Static and
    default routes stay the configured ones, so a what-if that adds or removes a
    route still shows its effect."""
    owner: dict[tuple[int, int], str] = {}
    for r in rows:
        if r.gateway is None and r.device and ":" not in r.network:
            _, plen, net = parse_cidr(r.network)
            owner.setdefault((net, plen), r.device)
    first = [m for m in members if owner.get((m.network, m.prefixlen)) == m.name]
    ordered = first + [m for m in members if m not in first]
    # A gateway row the configuration lacks is live-only: vCenter does not mark
    # redirect-learned routes, so "unknown" and not configured counts as dynamic.
    configured = {(network, gateway) for network, gateway, _ in routes}
    dynamic = [(r.network, r.gateway, "dynamic") for r in rows
               if r.gateway is not None and ":" not in r.network and r.network != "0.0.0.0/0"
               and (r.source == "dynamic" or (r.source == "unknown" and (r.network, r.gateway) not in configured))]
    return ordered, routes + dynamic


def dvs_index(snap: Snapshot) -> dict:
    return {d.name: d for d in snap.dvswitches}


__all__ = ["DEFAULT_STACK", "DeviceView", "HostView", "Network", "NodeClass", "compile_host", "compile_network",
           "dvs_index", "implicit_segment", "node_classes"]
