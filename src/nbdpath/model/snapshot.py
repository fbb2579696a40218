"""Snapshot types: the pure, typed description of a vSphere estate.

Everything the engine reads is here. The model only validates shapes and
values; cross references (port group -> switch, vmk -> stack, ...) are
checked by :mod:`nbdpath.model.validate` so that every error can name its
field path.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, field_validator, model_validator
from pydantic_core import core_schema

from ..safetext import SAFE_NAME_PATTERN, SAFE_TEXT_PATTERN, is_safe_name

SCHEMA_VERSION = 1

DEFAULT_STACK = "defaultTcpipStack"

# vCenter's NicType names and esxcli's tag names differ in case
# ("VMotion" vs "vmotion"); both are accepted and normalised to vCenter's.
_SERVICE_NAMES = {
    "management": "management",
    "vmotion": "vmotion",
    "faulttolerancelogging": "faultToleranceLogging",
    "faulttolerance": "faultToleranceLogging",
    "vspherereplication": "vSphereReplication",
    "vspherereplicationnfc": "vSphereReplicationNFC",
    "vsan": "vsan",
    "vsanwitness": "vsanWitness",
    "vsanexternal": "vsanExternal",
    "vsphereprovisioning": "vSphereProvisioning",
    "vspherebackupnfc": "vSphereBackupNFC",
    "ptp": "ptp",
    "nvmetcp": "nvmeTcp",
    "nvmerdma": "nvmeRdma",
}
SERVICES = tuple(sorted(set(_SERVICE_NAMES.values())))
BACKUP_NFC = "vSphereBackupNFC"
BACKUP_NFC_SINCE = (7, 0)

_STACK_ALIASES = {
    "default": DEFAULT_STACK,
    "defaulttcpipstack": DEFAULT_STACK,
    "vmotion": "vmotion",
    "vsphereprovisioning": "vSphereProvisioning",
    "provisioning": "vSphereProvisioning",
}

TeamingPolicyName = Literal[
    "loadbalance_srcid",  # route based on originating virtual port
    "loadbalance_ip",  # IP hash
    "loadbalance_srcmac",
    "loadbalance_loadbased",  # distributed switches only
    "failover_explicit",
    "lacp",
]

# esxcli / vCenter spellings of teaming policies.
_POLICY_ALIASES = {
    "srcport": "loadbalance_srcid",
    "portid": "loadbalance_srcid",
    "loadbalance_srcid": "loadbalance_srcid",
    "iphash": "loadbalance_ip",
    "loadbalance_ip": "loadbalance_ip",
    "mac": "loadbalance_srcmac",
    "loadbalance_srcmac": "loadbalance_srcmac",
    "loadbased": "loadbalance_loadbased",
    "loadbalance_loadbased": "loadbalance_loadbased",
    "explicit": "failover_explicit",
    "failover_explicit": "failover_explicit",
    "lacp": "lacp",
}

Product = Literal["veeam-proxy", "rubrik-node", "commvault", "cohesity", "generic-vadp"]


def normalise_service(name: str) -> str:
    """Return vCenter's spelling of a service tag, or raise ValueError."""
    key = name.replace("_", "").replace("-", "").replace(" ", "").lower()
    try:
        return _SERVICE_NAMES[key]
    except KeyError:
        raise ValueError(
            f"unknown service tag {name!r}; expected one of {', '.join(SERVICES)}"
        ) from None


def normalise_stack(name: str) -> str:
    return _STACK_ALIASES.get(name.lower(), name)


class _Refuse:
    """Refuse strings that do not match ``pattern`` with ``message``, before whitespace is stripped.

    All in pydantic's Rust validator (no Python call per string): a chain of
    str (the usual type error), the pattern with its own message, then the
    field's normal schema (stripping and any further constraints).
    """

    def __init__(self, pattern: str, message: str):
        self.pattern, self.message = pattern, message

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        check = core_schema.custom_error_schema(
            core_schema.str_schema(pattern=self.pattern, strip_whitespace=False),
            custom_error_type="unsafe_text", custom_error_message=self.message)
        return core_schema.chain_schema([core_schema.str_schema(strip_whitespace=False), check, handler(source)])

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> dict:
        return {**handler(schema), "pattern": self.pattern}


