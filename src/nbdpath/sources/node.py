"""A backup node's entry from what the node itself prints.

Linux: ``ip -j addr show`` and ``ip -j route show`` (iproute2's JSON).
Windows: ``Get-NetIPAddress | ConvertTo-Json`` and ``Get-NetRoute |
ConvertTo-Json`` (property names from Microsoft's MSFT_NetIPAddress and
MSFT_NetRoute classes). Pure functions over bytes; reading files is the
caller's business. Whatever is left out (loopback, link-local, down
interfaces, other default routes) is said in a note, never dropped silently.
"""

from __future__ import annotations

import codecs
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, cast

from ..apply.docfile import int_field, parse_json, text_field
from ..errors import InputError
from ..model import BackupNode, Interface, Route
from ..model.snapshot import Product

MAX_NODE_FILE = 16 * 2**20  # a node with 1,000 addresses prints ~1 MiB; past this it is not one node's output
MAX_ENTRIES = 10_000  # addresses or routes in one file; a proxy has tens
MAX_NAME = 256  # Windows aliases are at most 256 characters, Linux names 15 bytes

LINUX_ADDR, LINUX_ROUTE, WINDOWS_ADDR, WINDOWS_ROUTE = "ip -j addr", "ip -j route", "Get-NetIPAddress", "Get-NetRoute"
KINDS = (LINUX_ADDR, LINUX_ROUTE, WINDOWS_ADDR, WINDOWS_ROUTE)
ADDR_KINDS = (LINUX_ADDR, WINDOWS_ADDR)
ROUTE_KINDS = (LINUX_ROUTE, WINDOWS_ROUTE)

# Names that container runtimes and hypervisors give their bridges: kept (they may
# well carry traffic) but pointed out, since a backup path rarely uses them.
_VIRTUAL_PREFIXES = ("docker", "veth", "br-", "virbr", "cni", "flannel", "cali", "vethernet (")

# MSFT_NetIPAddress.AddressState and .AddressFamily, numbers as ConvertTo-Json
# writes enums (strings with -EnumsAsStrings).
_WIN_STATES = {0: "Invalid", 1: "Tentative", 2: "Duplicate", 3: "Deprecated", 4: "Preferred"}
_WIN_FAMILIES = {2: 4, 23: 6, "ipv4": 4, "ipv6": 6}
_WIN_STORES = {0: "ActiveStore", 1: "PersistentStore"}


@dataclass(frozen=True)
class NodeFile:
    """One decoded file: what printed it and its JSON."""

    source: str
    kind: str
    data: list[Any]


@dataclass
class Imported:
    node: BackupNode
    notes: list[str] = field(default_factory=list)
    mtu: dict[str, int] = field(default_factory=dict)  # interface -> MTU (the model has no MTU field)


@dataclass(frozen=True)
class _Addr:
    ifname: str
    iface: ipaddress.IPv4Interface | ipaddress.IPv6Interface


@dataclass(frozen=True)
class _Route:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    gateway: ipaddress.IPv4Address | ipaddress.IPv6Address
    metric: int
    dev: Optional[str]
    where: str


# ---------------------------------------------------------------- decoding


