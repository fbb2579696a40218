"""Host changes as data: each kind knows its fields, its inverse, its precondition
on a host's state and its edit of a snapshot copy, once.

Rules propose them, plans order them, the what-if applies them to a copy, apply
assesses them against the live state and performs them through the vSphere seam;
renderers (:mod:`nbdpath.changes.render`) turn them into commands. No consumer
dispatches on the kind: what differs between kinds lives here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import MISSING, dataclass, fields
from enum import Enum
from typing import ClassVar, Optional, Protocol, Union

from ..errors import UsageError
from ..model import BACKUP_NFC, DEFAULT_STACK, Host, Netstack, Route, Snapshot
from ..model.snapshot import normalise_service, normalise_stack

# \d would take other scripts' digits too (vmk², vmk٣): esxcli's names are ASCII.
_VMK = re.compile(r"vmk[0-9]{1,5}")


class Status(str, Enum):
    PENDING = "pending"
    DONE = "already done"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Assessment:
    status: Status
    reason: str  # why, in the domain's words (what the host's state shows)


class HostNetworkApi(Protocol):
    """What a change needs of one live host (implemented on pyVmomi by apply.live)."""

    def select_vnic(self, nic_type: str, device: str) -> None: ...
    def deselect_vnic(self, nic_type: str, device: str) -> None: ...
    def route(self, add: bool, network: str, gateway: str, netstack: str) -> None: ...
    def remove_vnic(self, device: str) -> None: ...


@dataclass(frozen=True)
class _HostChange:
    host: str

    OP: ClassVar[str] = ""
    # False: nbdpath cannot undo it (a removed vmk's addresses and tags are gone with it).
    reversible: ClassVar[bool] = True
    # True: making it when the host already matches is a no-op, not a refusal (esxcli's own behaviour).
    idempotent: ClassVar[bool] = False

    @property
    def target_vmk(self) -> Optional[str]:
        """The vmk the change acts on, if it acts on one."""
        return getattr(self, "vmk", None)

    def with_host(self, host: str):
        """The same change on another host (used to share findings across a cluster)."""
        return type(self)(host, *(getattr(self, f.name) for f in fields(self) if f.name != "host"))

    def to_dict(self) -> dict:
        """Machine-readable form, e.g. {"op": "route-add", "host": ..., "network": ..., "gateway": ...}."""
        return {"op": self.OP, **{f.name: getattr(self, f.name) for f in fields(self)}}

    @classmethod
    def field_names(cls) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(required, optional) fields of the serialised op, beyond "op" and "host"."""
        fs = [f for f in fields(cls) if f.name != "host"]
        required = tuple(f.name for f in fs if f.default is MISSING)
        return required, tuple(f.name for f in fs if f.default is not MISSING)

    def opposite(self) -> tuple["Change", ...]:
        """What undoes this change once made, from the op alone (no state): the opposite op
        on the same object; () when nbdpath cannot undo it."""
        other = _OPPOSITES.get(type(self))
        return (other(**{f.name: getattr(self, f.name) for f in fields(self)}),) if other else ()

    def check_values(self) -> None:
        """Raise ValueError for a value no host would take (checked before any connection)."""
        if self.target_vmk is not None and not _VMK.fullmatch(self.target_vmk):
            raise ValueError(f"vmk: expected a VMkernel adapter name like vmk2 (found {self.target_vmk!r})")

    def describe(self) -> str:  # pragma: no cover - every kind says its own
        raise NotImplementedError

    def inverse(self, snap: Snapshot) -> list["Change"]:
        raise UsageError(f"{self.describe()} cannot be undone by nbdpath; recreate the vmk by hand")

    def assess(self, host: Host, restoring: bool = False) -> Assessment:  # pragma: no cover
        raise NotImplementedError

    def edit(self, host: Host) -> Host:  # pragma: no cover
        raise NotImplementedError

    def perform(self, api: HostNetworkApi) -> None:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class _TagChange(_HostChange):
    vmk: str
    tag: str = BACKUP_NFC

    def check_values(self) -> None:
        super().check_values()
        normalise_service(self.tag)  # raises ValueError for an unknown service tag

    def _state(self, host: Host) -> tuple[Optional[object], bool, str]:
        vmk = next((v for v in host.vmks if v.device == self.vmk), None)
        tag = normalise_service(self.tag)
        return vmk, bool(vmk and tag in vmk.services), tag

    def edit(self, host: Host) -> Host:
        tag = normalise_service(self.tag)
        vmks = []
        for v in host.vmks:
            if v.device == self.vmk:
                services = [s for s in v.services if s != tag] + ([tag] if isinstance(self, TagAdd) else [])
                v = v.model_copy(update={"services": tuple(services)})
            vmks.append(v)
        return host.model_copy(update={"vmks": tuple(vmks)})

    def perform(self, api: HostNetworkApi) -> None:
        tag = normalise_service(self.tag)
        if isinstance(self, TagAdd):
            api.select_vnic(tag, self.vmk)
        else:
            api.deselect_vnic(tag, self.vmk)


