"""esxcli-shaped verbs over a snapshot, so field-report commands work as written.

Read verbs print what esxcli would; write verbs return a Change for
:func:`nbdpath.plan.changes.apply`. The command line is parsed by argparse,
one subcommand level per word of the verb.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, NoReturn, Optional, Union

from ..engine.addr import ip_int, ip_str, parse_cidr
from ..engine.routing import L3Iface, build_table, lookup
from ..errors import UsageError
from ..model import DEFAULT_STACK, Host, Snapshot
from ..model.snapshot import normalise_service, normalise_stack
from ..safetext import is_safe_name, terminal
from ..changes.kinds import NO_IPV4, Ipv4Set, PortgroupVlanSet, VmkAdd, VmkMtuSet, portgroup_switch
from .changes import Change, RouteAdd, RouteRemove, TagAdd, TagRemove, VmkRemove, esxcli_tag, name_list, netmask

VERBS = {
    "network ip interface list": "list vmks",
    "network ip interface ipv4 get": "IPv4 settings of vmks",
    "network ip interface tag get": "tags of a vmk (-i)",
    "network ip interface tag add": "add a tag (-i, -t)",
    "network ip interface tag remove": "remove a tag (-i, -t)",
    "network ip interface remove": "remove a vmk (-i)",
    "network ip interface add": "add a vmk (-i, -p, -m, -N)",
    "network ip interface ipv4 set": "set a vmk's IPv4 address (-i, -I, -N, -t static|none)",
    "network ip interface set": "set a vmk's MTU (-i, -m)",
    "network ip route ipv4 list": "routes of a netstack (-N)",
    "network ip route ipv4 add": "add a route (-n, -g, -N)",
    "network ip route ipv4 remove": "remove a route (-n, -g, -N)",
    "network vswitch standard portgroup set": "set a standard port group's VLAN (-p, -v)",
}

# esxcli's long option per short one; each verb takes some of them (the short form is the key everywhere).
_LONG = {
    "-i": "--interface-name", "-t": "--tagname", "-n": "--network", "-g": "--gateway", "-N": "--netstack",
    "-p": "--portgroup-name", "-m": "--mtu", "-s": "--dvs-name", "-v": "--dvport-id", "-I": "--ipv4",
}
# The long names that differ by verb (esxcli reuses the short letters).
_VERB_LONG = {
    "network ip interface ipv4 set": {"-N": "--netmask", "-t": "--type"},
    "network vswitch standard portgroup set": {"-v": "--vlan-id"},
}
_OPTIONS = {
    "network ip interface list": "",
    "network ip interface ipv4 get": "-i",
    "network ip interface tag get": "-i",
    "network ip interface tag add": "-i -t",
    "network ip interface tag remove": "-i -t",
    "network ip interface remove": "-i",
    "network ip interface add": "-i -p -m -N -s -v",
    "network ip interface ipv4 set": "-i -I -N -t",
    "network ip interface set": "-i -m",
    "network ip route ipv4 list": "-N",
    "network ip route ipv4 add": "-n -g -N",
    "network ip route ipv4 remove": "-n -g -N",
    "network vswitch standard portgroup set": "-p -v",
}


@dataclass(frozen=True)
class Query:
    render: Callable[[], str]


class _ParseError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.verb = getattr(parser, "verb", None)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting: every error is one nbdpath line."""

    verb: Optional[str] = None

    def error(self, message: str) -> NoReturn:
        raise _ParseError(self, message)


def _unsupported(words: list[str]) -> UsageError:
    return UsageError(f"unsupported esxcli command {' '.join(words)!r}; supported: " + "; ".join(VERBS))


@lru_cache(maxsize=1)
def _parser() -> _Parser:
    """One subcommand level per word of each verb (network > ip > interface > tag > add), options at the leaf."""
    kw: dict[str, Any] = {"add_help": False, "allow_abbrev": False}
    root = _Parser(prog="esxcli", **kw)
    levels: dict[tuple[str, ...], Any] = {}
    nodes: dict[tuple[str, ...], _Parser] = {(): root}
    for verb in VERBS:
        words = tuple(verb.split())
        for depth in range(1, len(words) + 1):
            path = words[:depth]
            if path in nodes:
                continue
            parent = path[:-1]
            if parent not in levels:
                levels[parent] = nodes[parent].add_subparsers(dest=f"_w{depth}", required=True, parser_class=_Parser)
            nodes[path] = levels[parent].add_parser(path[-1], **kw)
        leaf = nodes[words]
        leaf.verb = verb
        leaf.set_defaults(_verb=verb)
        longs = {**_LONG, **_VERB_LONG.get(verb, {})}
        for short in _OPTIONS[verb].split():
            leaf.add_argument(short, longs[short], dest=short, default=None)
    return root


