"""The vSphere client seam over pyVmomi: the one module that imports it.

Per vCenter: one ContainerView over hosts, distributed switches, their port
groups and clusters (and VMs, folders, datastores), one PropertyCollector
``RetrievePropertiesEx`` paged with ``ContinueRetrievePropertiesEx``,
``DestroyView`` at the end. No per-host property walks (each attribute access
would be a round trip). The big answers are parsed by :mod:`.soapxml`;
conversion to the model is pure (:mod:`.vcenter_convert`). pyVmomi's faults
and network errors leave this module as the seam's errors (SoapFault,
SessionLost, DiscoveryError), so no caller needs pyVmomi to tell them apart.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Iterator, Optional

from pyVim.connect import Connect, Disconnect
from pyVmomi import vim, vmodl
from pyVmomi.VmomiSupport import GetServiceVersions, versionIdMap

from ..errors import DiscoveryError, NbdpathError, SessionLost, SoapFault
from ..io import gc_paused
from ..model import DEFAULT_STACK
from .soapxml import (
    NON_DISK_DEVICES,
    XmlData,
    as_list,
    bind,
    drop_connections,
    invoke,
    moref_id,
    object_contents,
    request,
    retrieve_pages,
    with_objects,
)
from .vcenter_convert import (
    CLUSTER_PROPERTIES,
    DATASTORE_PROPERTIES,
    DEVICES,
    DISK_DEVICE_PATH,
    DVPG_PROPERTIES,
    DVS_PROPERTIES,
    FOLDER_PROPERTIES,
    HOST_PROPERTIES,
    VM_PROPERTIES,
    Converted,
    Inventory,
    convert,
    disk_keys,
    keyed_disks,
    vm_value,
)
from .vcenter_tags import VmTags, read_vm_tags
from .vcenter_vmpages import split_vm_page
from .vsphere import DEFAULT_PAGE_SIZE, ConnectOptions, Credentials, Endpoint, PageFn, describe, server_text, tls_context

MAX_VERSION_LIST = 1 * 2**20  # vimServiceVersions.xml is about 2 KiB
VM_READER = {"VirtualMachine": vm_value}  # VMs read as plain values: each page's tree is freed once read


class PyVmomiClient:
    """The real :class:`~nbdpath.sources.vsphere.VsphereClient`."""

    def connect(self, ep: Endpoint, creds: Credentials, opts: ConnectOptions) -> PyVmomiSession:
        si = _login(ep, creds, opts)
        # Read now, while the credentials are at hand: the session keeps no password. Only a
        # vCenter has tags (an ESXi host's VMs have none), and only VMs carry them here.
        tags = read_vm_tags(ep, creds, opts) if opts.vms and _is_vcenter(si) else None
        return PyVmomiSession(si, ep, opts, tags)


def _is_vcenter(si: Any) -> bool:
    try:
        return si.content.about.apiType == "VirtualCenter"
    except Exception:  # noqa: BLE001 - unknown: an ESXi host answers HostAgent; read no tags
        return False


@contextlib.contextmanager
def _translated(opts: ConnectOptions) -> Iterator[None]:
    """pyVmomi's faults and the network's errors as the seam's: a caller never imports pyVmomi."""
    try:
        yield
    except NbdpathError:  # SoapFault from soapxml, or already translated
        raise
    except vmodl.MethodFault as exc:
        raise SoapFault(getattr(exc, "_wsdlName", None) or type(exc).__name__.split(".")[-1],
                        server_text(getattr(exc, "msg", "") or "")) from None
    except Exception as exc:
        raise SessionLost(describe(exc, opts.timeout_s)) from None


