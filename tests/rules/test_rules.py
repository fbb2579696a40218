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
    return {(f.rule, f.host, f.node) for f in _findings(labs.load(lab))}


def test_rule_ids_are_stable_and_documented():
    assert sorted(RULES) == [f"NBD{n:03d}" for n in range(1, 13)]
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
            before = Engine(snap).trace_pair(f.host, f.node)
            after = Engine(apply_all(snap, list(f.fix.changes))).trace_pair(f.host, f.node)
            assert rank[after.verdict.value] > rank[before.verdict.value], (lab, rule, after.outcome.verdict_reason)
            checked += 1
    assert checked >= 3


def test_unreachable_fix_removes_the_tag_and_restores_reachability():
    snap = labs.load("veeam-tag-unreachable")
    [f] = [f for f in _findings(snap) if f.rule == "NBD004"]
    after = Engine(apply_all(snap, list(f.fix.changes))).trace_pair(f.host, f.node)
    assert after.verdict.value != "UNREACHABLE"
    assert after.endpoint.vmk == "vmk0"