# Every string of a snapshot is one of these: a name vSphere could produce.
# Names end up in shell and PowerShell scripts and on terminals.
Name = Annotated[str, _Refuse(
    SAFE_NAME_PATTERN,
    "text without control characters (newline, tab, ESC, ...), line separators or bidirectional overrides; "
    "vSphere never puts them in a name")]
Text = Annotated[str, _Refuse(
    SAFE_TEXT_PATTERN,
    "text without control characters other than tab and newline, and without bidirectional overrides")]
# \d would also take other scripts' digits (vmk٣, vmk²): esxcli names are ASCII.
VmkDevice = Annotated[str, _Refuse(r"^vmk[0-9]{1,5}$", "a vmk device name: vmk and a number, like vmk2")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    # The engine keys its caches by host configurations (tuples of these models): pydantic's
    # generic __eq__/__hash__ cost ~1 s of a 10,000-host trace (85,000 comparisons, measured).
    # Our models are frozen, forbid extras and hold no private attributes, so the fields in
    # __dict__ are the whole value: compare and hash those, in C.
    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self):
            return NotImplemented if not isinstance(other, BaseModel) else False
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))


_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_V4 = re.compile(rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$")
_V4_CIDR = re.compile(rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}/(3[0-2]|[12]?\d)$")

# Fast paths for plain dotted IPv4: ipaddress costs ~10 us per value and a
# 10k-host estate has ~60k of them (measured 0.9 s of a 1.3 s load).


def _v4_int(m: re.Match) -> int:
    """The address of a _V4 or _V4_CIDR match, as an integer."""
    return (int(m[1]) << 24) | (int(m[2]) << 16) | (int(m[3]) << 8) | int(m[4])


def v4_address_and_prefix(cidr: str) -> tuple[str, int]:
    """``"10.0.0.11/24"`` -> ``("10.0.0.11", 24)``, as ipaddress.IPv4Interface gives them; any
    other form (a netmask after the slash) goes through ipaddress, which refuses a non-IPv4 one.
    The renderers restate ~10,000 vmk addresses in a fleet's fixes: ipaddress was 30% of it."""
    m = _V4_CIDR.match(cidr)
    if m:
        return cidr[:cidr.index("/")], int(m[5])
    iface = ipaddress.IPv4Interface(cidr)
    return str(iface.ip), iface.network.prefixlen


def _plain_v4_network(value: str) -> bool:
    """Dotted-quad IPv4 CIDR with no host bits set: what ipaddress would write back unchanged."""
    m = _V4_CIDR.match(value)
    return m is not None and not _v4_int(m) & ((1 << (32 - int(m[5]))) - 1)


def network_text(value: str) -> str:
    """``str(ipaddress.ip_network(value, strict=False))``, without ipaddress for the usual form."""
    return value if _plain_v4_network(value) else str(ipaddress.ip_network(value, strict=False))


def _check_network(value: str) -> str:
    if isinstance(value, str) and _plain_v4_network(value):
        return value
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"expected a network in CIDR form like 10.0.0.0/24 ({exc})") from None


def _check_interface(value: str) -> str:
    if isinstance(value, str) and _V4_CIDR.match(value):
        return value
    if "/" not in value:
        raise ValueError("expected an address with prefix length like 10.0.0.11/24")
    try:
        return str(ipaddress.ip_interface(value))
    except ValueError as exc:
        raise ValueError(f"expected an address with prefix length like 10.0.0.11/24 ({exc})") from None


def _check_v4_interface(value: str) -> str:
    if isinstance(value, str) and _V4_CIDR.match(value):
        return value
    raise ValueError("expected an IPv4 address with prefix length like 10.0.0.11/24")


def _check_v4(value: str) -> str:
    if isinstance(value, str) and _V4.match(value):
        return value
    raise ValueError("expected an IPv4 address like 10.0.0.1")


