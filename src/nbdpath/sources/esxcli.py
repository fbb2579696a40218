"""Import saved esxcli output (a directory, a vm-support bundle or its .tgz).

This module knows the file names and assembles a Host from the parsed
outputs; the text layouts are parsed in :mod:`nbdpath.sources.esxcli_parse`.
Only :func:`read_tree` and :func:`import_hosts` touch the file system.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Optional

from ..errors import InputError
from ..io import excerpt, kind_of
from ..safetext import one_line
from ..model import (
    DEFAULT_STACK,
    PhysicalNic,
    DistributedPortGroup,
    DistributedSwitch,
    DvsMembership,
    Host,
    Netstack,
    PortGroup,
    Snapshot,
    StandardSwitch,
    Teaming,
    Vmk,
)
from ..model.snapshot import normalise_stack
from ..model.validate import _dotted, problems
from .esxcli_files import read_archive, read_directory
from .esxcli_parse import (  # noqa: F401  (re-exported: the parsers are part of this module's face)
    IPV4_LAYOUTS,
    NIC_LAYOUTS,
    PORTGROUP_LAYOUTS,
    ROUTE_LAYOUTS,
    Failover,
    Interface,
    Ipv4,
    PortGroupRow,
    RouteTable,
    Text,
    VSwitch,
    build,
    failover,
    interfaces,
    ipv4,
    legacy_nics,
    legacy_switches,
    netstacks,
    nics,
    parse_blocks,
    parse_table,
    portgroups,
    routes,
    tags,
    version,
    vmknics,
    vswitches,
)

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
    "esxcfg_vmknic_l": "esxcfg-vmknic -l",
    "esxcfg_nics_l": "esxcfg-nics -l",
    "esxcfg_vswitch_l": "esxcfg-vswitch -l",
    "vmware_vl": "vmware -vl",
    "vmware_v": "vmware -v",
}
PREFIXES = ("esxcli_", "localcli_", "esxcli-", "localcli-", "esxcli ", "localcli ")
# The five outputs a host is built from; any one is enough to start, and
# each one absent is listed under the snapshot's missing with what it leaves
# unknown (real captures rarely hold all five).
REQUIRED = (
    "network_ip_interface_list",
    "network_ip_interface_ipv4_get",
    "network_nic_list",
    "network_vswitch_standard_list",
    "network_vswitch_standard_portgroup_list",
)
UNKNOWN_WITHOUT = {
    "network_ip_interface_list": "no vmks: their port groups, MACs and netstacks are only in it",
    "network_ip_interface_ipv4_get": "vmk addresses unknown; vmks recorded without an address",
    "network_nic_list": "pnic speeds and link states unknown; switch uplinks get stand-in pnics",
    "network_vswitch_standard_list": "switch uplinks, MTU and teaming unknown; port groups go on stand-in switches",
    "network_vswitch_standard_portgroup_list": "port group VLANs unknown; vmks get a stand-in port group",
}
STAND_IN_SWITCH = "stand-in vSwitch"
# The esxcfg-* command admins still paste in place of each esxcli output.
LEGACY = {
    "network_ip_interface_list": "esxcfg_vmknic_l",
    "network_ip_interface_ipv4_get": "esxcfg_vmknic_l",
    "network_nic_list": "esxcfg_nics_l",
    "network_vswitch_standard_list": "esxcfg_vswitch_l",
    "network_vswitch_standard_portgroup_list": "esxcfg_vswitch_l",
}


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
    norm: list[str] = []
    origin: list[int] = []
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
    """Read one PATH: a directory or a tar archive (.tgz), only what is inside it (see esxcli_files)."""
    p = Path(path)
    shown = one_line(str(p))
    expected = "a directory of esxcli outputs, a vm-support bundle directory or a .tgz bundle"
    try:
        mode = os.stat(p).st_mode  # PATH itself may be a link: the user named it
    except OSError as exc:
        raise InputError(shown, "", f"{expected} ({exc.strerror})") from None
    wanted = lambda name: classify(name) is not None  # noqa: E731
    if stat.S_ISDIR(mode):
        got = read_directory(str(p), shown, wanted)
        fallback = p.name or Path.cwd().name
        guessed = _bundle_host(p.name) or _first_bundle_host(got.tops) or fallback
    elif stat.S_ISREG(mode):
        got = read_archive(str(p), shown, wanted, expected)
        guessed = _first_bundle_host(got.tops) or _bundle_host(p.name) or p.name.split(".")[0]
    else:
        raise InputError(shown, "", f"{expected}, not {kind_of(mode)}")
    return Tree(shown, _by_command(got.texts), guessed)


def _by_command(texts: list[tuple[str, Text]]) -> dict[str, dict[str, Text]]:
    files: dict[str, dict[str, Text]] = {}
    for name, text in texts:
        kind = classify(name)
        if kind is None:
            continue
        key, suffix = kind
        if suffix in files.get(key, {}):
            raise InputError(text.name, "", f"one output per command and object; {files[key][suffix].name} is the same command")
        files.setdefault(key, {})[suffix] = text
    return files


def _first_bundle_host(names: list[str]) -> Optional[str]:
    return next((h for h in map(_bundle_host, names) if h), None)


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
    """Pure: one host's saved outputs -> a Host (+ VDS stand-ins) and what is missing.

    A value the model refuses is an error at the file and line it was read
    from; the host name at ``--host`` or at PATH, whose name it was taken from.
    """
    name_src = Text("--host" if name else tree.origin, "")
    name = name or tree.guessed_name
    absent = [k for k in REQUIRED if k not in tree.files and LEGACY[k] not in tree.files]
    if len(absent) == len(REQUIRED):
        raise InputError(
            tree.origin, "",
            "saved outputs of at least one of: " + "; ".join(
                f"{COMMANDS[k]} (e.g. {k}.txt) or {COMMANDS[LEGACY[k]]}" for k in absent),
        )
    missing = {f"{name}:{k}": f"no {COMMANDS[k]} (or {COMMANDS[LEGACY[k]]}) output: {UNKNOWN_WITHOUT[k]}"
               for k in absent}
    ver, ver_src = _version(tree, esxi_version)
    std_switches = _standard_switches(tree, name, missing)
    route_tables = {
        _stack_name(sfx): routes(t)
        for key in ("network_ip_route_ipv4_list", "esxcfg_route_l")
        for sfx, t in tree.files.get(key, {}).items()
    }
    vmks, vds_portgroups = _vmks(tree, name, route_tables, missing)
    stacks, vmks = _netstacks(tree, name, vmks, route_tables, missing)
    listing = _source(tree, "network_ip_interface_list") or Text(tree.origin, "")
    if {"network_vswitch_standard_list", "network_vswitch_standard_portgroup_list"} & set(absent):
        on_vds = {pg for pgs in vds_portgroups.values() for pg in pgs}
        std_switches = _with_stand_in(std_switches, [v for v in vmks if v.portgroup not in on_vds], name, missing)
    members = tuple(build(DvsMembership, listing, None, switch=d) for d in sorted(vds_portgroups))
    stand_ins = tuple(
        build(DistributedSwitch, listing, None, name=d,
              portgroups=tuple(build(DistributedPortGroup, listing, None, name=p) for p in sorted(pgs)))
        for d, pgs in sorted(vds_portgroups.items())
    )
    nic_text = _source(tree, "network_nic_list")
    pnics = (tuple(nics(nic_text)) if "network_nic_list" in tree.files else tuple(legacy_nics(nic_text))) if nic_text else tuple(
        build(PhysicalNic, Text(tree.origin, ""), None, name=u) for sw in std_switches for u in sw.uplinks)
    host = build(Host, Text(tree.origin, ""), None, where={"name": (name_src, None), "version": ver_src},
                 name=name, version=ver, management_address=name, pnics=pnics, vswitches=std_switches,
                 dvswitches=members, netstacks=stacks, vmks=tuple(sorted(vmks, key=lambda v: v.number)))
    return Imported(host, stand_ins, missing)


def _one(tree: Tree, key: str) -> Text:
    """The single output of a command that takes no object."""
    texts = tree.files[key]
    if len(texts) > 1 or "" not in texts:
        shown = ", ".join(t.name for t in texts.values())
        raise InputError(shown, "", f"one {COMMANDS[key]} output without a suffix in its name")
    return texts[""]


def _maybe(tree: Tree, key: str) -> Optional[Text]:
    return _one(tree, key) if key in tree.files else None


def _source(tree: Tree, key: str) -> Optional[Text]:
    """The esxcli output, else the legacy esxcfg-* output that holds the same facts."""
    return _maybe(tree, key) or _maybe(tree, LEGACY[key])


def _with_stand_in(switches: tuple[StandardSwitch, ...], vmks: list[Vmk], host: str, missing: dict[str, str]
                   ) -> tuple[StandardSwitch, ...]:
    """The engine needs each vmk's port group on a switch: the ones no output placed go on a stand-in."""
    placed = {pg.name for sw in switches for pg in sw.portgroups}
    loose = sorted({v.portgroup for v in vmks if v.portgroup not in placed})
    if not loose:
        return switches
    for pg in loose:
        missing[f"{host}:{pg}:portgroup"] = (
            f"no switch output places port group {excerpt(pg)}; it is on {STAND_IN_SWITCH!r} without uplinks or VLAN")
    stand_in = StandardSwitch(name=STAND_IN_SWITCH, portgroups=tuple(PortGroup(name=pg) for pg in loose))
    return switches + (stand_in,)