class PyVmomiSession:
    """One pyVmomi ServiceInstance; remembers which HostSystem each host name is."""

    def __init__(self, si: Any, ep: Endpoint, opts: ConnectOptions, tags: Optional[VmTags] = None):
        self.si = si
        self._tags = tags
        self.label = ep.label
        self.opts = opts
        self._morefs: dict[str, str] = {}  # host name (as the snapshot names it) -> HostSystem moref id
        self._inventory: Optional[Inventory] = None  # switches, port groups and clusters of the last full read
        self._answering = True  # False once the server stopped answering: close() then does not wait on it

    def read_inventory(self, on_page: Optional[PageFn] = None) -> Converted:
        with self._guard(), gc_paused():
            inv = retrieve(self.si, self.label, self.opts.page_size, on_page, vms=self.opts.vms)
            if self._tags is not None:
                inv = replace(inv, vm_tags=self._tags.by_vm, tags_missing=self._tags.missing(self.label))
            converted = convert(inv)
            self._remember(inv, converted)
            # Freed here by reference counting: left alive, the parsed pages (~10^6 tracked objects
            # with 20,000 VMs) would all be walked by the collector's first pass once it is back on.
            del inv
        return converted

    def read_hosts(self, names: Sequence[str]) -> Converted:
        """Only those HostSystems when all are known (tenths of a second on 1,000 hosts, docs/apply.md);
        otherwise, or when the server faults instead of reporting a missing object, everything."""
        if self._inventory is not None and all(n in self._morefs for n in names):
            try:
                with self._guard():
                    return convert(self._some(list(names)))
            except SoapFault as exc:
                if exc.kind != "ManagedObjectNotFound":
                    raise
        return self.read_inventory()

    def host_network(self, name: str) -> _HostApi:
        moid = self._morefs.get(name)
        if moid is None:
            raise SoapFault("ManagedObjectNotFound", f"host {name} is not in {self.label}'s inventory")
        host = bind(vim.HostSystem, moid, self.si)
        return _HostApi(host.configManager, self._guard, host)

    def close(self) -> None:
        try:
            if self._answering:
                Disconnect(self.si)
            else:
                drop_connections(self.si)  # a logout would wait on the same dead server again
        except Exception:  # already gone: nothing to release
            pass

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            with _translated(self.opts):
                yield
        except SessionLost:
            self._answering = False
            raise

    def _remember(self, inv: Inventory, converted: Converted) -> None:
        self._inventory = Inventory(vcenter=inv.vcenter, hosts={}, dvswitches=inv.dvswitches,
                                    dvportgroups=inv.dvportgroups, clusters=inv.clusters)
        # Discovery names a host added by IP by its DNS name and keeps the inventory
        # name as management_address: that is how a snapshot name finds its HostSystem.
        by_inventory_name = {str(p.get("name")): mid for mid, p in inv.hosts.items()}
        self._morefs = {h.name: by_inventory_name[h.management_address] for h in converted.hosts
                        if h.management_address in by_inventory_name}

    def _some(self, names: list[str]) -> Inventory:
        """One retrieval of the named hosts' properties, no container view."""
        pc = vmodl.query.PropertyCollector
        moids = [self._morefs[n] for n in names]
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=bind(vim.HostSystem, m, self.si), skip=False) for m in moids],
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


class _HostApi:
    """One host's network changes (:class:`nbdpath.changes.HostNetworkApi`) on pyVmomi."""

    def __init__(self, managers: Any, guard: Any, host: Any = None) -> None:
        self._m = managers  # typed Optional by pyVmomi; a connected host has them
        self._guard = guard
        self._host = host  # the HostSystem: its networks name a distributed port group's key and switch

    def select_vnic(self, nic_type: str, device: str) -> None:
        with self._guard():
            self._m.virtualNicManager.SelectVnicForNicType(nicType=nic_type, device=device)

    def deselect_vnic(self, nic_type: str, device: str) -> None:
        with self._guard():
            self._m.virtualNicManager.DeselectVnicForNicType(nicType=nic_type, device=device)

    def remove_vnic(self, device: str) -> None:
        with self._guard():
            self._m.networkSystem.RemoveVirtualNic(device=device)

    def route(self, add: bool, network: str, gateway: str, netstack: str) -> None:
        with self._guard():
            _route(self._m.networkSystem, add, network, gateway, netstack)

    def add_vnic(self, device: str, portgroup: str, switch: Optional[str], ipv4: Optional[str], netstack: str,
                 mtu: int) -> str:
        with self._guard():
            spec = vim.host.VirtualNic.Specification(ip=_ip_config(ipv4), mtu=mtu, netStackInstanceKey=netstack)
            if switch is None:
                return str(self._m.networkSystem.AddVirtualNic(portgroup=portgroup, nic=spec))
            # No port key: vCenter picks a free port of the port group (esxcli cannot, it needs --dvport-id).
            spec.distributedVirtualPort = self._dv_port(switch, portgroup)
            return str(self._m.networkSystem.AddVirtualNic(portgroup="", nic=spec))

    def _dv_port(self, switch: str, portgroup: str) -> Any:
        for net in self._host.network if self._host is not None else ():
            if isinstance(net, vim.dvs.DistributedVirtualPortgroup) and net.name == portgroup:
                dvs = net.config.distributedVirtualSwitch
                if dvs is not None and dvs.name == switch:
                    return vim.dvs.PortConnection(switchUuid=dvs.uuid, portgroupKey=net.key)
        raise SoapFault("NotFound", f"no distributed port group {portgroup} of {switch} on this host")

    def set_vnic_ipv4(self, device: str, ipv4: Optional[str]) -> None:
        with self._guard():  # fields left unset in the spec keep their value
            self._m.networkSystem.UpdateVirtualNic(device=device, nic=vim.host.VirtualNic.Specification(ip=_ip_config(ipv4)))

    def set_vnic_mtu(self, device: str, mtu: int) -> None:
        with self._guard():
            self._m.networkSystem.UpdateVirtualNic(device=device, nic=vim.host.VirtualNic.Specification(mtu=mtu))

    def set_portgroup_vlan(self, portgroup: str, vlan: int) -> None:
        with self._guard():
            ns = self._m.networkSystem
            # UpdatePortGroup takes the whole spec: the port group's policy is restated as it is, only the VLAN moves.
            pg = next((p for p in ns.networkInfo.portgroup if p.spec.name == portgroup), None)
            if pg is None:
                raise SoapFault("NotFound", f"no standard port group {portgroup} on this host")
            spec = pg.spec
            spec.vlanId = vlan
            ns.UpdatePortGroup(pgName=portgroup, portgrp=spec)


