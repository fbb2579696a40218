"""A backup job lives in the backup product, not in vCenter: `discover --merge` carries the jobs
of the hand-written merge file, and `estimate` of what was discovered is the lab's (issue 9)."""

from __future__ import annotations

import json

import pytest
import yaml

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.model import Snapshot, Vm

pytestmark = pytest.mark.vcsim

LAB = "nightly-window"


def _discover(sim, merge, out, monkeypatch) -> int:
    monkeypatch.setenv("NBDPATH_PASSWORD", sim.password)
    return main(["discover", "--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert),
                 "--merge", str(merge), "-o", str(out)])


def _discovered(lab, run_vcsim, tmp_path, monkeypatch, capsys):
    """The lab's vCenter side served by vcsim, discovered with its backup side as the merge file."""
    sim = run_vcsim(Snapshot(hosts=lab.hosts, dvswitches=lab.dvswitches, vms=lab.vms, datastores=lab.datastores))
    merge = tmp_path / "backup-side.yaml"
    merge.write_text(yaml.safe_dump(lab.model_dump(mode="json", include={
        "segments", "routers", "backup_nodes", "dns", "jobs"}), sort_keys=False))
    out = tmp_path / "estate.json"
    assert _discover(sim, merge, out, monkeypatch) == 0
    capsys.readouterr()
    return out


def _estimate(args, capsys) -> dict:
    assert main(["estimate", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_discovered_estate_with_the_merge_file_s_jobs_estimates_as_the_lab(run_vcsim, tmp_path, monkeypatch, capsys):
    lab = labs.load(LAB)
    out = _discovered(lab, run_vcsim, tmp_path, monkeypatch, capsys)
    got, want = _estimate([str(out)], capsys), _estimate(["--lab", LAB], capsys)
    assert [j["name"] for j in got["jobs"]] == ["nightly"]
    for g, w in zip(got["jobs"], want["jobs"]):
        assert (g["duration_s"], g["bytes"], g["bottleneck"]) == (w["duration_s"], w["bytes"], w["bottleneck"])
        assert g["duration_s"] > 0 and g["vms"] and g["vms"] == w["vms"]


def test_a_job_naming_an_unknown_node_is_refused_before_connecting(tmp_path, monkeypatch, capsys):
    merge = tmp_path / "backup-side.yaml"
    merge.write_text("backup_nodes: []\njobs:\n  - name: nightly\n    nodes: [vbr-proxy]\n    clusters: [routed]\n")
    monkeypatch.setenv("NBDPATH_PASSWORD", "pw")
    rc = main(["discover", "--server", "127.0.0.1:1", "--user", "u", "--merge", str(merge),
               "-o", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    # The node is the merge file's to define; the cluster waits for discovery (not named here).
    assert rc == 2 and f"{merge}:4" in err and "jobs[0].nodes[0]" in err and "routed" not in err
    assert "connection refused" not in err.lower()


def _tagged_lab():
    """nightly-window with its VMs tagged (db-* 'gold', every VM 'backup-nightly') and a job
    that picks the gold ones by tag: what the Automation API must bring back."""
    lab = labs.load(LAB)
    vms = tuple(v.model_copy(update={"tags": (("gold",) if v.name.startswith("db-") else ()) + ("backup-nightly",)})
                for v in lab.vms)
    job = lab.jobs[0].model_copy(update={"name": "gold", "clusters": (), "tags": ("gold",)})
    return lab.model_copy(update={"vms": vms, "jobs": (job,)})


def test_vm_tags_come_from_the_automation_api_and_a_job_by_tag_estimates_as_the_lab(
        run_vcsim, tmp_path, monkeypatch, capsys):
    lab = _tagged_lab()
    out = _discovered(lab, run_vcsim, tmp_path, monkeypatch, capsys)
    found = json.loads(out.read_text())
    # Sorted by name: the API answers in no particular order.
    assert {v["name"]: tuple(v.get("tags", ())) for v in found["vms"]} == {v.name: tuple(sorted(v.tags))
                                                                         for v in lab.vms}
    lab_file = tmp_path / "lab.json"
    lab_file.write_text(lab.model_dump_json())
    got, want = _estimate([str(out)], capsys), _estimate([str(lab_file)], capsys)
    assert got["jobs"][0]["vms"] == want["jobs"][0]["vms"]
    gold = [v for v in lab.vms if "gold" in v.tags]
    assert set(got["jobs"][0]["vms"]) <= {v.name for v in gold}
    assert got["jobs"][0]["bytes"] == sum(d.capacity_gib for v in gold for d in v.disks) * 2**30 > 0
    assert (got["jobs"][0]["duration_s"], got["jobs"][0]["bytes"]) == (want["jobs"][0]["duration_s"],
                                                                       want["jobs"][0]["bytes"])
    assert not got["jobs"][0].get("warnings")


def test_a_tag_name_with_control_characters_is_left_out_and_said(run_vcsim, tmp_path, monkeypatch, capsys):
    lab = labs.load(LAB)
    # Built past validation: vCenter accepts such a name, the model does not.
    vms = (Vm.model_construct(**{**dict(lab.vms[0]), "tags": ("ok", "evil\x1b[31m")}),) + lab.vms[1:]
    sim = run_vcsim(Snapshot.model_construct(**{**dict(Snapshot(hosts=lab.hosts, dvswitches=lab.dvswitches,
                                                                datastores=lab.datastores)), "vms": vms}))
    out = tmp_path / "estate.json"
    monkeypatch.setenv("NBDPATH_PASSWORD", sim.password)
    rc = main(["discover", "--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert), "-o", str(out)])
    printed = capsys.readouterr()
    found = json.loads(out.read_text())
    assert rc == 1  # partial: the file says what was left out
    assert [v.get("tags") for v in found["vms"] if v["name"] == lab.vms[0].name] == [["ok"]]
    [(key, why)] = [(k, w) for k, w in found["missing"].items() if k.startswith("tags:")]
    assert "\x1b" not in why and "evil\\x1b[31m" in why and "1 tag name" in why
    assert "\x1b" not in printed.out + printed.err
