"""A whole-fleet drift is made in two halves of the changed hosts at once (history.write_drift):
the same bytes and exit code as one process, and as the plain definitions of the table and JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict

import pytest

from nbdpath import io as nbdpath_io
from nbdpath.cli import main
from nbdpath.commands import history
from nbdpath.history import drift as drift_mod
from nbdpath.history.store import Store
from nbdpath.model import dump

@pytest.fixture(scope="module")
def fleet_db(tmp_path_factory, fleet_of):
    """Run 1: a 60-host fleet; run 2: the same after its whole plan (most hosts change)."""
    tmp = tmp_path_factory.mktemp("drift")
    before, after, db = tmp / "before.json", tmp / "after.json", str(tmp / "h.sqlite")
    before.write_text(dump(fleet_of(60), "json"))
    assert main(["plan", str(before), "--format", "esxcli", "--save-snapshot", str(after), "-o", str(tmp / "p.sh")]) == 0
    assert main(["history", "record", str(before), "--db", db, "--at", "2026-11-30T02:00:00Z"]) == 0
    assert main(["history", "record", str(after), "--db", db, "--at", "2026-12-01T02:00:00Z"]) == 0
    return db


def _reference_table(a, b, d: drift_mod.Drift) -> str:
    """The table as first written: every change scanned per host."""
    from nbdpath.safetext import terminal

    lines = [f"drift from run {a.id} ({a.at}) to run {b.id} ({b.at})"]
    if not (d.config or d.paths or d.findings):
        lines.append("no changes")
    for host in d.hosts():
        lines.append(f"host {host}")
        lines += [f"  config: {c.describe()}" for c in d.config if c.host == host]
        lines += [f"  path -> {p.node}: {history._path_text(p.before)} -> {history._path_text(p.after)}"
                  f"{'  (worse)' if p.worse else ''}" for p in d.paths if p.host == host]
        lines += [f"  finding {f.status}: {f.finding['rule']} {f.finding['severity']} "
                  f"{f.finding.get('vmk') or ''} {f.finding['message']}{'  (worse)' if f.worse else ''}"
                  for f in d.findings if f.host == host]
    lines.append("result: worse" if d.worse else "result: not worse")
    return terminal("\n".join(lines) + "\n")


@pytest.mark.parametrize("runs", [("1", "2"), ("2", "1")])
@pytest.mark.parametrize("fmt", ["table", "json", "prometheus"])
def test_a_drift_in_halves_is_the_drift_made_whole(fleet_db, runs, fmt, tmp_path, monkeypatch, capsys,
                                                   counted_forks):
    forks = counted_forks
    made = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(history, "DRIFT_HALVES_FROM_HOSTS", threshold)
        out = tmp_path / f"drift.{threshold}"
        rc = main(["history", "drift", *runs, "--db", fleet_db, "--format", fmt, "-o", str(out)])
        rc_stdout = main(["history", "drift", *runs, "--db", fleet_db, "--format", fmt])  # onto a stand-in stdout
        made.append((rc, rc_stdout, out.read_text(), capsys.readouterr().out))
    assert len(forks) == 2  # the halves, once to a file and once to stdout
    assert made[0] == made[1] and made[0][2] == made[0][3]
    with Store(fleet_db) as store:
        a, b = store.run(int(runs[0])), store.run(int(runs[1]))
        d = history.drift_between(store, a.id, b.id)
    assert made[0][0] == (1 if d.worse else 0) and d.worse == (runs == ("2", "1"))
    assert len({c.host for c in d.config}) > 30  # most hosts changed: both halves have some
    reference = {"table": lambda: _reference_table(a, b, d), "prometheus": lambda: history.prometheus(b, d),
                 "json": lambda: json.dumps({"version": 1, "kind": "history-drift", "from": history.run_dict(a),
                                             "to": history.run_dict(b), **d.to_dict()}, indent=2) + "\n"}[fmt]()
    assert made[0][2] == reference


def test_a_drift_half_whose_child_fails_is_made_here(fleet_db, tmp_path, monkeypatch):
    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)
    monkeypatch.setattr(history, "DRIFT_HALVES_FROM_HOSTS", 0)
    parent, real = os.getpid(), history._drift_of

    def fails_in_the_child(*args):
        if os.getpid() != parent:
            raise MemoryError("the child runs out of memory")
        return real(*args)
    out = tmp_path / "drift.json"
    assert main(["history", "drift", "--db", fleet_db, "--format", "json", "-o", str(out)]) == 0
    whole = out.read_text()
    monkeypatch.setattr(history, "_drift_of", fails_in_the_child)
    assert main(["history", "drift", "--db", fleet_db, "--format", "json", "-o", str(out)]) == 0
    assert out.read_text() == whole and '"config": [\n' in whole


def test_each_change_is_listed_as_its_dataclass_with_its_derived_fields():
    config = drift_mod.ConfigChange("h", "route-added", "defaultTcpipStack", None, "10.0.0.0/24 via 10.0.0.1")
    path = drift_mod.PathChange("h", "n", {"verdict": "ISOLATED", "egress": "vmk2", "bottleneck": 10000}, None)
    finding = drift_mod.FindingChange("h", "new", {"rule": "NBD005", "severity": "error", "message": "m"})
    assert drift_mod.config_item(config) == {**asdict(config), "text": config.describe()}
    assert drift_mod.path_item(path) == {**asdict(path), "worse": path.worse}
    assert drift_mod.finding_item(finding) == {**asdict(finding), "worse": finding.worse and True}