def _ip_config(ipv4: Optional[str]) -> Any:
    """A static address, or none (the API wants an IP configuration even for an unaddressed vmk)."""
    if ipv4 is None:
        return vim.host.IpConfig(dhcp=False)
    iface = ipaddress.ip_interface(ipv4)
    return vim.host.IpConfig(dhcp=False, ipAddress=str(iface.ip), subnetMask=str(iface.network.netmask))


def _route(ns: Any, add: bool, network: str, gateway: str, stack: str) -> None:
    """Static routes: default stack via UpdateIpRouteTableConfig, other stacks via UpdateNetworkConfig."""
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
    spec = vim.host.NetworkConfig.NetStackSpec(netStackInstance=instance, operation="edit")
    ns.UpdateNetworkConfig(config=vim.host.NetworkConfig(netStackSpec=[spec]), changeMode="modify")


def _login(ep: Endpoint, creds: Credentials, opts: ConnectOptions) -> Any:
    """Log in; returns a pyVmomi ServiceInstance. Maps failures to DiscoveryError.

    Not SmartConnect: its API version probe opens a connection with no
    timeout at all. The probe here is bounded like everything else
    (connect, TLS handshake and each exchange within ``opts.timeout_s``).
    """
    ctx = tls_context(opts)
    try:
        version = _api_version(ep, ctx, opts.timeout_s)
        return Connect(host=ep.host, port=ep.port, user=creds.user, pwd=creds.password, version=version,
                       sslContext=ctx, httpConnectionTimeout=opts.timeout_s)
    except vim.fault.InvalidLogin:
        raise DiscoveryError(f"{ep.label}: the user name or password was refused") from None
    except DiscoveryError:
        raise
    except Exception as exc:
        raise DiscoveryError(f"{ep.label}: {describe(exc, opts.timeout_s)}") from None


def _api_version(ep: Endpoint, ctx: ssl.SSLContext, timeout_s: float) -> str:
    """The newest vim25 API version pyVmomi and the server share, as SmartConnect picks it."""
    conn = http.client.HTTPSConnection(ep.host, ep.port, timeout=timeout_s, context=ctx)
    try:
        conn.request("GET", "/sdk/vimServiceVersions.xml")
        resp = conn.getresponse()
        body = resp.read(MAX_VERSION_LIST + 1)
    finally:
        conn.close()
    if resp.status != 200:
        raise DiscoveryError(f"{ep.label}: not a vCenter or ESXi API (GET /sdk/vimServiceVersions.xml: "
                             f"HTTP {resp.status})")
    try:
        root = ET.fromstring(body[:MAX_VERSION_LIST])
    except ET.ParseError:
        raise DiscoveryError(f"{ep.label}: not a vCenter or ESXi API (its version list is not XML)") from None
    offered = {v.text for v in root.iter("version")}
    for version in GetServiceVersions("vim25"):
        if versionIdMap.get(version) in offered:
            return version
    raise DiscoveryError(f"{ep.label}: shares no vSphere API version with this pyVmomi "
                         f"(the server offers {', '.join(sorted(o for o in offered if o)) or 'none'})")


