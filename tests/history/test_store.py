"""The history database: dedup, round trip, migrations, refusing what it cannot read."""

import os
import sqlite3

import pytest

from nbdpath import labs
from nbdpath.commands.history import record_snapshot
from nbdpath.errors import InputError
from nbdpath.history import store as store_mod
from nbdpath.history.store import SCHEMA_VERSION, Store
from nbdpath.model import Snapshot

from .conftest import lab_doc, routed_doc

# The schema as version 1 wrote it, copied here on purpose: a later edit of MIGRATIONS[0]
# must not make this test pass against a file no released nbdpath wrote.
V1_DDL = """
CREATE TABLE blobs (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE runs (id INTEGER PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL,
                   name TEXT NOT NULL, top BLOB NOT NULL, summary TEXT NOT NULL);
CREATE TABLE run_hosts (run INTEGER NOT NULL, pos INTEGER NOT NULL, host TEXT NOT NULL,
                        cluster TEXT, part BLOB NOT NULL, result BLOB NOT NULL,
                        PRIMARY KEY (run, pos)) WITHOUT ROWID;
PRAGMA user_version = 1;
"""


def _record(store, doc, at="2026-12-01T02:00:00Z"):
    return record_snapshot(store, Snapshot.model_validate(doc), "test", at)


def test_same_snapshot_twice_adds_no_blobs(tmp_path):
    with Store(tmp_path / "h.sqlite", create=True) as s:
        _record(s, lab_doc())
        blobs = s.blob_count()
        _record(s, lab_doc(), at="2026-12-02T02:00:00Z")
        assert s.blob_count() == blobs
        assert len(s.runs()) == 2


def test_a_changed_host_adds_only_its_own_blobs(tmp_path):
    with Store(tmp_path / "h.sqlite", create=True) as s:
        _record(s, lab_doc())
        blobs = s.blob_count()
        _record(s, routed_doc(), at="2026-12-02T02:00:00Z")
        # esx01's part and its results are new; the other host and the estate are shared.
        assert s.blob_count() == blobs + 2


def test_snapshot_round_trips(tmp_path):
    with Store(tmp_path / "h.sqlite", create=True) as s:
        run = _record(s, routed_doc())
        expected = Snapshot.model_validate(routed_doc()).model_dump(mode="json")
        assert s.snapshot(run) == expected


def test_database_dirs_created_private(tmp_path):
    path = tmp_path / "a" / "b" / "history.sqlite"
    Store(path, create=True).close()
    assert path.is_file()
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert (folder.stat().st_mode & 0o777) == 0o700 & ~_umask()


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def test_default_path_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert store_mod.default_path() == tmp_path / "nbdpath" / "history.sqlite"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert store_mod.default_path() == tmp_path / ".config" / "nbdpath" / "history.sqlite"


def test_version_1_database_migrates_and_keeps_its_runs(tmp_path):
    path = tmp_path / "v1.sqlite"
    db = sqlite3.connect(path)
    db.executescript(V1_DDL)
    db.close()
    with Store(path) as s:
        assert s.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        _record(s, lab_doc())
        assert [r.id for r in s.runs()] == [1]
        indexes = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "runs_at" in indexes


def test_empty_file_is_migrated_from_nothing(tmp_path):
    path = tmp_path / "empty.sqlite"
    path.write_bytes(b"")  # SQLite treats an empty file as an empty database
    with Store(path) as s:
        assert s.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "future.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(InputError) as exc:
        Store(path)
    assert str(path) in str(exc.value) and "newer" in str(exc.value)


