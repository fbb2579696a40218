"""The one seam to live hosts: read their state, make one change.

:class:`Live` is what the runner talks to. :class:`VcenterLive` is the real
one over pyVmomi, reusing discovery's connection, TLS and retrieval code;
:class:`SnapshotLive` keeps the state in memory (unit tests, rehearsals).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any, Protocol

from ..errors import LiveError
from ..model import DEFAULT_STACK, Snapshot

from .. import changes as ch
from ..sources import vcenter
from ..sources.soapxml import SoapFault, as_list, invoke, moref_id


class Live(Protocol):
    def read(self, hosts: Iterable[str] | None = None) -> Snapshot:
        """The current state: of every host the server lists, or at least of ``hosts``."""

    def perform(self, change: ch.Change) -> None:
        """Make one change; raises LiveError when the host refuses it or is unreachable."""


class SnapshotLive:
    """A live estate kept in memory: the same semantics as a host, no network."""

    def __init__(self, snap: Snapshot):
        self.state = snap

    def read(self, hosts: Iterable[str] | None = None) -> Snapshot:
        return self.state

    def perform(self, change: ch.Change) -> None:
        try:
            self.state = ch.apply(self.state, change)
        except Exception as exc:
            raise LiveError(str(exc)) from None


class VcenterLive:
    """A vCenter (or ESXi) session. Connect with :meth:`open`; close with :meth:`close`."""

    def __init__(self, si: Any, endpoint: vcenter.Endpoint, opts: vcenter.ConnectOptions):
        self.si = si
        self.endpoint = endpoint
        self.opts = opts
        self._morefs: dict[str, str] = {}  # host name (as the snapshot names it) -> HostSystem moref id
        self._inventory: Any = None  # switches, port groups and clusters of the last full read
        self._answering = True  # False once the server stopped answering: close() then does not wait on it

    @classmethod
    def open(cls, server: str, creds: vcenter.Credentials, opts: vcenter.ConnectOptions) -> VcenterLive:
        ep = vcenter.Endpoint.parse(server)
        return cls(vcenter.connect(ep, creds, opts), ep, opts)

    def close(self) -> None:
        vcenter.disconnect(self.si, logout=self._answering)

    def read(self, hosts: Iterable[str] | None = None) -> Snapshot:
        """The hosts' state as discovery converts it.

        Without ``hosts`` (or before the first read): one paged bulk retrieval
        of the whole inventory. With ``hosts`` known from an earlier read: only
        those HostSystems, with the switches of that earlier read (a plan
        changes no switch). On 1,000 hosts this is what makes a step cost
        tenths of a second rather than seconds (docs/apply.md).
        """
        from ..sources.vcenter_convert import Inventory, convert

        names = list(hosts) if hosts is not None else None
        try:
            if names is not None and self._inventory is not None and all(n in self._morefs for n in names):
                try:
                    return self._snapshot(convert(self._some(names)), names)
                except SoapFault as exc:
                    if exc.kind != "ManagedObjectNotFound":
                        raise
                    # A server that faults instead of reporting a missing object: read everything.
            inv = vcenter.retrieve(self.si, self.endpoint.label, self.opts.page_size)
            converted = convert(inv)
        except Exception as exc:
            raise LiveError(f"{self.endpoint.label}: reading the hosts failed: {self._describe(exc)}") from None
        self._inventory = Inventory(vcenter=inv.vcenter, hosts={}, dvswitches=inv.dvswitches,
                                    dvportgroups=inv.dvportgroups, clusters=inv.clusters)
        # Discovery names a host added by IP by its DNS name and keeps the inventory
        # name as management_address: that is how a snapshot name finds its HostSystem.
        by_inventory_name = {str(p.get("name")): mid for mid, p in inv.hosts.items()}
        self._morefs = {h.name: by_inventory_name[h.management_address] for h in converted.hosts
                        if h.management_address in by_inventory_name}
        return self._snapshot(converted, [])

    def _some(self, names: list[str]):
        """One retrieval of the named hosts' properties, no container view."""
        from dataclasses import replace

        from pyVmomi import vim, vmodl

        from ..sources.vcenter_convert import HOST_PROPERTIES

        pc = vmodl.query.PropertyCollector
        moids = [self._morefs[n] for n in names]
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=vim.HostSystem(m, self.si._stub), skip=False) for m in moids],
            propSet=[pc.PropertySpec(type=vim.HostSystem, pathSet=list(HOST_PROPERTIES))],
            reportMissingObjectsInResults=True,
        )
        collector = self.si.RetrieveContent().propertyCollector
        hosts: dict[str, dict[str, Any]] = {}
        result = invoke(collector, "RetrievePropertiesEx", [spec], pc.RetrieveOptions())
        while True:
            for oc in as_list(result.objects):
                props = {p.name: p.val for p in as_list(oc.propSet)}
                if props:  # an object reported only in missingSet is gone
                    hosts[moref_id(oc.obj) or ""] = props
            if not result.token:
                break
            result = invoke(collector, "ContinueRetrievePropertiesEx", result.token)
        assert self._inventory is not None
        return replace(self._inventory, hosts=hosts, listed_hosts=tuple(m for m in moids if m in hosts))

    def _snapshot(self, converted: Any, asked: list[str]) -> Snapshot:
        missing = dict(converted.missing)
        found = {h.name for h in converted.hosts}
        for name in asked:
            if name not in found and name not in missing:
                missing[name] = "vanished from the inventory"
        return Snapshot(name="live", hosts=converted.hosts, dvswitches=converted.dvswitches, missing=missing)

    def perform(self, change: ch.Change) -> None:
        from pyVmomi import vim

        moid = self._morefs.get(change.host)
        if moid is None:
            raise LiveError(f"host {change.host} is not in {self.endpoint.label}'s inventory")
        host = vim.HostSystem(moid, self.si._stub)
        try:
            change.perform(_HostApi(host.configManager))
        except LiveError:
            raise
        except Exception as exc:
            raise LiveError(f"{change.host}: {change.describe()} failed: {self._describe(exc)}") from None

    def _describe(self, exc: BaseException) -> str:
        from pyVmomi import vmodl

        if isinstance(exc, vmodl.fault.ManagedObjectNotFound):
            return "the host vanished from the inventory"
        if isinstance(exc, vmodl.MethodFault):
            return f"{type(exc).__name__.split('.')[-1]}: {vcenter._server_text(getattr(exc, 'msg', '') or 'refused')}"
        if not isinstance(exc, SoapFault):
            self._answering = False
        return vcenter._describe(exc, self.opts)


