"""Streamed JSON/YAML (render.stream): the very document the whole-dict dump gives, written
piece by piece; fleet runs leave hops out unless asked; a failed write leaves no file."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys

import pytest
from render_helpers import hostile_snapshot

from nbdpath.cli import main
from nbdpath.commands import estimate as vm_mod
from nbdpath.commands.core import build_report
from nbdpath.io import write_atomic_with
from nbdpath.render import stream, to_json, to_yaml
from nbdpath.render.cells import PAIR_ROWS

HERE = os.path.dirname(os.path.abspath(__file__))


def _fleetgen():
    spec = importlib.util.spec_from_file_location("fleetgen", os.path.join(HERE, "..", "..", "benchmarks", "fleetgen.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fleetgen"] = mod
    spec.loader.exec_module(mod)
    return mod


def _streamed(fmt, report, hops, vms=None) -> str:
    buf = io.StringIO()
    stream.write(fmt, report, hops, buf, vms)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("hops", [True, False])
def test_streamed_equals_whole_document_for_every_lab(all_labs_report, fmt, hops):
    whole = (to_json if fmt == "json" else to_yaml)(all_labs_report, hops)
    assert _streamed(fmt, all_labs_report, hops) == whole


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_streamed_equals_whole_document_with_hostile_names(hostile_report, fmt):
    assert _streamed(fmt, hostile_report, True) == (to_json if fmt == "json" else to_yaml)(hostile_report, True)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_streamed_equals_whole_document_of_a_fleet_with_vms(tmp_path, fmt):
    path = tmp_path / "fleet.json"
    gen = _fleetgen()
    path.write_text(json.dumps(gen.add_vms(gen.generate(40, 16), 120, 3)))
    from nbdpath.commands.core import load_inputs

    inputs = load_inputs(str(path), None)
    report = build_report(inputs)
    rows = vm_mod.vm_rows(inputs, report, ())
    assert rows  # the VM rows are part of what is compared
    assert _streamed(fmt, report, True, rows) == vm_mod.with_vms(report.to_dict(True), rows, fmt)


def test_fleet_trace_leaves_hops_out_by_default_and_says_so(tmp_path, capsys):
    path = tmp_path / "fleet.json"
    hosts = PAIR_ROWS // 16 + 1  # fleetgen: 16 backup nodes
    _fleetgen().write(str(path), hosts)
    assert main(["trace", str(path), "--format", "json"]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert len(doc["paths"]) > PAIR_ROWS
    assert all("hops" not in p and "control" not in p for p in doc["paths"])
    assert "--hops" in out.err
    assert main(["trace", str(path), "--format", "json", "--hops", "--host", "esx00000"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert all(p["hops"] and p["control"] for p in doc["paths"])


def test_small_trace_keeps_hops_by_default_and_no_hops_drops_them(capsys):
    assert main(["trace", "--lab", "veeam-tag-routed", "--format", "json"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert all(p["hops"] for p in json.loads(out.out)["paths"])
    assert main(["trace", "--lab", "veeam-tag-routed", "--format", "json", "--no-hops"]) == 0
    assert all("hops" not in p for p in json.loads(capsys.readouterr().out)["paths"])


def test_a_failing_writer_leaves_no_file(tmp_path):
    target = tmp_path / "out.json"

    def fill(fh):
        fh.write("{\n  \"partial\": ")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_atomic_with(target, fill)
    assert list(tmp_path.iterdir()) == []
