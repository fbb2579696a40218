"""Forklift Host and Plan resources -> jobs (issue 9): the parser, id resolution and `import forklift`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.errors import InputError
from nbdpath.model import Datastore, Job, VirtualDisk, Vm, dump, load_file
from nbdpath.sources import forklift

DATA = Path(__file__).parent / "data" / "forklift"
FILES = [str(DATA / f) for f in ("hosts.yaml", "plan.yaml", "list.yaml")]


def snapshot():
    """The lab with the morefs discovery records and the fixtures' VMs."""
    lab = labs.load("veeam-tag-routed")
    one, two = lab.hosts
    hosts = (one.model_copy(update={"moref": "host-21"}), two.model_copy(update={"moref": "host-24"}))
    disk = (VirtualDisk(capacity_gib=40, datastore="san"),)
    vms = (Vm(name="web01", host=one.name, folder="apps", disks=disk, moref="vm-1630"),
           Vm(name="db01", host=two.name, disks=disk, moref="vm-1700"),
           Vm(name="other", host=two.name, disks=disk, moref="vm-1800"))
    return lab.model_copy(update={"hosts": hosts, "vms": vms,
                                  "datastores": (Datastore(name="san", hosts=(one.name, two.name)),),
                                  "jobs": (Job(name="wave-2", product="veeam"), Job(name="keep", product="veeam"))})


def read(*paths: str) -> forklift.Resources:
    res = forklift.Resources()
    for p in paths:
        forklift.parse(Path(p).read_text(), p, res)
    return res


def test_fixtures_parse_into_hosts_and_plans():
    res = read(*FILES)
    assert [(h.host_id, h.host_name, h.ip, h.provider) for h in res.hosts] == [
        ("host-21", None, "10.30.0.11", forklift.Ref("vmware-provider", "openshift-mtv")),
        ("host-24", None, "10.30.0.12", forklift.Ref("vmware-provider", "openshift-mtv")),
        # No namespace on the reference: the Host's own.
        (None, "esx02.lab.local", "10.30.0.12", forklift.Ref("vmware-provider", "openshift-mtv")),
    ]
    [wave1, wave2] = res.plans
    assert (wave1.name, wave1.vms, wave1.warm, wave1.transfer_network) == (
        "nightly-wave-1", (("vm-1630", None), (None, "db01")), True, None)
    assert (wave2.vms, wave2.warm, wave2.transfer_network) == (((None, "/Datacenter/vm/apps/web01"),), False,
                                                               "openshift-mtv/migration-net")
    assert res.skipped == {"Provider": 1}


def test_ids_become_the_snapshots_names():
    built = forklift.build(read(*FILES[:2]), snapshot(), "vbr-proxy02")
    [job] = built.jobs
    assert (job.name, job.product, job.nodes, job.vms) == ("nightly-wave-1", "forklift", ("vbr-proxy02",),
                                                           ("web01", "db01"))
    assert job.transfer_addresses == {"esx01.lab.local": "10.30.0.11", "esx02.lab.local": "10.30.0.12"}
    assert not any("--node" in n or "--snapshot" in n for n in built.notes)


def test_without_a_snapshot_ids_are_kept_and_said_so():
    built = forklift.build(read(*FILES[:2]))
    [job] = built.jobs
    assert job.vms == ("vm-1630", "db01") and job.transfer_addresses == {"host-21": "10.30.0.11", "host-24": "10.30.0.12"}
    assert job.nodes == ()
    assert any("no --snapshot" in n for n in built.notes) and any("no --node" in n for n in built.notes)


def test_unresolved_references_are_left_out_with_a_note():
    res = read(*FILES)
    snap = snapshot()
    snap = snap.model_copy(update={"hosts": (snap.hosts[0],), "vms": snap.vms[1:],
                                   "datastores": (Datastore(name="san", hosts=(snap.hosts[0].name,)),)})
    built = forklift.build(res, snap, None)
    wave1 = built.jobs[0]
    assert wave1.vms == ("db01",) and wave1.transfer_addresses == {"esx01.lab.local": "10.30.0.11"}
    assert any("1 VM(s) not in the snapshot, left out: vm-1630" in n for n in built.notes)
    assert any("host-24" in n and "no host" in n for n in built.notes)


def test_a_plan_only_gets_the_hosts_of_its_source_provider():
    other = (DATA / "hosts.yaml").read_text().replace("name: vmware-provider", "name: other-vcenter")
    res = forklift.Resources()
    forklift.parse(other, "other.yaml", res)
    forklift.parse((DATA / "plan.yaml").read_text(), "plan.yaml", res)
    built = forklift.build(res, snapshot(), None)
    assert built.jobs[0].transfer_addresses == {}
    assert any("no Host resource of provider vmware-provider" in n for n in built.notes)


def test_plans_sharing_a_name_in_two_namespaces_are_told_apart():
    text = (DATA / "plan.yaml").read_text()
    res = forklift.Resources()
    forklift.parse(text + "---\n" + text.replace("namespace: openshift-mtv\nspec", "namespace: team-b\nspec"), "p.yaml", res)
    assert [j.name for j in forklift.build(res).jobs] == ["nightly-wave-1 (openshift-mtv)", "nightly-wave-1 (team-b)"]


