"""Plan and journal JSON from anyone: every defect is one exit-2 line naming the file and the field.

Deep nesting, wrong types, booleans for numbers, non-ASCII digits in vmk names,
control characters, duplicate keys, huge files and special files; then the
command-line values apply and discover take (--server, --password-file, --ca-file).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath.apply import load_journal, load_plan, parse_journal, parse_plan
from nbdpath.apply.docfile import MAX_DOCUMENT_BYTES
from nbdpath.cli import main
from nbdpath.errors import InputError
from nbdpath.sources.vcenter import Endpoint

TAG = {"op": "tag-add", "host": "esx01", "vmk": "vmk2", "tag": "vSphereBackupNFC"}
ROUTE = {"op": "route-add", "host": "esx01", "network": "10.40.0.0/24", "gateway": "10.30.0.1"}
SECRET = "s3cr3t-never-shown"


@pytest.fixture(autouse=True)
def state_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


def plan_doc(*ops, **top) -> dict:
    return {"version": 1, "steps": [{"host": op["host"], "op": dict(op), "rollback_ops": []} for op in ops], **top}


def refused(text: str, parse=parse_plan) -> InputError:
    with pytest.raises(InputError) as err:
        parse(text, "p.json")
    assert err.value.file == "p.json"
    return err.value


def cli(args: list[str], capsys) -> tuple[int, str]:
    rc = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


# ---- nesting, numbers, duplicates -------------------------------------------------------------

@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 100_000, '{"version": 1, "steps": ' + "[" * 50_000])
@pytest.mark.parametrize("parse", [parse_plan, parse_journal], ids=["plan", "journal"])
def test_deep_nesting_is_refused_not_a_recursion_error(text, parse):
    assert "nesting too deep" in refused(text, parse).expected


@pytest.mark.parametrize("version, shown", [("1.0", "1.0"), ("true", "true"), ('"1"', '"1"'), ("null", "null"),
                                           ("1e0", "1.0"), ("[1]", "a list")])
def test_version_must_be_the_integer_1(version, shown):
    err = refused('{"version": %s, "steps": []}' % version)
    assert err.location == "version" and f"found {shown})" in err.expected


@pytest.mark.parametrize("text, needle", [
    ('{"version": 1, "version": 1, "steps": []}', "'version' appears twice"),
    ('{"version": 1, "steps": [], "x": NaN}', "not NaN"),
    ('{"version": 1, "steps": [], "x": -Infinity}', "not -Infinity"),
    ('{"version": 1, "steps": [], "x": %s}' % ("9" * 5000), "at most 20 digits"),
])
def test_json_that_python_would_accept_or_crash_on_is_refused(text, needle):
    assert needle in refused(text).expected


def test_a_step_that_says_one_host_and_changes_another_is_refused():
    doc = plan_doc(TAG)
    doc["steps"][0]["host"] = "esx02"
    assert refused(json.dumps(doc)).location == "steps[0].host"


def test_a_rollback_that_is_not_the_steps_inverse_is_refused():
    doc = plan_doc(TAG)
    doc["steps"][0]["rollback_ops"] = [{**TAG, "op": "tag-remove", "vmk": "vmk0", "tag": "management"}]
    err = refused(json.dumps(doc))
    assert err.location == "steps[0].rollback_ops" and "remove vSphereBackupNFC from vmk2" in err.expected


# ---- generated: names and types ---------------------------------------------------------------

UNSAFE = st.sampled_from(["\n", "\r", "\x1b", "\x07", "\x00", "\x7f", "\x9b", "\u2028", "\u202e", "\u2066"])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=8), UNSAFE, st.text(max_size=8), st.sampled_from(["host", "tag", "network", "gateway"]))
def test_control_characters_anywhere_in_an_op_are_refused(before, bad, after, field):
    op = dict(ROUTE if field in ("network", "gateway") else TAG)
    op[field] = f"esx{before}{bad}{after}"
    assert refused(json.dumps(plan_doc(op))).location.startswith("steps[0]")


@settings(max_examples=100, deadline=None)
@given(st.characters(categories=["Nd", "No"]).filter(lambda c: not ("0" <= c <= "9")))
def test_vmk_names_take_ascii_digits_only(digit):
    err = refused(json.dumps(plan_doc({**TAG, "vmk": f"vmk{digit}"})))
    assert err.location == "steps[0].op" and "VMkernel adapter" in err.expected


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
                           lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids, max_size=3),
                           max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["version", "steps", "steps.0", "steps.0.op", "steps.0.op.host", "steps.0.op.vmk",
                        "steps.0.rollback_ops", "steps.0.rules", "steps.0.host"]), JSON_VALUES)
def test_any_value_anywhere_is_accepted_or_refused_by_field_never_a_crash(where, value):
    doc = plan_doc(TAG)
    node, keys = doc, where.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = keys[-1]
    node[int(last) if isinstance(node, list) else last] = value
    try:
        loaded = parse_plan(json.dumps(doc), "p.json")
    except InputError as exc:
        assert exc.location == "" or exc.location.split(".")[0].split("[")[0] in ("version", "steps")
        return
    # Accepted only when the value is one a plan could hold there.
    assert all(isinstance(s.change.host, str) for s in loaded.steps)


@pytest.mark.parametrize("mutate, location", [
    (lambda d: d.update(events=5), "events"),
    (lambda d: d["steps"][0].update(number=True), "steps[0].number"),
    (lambda d: d.update(version=1.0), "version"),
])
def test_journal_types_are_checked_like_the_plans(mutate, location):
    doc = {"version": 2, "kind": "nbdpath-apply-journal", "plan": {"file": "p", "sha256": "0" * 64},
           "server": "vc01", "started": "t", "updated": "t", "state": "completed",
           "steps": [{"number": 1, "op": TAG, "status": "planned", "inverse": [], "note": ""}], "events": []}
    mutate(doc)
    assert refused(json.dumps(doc), parse_journal).location == location


# ---- files: size, kind, encoding ----------------------------------------------------------

def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:  # sparse: costs no disk, and reading it would take seconds
        fh.truncate(MAX_DOCUMENT_BYTES + 1)
    for load in (load_plan, load_journal):
        with pytest.raises(InputError, match="at most 64 MiB"):
            load(str(big))


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_special_files_are_refused_without_waiting(tmp_path, kind):
    path = tmp_path / "special"
    if kind == "fifo":
        os.mkfifo(path)  # nobody ever writes: opening it for reading must not wait
    elif kind == "directory":
        path.mkdir()
    else:
        path = Path("/dev/zero")
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("err", pytest.raises(InputError, load_plan, str(path))),
                              daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), f"reading a {kind} hung"
    assert "a regular file" in str(box["err"].value)


def test_not_utf8_names_the_byte_and_line(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_bytes(b'{"version": 1,\n "steps": ["\xff"]}')
    with pytest.raises(InputError) as err:
        load_plan(str(bad))
    assert (err.value.line, err.value.location, err.value.expected) == (2, "byte 13", "UTF-8 text")


@pytest.mark.parametrize("doc", [
    "[" * 100_000,
    json.dumps(plan_doc({**TAG, "vmk": "vmk²"})),
    json.dumps({"version": True, "steps": []}),
    json.dumps(plan_doc({**TAG, "host": "esx01'$(touch PWNED)'\n"})),
])
def test_cli_bad_plans_are_one_line_naming_the_file(tmp_path, capsys, doc):
    plan = tmp_path / "plan.json"
    plan.write_text(doc)
    rc, err = cli(["apply", str(plan), "--server", "127.0.0.1:9", "--user", "u"], capsys)
    assert rc == 2
    assert err.strip().splitlines() == [err.strip()] and err.startswith(f"nbdpath: error: {plan}: ")


# ---- --server, --password-file, --ca-file ---------------------------------------------------

@pytest.mark.parametrize("server", ["[::1", "", " ", "vc 01", "https://", "http://vc01", "https://vc01/ui",
                                    "vc01?x=1", "vc01:0", "vc01:70000", "vc01:abc", "vc\x1b[2J", "-vc01",
                                    "[vc01]:443", "ftp://vc01"])
@pytest.mark.parametrize("command", ["apply", "discover"])
def test_malformed_servers_name_the_option(tmp_path, capsys, server, command):
    rc, err = cli(_command(command, tmp_path, server), capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("nbdpath: error: --server") and "\x1b" not in err


def test_credentials_in_a_server_are_not_echoed(tmp_path, capsys):
    rc, err = cli(_command("discover", tmp_path, f"admin:{SECRET}@vc01"), capsys)
    assert rc == 2 and "--server" in err and SECRET not in err


@pytest.mark.parametrize("server, label", [("vc01", "vc01"), ("VC01.lab:8443", "vc01.lab:8443"),
                                           ("https://vc01/sdk", "vc01"), ("[::1]:8443", "[::1]:8443"),
                                           ("::1", "[::1]"), ("https://10.0.0.5:443/", "10.0.0.5")])
def test_well_formed_servers_keep_working_and_their_labels_parse_again(server, label):
    assert Endpoint.parse(server).label == label
    assert Endpoint.parse(label).label == label  # a journal records the label; a rollback parses it


@pytest.mark.parametrize("content, needle", [(b"\xff\xfe" + SECRET.encode("utf-16-le"), "UTF-8"),
                                             (b"", "password on the first line"),
                                             (b"pw\x1b[2J\n", "control characters")])
@pytest.mark.parametrize("command", ["apply", "discover"])
def test_bad_password_files_name_the_file_and_quote_none_of_it(tmp_path, capsys, content, needle, command):
    pw = tmp_path / "pw"
    pw.write_bytes(content)
    rc, err = cli(_command(command, tmp_path, "127.0.0.1:9", "--password-file", str(pw)), capsys)
    assert rc == 2 and err.strip().splitlines() == [err.strip()]
    assert f"{pw}: line 1" in err and needle in err
    assert SECRET not in err and "\x1b" not in err


@pytest.mark.parametrize("kind", ["not-pem", "missing", "directory", "device", "key-only"])
@pytest.mark.parametrize("command", ["apply", "discover"])
def test_bad_ca_files_name_the_file(tmp_path, capsys, kind, command):
    ca = {"missing": tmp_path / "nope.pem", "directory": tmp_path, "device": Path("/dev/zero")}.get(kind, tmp_path / "ca.pem")
    if kind == "not-pem":
        ca.write_text("just some text\n")
    elif kind == "key-only":
        ca.write_text("-----BEGIN PRIVATE KEY-----\nMAo=\n-----END PRIVATE KEY-----\n")
    rc, err = cli(_command(command, tmp_path, "127.0.0.1:9", "--ca-file", str(ca)), capsys)
    assert rc == 2 and err.strip().splitlines() == [err.strip()], err
    assert err.startswith(f"nbdpath: error: {ca}: ") and "--ca-file" in err


def _command(command: str, tmp_path: Path, server: str, *extra: str) -> list[str]:
    os.environ.setdefault("NBDPATH_PASSWORD", "")
    pw = tmp_path / "good-pw"
    pw.write_text(SECRET + "\n")
    options = ["--server", server, "--user", "u", "--password-file", str(pw), *extra]
    if command == "apply":
        plan = tmp_path / "plan.json"
        plan.write_text(json.dumps(plan_doc(TAG)))
        return ["apply", str(plan), *options]
    return ["discover", *options, "-o", str(tmp_path / "out.json")]


def test_a_password_pipe_is_waited_for_and_a_fifo_nobody_writes_is_not(tmp_path, capsys):
    """`--password-file <(pass show vc01)` works even when the writer is slow; an idle FIFO ends at once."""
    read_end, write_end = os.pipe()
    writer = threading.Timer(0.5, lambda: (os.write(write_end, SECRET.encode() + b"\n"), os.close(write_end)))
    writer.start()
    try:
        rc, err = cli(_command("discover", tmp_path, "127.0.0.1:9", "--password-file", f"/proc/self/fd/{read_end}"),
                      capsys)
    finally:
        writer.join()
        os.close(read_end)
    assert rc == 2 and "127.0.0.1:9: connection refused" in err and SECRET not in err  # the password was read
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("out", cli(_command("discover", tmp_path, "127.0.0.1:9",
                                                                                 "--password-file", str(fifo)), capsys)),
                              daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "a FIFO with no writer made discover wait"
    rc, err = box["out"]
    assert rc == 2 and f"{fifo}: line 1: the password on the first line" in err