def decode(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM, PowerShell 5.1's default for ``>``."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            body, name = data[len(bom):], codec
            break
    else:
        body, name = data, "utf-8"
        nul = data.find(b"\0")
        if nul >= 0:  # valid UTF-8, but no JSON has NULs: UTF-16 that lost its BOM
            raise InputError(source, f"byte {nul}", "UTF-8 text, or UTF-16 with its byte order mark "
                             "(this has NUL bytes: UTF-16 without one?)")
    try:
        return body.decode(name)
    except UnicodeDecodeError as exc:
        what = "UTF-8 text" if name == "utf-8" else f"{name.upper()} text (after its byte order mark)"
        raise InputError(source, f"byte {exc.start + len(data) - len(body)}",
                         f"{what}; save PowerShell output with Out-File -Encoding utf8 or keep its BOM") from None


def load(data: bytes, source: str, expect: tuple[str, ...] = KINDS) -> NodeFile:
    """Decode and recognise one file, which must be one of ``expect``."""
    text = decode(data, source)
    if not text.strip():
        raise InputError(source, "", "the JSON output of one of: " + ", ".join(expect) + " (the file is empty)")
    doc = parse_json(text, source, "JSON")
    if isinstance(doc, dict):  # ConvertTo-Json writes one object, not a list, when there is one
        doc = [doc]
    if not isinstance(doc, list):
        raise InputError(source, "", f"a JSON list of objects (found {_json_type(doc)})")
    if len(doc) > MAX_ENTRIES:
        raise InputError(source, "", f"at most {MAX_ENTRIES:,} entries (found {len(doc):,}): one node's output")
    for i, entry in enumerate(doc):
        if not isinstance(entry, dict):
            raise InputError(source, f"[{i}]", f"an object (found {_json_type(entry)})")
    found = _kind_of(doc)
    if found is None and not doc and len(expect) <= 2:
        found = expect[0]  # `ip -j route show` in a table with no routes: [], harmless whichever reader
    if found is None:
        where = "[0]" if doc else ""
        raise InputError(source, where, "the output of one of: " + ", ".join(expect) +
                         (" (entries with ifname/addr_info, dst, IPAddress or DestinationPrefix)" if doc
                          else " (an empty list does not say which; use --addr / --route)"))
    if found not in expect:
        raise InputError(source, "", f"the output of {' or '.join(expect)} (this looks like {found})")
    return NodeFile(source, found, doc)


def _kind_of(doc: list[dict]) -> Optional[str]:
    if not doc:
        return None
    first = doc[0]
    for key, kind in (("addr_info", LINUX_ADDR), ("ifname", LINUX_ADDR), ("dst", LINUX_ROUTE),
                      ("IPAddress", WINDOWS_ADDR), ("DestinationPrefix", WINDOWS_ROUTE)):
        if key in first:
            return kind
    return None


# ---------------------------------------------------------------- addresses


def _name(value: Any, source: str, where: str) -> str:
    return text_field(value, source, where, limit=MAX_NAME).strip()


def _skip_reason(iface: ipaddress.IPv4Interface | ipaddress.IPv6Interface) -> Optional[str]:
    ip = iface.ip
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast or ip.is_unspecified:
        return "not a unicast address"
    return None


def _interface(address: Any, plen: Any, source: str, where: str,
               plen_where: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    text = text_field(address, source, where, limit=64).split("%", 1)[0]  # Windows: fe80::1%12 (zone index)
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise InputError(source, where, f"an IP address (found {text[:64]!r})") from None
    length = int_field(plen, source, plen_where, 0, ip.max_prefixlen)
    return ipaddress.ip_interface(f"{ip}/{length}")


def _linux_addrs(f: NodeFile, imp: Imported) -> list[_Addr]:
    out: list[_Addr] = []
    for i, link in enumerate(f.data):
        ifname = _name(link.get("ifname"), f.source, f"[{i}].ifname")
        flags = _str_list(link.get("flags", []), f.source, f"[{i}].flags")
        infos = link.get("addr_info", [])
        if not isinstance(infos, list):
            raise InputError(f.source, f"[{i}].addr_info", f"a list (found {_json_type(infos)})")
        if "mtu" in link:
            imp.mtu[ifname] = int_field(link["mtu"], f.source, f"[{i}].mtu", 68, 1 << 20)
        state = link.get("operstate", "UNKNOWN")
        state = text_field(state, f.source, f"[{i}].operstate", limit=32)
        if "LOOPBACK" in flags or link.get("link_type") == "loopback":
            continue
        down = "UP" not in flags or "NO-CARRIER" in flags or state in ("DOWN", "LOWERLAYERDOWN", "NOTPRESENT")
        kept = []
        for j, info in enumerate(infos):
            where = f"[{i}].addr_info[{j}]"
            if not isinstance(info, dict):
                raise InputError(f.source, where, f"an object (found {_json_type(info)})")
            if info.get("family") not in ("inet", "inet6"):
                continue
            iface = _interface(info.get("local"), info.get("prefixlen"), f.source, where + ".local", where + ".prefixlen")
            reason = _skip_reason(iface) or ("duplicate address detection failed" if info.get("dadfailed") else None)
            if reason:
                if reason != "link-local":  # every IPv6 interface has one: not worth a line
                    imp.notes.append(f"skipped {iface} on {ifname}: {reason}")
                continue
            kept.append(_Addr(ifname, iface))
        if down and kept:
            imp.notes.append(f"skipped {ifname}: link is down (flags {','.join(flags) or 'none'}, "
                             f"operstate {state}); its addresses {', '.join(str(a.iface) for a in kept)} are left out")
            continue
        out.extend(kept)
    return out


def _windows_addrs(f: NodeFile, imp: Imported) -> list[_Addr]:
    out: list[_Addr] = []
    for i, entry in enumerate(f.data):
        alias = _name(entry.get("InterfaceAlias"), f.source, f"[{i}].InterfaceAlias")
        family = _family(entry.get("AddressFamily"), f.source, f"[{i}].AddressFamily")
        iface = _interface(entry.get("IPAddress"), entry.get("PrefixLength"), f.source, f"[{i}].IPAddress",
                           f"[{i}].PrefixLength")
        if family is not None and family != iface.version:
            raise InputError(f.source, f"[{i}].AddressFamily", f"the family of IPAddress {iface.ip} (IPv{iface.version})")
        store = _enum(entry.get("Store"), _WIN_STORES, f.source, f"[{i}].Store")
        if store == "PersistentStore":
            continue  # the configured copy of an active address: counted once
        state = _enum(entry.get("AddressState"), _WIN_STATES, f.source, f"[{i}].AddressState")
        reason = _skip_reason(iface)
        if reason is None and state not in (None, "Preferred", "Deprecated"):
            reason = f"address state {state}"
        if reason:
            if reason != "link-local" or iface.version == 4:  # 169.254/16 on Windows: DHCP failed, worth saying
                imp.notes.append(f"skipped {iface} on {alias}: {reason}")
            continue
        out.append(_Addr(alias, iface))
    if out:
        imp.notes.append("Get-NetIPAddress does not say whether a link is up: check Get-NetAdapter for the interfaces kept")
    return out


def _family(value: Any, source: str, where: str) -> Optional[int]:
    if value is None:
        return None
    key = value.lower() if isinstance(value, str) else value
    if type(key) not in (int, str) or key not in _WIN_FAMILIES:
        raise InputError(source, where, "2 or IPv4, 23 or IPv6")
    return _WIN_FAMILIES[key]


def _enum(value: Any, names: dict[int, str], source: str, where: str) -> Optional[str]:
    if value is None:
        return None
    if type(value) is int and value in names:
        return names[value]
    if isinstance(value, str) and value in names.values():
        return value
    raise InputError(source, where, "one of " + ", ".join(f"{k} or {v}" for k, v in names.items()))


def _str_list(value: Any, source: str, where: str) -> list[str]:
    if not isinstance(value, list):
        raise InputError(source, where, f"a list of strings (found {_json_type(value)})")
    return [text_field(v, source, f"{where}[{k}]", limit=64) for k, v in enumerate(value)]


# ---------------------------------------------------------------- routes


def _network(text: str, source: str, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InputError(source, where, f"a network like 10.0.0.0/24 or default (found {text[:64]!r})") from None


def _gateway(value: Any, source: str, where: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    text = text_field(value, source, where, limit=64).split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise InputError(source, where, f"an IP address (found {text[:64]!r})") from None


def _linux_routes(f: NodeFile, imp: Imported) -> list[_Route]:
    out: list[_Route] = []
    for i, entry in enumerate(f.data):
        where = f"[{i}]"
        dst = text_field(entry.get("dst"), f.source, where + ".dst", limit=64)
        rtype = entry.get("type", "unicast")
        table = entry.get("table", "main")
        if rtype != "unicast" or table != "main":
            continue  # local/broadcast entries of `table all`: the kernel's own
        flags = _str_list(entry.get("flags", []), f.source, where + ".flags")
        dev = _name(entry["dev"], f.source, where + ".dev") if "dev" in entry else None
        metric = int_field(entry.get("metric", 0), f.source, where + ".metric", 0, 2**32 - 1)
        hops = entry.get("nexthops")
        gw_value, gw_where = entry.get("gateway"), where + ".gateway"
        if gw_value is None and isinstance(hops, list) and hops:
            if not isinstance(hops[0], dict):
                raise InputError(f.source, where + ".nexthops[0]", "an object")
            gw_value, gw_where = hops[0].get("gateway"), where + ".nexthops[0].gateway"
            dev = _name(hops[0]["dev"], f.source, where + ".nexthops[0].dev") if "dev" in hops[0] else dev
            if len(hops) > 1:
                imp.notes.append(f"route {dst}: multipath over {len(hops)} next hops; only the first is kept "
                                 "(a route has one gateway in the snapshot)")
        if gw_value is None:
            if "via" in entry:
                imp.notes.append(f"skipped route {dst}: its next hop is of the other address family")
            continue  # connected: the interface's address implies it
        gateway = _gateway(gw_value, f.source, gw_where)
        # `ip -6 route` says "default" too: its family is the next hop's
        default = "0.0.0.0/0" if gateway.version == 4 else "::/0"
        network = _network(default if dst == "default" else dst, f.source, where + ".dst")
        if gateway.version != network.version:
            imp.notes.append(f"skipped route {dst} via {gateway}: next hop of the other address family")
            continue
        if "linkdown" in flags:
            imp.notes.append(f"skipped route {network} via {gateway}: its link is down")
            continue
        out.append(_Route(network, gateway, metric, dev, where))
    return out


def _windows_routes(f: NodeFile, imp: Imported) -> list[_Route]:
    out: list[_Route] = []
    for i, entry in enumerate(f.data):
        where = f"[{i}]"
        dst = text_field(entry.get("DestinationPrefix"), f.source, where + ".DestinationPrefix", limit=64)
        network = _network(dst, f.source, where + ".DestinationPrefix")
        gateway = _gateway(entry.get("NextHop", "0.0.0.0"), f.source, where + ".NextHop")
        family = _family(entry.get("AddressFamily"), f.source, where + ".AddressFamily")
        if family is not None and family != network.version:
            raise InputError(f.source, where + ".AddressFamily", f"the family of DestinationPrefix {network}")
        if _enum(entry.get("Store"), _WIN_STORES, f.source, where + ".Store") == "PersistentStore":
            continue  # Get-NetRoute lists a persistent route twice, once per store
        if gateway.is_unspecified:
            continue  # 0.0.0.0 / ::: on-link, implied by the interface's address
        if gateway.version != network.version:
            raise InputError(f.source, where + ".NextHop", f"a next hop of the family of {network}")
        dev = _name(entry["InterfaceAlias"], f.source, where + ".InterfaceAlias") if "InterfaceAlias" in entry else None
        metric = int_field(entry.get("RouteMetric", 0), f.source, where + ".RouteMetric", 0, 2**32 - 1)
        out.append(_Route(network, gateway, metric, dev, where))
    return out


# ---------------------------------------------------------------- the node


def build(name: str, product: str, files: Iterable[NodeFile]) -> Imported:
    """The node entry from one address file and any number of route files (IPv4, IPv6)."""
    files = list(files)
    imp = Imported(node=BackupNode(name=name))  # replaced below; notes and MTUs collect meanwhile
    addrs: list[_Addr] = []
    routes: list[_Route] = []
    for f in files:
        reader = {LINUX_ADDR: _linux_addrs, WINDOWS_ADDR: _windows_addrs}.get(f.kind)
        if reader:
            addrs.extend(reader(f, imp))
        else:
            routes.extend({LINUX_ROUTE: _linux_routes, WINDOWS_ROUTE: _windows_routes}[f.kind](f, imp))
    if not addrs:
        shown = ", ".join(f.source for f in files if f.kind in ADDR_KINDS)
        raise InputError(shown, "", "at least one usable address (up, not loopback or link-local); "
                         "see 'ip -j addr show' / Get-NetIPAddress")
    addrs = _unique_addresses(addrs, imp)
    kept_names = {a.ifname for a in addrs}
    for a in addrs:
        if a.ifname.lower().startswith(_VIRTUAL_PREFIXES):
            imp.notes.append(f"kept {a.iface} on {a.ifname}: the name looks like a container or VM bridge; "
                             "remove it from the file if backups never use it")
    for ifname, mtu in sorted(imp.mtu.items()):
        if ifname in kept_names and mtu != 1500:
            imp.notes.append(f"{ifname} has MTU {mtu} (the snapshot has no MTU field; recorded here only)")
    gateway, kept = _choose(routes, addrs, imp)
    if any(f.kind == WINDOWS_ROUTE for f in files) and len(routes) > len(kept) + (gateway is not None):
        imp.notes.append("Windows adds each interface's metric to RouteMetric; only RouteMetric was compared")
    src = next((f.source for f in files if f.kind in ADDR_KINDS), name)
    try:
        node = BackupNode(
            # product is a CLI string; pydantic checks it against the Product literal (ValidationError below).
            name=name, product=cast(Product, product), gateway=str(gateway) if gateway else None,
            interfaces=tuple(Interface(name=a.ifname, address=str(a.iface)) for a in addrs),
            routes=tuple(Route(network=str(r.network), gateway=str(r.gateway)) for r in kept),
        )
    except ValueError as exc:  # names the model refuses that the readers let through
        raise InputError(src, "", f"a node entry the snapshot accepts ({_first_error(exc)})") from None
    imp.node = node
    return imp


def _choose(routes: list[_Route], addrs: list[_Addr], imp: Imported) -> tuple[Optional[Any], list[_Route]]:
    """Gateway = the lowest-metric IPv4 default; one route per destination, the lowest metric."""
    best: dict[Any, _Route] = {}
    for r in sorted(routes, key=lambda r: r.metric):  # stable: ties keep the order printed
        other = best.get(r.network)
        if other is None:
            best[r.network] = r
        elif other.gateway != r.gateway:
            tie = " (same metric: the first printed is kept)" if other.metric == r.metric else ""
            label = "default route" if r.network.prefixlen == 0 else f"route {r.network}"
            imp.notes.append(f"other {label} via {r.gateway} metric {r.metric} not kept: "
                             f"{other.gateway} metric {other.metric} wins{tie}")
    v4_default = ipaddress.ip_network("0.0.0.0/0")
    gw_route = best.pop(v4_default, None)
    on_link = _Subnets(a.iface.network for a in addrs)
    for r in ([gw_route] if gw_route else []) + list(best.values()):
        if not r.gateway.is_link_local and r.gateway not in on_link:  # IPv6 routers speak link-local
            imp.notes.append(f"next hop {r.gateway} ({'default' if r.network.prefixlen == 0 else r.network}) "
                             "is on none of the kept interfaces' subnets")
    if gw_route is None:
        imp.notes.append("no IPv4 default route: the node reaches only its subnets and its routes")
    return (gw_route.gateway if gw_route else None), list(best.values())


def _unique_addresses(addrs: list[_Addr], imp: Imported) -> list[_Addr]:
    """One interface per address: the snapshot refuses an address twice, the kernel allows it."""
    seen: dict[Any, str] = {}
    out = []
    for a in addrs:
        if a.iface.ip in seen:
            imp.notes.append(f"skipped {a.iface} on {a.ifname}: {a.iface.ip} is already on {seen[a.iface.ip]}")
            continue
        seen[a.iface.ip] = a.ifname
        out.append(a)
    return out


class _Subnets:
    """Membership in any of many networks, by prefix length: routes x addresses would be 10^8 at the caps."""

    def __init__(self, nets: Iterable[Any]):
        self._by_len: dict[tuple[int, int], set[int]] = {}
        for n in nets:
            shift = n.max_prefixlen - n.prefixlen
            self._by_len.setdefault((n.version, shift), set()).add(int(n.network_address) >> shift)

    def __contains__(self, ip: Any) -> bool:
        value = int(ip)
        return any(ip.version == version and value >> shift in tops for (version, shift), tops in self._by_len.items())


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        return f"{loc}: {first.get('msg', exc)}".removeprefix(": ")
    return str(exc)


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)