def _version(tree: Tree, given: Optional[str]) -> tuple[str, tuple[Text, Optional[int]]]:
    """The ESXi version and where it was read (for an error): --esxi-version, else vmware -vl."""
    if given is not None:
        return given, (Text("--esxi-version", ""), None)
    for key in ("vmware_vl", "vmware_v"):
        if key in tree.files:
            src = next(iter(tree.files[key].values()))
            return version(src), (src, 1)
    raise InputError(tree.origin, "", "the ESXi version: include vmware_-vl.txt ('vmware -vl') or pass --esxi-version")


def _standard_switches(tree: Tree, host: str, missing: dict[str, str]) -> tuple[StandardSwitch, ...]:
    """The switches with their port groups, from whichever of vswitch list and portgroup list is there."""
    sw_text = _maybe(tree, "network_vswitch_standard_list")
    pg_text = _maybe(tree, "network_vswitch_standard_portgroup_list")
    legacy = _maybe(tree, "esxcfg_vswitch_l")
    if sw_text is None and pg_text is None:
        if legacy is None:
            return ()
        got = legacy_switches(legacy)
        sw_text = pg_text = legacy
        switches, pg_rows = got.vswitches, got.portgroups
    elif pg_text is None:
        assert sw_text is not None, "the branch above takes both missing"
        switches = vswitches(sw_text)
        # vswitch list names each switch's port groups, only without VLANs.
        pg_text = sw_text
        pg_rows = [PortGroupRow(pg, sw.name, 0, sw.line) for sw in switches for pg in sw.portgroups]
    else:
        switches = vswitches(sw_text) if sw_text else [
            VSwitch(name, (), 1500, ()) for name in dict.fromkeys(r.vswitch for r in portgroups(pg_text))]
        pg_rows = portgroups(pg_text)
    known = {sw.name for sw in switches}
    for r in pg_rows:
        if r.vswitch not in known:
            missing[f"{host}:{r.name}:portgroup"] = (
                f"portgroup list puts it on vSwitch {excerpt(r.vswitch)}, which vswitch list does not show; left out")
    pg_failover = {sfx: (t, failover(t)) for sfx, t in
                   tree.files.get("network_vswitch_standard_portgroup_policy_failover_get", {}).items()}
    sw_failover = {sfx: (t, failover(t)) for sfx, t in
                   tree.files.get("network_vswitch_standard_policy_failover_get", {}).items()}
    for pgn, (t, _) in pg_failover.items():
        if not any(r.name == pgn for r in pg_rows):
            raise InputError(t.name, "", f"a failover policy of a port group in portgroup list, not {excerpt(pgn)}")
    sw_src = sw_text or pg_text
    out = []
    for sw in switches:
        rows = [r for r in pg_rows if r.vswitch == sw.name]
        team = _switch_teaming(sw, sw_failover.get(sw.name), [pg_failover[r.name] for r in rows if r.name in pg_failover])
        if team is None:
            if sw_text is not None:
                missing[f"{host}:{sw.name}:teaming"] = (
                    "no failover policy output for the switch or a non-overriding port group; assumed all uplinks active, srcport"
                )
            team = build(Teaming, sw_src, sw.line or None, policy="loadbalance_srcid", active=sw.uplinks, standby=(), unused=())
        pgs = tuple(
            build(PortGroup, pg_text, r.line, name=r.name, vlan=r.vlan,
                  teaming=_portgroup_teaming(pg_failover[r.name], sw.uplinks) if r.name in pg_failover else None)
            for r in rows
        )
        out.append(build(StandardSwitch, sw_src, sw.line or None, name=sw.name, uplinks=sw.uplinks, mtu=sw.mtu,
                         teaming=team, portgroups=pgs))
    return tuple(out)


