"""esxcli, run in the ESXi shell of each host. Values are sh-quoted words."""

from __future__ import annotations

from typing import Optional, Sequence

from ...model import DEFAULT_STACK, Snapshot
from ...safetext import sh
from ..kinds import Change, RouteAdd, RouteRemove, TagAdd, TagRemove, VmkRemove
from ._script import commented_script

NAME = "esxcli"
ORDER = 10
TITLE = "esxcli commands, run in each host's ESXi shell"

# esxcli tag names (what `tag add -t` takes) per vCenter service name.
_ESXCLI_TAG = {"management": "Management", "vmotion": "VMotion", "faultToleranceLogging": "faultToleranceLogging"}


def esxcli_tag(service: str) -> str:
    return _ESXCLI_TAG.get(service, service)


def command(change: Change, snap: Optional[Snapshot] = None) -> str:
    if isinstance(change, (TagAdd, TagRemove)):
        verb = "add" if isinstance(change, TagAdd) else "remove"
        return f"esxcli network ip interface tag {verb} -i {sh(change.vmk)} -t {sh(esxcli_tag(change.tag))}"
    if isinstance(change, (RouteAdd, RouteRemove)):
        verb = "add" if isinstance(change, RouteAdd) else "remove"
        stack = "" if change.netstack == DEFAULT_STACK else f" -N {sh(change.netstack)}"
        return f"esxcli network ip route ipv4 {verb} -n {sh(change.network)} -g {sh(change.gateway)}{stack}"
    if isinstance(change, VmkRemove):
        return f"esxcli network ip interface remove -i {sh(change.vmk)}"
    raise TypeError(change)


def _guard(host: str, snap: Snapshot) -> str:
    """True on the host the section was made for: its name (short or full) or one of its vmk addresses.

    A section run on the wrong host would tag or route the wrong adapters."""
    h = next((x for x in snap.hosts if x.name == host), None)
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
    return commented_script(head, steps, command, tail, opening=lambda host: (_guard(host, snap), "ran=1"),
                            closing=("fi",))
