"""Text layouts of saved esxcli output: one pure parser per command.

Tables (header, dashes line, rows) are read by the columns of their dashes
line; records are indented ``Key: value`` lines under a title. Every known
layout is accepted (they differ between ESXi versions: see each ``*_LAYOUTS``);
anything else is an :class:`InputError` naming the file and line.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, TypeVar, cast

from pydantic import BaseModel, ValidationError

from ..errors import InputError
from ..io import excerpt
from ..model import DEFAULT_STACK, ObservedRoute, PhysicalNic, Route
from ..model.snapshot import _POLICY_ALIASES, SERVICES, TeamingPolicyName, normalise_service

# ---------------------------------------------------------------- text layouts


@dataclass(frozen=True)
class Text:
    """One saved output: where it came from and its lines."""

    name: str  # file name as shown in errors (path inside the bundle for .tgz)
    text: str

    def lines(self) -> list[str]:
        # LF, CRLF, or CR alone (outputs saved by some Windows and classic-Mac tools)
        return self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def error(self, lineno: Optional[int], expected: str, location: str = "") -> InputError:
        return InputError(self.name, location, expected, lineno)


# esxcli prints text: tabs and line ends, never other control characters (C0, DEL, C1).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")


def decode(name: str, data: bytes) -> Text:
    """Saved output bytes -> :class:`Text`; not UTF-8 or holding control characters is an error at its line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(name, f"column {column}", f"UTF-8 text; byte 0x{data[exc.start]:02x} is not", line) from None
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise InputError(name, f"column {column}", f"text without control characters, not {excerpt(bad[0])}", line)
    return Text(name, text)


M = TypeVar("M", bound=BaseModel)


def build(model: type[M], src: Text, line: Optional[int],
          where: Optional[Mapping[str, tuple[Text, Optional[int]]]] = None, **fields: Any) -> M:
    """``model(**fields)``; a value the model refuses is an error at the file and line it was read from.

    ``where`` maps a field to the (file, line) it came from when that is not
    ``src``/``line`` (a vmk's address comes from ipv4 get, its name from interface list).
    """
    try:
        return model(**fields)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(err["loc"])
        text, n = (where or {}).get(str(loc[0]) if loc else "", (src, line))
        msg = str(err["msg"]).removeprefix("Value error, ")
        got = err.get("input")
        if isinstance(got, (str, int)) and not isinstance(got, bool):
            msg += f" (got {excerpt(str(got))})"
        raise text.error(n, msg, ".".join(str(x) for x in loc)) from None


def parse_table(src: Text, layouts: Mapping[str, tuple[str, ...]]) -> tuple[str, list[tuple[int, dict[str, str]]]]:
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
    collapsed = False
    if layout is None:
        # Spacing collapsed to single spaces (a blog engine, a chat client): the names are still in order,
        # one dash group each; the cells are then told apart by whitespace alone.
        flat = " ".join(header.split())
        squeezed = flat == header.strip()  # an aligned header whose dashes do not fit it is damaged, not collapsed
        layout = next((k for k, cols in layouts.items()
                       if squeezed and " ".join(cols) == flat and len(cols) == len(spans)), None)
        if layout is not None:
            names, collapsed = layouts[layout], True
    if layout is None:
        known = "; ".join(" | ".join(cols) for cols in layouts.values())
        # The header as written: cut at the dashes of a damaged table its names would be split mid-word.
        written = " | ".join(re.split(r"\s{2,}", header.strip()))
        raise src.error(idx + 1, f"a known column layout ({known}), not {excerpt(written, 120)}", "header")
    rows = []
    for n, line in enumerate(lines[idx + 2 :], start=idx + 3):
        if not line.strip():
            continue
        cells = None if collapsed else _cut(line, starts)
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


def _dedented(lines: list[str]) -> list[str]:
    """Lines without the indentation they all share: a record block pasted indented as a whole."""
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip()]
    common = os.path.commonprefix(indents) if indents else ""
    return [line[len(common):] if line.strip() else line for line in lines] if common else lines


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
    lines = _dedented(src.lines())
    for n, raw in enumerate(lines, start=1):
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
    raise src.error(block.lines[key], f"true or false for '{key}', not {excerpt(value)}")


# The model's own ranges (Vmk/StandardSwitch MTU, PortGroup VLAN), said in esxcli's words.
MTU_RANGE = (576, 9216)
VLAN_RANGE = (0, 4095)  # 4095: all VLANs (a trunk port group on a standard switch)
SPEED_RANGE = (0, 10_000_000)  # Mbps; the fastest NIC today is 800G


