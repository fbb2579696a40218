"""`apply --rollback JOURNAL` trusts nothing it did not write.

A rollback undoes only steps the journal records as made, each only with the
inverse derived from its own op; the journal is sealed (HMAC-SHA256 under a
per-user key), so any edit is refused before a connection is opened, naming
the field. The issue's example (an undo step that strips esx02's vmk0 of its
management tag) is tried here in memory, and against vcsim in
tests/apply/test_apply_vcsim.py (test_rollback_of_a_hostile_journal_changes_nothing_live).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbdpath import labs
from nbdpath.apply import Journal, JournalFile, SnapshotLive, execute, load_journal, parse_journal, undo
from nbdpath.apply import seal as seal_mod
from nbdpath.apply.journal import Entry
from nbdpath.apply.planfile import PlanFile, PlannedStep
from nbdpath.cli import main
from nbdpath.errors import InputError
from nbdpath.plan import changes as ch

ROUTED = labs.load("veeam-tag-routed")
E1, E2 = "esx01.lab.local", "esx02.lab.local"
ADD = ch.RouteAdd(E1, "10.40.0.0/24", "10.30.0.1")
# The example: an undo that takes the management tag off another host's vmk0.
HOSTILE_UNDO = {"op": "tag-remove", "host": E2, "vmk": "vmk0", "tag": "management"}


@pytest.fixture(autouse=True)
def state_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


class Recording(SnapshotLive):
    def __init__(self, snap):
        super().__init__(snap)
        self.made: list[ch.Change] = []

    def perform(self, change):
        self.made.append(change)
        super().perform(change)


def written_journal(tmp_path, changes=(ADD,)) -> tuple[Path, Recording]:
    """A journal as `apply --execute` leaves it after a completed run, and the live estate it changed."""
    live = Recording(ROUTED)
    path = tmp_path / "j.json"
    plan = PlanFile("plan.json", "0" * 64, tuple(PlannedStep(i + 1, c, ()) for i, c in enumerate(changes)))
    result = execute(plan, live, JournalFile(str(path), Journal("plan.json", "0" * 64, "vc01", "t0")))
    assert result.state == "completed"
    live.made.clear()
    return path, live


def edit(path: Path, change, reseal: bool = False) -> None:
    data = json.loads(path.read_text())
    change(data)
    if reseal:  # as if written by nbdpath itself (a bug), or by someone holding this user's key
        data = seal_mod.seal({k: v for k, v in data.items() if k != "seal"}, seal_mod.load_key())
    path.write_text(json.dumps(data, indent=2))


def refusal(path: Path) -> InputError:
    with pytest.raises(InputError) as err:
        load_journal(str(path))
    return err.value


# ---- the example, in memory ------------------------------------------------------------

@pytest.mark.parametrize("reseal", [False, True], ids=["edited", "edited-and-resealed"])
def test_an_undo_aimed_at_another_host_is_refused_naming_the_step(tmp_path, reseal):
    path, _ = written_journal(tmp_path)
    edit(path, lambda d: d["steps"][0].update(inverse=[HOSTILE_UNDO]), reseal)
    err = refusal(path)
    assert err.location == "steps[0].inverse"
    assert "step 1's own undo" in err.expected and "remove route 10.40.0.0/24" in err.expected
    assert E2 in err.expected  # what was found is named too


def test_a_changed_op_is_caught_by_the_seal(tmp_path):
    """Make the step itself 'tag-add management on esx02' (with a matching inverse): only the seal can tell."""
    path, _ = written_journal(tmp_path)

    def retarget(d):
        d["steps"][0]["op"] = {**HOSTILE_UNDO, "op": "tag-add"}
        d["steps"][0]["inverse"] = [HOSTILE_UNDO]

    edit(path, retarget)
    assert refusal(path).location == "seal.mac"


def test_the_runner_derives_the_undo_from_the_op_whatever_the_entry_says(tmp_path):
    """Even a journal built in memory with a foreign inverse undoes only the step's own op."""
    live = Recording(ch.apply(ROUTED, ADD))
    foreign = ch.TagRemove(E2, "vmk0", "management")
    j = JournalFile(str(tmp_path / "j.json"), Journal("plan.json", "0" * 64, "vc01", "t0", entries=(
        Entry(1, ADD, "done", (foreign,)),)))
    result = undo(j, live)
    assert result.state == "rolled-back"
    assert live.made == [ch.RouteRemove(E1, "10.40.0.0/24", "10.30.0.1")]
    assert live.state == ROUTED


# ---- every other way a journal can lie ------------------------------------------------------

