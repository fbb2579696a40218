"""Print a snapshot Host the way esxcli prints it (test helper).

Written from the published samples in ../shared/seeds/format-samples-esxcli.txt,
independently of the importer, so that importing these files is a real check.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from nbdpath.model import DEFAULT_STACK, Host, Teaming

ESXCLI_TAG = {"management": "Management", "vmotion": "VMotion", "vsan": "VSAN", "faultToleranceLogging": "faultToleranceLogging"}
ESXCLI_POLICY = {
    "loadbalance_srcid": "srcport", "loadbalance_ip": "iphash", "loadbalance_srcmac": "mac",
    "failover_explicit": "explicit", "lacp": "iphash",
}


def table(headers: list[str], rows: list[list[str]], right: tuple[str, ...] = ()) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            out.append(c.rjust(widths[i]) if headers[i] in right else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)]) + "\n"


def interface_list(host: Host) -> str:
    out = []
    for i, v in enumerate(host.vmks):
        out += [
            v.device, f"   Name: {v.device}", f"   MAC Address: {v.mac or '00:50:56:00:00:00'}",
            f"   Enabled: {'true' if v.enabled else 'false'}", f"   Portset: {_switch_of(host, v.portgroup)}",
            f"   Portgroup: {v.portgroup}", f"   Netstack Instance: {v.netstack}", "   VDS Name: N/A",
            "   VDS UUID: N/A", "   VDS Port: N/A", "   VDS Connection: -1", "   Opaque Network ID: N/A",
            "   Opaque Network Type: N/A", "   External ID: N/A", f"   MTU: {v.mtu}", "   TSO MSS: 65535",
            "   RXDispQueue Size: 1", f"   Port ID: {33554440 + i}",
        ]
    return "\n".join(out) + "\n"


def _switch_of(host: Host, pg: str) -> str:
    return next(s.name for s in host.vswitches if any(p.name == pg for p in s.portgroups))


def ipv4_get(host: Host, with_gateway: bool = True) -> str:
    headers = ["Name", "IPv4 Address", "IPv4 Netmask", "IPv4 Broadcast", "Address Type"]
    headers += ["Gateway", "DHCP DNS"] if with_gateway else ["DHCP DNS"]
    stacks = {n.key: n for n in host.netstacks}
    rows = []
    for v in host.vmks:
        if v.ipv4:
            iface = ipaddress.IPv4Interface(v.ipv4)
            ip, mask, bcast = str(iface.ip), str(iface.netmask), str(iface.network.broadcast_address)
        else:
            ip = mask = bcast = "0.0.0.0"
        row = [v.device, ip, mask, bcast, "STATIC"]
        if with_gateway:
            stack_gw = stacks[v.netstack].gateway if v.netstack in stacks else None
            row.append(v.gateway or stack_gw or "0.0.0.0")
        row.append("false")
        rows.append(row)
    return table(headers, rows, right=("DHCP DNS",))


def tag_get(services: tuple[str, ...]) -> str:
    return "   Tags: " + ", ".join(ESXCLI_TAG.get(s, s) for s in services) + "\n"


def route_list(host: Host, stack: str) -> str:
    ns = next(n for n in host.netstacks if n.key == stack)
    rows = []
    if ns.gateway:
        gw_vmk = next((v.device for v in host.vmks if v.netstack == stack and v.ipv4 and
                       ipaddress.ip_address(ns.gateway) in ipaddress.IPv4Interface(v.ipv4).network), "vmk0")
        rows.append(["default", "0.0.0.0", ns.gateway, gw_vmk, "MANUAL"])
    for v in host.vmks:
        if v.netstack == stack and v.ipv4:
            net = ipaddress.IPv4Interface(v.ipv4).network
            rows.append([str(net.network_address), str(net.netmask), "0.0.0.0", v.device, "MANUAL"])
    for r in ns.routes:
        net = ipaddress.IPv4Network(r.network)
        rows.append([str(net.network_address), str(net.netmask), r.gateway, "vmk0", "MANUAL"])
    return table(["Network", "Netmask", "Gateway", "Interface", "Source"], rows)


def netstack_list(host: Host) -> str:
    out = []
    for n in host.netstacks:
        out += [n.key, f"   Key: {n.key}", f"   Name: {n.key}", "   State: 4660"]
    return "\n".join(out) + "\n"


def nic_list(host: Host, modern: bool = True) -> str:
    rows = []
    for i, p in enumerate(host.pnics):
        link = "Up" if p.link_up else "Down"
        speed = str(p.speed_mbps or 0) if p.link_up else "0"
        state = ["Up", link] if modern else [link]
        rows.append([p.name, f"0000:03:00.{i}", "ixgben", *state, speed, "Full" if p.link_up else "Half",
                     p.mac or f"a4:bf:01:4e:37:{i:02x}", "1500", "Intel(R) Ethernet Controller X540-AT2"])
    head = ["Name", "PCI Device", "Driver"] + (["Admin Status", "Link Status"] if modern else ["Link"])
    head += ["Speed", "Duplex", "MAC Address", "MTU", "Description"]
    return table(head, rows, right=("Speed", "MTU"))


def vswitch_list(host: Host) -> str:
    out = []
    for s in host.vswitches:
        out += [
            s.name, f"   Name: {s.name}", "   Class: cswitch", "   Num Ports: 5632", "   Used Ports: 4",
            "   Configured Ports: 128", f"   MTU: {s.mtu}", "   CDP Status: listen", "   Beacon Enabled: false",
            "   Beacon Interval: 1", "   Beacon Threshold: 3", "   Beacon Required By: ",
            f"   Uplinks: {', '.join(s.uplinks)}", f"   Portgroups: {', '.join(p.name for p in s.portgroups)}",
        ]
    return "\n".join(out) + "\n"


def portgroup_list(host: Host) -> str:
    rows = [[p.name, s.name, "1", str(p.vlan)] for s in host.vswitches for p in s.portgroups]
    return table(["Name", "Virtual Switch", "Active Clients", "VLAN ID"], rows, right=("Active Clients", "VLAN ID"))


def _effective(sw_team: Teaming, pg_team: Teaming | None, uplinks: tuple[str, ...]) -> tuple[str, list, list, list]:
    def order(t: Teaming, inh_active, inh_standby):
        if t.active is None and t.standby is None and t.unused is None:
            return inh_active, inh_standby
        active = list(t.active) if t.active is not None else [u for u in inh_active if u not in (t.standby or ()) and u not in (t.unused or ())]
        standby = list(t.standby) if t.standby is not None else [u for u in inh_standby if u not in active and u not in (t.unused or ())]
        return active, standby

    sa, ss = order(sw_team, list(uplinks), [])
    pa, ps = order(pg_team, sa, ss) if pg_team else (sa, ss)
    policy = (pg_team.policy if pg_team and pg_team.policy else None) or sw_team.policy or "loadbalance_srcid"
    return policy, pa, ps, [u for u in uplinks if u not in pa and u not in ps]


def failover_get(host: Host, pg_name: str) -> str:
    sw = next(s for s in host.vswitches if any(p.name == pg_name for p in s.portgroups))
    pg = next(p for p in sw.portgroups if p.name == pg_name)
    policy, active, standby, unused = _effective(sw.teaming, pg.teaming, sw.uplinks)
    t = pg.teaming
    over_lb = bool(t and t.policy)
    over_up = bool(t and (t.active is not None or t.standby is not None or t.unused is not None))
    return "\n".join([
        f"   Load Balancing: {ESXCLI_POLICY[policy]}", "   Network Failure Detection: link",
        "   Notify Switches: true", "   Failback: true",
        f"   Active Adapters: {', '.join(active)}", f"   Standby Adapters: {', '.join(standby)}",
        f"   Unused Adapters: {', '.join(unused)}",
        f"   Override Vswitch Load Balancing: {str(over_lb).lower()}",
        "   Override Vswitch Network Failure Detection: false", "   Override Vswitch Notify Switches: false",
        "   Override Vswitch Failback: false", f"   Override Vswitch Uplinks: {str(over_up).lower()}",
    ]) + "\n"


def switch_failover_get(host: Host, sw_name: str) -> str:
    sw = next(s for s in host.vswitches if s.name == sw_name)
    policy, active, standby, unused = _effective(sw.teaming, None, sw.uplinks)
    return "\n".join([
        f"   Load Balancing: {ESXCLI_POLICY[policy]}", "   Network Failure Detection: link",
        "   Notify Switches: true", "   Failback: true",
        f"   Active Adapters: {', '.join(active)}", f"   Standby Adapters: {', '.join(standby)}",
        f"   Unused Adapters: {', '.join(unused)}",
    ]) + "\n"


def write_host(host: Host, directory: Path, bundle: bool = False) -> Path:
    """All outputs of one host; ``bundle`` uses vm-support's commands/esxcli_* names."""
    directory.mkdir(parents=True, exist_ok=True)
    base = directory / "commands" if bundle else directory
    base.mkdir(exist_ok=True)

    def put(cmd: str, text: str) -> None:
        name = f"esxcli_{cmd.replace('_', '-')}.txt" if bundle else f"{cmd}.txt"
        (base / name).write_text(text)

    put("network_ip_interface_list", interface_list(host))
    put("network_ip_interface_ipv4_get", ipv4_get(host))
    put("network_nic_list", nic_list(host))
    put("network_vswitch_standard_list", vswitch_list(host))
    put("network_vswitch_standard_portgroup_list", portgroup_list(host))
    put("network_ip_netstack_list", netstack_list(host))
    for v in host.vmks:
        put(f"network_ip_interface_tag_get_{v.device}", tag_get(v.services))
    for n in host.netstacks:
        suffix = "" if n.key == DEFAULT_STACK else f"_{n.key}"
        put(f"network_ip_route_ipv4_list{suffix}", route_list(host, n.key))
    for s in host.vswitches:
        put(f"network_vswitch_standard_policy_failover_get_{s.name}", switch_failover_get(host, s.name))
        for p in s.portgroups:
            # Port group names may hold spaces; they stay in the file name.
            (base / (f"esxcli_network-vswitch-standard-portgroup-policy-failover-get_{p.name}.txt" if bundle else
                     f"network_vswitch_standard_portgroup_policy_failover_get_{p.name}.txt")).write_text(failover_get(host, p.name))
    (base / "vmware_-vl.txt").write_text(f"VMware ESXi {host.version} build-19193900\nVMware ESXi {host.version} GA\n")
    return directory