def _int(src: Text, n: int, value: str, what: str, bounds: tuple[int, int]) -> int:
    # ASCII digits only: int() would also take "1_000", " 5", "٣" and 10**4000-digit strings.
    lo, hi = bounds
    if re.fullmatch(r"[0-9]{1,12}", value, re.ASCII) and lo <= int(value) <= hi:
        return int(value)
    raise src.error(n, f"a whole number from {lo} to {hi} for {what}, not {excerpt(value)}")


def _ip(src: Text, n: int, value: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise src.error(n, f"an IPv4 address for {what}, not {excerpt(value)}") from None


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
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)  # key -> line of its value


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
                mtu=_int(src, b.lines["MTU"], f["MTU"], "MTU", MTU_RANGE),
                mac=_na(f.get("MAC Address")),
                enabled=_bool(src, b, "Enabled") is not False,
                line=b.line,
                lines=dict(b.lines),
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
    line: int = field(default=0, compare=False)


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
                raise src.error(n, f"a contiguous netmask, not {excerpt(mask)}") from None
        gw = _na(r.get("Gateway"))
        if gw:
            gw = _ip(src, n, gw, "Gateway")
        out.append(Ipv4(r["Name"], cidr, None if gw in (None, "0.0.0.0") else gw, n))
    return out


NIC_LAYOUTS = {
    "6.5+": ("Name", "PCI Device", "Driver", "Admin Status", "Link Status", "Speed", "Duplex", "MAC Address", "MTU", "Description"),
    "pre-6.5": ("Name", "PCI Device", "Driver", "Link", "Speed", "Duplex", "MAC Address", "MTU", "Description"),
}


# PowerCLI's Get-EsxCli -V2 prints esxcli's fields as records with the spaces taken out of the names.
_POWERCLI_KEYS = {"AdminStatus": "Admin Status", "LinkStatus": "Link Status", "MACAddress": "MAC Address",
                  "PCIDevice": "PCI Device"}
_POWERCLI_RECORD = re.compile(r"[A-Za-z][A-Za-z0-9]{0,39} *: ")


def powercli_records(src: Text, required: tuple[str, ...]) -> Optional[list[tuple[int, dict[str, str]]]]:
    """``$esxcli.network.nic.list.Invoke()`` output (records of ``Key : value``, blank-line separated)
    as table rows keyed by esxcli's column names; None when the text is not laid out so."""
    lines = src.lines()
    first = next((ln for ln in lines if ln.strip()), "")
    if not _POWERCLI_RECORD.match(first.strip()):
        return None
    rows: list[tuple[int, dict[str, str]]] = []
    current: Optional[dict[str, str]] = None
    for n, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            current = None
            continue
        key, sep, value = line.partition(" : ") if " : " in line else line.partition(":")
        if not sep or not key.strip():
            raise src.error(n, "PowerCLI records of 'Key : value' lines separated by blank lines")
        if current is None:
            current = {}
            rows.append((n, current))
        current[_POWERCLI_KEYS.get(key.strip(), key.strip())] = value.strip()
    for n, r in rows:
        for key in required:
            if key not in r:
                raise src.error(n, f"a '{key}' field in this record")
    return rows


def nics(src: Text) -> list[PhysicalNic]:
    records = powercli_records(src, ("Name", "Speed", "MAC Address"))
    if records is not None:
        layout, rows = ("6.5+" if all("Admin Status" in r for _, r in records) else "pre-6.5"), records
    else:
        layout, rows = parse_table(src, NIC_LAYOUTS)
    out = []
    for n, r in rows:
        link = r["Link Status"] if layout == "6.5+" else r["Link"]
        if link.lower() not in ("up", "down"):
            raise src.error(n, f"Up or Down for the link, not {excerpt(link)}")
        speed = _int(src, n, r["Speed"], "Speed (Mbps)", SPEED_RANGE)
        up = link.lower() == "up" and (layout == "pre-6.5" or r["Admin Status"].lower() == "up")
        out.append(build(PhysicalNic, src, n, name=r["Name"], speed_mbps=speed or None, link_up=up,
                         mac=_na(r["MAC Address"])))
    return out


ROUTE_LAYOUTS = {
    "esxcli": ("Network", "Netmask", "Gateway", "Interface", "Source"),
    "esxcli-no-source": ("Network", "Netmask", "Gateway", "Interface"),
}


