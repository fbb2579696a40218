"""An in-memory vSphere: the client seam (:mod:`nbdpath.sources.vsphere`) without a server.

Each server is an estate, a :class:`~nbdpath.model.Snapshot` whose hosts and
switches are what a discovery of it returns, and which the changes apply
makes edit. Faults are set up by the test or rehearsal that uses it::

    fake = FakeVsphere({"vc01": labs.load("veeam-tag-routed")})
    fake.down["vc02"] = "connection refused"          # connect fails
    fake.unreadable["esx03"] = "host is disconnected"  # listed, not read: a partial discovery
    fake.refuse("esx02", "select_vnic", "InvalidArgument", "no such NicType")
    fake.after_page = lambda label, done: fake.remove_host(label, "esx04")
    discover(["vc01"], creds, opts, client=fake)

It answers as the real client does where the seam says so: the same errors
(DiscoveryError from connect, SoapFault for a refusal, SessionLost once
:meth:`FakeVsphere.stop` cut a server off), the same "vanished" wording. It
reads the estate's hosts as they are: conversion is the real client's and
is tested against vcsim.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Optional

from .. import changes as ch
from ..errors import DiscoveryError, SessionLost, SoapFault, UsageError
from ..model import Host, Snapshot
from .vcenter_convert import Converted
from .vsphere import ConnectOptions, Credentials, Endpoint, PageFn


class FakeVsphere:
    """A :class:`~nbdpath.sources.vsphere.VsphereClient` over estates kept in memory, keyed by server label."""

    def __init__(self, estates: Mapping[str, Snapshot], user: Optional[str] = None, password: Optional[str] = None):
        self.estates: dict[str, Snapshot] = dict(estates)
        self.user, self.password = user, password  # None: any credentials are accepted
        self.down: dict[str, str] = {}  # server label -> why connecting fails
        self.unreadable: dict[str, str] = {}  # host name -> why it is listed but not read
        self.stopped: set[str] = set()  # servers cut off mid-session: every call is SessionLost
        self.after_page: Optional[Callable[[str, int], None]] = None  # (server, hosts read so far)
        self.made: list[tuple[str, str, tuple[object, ...]]] = []  # (host, primitive, arguments) in order
        self.sessions: list[FakeSession] = []
        self._refusals: dict[tuple[str, str], SoapFault] = {}

    def connect(self, ep: Endpoint, creds: Credentials, opts: ConnectOptions) -> FakeSession:
        if ep.label in self.down:
            raise DiscoveryError(f"{ep.label}: {self.down[ep.label]}")
        if ep.label not in self.estates:
            raise DiscoveryError(f"{ep.label}: connection refused (is it a vCenter/ESXi address, right port?)")
        if (self.user, self.password) != (None, None) and (creds.user, creds.password) != (self.user, self.password):
            raise DiscoveryError(f"{ep.label}: the user name or password was refused")
        session = FakeSession(self, ep.label, opts)
        self.sessions.append(session)
        return session

    def refuse(self, host: str, primitive: str, kind: str, message: str = "") -> None:
        """``primitive`` (a :class:`~nbdpath.changes.HostNetworkApi` method name) on ``host`` faults."""
        self._refusals[(host, primitive)] = SoapFault(kind, message)

    def remove_host(self, server: str, name: str) -> None:
        """The host leaves the server's inventory (removed, or moved to another vCenter)."""
        snap = self.estates[server]
        self.estates[server] = snap.model_copy(update={"hosts": tuple(h for h in snap.hosts if h.name != name)})

    def stop(self, server: str) -> None:
        """The server stops answering: its sessions' calls fail as a cut connection does."""
        self.stopped.add(server)

    def _perform(self, server: str, host: str, primitive: str, change: ch.Change, args: tuple[object, ...]) -> None:
        refusal = self._refusals.get((host, primitive))
        if refusal is not None:
            raise refusal
        try:
            # A host checks what it can carry out, not what is sensible: a rollback's restoring rules.
            self.estates[server] = ch.apply(self.estates[server], change, restoring=True)
        except UsageError as exc:
            raise SoapFault("InvalidArgument", str(exc)) from None
        self.made.append((host, primitive, args))


