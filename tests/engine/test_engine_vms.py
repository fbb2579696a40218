"""Which host serves each VM's disks (issue 9), on field report 1's routed lab:
esx01 sends over 1 GbE management (NOT_ISOLATED), esx02 has the static-route fix (ISOLATED)."""

import pytest
import yaml

from nbdpath import labs
from nbdpath.engine import Engine, Verdict
from nbdpath.engine.vms import DATASTORE, OWN_HOST, VmTracer, selected, serving, vm_routes
from nbdpath.errors import UsageError
from nbdpath.model import parse

E1, E2, NODE = "esx01.lab.local", "esx02.lab.local", "vbr-proxy02"


def _snap(**extra):
    doc = yaml.safe_load(labs.text("veeam-tag-routed"))
    doc["datastores"] = [{"name": "shared", "hosts": [E1, E2]}, {"name": "local2", "hosts": [E2]},
                         {"name": "gone", "hosts": [E1, E2], "accessible": False}]
    doc["vms"] = [
        {"name": "on1", "host": E1, "disks": [{"capacity_gib": 10, "datastore": "shared"}]},
        {"name": "off1", "host": E1, "power_state": "poweredOff", "disks": [{"capacity_gib": 10, "datastore": "shared"}]},
        {"name": "off-local", "host": E1, "power_state": "poweredOff", "disks": [{"capacity_gib": 1, "datastore": "local2"}]},
        {"name": "tpl", "host": E2, "template": True, "power_state": "poweredOff",
         "disks": [{"capacity_gib": 1, "datastore": "gone"}]},
    ]
    doc.update(extra)
    return parse(yaml.safe_dump(doc), "t.yaml")


def _rows(snap, names=()):
    return {(r.vm, r.job): r for r in vm_routes(Engine(snap), names)}


def test_powered_on_vm_is_read_through_its_own_host():
    r = _rows(_snap())[("on1", None)]
    assert (r.served_by, r.candidates) == (OWN_HOST, (E1,))
    assert r.worst.host == E1 and r.worst.verdict is Verdict.NOT_ISOLATED
    assert r.worst.outcome.bottleneck_mbps == 1000 and not r.disagree


def test_powered_off_vm_traces_every_host_mounting_the_datastore_and_reports_the_worst():
    r = _rows(_snap())[("off1", None)]
    assert r.served_by == DATASTORE and r.candidates == (E1, E2)
    assert {p.host: p.verdict for p in r.paths} == {E1: Verdict.NOT_ISOLATED, E2: Verdict.ISOLATED}
    assert r.worst.host == E1
    assert r.disagree
    d = r.to_dict()
    assert d["disagree"] is True and d["worst"]["verdict"] == "NOT_ISOLATED" and len(d["paths"]) == 2


def test_rows_list_every_path_only_where_candidates_disagree():
    rows = _rows(_snap())
    assert rows[("on1", None)].to_dict()["paths"] == []
    assert rows[("on1", None)].to_dict()["worst"]["host"] == E1


def test_candidates_that_agree_are_not_flagged():
    r = _rows(_snap())[("off-local", None)]
    assert r.candidates == (E2,) and not r.disagree and r.worst.verdict is Verdict.ISOLATED


def test_an_inaccessible_datastore_leaves_no_candidate_and_says_so():
    r = _rows(_snap())[("tpl", None)]
    assert r.candidates == () and r.paths == () and r.worst is None
    assert "gone" in r.reason and "inaccessible" in r.reason


def test_serving_names_the_vddk_rule():
    snap = _snap()
    served_by, hosts, why = serving(snap, snap.vms[1])
    assert "first host with read/write access" in why and hosts == (E1, E2)


def test_job_selection_by_cluster_host_folder_tag_and_name_skips_unnamed_templates():
    from nbdpath.model import Job

    snap = _snap()
    by_cluster = Job(name="j", clusters=("prod",))
    assert [v.name for v in selected(snap, by_cluster)] == ["on1", "off1", "off-local"]
    by_name = Job(name="j", vms=("tpl",))
    assert [v.name for v in selected(snap, by_name)] == ["tpl"]
    by_host = Job(name="j", hosts=(E2,))
    assert [v.name for v in selected(snap, by_host)] == []
    doc = snap.model_dump(mode="json")
    doc["vms"][0]["folder"] = "prod"
    doc["vms"][2]["tags"] = ["gold"]
    doc["vms"][3]["tags"] = ["gold"]  # the template: a tag does not pick it
    tagged = parse(yaml.safe_dump(doc), "t.yaml")
    assert [v.name for v in selected(tagged, Job(name="j", folders=("prod",), tags=("gold",)))] == ["on1", "off-local"]


