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
from functools import lru_cache
from typing import ClassVar, Optional, Protocol, Union, get_type_hints

from ..errors import LiveError, UsageError
from ..model import BACKUP_NFC, DEFAULT_STACK, Host, Netstack, Route, Snapshot, Vmk
from ..model.snapshot import network_text, normalise_service, normalise_stack

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
    def add_vnic(self, device: str, portgroup: str, switch: Optional[str], ipv4: Optional[str], netstack: str,
                 mtu: int) -> str:
        """Create a vmk; returns the device name the host gave it (ESXi picks the lowest free one)."""
        ...
    def set_vnic_ipv4(self, device: str, ipv4: Optional[str]) -> None: ...
    def set_vnic_mtu(self, device: str, mtu: int) -> None: ...
    def set_portgroup_vlan(self, portgroup: str, vlan: int) -> None: ...


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True)
class _HostChange:
    host: str

    OP: ClassVar[str] = ""
    # True: making it when the host already matches is a no-op, not a refusal (esxcli's own behaviour).
    idempotent: ClassVar[bool] = False
    # False: the change creates its vmk, so the what-if must not require it to exist.
    needs_vmk: ClassVar[bool] = True
    # False: ``inverse`` is the opposite op whatever the state, so the workspace hands it no copy of
    # the host's state (14,000 one-host snapshot copies were 0.1 s of a 10,000-host plan).
    inverse_reads_state: ClassVar[bool] = True

    def __post_init__(self) -> None:
        # JSON has lists where the kinds hold tuples: a change must stay hashable (plans deduplicate by it).
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))

    @property
    def reversible(self) -> bool:
        """False: nbdpath cannot undo it (a vmk removed without a record of what it was)."""
        return bool(self.opposite())

    @property
    def target_vmk(self) -> Optional[str]:
        """The vmk the change acts on, if it acts on one."""
        return getattr(self, "vmk", None)

    def with_host(self, host: str):
        """The same change on another host (used to share findings across a cluster)."""
        # A copy of fields already checked, not a new construction: 12,875 findings re-addressed
        # at 10,000 hosts (dataclasses.fields per call was ~40% of it).
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        object.__setattr__(twin, "host", host)
        return twin

    def to_dict(self) -> dict:
        """Machine-readable form, e.g. {"op": "route-add", "host": ..., "network": ..., "gateway": ...};
        an optional field left unset (None) is left out."""
        out: dict = {"op": self.OP}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def field_types(cls) -> dict[str, str]:
        """Each field's JSON type: "text", "int" or "list" (of text); what a plan file's reader checks."""
        hints = get_type_hints(cls)
        out = {}
        for f in fields(cls):
            t = str(hints[f.name])
            out[f.name] = "int" if "int" in t and "str" not in t else "list" if "tuple" in t else "text"
        return out

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
    inverse_reads_state: ClassVar[bool] = False

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
    inverse_reads_state: ClassVar[bool] = False

    def check_values(self) -> None:
        from pydantic import ValidationError

        try:
            Route(network=self.network, gateway=self.gateway)
        except ValidationError as exc:  # keep pydantic's first message: it names the bad value
            raise ValueError(f"route {self.network} via {self.gateway}: {exc.errors()[0]['msg']}") from None
        normalise_stack(self.netstack)

    @property
    def _net(self) -> str:
        return _network_text(self.network)

    def _stack(self, host: Host) -> Optional[Netstack]:
        key = normalise_stack(self.netstack)
        return next((s for s in host.netstacks if s.key == key), None)

    def perform(self, api: HostNetworkApi) -> None:
        api.route(isinstance(self, RouteAdd), self._net, self.gateway, normalise_stack(self.netstack))

    def edit(self, host: Host) -> Host:
        stacks = list(host.netstacks)
        key = normalise_stack(self.netstack)
        si = next(i for i, s in enumerate(stacks) if s.key == key)
        add = isinstance(self, RouteAdd)
        try:
            stacks[si] = _edited_stack(stacks[si], self.network, self.gateway, add)
        except TypeError:  # an unhashable stack: edited on its own
            stacks[si] = _edited_stack.__wrapped__(stacks[si], self.network, self.gateway, add)
        return host.model_copy(update={"netstacks": tuple(stacks)})


