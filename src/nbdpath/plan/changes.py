"""Host changes as data: applied to a snapshot copy (what-if) and rendered
as the commands an admin runs (esxcli, PowerCLI Get-EsxCli -V2, govc).

Every change knows its inverse, so a plan can always be rolled back.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable, Union

from ..errors import UsageError
from ..model import DEFAULT_STACK, Host, Netstack, Route, Snapshot, Vmk
from ..model.snapshot import normalise_service
from ..safetext import ps, sh, sh_quoted

# esxcli tag names (what `tag add -t` takes) per vCenter service name.
_ESXCLI_TAG = {"management": "Management", "vmotion": "VMotion", "faultToleranceLogging": "faultToleranceLogging"}


def esxcli_tag(service: str) -> str:
    return _ESXCLI_TAG.get(service, service)


@dataclass(frozen=True)
class _HostChange:
    host: str

    def with_host(self, host: str):
        """The same change on another host (used to share findings across a cluster)."""
        return type(self)(host, *(getattr(self, f) for f in self.__dataclass_fields__ if f != "host"))

    def describe(self) -> str:  # pragma: no cover - every subclass says its own
        raise NotImplementedError

    def to_dict(self) -> dict:
        """Machine-readable form, e.g. {"op": "route-add", "host": ..., "network": ..., "gateway": ...}."""
        return {"op": _OPS_BY_CLASS[type(self).__name__], **{f: getattr(self, f) for f in self.__dataclass_fields__}}


@dataclass(frozen=True)
class TagAdd(_HostChange):
    vmk: str
    tag: str = "vSphereBackupNFC"

    def describe(self) -> str:
        return f"tag {self.vmk} with {self.tag} on {self.host}"


@dataclass(frozen=True)
class TagRemove(_HostChange):
    vmk: str
    tag: str = "vSphereBackupNFC"

    def describe(self) -> str:
        return f"remove {self.tag} from {self.vmk} on {self.host}"


@dataclass(frozen=True)
class RouteAdd(_HostChange):
    network: str
    gateway: str
    netstack: str = DEFAULT_STACK

    def describe(self) -> str:
        return f"add route {self.network} via {self.gateway} ({self.netstack}) on {self.host}"


@dataclass(frozen=True)
class RouteRemove(_HostChange):
    network: str
    gateway: str
    netstack: str = DEFAULT_STACK

    def describe(self) -> str:
        return f"remove route {self.network} via {self.gateway} ({self.netstack}) on {self.host}"


@dataclass(frozen=True)
class VmkRemove(_HostChange):
    vmk: str

    def describe(self) -> str:
        return f"remove {self.vmk} from {self.host}"


Change = Union[TagAdd, TagRemove, RouteAdd, RouteRemove, VmkRemove]

_OPS = {"tag-add": TagAdd, "tag-remove": TagRemove, "route-add": RouteAdd, "route-remove": RouteRemove,
        "vmk-remove": VmkRemove}
_OPS_BY_CLASS = {cls.__name__: op for op, cls in _OPS.items()}


def from_dict(data: dict) -> Change:
    """Inverse of ``to_dict``; raises ValueError naming what is wrong."""
    op = data.get("op")
    cls = _OPS.get(op)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown op {op!r}; expected one of {', '.join(_OPS)}")
    fields = {k: v for k, v in data.items() if k != "op"}
    try:
        return cls(**fields)  # type: ignore[return-value]
    except TypeError as exc:
        raise ValueError(f"bad fields for {op}: {exc}") from None


def inverse(change: Change, snap: Snapshot) -> list[Change]:
    """The changes that undo ``change`` on ``snap`` (the state before it)."""
    if isinstance(change, TagAdd):
        _, host = _host(snap, change.host)
        _, vmk = _vmk(host, change.vmk)
        if normalise_service(change.tag) in vmk.services:
            return []  # already tagged: the add changes nothing, so rollback does nothing
        return [TagRemove(change.host, change.vmk, change.tag)]
    if isinstance(change, TagRemove):
        return [TagAdd(change.host, change.vmk, change.tag)]
    if isinstance(change, RouteAdd):
        return [RouteRemove(change.host, change.network, change.gateway, change.netstack)]
    if isinstance(change, RouteRemove):
        return [RouteAdd(change.host, change.network, change.gateway, change.netstack)]
    raise UsageError(f"{change.describe()} cannot be undone by nbdpath; recreate the vmk by hand")


def name_list(names: Iterable[str], limit: int = 10) -> str:
    """The first few names for an error line: a fleet has 10,000 hosts."""
    names = list(names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return (", ".join(names[:limit]) or "none") + more


def _host(snap: Snapshot, name: str) -> tuple[int, Host]:
    for i, h in enumerate(snap.hosts):
        if h.name == name:
            return i, h
    raise UsageError(f"no host {name!r} in snapshot; hosts: {name_list(h.name for h in snap.hosts)}")


def _vmk(host: Host, device: str) -> tuple[int, Vmk]:
    for i, v in enumerate(host.vmks):
        if v.device == device:
            return i, v
    raise UsageError(f"no {device} on {host.name}; it has {name_list(v.device for v in host.vmks)}")


def _replace(snap: Snapshot, index: int, host: Host) -> Snapshot:
    hosts = list(snap.hosts)
    hosts[index] = host
    return snap.model_copy(update={"hosts": tuple(hosts)})


def apply(snap: Snapshot, change: Change) -> Snapshot:
    """A new snapshot with ``change`` made. Raises UsageError where esxcli would refuse."""
    hi, host = _host(snap, change.host)
    if isinstance(change, (TagAdd, TagRemove)):
        vi, vmk = _vmk(host, change.vmk)
        tag = normalise_service(change.tag)
        services = list(vmk.services)
        if isinstance(change, TagAdd):
            if tag not in services:
                services.append(tag)
        else:
            if tag not in services:
                raise UsageError(f"{change.vmk} on {host.name} does not carry {change.tag}")
            services.remove(tag)
        vmks = list(host.vmks)
        vmks[vi] = vmk.model_copy(update={"services": tuple(services)})
        return _replace(snap, hi, host.model_copy(update={"vmks": tuple(vmks)}))
    if isinstance(change, (RouteAdd, RouteRemove)):
        route = Route(network=change.network, gateway=change.gateway)
        stacks = list(host.netstacks)
        si = next((i for i, s in enumerate(stacks) if s.key == change.netstack), None)
        if si is None:
            if isinstance(change, RouteRemove):
                raise UsageError(f"no netstack {change.netstack} on {host.name}")
            stacks.append(Netstack(key=change.netstack))
            si = len(stacks) - 1
        stack = stacks[si]
        routes = list(stack.routes)
        if isinstance(change, RouteAdd):
            if route.network == "0.0.0.0/0":
                stacks[si] = stack.model_copy(update={"gateway": route.gateway})
            elif route in routes:
                raise UsageError(f"{host.name} already has route {route.network} via {route.gateway}")
            else:
                routes.append(route)
        else:
            if route.network == "0.0.0.0/0" and stack.gateway == route.gateway:
                stacks[si] = stack.model_copy(update={"gateway": None})
            elif route in routes:
                routes.remove(route)
            else:
                raise UsageError(f"{host.name} has no route {route.network} via {route.gateway} on {change.netstack}")
        stacks[si] = stacks[si].model_copy(update={"routes": tuple(routes)})
        return _replace(snap, hi, host.model_copy(update={"netstacks": tuple(stacks)}))
    if isinstance(change, VmkRemove):
        vi, _ = _vmk(host, change.vmk)
        vmks = [v for i, v in enumerate(host.vmks) if i != vi]
        return _replace(snap, hi, host.model_copy(update={"vmks": tuple(vmks)}))
    raise TypeError(f"unknown change {change!r}")


def apply_all(snap: Snapshot, changes: list[Change]) -> Snapshot:
    for c in changes:
        snap = apply(snap, c)
    return snap


# ---- rendering -------------------------------------------------------------
# Every value is quoted for the language it lands in (sh: one word each;
# PowerShell: single-quoted literals), so a name cannot become code.

def esxcli(change: Change) -> str:
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


def powercli(change: Change) -> str:
    """The same change through PowerCLI's Get-EsxCli -V2 (argument names as esxcli's long options)."""
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


def govc(change: Change) -> str:
    host = sh_quoted(change.host)
    if isinstance(change, (TagAdd, TagRemove)):
        sign = "" if isinstance(change, TagAdd) else " -enable=false"
        return f"govc host.vnic.service -host {host}{sign} {sh(change.tag)} {sh(change.vmk)}"
    return f"govc host.esxcli -host {host} -- {esxcli(change)[len('esxcli '):]}"


def netmask(prefixlen: int) -> str:
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefixlen}").netmask)