BAD = [
    ("[1, 2]\n", 1, "a Kubernetes resource"),
    ("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", 1, "apiVersion forklift.konveyor.io/v1beta1"),
    ("apiVersion: forklift.konveyor.io/v1beta1\nkind: Banana\nmetadata: {name: s}\n", 2, "kind Host or Plan"),
    ("apiVersion: forklift.konveyor.io/v1beta1\nkind: Host\nmetadata: {name: h}\nspec:\n  ipAddress: 10.0.0.1\n"
     "  provider: {name: p}\n", 5, "spec.id"),
    ("apiVersion: forklift.konveyor.io/v1beta1\nkind: Host\nmetadata: {name: h}\nspec:\n  id: host-1\n"
     "  ipAddress: esx01.example.com\n  provider: {name: p}\n", 6, "an IPv4 or IPv6 address"),
    ("apiVersion: forklift.konveyor.io/v1beta1\nkind: Plan\nmetadata: {name: p}\nspec:\n  provider:\n"
     "    source: {name: v}\n  vms:\n    - {id: vm-1}\n    - 42\n", 9, "spec.vms.1: a VM with an id"),
    ("apiVersion: forklift.konveyor.io/v1beta1\nkind: Plan\nmetadata: {name: p}\nspec:\n  warm: 'yes'\n", 5,
     "spec.provider.source"),
    ("apiVersion: forklift.konveyor.io/v1beta1\nkind: Plan\nmetadata:\n  name: \"a\\x1bb\"\nspec: {}\n", 4,
     "without control characters"),
    ("kind: List\nitems:\n  - apiVersion: forklift.konveyor.io/v1beta1\n    kind: Plan\n    spec: {}\n", 3,
     "items.0.metadata"),
    ("a: [\n", 2, "valid YAML"),
    ("", 1, "this file holds none"),
    ("# a comment only\n---\n", 1, "this file holds none"),
]


@pytest.mark.parametrize("text, line, expected", BAD)
def test_bad_resources_name_the_line_and_what_was_expected(text, line, expected):
    with pytest.raises(InputError) as err:
        forklift.parse(text, "f.yaml")
    assert err.value.line == line, str(err.value)
    assert expected in str(err.value)


def run(args, capsys):
    rc = main(["import", "forklift", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_merges_into_the_snapshot_and_the_result_loads(tmp_path, capsys):
    snap_file = tmp_path / "estate.yaml"
    snap_file.write_text(dump(snapshot()))
    out = tmp_path / "with-jobs.json"
    rc, stdout, err = run([*FILES, "--snapshot", str(snap_file), "--node", "vbr-proxy02", "-o", str(out),
                           "--format", "json"], capsys)
    assert rc == 0, err
    summary = json.loads(stdout)
    assert (summary["version"], summary["kind"]) == (1, "import-forklift")
    merged = load_file(out)  # every cross reference checked
    jobs = {j.name: j for j in merged.jobs}
    assert set(jobs) == {"keep", "nightly-wave-1", "wave-2"}
    assert jobs["wave-2"].product == "forklift" and jobs["wave-2"].vms == ("web01",)
    assert jobs["wave-2"].transfer_addresses == {"esx01.lab.local": "10.30.0.11", "esx02.lab.local": "10.30.0.12"}
    assert "job wave-2 replaced the snapshot's job of that name" in err
    assert merged.hosts == snapshot().hosts and merged.vms == snapshot().vms


def test_cli_writes_a_fragment_to_stdout(capsys):
    rc, stdout, err = run([FILES[1], "--format", "json"], capsys)
    assert rc == 0
    data = json.loads(stdout)
    assert data["version"] == 1 and [j["name"] for j in data["jobs"]] == ["nightly-wave-1"]
    assert data["jobs"][0]["vms"] == ["vm-1630", "db01"]
    assert "nbdpath: warning: no --snapshot" in err


def test_cli_refuses_a_node_the_snapshot_lacks(tmp_path, capsys):
    snap_file = tmp_path / "estate.yaml"
    snap_file.write_text(dump(snapshot()))
    rc, stdout, err = run([FILES[1], "--snapshot", str(snap_file), "--node", "worker-9"], capsys)
    assert rc == 2 and stdout == ""
    assert err.strip().splitlines() == [
        f"nbdpath: error: --node worker-9: not a backup node of {snap_file} (it has: vbr-proxy02)"]


def test_cli_bad_file_is_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD[4][0])
    out = tmp_path / "out.yaml"
    rc, stdout, err = run([FILES[1], str(bad), "-o", str(out)], capsys)
    assert rc == 2 and not out.exists()
    assert err.strip().splitlines() == [
        f"nbdpath: error: {bad}:6: spec.ipAddress: an IPv4 or IPv6 address (the IP used for disk transfer), "
        "not 'esx01.example.com'"]


_KEYS = ["apiVersion", "kind", "metadata", "name", "namespace", "spec", "id", "ipAddress", "provider", "source",
         "vms", "warm", "items", "transferNetwork"]
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
                    st.sampled_from(["forklift.konveyor.io/v1beta1", "Host", "Plan", "List", "10.0.0.1", "vm-1", "",
                                     "x\x1by", "a" * 600]))
_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.sampled_from(_KEYS), inner, max_size=6)),
                       max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(st.lists(_VALUES, min_size=1, max_size=3))
def test_any_yaml_either_parses_or_is_one_input_error(docs):
    import yaml as _yaml

    text = "\n---\n".join(_yaml.safe_dump(d) for d in docs)
    try:
        res = forklift.parse(text, "gen.yaml")
    except InputError as exc:
        assert exc.file == "gen.yaml" and "\n" not in str(exc)
        return
    forklift.build(res)  # whatever parsed builds into jobs without failing
