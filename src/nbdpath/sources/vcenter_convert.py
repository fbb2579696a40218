"""Pure conversion: vCenter property values -> snapshot Hosts and switches.

Input is what one PropertyCollector retrieval returns, grouped per object:
``{"name": ..., "config.network": <HostNetworkInfo>, ...}``. Values are read
by attribute only, so they may be :class:`~nbdpath.sources.soapxml.XmlData`
(what discovery reads) or pyVmomi data objects built offline (what the unit
tests build). No I/O here; :mod:`nbdpath.sources.vcenter` does the talking.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, NamedTuple, Optional

from pydantic import ValidationError

from ..model import (
    DEFAULT_STACK,
    DistributedPortGroup,
    DistributedSwitch,
    DvsMembership,
    Host,
    Netstack,
    ObservedRoute,
    PhysicalNic,
    PortGroup,
    Route,
    StandardSwitch,
    Teaming,
    Vmk,
)
from ..model import Datastore, Vm
from ..model.snapshot import RouteSource, _check_network, normalise_service, normalise_stack
from ..safetext import one_line
from .soapxml import XSI_TYPE, XmlData, as_bool, as_int, as_list, is_data, moref_id

# Property paths read per object type; kept next to the code that uses them.
HOST_PROPERTIES = (
    "name",
    "parent",
    "runtime.connectionState",
    "summary.config.product.version",
    "config.network",
    "config.virtualNicManagerInfo",
)
# VMs: where each is registered and which disks it has. config.hardware.device
# lists every device (a dozen, ~6 KB a VM on vcsim, of which only the VirtualDisk
# entries are read), so the bulk retrieval asks for the disks' device keys
# (layoutEx.disk[].key: "Identifier for the virtual disk in
# VirtualHardware.device", vSphere API reference, VirtualMachineFileLayoutExDiskLayout)
# and their count (summary.config.numVirtualDisks); a second retrieval asks
# for those devices alone by key (DISK_DEVICE_PATH), and for the whole list
# only where the two disagree (DEVICES).
VM_PROPERTIES = ("name", "parent", "runtime.host", "runtime.powerState", "config.template", "layoutEx.disk",
                 "summary.config.numVirtualDisks")
DEVICES = "config.hardware.device"
DISK_DEVICE_PATH = DEVICES + "[{key}]"  # one element of a key-based array, by its key
DATASTORE_PROPERTIES = ("name", "host", "summary.accessible")
FOLDER_PROPERTIES = ("name", "parent")
DVS_PROPERTIES = ("name", "uuid", "config")
DVPG_PROPERTIES = ("name", "key", "config")
CLUSTER_PROPERTIES = ("name",)


class HostSkipped(Exception):
    """A host that cannot be converted; the reason goes into Snapshot.missing."""


@dataclass(frozen=True)
class Inventory:
    """Everything one vCenter returned, as property dicts keyed by moref id."""

    vcenter: str
    hosts: Mapping[str, Mapping[str, Any]]
    dvswitches: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    dvportgroups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    clusters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Moref ids of the hosts the container view listed (to notice one vanishing).
    listed_hosts: tuple[str, ...] = ()
    # moref id -> reason, for objects returned with a fault instead of values.
    faults: Mapping[str, str] = field(default_factory=dict)
    # The server's own version (ServiceContent.about), when known.
    vcenter_version: Optional[str] = None
    vms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    datastores: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    folders: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # VM moref id -> tag names (vSphere Automation API, sources/vcenter_tags.py).
    vm_tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Why the tags were not read, and tag names refused as text: listed under missing.
    tags_missing: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Converted:
    hosts: tuple[Host, ...]
    dvswitches: tuple[DistributedSwitch, ...]
    missing: dict[str, str]
    vcenter_version: Optional[str] = None
    vms: tuple[Vm, ...] = ()
    datastores: tuple[Datastore, ...] = ()


def convert(inv: Inventory) -> Converted:
    """Turn one vCenter's properties into hosts, switches and what is missing.

    An object the model refuses (a name with a control character, a VLAN out
    of range) is left out and listed under ``missing`` in one line, its name
    escaped; the rest of the inventory is still read.
    """
    dvpg_by_key = {_get(p, "key") or mid: p for mid, p in inv.dvportgroups.items()}
    dvs_by_uuid = {_get(d, "uuid"): d for d in inv.dvswitches.values()}
    missing: dict[str, str] = {}
    switches = []
    for mid, d in inv.dvswitches.items():
        try:
            switches.append(_dvs(mid, d, inv.dvportgroups))
        except (ValueError, TypeError, AttributeError) as exc:
            missing[f"{inv.vcenter}/{one_line(str(d.get('name') or mid))}"] = f"distributed switch not read ({_reason(exc)})"
    hosts: list[Host] = []
    host_ids: list[str] = []
    for mid in inv.listed_hosts or tuple(inv.hosts):
        props = inv.hosts.get(mid)
        if props is None:
            label = f"{inv.vcenter}/{mid}"
            missing[label] = inv.faults.get(mid, "vanished from the inventory during discovery")
            continue
        name = one_line(_own_name(str(props.get("name") or mid), _get(props.get("config.network"), "dnsConfig")))
        try:
            if mid in inv.faults:
                raise HostSkipped(inv.faults[mid])
            hosts.append(_host(props, inv, dvpg_by_key, dvs_by_uuid).model_copy(update={"moref": mid}))
            host_ids.append(mid)
        except HostSkipped as exc:
            missing[name] = one_line(str(exc))
        except (ValueError, TypeError, AttributeError) as exc:
            # An unexpected shape from one host must not sink the whole run.
            missing[name] = f"could not read its network configuration ({_reason(exc)})"
    hosts = _unique_names(hosts)
    host_names = {mid: h.name for mid, h in zip(host_ids, hosts)}
    for mid, props in inv.hosts.items():
        host_names.setdefault(mid, one_line(str(props.get("name") or mid)))  # not read: named in messages only
    read = {h.name for h in hosts}
    datastores, ds_names = convert_datastores(inv, {m: n for m, n in host_names.items() if n in read}, missing)
    vms = convert_vms(inv, host_names, read, ds_names, missing)
    return Converted(tuple(sorted(hosts, key=lambda h: h.name)), tuple(sorted(switches, key=lambda s: s.name)), missing,
                     inv.vcenter_version, vms, datastores)


def _reason(exc: Exception) -> str:
    """One escaped line: a model error's field and message, never the (untrusted, maybe huge) value."""
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in err["loc"])
        return one_line(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")[:300]
    return one_line(str(exc))[:300]


def _unique_names(hosts: list[Host]) -> list[Host]:
    """Hosts added by IP are named by their DNS name; should two share one, they keep their IP."""
    seen: dict[str, int] = {}
    for h in hosts:
        seen[h.name] = seen.get(h.name, 0) + 1
    return [h.model_copy(update={"name": h.management_address}) if seen[h.name] > 1 and h.management_address else h
            for h in hosts]


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    value = getattr(obj, name, default)
    return default if value is None else value


# Values come either as pyVmomi data objects or as soapxml.XmlData (text
# leaves, one-element arrays unwrapped): these helpers read both alike.
_seq = as_list
_moid = moref_id


def _host(props: Mapping[str, Any], inv: Inventory, dvpg_by_key: dict, dvs_by_uuid: dict) -> Host:
    inventory_name = str(props.get("name"))
    state = props.get("runtime.connectionState")
    if state is not None and str(state) != "connected":
        raise HostSkipped(f"connection state is {state}")
    network = props.get("config.network")
    if network is None:
        raise HostSkipped("returned no config.network (not connected or no permission)")
    version = str(props.get("summary.config.product.version") or "")
    cluster = None
    parent = _moid(props.get("parent"))
    if parent and parent in inv.clusters:
        cluster = inv.clusters[parent].get("name")

    pnics = tuple(_pnic(p) for p in _seq(_get(network, "pnic")))
    pnic_by_key = {_get(p, "key"): _get(p, "device") for p in _seq(_get(network, "pnic"))}
    vswitches = tuple(_vswitch(s, network, pnic_by_key) for s in _seq(_get(network, "vswitch")))
    memberships = tuple(_membership(ps, dvs_by_uuid) for ps in _seq(_get(network, "proxySwitch")))
    netstacks = _netstacks(network)
    services = _services(props.get("config.virtualNicManagerInfo"))
    vmks = tuple(
        _vmk(v, services.get(_get(v, "device"), ()), dvpg_by_key) for v in _seq(_get(network, "vnic"))
    )
    return Host(
        name=_own_name(inventory_name, _get(network, "dnsConfig")),
        version=_version(version),
        vcenter=inv.vcenter,
        cluster=cluster,
        # vCenter reaches (and hands out) the host by the name or IP it was added with.
        management_address=inventory_name,
        pnics=pnics,
        vswitches=vswitches,
        dvswitches=memberships,
        netstacks=netstacks,
        vmks=tuple(sorted(vmks, key=lambda v: v.number)),
    )


def _own_name(inventory_name: str, dns: Any) -> str:
    """The host's name: as vCenter lists it, unless it was added by IP; then its own DNS name."""
    try:
        ipaddress.ip_address(inventory_name)
    except ValueError:
        return inventory_name
    host, domain = _get(dns, "hostName"), _get(dns, "domainName")
    if not host:
        return inventory_name
    return f"{host}.{domain}" if domain and "." not in host else str(host)


def _version(v: str) -> str:
    parts = [p for p in v.split(".") if p.isdigit()][:4]
    if not parts:
        raise HostSkipped(f"reported no usable ESXi version ({v!r})")
    return ".".join(parts)


def _pnic(p: Any) -> PhysicalNic:
    live = _get(p, "linkSpeed")
    configured = _get(_get(p, "spec"), "linkSpeed")
    speed = as_int(_get(live, "speedMb")) or as_int(_get(configured, "speedMb")) or None
    return PhysicalNic(
        name=_get(p, "device"),
        speed_mbps=speed,
        # vSphere leaves linkSpeed unset when the link is down.
        link_up=live is not None,
        mac=_get(p, "mac") or None,
    )


def _order(nic_order: Any, members: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    active = tuple(_seq(_get(nic_order, "activeNic")) or _seq(_get(nic_order, "activeUplinkPort")))
    standby = tuple(_seq(_get(nic_order, "standbyNic")) or _seq(_get(nic_order, "standbyUplinkPort")))
    # vSphere lists active and standby; every other member is unused.
    unused = tuple(m for m in members if m not in active and m not in standby)
    return active, standby, unused


def _nic_teaming(policy: Any, members: tuple[str, ...], inherit_if_empty: bool) -> Optional[Teaming]:
    """A standard switch / port group HostNicTeamingPolicy as a Teaming."""
    if policy is None:
        return None if inherit_if_empty else Teaming(policy="loadbalance_srcid")
    name = _get(policy, "policy") or None
    order = _get(policy, "nicOrder")
    if order is None:
        if name is None and inherit_if_empty:
            return None
        return Teaming(policy=name)
    active, standby, unused = _order(order, members)
    return Teaming(policy=name, active=active, standby=standby, unused=unused)


def _vswitch(s: Any, network: Any, pnic_by_key: dict) -> StandardSwitch:
    spec = _get(s, "spec")
    uplinks = tuple(pnic_by_key.get(k, k) for k in _seq(_get(s, "pnic")))
    if not uplinks:
        uplinks = tuple(_seq(_get(_get(spec, "bridge"), "nicDevice")))
    sw_policy = _get(_get(spec, "policy"), "nicTeaming")
    teaming = _nic_teaming(sw_policy, uplinks, inherit_if_empty=False) or Teaming(policy="loadbalance_srcid")
    if teaming.policy is None:
        teaming = teaming.model_copy(update={"policy": "loadbalance_srcid"})
    key = _get(s, "key")
    portgroups = []
    for pg in _seq(_get(network, "portgroup")):
        pspec = _get(pg, "spec")
        if _get(pg, "vswitch") != key and _get(pspec, "vswitchName") != _get(s, "name"):
            continue
        pteam = _nic_teaming(_get(_get(pspec, "policy"), "nicTeaming"), uplinks, inherit_if_empty=True)
        portgroups.append(PortGroup(name=_get(pspec, "name"), vlan=as_int(_get(pspec, "vlanId")) or 0, teaming=pteam))
    return StandardSwitch(
        name=_get(s, "name"),
        uplinks=uplinks,
        mtu=as_int(_get(s, "mtu")) or as_int(_get(spec, "mtu")) or 1500,
        teaming=teaming,
        portgroups=tuple(portgroups),
    )


def _uplink_teaming(
    policy: Any, ports: tuple[str, ...], inheritable: bool, lags: Mapping[str, tuple[str, ...]]
) -> Optional[Teaming]:
    """A VmwareUplinkPortTeamingPolicy as a Teaming; inherited parts become None.

    A LAG named in the order (enhanced LACP: active ["lag1"]) stands for its
    LAG ports (lag1-0, lag1-1...), and the policy is then LACP.
    """
    if policy is None or (inheritable and as_bool(_get(policy, "inherited", False))):
        return None
    name_policy = _get(policy, "policy")
    name = None
    if name_policy is not None and not (inheritable and as_bool(_get(name_policy, "inherited", False))):
        name = _get(name_policy, "value")
    order = _get(policy, "uplinkPortOrder")
    if order is None or (inheritable and as_bool(_get(order, "inherited", False))):
        if name is None:
            return None
        return Teaming(policy=name)
    active, standby, unused = _order(order, ports)
    if any(a in lags for a in active):
        name = "lacp"

    def expand(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(p for n in names for p in lags.get(n, (n,)))

    active, standby = expand(active), expand(standby)
    unused = tuple(p for p in ports if p not in active and p not in standby)
    return Teaming(policy=name, active=active, standby=standby, unused=unused)


def _dvs(moid: str, d: Mapping[str, Any], dvportgroups: Mapping[str, Mapping[str, Any]]) -> DistributedSwitch:
    config = d.get("config")
    ports = tuple(_seq(_get(_get(config, "uplinkPortPolicy"), "uplinkPortName"))) or ("uplink1", "uplink2")
    # LAG ports are uplink ports too: hosts map them to vmnics like the others.
    lags = {_get(g, "name"): tuple(_seq(_get(g, "uplinkName"))) for g in _seq(_get(config, "lacpGroupConfig"))}
    ports += tuple(p for members in lags.values() for p in members if p not in ports)
    default = _get(config, "defaultPortConfig")
    teaming = _uplink_teaming(_get(default, "uplinkTeamingPolicy"), ports, inheritable=False, lags=lags)
    if teaming is None or teaming.policy is None:
        teaming = (teaming or Teaming()).model_copy(update={"policy": "loadbalance_srcid"})
    own = []
    for pg in dvportgroups.values():
        pconfig = pg.get("config")
        if _moid(_get(pconfig, "distributedVirtualSwitch")) != moid or as_bool(_get(pconfig, "uplink", False)):
            continue  # another switch's, or the DVUplinks port group (never holds vmks)
        pdefault = _get(pconfig, "defaultPortConfig")
        vlan = _get(_get(pdefault, "vlan"), "vlanId", 0)
        vlan = as_int(vlan) if isinstance(vlan, (int, str)) else None
        own.append(
            DistributedPortGroup(
                name=str(pg.get("name")),
                # A trunk / private VLAN port group has no single tag: recorded as 0.
                vlan=vlan or 0,
                teaming=_uplink_teaming(_get(pdefault, "uplinkTeamingPolicy"), ports, inheritable=True, lags=lags),
            )
        )
    return DistributedSwitch(
        name=str(d.get("name")),
        uplink_ports=ports,
        mtu=as_int(_get(config, "maxMtu")) or 1500,
        teaming=teaming,
        portgroups=tuple(sorted(own, key=lambda p: p.name)),
    )


def _membership(ps: Any, dvs_by_uuid: dict) -> DvsMembership:
    uuid = _get(ps, "dvsUuid")
    dvs = dvs_by_uuid.get(uuid)
    if dvs is None:
        raise HostSkipped(f"is a member of distributed switch {_get(ps, 'dvsName')!r} which vCenter did not return")
    port_name = {_get(kv, "key"): _get(kv, "value") for kv in _seq(_get(ps, "uplinkPort"))}
    uplinks: dict[str, str] = {}
    for spec in _seq(_get(_get(_get(ps, "spec"), "backing"), "pnicSpec")):
        port = port_name.get(_get(spec, "uplinkPortKey"))
        if port:
            uplinks[port] = _get(spec, "pnicDevice")
    return DvsMembership(switch=dvs.get("name"), uplinks=uplinks)


def _gateway(route_config: Any) -> Optional[str]:
    gw = _get(route_config, "defaultGateway")
    return gw if gw and gw != "0.0.0.0" else None


def _netstacks(network: Any) -> tuple[Netstack, ...]:
    stacks: list[Netstack] = []
    live = _get(network, "routeTableInfo")  # the default stack's table as the host runs it
    for inst in _seq(_get(network, "netStackInstance")):
        ops = [op for op in _seq(_get(_get(inst, "routeTableConfig"), "ipRoute"))
               if str(_get(op, "changeOperation", "add")) != "remove"]
        configured = [_get(op, "route") for op in ops]
        routes = [r for r in (_route(e) for e in configured) if r is not None]
        key = _get(inst, "key")
        if normalise_stack(str(key)) == DEFAULT_STACK:
            table = _route_table(_get(live, "ipRoute"), configured) if live is not None else None
        else:
            table = _route_table(configured, configured) if _reported_live(configured) else None
        stacks.append(Netstack(key=key, gateway=_gateway(_get(inst, "ipRouteConfig")), routes=tuple(routes),
                               route_table=table))
    if not any(s.key == DEFAULT_STACK for s in stacks):
        # Older hosts describe only the default stack, in ipRouteConfig / routeTableInfo.
        entries = _seq(_get(live, "ipRoute"))
        static = [r for r in (_route(e) for e in entries) if r is not None]
        stacks.insert(0, Netstack(key=DEFAULT_STACK, gateway=_gateway(_get(network, "ipRouteConfig")),
                                  routes=tuple(static), route_table=_route_table(entries, None)))
    return tuple(stacks)


def _reported_live(entries: list[Any]) -> bool:
    """Whether a stack's routeTableConfig holds rows the host filled in itself.

    routeTableConfig is configuration (routes to add or remove): clients
    cannot set ``deviceName`` ("can only be read from the server"), and only
    the host adds connected rows. Without such a row it is the static routes
    alone, and taking it for the whole table would make A3 look decided.
    """
    return any(f.get("deviceName") and f.get("gateway") in (None, "", "0.0.0.0") for f in map(_entry_fields, entries))


def _route_table(entries: Any, configured: Optional[list[Any]]) -> Optional[tuple[ObservedRoute, ...]]:
    """A stack's IPv4 routing table as the host reported it; None if there is none or a row is unreadable.

    vCenter gives no origin per row: a row through a gateway is "manual" when
    it is one of the stack's configured routes, else "unknown" -- it may be a
    dynamic host route ESXi learned from an ICMP redirect (VMware KB 344105),
    which vCenter does not tell apart. ``configured`` None: no configuration
    to compare with (older hosts), every such row "unknown".
    """
    rows = []
    try:
        known = {_route_key(f) for f in _v4(configured or ())}
        for f in _v4(_seq(entries)):
            network, gw = key = _route_key(f)
            source: RouteSource = ("local" if gw is None else "default" if network == "0.0.0.0/0"
                      else "manual" if key in known else "unknown")
            rows.append(_observed_row(network, gw, f.get("deviceName") or None, source))
    except (ValueError, TypeError):
        # A partial table would pass for the whole one (a missing connected row decides A3).
        return None
    return tuple(rows) or None


@functools.lru_cache(maxsize=4096)
def _observed_row(network: str, gateway: Optional[str], device: Optional[str], source: RouteSource) -> ObservedRoute:
    """Rows repeat across a cluster's hosts (same subnets, vmks, gateway): validated once, shared (frozen)."""
    return ObservedRoute(network=network, gateway=gateway, device=device, source=source)


_ENTRY_FIELDS = ("network", "prefixLength", "gateway", "deviceName")


def _entry_fields(entry: Any) -> dict[str, Any]:
    """A HostIpRouteEntry's fields in one pass: every host has a table, and an attribute read is a search."""
    if isinstance(entry, XmlData):
        cut = len(entry._ns)
        return {child.tag[cut:]: child.text for child in entry._el}
    return {name: getattr(entry, name, None) for name in _ENTRY_FIELDS}


def _v4(entries: Iterable[Any]) -> list[dict[str, Any]]:
    """The fields of IPv4 rows only: IPv6 ones (ipv6Route, but be sure) are not traced."""
    fields = (_entry_fields(e) for e in entries)
    return [f for f in fields if f.get("network") and ":" not in str(f["network"])]


def _route_key(f: Mapping[str, Any]) -> tuple[str, Optional[str]]:
    """(network in CIDR, gateway or None for a connected row) of a HostIpRouteEntry's fields."""
    cidr = f"{f['network']}/{as_int(f.get('prefixLength')) or 0}"
    try:
        cidr = _check_network(cidr)  # the model's fast path for a plain subnet
    except ValueError:
        cidr = str(ipaddress.IPv4Network(cidr, strict=False))  # host bits set: its subnet
    gw = f.get("gateway")
    return cidr, (None if gw in (None, "", "0.0.0.0") else str(gw))


def _route(entry: Any) -> Optional[Route]:
    """A static route; connected (gateway 0.0.0.0) and default routes are not routes here."""
    network, plen, gw = _get(entry, "network"), _get(entry, "prefixLength", 0), _get(entry, "gateway")
    if not network or not gw or gw == "0.0.0.0" or not as_int(plen):
        return None
    try:
        net = ipaddress.ip_network(f"{network}/{plen}", strict=False)
    except ValueError:
        return None
    if net.version != 4:
        return None
    return Route(network=str(net), gateway=gw)


def _services(info: Any) -> dict[str, tuple[str, ...]]:
    """vmk device -> service tags, matching selectedVnic keys exactly.

    vCenter lists selected vnics by key, e.g.
    ``vSphereBackupNFC.key-vim.host.VirtualNic-vmk1``; a key is looked up in
    that netConfig's candidates, never matched by substring (vmk1 is not vmk10).
    """
    out: dict[str, list[str]] = {}
    for nc in _net_configs(info):
        nic_type = _get(nc, "nicType")
        try:
            service = normalise_service(nic_type)
        except ValueError:
            continue  # a NicType newer than this model: not a routing input
        selected = _seq(_get(nc, "selectedVnic"))
        if not selected:
            continue  # most NicTypes select nothing: skip their candidate lists
        by_key = {}
        for cand in _seq(_get(nc, "candidateVnic")):
            by_key[_get(cand, "key")] = _get(cand, "device")
        for key in selected:
            device = by_key.get(key)
            if device is None:
                bare = key[len(nic_type) + 1 :] if key.startswith(f"{nic_type}.") else key
                prefix = "key-vim.host.VirtualNic-"
                device = bare[len(prefix) :] if bare.startswith(prefix) else None
            if device:
                out.setdefault(device, [])
                if service not in out[device]:
                    out[device].append(service)
    return {d: tuple(s) for d, s in out.items()}


def _net_configs(info: Any) -> list[Any]:
    """netConfig entries that select at least one vnic (12 NicTypes, most select none)."""
    if isinstance(info, XmlData):
        # Hot path on large estates: filter in ElementTree before wrapping.
        el, ns = info._el, info._ns
        return [XmlData(nc, ns) for nc in el.iterfind(ns + "netConfig") if nc.find(ns + "selectedVnic") is not None]
    return [nc for nc in _seq(_get(info, "netConfig")) if _get(nc, "selectedVnic")]


def _vmk(v: Any, services: tuple[str, ...], dvpg_by_key: dict) -> Vmk:
    spec = _get(v, "spec")
    ip = _get(spec, "ip")
    ipv4 = None
    if _get(ip, "ipAddress") and _get(ip, "subnetMask"):
        ipv4 = str(ipaddress.ip_interface(f"{_get(ip, 'ipAddress')}/{_get(ip, 'subnetMask')}"))
    portgroup = _get(v, "portgroup") or _get(spec, "portgroup")
    dvport = _get(spec, "distributedVirtualPort")
    if not portgroup and dvport is not None:
        pg = dvpg_by_key.get(_get(dvport, "portgroupKey"))
        if pg is None:
            raise HostSkipped(
                f"{_get(v, 'device')} is on distributed port group {_get(dvport, 'portgroupKey')!r} which vCenter did not return"
            )
        portgroup = pg.get("name")
    if not portgroup:
        raise HostSkipped(f"{_get(v, 'device')} is on no port group this tool can read (opaque/NSX network?)")
    gw = _gateway(_get(_get(spec, "ipRouteSpec"), "ipRouteConfig"))
    return Vmk(
        device=_get(v, "device"),
        portgroup=portgroup,
        ipv4=ipv4,
        mac=_get(spec, "mac") or None,
        netstack=_get(spec, "netStackInstanceKey") or DEFAULT_STACK,
        mtu=as_int(_get(spec, "mtu")) or 1500,
        services=services,
        gateway=gw,
    )


# ---- VMs and datastores ----

_GIB = 2**30


def convert_datastores(inv: Inventory, host_names: Mapping[str, str], missing: dict[str, str]
                       ) -> tuple[tuple[Datastore, ...], dict[str, str]]:
    """Datastores with the hosts that mount them read-write, in vCenter's order; and moref id -> name.

    The order is kept: VDDK's guide says vCenter reads a disk not tied to a
    running VM through "the first host with read/write access". Mounts of
    hosts not read (disconnected, refused) are left out: those hosts are
    already listed under missing.
    """
    ids = list(inv.datastores)
    names = unique_names([(one_line(str(inv.datastores[m].get("name") or m)), (f"{inv.vcenter}/{m}",)) for m in ids])
    out: list[Datastore] = []
    by_id: dict[str, str] = {}
    for mid, name in zip(ids, names):
        props = inv.datastores[mid]
        accessible = props.get("summary.accessible")
        try:
            ds = Datastore(name=name, hosts=_rw_hosts(props.get("host"), host_names),
                           accessible=True if accessible is None else as_bool(accessible))
        except (ValueError, TypeError, AttributeError) as exc:
            missing[f"datastore:{name}"] = f"not read ({_reason(exc)}); its VMs' disks are left out with it"
            continue
        out.append(ds)
        by_id[mid] = name
    return tuple(sorted(out, key=lambda d: d.name)), by_id


def _items(value: Any) -> list[Any]:
    """The entries of a property whose value is an array (``<val xsi:type="ArrayOf...">`` holds them as children)."""
    if isinstance(value, XmlData):
        return [XmlData(child, value._ns) for child in value._el]
    return _seq(value)


def _rw_hosts(mounts: Any, host_names: Mapping[str, str]) -> tuple[str, ...]:
    hosts: list[str] = []
    for m in _items(mounts):
        info = _get(m, "mountInfo")
        if str(_get(info, "accessMode", "")) != "readWrite":
            continue
        # mounted/accessible are optional in the API: absent means mounted.
        if _get(info, "mounted") is not None and not as_bool(_get(info, "mounted")):
            continue
        name = host_names.get(_moid(_get(m, "key")) or "")
        if name and name not in hosts:
            hosts.append(name)
    return tuple(hosts)


def convert_vms(inv: Inventory, host_names: Mapping[str, str], read: set[str], ds_names: Mapping[str, str],
                missing: dict[str, str]) -> tuple[Vm, ...]:
    """VMs of hosts that were read, named uniquely (see :func:`unique_names`).

    A VM on a host that was not read is left out (one ``vms:HOST`` entry per
    such host says how many); one whose disk lies on a datastore vCenter did
    not return is left out under ``vm:NAME``.
    """
    ids = list(inv.vms)
    folders: list[Optional[str]] = []
    candidates = []
    for mid in ids:
        props = inv.vms[mid]
        folder = _folder_name(inv.folders.get(_moid(props.get("parent")) or ""))
        folders.append(one_line(str(folder)) if folder else None)
        candidates.append((one_line(str(props.get("name") or mid)),
                           ((folders[-1],) if folders[-1] else ()) + (f"{inv.vcenter}/{mid}",)))
    names = unique_names(candidates)
    missing.update(inv.tags_missing)
    vms: list[Vm] = []
    orphans: dict[str, int] = {}
    for mid, name, folder in zip(ids, names, folders):
        props = inv.vms[mid]
        host_id = _moid(props.get("runtime.host")) or ""
        host = host_names.get(host_id)
        if host not in read:
            label = host or f"{inv.vcenter}/{host_id or '?'}"
            orphans[label] = orphans.get(label, 0) + 1
            continue
        if DEVICES not in props:
            missing[f"vm:{name}"] = "left out (vanished from the inventory before its disks were read)"
            continue
        try:
            disks = [_disk(label, size, ds_names, ds) for label, size, ds in _disk_fields(props[DEVICES])]
            state = props.get("runtime.powerState")
            # One validation per VM, its disks included (pydantic's core walks them without Python calls).
            vms.append(Vm.model_validate({
                "name": name, "host": host, "power_state": str(state) if state else "poweredOn",
                "template": as_bool(props.get("config.template")), "folder": folder,
                "tags": inv.vm_tags.get(mid, ()), "disks": disks, "moref": mid}))
        except (HostSkipped, ValueError, TypeError, AttributeError) as exc:
            missing[f"vm:{name}"] = f"left out ({exc if isinstance(exc, HostSkipped) else _reason(exc)})"
    for label, count in sorted(orphans.items()):
        missing[f"vms:{label}"] = f"{count} VM(s) registered on it left out: the host was not read"
    return tuple(sorted(vms, key=lambda v: v.name))


def _folder_name(folder: Optional[Mapping[str, Any]]) -> Optional[str]:
    """A VM folder's name; None for a datacenter's own root folder ("vm") and for a VM in a vApp (no folder parent)."""
    if folder is None:
        return None
    parent = folder.get("parent")
    if parent is None or (getattr(parent, "mo_type", None) or type(parent).__name__.rpartition(".")[2]) == "Datacenter":
        return None
    name = folder.get("name")
    return str(name) if name else None


def _disk(label: Optional[str], size: Optional[int], ds_names: Mapping[str, str], ds: Optional[str]) -> dict[str, Any]:
    """A VirtualDisk's fields, validated with its VM."""
    store = ds_names.get(ds or "")
    if store is None:
        raise HostSkipped(f"disk {one_line(str(label or '?'))} is on datastore {ds or '(none)'} which vCenter did not return")
    return {"label": label or None, "capacity_gib": round((size or 0) / _GIB, 3), "datastore": store}


class Disk(NamedTuple):
    """A VirtualDisk device as discovery reads it, in plain values (see :func:`vm_value`)."""

    label: Optional[str]
    size: Optional[int]  # capacity in bytes
    datastore: Optional[str]  # moref id


# VM properties whose value is a moref; read as its id.
_VM_REFS = frozenset(("parent", "runtime.host"))


def vm_value(path: str, el: Any, ns: str) -> Any:
    """A VirtualMachine property's ``val`` element as plain values (a soapxml reader), else as XmlData.

    Plain: a moref's id for ``parent`` and ``runtime.host``; the device keys
    (a tuple of ints) for ``layoutEx.disk``; a :class:`Disk` (or None for
    another device) for ``config.hardware.device[KEY]``, a list of them for
    the whole device list. Read so, 20,000 VMs keep no reference into their
    pages, whose trees are freed page by page instead of all at the end; the
    conversion reads either form alike (same results, tests/sources).
    """
    if len(el) == 0:  # a leaf: what _value does, inline (seven of a VM's nine values)
        if el.get("type") is not None:
            return el.text if path in _VM_REFS else XmlData(el, ns)
        if el.text:
            return el.text
        if not is_data(el):
            return ""
    if path == "layoutEx.disk":
        tag = ns + "key"
        return tuple(k for k in (as_int(d.findtext(tag)) for d in el) if k is not None)
    if path == DEVICES:
        return [_disk_element(d, ns) for d in el if _is_disk(d)]
    if path.startswith(DEVICES + "["):
        return _disk_element(el, ns) if _is_disk(el) else None
    return XmlData(el, ns)


def disk_keys(props: Mapping[str, Any]) -> Optional[tuple[int, ...]]:
    """The device keys of a VM's disks from its layoutEx; None when they cannot be trusted.

    layoutEx is optional (unset for a VM whose files vCenter cannot read): when
    it lists another number of disks than summary.config.numVirtualDisks, the
    whole device list is read instead.
    """
    layout = props.get("layoutEx.disk")
    if isinstance(layout, tuple):  # already read (vm_value)
        found: Iterable[Optional[int]] = layout
    elif isinstance(layout, XmlData):  # read directly: 20,000 VMs, and attribute lookups cost more than the parse
        tag = layout._ns + "key"
        found = (as_int(d.findtext(tag)) for d in layout._el)
    else:
        found = (as_int(_get(d, "key")) for d in _items(layout))
    keys = tuple(k for k in found if k is not None)
    count = as_int(props.get("summary.config.numVirtualDisks")) or 0
    return keys if len(keys) == count and len(set(keys)) == len(keys) else None


def keyed_disks(props: Mapping[str, Any], keys: tuple[int, ...]) -> Optional[list[Any]]:
    """The VirtualDisk devices a keyed retrieval returned for ``keys``, in that order; None if one is not there."""
    found = [props.get(p) for p in _device_paths(keys)]
    if any(_type_name(d) != "VirtualDisk" for d in found):
        return None
    return found


@functools.lru_cache(maxsize=64)  # a few disk layouts serve 20,000 VMs
def _device_paths(keys: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(DISK_DEVICE_PATH.format(key=k) for k in keys)


def _type_name(device: Any) -> Optional[str]:
    if isinstance(device, Disk):
        return "VirtualDisk"
    if isinstance(device, XmlData):
        return (device.xsi_type or "").rpartition(":")[2]
    return None if device is None else type(device).__name__.rpartition(".")[2]


def _device_elements(devices: Any) -> tuple[Optional[list[Any]], str]:
    """(XML elements, namespace) of an array value or of a list of device values; (None, "") otherwise."""
    if isinstance(devices, XmlData):
        return list(devices._el), devices._ns
    if isinstance(devices, list) and devices and all(isinstance(d, XmlData) for d in devices):
        return [d._el for d in devices], devices[0]._ns
    return None, ""


def _disk_fields(devices: Any) -> list[Disk]:
    """(label, capacity in bytes, datastore moref id) of each VirtualDisk among a VM's devices.

    ``devices``: the whole device list (an array value) or the disks a keyed
    retrieval returned (a list of device values). A VM lists a dozen devices
    (controllers, keyboard, video, NICs...); on 20,000 VMs wrapping each one
    would cost more than the rest of the VM.
    """
    if isinstance(devices, list) and all(isinstance(d, Disk) for d in devices):
        return list(devices)  # read already (vm_value)
    elements, ns = _device_elements(devices)
    if elements is not None:
        return [_disk_element(el, ns) for el in elements if _is_disk(el)]
    out = []
    for d in _seq(devices):
        if type(d).__name__.rpartition(".")[2] != "VirtualDisk":
            continue
        size = as_int(_get(d, "capacityInBytes")) or (as_int(_get(d, "capacityInKB")) or 0) * 1024
        out.append(Disk(_get(_get(d, "deviceInfo"), "label"), size, _moid(_get(_get(d, "backing"), "datastore"))))
    return out


def _is_disk(el: Any) -> bool:
    return bool((el.get(XSI_TYPE) or "").rpartition(":")[2] == "VirtualDisk")


def _disk_element(el: Any, ns: str) -> Disk:
    """A VirtualDisk element's fields (the first of each); ``ns``: the namespace of its tags.

    Direct children only, found by ElementTree's C lookups: a walk over the
    children in Python, or ElementPath paths, cost more than the rest of the VM.
    """
    size = as_int(el.findtext(ns + "capacityInBytes"))
    if size is None:
        kb = as_int(el.findtext(ns + "capacityInKB"))
        size = None if kb is None else kb * 1024
    info, backing = el.find(ns + "deviceInfo"), el.find(ns + "backing")
    return Disk(None if info is None else info.findtext(ns + "label"), size,
                None if backing is None else backing.findtext(ns + "datastore"))


def unique_names(candidates: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """Names made unique deterministically: a name that several objects share gets its qualifiers.

    VM names repeat across folders and datacenters (and datastore names across
    datacenters): every holder of a shared name becomes "NAME (QUALIFIER)",
    with its first qualifier (the VM's folder), then its next (vcenter/moref
    id) where the first did not tell them apart. A name held once is kept.
    """
    names = [base for base, _ in candidates]
    for level in range(max((len(q) for _, q in candidates), default=0) + 1):
        counts: dict[str, int] = {}
        for n in names:
            counts[n] = counts.get(n, 0) + 1
        shared = [i for i, n in enumerate(names) if counts[n] > 1]
        if not shared:
            return names
        for i in shared:
            base, quals = candidates[i]
            names[i] = f"{base} ({quals[min(level, len(quals) - 1)]})" if quals else f"{base} (#{i + 1})"
    # Only a real name that equals another's qualified one gets here.
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[i] = f"{n} (#{seen[n]})"
    return names
