"""Remediation plans: deduplicated changes, what-if verified, rollback restores."""

from nbdpath import labs
from nbdpath.engine import Engine, Verdict
from nbdpath.plan import changes as ch
from nbdpath.plan import plan as plan_mod
from nbdpath.rules import Severity


def test_plan_for_mixed_estate_isolates_the_routed_nodes_and_resolves_findings():
    snap = labs.load("mixed-estate")
    plan = plan_mod.build(snap)
    routes = [s.change for s in plan.steps]
    # One route per affected host, not one per finding or node.
    assert sorted(c.host for c in routes) == ["gold-01.corp.local", "gold-02.corp.local", "gold-03.corp.local",
                                             "silver-02.corp.local", "silver-03.corp.local"]
    assert {type(c) for c in routes} == {ch.RouteAdd}
    after = {(p.host, p.node): p for p in Engine(plan.after).trace()}
    assert after[("silver-02.corp.local", "vbr-proxy-r")].verdict is Verdict.ISOLATED
    assert {c.verdict_after for c in plan.path_changes} == {"ISOLATED"}
    assert {f.rule for f in plan.resolved} >= {"NBD005", "NBD006"}
    assert not plan.introduced


def test_rollback_of_a_plan_restores_the_snapshot():
    snap = labs.load("trick-through-firewall")
    plan = plan_mod.build(snap, Severity.ERROR)
    assert [s.change for s in plan.steps] == [ch.TagAdd("esx01.corp.local", "vmk4")]
    back = plan.after
    for s in reversed(plan.steps):
        back = ch.apply_all(back, list(s.rollback))
    assert back == snap


def test_plan_filters_and_scripts():
    snap = labs.load("mixed-estate")
    only = plan_mod.build(snap, rules=["NBD005"], hosts=["gold-02.corp.local"])
    assert [s.change.host for s in only.steps] == ["gold-02.corp.local"]
    script = plan_mod.render_script(only, "esxcli")
    assert "# --- gold-02.corp.local" in script
    assert "esxcli network ip route ipv4 add -n 10.40.0.0/24 -g 10.30.0.1" in script
    assert "rollback: esxcli network ip route ipv4 remove" in script
    assert plan_mod.render_script(only, "govc").count("govc host.esxcli -host 'gold-02.corp.local'") == 2
    assert plan_mod.build(labs.load("veeam-tag-l2")).steps == ()


def test_tag_add_on_tagged_vmk_has_no_rollback():
    snap = labs.load("veeam-tag-l2")
    assert ch.inverse(ch.TagAdd("esx01.lab.local", "vmk2"), snap) == []
    assert ch.inverse(ch.TagAdd("esx01.lab.local", "vmk0"), snap) == [ch.TagRemove("esx01.lab.local", "vmk0")]


def test_changes_round_trip_through_dict_and_plan_json_carries_ops():
    import pytest

    for c in (ch.TagAdd("h", "vmk2"), ch.TagRemove("h", "vmk2", "vmotion"), ch.RouteAdd("h", "10.0.0.0/8", "10.1.1.1"),
              ch.RouteRemove("h", "10.0.0.0/8", "10.1.1.1", "vmotion"), ch.VmkRemove("h", "vmk4")):
        assert ch.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown op"):
        ch.from_dict({"op": "format-disk"})
    with pytest.raises(ValueError, match="bad fields"):
        ch.from_dict({"op": "tag-add", "host": "h"})
    doc = plan_mod.build(labs.load("veeam-tag-routed")).to_dict()
    [step] = doc["steps"]
    assert step["op"] == {"op": "route-add", "host": "esx01.lab.local", "network": "10.40.0.0/24",
                          "gateway": "10.30.0.1", "netstack": "defaultTcpipStack"}
    assert step["rollback_ops"][0]["op"] == "route-remove"