def test_vms_in_a_job_use_its_nodes_and_a_vm_in_no_job_every_node():
    snap = _snap(jobs=[{"name": "nightly", "nodes": [NODE], "vms": ["on1"]}])
    rows = _rows(snap)
    assert ("on1", "nightly") in rows and ("on1", None) not in rows
    assert ("off1", None) in rows


def test_transfer_address_replaces_the_endpoint_vcenter_hands_out():
    # Forklift's Host ipAddress on esx02's vmk0: the node connects there, the static
    # route still sends the data out of vmk2 -> asymmetric instead of isolated.
    snap = _snap(jobs=[{"name": "mtv", "product": "forklift", "nodes": [NODE], "vms": ["off-local"],
                        "transfer_addresses": {E2: "10.10.0.12"}}])
    r = _rows(snap)[("off-local", "mtv")]
    p = r.worst
    assert p.endpoint.ip == "10.10.0.12" and p.endpoint.vmk == "vmk0"
    assert (p.outcome.ingress_vmk, p.outcome.egress_vmk, p.verdict) == ("vmk0", "vmk2", Verdict.ASYMMETRIC)
    assert "used for disk transfer" in p.endpoint.reason
    assert p.hops and p.hops[0].steps[0].detail == p.endpoint.reason
    # The default pair is untouched.
    assert Engine(snap).trace_pair(E2, NODE).verdict is Verdict.ISOLATED


def test_a_transfer_address_on_no_vmk_of_the_host_fails_as_the_connection_would():
    snap = _snap(jobs=[{"name": "mtv", "nodes": [NODE], "vms": ["on1"], "transfer_addresses": {E1: "10.30.0.99"}}])
    p = _rows(snap)[("on1", "mtv")].worst
    assert p.verdict is Verdict.UNREACHABLE and "on no vmk" in p.endpoint.reason


def test_an_ipv6_transfer_address_is_unreachable_not_a_crash():
    snap = _snap(jobs=[{"name": "mtv", "nodes": [NODE], "vms": ["on1"], "transfer_addresses": {E1: "fd00::1"}}])
    p = _rows(snap)[("on1", "mtv")].worst
    assert p.verdict is Verdict.UNREACHABLE and "not IPv4" in p.endpoint.reason


def test_pairs_are_traced_once_and_shared():
    snap = _snap()
    tracer = VmTracer(Engine(snap))
    a = tracer.route(snap.vms[0]).paths[0]
    b = tracer.route(snap.vms[1]).paths[0]
    assert a is b


def test_named_vms_filter_and_unknown_vm_is_a_usage_error():
    snap = _snap()
    assert [r.vm for r in vm_routes(Engine(snap), ["off1"])] == ["off1"]
    with pytest.raises(UsageError, match="no VM 'ghost'"):
        vm_routes(Engine(snap), ["ghost"])


def test_trace_of_some_hosts_and_nodes_matches_the_full_trace():
    eng = Engine(labs.load("mixed-estate"))
    full = {(p.host, p.node): p.outcome for p in eng.trace()}
    hosts = [h.name for h in eng.snapshot.hosts][1::3]
    nodes = [n.name for n in eng.snapshot.backup_nodes][:2]
    part = Engine(labs.load("mixed-estate")).trace(hosts, nodes)
    assert [(p.host, p.node) for p in part] == [(h, n) for h in hosts for n in nodes]
    assert all(p.outcome == full[(p.host, p.node)] for p in part)
    with pytest.raises(UsageError, match="no host 'ghost'"):
        eng.trace(["ghost"], nodes)
    with pytest.raises(UsageError, match="no backup node 'ghost'"):
        eng.trace(hosts, ["ghost"])
