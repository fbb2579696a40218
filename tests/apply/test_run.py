"""The runner over an in-memory estate: journal first, confirm, roll back on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbdpath import labs
from nbdpath.apply import (
    Journal,
    JournalFile,
    LiveError,
    SnapshotLive,
    execute,
    load_journal,
    undo,
)
from nbdpath.apply.journal import Entry
from nbdpath.apply.planfile import PlanFile, PlannedStep
from nbdpath.apply.run import run_order
from nbdpath.plan import changes as ch

ROUTED = labs.load("veeam-tag-routed")
E1, E2 = "esx01.lab.local", "esx02.lab.local"


def plan(*changes) -> PlanFile:
    return PlanFile("plan.json", "0" * 64, tuple(PlannedStep(i + 1, c, ()) for i, c in enumerate(changes)))


def journal(tmp_path) -> JournalFile:
    return JournalFile(str(tmp_path / "j.json"), Journal("plan.json", "0" * 64, "vc", "t0"))


class Recording(SnapshotLive):
    """Records every change made and the journal as it was on disk at that moment."""

    def __init__(self, snap, journal_path=None, fail_on=None, ignore=None):
        super().__init__(snap)
        self.made, self.journal_at_change = [], []
        self.journal_path, self.fail_on, self.ignore = journal_path, fail_on, ignore

    def perform(self, change):
        if self.journal_path:
            self.journal_at_change.append(json.loads(Path(self.journal_path).read_text()))
        if change == self.fail_on:
            raise LiveError("host refused it")
        self.made.append(change)
        if change != self.ignore:  # the host says yes but nothing changes
            super().perform(change)


ADD = ch.RouteAdd(E1, "10.40.0.0/24", "10.30.0.1")
TAG0 = ch.TagAdd(E1, "vmk0")
UNTAG2 = ch.TagRemove(E2, "vmk2")


def test_success_applies_in_order_and_journals_each_inverse_before_the_change(tmp_path):
    j = journal(tmp_path)
    live = Recording(ROUTED, j.path)
    result = execute(plan(ADD, TAG0), live, j)
    assert result.state == "completed" and result.ok
    assert live.made == [ADD, TAG0]
    assert live.state == ch.apply_all(ROUTED, [ADD, TAG0])
    # At each change the file on disk already named it, its inverse, and status intended.
    first, second = live.journal_at_change
    assert first["steps"][0]["status"] == "intended"
    assert first["steps"][0]["inverse"] == [ch.RouteRemove(E1, "10.40.0.0/24", "10.30.0.1").to_dict()]
    assert second["steps"][0]["status"] == "done" and second["steps"][1]["status"] == "intended"
    assert load_journal(j.path).state == "completed"


def test_a_failing_step_rolls_back_every_earlier_one(tmp_path):
    j = journal(tmp_path)
    live = Recording(ROUTED, j.path, fail_on=UNTAG2)
    result = execute(plan(ADD, TAG0, UNTAG2), live, j)
    assert result.state == "rolled-back" and not result.ok
    assert live.state == ROUTED  # exactly as before
    assert [r.result for r in result.steps] == ["rolled back", "rolled back", "failed"]
    assert "step 3" in result.message and "rolled back" in result.message
    saved = load_journal(j.path)
    assert saved.state == "rolled-back"
    assert [e.status for e in saved.entries] == ["rolled-back", "rolled-back", "rolled-back"]


def test_a_change_not_visible_afterwards_counts_as_a_failure(tmp_path):
    live = Recording(ROUTED, ignore=TAG0)
    result = execute(plan(ADD, TAG0), live, journal(tmp_path))
    assert result.state == "rolled-back"
    assert "not visible" in result.message
    assert live.state == ROUTED


def test_blocked_plan_is_refused_without_touching_anything_or_writing_a_journal(tmp_path):
    j = journal(tmp_path)
    live = Recording(ROUTED)
    result = execute(plan(ADD, ch.TagAdd(E1, "vmk7")), live, j)
    assert result.state == "refused" and "step 2 is blocked" in result.message
    assert live.made == [] and j.writes == 0


def test_host_vanishing_mid_run_rolls_back(tmp_path):
    live = Recording(ROUTED)

    def vanish(number, change):
        if number == 2:
            live.state = live.state.model_copy(update={"hosts": (live.state.hosts[0],)})

    result = execute(plan(ADD, UNTAG2), live, journal(tmp_path), before_step=vanish)
    assert result.state == "rolled-back"
    assert "esx02.lab.local not found" in result.message
    assert live.state.hosts == (ROUTED.hosts[0],)  # esx01 as before; esx02 is gone, not changed


def test_already_done_steps_are_skipped_and_rerun_changes_nothing(tmp_path):
    live = Recording(ROUTED)
    execute(plan(ADD, TAG0), live, journal(tmp_path))
    live.made.clear()
    j2 = JournalFile(str(tmp_path / "j2.json"), Journal("plan.json", "0" * 64, "vc", "t0"))
    result = execute(plan(ADD, TAG0), live, j2)
    assert result.state == "completed"
    assert live.made == [] and [r.result for r in result.steps] == ["skipped", "skipped"]


def test_undo_from_the_journal_restores_and_is_idempotent(tmp_path):
    j = journal(tmp_path)
    live = Recording(ROUTED)
    execute(plan(ADD, TAG0, UNTAG2), live, j)
    assert live.state != ROUTED
    again = JournalFile(j.path, load_journal(j.path))
    result = undo(again, live)
    assert result.state == "rolled-back" and live.state == ROUTED
    assert [r.number for r in result.steps] == [1, 2, 3]
    live.made.clear()
    assert undo(JournalFile(j.path, load_journal(j.path)), live).state == "nothing to undo"
    assert live.made == []


def test_irreversible_steps_run_last_and_are_kept_on_rollback(tmp_path):
    rm = ch.VmkRemove(E2, "vmk2")
    steps = plan(rm, ADD).steps
    assert [s.change for s in run_order(steps)] == [ADD, rm]
    j = journal(tmp_path)
    live = Recording(ROUTED)
    result = execute(plan(rm, ADD), live, j, allow_irreversible=True)
    assert result.state == "completed" and live.made == [ADD, rm]
    entry = load_journal(j.path).entry(1)
    assert entry.removed["ipv4"] == "10.30.0.12/24" and entry.inverse == ()
    back = undo(JournalFile(j.path, load_journal(j.path)), live)
    assert back.state == "rollback-incomplete" and "cannot be undone" in back.message
    assert [r.result for r in back.steps] == ["kept (irreversible)", "rolled back"]


def test_journal_has_exactly_the_documented_top_level_fields(tmp_path):
    j = journal(tmp_path)
    execute(plan(ADD), Recording(ROUTED), j)
    assert set(json.loads(Path(j.path).read_text())) == {"version", "kind", "plan", "server", "started", "updated",
                                                    "state", "steps", "events", "seal"}


@pytest.mark.parametrize("mutate, location", [
    (lambda d: d.update(kind="other"), "kind"),
    (lambda d: d.update(version=9), "version"),
    (lambda d: d.update(state="exploded"), "state"),
    (lambda d: d["steps"][0].update(status="maybe"), "steps[0].status"),
    (lambda d: d["steps"][0]["op"].pop("vmk"), "steps[0].op.vmk"),
    (lambda d: d["steps"][0].update(inverse=[{"op": "fly"}]), "steps[0].inverse[0].op"),
])
def test_bad_journals_are_input_errors(tmp_path, mutate, location):
    from nbdpath.apply import parse_journal
    from nbdpath.errors import InputError

    j = journal(tmp_path)
    execute(plan(TAG0), Recording(ROUTED), j)
    data = json.loads(Path(j.path).read_text())
    mutate(data)
    with pytest.raises(InputError) as err:
        parse_journal(json.dumps(data), "j.json")
    assert err.value.location == location


def test_an_interrupt_mid_run_is_rolled_back_too(tmp_path):
    live = Recording(ROUTED)

    def interrupt(number, change):
        if number == 2:
            raise KeyboardInterrupt()

    result = execute(plan(ADD, TAG0), live, journal(tmp_path), before_step=interrupt)
    assert result.state == "rolled-back" and "KeyboardInterrupt" in result.message
    assert live.state == ROUTED


def test_an_unwritable_journal_refuses_before_any_change(tmp_path):
    live = Recording(ROUTED)
    j = JournalFile(str(tmp_path / "no-such-dir" / "j.json"), Journal("plan.json", "0" * 64, "vc", "t0"))
    result = execute(plan(ADD), live, j)
    assert result.state == "refused" and "cannot write the journal" in result.message
    assert live.made == []


def test_json_results_are_versioned_objects_with_pinned_fields(tmp_path):
    from nbdpath.apply import preflight, render

    live = Recording(ROUTED)
    p = plan(ADD, ch.TagAdd(E1, "vmk7"))
    dry = render.dry_run_dict("plan.json", "vc", preflight(p, live))
    assert (dry["version"], dry["kind"]) == (1, "apply-dry-run")
    assert set(dry) == {"version", "kind", "plan", "server", "steps", "counts"}
    assert set(dry["steps"][0]) == {"number", "host", "change", "op", "status", "reason", "rollback_ops", "rollback"}
    assert dry["counts"] == {"pending": 1, "already done": 0, "blocked": 1}
    assert dry["steps"][0]["rollback_ops"] == [ch.RouteRemove(E1, "10.40.0.0/24", "10.30.0.1").to_dict()]
    done = render.result_dict("apply", execute(plan(ADD), live, journal(tmp_path)), "j.json")
    assert set(done) == {"version", "kind", "state", "ok", "message", "journal", "steps"}
    assert (done["version"], done["state"], done["ok"]) == (1, "completed", True)
    assert set(done["steps"][0]) == {"number", "host", "change", "op", "result", "note"}


def test_rollback_of_a_run_killed_mid_step_undoes_the_intended_step_too(tmp_path):
    """The process died after the host made step 2 but before the journal said done."""
    live = Recording(ch.apply_all(ROUTED, [ADD, TAG0]))
    j = JournalFile(str(tmp_path / "j.json"), Journal("plan.json", "0" * 64, "vc", "t0", entries=(
        Entry(1, ADD, "done", (ch.RouteRemove(E1, "10.40.0.0/24", "10.30.0.1"),)),
        Entry(2, TAG0, "intended", (ch.TagRemove(E1, "vmk0"),)),
        Entry(3, UNTAG2, "planned"),
    )))
    j.save(j.journal)
    assert load_journal(j.path).state == "running"
    result = undo(JournalFile(j.path, load_journal(j.path)), live)
    assert result.state == "rolled-back" and live.state == ROUTED
    assert [e.status for e in load_journal(j.path).entries] == ["rolled-back", "rolled-back", "planned"]
