"""Every behaviour of the field reports, lab by lab. Expectations reviewed by hand
against ../shared/domain.md and the two reports (comments included)."""

import pytest

from nbdpath import labs
from nbdpath.engine import Engine, Verdict, trace

# (lab, host, node) -> (endpoint ip, endpoint vmk, ingress, egress, uplinks, bottleneck, verdict)
EXPECTED = {
    # Report 1 as intended: node on the tagged vmk's subnet -> isolated on vmk2, 10 GbE.
    ("veeam-tag-l2", "esx01.lab.local", "vbr-proxy01"): ("10.30.0.11", "vmk2", "vmk2", "vmk2", ("vmnic2", "vmnic3"), 10000, "ISOLATED"),
    ("veeam-tag-l2", "esx02.lab.local", "vbr-proxy01"): ("10.30.0.12", "vmk2", "vmk2", "vmk2", ("vmnic2",), 10000, "ISOLATED"),
    # IlDuce: routed node -> request on vmk2, reply via default gateway on vmk0; esx02 has the static route fix.
    ("veeam-tag-routed", "esx01.lab.local", "vbr-proxy02"): ("10.30.0.11", "vmk2", "vmk2", "vmk0", ("vmnic0", "vmnic1"), 1000, "NOT_ISOLATED"),
    ("veeam-tag-routed", "esx02.lab.local", "vbr-proxy02"): ("10.30.0.12", "vmk2", "vmk2", "vmk2", ("vmnic2",), 10000, "ISOLATED"),
    # vNote42: tagged IP unreachable -> handed out anyway, backup fails.
    ("veeam-tag-unreachable", "esx01.lab.local", "vbr01"): ("10.99.0.11", "vmk2", None, None, (), None, "UNREACHABLE"),
    # Report 2: connect to vmk0 (FQDN), data out of vmk4 on 10 GbE; esx02 (before) over 1 GbE management.
    ("rubrik-mixed-speed", "esx01.corp.local", "rubrik-node1"): ("10.10.0.11", "vmk0", "vmk0", "vmk4", ("vmnic2", "vmnic3"), 10000, "ASYMMETRIC"),
    ("rubrik-mixed-speed", "esx01.corp.local", "rubrik-node2"): ("10.10.0.11", "vmk0", "vmk0", "vmk4", ("vmnic2", "vmnic3"), 10000, "ASYMMETRIC"),
    ("rubrik-mixed-speed", "esx02.corp.local", "rubrik-node1"): ("10.10.0.12", "vmk0", "vmk0", "vmk0", ("vmnic0", "vmnic1"), 1000, "NOT_ISOLATED"),
    ("rubrik-mixed-speed", "esx02.corp.local", "rubrik-node2"): ("10.10.0.12", "vmk0", "vmk0", "vmk0", ("vmnic0", "vmnic1"), 1000, "NOT_ISOLATED"),
    # 6.7: no tag service; the tag on esx67-02 is ignored.
    ("esxi67-no-tag", "esx67-01", "vbr-proxy67"): ("10.10.0.21", "vmk0", "vmk0", "vmk0", ("vmnic0",), 1000, "NOT_ISOLATED"),
    ("esxi67-no-tag", "esx67-02", "vbr-proxy67"): ("10.10.0.22", "vmk0", "vmk0", "vmk0", ("vmnic0",), 1000, "NOT_ISOLATED"),
    # IlDuce: tag on a custom stack is ignored.
    ("tag-wrong-stack", "esx01.lab.local", "vbr01"): ("10.10.0.11", "vmk0", "vmk0", "vmk0", ("vmnic0",), 1000, "NOT_ISOLATED"),
    # Report 2's trick through a stateful firewall breaks; without vmk4 it is symmetric and works.
    ("trick-through-firewall", "esx01.corp.local", "rubrik-node1"): ("10.10.0.11", "vmk0", "vmk0", "vmk4", ("vmnic1",), 10000, "BROKEN_BY_FIREWALL"),
    ("trick-through-firewall", "esx02.corp.local", "rubrik-node1"): ("10.10.0.12", "vmk0", "vmk0", "vmk0", ("vmnic0",), 1000, "NOT_ISOLATED"),
    # IlDuce: vmk0 and vmk2 in one subnet -> vmk2 handed out, data still leaves vmk0 (KB 2010877).
    ("same-subnet-vmks", "esx01.lab.local", "vbr01"): ("10.10.0.12", "vmk2", "vmk2", "vmk0", ("vmnic0",), 1000, "NOT_ISOLATED"),
    # Issue 9's window lab: cluster "routed" as report 1 (1 GbE management), "isolated" with the static route.
    ("nightly-window", "esx-r01.lab.local", "vbr-proxy"): ("10.30.0.21", "vmk2", "vmk2", "vmk0", ("vmnic0", "vmnic1"), 1000, "NOT_ISOLATED"),
    ("nightly-window", "esx-r02.lab.local", "vbr-proxy"): ("10.30.0.22", "vmk2", "vmk2", "vmk0", ("vmnic0", "vmnic1"), 1000, "NOT_ISOLATED"),
    ("nightly-window", "esx-i01.lab.local", "vbr-proxy"): ("10.30.0.31", "vmk2", "vmk2", "vmk2", ("vmnic2",), 10000, "ISOLATED"),
    ("nightly-window", "esx-i02.lab.local", "vbr-proxy"): ("10.30.0.32", "vmk2", "vmk2", "vmk2", ("vmnic2",), 10000, "ISOLATED"),
    # Issue 13: the per-vmk gateway is not in the routing table (A5): the reply leaves vmk0 ...
    ("uncertain-gateway", "esx01.lab.local", "vbr-proxy03"): ("10.30.0.11", "vmk2", "vmk2", "vmk0", ("vmnic0", "vmnic1"), 1000, "NOT_ISOLATED"),
}

