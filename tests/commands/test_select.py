"""--cluster, --host, --node: a filtered report is the full report's subset, an unknown name is exit 2."""

from __future__ import annotations

import json

import pytest

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.commands.select import listing


def _json(capsys, argv: list[str]) -> dict:
    code = main(argv + ["--format", "json"])
    out = capsys.readouterr().out
    assert code in (0, 1)
    return json.loads(out)


def _key(p: dict) -> tuple:
    return p["snapshot"], p["host"], p["node"]


@pytest.mark.parametrize("lab", labs.names())
def test_host_and_node_filters_give_the_full_reports_pairs(capsys, lab):
    snap = labs.load(lab)
    full = {_key(p): p for p in _json(capsys, ["trace", "--lab", lab])["paths"]}
    host, node = snap.hosts[-1].name, snap.backup_nodes[-1].name
    got = _json(capsys, ["trace", "--lab", lab, "--host", host, "--node", node])["paths"]
    assert [_key(p) for p in got] == [(lab, host, node)]
    assert got[0] == full[(lab, host, node)]  # hops and control too: the engine saw the whole estate


def test_cluster_filter_keeps_that_clusters_hosts_and_their_findings(capsys):
    lab = next(n for n in labs.names() if len({h.cluster for h in labs.load(n).hosts if h.cluster}) > 1)
    snap = labs.load(lab)
    cluster = snap.hosts[0].cluster
    members = {h.name for h in snap.hosts if h.cluster == cluster}
    full = _json(capsys, ["check", "--lab", lab, "--fail-on", "never"])
    got = _json(capsys, ["check", "--lab", lab, "--fail-on", "never", "--cluster", cluster])
    assert {p["host"] for p in got["paths"]} == members
    assert got["paths"] == [p for p in full["paths"] if p["host"] in members]
    assert got["findings"] == [f for f in full["findings"] if f["host"] in members]
    assert got["summary"]["pairs"] == len(got["paths"]) < full["summary"]["pairs"]


def test_repeated_hosts_and_lab_all_keep_only_snapshots_with_a_selected_pair(capsys):
    names = labs.names()
    a, b = labs.load(names[0]).hosts[0].name, labs.load(names[1]).hosts[0].name
    got = _json(capsys, ["trace", "--lab", "all", "--host", a, "--host", b, "--no-hops"])
    assert {p["host"] for p in got["paths"]} == {a, b}
    assert set(got["snapshots"]) == {p["snapshot"] for p in got["paths"]}


@pytest.mark.parametrize("argv, kind, name", [
    (["trace", "--lab", "all", "--host", "nosuch"], "host", "nosuch"),
    (["check", "--lab", "all", "--cluster", "nosuch-cl"], "cluster", "nosuch-cl"),
    (["trace", "--lab", "veeam-tag-routed", "--node", "nosuch-node"], "backup node", "nosuch-node"),
    (["plan", "--lab", "veeam-tag-routed", "--host", "nosuch"], "host", "nosuch"),
    (["plan", "--lab", "veeam-tag-routed", "--node", "nosuch-node"], "backup node", "nosuch-node"),
    (["explain", "--lab", "veeam-tag-routed", "--cluster", "nosuch-cl"], "cluster", "nosuch-cl"),
    (["check", "--lab", "all", "--format", "html", "--host", "nosuch"], "host", "nosuch"),
])
def test_unknown_name_is_exit_2_one_line_naming_it(capsys, argv, kind, name):
    assert main(argv) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    [line] = cap.err.splitlines()
    assert line.startswith("nbdpath: error: ") and f"no {kind} '{name}'" in line
    assert "more" in line or "; " in line  # lists what exists


def test_listing_truncates_long_lists():
    names = [f"esx{i:05d}" for i in range(10_000)]
    text = listing(names)
    assert text.startswith("esx00000, esx00001") and text.endswith("... and 9990 more")
    assert len(text) < 200
    assert listing([]) == "none" and listing(["a", "a", "b"]) == "a, b"


def test_plan_cluster_and_node_restrict_the_fixes(capsys):
    lab = "veeam-tag-routed"
    snap = labs.load(lab)
    assert main(["plan", "--lab", lab, "--format", "json"]) == 0
    full = json.loads(capsys.readouterr().out)["steps"]
    host = full[0]["host"]
    cluster = next(h.cluster for h in snap.hosts if h.name == host)
    assert main(["plan", "--lab", lab, "--format", "json", "--cluster", cluster]) == 0
    by_cluster = json.loads(capsys.readouterr().out)["steps"]
    members = {h.name for h in snap.hosts if h.cluster == cluster}
    assert by_cluster == [s for s in full if s["host"] in members] and by_cluster


def test_explain_selection_explains_each_selected_pair(capsys):
    lab = next(n for n in labs.names() if len(labs.load(n).backup_nodes) > 1)
    snap = labs.load(lab)
    host = snap.hosts[0].name
    got = _json(capsys, ["explain", "--lab", lab, "--host", host])
    assert [p["node"] for p in got["paths"]] == [n.name for n in snap.backup_nodes]
    assert main(["explain", "--lab", lab, "--host", host]) == 0
    out = capsys.readouterr().out
    heads = [line for line in out.splitlines() if line.startswith(f"{host} -> ") and line.endswith(f"({lab})")]
    assert len(heads) == len(snap.backup_nodes) > 1
    assert main(["explain", "--lab", lab, host]) == 2  # HOST without NODE
    assert "HOST and NODE" in capsys.readouterr().err
