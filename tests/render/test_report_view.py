"""Report.view, the reports' content built from what paths share (no dict per pair at fleet
size), against cells.doc_view of the JSON contract alone: the Markdown and HTML built from
either are the same text, per pair and at fleet size, with hostile names too."""

from __future__ import annotations

import json

import pytest
from render_helpers import fleetgen

from nbdpath.commands.core import build_report, load_inputs
from nbdpath.render import cells
from nbdpath.render import html as html_render
from nbdpath.render import markdown as md


def _assert_reports_equal_the_contracts(report) -> None:
    # The contract as a file gives it back: nothing but JSON.
    doc, extra = json.loads(json.dumps([report.to_dict(with_hops=False), report.render_data()]))
    assert md.paths_doc(doc, extra["clusters"]) == md.paths_markdown(report)
    assert md.findings_doc(doc, extra["clusters"]) == md.findings_markdown(report)
    assert html_render.report_doc(doc, extra) == html_render.report_html(report)


@pytest.mark.parametrize("fleet_sized", [False, True])
def test_lab_reports_from_the_report_are_those_from_the_contract(monkeypatch, all_labs_report, hostile_report,
                                                                 fleet_sized):
    if fleet_sized:  # hosts instead of pairs, commands for the first finding of each rule only
        monkeypatch.setattr(cells, "PAIR_ROWS", 5)
        monkeypatch.setattr(cells, "FULL_FINDINGS", 3)
        monkeypatch.setattr(cells, "FIX_EXAMPLES", 1)
    _assert_reports_equal_the_contracts(all_labs_report)
    _assert_reports_equal_the_contracts(hostile_report)


def test_generated_fleet_reports_from_the_report_are_those_from_the_contract(tmp_path):
    path = tmp_path / "fleet.json"
    hosts = cells.PAIR_ROWS // 16 + 8  # fleetgen: 16 backup nodes
    fleetgen().write(str(path), hosts)
    report = build_report(load_inputs(str(path), None), kind="check")
    assert len(report.paths) > cells.PAIR_ROWS and len(report.findings) > cells.FULL_FINDINGS
    _assert_reports_equal_the_contracts(report)
    view = report.view()
    # Above FULL_FINDINGS only the findings shown with their commands have them rendered.
    with_commands = [f for f in view["findings"] if "esxcli" in f["fix"]]
    rules = {(f["severity"], f["rule"]) for f in view["findings"]}
    assert len(with_commands) <= cells.FIX_EXAMPLES * len(rules) < len(view["findings"])


def test_host_tallies_count_a_host_whose_pairs_come_apart_once_in_order_of_first_pair():
    from nbdpath.render.cells import host_tallies

    pairs = [("s", "h1", "c1", "ISOLATED", 1), ("s", "h1", "c1", "NOT_ISOLATED", 2), ("s", "h2", "c2", "ISOLATED", 1),
             ("s", "h1", "c1", "ISOLATED", 3), ("t", "h1", "c9", "UNREACHABLE", 4)]
    rows = host_tallies(iter(pairs))
    assert [(r["snapshot"], r["host"], r["cluster"]) for r in rows] == [("s", "h1", "c1"), ("s", "h2", "c2"), ("t", "h1", "c9")]
    assert rows[0]["verdicts"] == {"ISOLATED": 2, "NOT_ISOLATED": 1} and list(rows[0]["shapes"]) == [1, 2, 3]
    assert rows[1]["verdicts"] == {"ISOLATED": 1} and rows[2]["verdicts"] == {"UNREACHABLE": 1}
