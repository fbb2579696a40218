"""`nbdpath diff OLD NEW` of two fleets: made in two halves of the hosts at once when both hold the
same hosts and nodes, streamed item by item; the same bytes as the plain definitions."""

from __future__ import annotations

import json

import pytest
import yaml

from nbdpath.cli import main
from nbdpath.commands import whatif
from nbdpath.engine import Engine
from nbdpath.model import dump, load_file
from nbdpath.plan import diff as diff_mod

@pytest.fixture(scope="module")
def fleets(tmp_path_factory, fleet_of):
    """An 80-host fleet (fleetgen moves the endpoint of hosts 64 and up), the same after its plan, and
    the latter less a host (other hosts)."""
    tmp = tmp_path_factory.mktemp("diff")
    before, after, fewer = tmp / "before.json", tmp / "after.json", tmp / "fewer.json"
    before.write_text(dump(fleet_of(80), "json"))
    assert main(["plan", str(before), "--format", "esxcli", "--save-snapshot", str(after), "-o", str(tmp / "p.sh")]) == 0
    snap = load_file(str(after))
    fewer.write_text(dump(snap.model_copy(update={"hosts": snap.hosts[1:]}), "json"))
    return str(before), str(after), str(fewer)


def _reference(old: str, new: str, fmt: str) -> str:
    changes = diff_mod.diff(Engine(load_file(old)).trace(), Engine(load_file(new)).trace())
    doc = {"version": 1, "kind": "diff", "changes": [c.to_dict() for c in changes]}
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(doc, sort_keys=False, width=120)
    return diff_mod.render(changes)


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
def test_a_diff_in_halves_is_the_diff_made_whole(fleets, fmt, tmp_path, monkeypatch, capsys, counted_forks):
    before, after, fewer = fleets
    forks = counted_forks
    for old, new, halved in ((before, after, True), (after, before, True), (before, fewer, False), (before, before, True)):
        made = []
        for threshold in (10**9, 0):
            monkeypatch.setattr(whatif, "DIFF_HALVES_FROM_HOSTS", threshold)
            del forks[:]
            out = tmp_path / f"diff.{threshold}"
            rc = main(["diff", old, new, "--format", fmt, "-o", str(out)])
            assert len(forks) == (1 if halved and threshold == 0 else 0)
            assert main(["diff", old, new, "--format", fmt]) == rc  # onto a stand-in stdout
            made.append((rc, out.read_text(), capsys.readouterr().out))
        reference = _reference(old, new, fmt)
        assert made[0] == made[1] == (0 if old == new else 1, reference, reference)
    assert "removed" in _reference(before, fewer, "table")  # the other hosts' case lists pairs gone
    assert "field: endpoint" in _reference(before, after, "yaml")  # changes led by the host's own addresses