@dataclass(frozen=True)
class RouteTable:
    gateway: Optional[str]
    routes: tuple[Route, ...]
    # Every row as the host printed it, connected ones included (Netstack.route_table).
    table: tuple[ObservedRoute, ...] = ()


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
    table = []
    for n, r in rows:
        network = _route_network(src, n, r)
        gw = r["Gateway"]
        connected = gw == "Local Subnet" or gw == "0.0.0.0"
        if not connected:
            gw = _ip(src, n, gw, "Gateway")
        table.append(build(ObservedRoute, src, n, network=str(network), gateway=None if connected else gw,
                           device=r["Interface"], source=_route_source(r.get("Source"), connected, network.prefixlen)))
        if connected:
            continue  # connected route
        if network.prefixlen == 0:
            gateway = gw
            continue
        out.append(build(Route, src, n, network=str(network), gateway=gw))
    return RouteTable(gateway, tuple(out), tuple(table))


def _route_network(src: Text, n: int, r: Mapping[str, str]) -> ipaddress.IPv4Network:
    if r["Network"] == "default":
        return ipaddress.IPv4Network("0.0.0.0/0")
    net = _ip(src, n, r["Network"], "Network")
    mask = _ip(src, n, r["Netmask"], "Netmask")
    try:
        return ipaddress.IPv4Network(f"{net}/{mask}", strict=False)
    except ValueError:
        raise src.error(n, f"a contiguous netmask, not {excerpt(mask)}") from None


def _route_source(source: Optional[str], connected: bool, prefixlen: int) -> str:
    """ObservedRoute.source of one row.

    esxcli's Source column says MANUAL for configured and connected rows alike
    (the seed samples) and DHCP for a leased gateway. KB 344105 says the same
    command tells manual from dynamic (ICMP redirect) routes but its text does
    not show the word it prints, so any other value stays "unknown". Without the
    column (esxcfg-route -l) a gateway row is "unknown": KB 344105 shows its
    redirect-learned /32 rows looking exactly like configured ones.
    """
    word = (source or "").strip().upper()
    if connected:
        return "local"
    if word == "DHCP":
        return "dhcp"
    if prefixlen == 0:
        return "default"
    return "manual" if word == "MANUAL" else "unknown"


def netstacks(src: Text) -> list[str]:
    return [b.fields["Key"] for b in parse_blocks(src, ("Key",))]


def tags(src: Text) -> tuple[str, ...]:
    block = parse_blocks(src, ("Tags",), titled=False)[0]
    out = []
    for t in _list(block.fields["Tags"]):
        try:
            out.append(normalise_service(t))
        except ValueError:
            raise src.error(block.lines["Tags"], f"service tags among {', '.join(SERVICES)}, not {excerpt(t)}") from None
    return tuple(out)


@dataclass(frozen=True)
class VSwitch:
    name: str
    uplinks: tuple[str, ...]
    mtu: int
    portgroups: tuple[str, ...]
    line: int = field(default=0, compare=False)


def vswitches(src: Text) -> list[VSwitch]:
    out = []
    for b in parse_blocks(src, ("Name", "Uplinks", "Portgroups")):
        mtu = b.fields.get("MTU")
        out.append(
            VSwitch(
                name=b.fields["Name"],
                uplinks=_list(b.fields["Uplinks"]),
                mtu=_int(src, b.lines["MTU"], mtu, "MTU", MTU_RANGE) if mtu else 1500,
                portgroups=_list(b.fields["Portgroups"]),
                line=b.line,
            )
        )
    return out


PORTGROUP_LAYOUTS = {"esxcli": ("Name", "Virtual Switch", "Active Clients", "VLAN ID")}


@dataclass(frozen=True)
class PortGroupRow:
    name: str
    vswitch: str
    vlan: int
    line: int = field(default=0, compare=False)


def portgroups(src: Text) -> list[PortGroupRow]:
    _, rows = parse_table(src, PORTGROUP_LAYOUTS)
    return [PortGroupRow(r["Name"], r["Virtual Switch"], _int(src, n, r["VLAN ID"], "VLAN ID", VLAN_RANGE), n)
            for n, r in rows]


@dataclass(frozen=True)
class Failover:
    policy: TeamingPolicyName
    active: tuple[str, ...]
    standby: tuple[str, ...]
    unused: tuple[str, ...]
    # None: the layout has no "Override Vswitch ..." lines (values are explicit).
    override_policy: Optional[bool]
    override_uplinks: Optional[bool]