def _missing_vmk(host: Host, device: str) -> Assessment:
    have = ", ".join(v.device for v in host.vmks) or "none"
    return Assessment(Status.BLOCKED, f"{device} not found on {host.name} (it has {have})")


@dataclass(frozen=True)
class TagAdd(_TagChange):
    OP: ClassVar[str] = "tag-add"
    idempotent: ClassVar[bool] = True

    def describe(self) -> str:
        return f"tag {self.vmk} with {self.tag} on {self.host}"

    def inverse(self, snap: Snapshot) -> list["Change"]:
        vmk, tagged, _ = self._state(_host(snap, self.host)[1])
        if vmk is None:
            _vmk_or_raise(_host(snap, self.host)[1], self.vmk)
        return [] if tagged else [TagRemove(self.host, self.vmk, self.tag)]

    def assess(self, host: Host, restoring: bool = False) -> Assessment:
        vmk, tagged, tag = self._state(host)
        if vmk is None:
            return _missing_vmk(host, self.vmk)
        if tagged:
            return Assessment(Status.DONE, f"{self.vmk} already carries {tag}")
        if tag == BACKUP_NFC and not restoring:
            # The tag exists from 7.0 and is honoured on the default stack only (domain notes, section 2).
            if not host.has_backup_tag:
                return Assessment(Status.BLOCKED, f"{host.name} runs ESXi {host.version}; {tag} needs 7.0 or later")
            if vmk.netstack != DEFAULT_STACK:  # type: ignore[attr-defined]
                return Assessment(Status.BLOCKED, f"{self.vmk} is on the {vmk.netstack} stack; "  # type: ignore[attr-defined]
                                                  f"{tag} is honoured on {DEFAULT_STACK} only")
        return Assessment(Status.PENDING, f"{self.vmk} does not carry {tag} yet")


@dataclass(frozen=True)
class TagRemove(_TagChange):
    OP: ClassVar[str] = "tag-remove"

    def describe(self) -> str:
        return f"remove {self.tag} from {self.vmk} on {self.host}"

    def inverse(self, snap: Snapshot) -> list["Change"]:
        return [TagAdd(self.host, self.vmk, self.tag)]

    def assess(self, host: Host, restoring: bool = False) -> Assessment:
        vmk, tagged, tag = self._state(host)
        if vmk is None:
            return _missing_vmk(host, self.vmk)
        if not tagged:
            return Assessment(Status.DONE, f"{self.vmk} does not carry {tag}")
        return Assessment(Status.PENDING, f"{self.vmk} carries {tag}")


@dataclass(frozen=True)
class _RouteChange(_HostChange):
    network: str
    gateway: str
    netstack: str = DEFAULT_STACK

    def check_values(self) -> None:
        from pydantic import ValidationError

        try:
            Route(network=self.network, gateway=self.gateway)
        except ValidationError as exc:  # keep pydantic's first message: it names the bad value
            raise ValueError(f"route {self.network} via {self.gateway}: {exc.errors()[0]['msg']}") from None
        normalise_stack(self.netstack)

    @property
    def _net(self) -> str:
        return str(ipaddress.ip_network(self.network, strict=False))

    def _stack(self, host: Host) -> Optional[Netstack]:
        key = normalise_stack(self.netstack)
        return next((s for s in host.netstacks if s.key == key), None)

    def perform(self, api: HostNetworkApi) -> None:
        api.route(isinstance(self, RouteAdd), self._net, self.gateway, normalise_stack(self.netstack))

    def edit(self, host: Host) -> Host:
        stacks = list(host.netstacks)
        key = normalise_stack(self.netstack)
        si = next(i for i, s in enumerate(stacks) if s.key == key)
        stack = stacks[si]
        route = Route(network=self.network, gateway=self.gateway)
        add = isinstance(self, RouteAdd)
        if route.network == "0.0.0.0/0":
            stacks[si] = stack.model_copy(update={"gateway": self.gateway if add else None})
        else:
            routes = [r for r in stack.routes if r != route] + ([route] if add else [])
            stacks[si] = stack.model_copy(update={"routes": tuple(routes)})
        return host.model_copy(update={"netstacks": tuple(stacks)})


