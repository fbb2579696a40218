"""Import saved esxcli output (a directory, a vm-support bundle or its .tgz).

Layouts differ between ESXi versions (``nic list`` has ``Link`` before 6.5
and ``Admin Status``/``Link Status`` after; ``ip interface ipv4 get`` gained
``Gateway`` in 6.5; 7.0+/VCF add keys to ``interface list``). Every known
layout is accepted; anything else is an :class:`InputError` naming the file
and line. Parsing is pure (text in, records out); only :func:`read_tree` and
:func:`import_hosts` touch the file system.
"""

from __future__ import annotations

import ipaddress
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Optional

from pydantic import ValidationError

from ..errors import InputError
from ..model import (
    DEFAULT_STACK,
    DistributedPortGroup,
    DistributedSwitch,
    DvsMembership,
    Host,
    Netstack,
    PhysicalNic,
    PortGroup,
    Route,
    Snapshot,
    StandardSwitch,
    Teaming,
    Vmk,
)
from ..model.snapshot import normalise_service

# Command -> file-name key. A file is recognised by its name with any of
# PREFIXES removed and "-", " " and "." turned into "_" (so vm-support's
# commands/esxcli_network-ip-interface-list.txt matches too). Per-object
# commands carry the object after the key: ..._tag_get_vmk2.txt,
# ..._failover_get_Backup.txt, ..._ipv4_list_vmotion.txt.
COMMANDS = {
    "network_ip_interface_list": "esxcli network ip interface list",
    "network_ip_interface_ipv4_get": "esxcli network ip interface ipv4 get",
    "network_ip_interface_tag_get": "esxcli network ip interface tag get -i VMK",
    "network_ip_route_ipv4_list": "esxcli network ip route ipv4 list [-N NETSTACK]",
    "network_ip_netstack_list": "esxcli network ip netstack list",
    "network_nic_list": "esxcli network nic list",
    "network_vswitch_standard_list": "esxcli network vswitch standard list",
    "network_vswitch_standard_portgroup_list": "esxcli network vswitch standard portgroup list",
    "network_vswitch_standard_portgroup_policy_failover_get": "esxcli network vswitch standard portgroup policy failover get -p PORTGROUP",
    "network_vswitch_standard_policy_failover_get": "esxcli network vswitch standard policy failover get -v VSWITCH",
    "esxcfg_route_l": "esxcfg-route -l [-N NETSTACK]",
    "vmware_vl": "vmware -vl",
    "vmware_v": "vmware -v",
}
PREFIXES = ("esxcli_", "localcli_", "esxcli-", "localcli-", "esxcli ", "localcli ")
REQUIRED = (
    "network_ip_interface_list",
    "network_ip_interface_ipv4_get",
    "network_nic_list",
    "network_vswitch_standard_list",
    "network_vswitch_standard_portgroup_list",
)


# ---------------------------------------------------------------- text layouts


@dataclass(frozen=True)
class Text:
    """One saved output: where it came from and its lines."""

    name: str  # file name as shown in errors (path inside the bundle for .tgz)
    text: str

    def lines(self) -> list[str]:
        return self.text.replace("\r\n", "\n").split("\n")

    def error(self, lineno: Optional[int], expected: str, location: str = "") -> InputError:
        return InputError(self.name, location, expected, lineno)


def parse_table(src: Text, layouts: dict[str, tuple[str, ...]]) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """An esxcli table: header, a dashes line, rows. Returns (layout name, [(line, row)]).

    Columns are found from the dashes line; cells are cut at column starts and
    checked not to straddle a boundary, else split on whitespace (the last
    column may hold spaces). The header must be exactly one known layout.
    """
    lines = src.lines()
    idx = next((i for i, l in enumerate(lines) if l.strip()), None)
    if idx is None or idx + 1 >= len(lines) or not re.fullmatch(r"\s*-+(\s+-+)*\s*", lines[idx + 1] or "x"):
        known = "; ".join(" | ".join(cols) for cols in layouts.values())
        raise src.error((idx or 0) + 1, f"an esxcli table (header, dashes line, rows) with columns: {known}")
    header, dashes = lines[idx], lines[idx + 1]
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", dashes)]
    starts = [s for s, _ in spans]
    names = tuple(
        header[s : (starts[i + 1] if i + 1 < len(starts) else len(header))].strip() for i, (s, _) in enumerate(spans)
    )
    layout = next((k for k, cols in layouts.items() if cols == names), None)
    if layout is None:
        known = "; ".join(" | ".join(cols) for cols in layouts.values())
        raise src.error(idx + 1, f"a known column layout ({known}), not {' | '.join(names)}", "header")
    rows = []
    for n, line in enumerate(lines[idx + 2 :], start=idx + 3):
        if not line.strip():
            continue
        cells = _cut(line, starts)
        if cells is None:
            cells = line.split(None, len(names) - 1)
            if len(cells) != len(names):
                raise src.error(n, f"a row with {len(names)} columns aligned under the header ({' | '.join(names)})")
        rows.append((n, dict(zip(names, cells))))
    return layout, rows


