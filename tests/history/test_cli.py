"""`nbdpath history` as a cron job runs it: exit codes, drift naming cause and effect, json, prometheus."""

import json
import os
import re
import sqlite3

import pytest

from nbdpath.cli import main
from nbdpath.history.store import SCHEMA_VERSION


def nbd(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def db(tmp_path, snapshots, capsys):
    """Run 1: the lab as shipped; run 2: with the route."""
    path = str(tmp_path / "h.sqlite")
    before, after = snapshots
    assert nbd(capsys, "history", "record", before, "--db", path, "--at", "2026-11-30T02:00:00Z")[0] == 0
    assert nbd(capsys, "history", "record", after, "--db", path, "--at", "2026-12-01T02:00:00+00:00",
               "--source", "nightly")[0] == 0
    return path


def test_drift_names_the_route_and_the_path_it_isolated(db, capsys):
    rc, out, err = nbd(capsys, "history", "drift", "--db", db)
    assert rc == 0, err
    assert "route 10.40.0.0/24 via 10.30.0.1 added to defaultTcpipStack" in out
    assert re.search(r"vbr-proxy02: NOT_ISOLATED egress vmk0 .* -> ISOLATED egress vmk2", out)
    assert "finding resolved: NBD005" in out


def test_reverse_drift_is_worse_and_exits_1(db, capsys):
    rc, out, _ = nbd(capsys, "history", "drift", "2", "1", "--db", db)
    assert rc == 1
    assert "route 10.40.0.0/24 via 10.30.0.1 removed from defaultTcpipStack" in out
    assert "(worse)" in out and "result: worse" in out


def test_drift_json_shape(db, capsys):
    rc, out, _ = nbd(capsys, "history", "drift", "2", "1", "--db", db, "--format", "json")
    doc = json.loads(out)
    assert rc == 1
    assert (doc["version"], doc["kind"], doc["worse"]) == (1, "history-drift", True)
    assert (doc["from"]["id"], doc["to"]["id"]) == (2, 1)
    assert [(c["host"], c["kind"]) for c in doc["config"]] == [("esx01.lab.local", "route-removed")]
    [p] = doc["paths"]
    assert (p["node"], p["before"]["verdict"], p["after"]["verdict"], p["worse"]) == \
        ("vbr-proxy02", "ISOLATED", "NOT_ISOLATED", True)
    assert {f["finding"]["rule"] for f in doc["findings"] if f["status"] == "new"} >= {"NBD005"}


PROM_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? -?[0-9.e+]+$')


def _parse_prometheus(text):
    samples = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        assert PROM_LINE.match(line), line
        key, _, value = line.rpartition(" ")
        samples[key] = float(value)
    return samples


def test_show_prometheus_textfile_parses_and_counts(db, capsys, tmp_path):
    out_file = tmp_path / "nbdpath.prom"
    rc, out, _ = nbd(capsys, "history", "show", "1", "--db", db, "--format", "prometheus", "-o", str(out_file))
    assert rc == 0 and out == ""
    samples = _parse_prometheus(out_file.read_text())
    assert samples['nbdpath_pairs{verdict="ISOLATED",cluster="prod"}'] == 1
    assert samples['nbdpath_pairs{verdict="NOT_ISOLATED",cluster="prod"}'] == 1
    assert samples['nbdpath_findings{rule="NBD005",severity="warning",cluster="prod"}'] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".nbdpath.prom")] == []  # no temp left


def test_drift_prometheus_has_worse_flag(db, capsys):
    rc, out, _ = nbd(capsys, "history", "drift", "2", "1", "--db", db, "--format", "prometheus")
    samples = _parse_prometheus(out)
    assert rc == 1 and samples["nbdpath_drift_worse"] == 1
    assert samples['nbdpath_drift_changes{kind="config"}'] == 1


def test_list_and_show(db, capsys):
    rc, out, _ = nbd(capsys, "history", "list", "--db", db, "--format", "json")
    runs = json.loads(out)["runs"]
    assert rc == 0 and [r["id"] for r in runs] == [1, 2]
    assert runs[1]["source"] == "nightly" and runs[1]["verdicts"] == {"ISOLATED": 2}
    assert runs[0]["findings"] == {"warning": 2} and runs[0]["pairs"] == 2
    rc, out, _ = nbd(capsys, "history", "list", "--db", db)
    assert rc == 0 and "nightly" in out and "NOT_ISOLATED=1" in out
    rc, out, _ = nbd(capsys, "history", "show", "2", "--db", db)
    assert rc == 0 and "hosts 2, pairs 2" in out


def _one_error_line(rc, out, err, *needles):
    assert rc == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nbdpath: error: "), err
    for n in needles:
        assert n in lines[0]
    assert "Traceback" not in err


def test_unknown_run_is_exit_2(db, capsys):
    _one_error_line(*nbd(capsys, "history", "show", "99", "--db", db), "no run 99")
    _one_error_line(*nbd(capsys, "history", "drift", "1", "99", "--db", db), "no run 99")
    for bad in ("0", "99999999999999999999999", "last"):
        _one_error_line(*nbd(capsys, "history", "show", bad, "--db", db), "RUN")


def test_control_characters_in_source_are_escaped(tmp_path, snapshots, capsys):
    path = str(tmp_path / "h.sqlite")
    nbd(capsys, "history", "record", snapshots[0], "--db", path, "--source", "a\x1b[31mb")
    rc, out, _ = nbd(capsys, "history", "list", "--db", path)
    assert rc == 0 and "\x1b" not in out


@pytest.mark.parametrize("make", ["text", "directory", "missing", "future", "tables-dropped"])
def test_bad_database_is_one_line_naming_it(tmp_path, capsys, make):
    path = tmp_path / "h.sqlite"
    if make == "text":
        path.write_bytes(b"\x00garbage, not SQLite\n" * 40)
    elif make == "directory":
        path.mkdir()
    elif make == "future":
        con = sqlite3.connect(path)
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
        con.close()
    elif make == "tables-dropped":  # a current version number over a database someone emptied
        con = sqlite3.connect(path)
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.close()
    _one_error_line(*nbd(capsys, "history", "list", "--db", str(path)), str(path))


def test_record_into_a_non_database_changes_nothing(tmp_path, snapshots, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n" * 100)
    _one_error_line(*nbd(capsys, "history", "record", snapshots[0], "--db", str(path)), str(path))
    assert path.read_text() == "my notes\n" * 100


def test_bad_at_and_bad_snapshot_are_exit_2(tmp_path, snapshots, capsys):
    path = str(tmp_path / "h.sqlite")
    _one_error_line(*nbd(capsys, "history", "record", snapshots[0], "--db", path, "--at", "yesterday"), "--at")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    _one_error_line(*nbd(capsys, "history", "record", str(bad), "--db", path), str(bad))
    assert not os.path.exists(path)  # the snapshot is read before the database is touched


def test_drift_needs_two_runs(tmp_path, snapshots, capsys):
    path = str(tmp_path / "h.sqlite")
    nbd(capsys, "history", "record", snapshots[0], "--db", path)
    _one_error_line(*nbd(capsys, "history", "drift", "--db", path), "two runs")


def test_unchanged_night_is_not_worse(tmp_path, snapshots, capsys):
    path = str(tmp_path / "h.sqlite")
    for at in ("2026-11-30T02:00:00Z", "2026-12-01T02:00:00Z"):
        nbd(capsys, "history", "record", snapshots[0], "--db", path, "--at", at)
    rc, out, _ = nbd(capsys, "history", "drift", "--db", path)
    assert rc == 0 and "no changes" in out