@pytest.mark.parametrize("mutate, location", [
    (lambda d: d["steps"][0].update(status="planned", inverse=[HOSTILE_UNDO]), "steps[0].inverse"),
    (lambda d: d["steps"][0].update(inverse=[]), "steps[0].inverse"),  # a done step that claims no undo
    (lambda d: d["steps"].append({**d["steps"][0]}), "steps[1].number"),  # the same step twice
    (lambda d: d["steps"][0].update(number=True), "steps[0].number"),
    (lambda d: d["steps"][0].update(number=1.0), "steps[0].number"),
    (lambda d: d["steps"][0].update(number=0), "steps[0].number"),
    (lambda d: d.update(version=True), "version"),
    (lambda d: d.update(version=2.0), "version"),
    (lambda d: d.update(events=5), "events"),
    (lambda d: d.update(events=[{"at": "t", "message": 5}]), "events[0].message"),
    (lambda d: d.update(events=[{"at": "t", "message": "m", "run": "rm -rf /"}]), "events[0].run"),
    (lambda d: d.update(plan=[]), "plan"),
    (lambda d: d["plan"].update(sha256="x"), "plan.sha256"),
    (lambda d: d.update(server="vc01\n"), "server"),
    (lambda d: d.update(server="[::1"), "server"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d["steps"][0].update(undo=[HOSTILE_UNDO]), "steps[0].undo"),
    (lambda d: d["steps"][0].update(op={"op": "tag-add", "host": E1, "vmk": "vmk²"}), "steps[0].op"),
    (lambda d: d["steps"][0].update(note="ok\x1b]0;owned\x07"), "steps[0].note"),
    (lambda d: d["steps"][0].update(removed={"device": "vmk2;reboot", "portgroup": "pg"}), "steps[0].removed.device"),
    (lambda d: d.pop("seal"), "seal"),
    (lambda d: d["seal"].update(key="0" * 16), "seal.key"),
    (lambda d: d["seal"].update(mac="é"), "seal.mac"),
    (lambda d: d.update(state="completed " * 2), "state"),
    (lambda d: d.update(started="later"), "seal.mac"),
])
def test_every_lie_is_refused_with_its_field(tmp_path, mutate, location):
    path, _ = written_journal(tmp_path)
    edit(path, mutate)
    err = refusal(path)
    assert (err.file, err.location) == (str(path), location)


def test_a_format_1_journal_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"version": 1, "kind": "nbdpath-apply-journal", "plan": {}, "server": "vc01",
                                "started": "t", "state": "completed", "steps": []}))
    err = refusal(path)
    assert err.location == "version" and "no seal" in err.expected and "by hand" in err.expected


@st.composite
def one_edit(draw, doc):
    """A path to one leaf of ``doc`` and a different JSON value for it."""
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])
        else:
            paths.append(path)

    walk(doc, [])
    path = draw(st.sampled_from(paths))
    value = draw(st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6), st.text(max_size=12),
                           st.sampled_from(["esx02.lab.local", "vmk0", "management", "tag-remove", "done", "vc02"])))
    return path, value


def test_any_single_edit_of_a_sealed_journal_is_refused(tmp_path):
    path, _ = written_journal(tmp_path, (ADD, ch.TagAdd(E1, "vmk0")))
    original = json.loads(path.read_text())

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(one_edit(original))
    def check(edit_):
        where, value = edit_
        data = json.loads(json.dumps(original))
        node = data
        for k in where[:-1]:
            node = node[k]
        if node[where[-1]] == value and type(node[where[-1]]) is type(value):
            return  # not an edit
        node[where[-1]] = value
        with pytest.raises(InputError):
            parse_journal(json.dumps(data), "j.json")

    check()


# ---- the key ---------------------------------------------------------------------------------

def test_the_key_is_private_and_a_journal_of_another_key_is_refused(tmp_path, state_home, monkeypatch):
    path, _ = written_journal(tmp_path)
    key_file = seal_mod.key_path()
    assert key_file.is_relative_to(state_home)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_journal(str(path)).state == "completed"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "other-user"))
    err = refusal(path)  # no key at all here
    assert err.file == str(seal_mod.key_path()) and "no journal was written by this user here" in err.expected
    seal_mod.load_key(create=True)
    assert refusal(path).location == "seal.key"


@pytest.mark.parametrize("spoil", ["world-readable", "symlink", "garbage"])
def test_a_spoiled_key_file_is_refused_naming_it(tmp_path, spoil):
    path, _ = written_journal(tmp_path)
    key_file = seal_mod.key_path()
    if spoil == "world-readable":
        key_file.chmod(0o644)
    elif spoil == "symlink":
        target = tmp_path / "elsewhere.key"
        target.write_bytes(key_file.read_bytes())
        target.chmod(0o600)
        key_file.unlink()
        os.symlink(target, key_file)
    else:
        key_file.write_text("not a key\n")
    err = refusal(path)
    assert err.file == str(key_file)


def test_a_run_cannot_start_when_no_key_can_be_made(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "state-is-a-file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocked))
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"version": 1, "steps": []}))
    pw = tmp_path / "pw"
    pw.write_text("pw\n")
    rc = main(["apply", str(plan), "--execute", "--yes", "--journal", str(tmp_path / "j.json"),
               "--server", "127.0.0.1:9", "--user", "u", "--password-file", str(pw)])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "journal.key" in err
    assert not (tmp_path / "j.json").exists()