def _check_v6_interface(value: str) -> str:
    try:
        iface = ipaddress.ip_interface(value)
    except ValueError:
        iface = None
    if iface is None or iface.version != 6 or "/" not in value:
        raise ValueError("expected an IPv6 address with prefix length like fd00::11/64")
    return str(iface)


def _check_ip(value: str) -> str:
    if isinstance(value, str) and _V4.match(value):
        return value
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("expected an IP address like 10.0.0.1") from None


class Route(_Model):
    """A static route. ``network`` may be ``default`` (0.0.0.0/0)."""

    network: Name
    gateway: Name

    @field_validator("network", mode="before")
    @classmethod
    def _default(cls, v: object) -> object:
        if isinstance(v, str) and is_safe_name(v) and v.strip().lower() == "default":
            return "0.0.0.0/0"
        return v

    @field_validator("network")
    @classmethod
    def _net(cls, v: str) -> str:
        return _check_network(v)

    @field_validator("gateway")
    @classmethod
    def _gw(cls, v: str) -> str:
        return _check_ip(v)

    @model_validator(mode="after")
    def _one_family(self) -> "Route":
        if (":" in self.network) != (":" in self.gateway):
            raise ValueError(f"network {self.network} and gateway {self.gateway} of one IP family (both IPv4 or both IPv6)")
        return self


class Teaming(_Model):
    """Teaming and failover. ``None`` fields inherit from the switch."""

    policy: Optional[TeamingPolicyName] = None
    active: Optional[tuple[Name, ...]] = None
    standby: Optional[tuple[Name, ...]] = None
    unused: Optional[tuple[Name, ...]] = None

    @field_validator("policy", mode="before")
    @classmethod
    def _policy(cls, v: object) -> object:
        if isinstance(v, str) and is_safe_name(v):
            return _POLICY_ALIASES.get(v.strip().lower(), v)
        return v

    @model_validator(mode="after")
    def _disjoint(self) -> "Teaming":
        seen: dict[str, str] = {}
        for role in ("active", "standby", "unused"):
            for uplink in getattr(self, role) or ():
                if uplink in seen:
                    raise ValueError(
                        f"uplink {uplink!r} is both {seen[uplink]} and {role}; "
                        "expected each uplink in at most one of active/standby/unused"
                    )
                seen[uplink] = role
        return self


class PhysicalNic(_Model):
    name: Name
    speed_mbps: Optional[int] = Field(default=None, ge=0)
    link_up: bool = True
    mac: Optional[Name] = None


class PortGroup(_Model):
    name: Name
    vlan: int = Field(default=0, ge=0, le=4095)
    teaming: Optional[Teaming] = None


class StandardSwitch(_Model):
    name: Name
    uplinks: tuple[Name, ...] = ()
    mtu: int = Field(default=1500, ge=576, le=9216)
    teaming: Teaming = Teaming(policy="loadbalance_srcid")
    portgroups: tuple[PortGroup, ...] = ()


class DistributedPortGroup(_Model):
    name: Name
    vlan: int = Field(default=0, ge=0, le=4095)
    teaming: Optional[Teaming] = None


class DistributedSwitch(_Model):
    """A VDS. Teaming names uplink *ports* (uplink1...), mapped per host."""

    name: Name
    uplink_ports: tuple[Name, ...] = ("uplink1", "uplink2")
    mtu: int = Field(default=1500, ge=576, le=9216)
    teaming: Teaming = Teaming(policy="loadbalance_srcid")
    portgroups: tuple[DistributedPortGroup, ...] = ()


class DvsMembership(_Model):
    """A host's membership of a VDS: uplink port name -> vmnic."""

    switch: Name
    uplinks: dict[Name, Name] = {}


def _optional_gateway(v: Optional[str]) -> Optional[str]:
    """No gateway as ESXi spells it (empty, 0.0.0.0, esxcfg-route's "Local Subnet"), else an IPv4 address."""
    return None if v in (None, "", "0.0.0.0", "Local Subnet") else _check_v4(v)


# Where a routing-table row came from (ObservedRoute.source).
RouteSource = Literal["local", "manual", "default", "dhcp", "dynamic", "unknown"]