def _cut(line: str, starts: list[int]) -> Optional[list[str]]:
    cells = []
    for i, s in enumerate(starts):
        if i and s < len(line) and s > 0 and line[s - 1] != " " and line[s] != " ":
            return None  # a value runs across a column boundary
        end = starts[i + 1] if i + 1 < len(starts) else len(line)
        cells.append(line[s:end].strip())
    if any(c == "" for c in cells[:-1]) and len(line.split()) >= len(starts):
        return None  # values shifted left of their columns (hand-trimmed spacing)
    return cells


@dataclass
class Block:
    title: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


def parse_blocks(src: Text, required: tuple[str, ...], titled: bool = True) -> list[Block]:
    """Records of indented ``Key: value`` lines, each under an unindented title.

    With ``titled=False`` the whole text is one record (``policy failover get``,
    ``tag get``). Unknown keys are kept (newer builds add some, e.g. URPF);
    missing ``required`` keys are an error at the record's first line.
    """
    blocks: list[Block] = []
    current: Optional[Block] = None if titled else Block("", 1)
    for n, raw in enumerate(src.lines(), start=1):
        if not raw.strip():
            continue
        indented = raw[:1] in (" ", "\t")
        if titled and not indented:
            current = Block(raw.strip(), n)
            blocks.append(current)
            continue
        key, sep, value = raw.strip().partition(":")
        if current is None or not sep or not key:
            what = "an unindented record title (e.g. vmk0) followed by indented 'Key: value' lines" if titled else "'Key: value' lines"
            raise src.error(n, what)
        current.fields[key.strip()] = value.strip()
        current.lines[key.strip()] = n
    if not titled and current is not None and current.fields:
        blocks.append(current)
    if not blocks:
        raise src.error(1, "at least one record of 'Key: value' lines")
    for b in blocks:
        for key in required:
            if key not in b.fields:
                raise src.error(b.line, f"a '{key}:' line in this record (layout of {src.name} not known)")
    return blocks


def _na(value: Optional[str]) -> Optional[str]:
    return None if value in (None, "", "N/A", "-", "None") else value


def _list(value: Optional[str]) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip() and v.strip() != "N/A")


def _bool(src: Text, block: Block, key: str) -> Optional[bool]:
    value = block.fields.get(key)
    if value is None:
        return None
    if value.lower() in ("true", "yes", "1"):
        return True
    if value.lower() in ("false", "no", "0"):
        return False
    raise src.error(block.lines[key], f"true or false for '{key}', not {value!r}")


