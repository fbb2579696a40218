"""Routing tables: connected, static and default routes, longest prefix wins.

Ties between equal prefixes go to the entry added first (connected routes in
vmk order), which is what ESXi does for two vmks in one subnet (KB 2010877)
and what Linux does for kernel prefix routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .addr import ip_int, ip_str, mask, net_str, parse_cidr


@dataclass(frozen=True, slots=True)
class L3Iface:
    device: str  # "host:esx01", "node:proxy01", "router:core"
    name: str  # vmk0, eth0
    ip: int
    prefixlen: int
    network: int
    segment: Optional[str]
    speed_mbps: Optional[int] = None

    @property
    def ip_text(self) -> str:
        return ip_str(self.ip)

    @property
    def cidr(self) -> str:
        return f"{ip_str(self.ip)}/{self.prefixlen}"


@dataclass(frozen=True, slots=True)
class RouteEntry:
    network: int
    prefixlen: int
    iface: str  # outgoing interface (vmk / eth)
    gateway: Optional[int]  # None: connected, deliver to the destination itself
    origin: str  # connected / static / default / vmk-gateway

    def matches(self, ip: int) -> bool:
        return (ip & mask(self.prefixlen)) == self.network

    def describe(self) -> str:
        net = net_str(self.network, self.prefixlen)
        if self.gateway is None:
            return f"route {net} on {self.iface}, connected"
        text = f"route {net} via {ip_str(self.gateway)} on {self.iface}, {self.origin}"
        if self.origin == "dynamic":
            text += " (learned from an ICMP redirect, VMware KB 344105; gone after an idle hour or a network restart)"
        return text


@dataclass(frozen=True, slots=True)
class Unusable:
    """A configured route the kernel would refuse: its gateway is on no connected subnet."""

    text: str


def build_table(
    ifaces: Iterable[L3Iface],
    routes: Iterable[tuple[str, str, str]],
) -> tuple[tuple[RouteEntry, ...], tuple[Unusable, ...]]:
    """Connected routes of ``ifaces`` (in order), then ``routes``
    given as (network cidr, gateway ip, origin), resolved to an interface by
    the connected subnet that holds the gateway."""
    connected = [RouteEntry(i.network, i.prefixlen, i.name, None, "connected") for i in ifaces]
    entries = list(connected)
    unusable = []
    for network, gateway, origin in routes:
        _, plen, net = parse_cidr(network)
        gw = ip_int(gateway)
        # The gateway resolves like any destination: longest connected prefix,
        # then the first added (found by the kernel lab, tests/lab/test_lab_engine_findings.py).
        holding = [c for c in connected if c.matches(gw)]
        out = max(holding, key=lambda c: c.prefixlen).iface if holding else None
        if out is None:
            unusable.append(Unusable(f"{origin} route {net_str(net, plen)} via {gateway}: gateway is on no connected subnet"))
            continue
        entries.append(RouteEntry(net, plen, out, gw, origin))
    # Stable sort: equal prefixes keep insertion order (first added wins).
    entries.sort(key=lambda e: -e.prefixlen)
    return tuple(entries), tuple(unusable)


_INDEX: dict[int, tuple] = {}
_BIG = 24  # linear scan is faster below this many entries


def _index(table: tuple[RouteEntry, ...]) -> tuple[tuple[int, int, dict[int, RouteEntry]], ...]:
    by_len: dict[int, dict[int, RouteEntry]] = {}
    for e in table:  # already longest-first; setdefault keeps the first added
        by_len.setdefault(e.prefixlen, {}).setdefault(e.network, e)
    return tuple((plen, mask(plen), nets) for plen, nets in sorted(by_len.items(), reverse=True))


def lookup(table: tuple[RouteEntry, ...], ip: int) -> Optional[RouteEntry]:
    """Longest prefix match; big tables (routers of large estates) use a hash per prefix length."""
    if len(table) < _BIG:
        for entry in table:
            if (ip & mask(entry.prefixlen)) == entry.network:
                return entry
        return None
    key = id(table)
    index = _INDEX.get(key)
    if index is None or index[1] is not table:
        if len(_INDEX) > 256:
            _INDEX.clear()
        index = _INDEX[key] = (_index(table), table)  # keep table alive so id() stays unique
    for _plen, m, nets in index[0]:
        hit = nets.get(ip & m)
        if hit is not None:
            return hit
    return None
