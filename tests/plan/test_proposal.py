"""A plan's proposal (the changes applied to a copy) before its what-if: scripts are rendered
from it alone, and the JSON's steps are written from it while the what-if runs."""

from __future__ import annotations

import io

import pytest

from nbdpath import cli, labs
from nbdpath import io as nbdpath_io
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
def test_the_plan_json_written_in_halves_equals_the_one_written_whole(lab, tmp_path, monkeypatch):
    forks: list[int] = []
    real_fork = nbdpath_io.os.fork

    def fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)
    monkeypatch.setattr(nbdpath_io.os, "fork", fork)
    whole, halves = tmp_path / "whole.json", tmp_path / "halves.json"
    monkeypatch.setattr(whatif, "HALVES_FROM_STEPS", 10**9)
    assert cli.main(["plan", "--lab", lab, "--format", "json", "-o", str(whole)]) == 0
    assert forks == []
    monkeypatch.setattr(whatif, "HALVES_FROM_STEPS", 0)
    assert cli.main(["plan", "--lab", lab, "--format", "json", "-o", str(halves)]) == 0
    assert len(forks) == 1
    assert halves.read_bytes() == whole.read_bytes()
