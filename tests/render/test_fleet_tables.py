"""Terminal tables at fleet size: one row per path shape above PAIR_ROWS pairs, said in a
line; a small lab keeps a row per pair."""

from __future__ import annotations

import importlib.util
import json
import os
import re

from nbdpath import labs
from nbdpath.commands.core import build_report, load_inputs
from nbdpath.render import findings_table, paths_table
from nbdpath.render.cells import PAIR_ROWS

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks", "fleetgen.py")


def _fleet_report(tmp_path):
    spec = importlib.util.spec_from_file_location("fleetgen_for_tables", BENCH)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(gen.generate(PAIR_ROWS // 16 + 1, 16)))
    return build_report(load_inputs(str(path), None))


def test_fleet_trace_table_has_one_row_per_shape_with_counts(tmp_path):
    report = _fleet_report(tmp_path)
    assert len(report.paths) > PAIR_ROWS
    text = paths_table(report)
    shapes = report.shapes()
    assert f"{len(report.paths):,} pairs in {len(shapes)} path shapes" in text
    rows = [line for line in text.splitlines() if re.match(r"^\s+\d+\s+[\d,]+\s", line)]
    assert len(rows) == len(shapes)
    assert sum(int(r.split()[1].replace(",", "")) for r in rows) == len(report.paths)
    assert sum(1 for line in text.splitlines() if "esx00001" in line) == 0  # no per-pair rows


def test_small_lab_trace_table_keeps_a_row_per_pair():
    report = build_report([("l", labs.load("mixed-estate"))])
    text = paths_table(report)
    assert "path shapes" not in text
    for _, p in report.paths:
        assert any(p.host in line and p.node in line for line in text.splitlines())


def test_findings_table_fast_lines_equal_rich_lines():
    """Short plain lines skip rich: the text must be what rich prints (wrapping at the width too)."""
    from rich.console import Console
    from rich.text import Text
    from io import StringIO

    report = build_report([(n, labs.load(n)) for n in labs.names()])
    for width in (None, 60):
        buf = StringIO()
        console = Console(file=buf, width=width or 400, force_terminal=False, color_system=None,
                          highlight=False, markup=False, emoji=False)
        text = findings_table(report, width)
        for line in text.splitlines():
            console.print(Text(line))
        assert buf.getvalue() == text