class ObservedRoute(_Model):
    """One row of a netstack's routing table as the host reported it (vCenter
    ``routeTableInfo.ipRoute``, ``esxcli network ip route ipv4 list``)."""

    network: Name
    gateway: Optional[Name] = None  # None (or 0.0.0.0): the local subnet of ``device``
    device: Optional[VmkDevice] = None
    # manual: configured; local: connected subnet; dynamic: learned from an ICMP
    # redirect (VMware KB 344105), lost after an idle hour or a network restart.
    source: RouteSource = "unknown"

    @field_validator("network")
    @classmethod
    def _network(cls, v: str) -> str:
        return _check_network(v)

    _gateway = field_validator("gateway")(classmethod(lambda cls, v: _optional_gateway(v)))


class Netstack(_Model):
    key: Name = DEFAULT_STACK
    gateway: Optional[Name] = None
    routes: tuple[Route, ...] = ()
    # The routing table as read from the host, when discovery could read it:
    # it says which of several same-subnet vmks owns the subnet (A3 is then a
    # fact) and holds dynamic routes. None: not read.
    route_table: Optional[tuple[ObservedRoute, ...]] = None

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        return normalise_stack(v)

    # ESXi netstacks have one IPv4 default gateway (IPv6 is configured apart).
    _gw = field_validator("gateway")(classmethod(lambda cls, v: _optional_gateway(v)))


class Vmk(_Model):
    device: VmkDevice
    portgroup: Name
    ipv4: Optional[Name] = None
    ipv6: tuple[Name, ...] = ()
    mac: Optional[Name] = None
    netstack: Name = DEFAULT_STACK
    mtu: int = Field(default=1500, ge=576, le=9216)
    services: tuple[Name, ...] = ()
    gateway: Optional[Name] = None
    enabled: bool = True
    segment: Optional[Name] = None

    @field_validator("ipv4")
    @classmethod
    def _ip(cls, v: Optional[str]) -> Optional[str]:
        return None if v is None else _check_v4_interface(v)

    @field_validator("ipv6")
    @classmethod
    def _ip6(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_v6_interface(a) for a in v)

    @field_validator("netstack")
    @classmethod
    def _stack(cls, v: str) -> str:
        return normalise_stack(v)

    @field_validator("services", mode="before")
    @classmethod
    def _services(cls, v: object) -> object:
        if isinstance(v, (list, tuple)):
            return tuple(normalise_service(str(s)) for s in v)
        return v

    @field_validator("gateway")
    @classmethod
    def _gw(cls, v: Optional[str]) -> Optional[str]:
        return None if v in (None, "", "0.0.0.0") else _check_v4(v)

    @property
    def number(self) -> int:
        return int(self.device[3:])


@functools.lru_cache(maxsize=256)  # asked twice per pair on the fleet path; a fleet has a few versions
def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


class Host(_Model):
    name: Name
    version: Name = "8.0.2"
    vcenter: Optional[Name] = None
    cluster: Optional[Name] = None
    # The name or IP the host was added to vCenter with.
    management_address: Optional[Name] = None
    # vCenter's managed object id (host-21): what Forklift's Host resources name a host by.
    moref: Optional[Name] = None
    dns_names: tuple[Name, ...] = ()
    pnics: tuple[PhysicalNic, ...] = ()
    vswitches: tuple[StandardSwitch, ...] = ()
    dvswitches: tuple[DvsMembership, ...] = ()
    netstacks: tuple[Netstack, ...] = (Netstack(),)
    vmks: tuple[Vmk, ...] = ()

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        parts = v.split(".")
        if not (1 <= len(parts) <= 4 and all(p.isdigit() for p in parts)):
            raise ValueError("expected an ESXi version like 7.0.3")
        return v

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return _version_tuple(self.version)

    @property
    def has_backup_tag(self) -> bool:
        """vSphereBackupNFC exists from ESXi 7.0 (domain notes, section 2); older hosts ignore it."""
        return self.version_tuple >= BACKUP_NFC_SINCE

    def gateway_on_link(self, netstack: str, gateway: str) -> bool:
        """ESXi refuses a route whose gateway no enabled vmk of the stack reaches directly."""
        g4 = _V4.match(gateway)
        if g4 is None:  # IPv6 or unusual: ipaddress decides
            gw = ipaddress.ip_address(gateway)
            return any(v.enabled and v.ipv4 and v.netstack == netstack and gw in ipaddress.ip_interface(v.ipv4).network
                       for v in self.vmks)
        # Dotted IPv4 as integers: a plan asks this per route step (14,000 at 10k hosts); with
        # ipaddress objects for every vmk each time 10,000 calls took 0.23 s, this way 0.09 s.
        g = _v4_int(g4)
        for v in self.vmks:
            if v.enabled and v.ipv4 and v.netstack == netstack:
                m = _V4_CIDR.match(v.ipv4)
                if m is None:
                    continue  # an IPv6 vmk never carries an IPv4 gateway
                plen = int(m[5])
                mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
                if (_v4_int(m) ^ g) & mask == 0:
                    return True
        return False


