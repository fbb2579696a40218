"""The lab plan is pure: check every emulation decision without root."""

from __future__ import annotations

import pytest

from nbdpath import labs
from nbdpath.lab import plan as lab_plan
from nbdpath.lab.plan import IFNAME_MAX, NETNS_RE, build, check_prefix, ifname_for

from lab_helpers import report2, snap

PREFIX = "nbl0a1b2"


def by_role(p, role):
    return {ns.device: ns for ns in p.namespaces if ns.role == role}


def test_one_namespace_per_host_node_router_and_one_switch():
    p = build(report2(), [("esx01", "rubrik1", "10.10.0.11")], PREFIX)
    assert [ns.role for ns in p.namespaces] == ["switch", "host", "node", "router"]
    assert set(by_role(p, "host")) == {"esx01"}
    assert set(by_role(p, "node")) == {"rubrik1"}
    assert set(by_role(p, "router")) == {"core"}
    assert all(NETNS_RE.match(ns.name) for ns in p.namespaces)
    assert p.switch_netns == f"{PREFIX}-s0"


def test_interfaces_named_after_vmks_on_their_segment_bridge():
    p = build(report2(), [], PREFIX)
    hns = p.netns_of("host", "esx01")
    host_links = [l for l in p.links if l.netns == hns]
    assert [(l.ifname, l.address) for l in host_links] == [("vmk0", "10.10.0.11/24"), ("vmk4", "10.28.0.11/24")]
    bridge_of = {b.name: b.segment for b in p.bridges}
    assert [bridge_of[l.bridge] for l in host_links] == ["mgmt", "rubrik"]
    assert host_links[0].mac == "00:50:56:aa:00:01"
    # Every interface name fits the kernel's 15 characters, peers unique in the switch.
    assert all(len(l.ifname) <= IFNAME_MAX and len(l.peer) <= IFNAME_MAX for l in p.links)
    assert len({l.peer for l in p.links}) == len(p.links)


def test_host_sysctls_emulate_esxi():
    p = build(report2(), [], PREFIX)
    host = dict(by_role(p, "host")["esx01"].sysctls)
    assert host["net.ipv4.conf.all.rp_filter"] == "0"
    assert host["net.ipv4.conf.all.arp_ignore"] == "1"
    assert host["net.ipv4.conf.all.arp_announce"] == "2"
    assert host["net.ipv4.ip_forward"] == "0"
    router = dict(by_role(p, "router")["core"].sysctls)
    assert router["net.ipv4.ip_forward"] == "1"
    assert "net.netfilter.nf_conntrack_tcp_loose" not in router