@dataclass(frozen=True)
class RouteAdd(_RouteChange):
    OP: ClassVar[str] = "route-add"

    def describe(self) -> str:
        return f"add route {self.network} via {self.gateway} ({self.netstack}) on {self.host}"

    def inverse(self, snap: Snapshot) -> list["Change"]:
        return [RouteRemove(self.host, self.network, self.gateway, self.netstack)]

    def assess(self, host: Host, restoring: bool = False) -> Assessment:
        stack = self._stack(host)
        key = normalise_stack(self.netstack)
        if stack is None:
            return Assessment(Status.BLOCKED, f"{host.name} has no {key} netstack")
        network = self._net
        if network == "0.0.0.0/0":
            if stack.gateway == self.gateway:
                return Assessment(Status.DONE, f"default gateway is already {stack.gateway}")
            if stack.gateway:
                return Assessment(Status.BLOCKED, f"default gateway on {key} is {stack.gateway}; "
                                                  f"the plan would replace it with {self.gateway}")
        else:
            same_net = [r for r in stack.routes if r.network == network]
            if any(r.gateway == self.gateway for r in same_net):
                return Assessment(Status.DONE, f"route {network} via {self.gateway} already on {key}")
            if same_net:
                return Assessment(Status.BLOCKED, f"{key} already routes {network} via {same_net[0].gateway}; "
                                                  "remove that route first")
        if not host.gateway_on_link(key, self.gateway):
            return Assessment(Status.BLOCKED, f"gateway {self.gateway} is on no subnet of an enabled {key} vmk")
        return Assessment(Status.PENDING, f"no route for {network} on {key}" if network != "0.0.0.0/0"
                          else f"no default gateway on {key}")


@dataclass(frozen=True)
class RouteRemove(_RouteChange):
    OP: ClassVar[str] = "route-remove"

    def describe(self) -> str:
        return f"remove route {self.network} via {self.gateway} ({self.netstack}) on {self.host}"

    def inverse(self, snap: Snapshot) -> list["Change"]:
        return [RouteAdd(self.host, self.network, self.gateway, self.netstack)]

    def assess(self, host: Host, restoring: bool = False) -> Assessment:
        stack = self._stack(host)
        key = normalise_stack(self.netstack)
        if stack is None:
            return Assessment(Status.BLOCKED, f"{host.name} has no {key} netstack")
        network = self._net
        if network == "0.0.0.0/0":
            if stack.gateway != self.gateway:
                return Assessment(Status.DONE, f"default gateway on {key} is {stack.gateway or 'unset'}, not {self.gateway}")
            return Assessment(Status.PENDING, f"default gateway on {key} is {stack.gateway}")
        if not any(r.network == network and r.gateway == self.gateway for r in stack.routes):
            return Assessment(Status.DONE, f"no route {network} via {self.gateway} on {key}")
        return Assessment(Status.PENDING, f"route {network} via {self.gateway} is on {key}")


@dataclass(frozen=True)
class VmkRemove(_HostChange):
    vmk: str

    OP: ClassVar[str] = "vmk-remove"
    reversible: ClassVar[bool] = False

    def describe(self) -> str:
        return f"remove {self.vmk} from {self.host}"

    def assess(self, host: Host, restoring: bool = False) -> Assessment:
        vmk = next((v for v in host.vmks if v.device == self.vmk), None)
        if vmk is None:
            return Assessment(Status.DONE, f"{self.vmk} is not on {host.name}")
        if "management" in vmk.services:
            return Assessment(Status.BLOCKED, f"{self.vmk} carries management: removing it would cut the host off")
        return Assessment(Status.PENDING, f"{self.vmk} ({vmk.ipv4 or 'no IPv4'}) would be removed")

    def edit(self, host: Host) -> Host:
        return host.model_copy(update={"vmks": tuple(v for v in host.vmks if v.device != self.vmk)})

    def perform(self, api: HostNetworkApi) -> None:
        api.remove_vnic(self.vmk)