def retrieve(si: Any, label: str, page_size: int = DEFAULT_PAGE_SIZE, on_page: Optional[PageFn] = None,
             vms: bool = True) -> Inventory:
    """One paged PropertyCollector retrieval over a ContainerView (VMs, folders and datastores in it too)."""
    content = si.RetrieveContent()
    kinds = [vim.HostSystem, vim.DistributedVirtualSwitch, vim.dvs.DistributedVirtualPortgroup, vim.ClusterComputeResource]
    vm_specs = []
    if vms:
        kinds += [vim.VirtualMachine, vim.Datastore, vim.Folder]
        pc_ = vmodl.query.PropertyCollector
        vm_specs = [pc_.PropertySpec(type=vim.VirtualMachine, pathSet=list(VM_PROPERTIES)),
                    pc_.PropertySpec(type=vim.Datastore, pathSet=list(DATASTORE_PROPERTIES)),
                    pc_.PropertySpec(type=vim.Folder, pathSet=list(FOLDER_PROPERTIES))]
    view = content.viewManager.CreateContainerView(content.rootFolder, kinds, True)
    try:
        pc = vmodl.query.PropertyCollector
        spec = pc.FilterSpec(
            objectSet=[
                pc.ObjectSpec(
                    obj=view,
                    skip=False,  # its own "view" lists every host, to notice one vanishing
                    selectSet=[pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)],
                )
            ],
            propSet=[
                pc.PropertySpec(type=vim.view.ContainerView, pathSet=["view"]),
                pc.PropertySpec(type=vim.HostSystem, pathSet=list(HOST_PROPERTIES)),
                pc.PropertySpec(type=vim.DistributedVirtualSwitch, pathSet=list(DVS_PROPERTIES)),
                pc.PropertySpec(type=vim.dvs.DistributedVirtualPortgroup, pathSet=list(DVPG_PROPERTIES)),
                pc.PropertySpec(type=vim.ClusterComputeResource, pathSet=list(CLUSTER_PROPERTIES)),
                *vm_specs,
            ],
            reportMissingObjectsInResults=True,
        )
        hosts: dict[str, dict[str, Any]] = {}
        dvs: dict[str, dict[str, Any]] = {}
        dvpg: dict[str, dict[str, Any]] = {}
        clusters: dict[str, dict[str, Any]] = {}
        vm_props: dict[str, dict[str, Any]] = {}
        datastores: dict[str, dict[str, Any]] = {}
        folders: dict[str, dict[str, Any]] = {}
        faults: dict[str, str] = {}
        listed: list[str] = []
        by_kind = {"HostSystem": hosts, "ClusterComputeResource": clusters, "DistributedVirtualPortgroup": dvpg,
                   "VirtualMachine": vm_props, "Datastore": datastores, "Folder": folders}

        def take(result: XmlData) -> None:
            for kind, moid, props, missing_set in object_contents(result, VM_READER):
                if kind == "ContainerView":
                    refs = props.get("view")
                    refs = as_list(refs.ManagedObjectReference) if isinstance(refs, XmlData) else []
                    listed.extend(moref_id(r) or "" for r in refs if r.mo_type == "HostSystem")
                    continue
                target = by_kind.get(kind)
                if target is None and kind and "DistributedVirtualSwitch" in kind:
                    target = dvs
                if target is None:
                    continue
                target[moid] = props
                for missing in missing_set:
                    if kind == "HostSystem":
                        # MissingProperty.fault is a LocalizedMethodFault; its .fault names the kind.
                        fault = missing.fault.fault if isinstance(missing.fault, XmlData) else None
                        name = (fault.xsi_type if isinstance(fault, XmlData) else None) or "fault"
                        faults[moid] = f"property {missing.path} not returned ({name})"
            if on_page is not None:
                on_page(len(hosts), len(listed) or None)

        # pyVmomi serialises the requests; the (large) answers are read by soapxml.
        for result in retrieve_pages(content.propertyCollector, spec, pc.RetrieveOptions(maxObjects=page_size),
                                     split=split_vm_page if vms else None):
            take(result)
        if vms:
            read_disks(content.propertyCollector, vm_props, page_size, view)
    finally:
        try:
            view.DestroyView()
        except Exception:  # the connection may be gone; the first error is the one to report
            pass
    return Inventory(
        vcenter=label, hosts=hosts, dvswitches=dvs, dvportgroups=dvpg, clusters=clusters,
        listed_hosts=tuple(listed), faults=faults,
        vcenter_version=getattr(getattr(content, "about", None), "version", None),
        vms=vm_props, datastores=datastores, folders=folders,
    )