def _parse_words(words: list[str]) -> tuple[str, dict[str, str]]:
    """(verb, {short option: value}) or UsageError in esxcli's terms."""
    try:
        ns, extra = _parser().parse_known_args(words)
    except _ParseError as exc:
        verb = getattr(exc, "verb", None)
        text = str(exc)
        needs = re.match(r"argument (-\S+?)(?:/\S+)?: expected one argument", text)
        if verb and needs:
            raise UsageError(f"esxcli {verb}: option {needs[1]} needs a value") from None
        raise _unsupported(words) from None
    verb = ns._verb
    if extra:
        allowed = _OPTIONS[verb]
        raise UsageError(f"esxcli {verb}: unexpected argument {extra[0]!r}; expected options {allowed}")
    return verb, {k: v for k, v in vars(ns).items() if k.startswith("-") and v is not None}
def _need(opts: dict[str, str], key: str, verb: str) -> str:
    if key not in opts:
        raise UsageError(f"esxcli {verb}: missing required option {key}")
    return opts[key]


# Option values are checked here, as esxcli would, so that a bad one is one
# line naming the option and never reaches a snapshot copy or a script.
_VMK = re.compile(r"vmk[0-9]{1,5}")


def _bad(verb: str, key: str, expected: str, value: str, why: str = "") -> UsageError:
    return UsageError(f"esxcli {verb}: option {key}: expected {expected}, not {value!r}" + (f" ({why})" if why else ""))


def _vmk_option(opts: dict[str, str], verb: str) -> str:
    value = _need(opts, "-i", verb)
    if not _VMK.fullmatch(value):
        raise _bad(verb, "-i", "a vmk device like vmk2", value)
    return value


def _netstack_option(opts: dict[str, str], verb: str) -> str:
    value = opts.get("-N", DEFAULT_STACK)
    if not value or not is_safe_name(value):
        raise _bad(verb, "-N", "a netstack name like defaultTcpipStack", value)
    return normalise_stack(value)


def _network_option(opts: dict[str, str], verb: str) -> str:
    value = _need(opts, "-n", verb)
    if value == "default":
        return "0.0.0.0/0"
    expected = "an IPv4 network like 10.40.0.0/24, or default"
    if ":" in value:
        raise _bad(verb, "-n", expected, value, "IPv6: route ipv4 takes IPv4 networks only")
    if "/" not in value:
        raise _bad(verb, "-n", expected, value, "no prefix length")
    try:
        return str(ipaddress.IPv4Network(value, strict=True))
    except ValueError as exc:
        why = str(exc)
        if "host bits set" in why:
            why = f"host bits set; the network is {ipaddress.IPv4Network(value, strict=False)}"
        raise _bad(verb, "-n", expected, value, why) from None


def _gateway_option(opts: dict[str, str], verb: str) -> str:
    value = _need(opts, "-g", verb)
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise _bad(verb, "-g", "an IPv4 gateway address like 10.30.0.1", value) from None


def _tag_option(opts: dict[str, str], verb: str) -> str:
    value = _need(opts, "-t", verb)
    try:
        return normalise_service(value)
    except ValueError as exc:
        raise UsageError(f"esxcli {verb}: option -t: {exc}") from None


def _int_option(opts: dict[str, str], key: str, verb: str, expected: str) -> int:
    value = _need(opts, key, verb)
    if not re.fullmatch(r"[0-9]{1,5}", value):
        raise _bad(verb, key, expected, value)
    return int(value)


