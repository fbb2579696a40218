"""Rendering a plan to ip-batch lines: order is what makes the kernel agree."""

from __future__ import annotations

from nbdpath.lab.plan import build
from nbdpath.lab.script import device_batches, shell_script, switch_batch, sysctls

from lab_helpers import report2, snap

PREFIX = "nbl0a1b2"


def test_switch_batch_builds_bridges_then_plugs_veths():
    p = build(report2(), [], PREFIX)
    lines = switch_batch(p)
    assert lines[:2] == ["link add br0 type bridge", "link set br0 up"]
    assert f"link add h0.vmk0 type veth peer name vmk0 netns {PREFIX}-h1" not in lines  # index is per role
    assert f"link add h0.vmk0 type veth peer name vmk0 netns {PREFIX}-h0" in lines
    i = lines.index(f"link add h0.vmk0 type veth peer name vmk0 netns {PREFIX}-h0")
    assert lines[i + 1: i + 3] == ["link set h0.vmk0 master br0", "link set h0.vmk0 up"]


def test_unplugged_interfaces_get_no_master():
    # A vmk whose only uplink is down cannot send: unplugged.
    s = snap("""
        hosts:
          - name: h
            version: 8.0.2
            pnics: [{name: vmnic0, speed_mbps: 1000, link_up: false}]
            vswitches: [{name: vSwitch0, uplinks: [vmnic0], portgroups: [{name: pg}]}]
            vmks: [{device: vmk0, portgroup: pg, ipv4: 192.168.7.7/24}]
    """)
    p = build(s, [], PREFIX)
    lines = switch_batch(p)
    assert any(l.startswith("link add ") for l in lines)
    assert not any("master" in l for l in lines)


def test_addresses_come_up_in_vmk_order_before_routes():
    p = build(report2(), [], PREFIX)
    host = device_batches(p)[f"{PREFIX}-h0"]
    assert host == [
        "link set lo up",
        "link set dev vmk0 address 00:50:56:aa:00:01",
        "addr add 10.10.0.11/24 dev vmk0",
        "link set dev vmk0 up",
        "addr add 10.28.0.11/24 dev vmk4",
        "link set dev vmk4 up",
        "route add 0.0.0.0/0 via 10.10.0.1",
    ]


def test_vmk_gateways_render_no_policy_routing():
    # Not in ESXi's routing table (engine A5): the lab installs nothing for a per-vmk gateway.
    s = snap("""
        segments: [{name: a, subnets: [10.1.0.0/24]}]
        hosts:
          - name: h
            vswitches: [{name: vs, portgroups: [{name: pg}]}]
            vmks:
              - {device: vmk3, portgroup: pg, ipv4: 10.1.0.5/24, gateway: 10.1.0.1}
    """)
    host = device_batches(build(s, [], PREFIX))[f"{PREFIX}-h0"]
    assert not any(l.startswith("rule ") or " table " in l for l in host), host


def test_policy_routes_and_rules_render():
    # The renderer still speaks policy routing for plans that carry it.
    from dataclasses import replace

    from nbdpath.lab.plan import RouteSpec, RuleSpec

    s = snap("""
        segments: [{name: a, subnets: [10.1.0.0/24]}]
        hosts:
          - name: h
            vswitches: [{name: vs, portgroups: [{name: pg}]}]
            vmks: [{device: vmk3, portgroup: pg, ipv4: 10.1.0.5/24}]
    """)
    p = build(s, [], PREFIX)
    ns = f"{PREFIX}-h0"
    p = replace(p, rules=(RuleSpec(ns, "10.1.0.5", 103, 1003),), routes=p.routes + (
        RouteSpec(ns, "10.1.0.0/24", None, dev="vmk3", source="10.1.0.5", table=103),
        RouteSpec(ns, "0.0.0.0/0", "10.1.0.1", table=103),
        RouteSpec(ns, "0.0.0.0/0", None, table=104, kind="unreachable")))
    host = device_batches(p)[ns]
    assert "route add 10.1.0.0/24 dev vmk3 scope link src 10.1.0.5 table 103" in host
    assert "route add 0.0.0.0/0 via 10.1.0.1 table 103" in host
    assert "route add unreachable 0.0.0.0/0 table 104" in host
    assert host[-1:] == ["rule add from 10.1.0.5 table 103 priority 1003"]


def test_conntrack_sysctls_wait_for_the_iptables_rule():
    p = build(report2(stateful=True), [], PREFIX)
    early, late = sysctls(p, late=False), sysctls(p, late=True)
    assert late == {f"{PREFIX}-r0": [("net.netfilter.nf_conntrack_tcp_loose", "0")]}
    assert all(not k.startswith("net.netfilter.") for items in early.values() for k, _ in items)
    script = shell_script(p)
    assert script.index("iptables -w -A FORWARD") < script.index("nf_conntrack_tcp_loose=0")
    assert script.startswith("#!/bin/sh\n")