class FakeSession:
    """One session on a :class:`FakeVsphere` server."""

    def __init__(self, fake: FakeVsphere, label: str, opts: ConnectOptions):
        self.fake, self.label, self.opts = fake, label, opts
        self.closed = False
        self.logged_out = False

    def read_inventory(self, on_page: Optional[PageFn] = None) -> Converted:
        listed = [h.name for h in self._estate().hosts]
        page = max(1, self.opts.page_size)
        hosts = []
        missing: dict[str, str] = {}
        for start in range(0, len(listed), page):
            present = {h.name: h for h in self._estate().hosts}  # a page reads the inventory as it is now
            for name in listed[start:start + page]:
                if name not in present:
                    missing[f"{self.label}/{name}"] = "vanished from the inventory during discovery"
                elif name in self.fake.unreadable:
                    missing[name] = self.fake.unreadable[name]
                else:
                    hosts.append(present[name])
            if on_page is not None:
                on_page(len(hosts), len(listed))
            if self.fake.after_page is not None:
                self.fake.after_page(self.label, len(hosts))
        return self._converted(hosts, missing, everything=True)

    def read_hosts(self, names: Sequence[str]) -> Converted:
        wanted = set(names)
        return self._converted([h for h in self._estate().hosts if h.name in wanted and h.name not in self.fake.unreadable],
                               {}, everything=False)

    def host_network(self, name: str) -> _FakeHostApi:
        if not any(h.name == name for h in self._estate().hosts):
            raise SoapFault("ManagedObjectNotFound", f"host {name} is not in {self.label}'s inventory")
        return _FakeHostApi(self, name)

    def close(self) -> None:
        self.closed = True
        self.logged_out = self.label not in self.fake.stopped

    def _estate(self) -> Snapshot:
        if self.label in self.fake.stopped:
            raise SessionLost("the server closed the connection")
        return self.fake.estates[self.label]

    def _converted(self, hosts: list, missing: dict[str, str], everything: bool) -> Converted:
        snap = self._estate()
        vms = everything and self.opts.vms
        version = snap.vcenters[0].version if snap.vcenters else None
        return Converted(hosts=tuple(hosts), dvswitches=snap.dvswitches, missing=missing, vcenter_version=version,
                         vms=snap.vms if vms else (), datastores=snap.datastores if vms else ())


class _FakeHostApi:
    """One host's :class:`~nbdpath.changes.HostNetworkApi`: each primitive is the change it makes."""

    def __init__(self, session: FakeSession, host: str):
        self._session, self._host = session, host

    def _do(self, primitive: str, change: ch.Change, *args: object) -> None:
        self._session._estate()  # a stopped server answers nothing
        self._session.fake._perform(self._session.label, self._host, primitive, change, args)

    def select_vnic(self, nic_type: str, device: str) -> None:
        self._do("select_vnic", ch.TagAdd(self._host, device, nic_type), nic_type, device)

    def deselect_vnic(self, nic_type: str, device: str) -> None:
        self._do("deselect_vnic", ch.TagRemove(self._host, device, nic_type), nic_type, device)

    def remove_vnic(self, device: str) -> None:
        self._do("remove_vnic", ch.VmkRemove(self._host, device), device)

    def route(self, add: bool, network: str, gateway: str, netstack: str) -> None:
        kind = ch.RouteAdd if add else ch.RouteRemove
        self._do("route", kind(self._host, network, gateway, netstack), add, network, gateway, netstack)

    def _now(self) -> Host:
        return next(h for h in self._session._estate().hosts if h.name == self._host)

    def add_vnic(self, device: str, portgroup: str, switch: Optional[str], ipv4: Optional[str], netstack: str,
                 mtu: int) -> str:
        # The host names the adapter, as ESXi does: the lowest free vmk number, whatever was asked.
        used = {v.device for v in self._now().vmks}
        made = next(f"vmk{i}" for i in range(len(used) + 1) if f"vmk{i}" not in used)
        self._do("add_vnic", ch.VmkAdd(self._host, made, portgroup, ipv4, netstack, mtu, (), switch),
                 device, portgroup, switch, ipv4, netstack, mtu)
        return made

    def set_vnic_ipv4(self, device: str, ipv4: Optional[str]) -> None:
        v = next((v for v in self._now().vmks if v.device == device), None)
        previous = (v.ipv4 if v else None) or ch.kinds.NO_IPV4
        self._do("set_vnic_ipv4", ch.Ipv4Set(self._host, device, ipv4 or ch.kinds.NO_IPV4, previous), device, ipv4)

    def set_vnic_mtu(self, device: str, mtu: int) -> None:
        v = next((v for v in self._now().vmks if v.device == device), None)
        self._do("set_vnic_mtu", ch.VmkMtuSet(self._host, device, mtu, v.mtu if v else mtu), device, mtu)

    def set_portgroup_vlan(self, portgroup: str, vlan: int) -> None:
        pg = next((pg for vs in self._now().vswitches for pg in vs.portgroups if pg.name == portgroup), None)
        self._do("set_portgroup_vlan", ch.PortgroupVlanSet(self._host, portgroup, vlan, pg.vlan if pg else vlan),
                 portgroup, vlan)
