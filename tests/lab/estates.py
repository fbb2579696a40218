"""Hypothesis strategy: random small estates the engine and a kernel can both judge.

1-3 hosts with 1-4 vmks, 1-3 backup nodes, 0-2 routers (some stateful),
random subnets (a few overlapping), static routes and gateways, tags and
links down. Shapes excluded on purpose, each for a stated reason (see
docs/lab.md, "Shapes the property test leaves out"):

- vmks on another stack are generated, but the lab builds only the default
  stack, so pairs whose endpoint is on another stack are not run;
- gateways are always router addresses: a gateway that is a host's or a
  node's own address is refused by Linux (``ip route`` says "invalid
  gateway"), and a route via an ESXi vmk to another vmk's IP is delivered
  by Linux's weak host model where the engine says ESXi drops it;

Per-vmk gateways and stack gateways are generated freely: the lab checks
the engine against assumption A5 as the lab models it.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

from nbdpath.model import parse

# Subnet pool: four /24s (few enough that devices share them often), and a
# /16 that overlaps the first two, so longest-prefix and first-match meet.
SUBNETS = ["10.0.0.0/24", "10.0.1.0/24", "10.2.0.0/24", "10.3.0.0/24"]
WIDE = "10.0.0.0/16"


def _addr(subnet: str, host_octet: int) -> str:
    base = subnet.split("/")[0].rsplit(".", 1)[0]
    plen = subnet.split("/")[1]
    return f"{base}.{host_octet}/{plen}"


def _net(address: str) -> str:
    """The /24 of the pool an address sits in."""
    return address.split("/")[0].rsplit(".", 1)[0] + ".0/24"


@st.composite
def estates(draw):
    use_wide = draw(st.booleans()) and draw(st.booleans())  # ~1 in 4
    pool = list(SUBNETS)
    segment_of = {s: f"seg{i}" for i, s in enumerate(pool)}
    # A subnet may have no segment at all: devices there are on no L2.
    unplugged = {draw(st.sampled_from(pool))} if draw(st.integers(0, 5)) == 0 else set()
    segments = [{"name": segment_of[s], "subnets": [s]} for s in pool if s not in unplugged]

    def iface_subnet():
        s = draw(st.sampled_from(pool))
        # With the wide prefix on, an address in 10.0.0/24 or 10.0.1/24 may
        # be configured as a /16 instead (same segment, overlapping route).
        wide = use_wide and s in pool[:2] and draw(st.booleans())
        return s, wide

    used_octets: dict[str, int] = {}

    def address(s: str, wide: bool) -> str:
        used_octets[s] = used_octets.get(s, 0) + 1
        octet = 1 + used_octets[s] * 3 + draw(st.integers(0, 2))
        ip = _addr(s, octet)
        return ip.replace("/24", "/16") if wide else ip

    routers = []
    router_addrs: dict[str, list[str]] = {}  # subnet -> router IPs on it
    for r in range(draw(st.sampled_from([1, 0, 1, 2, 2]))):
        subnets = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=4, unique=True))
        ifaces = []
        for i, s in enumerate(subnets):
            a = address(s, False)
            ifaces.append({"name": f"eth{i}", "address": a})
            router_addrs.setdefault(s, []).append(a.split("/")[0])
        routers.append({"name": f"r{r}", "stateful": draw(st.booleans()), "interfaces": ifaces, "routes": []})

    all_router_ips = sorted(ip for ips in router_addrs.values() for ip in ips)

    def next_hop(subnets, exclude=()):
        """Mostly a router address on one of the device's own subnets (a usable
        gateway), sometimes any router address (unusable: no connected route)."""
        local = [ip for sub in subnets for ip in router_addrs.get(sub, []) if ip not in exclude]
        far = [ip for ip in all_router_ips if ip not in exclude]
        if local and draw(st.integers(0, 5)) > 0:
            return draw(st.sampled_from(local))
        return draw(st.sampled_from(far)) if far else None

    def gateway(subnets):
        return None if draw(st.integers(0, 4)) == 0 else next_hop(subnets)

    def routes(subnets, max_size: int, exclude=()):
        out = []
        for _ in range(draw(st.integers(0, max_size))):
            gw = next_hop(subnets, exclude)
            if gw is not None:
                out.append({"network": draw(st.sampled_from(pool + ["0.0.0.0/0"])), "gateway": gw})
        return out

    def one_default(device):
        # A gateway is the default route; a snapshot may not give a second one (validate._one_default).
        seen = bool(device.get("gateway"))
        kept = []
        for r in device["routes"]:
            if r["network"] == "0.0.0.0/0":
                if seen:
                    continue
                seen = True
            kept.append(r)
        device["routes"] = kept
        return device

    for router in routers:
        mine = [i["address"] for i in router["interfaces"]]
        own_subnets = [_net(a) for a in mine]
        router["routes"] = routes(own_subnets, 2, exclude={a.split("/")[0] for a in mine})

    hosts = []
    for h in range(draw(st.integers(1, 3))):
        numbers = sorted(draw(st.sets(st.integers(0, 5), min_size=1, max_size=4)))
        pnics = [{"name": "vmnic0", "link_up": draw(st.integers(0, 14)) > 0}, {"name": "vmnic1"}]
        portgroups, vmks = [], []
        tagged = draw(st.one_of(st.none(), st.sampled_from(numbers)))
        subnets_of_host = []
        for n in numbers:
            sub, wide = iface_subnet()
            subnets_of_host.append(sub)
            pg = f"pg{n}"
            # Management on vmnic0, the rest mostly on vmnic1 (so isolation is
            # possible); a down vmnic0 cuts off port groups that only have it.
            choice = draw(st.integers(0, 3))
            active = ["vmnic0"] if (n == numbers[0] or choice == 0) else (["vmnic1"] if choice > 1 else ["vmnic0", "vmnic1"])
            portgroups.append({"name": pg, "teaming": {"active": active,
                                                       "unused": [u for u in ("vmnic0", "vmnic1") if u not in active]}})
            vmk = {"device": f"vmk{n}", "portgroup": pg, "ipv4": address(sub, wide), "services": []}
            # Now and then: a vmk on another stack (not emulated), a disabled
            # one, or one pinned to a segment its subnet is not on.
            oddity = draw(st.integers(0, 11))
            if oddity == 0 and n != numbers[0]:
                vmk["netstack"] = "vmotion"
            elif oddity == 1 and n != numbers[0]:
                vmk["enabled"] = False
            elif oddity == 2 and segments:
                vmk["segment"] = draw(st.sampled_from([seg["name"] for seg in segments]))
            if n == numbers[0]:
                vmk["services"].append("management")
            if n == tagged:
                vmk["services"].append("vSphereBackupNFC")
            if draw(st.integers(0, 5)) == 0:
                gw = next_hop([sub])
                if gw:
                    vmk["gateway"] = gw
            vmks.append(vmk)
        hosts.append({
            "name": f"esx{h}",
            "version": draw(st.sampled_from(["7.0.3", "8.0.2", "6.7.0"])),
            "management_address": vmks[0]["ipv4"].split("/")[0],
            "pnics": pnics,
            "vswitches": [{"name": "vSwitch0", "uplinks": ["vmnic0", "vmnic1"], "portgroups": portgroups}],
            "netstacks": [one_default({"key": "defaultTcpipStack", "gateway": gateway(subnets_of_host),
                                       "routes": routes(subnets_of_host, 2)}),
                          {"key": "vmotion", "gateway": gateway(subnets_of_host)}],
            "vmks": vmks,
        })

    nodes = []
    for n in range(draw(st.integers(1, 3))):
        subnets = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
        ifaces = [{"name": f"eth{i}", "address": address(sub, False)} for i, sub in enumerate(subnets)]
        nodes.append(one_default({"name": f"node{n}", "interfaces": ifaces, "gateway": gateway(subnets),
                                  "routes": routes(subnets, 2)}))

    data = {"name": "hypothesis", "segments": segments, "routers": routers, "hosts": hosts, "backup_nodes": nodes}
    return parse(json.dumps(data), "<hypothesis>")


def fleet(hosts: int = 20, nodes: int = 4):
    """A deterministic estate of ``hosts`` x ``nodes`` covering the field shapes.

    Hosts cycle through: tag on an L2 backup vmk (isolated), tag with the
    node routed (reply via vmk0), report 2's trick (a vmk on the Rubrik
    subnet), a static route fixing the routed case, and a vmk on the
    firewalled subnet (asymmetric through a stateful firewall: broken).
    Nodes: L2 backup proxy, routed proxy, Rubrik node, node behind the firewall.
    """
    segs = {"mgmt": "10.10.0.0/24", "backup": "10.30.0.0/24", "rubrik": "10.28.0.0/24",
            "routed": "10.40.0.0/24", "secure": "10.50.0.0/24", "transit": "10.60.0.0/24"}
    data = {
        "name": f"fleet-{hosts}x{nodes}",
        "segments": [{"name": k, "subnets": [v]} for k, v in segs.items()],
        "routers": [
            {"name": "core", "interfaces": [
                {"name": "eth0", "address": "10.10.0.1/24"}, {"name": "eth1", "address": "10.30.0.1/24"},
                {"name": "eth2", "address": "10.28.0.1/24"}, {"name": "eth3", "address": "10.40.0.1/24"},
                {"name": "eth4", "address": "10.60.0.1/24"}],
             "routes": [{"network": "10.50.0.0/24", "gateway": "10.60.0.2"}]},
            {"name": "fw", "kind": "firewall", "stateful": True, "interfaces": [
                {"name": "eth0", "address": "10.60.0.2/24"}, {"name": "eth1", "address": "10.50.0.1/24"}],
             "routes": [{"network": "10.0.0.0/8", "gateway": "10.60.0.1"}]},
        ],
        "hosts": [],
        "backup_nodes": [],
    }
    node_defs = [("proxy-l2", "10.30.0.200/24", "10.30.0.1"), ("proxy-routed", "10.40.0.200/24", "10.40.0.1"),
                 ("rubrik", "10.28.0.200/24", "10.28.0.1"), ("secure", "10.50.0.200/24", "10.50.0.1")]
    for i in range(nodes):
        name, addr, gw = node_defs[i % len(node_defs)]
        ip = addr.split("/")[0].rsplit(".", 1)[0] + f".{200 + i // len(node_defs)}/24"
        data["backup_nodes"].append({"name": f"{name}-{i}", "interfaces": [{"name": "eth0", "address": ip}], "gateway": gw})
    for h in range(hosts):
        kind = h % 5
        o = 10 + h
        vmks = [{"device": "vmk0", "portgroup": "Management", "ipv4": f"10.10.0.{o}/24", "services": ["management"]},
                {"device": "vmk2", "portgroup": "Backup", "ipv4": f"10.30.0.{o}/24",
                 "services": ["vSphereBackupNFC"] if kind in (0, 1, 3) else []}]
        routes = []
        if kind == 2:
            vmks.append({"device": "vmk4", "portgroup": "Rubrik", "ipv4": f"10.28.0.{o}/24"})
        if kind == 3:
            routes.append({"network": "10.40.0.0/24", "gateway": "10.30.0.1"})
        if kind == 4:
            vmks.append({"device": "vmk4", "portgroup": "Rubrik", "ipv4": f"10.50.0.{o}/24"})
        data["hosts"].append({
            "name": f"esx{h:02d}", "version": "8.0.2", "management_address": f"10.10.0.{o}",
            "pnics": [{"name": "vmnic0", "speed_mbps": 1000}, {"name": "vmnic1", "speed_mbps": 10000}],
            "vswitches": [{"name": "vSwitch0", "uplinks": ["vmnic0", "vmnic1"], "portgroups": [
                {"name": "Management", "teaming": {"active": ["vmnic0"], "standby": ["vmnic1"]}},
                {"name": "Backup", "teaming": {"active": ["vmnic1"], "standby": ["vmnic0"]}},
                {"name": "Rubrik", "teaming": {"active": ["vmnic1"], "unused": ["vmnic0"]}}]}],
            "netstacks": [{"key": "defaultTcpipStack", "gateway": "10.10.0.1", "routes": routes}],
            "vmks": vmks,
        })
    return parse(json.dumps(data), f"<fleet {hosts}x{nodes}>")