def _vmks(tree: Tree, host: str, route_tables: dict[str, RouteTable], missing: dict[str, str]
          ) -> tuple[list[Vmk], dict[str, set[str]]]:
    """The vmks, and the stand-in port groups of VDS-attached ones (VDS name -> names)."""
    listing = _source(tree, "network_ip_interface_list")
    if listing is None:
        return [], {}
    addr_text = _source(tree, "network_ip_interface_ipv4_get")
    if "network_ip_interface_list" in tree.files:
        rows = interfaces(listing)
        addrs = {a.device: a for a in ipv4(addr_text)} if addr_text else {}
    else:
        rows, found = vmknics(listing)
        rows = _on_legacy_vds(tree, rows)
        addrs = {a.device: a for a in found} if addr_text is listing else {
            a.device: a for a in ipv4(addr_text)} if addr_text else {}
    tag_files = tree.files.get("network_ip_interface_tag_get", {})
    services = {}
    for sfx, t in tag_files.items():
        if not re.fullmatch(r"vmk[0-9]+", sfx):
            raise InputError(t.name, "", "the vmk in the file name, e.g. network_ip_interface_tag_get_vmk2.txt")
        services[sfx] = tags(t)
    if not tag_files:
        missing[f"{host}:tags"] = "no ip interface tag get outputs; service tags (vSphereBackupNFC!) unknown"
    vmks: list[Vmk] = []
    vds: dict[str, set[str]] = {}
    for i in rows:
        a = addrs.get(i.device)
        if a is None and addr_text is not None:
            missing[f"{host}:{i.device}:ipv4"] = "not in ip interface ipv4 get; recorded without an address"
        if tag_files and i.device not in services:
            missing[f"{host}:{i.device}:tags"] = "no ip interface tag get output for it; its service tags are unknown"
        portgroup = i.portgroup
        if portgroup is None and i.vds_name:
            # esxcli shows the VDS port, not its port group or teaming: a stand-in port group.
            portgroup = f"{i.vds_name} port {i.vds_port or '?'}"
            vds.setdefault(i.vds_name, set()).add(portgroup)
            missing[f"{host}:{i.device}:vds"] = (
                f"on VDS {excerpt(i.vds_name)} port {excerpt(i.vds_port or '?')}: esxcli shows neither its port group nor its teaming; "
                "discover from vCenter for uplinks"
            )
        if portgroup is None:
            raise InputError(listing.name, excerpt(i.device), "a Portgroup or VDS Name", i.line)
        stack = _stack_name(i.netstack)
        gw = a.gateway if a else None
        table = route_tables.get(stack)
        if table is not None and gw == table.gateway:
            gw = None  # the stack's own gateway, not a per-vmk override
        vmks.append(build(Vmk, listing, i.line, where=_vmk_sources(listing, i, addr_text, a, tag_files),
                          device=i.device, portgroup=portgroup, ipv4=a.address if a else None, mac=i.mac, netstack=stack,
                          mtu=i.mtu, services=services.get(i.device, ()), gateway=gw, enabled=i.enabled))
    return vmks, vds


