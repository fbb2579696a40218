"""Streamed JSON/YAML (render.stream): the very document the whole-dict dump gives, written
piece by piece; fleet runs leave hops out unless asked; a failed write leaves no file."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from render_helpers import fleetgen, hostile_snapshot

from nbdpath.cli import main
from nbdpath.commands import estimate as vm_mod
from nbdpath.commands.core import build_report
from nbdpath.io import write_atomic_with
from nbdpath.render import stream, to_json, to_yaml
from nbdpath.render.cells import PAIR_ROWS
from nbdpath.render.report import Report



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
    gen = fleetgen()
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
    fleetgen().write(str(path), hosts)
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


# The YAML block writer against PyYAML itself: text where styles change (indicators, quotes,
# words YAML reads as numbers or booleans, runs of spaces, folding past the width at any indent).
_WORDS = st.sampled_from(["a", "vmk1", "10.0.0.1", "yes", "No", "null", "~", "1.5", "0x1f", "2024-01-01", "-", "?",
                          ":", "#", "a:b", "it's", '"q"', "---", "...", "<<", "=", "x" * 60, ""])
_ODD = st.sampled_from(["\n", "\t", "é", "\x1b", "\\", '"', "\u2028", "\U0001F600", "\x85"])
_TEXT = (st.lists(_WORDS, max_size=40).map(" ".join) | st.text(max_size=30)  # st.text: non-ASCII, breaks, tabs
         | st.lists(_WORDS | _ODD, max_size=60).map(" ".join) | st.lists(_WORDS | _ODD, max_size=60).map("".join))
_KEYS = st.sampled_from(["host", "node", "on", "yes", "a b", "x" * 30, "n"]) | st.text(max_size=6)
_SCALARS = _TEXT | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
                       max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_yaml_block_writer_writes_what_pyyaml_writes(doc):
    assert stream.yaml_text(doc) == yaml.safe_dump(doc, sort_keys=False, width=120)


@settings(max_examples=100, deadline=None)
@given(st.lists(_WORDS | _ODD, min_size=20, max_size=60).map(" ".join) | st.lists(_WORDS, min_size=20, max_size=60).map(" ".join),
       st.integers(0, 110))
def test_yaml_block_writer_folds_long_text_as_pyyaml_at_any_depth(text, depth):
    doc = {"k": {"kk": [text, {"m": text}]}}
    for _ in range(depth // 8):
        doc = {"n": [doc]}
    assert stream.yaml_text(doc) == yaml.safe_dump(doc, sort_keys=False, width=120)


@pytest.mark.parametrize("piece", ["ab\t", 'a"\u00e9', "\u00e9 ", "x\\ ", " \n", "wo\x1brd ", "\t\t ", "abc de",
                                   "\\\\\\", "a\\\\\n", '\\"\\ ', "\\\U0001F600\\", "x \\\\"])
def test_yaml_block_writer_breaks_double_quoted_text_where_pyyaml_does(piece):
    # Every alignment of escapes and spaces against the width: keys of every length shift the text.
    for n in range(8, 60, 5):
        for key in range(1, 30):
            doc = {"k" * key: piece * n + "\t", "l": [{"m": piece * n + "\u00e9"}]}
            assert stream.yaml_text(doc) == yaml.safe_dump(doc, sort_keys=False, width=120)


@pytest.mark.parametrize("depth", [55, 59, 60, 61, 64, 70])
def test_yaml_block_writer_ends_lines_indented_past_the_width_as_pyyaml(depth):
    # From ~60 levels each line starts past the width: every place PyYAML checks breaks once.
    doc = {"k": ["a\tb " * 30, "word " * 30 + "\t", "\u00e9" * 150, "x\\\\ " * 40 + "\n"]}
    for _ in range(depth):
        doc = {"n": [doc]}
    assert stream.yaml_text(doc) == yaml.safe_dump(doc, sort_keys=False, width=120)


@pytest.mark.parametrize("hops", [True, False])
def test_yaml_reads_back_as_the_json(all_labs_report, hops):
    assert yaml.safe_load(_streamed("yaml", all_labs_report, hops)) == json.loads(_streamed("json", all_labs_report, hops))


def test_yaml_of_a_generated_fleet_reads_back_as_the_json_and_is_pyyamls_text(tmp_path):
    path = tmp_path / "fleet.json"
    fleetgen().write(str(path), 60)
    from nbdpath.commands.core import load_inputs

    report = build_report(load_inputs(str(path), None), kind="check")
    text = _streamed("yaml", report, False)
    assert yaml.safe_load(text) == json.loads(_streamed("json", report, False))
    assert text == to_yaml(report, False)


# Findings written without their dicts (stream._yaml_findings) against PyYAML's dump of the
# document: the labs' findings (their fixes' commands in every format) with generated text
# in every field a finding carries, under a generated snapshot name.
_NAMES = st.lists(_WORDS | _ODD, min_size=1, max_size=8).map("".join) | st.text(min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_yaml_findings_are_what_pyyaml_writes_of_their_dicts(all_labs_report, data):
    import dataclasses

    base = data.draw(st.lists(st.sampled_from(all_labs_report.findings), min_size=1, max_size=4))
    findings = []
    for snap, f in base:
        fix = dataclasses.replace(f.fix, summary=data.draw(_TEXT),
                                  manual=tuple(data.draw(st.lists(_TEXT, max_size=2))))
        findings.append(dataclasses.replace(
            f, host=data.draw(_NAMES), message=data.draw(_TEXT), fix=fix,
            nodes=tuple(data.draw(st.lists(_NAMES, max_size=3))), vmk=data.draw(st.none() | _NAMES)))
    report = Report(kind="check")
    report.add(data.draw(_NAMES), [], findings, snap=all_labs_report.snaps[base[0][0]])
    assert _streamed("yaml", report, False) == to_yaml(report, False)


def test_yaml_halves_make_the_one_document(all_labs_report, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(stream, "HALVES_FROM_PAIRS", 0)  # the labs' few pairs: written in halves too
    first, rest = stream.halves("yaml", all_labs_report, True)
    buf = io.StringIO()
    first(buf)
    assert buf.getvalue().startswith("version: ") and "\nfindings:" not in buf.getvalue()
    rest(buf)
    assert buf.getvalue() == to_yaml(all_labs_report, True)
    target = tmp_path / "trace.yaml"  # as the command writes it: the halves by two processes
    assert main(["trace", "--lab", "all", "--format", "yaml", "-o", str(target)]) == 0
    capsys.readouterr()
    assert main(["trace", "--lab", "all", "--format", "yaml"]) == 0  # stdout: in one piece
    assert target.read_text() == capsys.readouterr().out