@pytest.mark.parametrize("make", ["text", "directory", "missing"])
def test_not_a_database_is_one_input_error(tmp_path, make):
    path = tmp_path / "h.sqlite"
    if make == "text":
        path.write_text("this is not sqlite, just text long enough to look like a header" * 4)
    elif make == "directory":
        path.mkdir()
    with pytest.raises(InputError) as exc:
        Store(path)
    assert str(path) in str(exc.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_database_is_one_input_error(tmp_path):
    path = tmp_path / "h.sqlite"
    Store(path, create=True).close()
    path.chmod(0)
    with pytest.raises(InputError) as exc:
        Store(path)
    assert str(path) in str(exc.value)


def test_a_failing_record_leaves_nothing_behind(tmp_path):
    with Store(tmp_path / "h.sqlite", create=True) as s:
        _record(s, lab_doc())
        blobs = s.blob_count()
        doc = Snapshot.model_validate(routed_doc()).model_dump(mode="json")
        # The second host's results cannot be encoded: the first host's new blobs must go too.
        results = {doc["hosts"][0]["name"]: {"paths": [], "findings": []},
                   doc["hosts"][1]["name"]: {"paths": [object()], "findings": []}}
        with pytest.raises(TypeError):
            s.record(doc, results, at="2026-12-02T02:00:00Z", source="test")
        assert s.blob_count() == blobs and len(s.runs()) == 1


def _by_host(snap):
    from nbdpath.engine import Engine
    from nbdpath.rules import check

    engine = Engine(snap)
    paths = engine.trace()
    findings = check(engine, paths)
    for h in snap.hosts:
        yield h.name, [p for p in paths if p.host == h.name], [f for f in findings if f.host == h.name]


@pytest.mark.parametrize("source", ["labs", "fleet"])
def test_the_encoder_writes_the_canonical_json_of_host_result(source):
    """The record's fast path against the data form (canonical json.dumps of host_result):
    the same bytes (so the same blob hashes as runs recorded before it) and counts."""
    import json

    from nbdpath import labs
    from nbdpath.history.store import HostResult, ResultEncoder, canonical, host_result

    if source == "labs":
        snaps = [labs.load(n) for n in labs.names()]
    else:
        import importlib.util
        import pathlib

        spec = importlib.util.spec_from_file_location(
            "fleetgen", pathlib.Path(__file__).parents[2] / "benchmarks" / "fleetgen.py")
        fleetgen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fleetgen)
        snaps = [Snapshot.model_validate(fleetgen.generate(60))]
    seen = 0
    for snap in snaps:
        encoder = ResultEncoder()
        for name, paths, findings in _by_host(snap):
            want = host_result(paths, findings)
            got = encoder.host(paths, findings)
            assert got == HostResult.of(want), name
            assert json.loads(got.data) == want and got.data == canonical(want)
            seen += len(paths) + len(findings)
    assert seen > 50


def test_a_snapshot_encoded_in_parts_is_recorded_as_its_data(tmp_path, monkeypatch):
    """history record encodes the snapshot in a forked child (snapshot_parts): the run and
    its blobs are those of the snapshot's data recorded directly."""
    from nbdpath.commands.history import analyse
    from nbdpath.history.store import snapshot_parts

    snap = labs.load("mixed-estate")
    data = snap.model_dump(mode="json")
    with Store(tmp_path / "a.sqlite", create=True) as a, Store(tmp_path / "b.sqlite", create=True) as b:
        ra = a.record(data, analyse(snap), at="2026-12-02T02:00:00Z", source="t")
        rb = b.record_parts(snapshot_parts(data), analyse(snap), at="2026-12-02T02:00:00Z", source="t")
        assert a.hosts(ra) == b.hosts(rb) and a.snapshot(ra) == b.snapshot(rb) == data
        assert a.run(ra).summary == b.run(rb).summary
        from nbdpath import io as nbdpath_io
        from nbdpath.commands import history

        forks = []
        real = os.fork
        monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)
        monkeypatch.setattr(os, "fork", lambda: (forks.append(1), real())[1])
        one = record_snapshot(b, snap, "t", "2026-12-03T02:00:00Z")  # as the command records it
        assert b.hosts(one) == a.hosts(ra) and forks == []  # a lab: encoded here
        monkeypatch.setattr(history, "PARTS_FORKED_FROM_HOSTS", 0)
        two = record_snapshot(b, snap, "t", "2026-12-04T02:00:00Z")  # encoded by a forked child
        assert b.hosts(two) == a.hosts(ra) and len(forks) == 1
        # The child also analysed the first hosts: the summary adds both shares up.
        assert b.run(two).summary == a.run(ra).summary and history.CHILD_SHARE * len(snap.hosts) >= 1
        parent = os.getpid()
        real_analyse = history.analyse

        def fails_in_the_child(snap, within=None):
            if os.getpid() != parent:
                raise MemoryError("the child runs out of memory")
            return real_analyse(snap, within)
        monkeypatch.setattr(history, "analyse", fails_in_the_child)
        three = record_snapshot(b, snap, "t", "2026-12-05T02:00:00Z")  # the child fails: made here
        assert b.hosts(three) == a.hosts(ra) and b.run(three).summary == a.run(ra).summary and len(forks) == 2


def test_a_database_error_while_recording_parts_is_one_input_error(tmp_path):
    """record_parts (what history record calls) words a locked or full database as the rest
    of the store does, and leaves no half-written run."""
    from nbdpath.commands.history import analyse
    from nbdpath.history.store import snapshot_parts

    snap = labs.load("mixed-estate")

    class Locked:
        def __init__(self, db):
            self._db = db

        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO runs"):
                raise sqlite3.OperationalError("database is locked")
            return self._db.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._db, name)

    with Store(tmp_path / "h.sqlite", create=True) as s:
        real = s.db
        s.db = Locked(real)
        with pytest.raises(InputError) as err:
            s.record_parts(snapshot_parts(snap.model_dump(mode="json")), analyse(snap), at="2026-12-02T02:00:00Z",
                           source="t")
        assert "database is locked" in str(err.value) and str(tmp_path / "h.sqlite") in str(err.value)
        s.db = real
        assert s.runs() == [] and s.blob_count() == 0  # rolled back
