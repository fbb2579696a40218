"""Snapshot files are written whole or not at all."""

from __future__ import annotations

import os

import pytest

from nbdpath import labs
from nbdpath.errors import UsageError
from nbdpath.model import load_file
from nbdpath.sources.output import write_snapshot


def test_yaml_or_json_by_extension_and_round_trip(tmp_path):
    snap = labs.load("veeam-tag-routed")
    for name in ("estate.yaml", "estate.json"):
        path = write_snapshot(snap, tmp_path / name)
        assert load_file(path) == snap
    assert (tmp_path / "estate.json").read_text().lstrip().startswith("{")


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "estate.yaml"
    target.write_text("old contents\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(UsageError, match="No space left on device"):  # one line for the CLI, not a traceback
        write_snapshot(labs.load("veeam-tag-l2"), target)
    assert target.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["estate.yaml"]