def _netmask_prefix(opts: dict[str, str], verb: str) -> int:
    value = _need(opts, "-N", verb)
    try:
        if "." not in value:  # a bare prefix length is not esxcli's -N
            raise ValueError(value)
        return ipaddress.IPv4Network(f"0.0.0.0/{value}").prefixlen
    except ValueError:
        raise _bad(verb, "-N", "an IPv4 netmask like 255.255.255.0", value) from None


def _ipv4_set(host: Host, opts: dict[str, str], verb: str) -> Change:
    device = _vmk_option(opts, verb)
    kind = _need(opts, "-t", verb).lower()
    current = next((v.ipv4 for v in host.vmks if v.device == device), None) or NO_IPV4
    if kind == "none":
        return Ipv4Set(host.name, device, NO_IPV4, current)
    if kind != "static":
        raise _bad(verb, "-t", "static or none", opts["-t"], "a DHCP address is not known to a what-if")
    ip = _need(opts, "-I", verb)
    try:
        address = ipaddress.IPv4Address(ip)
    except ValueError:
        raise _bad(verb, "-I", "an IPv4 address like 10.30.0.12", ip) from None
    return Ipv4Set(host.name, device, f"{address}/{_netmask_prefix(opts, verb)}", current)


def _interface_add(host: Host, opts: dict[str, str], verb: str) -> Change:
    if "-s" in opts or "-v" in opts:
        raise UsageError(f"esxcli {verb}: a distributed port (-s/-v) is not modelled: the snapshot has no port ids; "
                         "`nbdpath plan` and `apply` add a vmk on a distributed port group through vCenter")
    used = {v.device for v in host.vmks}
    # Without -i, ESXi names the adapter: the lowest free number.
    device = _vmk_option(opts, verb) if "-i" in opts else next(
        f"vmk{i}" for i in range(len(used) + 1) if f"vmk{i}" not in used)
    mtu = _int_option(opts, "-m", verb, "an MTU like 9000") if "-m" in opts else 1500
    return VmkAdd(host.name, device, _need(opts, "-p", verb), None, _netstack_option(opts, verb), mtu)


def _change(verb: str, opts: dict[str, str], snap: Snapshot, host: Host) -> Change:
    """A write verb as the change it makes (values checked as esxcli checks them)."""
    if verb in ("network ip interface tag add", "network ip interface tag remove"):
        tag = _tag_option(opts, verb)
        cls = TagAdd if verb.endswith("add") else TagRemove
        return cls(host.name, _vmk_option(opts, verb), tag)
    if verb == "network ip interface remove":
        device = _vmk_option(opts, verb)
        vmk = next((v for v in host.vmks if v.device == device), None)
        # Recorded as it stands: the what-if shows how to undo it (a vmk-add of the same).
        return VmkRemove.of(host, device, portgroup_switch(snap, host, vmk.portgroup) if vmk else None)
    if verb == "network ip interface add":
        return _interface_add(host, opts, verb)
    if verb == "network ip interface ipv4 set":
        return _ipv4_set(host, opts, verb)
    if verb == "network ip interface set":
        device = _vmk_option(opts, verb)
        mtu = _int_option(opts, "-m", verb, "an MTU like 9000")
        return VmkMtuSet(host.name, device, mtu, next((v.mtu for v in host.vmks if v.device == device), mtu))
    if verb == "network vswitch standard portgroup set":
        name = _need(opts, "-p", verb)
        vlan = _int_option(opts, "-v", verb, "a VLAN id from 0 to 4095")
        pg = next((pg for vs in host.vswitches for pg in vs.portgroups if pg.name == name), None)
        return PortgroupVlanSet(host.name, name, vlan, pg.vlan if pg else 0)
    cls2 = RouteAdd if verb.endswith("add") else RouteRemove
    return cls2(host.name, _network_option(opts, verb), _gateway_option(opts, verb), _netstack_option(opts, verb))


def _query(verb: str, opts: dict[str, str], host: Host) -> Optional[Query]:
    if verb == "network ip interface list":
        return Query(lambda: interface_list(host))
    if verb == "network ip interface ipv4 get":
        device = _vmk_option(opts, verb) if "-i" in opts else None
        return Query(lambda: ipv4_get(host, device))
    if verb == "network ip interface tag get":
        vmk = _vmk_option(opts, verb)
        return Query(lambda: tag_get(host, vmk))
    if verb == "network ip route ipv4 list":
        stack = _netstack_option(opts, verb)
        return Query(lambda: route_list(host, stack))
    return None


