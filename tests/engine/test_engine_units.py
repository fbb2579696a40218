"""Engine mechanics on small hand-made estates."""

import copy

import yaml

from nbdpath import labs
from nbdpath.engine import Engine, Verdict, trace
from nbdpath.engine.routing import L3Iface, build_table, lookup
from nbdpath.engine.addr import ip_int, parse_cidr
from nbdpath.model import parse


def _doc(lab="veeam-tag-l2"):
    return yaml.safe_load(labs.text(lab))


def _trace(doc, host, node):
    return Engine(parse(yaml.safe_dump(doc))).trace_pair(host, node)


def test_longest_prefix_then_first_added():
    a = L3Iface("host:h", "vmk0", *parse_cidr("10.0.0.11/24"), None)
    b = L3Iface("host:h", "vmk2", *parse_cidr("10.0.0.12/24"), None)
    table, unusable = build_table([a, b], [("10.0.0.128/25", "10.0.0.1", "static"), ("10.9.0.0/16", "10.99.0.1", "static")])
    assert lookup(table, ip_int("10.0.0.50")).iface == "vmk0"  # tie -> first vmk
    assert lookup(table, ip_int("10.0.0.200")).gateway == ip_int("10.0.0.1")  # /25 beats /24
    assert lookup(table, ip_int("10.9.1.1")) is None and len(unusable) == 1  # gateway on no subnet


def test_static_route_fix_isolates_routed_node():
    doc = _doc("veeam-tag-routed")
    assert _trace(doc, "esx01.lab.local", "vbr-proxy02").verdict is Verdict.NOT_ISOLATED
    doc["hosts"][0]["netstacks"][0]["routes"] = [{"network": "10.40.0.0/24", "gateway": "10.30.0.1"}]
    p = _trace(doc, "esx01.lab.local", "vbr-proxy02")
    assert (p.verdict, p.outcome.egress_vmk) == (Verdict.ISOLATED, "vmk2")


def test_per_vmk_gateway_is_not_in_the_routing_table_and_its_other_reading_is_shown():
    # VMware: the override gateway "is not included in the routing table"; only services that name the vmk
    # as outgoing interface use it. NFC replies follow the stack's table; the other reading is an alternative.
    doc = _doc("veeam-tag-routed")
    doc["hosts"][0]["vmks"][1]["gateway"] = "10.30.0.1"
    p = _trace(doc, "esx01.lab.local", "vbr-proxy02")
    assert (p.outcome.egress_vmk, p.verdict) == ("vmk0", Verdict.NOT_ISOLATED)
    assert "A5-vmk-gateway" in p.outcome.assumptions
    [alt] = [a for a in p.outcome.alternatives if a.assumption == "A5-vmk-gateway"]
    assert dict(alt.changes)["egress_vmk"] == "vmk2" and alt.verdict is Verdict.ISOLATED
    assert not p.outcome.robust


def test_several_tags_pick_lowest_and_say_so():
    doc = _doc("veeam-tag-l2")
    doc["hosts"][0]["vmks"][0]["services"] = ["management", "vSphereBackupNFC"]
    p = _trace(doc, "esx01.lab.local", "vbr-proxy01")
    assert p.endpoint.vmk == "vmk0"
    assert "A4-multi-tag-first" in p.outcome.assumptions


def test_unresolved_fqdn_uses_management_vmk_with_assumption():
    doc = _doc("rubrik-mixed-speed")
    del doc["dns"]["esx01.corp.local"]
    p = _trace(doc, "esx01.corp.local", "rubrik-node1")
    assert p.endpoint.ip == "10.10.0.11" and "A6-mgmt-dns" in p.outcome.assumptions


def test_all_uplinks_down_cuts_the_vmk_off():
    doc = _doc("veeam-tag-l2")
    for nic in doc["hosts"][0]["pnics"][2:]:
        nic["link_up"] = False
    p = _trace(doc, "esx01.lab.local", "vbr-proxy01")
    assert p.verdict is Verdict.UNREACHABLE
    assert "cut off" in p.outcome.verdict_reason


def test_explicit_failover_and_ip_hash():
    doc = _doc("veeam-tag-l2")
    doc["hosts"][0]["vswitches"][1]["teaming"] = {"policy": "explicit", "active": ["vmnic3", "vmnic2"]}
    assert [u.name for u in _trace(doc, "esx01.lab.local", "vbr-proxy01").outcome.egress_uplinks] == ["vmnic3"]
    doc["hosts"][0]["vswitches"][1]["teaming"] = {"policy": "iphash"}
    assert [u.name for u in _trace(doc, "esx01.lab.local", "vbr-proxy01").outcome.egress_uplinks] == ["vmnic2", "vmnic3"]


def test_portgroup_inherits_then_overrides_switch_teaming():
    doc = _doc("veeam-tag-l2")
    doc["hosts"][0]["vswitches"][1]["teaming"] = {"policy": "srcport", "active": ["vmnic3"], "standby": ["vmnic2"]}
    assert [u.name for u in _trace(doc, "esx01.lab.local", "vbr-proxy01").outcome.egress_uplinks] == ["vmnic3"]
    doc["hosts"][0]["vswitches"][1]["portgroups"][0]["teaming"] = {"active": ["vmnic2"], "unused": ["vmnic3"]}
    assert [u.name for u in _trace(doc, "esx01.lab.local", "vbr-proxy01").outcome.egress_uplinks] == ["vmnic2"]


