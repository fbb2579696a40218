"""Backup nodes no trace tells apart but by their addresses ("twins", topology.node_classes):
a host traces one of them, the others take its outcome with their own address. Every
outcome must equal the pair traced from scratch (Engine(share=False))."""

import importlib
import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbdpath.engine import Engine, Verdict
from nbdpath.engine.topology import compile_network, node_classes
from nbdpath.model import parse

sys.path.insert(0, str(Path(__file__).parents[1] / "lab"))
from estates import estates, fleet  # noqa: E402

trace_mod = importlib.import_module("nbdpath.engine.trace")  # the package's ``trace`` is the function


def _outcomes(snap, share=True):
    return [(p.host, p.node, p.outcome) for p in Engine(snap, share=share).trace()]


def _classes(snap):
    groups: dict[int, list[str]] = {}
    for name, cls in node_classes(compile_network(snap)).items():
        groups.setdefault(id(cls), []).append(name)
    return sorted(sorted(g) for g in groups.values())


def _doc(snap):
    return snap.model_dump(mode="json", exclude_none=True)


def test_nodes_alike_but_for_their_addresses_are_one_class():
    # fleet(): node i and i + 4 share a subnet, a gateway and a NIC.
    assert _classes(fleet(10, 8)) == [["proxy-l2-0", "proxy-l2-4"], ["proxy-routed-1", "proxy-routed-5"],
                                      ["rubrik-2", "rubrik-6"], ["secure-3", "secure-7"]]
    assert _classes(fleet(10, 4)) == []


def test_twins_outcomes_equal_their_own_traces_and_only_one_twin_is_traced(monkeypatch):
    snap = fleet(20, 12)
    traced = []
    real = trace_mod.trace_host_node

    def counting(net, hv, ep, node, record=True, sem=trace_mod.DEFAULT):
        traced.append(node.name)
        return real(net, hv, ep, node, record, sem)

    monkeypatch.setattr(trace_mod, "trace_host_node", counting)
    shared = _outcomes(snap)
    assert {o.verdict for _, _, o in shared} >= {Verdict.ISOLATED, Verdict.NOT_ISOLATED, Verdict.BROKEN_BY_FIREWALL}
    assert set(traced) == {"proxy-l2-0", "proxy-routed-1", "rubrik-2", "secure-3"}
    monkeypatch.setattr(trace_mod, "trace_host_node", real)
    assert shared == _outcomes(snap, share=False)


def test_a_finer_route_to_one_twin_parts_them():
    doc = _doc(fleet(10, 8))
    # The core router black-holes proxy-l2-4's address (10.30.0.201): its subnet is no longer uniform.
    doc["routers"][0]["routes"].append({"network": "10.30.0.201/32", "gateway": "10.40.0.99"})
    snap = parse(json.dumps(doc))
    assert ["proxy-l2-0", "proxy-l2-4"] not in _classes(snap)
    assert _outcomes(snap) == _outcomes(snap, share=False)


def test_a_route_via_a_twins_address_parts_it_from_the_others():
    doc = _doc(fleet(10, 12))
    doc["routers"][0]["routes"].append({"network": "10.70.0.0/24", "gateway": "10.40.0.201"})
    assert ["proxy-routed-1", "proxy-routed-5", "proxy-routed-9"] in _classes(fleet(10, 12))
    assert ["proxy-routed-1", "proxy-routed-9"] in _classes(parse(json.dumps(doc)))


def test_a_host_route_to_one_twin_gets_that_twin_its_own_trace():
    doc = _doc(fleet(10, 8))
    # esx03 (static route to the routed proxies' subnet via vmk2) sends proxy-routed-5's replies
    # via the management gateway instead: the twins' verdicts differ for that host only.
    doc["hosts"][3]["netstacks"][0]["routes"].append({"network": "10.40.0.201/32", "gateway": "10.10.0.1"})
    snap = parse(json.dumps(doc))
    assert ["proxy-routed-1", "proxy-routed-5"] in _classes(snap)
    got = {(h, n): o for h, n, o in _outcomes(snap)}
    assert got[("esx03", "proxy-routed-1")].egress_vmk == "vmk2"
    assert got[("esx03", "proxy-routed-5")].egress_vmk == "vmk0"
    assert list(got.items()) == [((h, n), o) for h, n, o in _outcomes(snap, share=False)]


@st.composite
def estates_with_a_twin(draw):
    """A random estate plus a copy of one of its nodes on other addresses of the same subnets,
    and now and then a host route to one of the two alone."""
    doc = _doc(draw(estates()))
    original = draw(st.sampled_from(doc["backup_nodes"]))
    twin = json.loads(json.dumps(original))
    twin["name"] = "twin"
    for k, iface in enumerate(twin["interfaces"]):
        ip, plen = iface["address"].split("/")
        iface["address"] = f"{ip.rsplit('.', 1)[0]}.{250 - k}/{plen}"  # estates() numbers devices below 100
    doc["backup_nodes"].insert(draw(st.integers(0, len(doc["backup_nodes"]))), twin)
    host = draw(st.sampled_from(doc["hosts"]))
    stack = host["netstacks"][0]
    if stack.get("gateway") and draw(st.booleans()):
        target = draw(st.sampled_from([original, twin]))["interfaces"][0]["address"].split("/")[0]
        stack.setdefault("routes", []).append({"network": f"{target}/32", "gateway": stack["gateway"]})
    return parse(json.dumps(doc), "<twin>")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates_with_a_twin())
def test_twins_never_change_an_outcome(snap):
    assert _outcomes(snap) == _outcomes(snap, share=False)
