"""Drift between two runs: typed configuration changes, path changes, and what counts as worse."""

import copy

from nbdpath.history import drift as d

HOST = {
    "name": "esx01",
    "pnics": [{"name": "vmnic0", "link_up": True}, {"name": "vmnic2", "link_up": True}],
    "netstacks": [{"key": "defaultTcpipStack", "gateway": "10.0.0.1", "routes": []}],
    "vmks": [
        {"device": "vmk0", "portgroup": "Mgmt", "ipv4": "10.0.0.5/24", "services": ["management"]},
        {"device": "vmk2", "portgroup": "Backup", "ipv4": "10.30.0.5/24", "services": ["vSphereBackupNFC"]},
    ],
}


def _kinds(a, b):
    return [(c.kind, c.subject) for c in d.config_changes("esx01", a, b)]


def test_each_configuration_change_is_named():
    b = copy.deepcopy(HOST)
    b["vmks"][1]["services"] = []
    b["vmks"][0]["services"].append("vSphereBackupNFC")
    b["vmks"][0]["portgroup"] = "Mgmt2"
    b["vmks"][1]["ipv4"] = "10.30.0.6/24"
    b["vmks"].append({"device": "vmk3", "portgroup": "Backup"})
    b["netstacks"][0]["gateway"] = "10.0.0.254"
    b["netstacks"][0]["routes"] = [{"network": "10.40.0.0/24", "gateway": "10.30.0.1"}]
    b["pnics"][1]["link_up"] = False
    got = set(_kinds(HOST, b))
    assert got == {
        ("tag-added", "vmk0"), ("vmk-moved", "vmk0"), ("tag-removed", "vmk2"), ("vmk-address", "vmk2"),
        ("vmk-added", "vmk3"), ("gateway-changed", "defaultTcpipStack"), ("route-added", "defaultTcpipStack"),
        ("uplink-link", "vmnic2"),
    }
    texts = [c.describe() for c in d.config_changes("esx01", HOST, b)]
    assert "tag vSphereBackupNFC removed from vmk2" in texts
    assert "route 10.40.0.0/24 via 10.30.0.1 added to defaultTcpipStack" in texts
    assert "vmnic2 link up: True -> False" in texts


def test_reverse_changes_mirror():
    b = copy.deepcopy(HOST)
    del b["vmks"][1]
    assert _kinds(HOST, b) == [("vmk-removed", "vmk2")]
    assert _kinds(b, HOST) == [("vmk-added", "vmk2")]


def test_unchanged_host_has_no_changes():
    assert d.compare({"esx01": (HOST, {"paths": [], "findings": []})},
                     {"esx01": (copy.deepcopy(HOST), {"paths": [], "findings": []})}).to_dict()["config"] == []


def _res(verdict, egress="vmk2", findings=()):
    return {"paths": [{"node": "proxy", "verdict": verdict, "egress": egress, "bottleneck": 10000}],
            "findings": list(findings)}


def test_losing_isolated_is_worse_and_gaining_it_is_not():
    worse = d.compare({"h": (HOST, _res("ISOLATED"))}, {"h": (HOST, _res("NOT_ISOLATED", "vmk0"))})
    assert worse.worse and worse.paths[0].before["verdict"] == "ISOLATED"
    better = d.compare({"h": (HOST, _res("NOT_ISOLATED", "vmk0"))}, {"h": (HOST, _res("ISOLATED"))})
    assert not better.worse and len(better.paths) == 1


def test_verdict_order_ranks_unreachable_last():
    assert [d.verdict_rank(v) for v in d.VERDICT_ORDER] == sorted(d.verdict_rank(v) for v in d.VERDICT_ORDER)
    assert d.verdict_rank("UNREACHABLE") > d.verdict_rank("ASYMMETRIC") > d.verdict_rank("ISOLATED")


def test_new_error_finding_is_worse_new_warning_is_not():
    err = {"rule": "NBD004", "severity": "error", "vmk": "vmk2", "nodes": [], "message": "m"}
    warn = {**err, "severity": "warning", "rule": "NBD005"}
    assert d.compare({"h": (HOST, _res("ISOLATED"))}, {"h": (HOST, _res("ISOLATED", findings=[err]))}).worse
    drift = d.compare({"h": (HOST, _res("ISOLATED"))}, {"h": (HOST, _res("ISOLATED", findings=[warn]))})
    assert not drift.worse and [f.status for f in drift.findings] == ["new"]
    resolved = d.compare({"h": (HOST, _res("ISOLATED", findings=[err]))}, {"h": (HOST, _res("ISOLATED"))})
    assert not resolved.worse and [f.status for f in resolved.findings] == ["resolved"]


def test_host_added_and_removed_are_not_regressions():
    gone = d.compare({"h": (HOST, _res("ISOLATED"))}, {})
    assert [c.kind for c in gone.config] == ["host-removed"] and not gone.worse
    new = d.compare({}, {"h": (HOST, _res("UNREACHABLE"))})
    assert [c.kind for c in new.config] == ["host-added"] and not new.worse