def failover(src: Text) -> Failover:
    b = parse_blocks(src, ("Load Balancing", "Active Adapters", "Standby Adapters"), titled=False)[0]
    policy = b.fields["Load Balancing"]
    if policy.lower() not in _POLICY_ALIASES:
        raise src.error(b.lines["Load Balancing"], f"a load balancing policy ({', '.join(sorted(_POLICY_ALIASES))}), not {excerpt(policy)}")
    return Failover(
        policy=cast(TeamingPolicyName, _POLICY_ALIASES[policy.lower()]),
        active=_list(b.fields["Active Adapters"]),
        standby=_list(b.fields["Standby Adapters"]),
        unused=_list(b.fields.get("Unused Adapters")),
        override_policy=_bool(src, b, "Override Vswitch Load Balancing"),
        override_uplinks=_bool(src, b, "Override Vswitch Uplinks"),
    )


def version(src: Text) -> str:
    m = re.search(r"VMware ESXi ([0-9]+\.[0-9]+(?:\.[0-9]+)?)", src.text)
    if not m:
        raise src.error(1, "'VMware ESXi X.Y.Z ...' as printed by vmware -vl")
    return m[1]


# ---------------------------------------------------------------- legacy esxcfg-* -l
# These print aligned columns without a dashes line, and pasted copies often
# lose the alignment (mail, forums): rows are read by pattern, not by column,
# after squeezing each run of blanks to one space -- which also keeps the
# patterns linear (a lazy group before a blank run backtracks cubically).
LEGACY_ROW_MAX = 4096  # characters; a real row is under 300


def _squeezed(src: Text, n: int, line: str) -> str:
    if len(line) > LEGACY_ROW_MAX:
        raise src.error(n, f"a row of at most {LEGACY_ROW_MAX} characters, not {len(line)}")
    return " ".join(line.split())

_V4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_MAC = r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}"
_VMKNIC_ROW = re.compile(
    rf"(?P<dev>vmk\d+) (?P<pg>.*?) "
    rf"(?:(?:IPv4 )?(?P<ip>{_V4}) (?P<mask>{_V4}) (?:{_V4} )?|IPv6 \S+ \d+ )"
    rf"(?P<mac>{_MAC}) (?P<mtu>\d+) (?:\d+ )?(?P<enabled>true|false)"
    rf"(?: (?:STATIC|DHCP|NONE)(?:, ?\S+)?)?(?: (?P<stack>\S+))?"
)
_VMKNIC_WHAT = ("an esxcfg-vmknic -l row: Interface, Port Group/DVPort, [IP Family], IP Address, Netmask, "
                "[Broadcast], MAC Address, MTU, [TSO MSS], Enabled, [Type], [NetStack]")


def _rows_after(src: Text, header: str, what: str) -> list[tuple[int, str]]:
    """Non-blank lines after the first line starting with ``header`` (a prompt line may come before)."""
    lines = src.lines()
    start = next((i for i, l in enumerate(lines) if l.strip().startswith(header)), None)
    if start is None:
        raise src.error(1, f"{what} output, with its '{header} ...' header")
    return [(n, _squeezed(src, n, l)) for n, l in enumerate(lines[start + 1 :], start=start + 2) if l.strip()]


def vmknics(src: Text) -> tuple[list[Interface], list[Ipv4]]:
    """``esxcfg-vmknic -l`` (ESX 4 to ESXi 8 layouts): the vmks and their IPv4 addresses.

    A DVPort number in place of the port group means the vmk is on a VDS
    (named by ``esxcfg-vswitch -l``, see :func:`legacy_switches`).
    """
    found: dict[str, Interface] = {}
    addrs: dict[str, Ipv4] = {}
    for n, line in _rows_after(src, "Interface", "esxcfg-vmknic -l"):
        m = _VMKNIC_ROW.fullmatch(line)
        if m is None:
            raise src.error(n, _VMKNIC_WHAT)
        dev, pg = m["dev"], m["pg"]
        on_vds = pg.isdigit()
        if dev not in found:
            found[dev] = Interface(
                device=dev, portgroup=None if on_vds else pg, portset=None, vds_name=None,
                vds_port=pg if on_vds else None, netstack=m["stack"] or DEFAULT_STACK,
                mtu=_int(src, n, m["mtu"], "MTU", MTU_RANGE), mac=m["mac"].lower(),
                enabled=m["enabled"] == "true", line=n)
        if m["ip"] and dev not in addrs:
            ip = _ip(src, n, m["ip"], "IP Address")
            mask = _ip(src, n, m["mask"], "Netmask")
            try:
                prefix = ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
            except ValueError:
                raise src.error(n, f"a contiguous netmask, not {excerpt(mask)}") from None
            addrs[dev] = Ipv4(dev, f"{ip}/{prefix}", None, n)
    return list(found.values()), list(addrs.values())


