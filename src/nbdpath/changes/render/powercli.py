"""PowerCLI through Get-EsxCli -V2 (argument names as esxcli's long options); single-quoted literals."""

from __future__ import annotations

from typing import Optional, Sequence

from ...model import DEFAULT_STACK, Snapshot
from ...model.snapshot import normalise_service, normalise_stack
from ...safetext import ps
from ..kinds import (NO_IPV4, Change, Ipv4Set, PortgroupVlanSet, RouteAdd, RouteRemove, TagAdd, TagRemove, VmkAdd,
                     VmkMtuSet, VmkRemove)
from ._script import commented_script
from .esxcli import address_and_netmask, esxcli_tag

NAME = "powercli"
ORDER = 20
TITLE = "PowerCLI (Get-EsxCli -V2), run after Connect-VIServer"


def _call(pre: str, method: str, args: str) -> str:
    return f"{pre}.{method}.Invoke(@{{{args}}})"


def _ipv4_set(pre: str, vmk: str, cidr: Optional[str]) -> str:
    if cidr in (None, NO_IPV4):
        return _call(pre, "network.ip.interface.ipv4.set", f"interfacename={ps(vmk)}; type='none'")
    ip, mask = address_and_netmask(cidr)
    return _call(pre, "network.ip.interface.ipv4.set", f"interfacename={ps(vmk)}; ipv4={ps(ip)}; "
                 f"netmask={ps(mask)}; type='static'")


def _vmk_add(pre: str, change: VmkAdd) -> list[str]:
    if change.switch is None:
        where = f"portgroupname={ps(change.portgroup)}"
    else:  # the port is the admin's to pick: a placeholder esxcli refuses
        where = f"dvsname={ps(change.switch)}; dvportid={ps(f'<a free port of {change.portgroup}>')}"
    stack = "" if normalise_stack(change.netstack) == DEFAULT_STACK else f"; netstack={ps(change.netstack)}"
    out = [_call(pre, "network.ip.interface.add", f"interfacename={ps(change.vmk)}; {where}; mtu={change.mtu}{stack}")]
    if change.ipv4:
        out.append(_ipv4_set(pre, change.vmk, change.ipv4))
    return out + [_call(pre, "network.ip.interface.tag.add", f"interfacename={ps(change.vmk)}; "
                        f"tagname={ps(esxcli_tag(normalise_service(t)))}") for t in change.services]


def command(change: Change, snap: Optional[Snapshot] = None) -> str:
    pre = f"(Get-EsxCli -VMHost {ps(change.host)} -V2)"
    if isinstance(change, (TagAdd, TagRemove)):
        verb = "add" if isinstance(change, TagAdd) else "remove"
        args = f"interfacename={ps(change.vmk)}; tagname={ps(esxcli_tag(change.tag))}"
        return f"{pre}.network.ip.interface.tag.{verb}.Invoke(@{{{args}}})"
    if isinstance(change, (RouteAdd, RouteRemove)):
        verb = "add" if isinstance(change, RouteAdd) else "remove"
        stack = "" if change.netstack == DEFAULT_STACK else f"; netstack={ps(change.netstack)}"
        args = f"network={ps(change.network)}; gateway={ps(change.gateway)}{stack}"
        return f"{pre}.network.ip.route.ipv4.{verb}.Invoke(@{{{args}}})"
    if isinstance(change, VmkRemove):
        return f"{pre}.network.ip.interface.remove.Invoke(@{{interfacename={ps(change.vmk)}}})"
    if isinstance(change, VmkAdd):
        # One line, statements in order: $ErrorActionPreference = 'Stop' ends the script at the first refusal.
        return "; ".join(_vmk_add(pre, change))
    if isinstance(change, Ipv4Set):
        return _ipv4_set(pre, change.vmk, change.ipv4)
    if isinstance(change, VmkMtuSet):
        return _call(pre, "network.ip.interface.set", f"interfacename={ps(change.vmk)}; mtu={change.mtu}")
    if isinstance(change, PortgroupVlanSet):
        return _call(pre, "network.vswitch.standard.portgroup.set", f"portgroupname={ps(change.portgroup)}; vlanid={change.vlan}")
    raise TypeError(change)


def script(steps: Sequence, snap: Snapshot) -> str:
    return commented_script(["# nbdpath plan (PowerCLI). Connect first: Connect-VIServer <vcenter>",
                             "$ErrorActionPreference = 'Stop'"], steps, command)
