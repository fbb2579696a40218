"""A plan's proposal (the changes applied to a copy) before its what-if: scripts are rendered
from it alone, and the JSON's steps are written from it while the what-if runs."""

from __future__ import annotations

import io
import os

import pytest

from nbdpath import cli, labs
from nbdpath.changes import render as registry
from nbdpath.commands import whatif
from nbdpath.plan import plan as plan_mod

SCRIPTS = list(registry.renderers())  # esxcli, powercli, govc, ansible


@pytest.mark.parametrize("lab", labs.names())
def test_a_proposal_renders_the_scripts_and_steps_of_its_plan(lab):
    snap = labs.load(lab)
    proposal = plan_mod.propose(snap)
    plan = plan_mod.assess(proposal)
    assert plan == plan_mod.build(snap)
    assert (plan.steps, plan.skipped, plan.hosts, plan.after) == (proposal.steps, proposal.skipped,
                                                                  proposal.hosts, proposal.after)
    for kind in SCRIPTS:
        assert plan_mod.render_script(proposal, kind) == plan_mod.render_script(plan, kind)
    whole, halves = io.StringIO(), io.StringIO()
    plan.write_json(whole)
    plan_mod.write_json_steps(proposal, halves)
    plan.write_json_rest(halves)
    assert halves.getvalue() == whole.getvalue()


def test_a_script_runs_no_what_if(monkeypatch, capsys):
    calls = []
    real = plan_mod.assess
    monkeypatch.setattr(plan_mod, "assess", lambda p: calls.append(p) or real(p))
    assert cli.main(["plan", "--lab", "veeam-tag-routed", "--format", "esxcli"]) == 0
    assert "esxcli network ip" in capsys.readouterr().out and calls == []
    assert cli.main(["plan", "--lab", "veeam-tag-routed", "--format", "json"]) == 0
    assert len(calls) == 1


@pytest.mark.parametrize("lab", ["veeam-tag-routed", "mixed-estate", "nightly-window"])
def test_the_plan_json_written_in_halves_equals_the_one_written_whole(lab, tmp_path, monkeypatch, counted_forks):
    forks = counted_forks
    monkeypatch.setattr(whatif, "HALVES_FROM_HOSTS", 10**9)  # the steps' halves, not the hosts'
    whole, halves = tmp_path / "whole.json", tmp_path / "halves.json"
    monkeypatch.setattr(whatif, "HALVES_FROM_STEPS", 10**9)
    assert cli.main(["plan", "--lab", lab, "--format", "json", "-o", str(whole)]) == 0
    assert forks == []
    monkeypatch.setattr(whatif, "HALVES_FROM_STEPS", 0)
    assert cli.main(["plan", "--lab", lab, "--format", "json", "-o", str(halves)]) == 0
    assert len(forks) == 1
    assert halves.read_bytes() == whole.read_bytes()


def _fleet_file(tmp_path, hosts: int) -> str:
    from nbdpath.model import dump

    from test_plan_scale import _fleet

    path = tmp_path / "fleet.json"
    path.write_text(dump(_fleet(hosts), "json"))
    return str(path)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_plan_made_in_two_halves_of_the_hosts_is_the_whole_plan(fmt, tmp_path, monkeypatch, capsys, counted_forks):
    forks = counted_forks
    fleet = _fleet_file(tmp_path, 120)
    inputs = [["--lab", lab] for lab in labs.names() if not labs.load(lab).jobs] + [[fleet], [fleet, "--cluster", "c1"]]
    assert len(inputs) > 10
    for args in inputs:
        made = {}
        for how, threshold in (("whole", 10**9), ("halves", 0)):
            monkeypatch.setattr(whatif, "HALVES_FROM_HOSTS", threshold)
            out = tmp_path / f"{how}.{fmt}"
            del forks[:]
            assert cli.main(["plan", *args, "--format", fmt, "-o", str(out)]) == 0
            # The whole plan forks only for its JSON's steps (HALVES_FROM_STEPS), the halves once.
            assert len(forks) == 1 if how == "halves" else len(forks) <= 1
            assert cli.main(["plan", *args, "--format", fmt]) == 0  # onto a stand-in stdout
            made[how] = (out.read_bytes(), capsys.readouterr().out)
        assert made["halves"] == made["whole"], args
        assert made["whole"][0].decode() == made["whole"][1]
    # The last input (a cluster of the fleet) has path changes: the halves joined them too.
    assert {"text": b"path(s) changed", "json": b'"path_changes": [\n', "markdown": b"| host | node | status"}[fmt] \
        in made["whole"][0]


