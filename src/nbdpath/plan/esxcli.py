"""esxcli-shaped verbs over a snapshot, so field-report commands work as written.

Read verbs print what esxcli would; write verbs return a Change for
:func:`nbdpath.plan.changes.apply`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Callable, Optional, Union

from ..engine.addr import ip_int, ip_str, parse_cidr
from ..engine.routing import L3Iface, build_table, lookup
from ..errors import UsageError
from ..model import DEFAULT_STACK, Host, Snapshot
from ..model.snapshot import normalise_service, normalise_stack
from ..safetext import is_safe_name, terminal
from .changes import Change, RouteAdd, RouteRemove, TagAdd, TagRemove, VmkRemove, esxcli_tag, name_list, netmask

VERBS = {
    "network ip interface list": "list vmks",
    "network ip interface ipv4 get": "IPv4 settings of vmks",
    "network ip interface tag get": "tags of a vmk (-i)",
    "network ip interface tag add": "add a tag (-i, -t)",
    "network ip interface tag remove": "remove a tag (-i, -t)",
    "network ip interface remove": "remove a vmk (-i)",
    "network ip route ipv4 list": "routes of a netstack (-N)",
    "network ip route ipv4 add": "add a route (-n, -g, -N)",
    "network ip route ipv4 remove": "remove a route (-n, -g, -N)",
}

_LONG = {
    "--interface-name": "-i", "--tagname": "-t", "--network": "-n", "--gateway": "-g", "--netstack": "-N",
}


@dataclass(frozen=True)
class Query:
    render: Callable[[], str]


def _options(args: list[str], allowed: str, verb: str) -> dict[str, str]:
    opts: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if "=" in a and a.startswith("--"):
            a, value = a.split("=", 1)
            args = args[: i + 1] + [value] + args[i + 1 :]
        key = _LONG.get(a, a)
        if key not in allowed.split():
            raise UsageError(f"esxcli {verb}: unexpected argument {args[i]!r}; expected options {allowed}")
        if i + 1 >= len(args):
            raise UsageError(f"esxcli {verb}: option {a} needs a value")
        opts[key] = args[i + 1]
        i += 2
    return opts


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


def parse(argv: list[str], snap: Snapshot, host_name: str) -> Union[Query, Change]:
    host = next((h for h in snap.hosts if h.name == host_name), None)
    if host is None:
        raise UsageError(f"no host {host_name!r}; hosts: {name_list(h.name for h in snap.hosts)}")
    words = argv[:]
    if words and words[0] == "esxcli":
        words = words[1:]
    verb = None
    for n in (5, 4):
        candidate = " ".join(words[:n])
        if candidate in VERBS:
            verb, rest = candidate, words[n:]
            break
    if verb is None:
        raise UsageError(
            f"unsupported esxcli command {' '.join(words)!r}; supported: " + "; ".join(VERBS)
        )
    if verb == "network ip interface list":
        _options(rest, "", verb)
        return Query(lambda: interface_list(host))
    if verb == "network ip interface ipv4 get":
        opts = _options(rest, "-i", verb)
        device = _vmk_option(opts, verb) if "-i" in opts else None
        return Query(lambda: ipv4_get(host, device))
    if verb == "network ip interface tag get":
        opts = _options(rest, "-i", verb)
        device = _vmk_option(opts, verb)
        return Query(lambda: tag_get(host, device))
    if verb == "network ip route ipv4 list":
        opts = _options(rest, "-N", verb)
        stack = _netstack_option(opts, verb)
        return Query(lambda: route_list(host, stack))
    if verb in ("network ip interface tag add", "network ip interface tag remove"):
        opts = _options(rest, "-i -t", verb)
        tag = _tag_option(opts, verb)
        cls = TagAdd if verb.endswith("add") else TagRemove
        return cls(host.name, _vmk_option(opts, verb), tag)
    if verb == "network ip interface remove":
        opts = _options(rest, "-i", verb)
        return VmkRemove(host.name, _vmk_option(opts, verb))
    opts = _options(rest, "-n -g -N", verb)
    cls2 = RouteAdd if verb.endswith("add") else RouteRemove
    return cls2(host.name, _network_option(opts, verb), _gateway_option(opts, verb), _netstack_option(opts, verb))


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