@lru_cache(maxsize=1024)
def _edited_stack(stack: Netstack, network: str, gateway: str, add: bool) -> Netstack:
    """``stack`` with the route added or removed. Once per distinct stack and route: the hosts of a
    cluster have equal stacks and get the same route, and share the (frozen) result."""
    route = _route(network, gateway)
    if route.network == "0.0.0.0/0":
        return stack.model_copy(update={"gateway": gateway if add else None})
    routes = [r for r in stack.routes if r != route] + ([route] if add else [])
    return stack.model_copy(update={"routes": tuple(routes)})


_network_text = lru_cache(maxsize=4096)(network_text)  # per route step, the same few networks


@lru_cache(maxsize=1024)
def _route(network: str, gateway: str) -> Route:
    """One (frozen) Route per value: the same route added across a cluster is one object, built
    once (pydantic's validation was ~15 us a step) and compared by identity in the engine's
    configuration keys."""
    return Route(network=network, gateway=gateway)


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


def portgroup_switch(snap: Snapshot, host: Host, portgroup: str) -> Optional[str]:
    """The distributed switch (of those ``host`` is on) that has ``portgroup``; None for a standard one."""
    if _standard_pg(host, portgroup) is not None:
        return None
    members = {m.switch for m in host.dvswitches}
    return next((d.name for d in snap.dvswitches if d.name in members and any(pg.name == portgroup for pg in d.portgroups)),
                None)


def lowest_free_vmk(host: Host, without: Optional[str] = None) -> str:
    """The name the host gives a new vmk: its lowest free number (``without``: as if that one were gone).
    The vSphere API cannot choose the name (AddVirtualNic returns the one the host picked)."""
    used = {v.device for v in host.vmks} - {without}
    return next(f"vmk{i}" for i in range(len(used) + 1) if f"vmk{i}" not in used)


def _vmk_of(host: Host, device: str) -> Optional[Vmk]:
    return next((v for v in host.vmks if v.device == device), None)


def _standard_pg(host: Host, name: str):
    """(switch, port group) of a standard port group of ``host``, or None."""
    for vs in host.vswitches:
        for pg in vs.portgroups:
            if pg.name == name:
                return vs, pg
    return None


def _iface(text: Optional[str]) -> Optional[ipaddress.IPv4Interface]:
    return None if text in (None, NO_IPV4) else ipaddress.IPv4Interface(text)


def _check_cidr(what: str, text: Optional[str], none_ok: bool = True) -> None:
    if text is None or (none_ok and text == NO_IPV4):
        return
    if not isinstance(text, str) or "/" not in text:
        raise ValueError(f"{what}: expected an IPv4 address with prefix length like 10.30.0.11/24 (found {text!r})")
    try:
        iface = ipaddress.IPv4Interface(text)
    except ValueError as exc:
        raise ValueError(f"{what}: expected an IPv4 address with prefix length like 10.30.0.11/24 ({exc})") from None
    if iface.network.prefixlen < 32 and iface.ip in (iface.network.network_address, iface.network.broadcast_address):
        raise ValueError(f"{what}: {text} is the network or broadcast address of its subnet")