_NICS_ROW = re.compile(rf"(?P<name>\S+) \S+ \S+ (?P<link>Up|Down) (?P<speed>\d+) ?Mbps \S+ (?P<mac>{_MAC}) \d+(?: .*)?",
                       re.IGNORECASE)


def legacy_nics(src: Text) -> list[PhysicalNic]:
    """``esxcfg-nics -l``: Name PCI Driver Link Speed Duplex MAC-Address MTU Description."""
    out = []
    for n, line in _rows_after(src, "Name", "esxcfg-nics -l"):
        m = _NICS_ROW.fullmatch(line)
        if m is None:
            raise src.error(n, "an esxcfg-nics -l row: Name, PCI, Driver, Up|Down, Speed (e.g. 10000Mbps), Duplex, "
                               "MAC Address, MTU, Description")
        speed = _int(src, n, m["speed"], "Speed (Mbps)", SPEED_RANGE)
        out.append(build(PhysicalNic, src, n, name=m["name"], speed_mbps=speed or None,
                         link_up=m["link"].lower() == "up", mac=m["mac"].lower()))
    return out


@dataclass(frozen=True)
class LegacySwitches:
    """``esxcfg-vswitch -l``: standard switches, their port groups, and VDS ports by client (vmk)."""

    vswitches: list[VSwitch]
    portgroups: list[PortGroupRow]
    dvports: dict[str, tuple[str, str]]  # client (vmk0) -> (VDS name, DVPort ID)


_SWITCH_ROW = re.compile(r"(?P<name>.+?) \d+ \d+ \d+(?: (?P<mtu>\d+))?(?: (?P<uplinks>[^\s\d]\S*))?")
_PG_ROW = re.compile(r"(?P<name>.+?) (?P<vlan>\d+) \d+(?: (?P<uplinks>\S+))?")
_VSWITCH_HEADERS = {"Switch Name": "switch", "DVS Name": "dvs", "PortGroup Name": "pg", "DVPort ID": "dvport"}
_DVPORT_ROW = re.compile(r"(?P<port>\S+) \d+(?: (?P<client>\S.*))?")


def legacy_switches(src: Text) -> LegacySwitches:
    switches: list[VSwitch] = []
    rows: list[PortGroupRow] = []
    dvports: dict[str, tuple[str, str]] = {}
    section, current = "", ""
    for n, raw in enumerate(src.lines(), start=1):
        if not raw.strip():
            continue
        line = _squeezed(src, n, raw)
        header = next((k for h, k in _VSWITCH_HEADERS.items() if line.startswith(h)), None)
        if header:
            section = header
            continue
        if section in ("switch", "dvs"):
            m = _SWITCH_ROW.fullmatch(line)
            if m is None:
                raise src.error(n, "a switch row: Name, Num Ports, Used Ports, Configured Ports, MTU, Uplinks")
            current = m["name"]
            if section == "switch":
                mtu = _int(src, n, m["mtu"], "MTU", MTU_RANGE) if m["mtu"] else 1500
                switches.append(VSwitch(current, _list(m["uplinks"]), mtu, (), n))
        elif section == "pg" and switches:
            m = _PG_ROW.fullmatch(line)
            if m is None:
                raise src.error(n, "a port group row: PortGroup Name, VLAN ID, Used Ports, Uplinks")
            rows.append(PortGroupRow(m["name"], switches[-1].name, _int(src, n, m["vlan"], "VLAN ID", (0, 4095)), n))
        elif section == "dvport" and current:
            m = _DVPORT_ROW.fullmatch(line)
            if m is None:
                raise src.error(n, "a DVPort row: DVPort ID, In Use, Client")
            client = (m["client"] or "").strip()
            if re.fullmatch(r"vmk\d+", client):
                dvports[client] = (current, m["port"])
        else:
            raise src.error(n, "esxcfg-vswitch -l output: a 'Switch Name ...' or 'DVS Name ...' header first")
    switches = [VSwitch(s.name, s.uplinks, s.mtu, tuple(r.name for r in rows if r.vswitch == s.name), s.line)
                for s in switches]
    return LegacySwitches(switches, rows, dvports)