# Keys asked of every VM at once over the container view; more (an estate of
# many disk layouts) and each set of keys is asked of its own VMs only.
MAX_SHARED_KEYS = 8


def read_disks(collector: Any, vm_props: dict[str, dict[str, Any]], page_size: int, view: Any = None) -> None:
    """Each VM's VirtualDisk devices into its properties under ``config.hardware.device``.

    The disks are asked for by their device keys (layoutEx), as
    ``config.hardware.device[KEY]``: with few distinct keys (the usual
    2000, 2001...), all of them of every VM in ``view`` in one retrieval (a
    key a VM does not hold returns nothing); otherwise per set of keys, of
    the VMs that have it. A VM whose layoutEx was not usable, or whose
    answer lacks one of its disks, has its whole device list read (non-disk
    devices dropped before parsing). A VM gone since the first retrieval
    keeps no disk entry and is reported.
    """
    groups: dict[Optional[tuple[int, ...]], list[str]] = {}
    own: dict[str, tuple[int, ...]] = {}
    for moid, props in vm_props.items():
        keys = disk_keys(props)
        if keys == ():
            props[DEVICES] = []
            continue
        groups.setdefault(keys, []).append(moid)
        if keys:
            own[moid] = keys
    whole = groups.pop(None, [])
    keyed = {keys: ids for keys, ids in groups.items() if keys is not None}
    shared = sorted({k for keys in keyed for k in keys})
    batches: list[tuple[list[int], list[str], Optional[list[str]]]]
    if keyed and view is not None and len(shared) <= MAX_SHARED_KEYS:
        batches = [(shared, [m for ids in keyed.values() for m in ids], None)]
    else:
        batches = [(list(keys), ids, ids) for keys, ids in keyed.items()]
    for asked, ids, objects in batches:
        try:
            answers = _collect(collector, [DISK_DEVICE_PATH.format(key=k) for k in asked], page_size,
                               ids=objects, view=view)
        except SoapFault:  # a server that refuses keyed paths: the whole lists will do
            whole.extend(ids)
            continue
        for moid in ids:
            disks = keyed_disks(answers.get(moid, {}), own[moid])
            if disks is None:
                whole.append(moid)
            else:
                vm_props[moid][DEVICES] = disks
    if whole:
        answers = _collect(collector, [DEVICES], page_size, ids=whole, drop=NON_DISK_DEVICES)
        for moid in whole:
            if moid in answers:  # a VM without a device list (config unset) has no disks we can see
                vm_props[moid][DEVICES] = answers[moid].get(DEVICES, [])


_PLACEHOLDER = "nbdpath-objects"  # stands for the VMs while pyVmomi writes the request


def _collect(collector: Any, paths: list[str], page_size: int, ids: Optional[list[str]] = None, view: Any = None,
             drop: Optional[Any] = None) -> dict[str, dict[str, Any]]:
    """``paths`` of the VirtualMachines ``ids`` (moref ids), else of every VM in ``view``, in one paged
    retrieval: moref id -> {path: value}."""
    pc = vmodl.query.PropertyCollector
    if ids is None:
        objects = [pc.ObjectSpec(obj=view, skip=True, selectSet=[
            pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)])]
    else:
        objects = [pc.ObjectSpec(obj=bind(vim.VirtualMachine, _PLACEHOLDER, collector), skip=False)]
    spec = pc.FilterSpec(objectSet=objects, propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=paths)],
                         reportMissingObjectsInResults=True)
    first = request(collector, "RetrievePropertiesEx", [spec], pc.RetrieveOptions(maxObjects=page_size))
    if ids is not None:
        first = with_objects(first, _PLACEHOLDER, ids)
    out: dict[str, dict[str, Any]] = {}
    for result in retrieve_pages(collector, None, None, drop=drop, first=first):
        for kind, moid, props, missing in object_contents(result, VM_READER):
            if kind == "VirtualMachine" and (props or not missing):  # one reported only in missingSet is gone
                out[moid] = props
    return out