def test_stateful_router_drops_invalid_and_disables_loose_pickup():
    p = build(report2(stateful=True), [], PREFIX)
    rns = p.netns_of("router", "core")
    assert [(f.netns, f.args) for f in p.filters] == [
        (rns, ("-A", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"))
    ]
    assert dict(by_role(p, "router")["core"].sysctls)["net.netfilter.nf_conntrack_tcp_loose"] == "0"
    assert build(report2(stateful=False), [], PREFIX).filters == ()


def test_default_gateway_and_node_routes():
    p = build(report2(), [], PREFIX)
    hns, nns = p.netns_of("host", "esx01"), p.netns_of("node", "rubrik1")
    assert [(r.netns, r.destination, r.gateway) for r in p.routes] == [
        (hns, "0.0.0.0/0", "10.10.0.1"),
        (nns, "0.0.0.0/0", "10.28.0.1"),
    ]


def test_routes_the_kernel_would_refuse_become_notes():
    s = snap("""
        segments: [{name: a, subnets: [10.0.0.0/24]}]
        hosts:
          - name: h
            vswitches: [{name: vs, portgroups: [{name: pg}]}]
            netstacks:
              - key: defaultTcpipStack
                gateway: 10.0.0.1
                routes:
                  - {network: 10.9.0.0/16, gateway: 192.168.1.1}
                  - {network: 10.0.0.0/24, gateway: 10.0.0.1}
                  - {network: 10.8.0.0/16, gateway: 10.0.0.5}
                  - {network: 10.8.0.0/16, gateway: 10.0.0.6}
            vmks: [{device: vmk0, portgroup: pg, ipv4: 10.0.0.5/24}]
    """)
    p = build(s, [], PREFIX)
    assert [(r.destination, r.gateway) for r in p.routes] == [("10.8.0.0/16", "10.0.0.6"), ("0.0.0.0/0", "10.0.0.1")]
    text = "\n".join(p.notes)
    assert "10.9.0.0/16 via 192.168.1.1 left out: gateway is on no connected subnet" in text
    assert "10.0.0.0/24 via 10.0.0.1 left out: 10.0.0.0/24 is already routed" in text
    assert "10.8.0.0/16 via 10.0.0.5 left out: the gateway is this device's own address" in text
    # The refused route did not claim its prefix: the next one to it is kept.
    assert "10.8.0.0/16 via 10.0.0.6" not in text


def test_same_subnet_vmks_are_added_in_vmk_number_order():
    s = snap("""
        segments: [{name: a, subnets: [10.0.0.0/24]}]
        hosts:
          - name: h
            vswitches: [{name: vs, portgroups: [{name: pg}]}]
            vmks:
              - {device: vmk10, portgroup: pg, ipv4: 10.0.0.10/24}
              - {device: vmk2, portgroup: pg, ipv4: 10.0.0.2/24}
    """)
    p = build(s, [], PREFIX)
    assert [l.ifname for l in p.links] == ["vmk2", "vmk10"]


def test_vmk_gateway_override_is_not_installed_as_it_is_not_in_the_routing_table():
    s = snap("""
        segments: [{name: a, subnets: [10.0.0.0/24]}, {name: b, subnets: [10.1.0.0/24]}]
        hosts:
          - name: h
            vswitches: [{name: vs, portgroups: [{name: pg}]}]
            netstacks: [{key: defaultTcpipStack, gateway: 10.0.0.1}]
            vmks:
              - {device: vmk0, portgroup: pg, ipv4: 10.0.0.5/24}
              - {device: vmk3, portgroup: pg, ipv4: 10.1.0.5/24, gateway: 10.1.0.1}
    """)
    p = build(s, [], PREFIX)
    assert p.rules == ()
    assert [(r.destination, r.gateway, r.table) for r in p.routes] == [("0.0.0.0/0", "10.0.0.1", None)]
    assert any("vmk3: per-vmk gateway 10.1.0.1 is not in the routing table (A5)" in n for n in p.notes)


def test_only_the_default_stack_is_emulated():
    p = build(labs.load("tag-wrong-stack"), [], PREFIX)
    hns = p.netns_of("host", "esx01.lab.local")
    assert "vmk2" not in [l.ifname for l in p.links if l.netns == hns]
    assert any("only defaultTcpipStack is emulated" in n for n in p.notes)


def test_pair_to_another_stack_is_skipped_with_reason():
    s = labs.load("tag-wrong-stack")
    vmk2 = next(v for v in s.hosts[0].vmks if v.device == "vmk2")
    p = build(s, [(s.hosts[0].name, s.backup_nodes[0].name, vmk2.ipv4.split("/")[0])], PREFIX)
    assert "only defaultTcpipStack is emulated" in p.streams[0].skip_reason
    p = build(s, [(s.hosts[0].name, s.backup_nodes[0].name, None)], PREFIX)
    assert p.streams[0].skip_reason == "no endpoint address: nothing to connect to"


def test_unknown_pair_members_are_refused():
    with pytest.raises(KeyError, match="host 'nope'"):
        build(report2(), [("nope", "rubrik1", "10.10.0.11")], PREFIX)
    with pytest.raises(KeyError, match="backup node 'nope'"):
        build(report2(), [("esx01", "nope", "10.10.0.11")], PREFIX)


def test_vmk_without_working_uplink_is_unplugged():
    s = snap("""
        segments: [{name: a, subnets: [10.0.0.0/24]}]
        hosts:
          - name: h
            pnics: [{name: vmnic0, link_up: false}, {name: vmnic1}, {name: vmnic2}]
            vswitches:
              - name: vs
                uplinks: [vmnic0, vmnic1, vmnic2]
                portgroups:
                  - {name: dead, teaming: {active: [vmnic0], unused: [vmnic1, vmnic2]}}
                  - {name: standby, teaming: {active: [vmnic0], standby: [vmnic1], unused: [vmnic2]}}
                  - {name: inherit}
            vmks:
              - {device: vmk0, portgroup: dead, ipv4: 10.0.0.5/24}
              - {device: vmk1, portgroup: standby, ipv4: 10.0.0.6/24}
              - {device: vmk2, portgroup: inherit, ipv4: 10.0.0.7/24}
    """)
    p = build(s, [], PREFIX)
    assert [(l.ifname, l.bridge is None) for l in p.links] == [("vmk0", True), ("vmk1", False), ("vmk2", False)]
    assert any("vmk0: no active or standby uplink of port group dead is up" in n for n in p.notes)


def test_interface_on_no_described_segment_is_on_its_subnets_implicit_one():
    s = snap("""
        backup_nodes:
          - {name: n, interfaces: [{name: eth0, address: 192.168.7.7/24}]}
          - {name: m, interfaces: [{name: eth0, address: 192.168.7.8/24}, {name: eth1, address: 192.168.9.8/24}]}
    """)
    p = build(s, [], PREFIX)
    assert [b.segment for b in p.bridges] == ["subnet 192.168.7.0/24", "subnet 192.168.9.0/24"]
    by_bridge = {b.name: b.segment for b in p.bridges}
    assert [by_bridge[l.bridge] for l in p.links] == ["subnet 192.168.7.0/24"] * 2 + ["subnet 192.168.9.0/24"]


def test_segment_lookup_prefers_explicit_then_longest_subnet():
    idx = lab_plan._segment_index(snap("""
        segments:
          - {name: wide, subnets: [10.0.0.0/16]}
          - {name: narrow, subnets: [10.0.5.0/28]}
    """))
    assert lab_plan.segment_for("10.0.5.3/24", None, idx) == "narrow"
    assert lab_plan.segment_for("10.0.9.3/24", None, idx) == "wide"
    assert lab_plan.segment_for("10.0.5.3/24", "wide", idx) == "wide"
    assert lab_plan.segment_for("11.0.0.1/8", None, idx) == "subnet 11.0.0.0/8"  # the engine's implicit segment (A8)


def test_interface_names_linux_cannot_take_are_replaced():
    assert ifname_for("eth0", 0) == "eth0"
    assert ifname_for("Ethernet 2", 1) == "eth1"
    assert ifname_for("a-very-long-interface-name", 3) == "eth3"
    assert ifname_for("lo", 0) == "eth0"


def test_duplicate_or_bad_macs_are_not_set():
    s = snap("""
        segments: [{name: a, subnets: [10.0.0.0/24]}]
        hosts:
          - name: h
            vswitches: [{name: vs, portgroups: [{name: pg}]}]
            vmks:
              - {device: vmk0, portgroup: pg, ipv4: 10.0.0.5/24, mac: "00:50:56:00:00:01"}
              - {device: vmk1, portgroup: pg, ipv4: 10.0.0.6/24, mac: "00:50:56:00:00:01"}
              - {device: vmk2, portgroup: pg, ipv4: 10.0.0.7/24, mac: "01:00:5e:00:00:01"}
    """)
    p = build(s, [], PREFIX)
    assert [l.mac for l in p.links] == ["00:50:56:00:00:01", None, None]


@pytest.mark.parametrize("bad", ["nbl", "nbl0a1b2c", "abc0a1b2", "nblZZZZZ", "nbl0a1b2-h0"])
def test_prefix_must_be_recognisable_by_lab_down(bad):
    with pytest.raises(ValueError):
        check_prefix(bad)
    with pytest.raises(ValueError):
        build(report2(), [], bad)


def test_every_builtin_lab_plans_with_fitting_names():
    for name in labs.names():
        s = labs.load(name)
        pairs = [(h.name, n.name, None) for h in s.hosts for n in s.backup_nodes]
        p = build(s, pairs, PREFIX)
        assert len(p.streams) == len(s.hosts) * len(s.backup_nodes)
        assert all(len(l.ifname) <= IFNAME_MAX and len(l.peer) <= IFNAME_MAX for l in p.links), name
        assert len({(l.netns, l.ifname) for l in p.links}) == len(p.links), name


def test_ipv6_interfaces_and_routes_are_left_out_with_a_note_like_the_engine():
    import yaml

    from nbdpath import engine
    from nbdpath.model import parse

    doc = yaml.safe_load(labs.text("veeam-tag-l2"))
    doc["backup_nodes"][0]["interfaces"].append({"name": "eth2", "address": "fd00::50/64"})
    doc["backup_nodes"][0]["routes"] = [{"network": "fd01::/64", "gateway": "fd00::1"}]
    doc["routers"][0]["interfaces"].append({"name": "v6", "address": "fd00::1/64"})
    s = parse(yaml.safe_dump(doc))
    p = build(s, [(x.host, x.node, x.endpoint.ip) for x in engine.trace(s)], PREFIX)
    assert not [link for link in p.links if link.address and ":" in link.address]
    assert not [r for r in p.routes if ":" in r.destination]
    assert sum("IPv6 is not emulated" in n for n in p.notes) == 3