def _on_legacy_vds(tree: Tree, rows: list[Interface]) -> list[Interface]:
    """esxcfg-vmknic shows a VDS-attached vmk by its DVPort only; esxcfg-vswitch names the VDS."""
    legacy = _maybe(tree, "esxcfg_vswitch_l")
    dvports = legacy_switches(legacy).dvports if legacy else {}
    out = []
    for i in rows:
        if i.vds_port is not None:
            vds, port = dvports.get(i.device, ("unknown VDS", i.vds_port))
            i = dataclasses.replace(i, vds_name=vds, vds_port=port)
        out.append(i)
    return out


def _vmk_sources(listing: Text, i: Interface, addr_text: Optional[Text], a: Optional[Ipv4], tag_files: dict[str, Text]
                 ) -> dict[str, tuple[Text, Optional[int]]]:
    """Where each field of a vmk was read, for an error the model raises."""
    keys = {"device": "Name", "portgroup": "Portgroup", "mac": "MAC Address", "netstack": "Netstack Instance",
            "mtu": "MTU", "enabled": "Enabled"}
    where: dict[str, tuple[Text, Optional[int]]] = {f: (listing, i.lines.get(k, i.line)) for f, k in keys.items()}
    if a is not None and addr_text is not None:
        where["ipv4"] = where["gateway"] = (addr_text, a.line)
    if i.device in tag_files:
        where["services"] = (tag_files[i.device], 1)
    return where