class _HostApi:
    """The vSphere seam for one host's network changes (:class:`nbdpath.changes.HostNetworkApi`)."""

    def __init__(self, managers: Any) -> None:
        self._m = managers  # typed Optional by pyVmomi; a connected host has them

    def select_vnic(self, nic_type: str, device: str) -> None:
        self._m.virtualNicManager.SelectVnicForNicType(nicType=nic_type, device=device)

    def deselect_vnic(self, nic_type: str, device: str) -> None:
        self._m.virtualNicManager.DeselectVnicForNicType(nicType=nic_type, device=device)

    def remove_vnic(self, device: str) -> None:
        self._m.networkSystem.RemoveVirtualNic(device=device)

    def route(self, add: bool, network: str, gateway: str, netstack: str) -> None:
        _route(self._m.networkSystem, add, network, gateway, netstack)


def _route(ns: Any, add: bool, network: str, gateway: str, stack: str) -> None:
    """Static routes: default stack via UpdateIpRouteTableConfig, other stacks via UpdateNetworkConfig."""
    from pyVmomi import vim

    net = ipaddress.ip_network(network, strict=False)
    if net.prefixlen == 0:
        # The default route is the stack's gateway, not a table entry.
        config = vim.host.IpRouteConfig(defaultGateway=gateway if add else "0.0.0.0")
        if stack == DEFAULT_STACK:
            ns.UpdateIpRouteConfig(config=config)
        else:
            _edit_stack(ns, vim.host.NetStackInstance(key=stack, ipRouteConfig=config))
        return
    op = vim.host.IpRouteOp(changeOperation="add" if add else "remove",
                            route=vim.host.IpRouteEntry(network=str(net.network_address), prefixLength=net.prefixlen,
                                                        gateway=gateway))
    table = vim.host.IpRouteTableConfig(ipRoute=[op])
    if stack == DEFAULT_STACK:
        ns.UpdateIpRouteTableConfig(config=table)
    else:
        _edit_stack(ns, vim.host.NetStackInstance(key=stack, routeTableConfig=table))


def _edit_stack(ns: Any, instance: Any) -> None:
    from pyVmomi import vim

    spec = vim.host.NetworkConfig.NetStackSpec(netStackInstance=instance, operation="edit")
    ns.UpdateNetworkConfig(config=vim.host.NetworkConfig(netStackSpec=[spec]), changeMode="modify")