def test_router_capacity_and_node_nic_bound_the_bottleneck():
    doc = _doc("veeam-tag-routed")
    doc["hosts"][1]["netstacks"][0]["routes"] = [{"network": "10.40.0.0/24", "gateway": "10.30.0.1"}]
    doc["routers"][0]["capacity_mbps"] = 2500
    assert _trace(doc, "esx02.lab.local", "vbr-proxy02").outcome.bottleneck_mbps == 2500
    doc["backup_nodes"][0]["interfaces"][0]["speed_mbps"] = 1000
    assert _trace(doc, "esx02.lab.local", "vbr-proxy02").outcome.bottleneck_mbps == 1000


def test_shared_shapes_give_the_same_answer_as_tracing_alone():
    doc = _doc("mixed-estate")
    snap = parse(yaml.safe_dump(doc))
    fleet = Engine(snap).trace()
    for p in fleet:
        alone = Engine(snap).trace_pair(p.host, p.node)
        assert p.outcome == alone.outcome
        assert p.endpoint == alone.endpoint
        assert p.hops == alone.hops  # lazy hops carry this host's own addresses


def test_finer_router_route_disables_sharing():
    doc = _doc("veeam-tag-routed")
    # A /32 for esx01's vmk2 black-holed at the router: esx02 must not inherit esx01's answer or vice versa.
    doc["routers"][0]["routes"] = [{"network": "10.30.0.11/32", "gateway": "10.10.0.99"}]
    doc["hosts"][1]["netstacks"][0].pop("routes", None)
    paths = {p.host: p for p in trace(parse(yaml.safe_dump(doc)))}
    assert paths["esx01.lab.local"].verdict is Verdict.UNREACHABLE
    assert paths["esx02.lab.local"].verdict is Verdict.NOT_ISOLATED


def test_hops_round_trip_through_dict():
    from nbdpath.engine.types import Hop

    p = Engine(labs.load("trick-through-firewall")).trace_pair("esx01.corp.local", "rubrik-node1")
    for hop in p.hops:
        assert Hop.from_dict(hop.to_dict()) == hop
    bad = copy.deepcopy(p.hops[0].to_dict())
    bad["steps"][0]["kind"] = "teleport"
    import pytest

    with pytest.raises(ValueError, match="unknown step kind"):
        Hop.from_dict(bad)


def test_gateway_resolves_by_longest_connected_prefix():
    """Found by the kernel lab: vmk0's /16 holds vmk1's /24 and the gateway sits in the /24."""
    a = L3Iface("host:h", "vmk0", *parse_cidr("10.0.0.5/16"), None)
    b = L3Iface("host:h", "vmk1", *parse_cidr("10.0.1.5/24"), None)
    table, _ = build_table([a, b], [("0.0.0.0/0", "10.0.1.1", "default")])
    assert lookup(table, ip_int("10.9.0.50")).iface == "vmk1"


def test_ipv6_is_kept_but_not_traced():
    doc = _doc("veeam-tag-l2")
    doc["backup_nodes"][0]["interfaces"].append({"name": "eth2", "address": "fd00::50/64"})
    doc["backup_nodes"][0]["routes"] = [{"network": "fd01::/64", "gateway": "fd00::1"}]
    doc["routers"][0]["interfaces"].append({"name": "v6", "address": "fd00::1/64"})
    doc["hosts"][0]["vmks"][1]["ipv6"] = ["fd00::11/64"]
    doc["segments"].append({"name": "v6", "subnets": ["fd00::/64"]})
    p = _trace(doc, "esx01.lab.local", "vbr-proxy01")
    assert (p.verdict, p.endpoint.ip) == (Verdict.ISOLATED, "10.30.0.11")


def test_vmk_ipv4_field_takes_ipv4_only():
    import pytest

    from nbdpath.errors import InputError

    doc = _doc("veeam-tag-l2")
    doc["hosts"][0]["vmks"][1]["ipv4"] = "fd00::11/64"
    with pytest.raises(InputError, match="IPv4 address with prefix length"):
        parse(yaml.safe_dump(doc))
    doc = _doc("veeam-tag-l2")
    doc["backup_nodes"][0]["routes"] = [{"network": "fd01::/64", "gateway": "10.10.0.1"}]
    with pytest.raises(InputError, match="one IP family"):
        parse(yaml.safe_dump(doc))


def test_routing_loop_is_unreachable_with_a_failing_step():
    doc = _doc("veeam-tag-routed")
    doc["routers"].append({"name": "r2", "interfaces": [{"name": "eth0", "address": "10.10.0.2/24"}],
                           "routes": [{"network": "10.30.0.0/24", "gateway": "10.10.0.3"}]})
    doc["routers"].append({"name": "r3", "interfaces": [{"name": "eth0", "address": "10.10.0.3/24"}],
                           "routes": [{"network": "10.30.0.0/24", "gateway": "10.10.0.2"}]})
    doc["backup_nodes"][0]["interfaces"] = [{"name": "eth0", "address": "10.10.0.50/24"}]
    doc["backup_nodes"][0]["gateway"] = "10.10.0.2"
    p = _trace(doc, "esx01.lab.local", "vbr-proxy02")
    assert p.verdict is Verdict.UNREACHABLE and "routing loop" in p.outcome.verdict_reason
    assert not p.hops[-1].steps[-1].ok and "routing loop" in p.hops[-1].steps[-1].detail