# ... and the other reading of A5 is on the path: (lab, host, node) -> {assumption: (egress, verdict)}.
EXPECTED_ALTERNATIVES = {
    ("uncertain-gateway", "esx01.lab.local", "vbr-proxy03"): {"A5-vmk-gateway": ("vmk2", "ISOLATED")},
    # Two vmks in one subnet: if the later one sent, the data would leave vmk2, isolated.
    ("same-subnet-vmks", "esx01.lab.local", "vbr01"): {"A3-same-subnet-first-vmk": ("vmk2", "ISOLATED")},
}


@pytest.mark.parametrize("key", sorted(EXPECTED_ALTERNATIVES), ids=lambda k: f"{k[0]}:{k[1]}:{k[2]}")
def test_lab_pair_alternatives(key):
    lab, host, node = key
    o = Engine(labs.load(lab)).trace_pair(host, node).outcome
    got = {a.assumption: (dict(a.changes).get("egress_vmk", o.egress_vmk), getattr(a.verdict, "value", a.verdict))
           for a in o.alternatives}
    assert got == EXPECTED_ALTERNATIVES[key]
    assert not o.robust


def test_paths_without_listed_alternatives_are_robust():
    for name in labs.names():
        for p in trace(labs.load(name)):
            if (name, p.host, p.node) not in EXPECTED_ALTERNATIVES and name != "mixed-estate":
                assert p.outcome.robust, (name, p.host, p.node, p.outcome.alternatives)


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]}:{k[1]}:{k[2]}")
def test_lab_pair(key):
    lab, host, node = key
    path = Engine(labs.load(lab)).trace_pair(host, node)
    o = path.outcome
    got = (path.endpoint.ip, path.endpoint.vmk, o.ingress_vmk, o.egress_vmk,
           tuple(u.name for u in o.egress_uplinks), o.bottleneck_mbps, o.verdict.value)
    assert got == EXPECTED[key]


def test_every_lab_pair_is_expected_or_in_mixed_estate():
    for name in labs.names():
        for p in trace(labs.load(name)):
            if name != "mixed-estate":
                assert (name, p.host, p.node) in EXPECTED, (name, p.host, p.node)


def test_mixed_estate_shape():
    paths = trace(labs.load("mixed-estate"))
    by = {(p.host, p.node): p for p in paths}
    assert len(paths) == 8 * 4
    # gold: tagged vmk2 on a VDS; the dual-homed proxy is isolated on uplink3 -> vmnic2 (25 GbE).
    p = by[("gold-01.corp.local", "vbr-proxy-a")]
    assert (p.outcome.verdict, p.outcome.egress_vmk, [u.name for u in p.outcome.egress_uplinks]) == (Verdict.ISOLATED, "vmk2", ["vmnic2"])
    # gold-03: vmnic2 down -> standby vmnic3, still isolated but degraded.
    p = by[("gold-03.corp.local", "commvault-ma1")]
    assert [u.name for u in p.outcome.egress_uplinks] == ["vmnic3"] and p.outcome.egress_uplinks[0].role == "standby"
    assert any("standby-only" in d for d in p.outcome.degraded)
    # silver-01 has the static route, silver-02 not: the routed proxy differs.
    assert by[("silver-01.corp.local", "vbr-proxy-r")].verdict is Verdict.ISOLATED
    assert by[("silver-02.corp.local", "vbr-proxy-r")].verdict is Verdict.NOT_ISOLATED
    # legacy 6.7: management only.
    assert all(by[(f"legacy-0{i}.corp.local", n)].endpoint.vmk == "vmk0" for i in (1, 2) for n in ("vbr-proxy-a", "cohesity-n1"))


def test_assumptions_are_named_where_used():
    e = Engine(labs.load("same-subnet-vmks"))
    assert "A3-same-subnet-first-vmk" in e.trace_pair("esx01.lab.local", "vbr01").outcome.assumptions
    e = Engine(labs.load("trick-through-firewall"))
    assert "A9-stateful-firewall" in e.trace_pair("esx01.corp.local", "rubrik-node1").outcome.assumptions
    e = Engine(labs.load("rubrik-mixed-speed"))
    a = e.trace_pair("esx01.corp.local", "rubrik-node1").outcome.assumptions
    assert "A1-reply-route-lookup" in a and "A7-uplink-unpredictable" in a


def test_every_step_has_a_reason_and_failures_are_marked():
    for name in labs.names():
        for p in trace(labs.load(name)):
            assert p.hops, (name, p.host, p.node)
            for hop in p.hops:
                for step in hop.steps:
                    assert len(step.detail) > 10
            if p.verdict in (Verdict.UNREACHABLE, Verdict.BROKEN_BY_FIREWALL):
                assert any(not s.ok for h in p.hops for s in h.steps)
