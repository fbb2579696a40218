"""Real estates describe hosts and nodes, not routers: the undescribed network is assumed (A8, A11), never an error.

Acceptance: every built-in lab with its segments and routers removed gives, pair
by pair, the endpoint, ingress vmk, egress vmk and verdict of the full lab,
except where the answer needs the network itself (a tagged IP nothing routes
to, a stateful firewall), and those paths name the assumption they rest on.
"""

from __future__ import annotations

import pytest
import yaml

from nbdpath import labs
from nbdpath.engine import Engine
from nbdpath.model import parse
from nbdpath.rules import check

A11 = "A11-unmodelled-routing"

# (lab, host, node) -> (verdict with the full network, verdict without it): the
# cases only the network can decide, hand-reviewed.
NEEDS_THE_NETWORK = {
    # core has no leg on 10.99.0.0/24: only the description knows nothing routes there.
    ("veeam-tag-unreachable", "esx01.lab.local", "vbr01"): ("UNREACHABLE", "NOT_ISOLATED"),
    # fw1's statefulness is part of the description.
    ("trick-through-firewall", "esx01.corp.local", "rubrik-node1"): ("BROKEN_BY_FIREWALL", "ASYMMETRIC"),
}


def stripped(name: str) -> dict:
    doc = yaml.safe_load(labs.text(name))
    doc.pop("segments", None)
    doc.pop("routers", None)
    for host in doc.get("hosts", []):
        for vmk in host.get("vmks", []):
            vmk.pop("segment", None)
    for node in doc.get("backup_nodes", []):
        for iface in node.get("interfaces", []):
            iface.pop("segment", None)
    return doc


def facts(path) -> tuple:
    o = path.outcome
    return path.endpoint.ip, path.endpoint.vmk, o.ingress_vmk, o.egress_vmk, o.verdict.value


@pytest.mark.parametrize("name", labs.names())
def test_without_segments_and_routers_every_pair_keeps_its_answer(name):
    full = {(p.host, p.node): p for p in Engine(labs.load(name)).trace()}
    bare = {(p.host, p.node): p for p in Engine(parse(yaml.safe_dump(stripped(name)), name)).trace()}
    assert full.keys() == bare.keys()
    for (host, node), p in full.items():
        b = bare[(host, node)]
        expected = NEEDS_THE_NETWORK.get((name, host, node))
        if expected is None:
            assert facts(b) == facts(p), (host, node, b.outcome.verdict_reason)
        else:
            assert (p.outcome.verdict.value, b.outcome.verdict.value) == expected
            assert facts(b)[:2] == facts(p)[:2]  # vCenter's choice needs no network
        used_routing = bool(p.outcome.forward_devices or p.outcome.reply_devices)
        # A path that crossed a described router now crosses the assumed network, and says so.
        assert (A11 in b.outcome.assumptions) == used_routing, (host, node, b.outcome.assumptions)
        assert A11 not in p.outcome.assumptions


def test_the_assumed_network_shows_as_its_own_step():
    snap = parse(yaml.safe_dump(stripped("veeam-tag-routed")), "veeam-tag-routed")
    path = Engine(snap).trace_pair("esx01.lab.local", "vbr-proxy02")
    details = [s.detail for h in path.hops for s in h.steps]
    assert any("no router described there; assumed (A11)" in d and "10.30.0.11" in d for d in details), details
    assert path.outcome.verdict.value == "NOT_ISOLATED" and path.outcome.egress_vmk == "vmk0"


def test_asymmetric_flow_over_the_assumed_network_warns_about_firewalls():
    snap = parse(yaml.safe_dump(stripped("trick-through-firewall")), "trick")
    engine = Engine(snap)
    findings = check(engine, engine.trace())
    asym = [f for f in findings if f.rule == "NBD012"]
    assert asym and "no firewall is described" in asym[0].message and "NBD008" in asym[0].message
    assert not [f for f in findings if f.rule == "NBD008"]


def test_a_firewall_described_by_its_networks_alone_breaks_the_asymmetric_flow():
    doc = stripped("trick-through-firewall")
    doc["firewalls"] = [{"name": "fw1", "stateful": True, "between": ["10.10.0.0/24", "10.28.0.0/24"]}]
    engine = Engine(parse(yaml.safe_dump(doc), "fw-only"))
    by_pair = {(p.host, p.node): p for p in engine.trace()}
    broken = by_pair[("esx01.corp.local", "rubrik-node1")]
    assert broken.outcome.verdict.value == "BROKEN_BY_FIREWALL"
    assert broken.outcome.firewalls_one_way == ("fw1",)
    # esx02 answers through the same routed network both ways: the firewall sees both halves.
    assert by_pair[("esx02.corp.local", "rubrik-node1")].outcome.verdict.value == "NOT_ISOLATED"
    assert "NBD008" in {f.rule for f in check(engine, list(by_pair.values()))}


def test_a_firewall_between_other_networks_is_not_crossed():
    doc = stripped("trick-through-firewall")
    doc["firewalls"] = [{"name": "fw9", "stateful": True, "between": ["10.77.0.0/24", "10.28.0.0/24"]}]
    path = Engine(parse(yaml.safe_dump(doc), "fw-elsewhere")).trace_pair("esx01.corp.local", "rubrik-node1")
    assert path.outcome.verdict.value == "ASYMMETRIC"


def test_described_routers_still_decide_where_they_are_described():
    # veeam-tag-unreachable keeps its router: a gateway nobody owns on a routed segment stays an error.
    path = Engine(labs.load("veeam-tag-unreachable")).trace_pair("esx01.lab.local", "vbr01")
    assert path.outcome.verdict.value == "UNREACHABLE" and A11 not in path.outcome.assumptions