def parse(argv: list[str], snap: Snapshot, host_name: str) -> Union[Query, Change]:
    host = next((h for h in snap.hosts if h.name == host_name), None)
    if host is None:
        raise UsageError(f"no host {host_name!r}; hosts: {name_list(h.name for h in snap.hosts)}")
    words = argv[:]
    if words and words[0] == "esxcli":
        words = words[1:]
    verb, opts = _parse_words(words)
    query = _query(verb, opts, host)
    if query is not None:
        return query
    change = _change(verb, opts, snap, host)
    try:
        change.check_values()
    except ValueError as exc:
        raise UsageError(f"esxcli {verb}: {exc}") from None
    return change


def _vmk_or_fail(host: Host, device: str):
    for v in host.vmks:
        if v.device == device:
            return v
    raise UsageError(f"no {device} on {host.name}; it has {name_list(v.device for v in host.vmks)}")


def interface_list(host: Host) -> str:
    out = []
    pgs = {pg.name: vs.name for vs in host.vswitches for pg in vs.portgroups}
    for v in sorted(host.vmks, key=lambda v: v.number):
        vds = next((m.switch for m in host.dvswitches if v.portgroup not in pgs), "N/A")
        out += [
            v.device,
            f"   Name: {v.device}",
            f"   MAC Address: {v.mac or 'N/A'}",
            f"   Enabled: {'true' if v.enabled else 'false'}",
            f"   Portset: {pgs.get(v.portgroup, 'DvsPortset-0')}",
            f"   Portgroup: {v.portgroup if v.portgroup in pgs else 'N/A'}",
            f"   Netstack Instance: {v.netstack}",
            f"   VDS Name: {vds if v.portgroup not in pgs else 'N/A'}",
            f"   MTU: {v.mtu}",
            "",
        ]
    return terminal("\n".join(out))


def ipv4_get(host: Host, device: Optional[str]) -> str:
    rows: list[tuple[str, ...]] = [("Name", "IPv4 Address", "IPv4 Netmask", "Address Type", "Gateway")]
    vmks = [_vmk_or_fail(host, device)] if device else sorted(host.vmks, key=lambda v: v.number)
    for v in vmks:
        if v.ipv4:
            ip, plen = v.ipv4.split("/")
            rows.append((v.device, ip, netmask(int(plen)), "STATIC", v.gateway or "0.0.0.0"))
    return _columns(rows)


def tag_get(host: Host, device: str) -> str:
    v = _vmk_or_fail(host, device)
    return terminal(f"   Tags: {', '.join(esxcli_tag(s) for s in v.services)}\n")


def route_list(host: Host, stack: str) -> str:
    ns = next((n for n in host.netstacks if n.key == stack), None)
    if ns is None:
        raise UsageError(f"no netstack {stack} on {host.name}")
    rows: list[tuple[str, ...]] = [("Network", "Netmask", "Gateway", "Interface", "Source")]
    vmks = [v for v in sorted(host.vmks, key=lambda v: v.number) if v.netstack == stack and v.ipv4 and v.enabled]
    # The engine's connected routes resolve each gateway to its vmk (longest prefix, then first vmk).
    connected, _ = build_table([L3Iface("", v.device, *parse_cidr(v.ipv4 or ""), None) for v in vmks], [])

    def vmk_for(gw: str) -> str:
        entry = lookup(connected, ip_int(gw))
        return entry.iface if entry else "None"

    if ns.gateway:
        rows.append(("default", "0.0.0.0", ns.gateway, vmk_for(ns.gateway), "MANUAL"))
    for r in (r for r in ns.routes if ":" not in r.network):  # `route ipv4 list` shows IPv4 only
        _, plen, net = parse_cidr(r.network)
        rows.append((ip_str(net), netmask(plen), r.gateway, vmk_for(r.gateway), "MANUAL"))
    for v in vmks:
        _, plen, net = parse_cidr(v.ipv4 or "")
        rows.append((ip_str(net), netmask(plen), "0.0.0.0", v.device, "MANUAL"))
    return _columns(rows)


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows[:1]]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows[1:]]
    return terminal("\n".join(lines) + "\n")
