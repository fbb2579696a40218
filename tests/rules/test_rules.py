"""Each rule fires where the field reports say, with a concrete fix, and not elsewhere."""

import yaml

from nbdpath import labs
from nbdpath.engine import Engine
from nbdpath.model import parse
from nbdpath.plan.changes import apply_all
from nbdpath.rules import RULES, check


def _findings(snap):
    e = Engine(snap)
    return check(e, e.trace())


def _rules(lab):
    return {(f.rule, f.host, n) for f in _findings(labs.load(lab)) for n in (f.nodes or (None,))}


def test_rule_ids_are_stable_and_documented():
    assert sorted(RULES) == [f"NBD{n:03d}" for n in range(1, 18)]
    for r in RULES.values():
        assert len(r.explanation) > 80 and r.name and r.title


def test_rules_per_lab():
    assert ("NBD001", "esx01.lab.local", None) in _rules("tag-wrong-stack")
    assert ("NBD002", "esx67-02", None) in _rules("esxi67-no-tag")
    assert ("NBD002", "esx67-01", None) not in _rules("esxi67-no-tag")
    assert ("NBD004", "esx01.lab.local", "vbr01") in _rules("veeam-tag-unreachable")
    assert ("NBD005", "esx01.lab.local", "vbr-proxy02") in _rules("veeam-tag-routed")
    assert ("NBD005", "esx02.lab.local", "vbr-proxy02") not in _rules("veeam-tag-routed")
    assert ("NBD006", "esx02.corp.local", "rubrik-node1") in _rules("rubrik-mixed-speed")
    assert ("NBD008", "esx01.corp.local", "rubrik-node1") in _rules("trick-through-firewall")
    assert ("NBD009", "esx01.lab.local", None) in _rules("same-subnet-vmks")
    assert ("NBD010", "esx01.lab.local", "vbr-proxy01") in _rules("veeam-tag-l2")
    assert ("NBD012", "esx01.corp.local", "rubrik-node1") in _rules("rubrik-mixed-speed")
    assert ("NBD007", "gold-03.corp.local", None) in _rules("mixed-estate")
    assert ("NBD007", "legacy-02.corp.local", None) in _rules("mixed-estate")


def test_several_tags_rule():
    doc = yaml.safe_load(labs.text("veeam-tag-l2"))
    doc["hosts"][0]["vmks"][0]["services"] = ["management", "vSphereBackupNFC"]
    rules = {(f.rule, f.host) for f in _findings(parse(yaml.safe_dump(doc)))}
    assert ("NBD003", "esx01.lab.local") in rules


def test_fixes_carry_esxcli_and_powercli():
    for lab in labs.names():
        for f in _findings(labs.load(lab)):
            d = f.to_dict()
            assert d["fix"]["summary"]
            assert len(d["fix"]["esxcli"]) == len(d["fix"]["powercli"])
            for cmd in d["fix"]["esxcli"]:
                assert cmd.startswith("esxcli network ")
            for cmd in d["fix"]["powercli"]:
                assert "Get-EsxCli -VMHost" in cmd and "-V2" in cmd and ".Invoke(@{" in cmd


def test_proposed_changes_actually_fix_the_path():
    """Apply each finding's changes in a what-if and re-trace: the pair must get better."""
    rank = {"UNREACHABLE": 0, "BROKEN_BY_FIREWALL": 0, "NOT_ISOLATED": 1, "ASYMMETRIC": 2, "ISOLATED": 3}
    checked = 0
    for lab, rule in [("veeam-tag-routed", "NBD005"), ("trick-through-firewall", "NBD008"), ("rubrik-mixed-speed", "NBD012")]:
        snap = labs.load(lab)
        for f in _findings(snap):
            if f.rule != rule:
                continue
            for node in f.nodes:
                before = Engine(snap).trace_pair(f.host, node)
                after = Engine(apply_all(snap, list(f.fix.changes))).trace_pair(f.host, node)
                assert rank[after.verdict.value] > rank[before.verdict.value], (lab, rule, after.outcome.verdict_reason)
                checked += 1
    assert checked >= 3


def test_unreachable_fix_removes_the_tag_and_restores_reachability():
    snap = labs.load("veeam-tag-unreachable")
    [f] = [f for f in _findings(snap) if f.rule == "NBD004"]
    after = Engine(apply_all(snap, list(f.fix.changes))).trace_pair(f.host, f.nodes[0])
    assert after.verdict.value != "UNREACHABLE"
    assert after.endpoint.vmk == "vmk0"


def test_findings_group_nodes_with_the_same_problem_and_fix():
    snap = labs.load("rubrik-mixed-speed")
    [f] = [f for f in _findings(snap) if f.rule == "NBD012"]
    assert f.nodes == ("rubrik-node1", "rubrik-node2")
    assert [f.host for f in _findings(snap) if f.rule == "NBD006"] == ["esx02.corp.local"]


def test_shared_findings_equal_findings_of_each_host_alone():
    """Findings re-addressed from a host of the same shape equal a check of that host on its own."""
    import yaml

    doc = yaml.safe_load(labs.text("mixed-estate"))
    snap = parse(yaml.safe_dump(doc))
    everything = _findings(snap)
    for host in ("gold-02.corp.local", "silver-03.corp.local", "legacy-01.corp.local"):
        alone = parse(yaml.safe_dump({**doc, "hosts": [h for h in doc["hosts"] if h["name"] == host]}))
        assert sorted(map(repr, (f for f in everything if f.host == host))) == sorted(map(repr, _findings(alone)))


def test_vlan_and_mtu_rules():
    import yaml

    doc = yaml.safe_load(labs.text("veeam-tag-l2"))
    assert not {f.rule for f in _findings(parse(yaml.safe_dump(doc)))} & {"NBD013", "NBD014"}
    doc["hosts"][0]["vswitches"][1]["portgroups"][0]["vlan"] = 31
    doc["hosts"][0]["vmks"][1]["mtu"] = 9000
    found = {(f.rule, f.vmk): f for f in _findings(parse(yaml.safe_dump(doc))) if f.host == "esx01.lab.local"}
    assert "VLAN 31" in found[("NBD013", "vmk2")].message and "VLAN 30" in found[("NBD013", "vmk2")].message
    # Issue 10: the fixes are changes (what the what-if and apply run), not esxcli text.
    from nbdpath.changes import PortgroupVlanSet, VmkMtuSet

    assert found[("NBD013", "vmk2")].fix.changes == (PortgroupVlanSet("esx01.lab.local", "Backup", 30, 31),)
    assert found[("NBD014", "vmk2")].fix.changes == (VmkMtuSet("esx01.lab.local", "vmk2", 1500, 9000),)
    assert not any("esxcli" in m for f in found.values() for m in f.fix.manual)