def _check_int(what: str, value: object, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:  # bool is an int: true is no MTU
        raise ValueError(f"{what}: expected an integer from {low} to {high} (found {value!r})")


def _address_taken(host: Host, device: str, ipv4: Optional[str], netstack: str) -> Optional[Assessment]:
    """Another vmk of the stack already answers on that address: ESXi would hold two and ARP would flap."""
    new = _iface(ipv4)
    if new is None:
        return None
    for v in host.vmks:
        if v.device != device and v.netstack == netstack and v.ipv4 and ipaddress.IPv4Interface(v.ipv4).ip == new.ip:
            return Assessment(Status.BLOCKED, f"{new.ip} is already {v.device}'s address on {netstack}")
    return None


def _stranded_routes(before: Host, after: Host, netstack: str) -> Optional[Assessment]:
    """A route (or the default gateway) of the stack whose gateway the change takes off every enabled vmk's subnet."""
    stack = next((s for s in before.netstacks if s.key == netstack), None)
    if stack is None:
        return None
    gateways = [r.gateway for r in stack.routes if ":" not in r.gateway] + ([stack.gateway] if stack.gateway else [])
    for gw in gateways:
        if before.gateway_on_link(netstack, gw) and not after.gateway_on_link(netstack, gw):
            return Assessment(Status.BLOCKED, f"gateway {gw} on {netstack} would be on no subnet of an enabled vmk "
                                              "(its routes would stop working); move or remove them first")
    return None


NO_IPV4 = "none"  # an ipv4-set value: the vmk has (or gets) no IPv4 address


@dataclass(frozen=True)
class VmkAdd(_HostChange):
    """A new vmk on a port group: standard (``switch`` None) or of the distributed switch ``switch``."""

    vmk: str
    portgroup: str
    ipv4: Optional[str] = None  # CIDR; None: created without an IPv4 address (esxcli's `interface add`)
    netstack: str = DEFAULT_STACK
    mtu: int = 1500
    services: tuple[str, ...] = ()
    switch: Optional[str] = None

    OP: ClassVar[str] = "vmk-add"
    needs_vmk: ClassVar[bool] = False
    inverse_reads_state: ClassVar[bool] = False

    def describe(self) -> str:
        where = f"port group {self.portgroup}" + (f" of {self.switch}" if self.switch else "")
        tags = f", tagged {', '.join(self.services)}" if self.services else ""
        return f"add {self.vmk} on {where} ({self.ipv4 or 'no IPv4'}, {self.netstack}, MTU {self.mtu}{tags}) on {self.host}"

    def check_values(self) -> None:
        super().check_values()
        _check_cidr("ipv4", self.ipv4, none_ok=False)
        _check_int("mtu", self.mtu, 576, 9216)
        for s in self.services:
            normalise_service(s)
        if not self.portgroup.strip():
            raise ValueError("portgroup: expected a port group name")

    def opposite(self) -> tuple["Change", ...]:
        return (VmkRemove(self.host, self.vmk, self.portgroup, self.ipv4, normalise_stack(self.netstack), self.mtu,
                          self.services, self.switch),)

    def inverse(self, snap: Snapshot) -> list["Change"]:
        return list(self.opposite())

    def matches(self, v: Vmk) -> bool:
        """``v`` is the vmk this change makes (what a fresh read must show once it is made)."""
        return (v.portgroup == self.portgroup and _iface(v.ipv4) == _iface(self.ipv4)
                and v.netstack == normalise_stack(self.netstack) and v.mtu == self.mtu
                and set(v.services) == {normalise_service(s) for s in self.services})

    def assess(self, host: Host, restoring: bool = False) -> Assessment:
        existing = _vmk_of(host, self.vmk)
        if existing is not None:
            if self.matches(existing):
                return Assessment(Status.DONE, f"{self.vmk} is already on {self.portgroup} as planned")
            return Assessment(Status.BLOCKED, f"{host.name} already has a {self.vmk} (on {existing.portgroup}, "
                                              f"{existing.ipv4 or 'no IPv4'}); pick a free name")
        free = lowest_free_vmk(host)
        if self.vmk != free:
            return Assessment(Status.BLOCKED, f"{host.name} would name a new vmk {free} (its lowest free number), "
                                              f"not {self.vmk}: the vSphere API cannot choose the name")
        key = normalise_stack(self.netstack)
        if not any(s.key == key for s in host.netstacks):
            return Assessment(Status.BLOCKED, f"{host.name} has no {key} netstack")
        blocked = self._attachment(host, restoring) or _address_taken(host, self.vmk, self.ipv4, key)
        if blocked:
            return blocked
        services = {normalise_service(s) for s in self.services}
        if BACKUP_NFC in services and not restoring:
            if not host.has_backup_tag:
                return Assessment(Status.BLOCKED, f"{host.name} runs ESXi {host.version}; {BACKUP_NFC} needs 7.0 or later")
            if key != DEFAULT_STACK:
                return Assessment(Status.BLOCKED, f"{BACKUP_NFC} is honoured on {DEFAULT_STACK} only, not {key}")
        return Assessment(Status.PENDING, f"no {self.vmk} on {host.name} yet")

    def _attachment(self, host: Host, restoring: bool) -> Optional[Assessment]:
        """The port group exists where the change says (standard, or on a distributed switch the host is on)."""
        if self.switch is None:
            found = _standard_pg(host, self.portgroup)
            if found is None:
                dvs = f" (a distributed port group needs its switch: {', '.join(m.switch for m in host.dvswitches)})" \
                    if host.dvswitches else ""
                return Assessment(Status.BLOCKED, f"no standard port group {self.portgroup} on {host.name}{dvs}")
            vs, _ = found
            if self.mtu > vs.mtu and not restoring:
                return Assessment(Status.BLOCKED, f"MTU {self.mtu} is above {vs.name}'s {vs.mtu}")
            return None
        if not any(m.switch == self.switch for m in host.dvswitches):
            return Assessment(Status.BLOCKED, f"{host.name} is not on distributed switch {self.switch}")
        return None  # the port group's existence on that switch is vCenter's to check (the host record lacks it)

    def edit(self, host: Host) -> Host:
        vmk = Vmk(device=self.vmk, portgroup=self.portgroup, ipv4=self.ipv4, netstack=normalise_stack(self.netstack),
                  mtu=self.mtu, services=tuple(normalise_service(s) for s in self.services))
        return host.model_copy(update={"vmks": host.vmks + (vmk,)})

    def perform(self, api: HostNetworkApi) -> None:
        made = api.add_vnic(self.vmk, self.portgroup, self.switch, self.ipv4, normalise_stack(self.netstack), self.mtu)
        if made != self.vmk:
            # The API cannot name the adapter: a vmk under another name would break every later step.
            api.remove_vnic(made)
            raise LiveError(f"{self.host} named the new adapter {made}, not {self.vmk} (the lowest free number); "
                            f"it was removed again: re-plan with {made}")
        for s in self.services:
            api.select_vnic(normalise_service(s), self.vmk)


@dataclass(frozen=True)
class VmkRemove(_HostChange):
    """Remove a vmk. With a record of what it is (``portgroup`` and the rest, as :meth:`of` fills them)
    it can be undone by a vmk-add of the same, and is refused if the live vmk differs from the record."""

    vmk: str
    portgroup: Optional[str] = None
    ipv4: Optional[str] = None
    netstack: Optional[str] = None
    mtu: Optional[int] = None
    services: Optional[tuple[str, ...]] = None
    switch: Optional[str] = None

    OP: ClassVar[str] = "vmk-remove"
    inverse_reads_state: ClassVar[bool] = False

    @classmethod
    def of(cls, host: Host, device: str, switch: Optional[str] = None) -> "VmkRemove":
        """The removal of ``device`` as it stands on ``host``: recorded when a vmk-add can recreate it
        (enabled, nothing a vmk-add cannot set: IPv6 addresses, a gateway of its own; and its number
        is the one the host would give a new vmk once it is gone, as the API cannot choose it); its MAC
        address (and distributed port) would be new. Otherwise the bare, irreversible form."""
        v = _vmk_of(host, device)
        if v is None or not v.enabled or v.ipv6 or v.gateway or lowest_free_vmk(host, without=device) != device:
            return cls(host.name, device)
        return cls(host.name, device, v.portgroup, v.ipv4, v.netstack, v.mtu, v.services, switch)

    @property
    def recorded(self) -> bool:
        return self.portgroup is not None

    def _as_add(self) -> VmkAdd:
        assert self.portgroup is not None
        return VmkAdd(self.host, self.vmk, self.portgroup, self.ipv4, self.netstack or DEFAULT_STACK,
                      1500 if self.mtu is None else self.mtu, self.services or (), self.switch)

    def describe(self) -> str:
        return f"remove {self.vmk} from {self.host}"

    def check_values(self) -> None:
        super().check_values()
        if self.recorded:
            self._as_add().check_values()

    def opposite(self) -> tuple["Change", ...]:
        return (self._as_add(),) if self.recorded else ()

    def inverse(self, snap: Snapshot) -> list["Change"]:
        if not self.recorded:
            return super().inverse(snap)
        return list(self.opposite())

    def assess(self, host: Host, restoring: bool = False) -> Assessment:
        vmk = _vmk_of(host, self.vmk)
        if vmk is None:
            return Assessment(Status.DONE, f"{self.vmk} is not on {host.name}")
        if "management" in vmk.services:
            return Assessment(Status.BLOCKED, f"{self.vmk} carries management: removing it would cut the host off")
        if self.recorded and not self._as_add().matches(vmk):
            return Assessment(Status.BLOCKED, f"{self.vmk} is not as recorded ({vmk.portgroup}, {vmk.ipv4 or 'no IPv4'}, "
                                              f"{vmk.netstack}, MTU {vmk.mtu}, {', '.join(vmk.services) or 'no tags'}): "
                                              "re-plan, or its undo would not restore it")
        return Assessment(Status.PENDING, f"{self.vmk} ({vmk.ipv4 or 'no IPv4'}) would be removed")

    def edit(self, host: Host) -> Host:
        return host.model_copy(update={"vmks": tuple(v for v in host.vmks if v.device != self.vmk)})

    def perform(self, api: HostNetworkApi) -> None:
        api.remove_vnic(self.vmk)


@dataclass(frozen=True)
class _VmkSetting(_HostChange):
    """One setting of a vmk changed from ``previous`` (what the plan saw) to a new value.

    The op records both: its undo is the same op reversed, and a live value that is
    neither is refused (the host moved since the plan; setting it would lose that)."""

    vmk: str
    label: ClassVar[str] = ""
    inverse_reads_state: ClassVar[bool] = False

    def _value(self) -> object:  # pragma: no cover - every setting says its own
        raise NotImplementedError

    def _previous(self) -> object:  # pragma: no cover
        raise NotImplementedError

    def _current(self, v: Vmk) -> object:  # pragma: no cover
        raise NotImplementedError

    def _guard(self, host: Host, v: Vmk, restoring: bool) -> Optional[Assessment]:
        return None

    def inverse(self, snap: Snapshot) -> list["Change"]:
        return list(self.opposite())

    def describe(self) -> str:
        return f"set {self.vmk}'s {self.label} to {self._value()} (was {self._previous()}) on {self.host}"

    def assess(self, host: Host, restoring: bool = False) -> Assessment:
        v = _vmk_of(host, self.vmk)
        if v is None:
            return _missing_vmk(host, self.vmk)
        cur = self._current(v)
        if cur == self._value():
            return Assessment(Status.DONE, f"{self.vmk}'s {self.label} is already {self._value()}")
        if cur != self._previous():
            return Assessment(Status.BLOCKED, f"{self.vmk}'s {self.label} is {cur}, not {self._previous()} as planned: re-plan")
        if "management" in v.services:
            return Assessment(Status.BLOCKED, f"{self.vmk} carries management: changing its {self.label} could cut the host off")
        return self._guard(host, v, restoring) or Assessment(
            Status.PENDING, f"{self.vmk}'s {self.label} is {cur}")


@dataclass(frozen=True)
class Ipv4Set(_VmkSetting):
    ipv4: str  # CIDR, or "none"
    previous: str

    OP: ClassVar[str] = "ipv4-set"
    label: ClassVar[str] = "IPv4 address"

    def _value(self) -> object:
        return str(_iface(self.ipv4) or NO_IPV4)

    def _previous(self) -> object:
        return str(_iface(self.previous) or NO_IPV4)

    def _current(self, v: Vmk) -> object:
        return str(_iface(v.ipv4) or NO_IPV4)

    def check_values(self) -> None:
        super().check_values()
        _check_cidr("ipv4", self.ipv4)
        _check_cidr("previous", self.previous)

    def opposite(self) -> tuple["Change", ...]:
        return (Ipv4Set(self.host, self.vmk, self.previous, self.ipv4),)

    def _guard(self, host: Host, v: Vmk, restoring: bool) -> Optional[Assessment]:
        taken = _address_taken(host, self.vmk, self.ipv4, v.netstack)
        if taken or restoring:
            return taken
        return _stranded_routes(host, self.edit(host), v.netstack)

    def edit(self, host: Host) -> Host:
        ipv4 = None if self.ipv4 == NO_IPV4 else self.ipv4
        return host.model_copy(update={"vmks": tuple(v.model_copy(update={"ipv4": ipv4}) if v.device == self.vmk else v
                                                     for v in host.vmks)})

    def perform(self, api: HostNetworkApi) -> None:
        api.set_vnic_ipv4(self.vmk, None if self.ipv4 == NO_IPV4 else self.ipv4)


@dataclass(frozen=True)
class VmkMtuSet(_VmkSetting):
    mtu: int
    previous: int

    OP: ClassVar[str] = "vmk-mtu-set"
    label: ClassVar[str] = "MTU"

    def _value(self) -> object:
        return self.mtu

    def _previous(self) -> object:
        return self.previous

    def _current(self, v: Vmk) -> object:
        return v.mtu

    def check_values(self) -> None:
        super().check_values()
        _check_int("mtu", self.mtu, 576, 9216)
        _check_int("previous", self.previous, 576, 9216)

    def opposite(self) -> tuple["Change", ...]:
        return (VmkMtuSet(self.host, self.vmk, self.previous, self.mtu),)

    def _guard(self, host: Host, v: Vmk, restoring: bool) -> Optional[Assessment]:
        found = _standard_pg(host, v.portgroup)
        if found and self.mtu > found[0].mtu and not restoring:
            return Assessment(Status.BLOCKED, f"MTU {self.mtu} is above {found[0].name}'s {found[0].mtu}")
        return None

    def edit(self, host: Host) -> Host:
        return host.model_copy(update={"vmks": tuple(v.model_copy(update={"mtu": self.mtu}) if v.device == self.vmk else v
                                                     for v in host.vmks)})

    def perform(self, api: HostNetworkApi) -> None:
        api.set_vnic_mtu(self.vmk, self.mtu)


@dataclass(frozen=True)
class PortgroupVlanSet(_HostChange):
    """The VLAN of a standard port group (one host). A distributed port group's VLAN is set once on
    its switch in vCenter, for every host: not a host change, so refused here."""

    portgroup: str
    vlan: int
    previous: int

    OP: ClassVar[str] = "portgroup-vlan-set"
    inverse_reads_state: ClassVar[bool] = False

    def describe(self) -> str:
        return f"set port group {self.portgroup}'s VLAN to {self.vlan} (was {self.previous}) on {self.host}"

    def check_values(self) -> None:
        super().check_values()
        _check_int("vlan", self.vlan, 0, 4095)
        _check_int("previous", self.previous, 0, 4095)

    def opposite(self) -> tuple["Change", ...]:
        return (PortgroupVlanSet(self.host, self.portgroup, self.previous, self.vlan),)

    def inverse(self, snap: Snapshot) -> list["Change"]:
        return list(self.opposite())

    def assess(self, host: Host, restoring: bool = False) -> Assessment:
        found = _standard_pg(host, self.portgroup)
        if found is None:
            dvs = (f"; a distributed port group's VLAN is set on its switch in vCenter (for every host of "
                   f"{', '.join(m.switch for m in host.dvswitches)})") if host.dvswitches else ""
            return Assessment(Status.BLOCKED, f"no standard port group {self.portgroup} on {host.name}{dvs}")
        _, pg = found
        if pg.vlan == self.vlan:
            return Assessment(Status.DONE, f"{self.portgroup} is already on VLAN {self.vlan}")
        if pg.vlan != self.previous:
            return Assessment(Status.BLOCKED, f"{self.portgroup} is on VLAN {pg.vlan}, not {self.previous} as planned: re-plan")
        mgmt = [v.device for v in host.vmks if v.portgroup == self.portgroup and "management" in v.services]
        if mgmt:
            return Assessment(Status.BLOCKED, f"{', '.join(mgmt)} on {self.portgroup} carries management: "
                                              "moving its VLAN could cut the host off")
        return Assessment(Status.PENDING, f"{self.portgroup} is on VLAN {pg.vlan}")

    def edit(self, host: Host) -> Host:
        switches = []
        for vs in host.vswitches:
            pgs = tuple(pg.model_copy(update={"vlan": self.vlan}) if pg.name == self.portgroup else pg for pg in vs.portgroups)
            switches.append(vs.model_copy(update={"portgroups": pgs}))
        return host.model_copy(update={"vswitches": tuple(switches)})

    def perform(self, api: HostNetworkApi) -> None:
        api.set_portgroup_vlan(self.portgroup, self.vlan)


Change = Union[TagAdd, TagRemove, RouteAdd, RouteRemove, VmkRemove, VmkAdd, Ipv4Set, VmkMtuSet, PortgroupVlanSet]
KINDS: tuple[type[Change], ...] = (TagAdd, TagRemove, RouteAdd, RouteRemove, VmkRemove, VmkAdd, Ipv4Set, VmkMtuSet,
                                   PortgroupVlanSet)
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
        return change.inverse(self.view(change.host) if change.inverse_reads_state else self._snap)

    def apply(self, change: Change, restoring: bool = False) -> None:
        """Make ``change``; raise UsageError where the host would refuse it (the precondition
        apply checks live) or where it finds nothing to do. ``restoring``: see ``assess``."""
        host = self.host(change.host)
        if change.target_vmk is not None and change.needs_vmk:
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