def test_a_half_whose_child_fails_is_made_here_and_the_plan_is_the_same(tmp_path, monkeypatch, counted_forks):
    fleet = _fleet_file(tmp_path, 60)
    parent = os.getpid()
    real = plan_mod.assess

    def assess(proposal):
        if os.getpid() != parent:
            raise MemoryError("the child runs out of memory")
        return real(proposal)

    made = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(whatif, "HALVES_FROM_HOSTS", threshold)
        monkeypatch.setattr(plan_mod, "assess", assess)
        out = tmp_path / f"plan.{threshold}.json"
        assert cli.main(["plan", fleet, "--format", "json", "-o", str(out)]) == 0
        made.append(out.read_bytes())
    assert made[0] == made[1] and b'"steps": [\n' in made[0]


@pytest.mark.parametrize("lab", labs.names())
def test_the_plan_of_some_hosts_is_that_part_of_the_whole_plan(lab):
    snap = labs.load(lab)
    whole = plan_mod.assess(plan_mod.propose(snap))
    names = [h.name for h in snap.hosts]
    for part in (names[: len(names) // 2], names[len(names) // 2:]):
        plan = plan_mod.assess(plan_mod.propose(snap, within=part))
        ours = set(part)
        assert plan.steps == tuple(s for s in whole.steps if s.change.host in ours)
        assert plan.path_changes == tuple(c for c in whole.path_changes if c.host in ours)
        assert plan.resolved == tuple(f for f in whole.resolved if f.host in ours)
        assert plan.introduced == tuple(f for f in whole.introduced if f.host in ours)
        assert plan.skipped == tuple(k for k in whole.skipped if k[0].host in ours)


def test_a_fleet_plans_markdown_in_halves_groups_its_path_changes_as_the_whole_does(tmp_path, monkeypatch,
                                                                                     counted_forks):
    from nbdpath.render import cells

    forks = counted_forks
    fleet = _fleet_file(tmp_path, 120)
    monkeypatch.setattr(cells, "PAIR_ROWS", 40)  # 120 hosts' changes grouped, as 10,000 hosts' are
    made = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(whatif, "HALVES_FROM_HOSTS", threshold)
        out = tmp_path / f"plan.{threshold}.md"
        assert cli.main(["plan", fleet, "--format", "markdown", "-o", str(out)]) == 0
        made.append(out.read_text())
    assert len(forks) == 1 and made[0] == made[1]
    assert "One row per distinct change" in made[0] and " more hosts (" not in made[0]
    # Groups that span both halves, whose hosts and pairs the joined table adds up.
    from nbdpath.model import load_file
    from nbdpath.render import markdown as md_render

    snap = load_file(fleet)
    names = [h.name for h in snap.hosts]
    keys = [{g[0] for g in md_render.plan_markdown_part(plan_mod.assess(plan_mod.propose(snap, within=part)))[1]["groups"]}
            for part in (names[:60], names[60:])]
    assert keys[0] & keys[1]


def test_each_jobs_window_estimated_from_the_plans_own_paths_is_the_one_traced_anew(tmp_path, fleet_of):
    """A whole plan's windows come from its paths before and after (estimate(paths=...)), not two
    traces of their own: the same windows as compare() of the two snapshots alone."""
    import json
    import sys

    from nbdpath.estimate import compare
    from nbdpath.model import Snapshot, dump

    fleet_of(1)  # loads benchmarks/fleetgen.py
    fleet = sys.modules["fleetgen"]
    snap = Snapshot.model_validate(fleet.add_vms(fleet.generate(80, 4), 800, 3))
    path = tmp_path / "fleet.json"
    path.write_text(dump(snap, "json"))
    out = tmp_path / "plan.json"
    assert cli.main(["plan", str(path), "--format", "json", "-o", str(out)]) == 0
    windows = json.loads(out.read_text())["windows"]
    proposal = plan_mod.propose(snap)
    assert windows == compare(snap, proposal.after) and len(windows) == 3
    assert any(w["after_s"] != w["before_s"] for w in windows)  # the plan changes a window