class Vcenter(_Model):
    name: Name
    version: Name = "8.0.2"
    # Where the backup nodes and hosts reach it (IPv4 or a name in ``dns``);
    # without it, a name that is an address is used. For the control path.
    address: Optional[Name] = None


class Segment(_Model):
    """An L2 broadcast domain (VLAN) with the subnets that live on it."""

    name: Name
    vlan: Optional[int] = Field(default=None, ge=0, le=4095)
    subnets: tuple[Name, ...] = ()

    @field_validator("subnets")
    @classmethod
    def _subnets(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_network(s) for s in v)


class Interface(_Model):
    name: Name
    address: Name
    segment: Optional[Name] = None
    speed_mbps: Optional[int] = Field(default=None, ge=0)

    @field_validator("address")
    @classmethod
    def _addr(cls, v: str) -> str:
        return _check_interface(v)


class Router(_Model):
    """A router or firewall. ``stateful`` drops flows it sees half of."""

    name: Name
    kind: Literal["router", "firewall"] = "router"
    stateful: bool = False
    capacity_mbps: Optional[int] = Field(default=None, ge=0)
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()


class Firewall(_Model):
    """A firewall described only by the two networks it sits between, for
    estates whose routers are not modelled (assumption A11 covers the rest):
    a packet crossing the undescribed routed network from one to the other
    passes it."""

    name: Name
    stateful: bool = True
    capacity_mbps: Optional[int] = Field(default=None, ge=0)
    between: tuple[Name, Name]

    @field_validator("between")
    @classmethod
    def _between(cls, v: tuple[str, str]) -> tuple[str, str]:
        a, b = (_check_network(s) for s in v)
        return a, b


class NetworkPreference(_Model):
    """The backup product's own network preference (e.g. Veeam Preferred Networks)."""

    preferred_networks: tuple[Name, ...] = ()

    @field_validator("preferred_networks")
    @classmethod
    def _nets(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_network(s) for s in v)


class BackupNode(_Model):
    name: Name
    product: Product = "generic-vadp"
    interfaces: tuple[Interface, ...] = ()
    gateway: Optional[Name] = None
    routes: tuple[Route, ...] = ()
    network_preference: Optional[NetworkPreference] = None

    @field_validator("gateway")
    @classmethod
    def _gw(cls, v: Optional[str]) -> Optional[str]:
        return None if v in (None, "") else _check_ip(v)


# --- VMs, datastores and jobs (issue 9): what the admin's backup or migration job reads.

PowerState = Literal["poweredOn", "poweredOff", "suspended"]
JobProduct = Literal["veeam", "rubrik", "commvault", "cohesity", "forklift", "virt-v2v", "generic"]


# vSphere's largest virtual disk is 62 TB; a bound keeps sums and durations finite.
MAX_DISK_GIB = 65536


class VirtualDisk(_Model):
    label: Optional[Name] = None
    capacity_gib: float = Field(ge=0, le=MAX_DISK_GIB, allow_inf_nan=False)
    datastore: Name
    # Changed since the last backup (CBT); None: the job's changed_fraction applies.
    changed_gib: Optional[float] = Field(default=None, ge=0, le=MAX_DISK_GIB, allow_inf_nan=False)


