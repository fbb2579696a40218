"""esxcli, run in the ESXi shell of each host. Values are sh-quoted words."""

from __future__ import annotations

import ipaddress
from typing import Optional, Sequence

from ...model import DEFAULT_STACK, Snapshot
from ...model.snapshot import normalise_service, normalise_stack, v4_address_and_prefix
from ...safetext import sh, sh_quoted
from ..kinds import (NO_IPV4, Change, Ipv4Set, PortgroupVlanSet, RouteAdd, RouteRemove, TagAdd, TagRemove, VmkAdd,
                     VmkMtuSet, VmkRemove)
from ._script import commented_script

NAME = "esxcli"
ORDER = 10
TITLE = "esxcli commands, run in each host's ESXi shell"

# esxcli tag names (what `tag add -t` takes) per vCenter service name.
_ESXCLI_TAG = {"management": "Management", "vmotion": "VMotion", "faultToleranceLogging": "faultToleranceLogging"}


def esxcli_tag(service: str) -> str:
    return _ESXCLI_TAG.get(service, service)


_NETMASKS = tuple(str(ipaddress.IPv4Network(f"0.0.0.0/{n}").netmask) for n in range(33))


def netmask(prefixlen: int) -> str:
    return _NETMASKS[prefixlen]


def address_and_netmask(cidr: str) -> tuple[str, str]:
    """``"10.0.0.11/24"`` -> ``("10.0.0.11", "255.255.255.0")``: a vmk's address as esxcli,
    PowerCLI and Ansible take it."""
    ip, prefixlen = v4_address_and_prefix(cidr)
    return ip, _NETMASKS[prefixlen]


def _ipv4_set(vmk: str, cidr: Optional[str]) -> str:
    if cidr in (None, NO_IPV4):
        return f"esxcli network ip interface ipv4 set -i {sh(vmk)} -t none"
    ip, mask = address_and_netmask(cidr)
    return f"esxcli network ip interface ipv4 set -i {sh(vmk)} -I {sh(ip)} -N {sh(mask)} -t static"


def _interface_add(change: VmkAdd) -> str:
    """-p names a standard port group only; on a distributed switch esxcli takes the switch and a
    free port of that port group, which only the admin can pick (a placeholder esxcli refuses)."""
    if change.switch is None:
        where = f"-p {sh_quoted(change.portgroup)}"
    else:
        where = f"--dvs-name {sh_quoted(change.switch)} --dvport-id {sh(f'<a free port of {change.portgroup}>')}"
    stack = "" if normalise_stack(change.netstack) == DEFAULT_STACK else f" -N {sh(change.netstack)}"
    return f"esxcli network ip interface add -i {sh(change.vmk)} {where} -m {change.mtu}{stack}"


def _tag(verb: str, vmk: str, tag: str) -> str:
    return f"esxcli network ip interface tag {verb} -i {sh(vmk)} -t {sh(esxcli_tag(tag))}"


def parts(change: Change) -> list[str]:
    """The esxcli commands that make ``change``, in order (a vmk-add is several)."""
    if isinstance(change, (TagAdd, TagRemove)):
        return [_tag("add" if isinstance(change, TagAdd) else "remove", change.vmk, change.tag)]
    if isinstance(change, (RouteAdd, RouteRemove)):
        verb = "add" if isinstance(change, RouteAdd) else "remove"
        stack = "" if change.netstack == DEFAULT_STACK else f" -N {sh(change.netstack)}"
        return [f"esxcli network ip route ipv4 {verb} -n {sh(change.network)} -g {sh(change.gateway)}{stack}"]
    if isinstance(change, VmkRemove):
        return [f"esxcli network ip interface remove -i {sh(change.vmk)}"]
    if isinstance(change, VmkAdd):
        out = [_interface_add(change)]
        if change.ipv4:
            out.append(_ipv4_set(change.vmk, change.ipv4))
        return out + [_tag("add", change.vmk, normalise_service(t)) for t in change.services]
    if isinstance(change, Ipv4Set):
        return [_ipv4_set(change.vmk, change.ipv4)]
    if isinstance(change, VmkMtuSet):
        return [f"esxcli network ip interface set -i {sh(change.vmk)} -m {change.mtu}"]
    if isinstance(change, PortgroupVlanSet):
        return [f"esxcli network vswitch standard portgroup set -p {sh_quoted(change.portgroup)} -v {change.vlan}"]
    raise TypeError(change)


def command(change: Change, snap: Optional[Snapshot] = None) -> str:
    # One line: a plan script's comment and command pair stays one line each; && stops at the first refusal.
    return " && ".join(parts(change))


def _guard(host: str, hosts: dict) -> str:
    """True on the host the section was made for: its name (short or full) or one of its vmk addresses.

    A section run on the wrong host would tag or route the wrong adapters. ``hosts``: by name, built
    once per script (a scan per section was 39 s of a 10,000-host plan)."""
    h = hosts.get(host)
    ips = sorted({v.ipv4.split("/")[0] for v in (h.vmks if h else ()) if v.ipv4})
    ip_test = "".join(f" || has_ip {sh(ip)}" for ip in ips)
    return f"if is_host {sh(host)}{ip_test}; then"


def script(steps: Sequence, snap: Snapshot) -> str:
    head = ["#!/bin/sh",
           "# nbdpath plan: copy to each host and run it there (ESXi shell); only that host's section runs.",
           "set -e",
           # The same name, or a short name against its own full one (esx01 ~ esx01.corp); never two full names
           # that only share a first label (esx01.site-a is not esx01.site-b).
           'is_host() { h=$(hostname 2>/dev/null || true); [ "$h" = "$1" ] || { [ "${h#*.}" = "$h" ] && [ -n "$h" ] '
           '&& [ "$h" = "${1%%.*}" ]; } || { [ "${1#*.}" = "$1" ] && [ -n "$1" ] && [ "${h%%.*}" = "$1" ]; }; }',
           "has_ip() { esxcli network ip interface ipv4 get 2>/dev/null | grep -Fqw -- \"$1\"; }",
           "ran="]
    tail = ["", 'if [ -z "$ran" ]; then echo "nbdpath plan: $(hostname) is no host of this plan; nothing changed" >&2; exit 1; fi']
    hosts = {h.name: h for h in reversed(snap.hosts)}  # the first of a name, as the scan found it
    return commented_script(head, steps, command, tail, opening=lambda host: (_guard(host, hosts), "ran=1"),
                            closing=("fi",))