def test_a_node_without_a_gateway_off_its_subnet_is_unreachable_not_assumed():
    doc = stripped("veeam-tag-routed")
    doc["backup_nodes"][0].pop("gateway")
    path = Engine(parse(yaml.safe_dump(doc), "no-gw")).trace_pair("esx01.lab.local", "vbr-proxy02")
    assert path.outcome.verdict.value == "UNREACHABLE" and "no route" in path.outcome.verdict_reason


def test_routed_fix_proposes_the_gateway_the_hosts_name():
    # Without routers, NBD005's next hop comes from what the hosts say: esx02's route via 10.30.0.1.
    snap = parse(yaml.safe_dump(stripped("veeam-tag-routed")), "veeam-tag-routed")
    engine = Engine(snap)
    nbd005 = [f for f in check(engine, engine.trace()) if f.rule == "NBD005"]
    assert nbd005 and "via 10.30.0.1" in nbd005[0].fix.summary


@pytest.mark.parametrize("bad, where", [
    ({"name": "fw1", "between": ["10.0.0.1/24", "10.1.0.0/24"]}, "firewalls.0.between"),
    ({"name": "fw1", "between": ["10.0.0.0/24"]}, "firewalls.0.between"),
    ({"name": "core", "between": ["10.0.0.0/24", "10.1.0.0/24"]}, "firewalls[0].name"),
])
def test_bad_firewall_entries_are_refused_with_their_field(bad, where):
    from nbdpath.errors import InputError

    doc = yaml.safe_load(labs.text("veeam-tag-routed"))
    doc["firewalls"] = [bad]
    with pytest.raises(InputError) as exc:
        parse(yaml.safe_dump(doc), "fw.yaml")
    assert "fw.yaml" in str(exc.value)
    assert where.replace(".", "").replace("[", "").replace("]", "") in \
        str(exc.value).replace(".", "").replace("[", "").replace("]", "")


@pytest.mark.parametrize("where, device, routes", [
    ("hosts[0].netstacks[0].routes[0].network", "stack", [{"network": "0.0.0.0/0", "gateway": "10.30.0.1"}]),
    ("backup_nodes[0].routes[0].network", "node", [{"network": "0.0.0.0/0", "gateway": "10.40.0.1"}]),
])
def test_a_gateway_beside_a_static_default_route_is_refused(where, device, routes):
    from nbdpath.errors import InputError

    doc = yaml.safe_load(labs.text("veeam-tag-routed"))
    target = doc["hosts"][0]["netstacks"][0] if device == "stack" else doc["backup_nodes"][0]
    target["routes"] = routes
    with pytest.raises(InputError) as exc:
        parse(yaml.safe_dump(doc), "contradiction.yaml")
    assert where in str(exc.value) and "keep one of them" in str(exc.value)


@pytest.mark.parametrize("name", labs.names())
def test_the_a11_shortcut_equals_a_real_retrace_without_routing(name):
    # Engine computes A11's alternative without tracing again; it must say what a re-trace says.
    from nbdpath.engine.semantics import ALTERNATIVES, difference
    from nbdpath.engine.trace import trace_host_node

    engine = Engine(parse(yaml.safe_dump(stripped(name)), name))
    seen = 0
    for p in engine.trace():
        if "A11-unmodelled-routing" not in p.outcome.assumptions:
            continue
        seen += 1
        hv = engine.host_view(p.host)
        other = trace_host_node(engine.network, hv, engine.endpoint(p.host), engine.node(p.node), record=False,
                                sem=ALTERNATIVES["A11-unmodelled-routing"][1])[0]
        expected = difference("A11-unmodelled-routing", p.outcome, other)
        [got] = [a for a in p.outcome.alternatives if a.assumption == "A11-unmodelled-routing"]
        assert got == expected, (p.host, p.node)
    # Labs whose nodes are routed to their hosts exercise it; the L2-only ones have nothing to compare.
    assert seen or name in {"veeam-tag-l2", "same-subnet-vmks", "tag-wrong-stack", "esxi67-no-tag"}


def test_control_path_shows_that_isolating_nbd_leaves_control_on_management():
    path = Engine(labs.load("veeam-tag-l2")).trace_pair("esx01.lab.local", "vbr-proxy01")
    flows = {c.flow: c for c in path.control}
    assert path.outcome.verdict.value == "ISOLATED"
    assert flows["nfc-auth"].dst == path.endpoint.ip and flows["nfc-auth"].reachable
    host = flows["host-vcenter"]
    assert (host.via, host.on_management, host.dst) == ("vmk0", True, "10.10.0.5")
    assert flows["node-vcenter"].reachable and flows["node-management"].dst == "10.10.0.11"


def test_a_node_that_cannot_reach_vcenter_is_flagged():
    doc = yaml.safe_load(labs.text("veeam-tag-l2"))
    doc["vcenters"][0]["address"] = "192.168.99.5"  # no route on the dual-homed proxy, which has no gateway
    doc["backup_nodes"][0].pop("gateway", None)
    engine = Engine(parse(yaml.safe_dump(doc), "vc-far"))
    paths = engine.trace()
    flows = {c.flow: c for c in paths[0].control}
    assert flows["node-vcenter"].reachable is False and "no route" in flows["node-vcenter"].reason
    found = [f for f in check(engine, paths) if f.rule == "NBD015"]
    assert found and "cannot reach vCenter" in found[0].message


def test_unknown_vcenter_address_is_said_not_guessed():
    doc = yaml.safe_load(labs.text("rubrik-mixed-speed"))
    path = Engine(parse(yaml.safe_dump(doc), "no-vc")).trace_pair("esx01.corp.local", "rubrik-node1")
    flows = {c.flow: c for c in path.control}
    assert flows["node-vcenter"].reachable is None and "address is unknown" in flows["node-vcenter"].reason