Change = Union[TagAdd, TagRemove, RouteAdd, RouteRemove, VmkRemove]
KINDS: tuple[type[Change], ...] = (TagAdd, TagRemove, RouteAdd, RouteRemove, VmkRemove)
_OPPOSITES: dict[type[_HostChange], type[Change]] = {
    TagAdd: TagRemove, TagRemove: TagAdd, RouteAdd: RouteRemove, RouteRemove: RouteAdd}
_BY_OP: dict[str, type[Change]] = {k.OP: k for k in KINDS}
def from_dict(data: dict) -> Change:
    """Inverse of ``Change.to_dict``; raises ValueError naming what is wrong."""
    op = data.get("op")
    # An op that is not a string (a list, say) is unknown, not a TypeError from the lookup.
    cls = _BY_OP.get(op) if isinstance(op, str) else None
    if cls is None:
        raise ValueError(f"unknown op {op!r}; expected one of {', '.join(_BY_OP)}")
    values = {k: v for k, v in data.items() if k != "op"}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ValueError(f"bad fields for {op}: {exc}") from None


def name_list(names, limit: int = 10) -> str:
    """The first few names for an error line: a fleet has 10,000 hosts."""
    names = list(names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return (", ".join(names[:limit]) or "none") + more


def _host(snap: Snapshot, name: str) -> tuple[int, Host]:
    for i, h in enumerate(snap.hosts):
        if h.name == name:
            return i, h
    raise UsageError(f"no host {name!r} in snapshot; hosts: {name_list(h.name for h in snap.hosts)}")


def _vmk_or_raise(host: Host, device: str) -> None:
    if not any(v.device == device for v in host.vmks):
        raise UsageError(f"no {device} on {host.name}; it has {name_list(v.device for v in host.vmks)}")


def inverse(change: Change, snap: Snapshot) -> list[Change]:
    """The changes that undo ``change`` on ``snap`` (the state before it)."""
    return change.inverse(snap)


class Workspace:
    """Changes made one after another on a copy of a snapshot, hosts looked up by name: a plan of
    14,000 steps on 10,000 hosts was quadratic when each step scanned and copied every host."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap
        self._hosts = list(snap.hosts)
        self._index = {h.name: i for i, h in enumerate(self._hosts)}

    def host(self, name: str) -> Host:
        i = self._index.get(name)
        if i is None:
            raise UsageError(f"no host {name!r} in snapshot; hosts: {name_list(h.name for h in self._hosts)}")
        return self._hosts[i]

    def view(self, name: str) -> Snapshot:
        """The snapshot as it stands, narrowed to one host (what a renderer restating it needs)."""
        return self._snap.model_copy(update={"hosts": (self.host(name),)})

    def inverse(self, change: Change) -> list[Change]:
        return change.inverse(self.view(change.host))

    def apply(self, change: Change, restoring: bool = False) -> None:
        """Make ``change``; raise UsageError where the host would refuse it (the precondition
        apply checks live) or where it finds nothing to do. ``restoring``: see ``assess``."""
        host = self.host(change.host)
        if change.target_vmk is not None:
            _vmk_or_raise(host, change.target_vmk)
        a = change.assess(host, restoring)
        if a.status is Status.BLOCKED or (a.status is Status.DONE and not change.idempotent):
            raise UsageError(f"{host.name}: {a.reason}")
        if a.status is Status.PENDING:
            self._hosts[self._index[change.host]] = change.edit(host)

    def snapshot(self) -> Snapshot:
        return self._snap.model_copy(update={"hosts": tuple(self._hosts)})


def apply(snap: Snapshot, change: Change, restoring: bool = False) -> Snapshot:
    """A new snapshot with ``change`` made (see :meth:`Workspace.apply`)."""
    ws = Workspace(snap)
    ws.apply(change, restoring)
    return ws.snapshot()


def apply_all(snap: Snapshot, changes: list[Change]) -> Snapshot:
    ws = Workspace(snap)
    for c in changes:
        ws.apply(c)
    return ws.snapshot()
