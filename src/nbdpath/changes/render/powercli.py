"""PowerCLI through Get-EsxCli -V2 (argument names as esxcli's long options); single-quoted literals."""

from __future__ import annotations

from typing import Optional, Sequence

from ...model import DEFAULT_STACK, Snapshot
from ...safetext import ps
from ..kinds import Change, RouteAdd, RouteRemove, TagAdd, TagRemove, VmkRemove
from ._script import commented_script
from .esxcli import esxcli_tag

NAME = "powercli"
ORDER = 20
TITLE = "PowerCLI (Get-EsxCli -V2), run after Connect-VIServer"


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
    raise TypeError(change)


def script(steps: Sequence, snap: Snapshot) -> str:
    return commented_script(["# nbdpath plan (PowerCLI). Connect first: Connect-VIServer <vcenter>",
                             "$ErrorActionPreference = 'Stop'"], steps, command)
