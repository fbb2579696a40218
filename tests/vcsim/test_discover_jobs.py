"""A backup job lives in the backup product, not in vCenter: `discover --merge` carries the jobs
of the hand-written merge file, and `estimate` of what was discovered is the lab's (issue 9)."""

from __future__ import annotations

import json

import pytest
import yaml

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.model import Snapshot

pytestmark = pytest.mark.vcsim

LAB = "nightly-window"


def _discover(sim, merge, out, monkeypatch) -> int:
    monkeypatch.setenv("NBDPATH_PASSWORD", sim.password)
    return main(["discover", "--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert),
                 "--merge", str(merge), "-o", str(out)])


def _estimate(args, capsys) -> dict:
    assert main(["estimate", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_discovered_estate_with_the_merge_file_s_jobs_estimates_as_the_lab(run_vcsim, tmp_path, monkeypatch, capsys):
    lab = labs.load(LAB)
    sim = run_vcsim(Snapshot(hosts=lab.hosts, dvswitches=lab.dvswitches, vms=lab.vms, datastores=lab.datastores))
    merge = tmp_path / "backup-side.yaml"
    merge.write_text(yaml.safe_dump(lab.model_dump(mode="json", include={
        "segments", "routers", "backup_nodes", "dns", "jobs"}), sort_keys=False))
    out = tmp_path / "estate.json"
    assert _discover(sim, merge, out, monkeypatch) == 0
    capsys.readouterr()
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
