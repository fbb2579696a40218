"""Plans are validated on load: every defect names the file and the field path."""

from __future__ import annotations

import json

import pytest

from nbdpath import labs
from nbdpath.apply import load_plan, parse_plan
from nbdpath.errors import InputError
from nbdpath.plan import changes as ch
from nbdpath.plan import plan as plan_mod


def plan_text(steps, version=1) -> str:
    return json.dumps({"version": version, "steps": steps})


def step(op, rollback=()):
    return {"host": op.get("host"), "op": op, "rollback_ops": list(rollback)}


TAG = {"op": "tag-add", "host": "esx01", "vmk": "vmk2", "tag": "vSphereBackupNFC"}


def test_a_real_plan_round_trips_into_changes():
    built = plan_mod.build(labs.load("mixed-estate"))
    loaded = parse_plan(json.dumps(built.to_dict()), "plan.json")
    assert [s.change for s in loaded.steps] == [s.change for s in built.steps]
    assert [s.rollback for s in loaded.steps] == [s.rollback for s in built.steps]
    assert [s.number for s in loaded.steps] == list(range(1, len(built.steps) + 1))
    assert loaded.hosts == tuple(dict.fromkeys(s.change.host for s in built.steps))


@pytest.mark.parametrize("text, location, expected", [
    ("{not json", "column 2", "JSON plan"),
    ("[]", "", "JSON object"),
    (plan_text([], version=2), "version", "version 1"),
    (json.dumps({"version": 1}), "steps", "list of steps"),
    (plan_text(["x"]), "steps[0]", "object"),
    (plan_text([{"op": None}]), "steps[0].op", "op object"),
    (plan_text([step({**TAG, "op": "vmk-rename"})]), "steps[0].op.op", "one of tag-add"),
    (plan_text([step({"op": "tag-add", "host": "esx01"})]), "steps[0].op.vmk", "non-empty string"),
    (plan_text([step({"op": "route-add", "host": "esx01", "network": "10.40.0.0/24"})]), "steps[0].op.gateway",
     "required for route-add"),
    (plan_text([step({**TAG, "vlan": 3})]), "steps[0].op.vlan", "no such field"),
    (plan_text([step({**TAG, "vmk": "eth0"})]), "steps[0].op", "VMkernel adapter"),
    (plan_text([step({**TAG, "tag": "coffee"})]), "steps[0].op", "unknown service tag"),
    (plan_text([step({"op": "route-add", "host": "h", "network": "10.40.0.0/33", "gateway": "10.30.0.1"})]),
     "steps[0].op", "route 10.40.0.0/33"),
    (plan_text([step(TAG), step(TAG, rollback=[{**TAG, "op": "tag-remove", "host": "other"}])]),
     "steps[1].rollback_ops[0].host", "the step's own host"),
    (plan_text([{"op": TAG, "rollback_ops": "undo it"}]), "steps[0].rollback_ops", "list of ops"),
])
def test_bad_plans_name_file_and_field(text, location, expected):
    with pytest.raises(InputError) as err:
        parse_plan(text, "plan.json")
    assert err.value.file == "plan.json"
    assert err.value.location == location
    assert expected in err.value.expected


def test_json_syntax_error_carries_the_line():
    with pytest.raises(InputError) as err:
        parse_plan('{\n  "version": 1,\n  "steps": [,]\n}', "p.json")
    assert err.value.line == 3


def test_defaults_are_filled_like_the_plan_writes_them():
    loaded = parse_plan(plan_text([step({"op": "route-add", "host": "h", "network": "10.40.0.0/24",
                                         "gateway": "10.30.0.1"})]), "p")
    assert loaded.steps[0].change == ch.RouteAdd("h", "10.40.0.0/24", "10.30.0.1", "defaultTcpipStack")


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="existing plan file"):
        load_plan(str(tmp_path / "nope.json"))
    bad = tmp_path / "bin.json"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="UTF-8"):
        load_plan(str(bad))


def test_cli_stops_on_a_bad_plan_before_connecting(tmp_path, capsys):
    from nbdpath.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text(plan_text([step({"op": "tag-add", "host": "esx01"})]))
    # Port 9 on loopback answers nothing: reaching it would be a different error.
    rc = main(["apply", str(bad), "--server", "127.0.0.1:9", "--user", "u"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip().splitlines() == [f"nbdpath: error: {bad}: steps[0].op.vmk: a non-empty string (required for tag-add)"]


@pytest.mark.parametrize("args, message", [
    ([], "give a PLAN file to apply or --rollback JOURNAL"),
    (["p.json", "--rollback", "j.json"], "not both or neither"),
    (["p.json", "--yes"], "--yes only confirms --execute"),
])
def test_cli_usage_errors(args, message, capsys):
    from nbdpath.cli import main

    assert main(["apply", *args, "--server", "127.0.0.1:9", "--user", "u"]) == 2
    assert message in capsys.readouterr().err


def test_an_op_that_is_not_a_string_is_one_line_not_a_traceback(tmp_path):
    """Found by the mypy pass: {"op": []} crashed with an unhashable-type TypeError."""
    import json

    from nbdpath.apply.planfile import parse_plan
    from nbdpath.errors import InputError

    for bad in ([], {}, 3, None):
        text = json.dumps({"version": 1, "steps": [{"op": {"op": bad, "host": "esx01"}}]})
        with pytest.raises(InputError) as exc:
            parse_plan(text, "plan.json")
        assert "steps[0].op.op" in str(exc.value) and "one of tag-add" in str(exc.value)