class Vm(_Model):
    name: Name
    # Where the VM is registered (``runtime.host``); a powered-on VM's disks are read through it.
    host: Name
    power_state: PowerState = "poweredOn"
    template: bool = False
    folder: Optional[Name] = None
    tags: tuple[Name, ...] = ()
    disks: tuple[VirtualDisk, ...] = ()
    # vCenter's managed object id (vm-1630): what Forklift's Plan resources name a VM by.
    moref: Optional[Name] = None


class Datastore(_Model):
    name: Name
    # Hosts that mount it read-write: the candidates vCenter picks from for a VM it cannot
    # read through its own host (VDDK guide: "the first host with read/write access").
    hosts: tuple[Name, ...] = ()
    accessible: bool = True


class JobConcurrency(_Model):
    # Disks read at once by one backup node, and by one host (None: no limit of the job's own).
    per_node: int = Field(default=4, ge=1, le=10_000)
    per_host: Optional[int] = Field(default=None, ge=1, le=10_000)


class Job(_Model):
    name: Name
    product: JobProduct = "generic"
    # Backup nodes (proxies, OpenShift workers for Forklift) that read the disks.
    nodes: tuple[Name, ...] = ()
    # Selection: a VM is in the job when it is named, on a listed cluster or host,
    # in a listed folder, or carries a listed tag. Templates are never selected by a selector.
    vms: tuple[Name, ...] = ()
    clusters: tuple[Name, ...] = ()
    hosts: tuple[Name, ...] = ()
    folders: tuple[Name, ...] = ()
    tags: tuple[Name, ...] = ()
    transport: Literal["nbd", "nbdssl"] = "nbd"
    concurrency: JobConcurrency = JobConcurrency()
    mode: Literal["full", "incremental"] = "full"
    # Fraction of each disk read by an incremental run when the disk has no changed_gib.
    changed_fraction: float = Field(default=0.1, ge=0, le=1)
    # Host name -> the address the job connects to for that host's disks, replacing the
    # one vCenter hands out (Forklift's Host resource ``ipAddress``, "used for disk transfer").
    transfer_addresses: dict[Name, Name] = {}

    @field_validator("transfer_addresses")
    @classmethod
    def _addrs(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: _check_ip(a) for k, a in v.items()}


# The entries of Snapshot.missing that are not hosts (sources/vcenter_convert.py, vcenter_tags.py):
# a VM left out, a datastore not read, the VM tags not read (or some refused).
MISSING_ITEM_PREFIXES = ("vm:", "datastore:", "tags:")


def is_missing_host(key: str) -> bool:
    """Whether an entry of ``Snapshot.missing`` names a host (not a VM, datastore or the tags)."""
    return not key.startswith(MISSING_ITEM_PREFIXES)


class Snapshot(_Model):
    # strict: 1.0 and true are not schema version 1.
    version: Annotated[int, Field(ge=1, le=SCHEMA_VERSION, strict=True)] = SCHEMA_VERSION
    name: Name = "snapshot"
    description: Text = ""
    vcenters: tuple[Vcenter, ...] = ()
    dvswitches: tuple[DistributedSwitch, ...] = ()
    hosts: tuple[Host, ...] = ()
    segments: tuple[Segment, ...] = ()
    routers: tuple[Router, ...] = ()
    firewalls: tuple[Firewall, ...] = ()
    backup_nodes: tuple[BackupNode, ...] = ()
    vms: tuple[Vm, ...] = ()
    datastores: tuple[Datastore, ...] = ()
    jobs: tuple[Job, ...] = ()
    # Name -> IP, standing in for the backup node's DNS resolver.
    dns: dict[Name, Name] = {}
    # What a partial discovery could not read (host name -> reason); besides hosts, a discovery
    # with VMs names a VM, a datastore or the VM tags by MISSING_ITEM_PREFIXES.
    missing: dict[Name, Text] = {}