def _int(src: Text, n: int, value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise src.error(n, f"a number for {what}, not {value!r}") from None


def _ip(src: Text, n: int, value: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise src.error(n, f"an IPv4 address for {what}, not {value!r}") from None


# ---------------------------------------------------------------- per command


@dataclass(frozen=True)
class Interface:
    device: str
    portgroup: Optional[str]
    portset: Optional[str]
    vds_name: Optional[str]
    vds_port: Optional[str]
    netstack: str
    mtu: int
    mac: Optional[str]
    enabled: bool
    line: int


def interfaces(src: Text) -> list[Interface]:
    out = []
    for b in parse_blocks(src, ("Name", "Portgroup", "MTU")):
        f = b.fields
        out.append(
            Interface(
                device=f["Name"],
                portgroup=_na(f.get("Portgroup")),
                portset=_na(f.get("Portset")),
                vds_name=_na(f.get("VDS Name")),
                vds_port=_na(f.get("VDS Port")),
                netstack=_na(f.get("Netstack Instance")) or DEFAULT_STACK,
                mtu=_int(src, b.lines["MTU"], f["MTU"], "MTU"),
                mac=_na(f.get("MAC Address")),
                enabled=_bool(src, b, "Enabled") is not False,
                line=b.line,
            )
        )
    return out


IPV4_LAYOUTS = {
    "6.5+": ("Name", "IPv4 Address", "IPv4 Netmask", "IPv4 Broadcast", "Address Type", "Gateway", "DHCP DNS"),
    "pre-6.5": ("Name", "IPv4 Address", "IPv4 Netmask", "IPv4 Broadcast", "Address Type", "DHCP DNS"),
}


@dataclass(frozen=True)
class Ipv4:
    device: str
    address: Optional[str]  # a.b.c.d/len
    gateway: Optional[str]


def ipv4(src: Text) -> list[Ipv4]:
    _, rows = parse_table(src, IPV4_LAYOUTS)
    out = []
    for n, r in rows:
        addr = _na(r["IPv4 Address"])
        cidr = None
        if addr and addr != "0.0.0.0":
            ip = _ip(src, n, addr, "IPv4 Address")
            mask = _ip(src, n, r["IPv4 Netmask"], "IPv4 Netmask")
            try:
                cidr = str(ipaddress.IPv4Interface(f"{ip}/{mask}"))
            except ValueError:
                raise src.error(n, f"a contiguous netmask, not {mask!r}") from None
        gw = _na(r.get("Gateway"))
        if gw:
            gw = _ip(src, n, gw, "Gateway")
        out.append(Ipv4(r["Name"], cidr, None if gw in (None, "0.0.0.0") else gw))
    return out


NIC_LAYOUTS = {
    "6.5+": ("Name", "PCI Device", "Driver", "Admin Status", "Link Status", "Speed", "Duplex", "MAC Address", "MTU", "Description"),
    "pre-6.5": ("Name", "PCI Device", "Driver", "Link", "Speed", "Duplex", "MAC Address", "MTU", "Description"),
}


def nics(src: Text) -> list[PhysicalNic]:
    layout, rows = parse_table(src, NIC_LAYOUTS)
    out = []
    for n, r in rows:
        link = r["Link Status"] if layout == "6.5+" else r["Link"]
        if link.lower() not in ("up", "down"):
            raise src.error(n, f"Up or Down for the link, not {link!r}")
        speed = _int(src, n, r["Speed"], "Speed")
        up = link.lower() == "up" and (layout == "pre-6.5" or r["Admin Status"].lower() == "up")
        out.append(PhysicalNic(name=r["Name"], speed_mbps=speed or None, link_up=up, mac=_na(r["MAC Address"])))
    return out


ROUTE_LAYOUTS = {
    "esxcli": ("Network", "Netmask", "Gateway", "Interface", "Source"),
    "esxcli-no-source": ("Network", "Netmask", "Gateway", "Interface"),
}


@dataclass(frozen=True)
class RouteTable:
    gateway: Optional[str]
    routes: tuple[Route, ...]


def routes(src: Text) -> RouteTable:
    lines = src.lines()
    if lines and lines[0].strip().startswith("VMkernel Routes"):
        # esxcfg-route -l: a title line, then columns without a dashes line.
        body = [l for l in lines[1:] if l.strip()]
        if not body or body[0].split() != ["Network", "Netmask", "Gateway", "Interface"]:
            raise src.error(2, "the esxcfg-route -l header: Network Netmask Gateway Interface")
        rows = []
        for n, l in enumerate(lines[2:], start=3):
            if not l.strip():
                continue
            m = re.fullmatch(r"\s*(\S+)\s+(\S+)\s+(Local Subnet|\S+)\s+(\S+)\s*", l)
            if not m:
                raise src.error(n, "a route row: NETWORK NETMASK GATEWAY|'Local Subnet' INTERFACE")
            rows.append((n, {"Network": m[1], "Netmask": m[2], "Gateway": m[3], "Interface": m[4]}))
    else:
        _, rows = parse_table(src, ROUTE_LAYOUTS)
    gateway = None
    out = []
    for n, r in rows:
        gw = r["Gateway"]
        if gw == "Local Subnet" or gw == "0.0.0.0":
            continue  # connected route
        gw = _ip(src, n, gw, "Gateway")
        if r["Network"] == "default":
            gateway = gw
            continue
        net = _ip(src, n, r["Network"], "Network")
        mask = _ip(src, n, r["Netmask"], "Netmask")
        try:
            network = ipaddress.IPv4Network(f"{net}/{mask}", strict=False)
        except ValueError:
            raise src.error(n, f"a contiguous netmask, not {mask!r}") from None
        if network.prefixlen == 0:
            gateway = gw
            continue
        out.append(Route(network=str(network), gateway=gw))
    return RouteTable(gateway, tuple(out))


def netstacks(src: Text) -> list[str]:
    return [b.fields["Key"] for b in parse_blocks(src, ("Key",))]


def tags(src: Text) -> tuple[str, ...]:
    block = parse_blocks(src, ("Tags",), titled=False)[0]
    out = []
    for t in _list(block.fields["Tags"]):
        try:
            out.append(normalise_service(t))
        except ValueError as exc:
            raise src.error(block.lines["Tags"], str(exc)) from None
    return tuple(out)


@dataclass(frozen=True)
class VSwitch:
    name: str
    uplinks: tuple[str, ...]
    mtu: int
    portgroups: tuple[str, ...]


def vswitches(src: Text) -> list[VSwitch]:
    out = []
    for b in parse_blocks(src, ("Name", "Uplinks", "Portgroups")):
        mtu = b.fields.get("MTU")
        out.append(
            VSwitch(
                name=b.fields["Name"],
                uplinks=_list(b.fields["Uplinks"]),
                mtu=_int(src, b.lines["MTU"], mtu, "MTU") if mtu else 1500,
                portgroups=_list(b.fields["Portgroups"]),
            )
        )
    return out


PORTGROUP_LAYOUTS = {"esxcli": ("Name", "Virtual Switch", "Active Clients", "VLAN ID")}


@dataclass(frozen=True)
class PortGroupRow:
    name: str
    vswitch: str
    vlan: int


def portgroups(src: Text) -> list[PortGroupRow]:
    _, rows = parse_table(src, PORTGROUP_LAYOUTS)
    return [PortGroupRow(r["Name"], r["Virtual Switch"], _int(src, n, r["VLAN ID"], "VLAN ID")) for n, r in rows]


@dataclass(frozen=True)
class Failover:
    policy: str
    active: tuple[str, ...]
    standby: tuple[str, ...]
    unused: tuple[str, ...]
    # None: the layout has no "Override Vswitch ..." lines (values are explicit).
    override_policy: Optional[bool]
    override_uplinks: Optional[bool]


def failover(src: Text) -> Failover:
    b = parse_blocks(src, ("Load Balancing", "Active Adapters", "Standby Adapters"), titled=False)[0]
    policy = b.fields["Load Balancing"]
    from ..model.snapshot import _POLICY_ALIASES

    if policy.lower() not in _POLICY_ALIASES:
        raise src.error(b.lines["Load Balancing"], f"a load balancing policy ({', '.join(sorted(_POLICY_ALIASES))}), not {policy!r}")
    return Failover(
        policy=_POLICY_ALIASES[policy.lower()],
        active=_list(b.fields["Active Adapters"]),
        standby=_list(b.fields["Standby Adapters"]),
        unused=_list(b.fields.get("Unused Adapters")),
        override_policy=_bool(src, b, "Override Vswitch Load Balancing"),
        override_uplinks=_bool(src, b, "Override Vswitch Uplinks"),
    )


def version(src: Text) -> str:
    m = re.search(r"VMware ESXi (\d+\.\d+(?:\.\d+)?)", src.text)
    if not m:
        raise src.error(1, "'VMware ESXi X.Y.Z ...' as printed by vmware -vl")
    return m[1]


# ---------------------------------------------------------------- file names


def classify(name: str) -> Optional[tuple[str, str]]:
    """File name -> (command key, object suffix) or None if not an esxcli output we read."""
    stem = PurePosixPath(name).name
    for ext in (".txt", ".out", ".log"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    for prefix in PREFIXES:
        if stem.lower().startswith(prefix):
            stem = stem[len(prefix) :]
            break
    # Normalise "-", " ", "." to "_" (runs collapsed), remembering where each
    # normalised character came from so the suffix keeps its original spelling.
    norm, origin = [], []
    for i, ch in enumerate(stem.lower()):
        ch = "_" if ch in "-. " else ch
        if ch == "_" and norm and norm[-1] == "_":
            continue
        norm.append(ch)
        origin.append(i)
    text = "".join(norm)
    for key in sorted(COMMANDS, key=len, reverse=True):
        if text == key or text.startswith(key + "_"):
            suffix = stem[origin[len(key)] :] if len(text) > len(key) else ""
            suffix = suffix.lstrip("_- .")
            # "-i vmk2" / "-p Backup" / "-N vmotion" may be spelled into the name.
            suffix = re.sub(r"^-{0,2}[ipvN][_ ]", "", suffix).strip()
            return key, suffix
    return None


@dataclass(frozen=True)
class Tree:
    """The saved outputs of one host: command key -> {suffix: Text}."""

    origin: str
    files: dict[str, dict[str, Text]]
    guessed_name: str


def read_tree(path: str | Path) -> Tree:
    p = Path(path)
    files: dict[str, dict[str, Text]] = {}

    def add(name: str, shown: str, data: bytes) -> None:
        kind = classify(name)
        if kind is None:
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(shown, f"byte {exc.start}", "UTF-8 text") from None
        key, suffix = kind
        if suffix in files.get(key, {}):
            raise InputError(shown, "", f"one output per command and object; {files[key][suffix].name} is the same command")
        files.setdefault(key, {})[suffix] = Text(shown, text)

    if p.is_dir():
        for f in sorted(p.rglob("*")):
            if f.is_file():
                add(f.name, str(f), f.read_bytes())
        guessed = _bundle_host(p.name) or _bundle_host(next((d.name for d in p.iterdir() if d.is_dir()), "")) or p.name
    elif tarfile.is_tarfile(p):
        guessed = ""
        try:
            with tarfile.open(p, "r:*") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    top = member.name.split("/", 1)[0]
                    guessed = guessed or _bundle_host(top) or ""
                    if classify(member.name) is None:
                        continue
                    fh = tar.extractfile(member)
                    if fh is not None:
                        add(member.name, f"{p}:{member.name}", fh.read())
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise InputError(str(p), "", f"a readable .tgz vm-support bundle ({exc})") from None
        guessed = guessed or _bundle_host(p.name) or p.name.split(".")[0]
    else:
        raise InputError(str(p), "", "a directory of esxcli outputs, a vm-support bundle directory or a .tgz bundle")
    return Tree(str(p), files, guessed)


def _bundle_host(name: str) -> Optional[str]:
    # vm-support names bundles esx-<hostname>-<yyyy>-<mm>-<dd>--<hh>.<mm>-<pid>
    m = re.match(r"esx-(.+?)-\d{4}-\d{2}-\d{2}--", name)
    return m[1] if m else None


# ---------------------------------------------------------------- assembling a host


@dataclass(frozen=True)
class Imported:
    host: Host
    dvswitches: tuple[DistributedSwitch, ...]
    missing: dict[str, str]


def build_host(tree: Tree, name: Optional[str] = None, esxi_version: Optional[str] = None) -> Imported:
    """Pure: one host's saved outputs -> a Host (+ VDS stand-ins) and what is missing."""
    name = name or tree.guessed_name
    f = tree.files
    absent = [k for k in REQUIRED if k not in f]
    if absent:
        raise InputError(
            tree.origin, "",
            "saved outputs of: " + "; ".join(f"{COMMANDS[k]} (e.g. {k}.txt)" for k in absent),
        )
    missing: dict[str, str] = {}

    def one(key: str) -> Text:
        texts = f[key]
        if len(texts) > 1 or "" not in texts:
            shown = ", ".join(t.name for t in texts.values())
            raise InputError(shown, "", f"one {COMMANDS[key]} output without a suffix in its name")
        return texts[""]

    ver = esxi_version
    for key in ("vmware_vl", "vmware_v"):
        if ver is None and key in f:
            ver = version(next(iter(f[key].values())))
    if ver is None:
        raise InputError(tree.origin, "", "the ESXi version: include vmware_-vl.txt ('vmware -vl') or pass --esxi-version")

    ifaces = interfaces(one("network_ip_interface_list"))
    addrs = {a.device: a for a in ipv4(one("network_ip_interface_ipv4_get"))}
    pnics = nics(one("network_nic_list"))
    switches = vswitches(one("network_vswitch_standard_list"))
    pg_rows = portgroups(one("network_vswitch_standard_portgroup_list"))

    pg_failover = {sfx: (t, failover(t)) for sfx, t in f.get("network_vswitch_standard_portgroup_policy_failover_get", {}).items()}
    sw_failover = {sfx: failover(t) for sfx, t in f.get("network_vswitch_standard_policy_failover_get", {}).items()}
    std_switches = []
    for sw in switches:
        team = _switch_teaming(sw, sw_failover.get(sw.name), [fo for pgn, (_, fo) in pg_failover.items()
                                                             if any(r.name == pgn and r.vswitch == sw.name for r in pg_rows)])
        if team is None:
            missing[f"{name}:{sw.name}:teaming"] = (
                "no failover policy output for the switch or a non-overriding port group; assumed all uplinks active, srcport"
            )
            team = Teaming(policy="loadbalance_srcid", active=sw.uplinks, standby=(), unused=())
        pgs = []
        for r in pg_rows:
            if r.vswitch != sw.name:
                continue
            pt = None
            if r.name in pg_failover:
                pt = _portgroup_teaming(pg_failover[r.name][1], sw.uplinks)
            pgs.append(PortGroup(name=r.name, vlan=r.vlan, teaming=pt))
        std_switches.append(StandardSwitch(name=sw.name, uplinks=sw.uplinks, mtu=sw.mtu, teaming=team, portgroups=tuple(pgs)))
    for pgn, (t, _) in pg_failover.items():
        if not any(r.name == pgn for r in pg_rows):
            raise InputError(t.name, "", f"a failover policy of a port group in portgroup list, not {pgn!r}")

    tag_files = f.get("network_ip_interface_tag_get", {})
    services = {}
    for sfx, t in tag_files.items():
        if not re.fullmatch(r"vmk\d+", sfx):
            raise InputError(t.name, "", "the vmk in the file name, e.g. network_ip_interface_tag_get_vmk2.txt")
        services[sfx] = tags(t)
    route_tables = {}
    for key in ("network_ip_route_ipv4_list", "esxcfg_route_l"):
        for sfx, t in f.get(key, {}).items():
            route_tables[_stack_name(sfx)] = routes(t)
    stack_keys = [DEFAULT_STACK]
    if "network_ip_netstack_list" in f:
        stack_keys = [_stack_name(k) for k in netstacks(one("network_ip_netstack_list"))]
    for i in ifaces:
        if _stack_name(i.netstack) not in stack_keys:
            stack_keys.append(_stack_name(i.netstack))

    vmks = []
    dvs: dict[str, set[str]] = {}
    for i in ifaces:
        a = addrs.get(i.device)
        if a is None:
            missing[f"{name}:{i.device}:ipv4"] = "not in ip interface ipv4 get; recorded without an address"
        if not tag_files:
            missing[f"{name}:tags"] = "no ip interface tag get outputs; service tags (vSphereBackupNFC!) unknown"
        elif i.device not in services:
            missing[f"{name}:{i.device}:tags"] = "no ip interface tag get output for it; its service tags are unknown"
        portgroup = i.portgroup
        if portgroup is None and i.vds_name:
            # esxcli shows the VDS port, not its port group or teaming: a stand-in port group.
            portgroup = f"{i.vds_name} port {i.vds_port or '?'}"
            dvs.setdefault(i.vds_name, set()).add(portgroup)
            missing[f"{name}:{i.device}:vds"] = (
                f"on VDS {i.vds_name!r} port {i.vds_port}: esxcli shows neither its port group nor its teaming; "
                "discover from vCenter for uplinks"
            )
        if portgroup is None:
            raise InputError(one("network_ip_interface_list").name, f"{i.device}", "a Portgroup or VDS Name", i.line)
        stack = _stack_name(i.netstack)
        table = route_tables.get(stack)
        gw = a.gateway if a else None
        if table is not None and gw == table.gateway:
            gw = None  # the stack's own gateway, not a per-vmk override
        vmks.append(
            Vmk(device=i.device, portgroup=portgroup, ipv4=a.address if a else None, mac=i.mac, netstack=stack,
                mtu=i.mtu, services=services.get(i.device, ()), gateway=gw, enabled=i.enabled)
        )
    stacks = []
    for key in stack_keys:
        table = route_tables.get(key)
        if table is None:
            gws = {v.gateway for v in vmks if v.netstack == key and v.gateway}
            if key == DEFAULT_STACK or gws:
                missing[f"{name}:routes:{key}"] = (
                    "no ip route ipv4 list output for this netstack"
                    + ("; its gateway taken from its vmks' ipv4 get" if len(gws) == 1 else "; gateway and static routes unknown")
                )
            stacks.append(Netstack(key=key, gateway=gws.pop() if len(gws) == 1 else None))
            if len(gws) <= 1:
                vmks = [v.model_copy(update={"gateway": None}) if v.netstack == key else v for v in vmks]
        else:
            stacks.append(Netstack(key=key, gateway=table.gateway, routes=table.routes))
    members = tuple(DvsMembership(switch=d) for d in sorted(dvs))
    stand_ins = tuple(
        DistributedSwitch(name=d, portgroups=tuple(DistributedPortGroup(name=p) for p in sorted(pgs)))
        for d, pgs in sorted(dvs.items())
    )
    try:
        host = Host(name=name, version=ver, management_address=name, pnics=tuple(pnics), vswitches=tuple(std_switches),
                    dvswitches=members, netstacks=tuple(stacks), vmks=tuple(sorted(vmks, key=lambda v: v.number)))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise InputError(tree.origin, ".".join(str(x) for x in err["loc"]), str(err["msg"]).removeprefix("Value error, ")) from None
    return Imported(host, stand_ins, missing)


def _stack_name(value: str) -> str:
    from ..model.snapshot import normalise_stack

    return normalise_stack(value) if value else DEFAULT_STACK


def _switch_teaming(sw: VSwitch, own: Optional[Failover], inheriting: list[Failover]) -> Optional[Teaming]:
    source = own or next((fo for fo in inheriting if fo.override_uplinks is False and fo.override_policy is False), None)
    if source is None:
        return None
    unused = tuple(u for u in sw.uplinks if u not in source.active and u not in source.standby)
    return Teaming(policy=source.policy, active=source.active, standby=source.standby, unused=unused)


def _portgroup_teaming(fo: Failover, uplinks: tuple[str, ...]) -> Optional[Teaming]:
    """Only what the port group overrides; without Override lines, all of it."""
    policy = fo.policy if fo.override_policy is not False else None
    if fo.override_uplinks is False:
        return Teaming(policy=policy) if policy else None
    unused = tuple(u for u in uplinks if u not in fo.active and u not in fo.standby)
    return Teaming(policy=policy, active=fo.active, standby=fo.standby, unused=unused)


def import_hosts(paths: Iterable[str], names: Optional[list[str]] = None, esxi_version: Optional[str] = None) -> Snapshot:
    """Read each path as one host and join them into a snapshot."""
    hosts, switches, missing = [], {}, {}
    for i, path in enumerate(paths):
        tree = read_tree(path)
        got = build_host(tree, names[i] if names else None, esxi_version)
        if any(h.name == got.host.name for h in hosts):
            raise InputError(str(path), "", f"a distinct host; {got.host.name!r} was already read (use --host)")
        hosts.append(got.host)
        for d in got.dvswitches:
            if d.name in switches:
                merged = {p.name: p for p in switches[d.name].portgroups + d.portgroups}
                d = d.model_copy(update={"portgroups": tuple(merged[k] for k in sorted(merged))})
            switches[d.name] = d
        missing.update(got.missing)
    return Snapshot(name="imported", hosts=tuple(hosts), dvswitches=tuple(switches.values()), missing=missing)
