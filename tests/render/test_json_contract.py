"""The JSON output is a versioned contract: these keys and types must not drift silently."""

import json

from nbdpath.commands.core import build_report, load_inputs
from nbdpath.render import OUTPUT_VERSION, to_json, to_yaml

PATH_KEYS = {
    "snapshot", "host", "node", "endpoint", "node_ip", "ingress_vmk", "egress_vmk", "egress_uplinks", "uplink_policy",
    "bottleneck_mbps", "verdict", "verdict_reason", "degraded", "assumptions", "alternatives", "robust", "hops",
    "control",
    # Issue 10: every outcome field, so that a path round-trips (Path.from_dict).
    "endpoint_kind", "node_interface", "management_vmk", "reply_route_origin", "best_available_mbps",
    "forward_devices", "reply_devices", "firewalls_one_way", "unmodelled_legs",
}
ALTERNATIVE_FIELDS = {"endpoint_vmk", "ingress_vmk", "egress_vmk", "verdict", "bottleneck_mbps"}
FINDING_KEYS = {"snapshot", "rule", "name", "severity", "host", "nodes", "vmk", "message", "explanation", "fix"}


def test_envelope_and_keys():
    report = build_report(load_inputs(None, "all"))
    doc = json.loads(to_json(report))
    assert OUTPUT_VERSION == 1
    assert set(doc) == {"version", "kind", "tool", "snapshots", "paths", "findings", "missing", "summary"}
    assert doc["kind"] == "trace"
    assert doc["missing"] == [] and doc["summary"]["missing_hosts"] == 0
    assert doc["version"] == 1 and doc["tool"] == "nbdpath"
    for p in doc["paths"]:
        assert set(p) == PATH_KEYS
        assert set(p["endpoint"]) == {"ip", "vmk", "reason"}
        assert p["verdict"] in {"ISOLATED", "NOT_ISOLATED", "ASYMMETRIC", "UNREACHABLE", "BROKEN_BY_FIREWALL"}
        for u in p["egress_uplinks"]:
            assert set(u) == {"name", "speed_mbps", "link_up", "role"}
        for a in p["assumptions"]:
            assert set(a) == {"id", "text"}
        ids = {a["id"] for a in p["assumptions"]}
        for alt in p["alternatives"]:
            assert {"assumption", "if_not"} <= set(alt) and set(alt) - {"assumption", "if_not"} <= ALTERNATIVE_FIELDS
            assert alt["assumption"] in ids and len(alt) > 2  # names a used assumption and what changes
        assert p["robust"] == (not any("verdict" in alt for alt in p["alternatives"]))
        assert [c["flow"] for c in p["control"]] == ["node-vcenter", "nfc-auth", "node-management", "host-vcenter"]
        for c in p["control"]:
            assert set(c) == {"flow", "src", "dst", "port", "reachable", "via", "on_management", "reason"}
            assert c["reachable"] in (True, False, None)
        for h in p["hops"]:
            assert set(h) == {"device", "direction", "steps"}
            for s in h["steps"]:
                # Issue 10: each step's typed detail beside its text.
                assert set(s) == {"kind", "detail", "ok", "data"} and isinstance(s["data"], dict)
    for f in doc["findings"]:
        assert set(f) == FINDING_KEYS
        assert set(f["fix"]) == {"summary", "esxcli", "powercli", "govc", "ansible", "manual"}  # one key per change renderer (b026ea8)
        assert f["severity"] in {"error", "warning", "info"}
    assert doc["summary"]["pairs"] == len(doc["paths"])


def test_pinned_path_of_report_1_routed_case():
    report = build_report(load_inputs(None, "veeam-tag-routed"))
    doc = json.loads(to_json(report, with_hops=False))
    p = next(p for p in doc["paths"] if p["host"] == "esx01.lab.local")
    assert {k: p[k] for k in ("endpoint", "ingress_vmk", "egress_vmk", "bottleneck_mbps", "verdict")} == {
        "endpoint": {"ip": "10.30.0.11", "vmk": "vmk2",
                     "reason": "vmk2 carries vSphereBackupNFC on defaultTcpipStack (ESXi 7.0.3): vCenter returns its IP 10.30.0.11"},
        "ingress_vmk": "vmk2",
        "egress_vmk": "vmk0",
        "bottleneck_mbps": 1000,
        "verdict": "NOT_ISOLATED",
    }
    assert [u["name"] for u in p["egress_uplinks"]] == ["vmnic0", "vmnic1"]


def test_yaml_matches_json():
    import yaml

    report = build_report(load_inputs(None, "same-subnet-vmks"))
    assert yaml.safe_load(to_yaml(report)) == json.loads(to_json(report))


def test_partial_snapshot_is_said_in_json_and_table():
    import yaml

    from nbdpath import labs
    from nbdpath.model import parse
    from nbdpath.render import paths_table

    doc = yaml.safe_load(labs.text("veeam-tag-l2"))
    doc["missing"] = {"esx03.lab.local": "host is disconnected"}
    report = build_report([("partial", parse(yaml.safe_dump(doc)))])
    data = json.loads(to_json(report, with_hops=False))
    assert data["missing"] == [{"snapshot": "partial", "host": "esx03.lab.local", "reason": "host is disconnected"}]
    assert data["summary"]["missing_hosts"] == 1
    assert "PARTIAL: 1 host(s) could not be read" in paths_table(report)