def _netstacks(tree: Tree, host: str, vmks: list[Vmk], route_tables: dict[str, RouteTable], missing: dict[str, str]
               ) -> tuple[tuple[Netstack, ...], list[Vmk]]:
    """Netstacks with their gateway and static routes; vmks lose gateways that were only their stack's."""
    keys = [DEFAULT_STACK]
    listed = _source(tree, "network_ip_interface_list") or Text(tree.origin, "")
    if "network_ip_netstack_list" in tree.files:
        listed = _one(tree, "network_ip_netstack_list")
        keys = [_stack_name(k) for k in netstacks(listed)]
    keys += [v.netstack for v in vmks if v.netstack not in keys]
    stacks = []
    for key in dict.fromkeys(keys):
        table = route_tables.get(key)
        if table is not None:
            # An output without rows tells nothing about which vmk owns a subnet: not a table.
            stacks.append(build(Netstack, listed, None, key=key, gateway=table.gateway, routes=table.routes,
                                route_table=table.table or None))
            continue
        # No route table: the vmks' ipv4 get Gateway column is the best evidence.
        gws = {v.gateway for v in vmks if v.netstack == key and v.gateway}
        if key == DEFAULT_STACK or gws:
            missing[f"{host}:routes:{key}"] = "no ip route ipv4 list output for this netstack" + (
                "; its gateway taken from its vmks' ipv4 get" if len(gws) == 1 else "; gateway and static routes unknown")
        stacks.append(build(Netstack, listed, None, key=key, gateway=gws.pop() if len(gws) == 1 else None))
        if len(gws) <= 1:
            vmks = [v.model_copy(update={"gateway": None}) if v.netstack == key else v for v in vmks]
    return tuple(stacks), vmks


def _stack_name(value: str) -> str:
    return normalise_stack(value) if value else DEFAULT_STACK


def _switch_teaming(sw: VSwitch, own: Optional[tuple[Text, Failover]], inheriting: list[tuple[Text, Failover]]
                    ) -> Optional[Teaming]:
    """The switch's own policy, or what a port group that overrides nothing shows."""
    found = own or next(((t, fo) for t, fo in inheriting
                         if fo.override_uplinks is False and fo.override_policy is False), None)
    if found is None:
        return None
    src, fo = found
    unused = tuple(u for u in sw.uplinks if u not in fo.active and u not in fo.standby)
    return build(Teaming, src, None, policy=fo.policy, active=fo.active, standby=fo.standby, unused=unused)


def _portgroup_teaming(found: tuple[Text, Failover], uplinks: tuple[str, ...]) -> Optional[Teaming]:
    """Only what the port group overrides; without Override lines, all of it."""
    src, fo = found
    policy = fo.policy if fo.override_policy is not False else None
    if fo.override_uplinks is False:
        return build(Teaming, src, None, policy=policy) if policy else None
    unused = tuple(u for u in uplinks if u not in fo.active and u not in fo.standby)
    return build(Teaming, src, None, policy=policy, active=fo.active, standby=fo.standby, unused=unused)


def import_hosts(paths: Iterable[str], names: Optional[list[str]] = None, esxi_version: Optional[str] = None) -> Snapshot:
    """Read each path as one host and join them into a snapshot.

    Every error names the PATH (or the file inside it) it comes from, also
    for what only shows across hosts (a vmk address two hosts claim).
    """
    hosts: list[Host] = []
    origins: list[str] = []
    switches: dict[str, DistributedSwitch] = {}
    missing: dict[str, str] = {}
    for i, path in enumerate(paths):
        tree = read_tree(path)
        got = build_host(tree, names[i] if names else None, esxi_version)
        if any(h.name == got.host.name for h in hosts):
            raise InputError(tree.origin, "", f"a distinct host; {excerpt(got.host.name)} was already read (use --host)")
        origins.append(tree.origin)
        hosts.append(got.host)
        for d in got.dvswitches:
            if d.name in switches:
                merged = {p.name: p for p in switches[d.name].portgroups + d.portgroups}
                d = d.model_copy(update={"portgroups": tuple(merged[k] for k in sorted(merged))})
            switches[d.name] = d
        missing.update(got.missing)
    everything = Text(", ".join(origins), "")
    snap = build(Snapshot, everything, None, name="imported", hosts=tuple(hosts), dvswitches=tuple(switches.values()),
                 missing=missing)
    for loc, expected in problems(snap):
        if len(loc) > 2 and loc[0] == "hosts" and isinstance(loc[1], int):
            raise InputError(origins[loc[1]], f"host {excerpt(hosts[loc[1]].name)}: {_dotted(loc[2:])}", expected)
        raise InputError(everything.name, _dotted(loc), expected)
    return snap
