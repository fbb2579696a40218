"""Markdown reports: GitHub tables whose rows hold, fixes as sh / powershell blocks, nothing from input as markup.

The Markdown is read back with markdown-it-py (CommonMark + GFM tables; it
comes with rich) so the tests check what a ticket system renders, not strings.
"""

from __future__ import annotations

import json
import re

import pytest
from markdown_it import MarkdownIt
from render_helpers import HOSTILE, hostile_snapshot, parse_html

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.commands.core import build_report
from nbdpath.engine import Engine
from nbdpath.plan import plan as plan_mod
from nbdpath.render import Report
from nbdpath.render import markdown as md
from nbdpath.rules import Severity, check
from nbdpath.safetext import ps

MD = MarkdownIt("commonmark", {"html": True}).enable("table")
# Every tag the rendered Markdown may hold: ours. An <em>, <b>, <img> or <script> came from input.
OWN_TAGS = {"h1", "h2", "h3", "h4", "p", "strong", "code", "pre", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"}
PATH_COLUMNS = ["host", "node", "endpoint", "in", "out", "uplinks", "bottleneck", "verdict"]


def split_row(line: str) -> list[str]:
    """Cells of a GitHub table row as GitHub splits them: a backslash escapes the next character."""
    cells, cur, i = [], "", 0
    body = line.strip()
    assert body.startswith("|") and body.endswith("|"), line
    body = body[1:-1]
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            cur += body[i: i + 2]
            i += 2
            continue
        if body[i] == "|":
            cells.append(cur)
            cur = ""
        else:
            cur += body[i]
        i += 1
    cells.append(cur)
    return cells


def tables(text: str) -> list[list[list[str]]]:
    """Every table block (consecutive lines starting with '|'), as split rows."""
    out, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append(split_row(line))
        elif block:
            out.append(block)
            block = []
    return out


def rendered_tables(text: str) -> list[list[list[str]]]:
    """Tables as a GFM renderer sees them: rows of cell texts (markup removed, escapes resolved)."""
    root = parse_html(MD.render(text)).root
    return [[[c.text().strip() for c in tr.children if not isinstance(c, str)] for tr in t.find_all("tr")]
            for t in root.find_all("table")]


def fences(text: str) -> list[tuple[str, list[str]]]:
    return [(t.info, t.content.splitlines()) for t in MD.parse(text) if t.type == "fence"]


def test_paths_tables_every_row_has_eight_cells(all_labs_report, hostile_report):
    for report in (all_labs_report, hostile_report):
        text = md.paths_markdown(report)
        every = tables(text)
        found = [t for t in every if [c.strip() for c in t[0]] == PATH_COLUMNS]
        assert len(found) == len(report.snapshots)
        for t in every:  # the summary tables too: no name breaks a row
            assert all(len(row) == len(t[0]) for row in t), [row for row in t if len(row) != len(t[0])]


def test_paths_rendered_cells_say_what_the_json_says(all_labs_report, hostile_report):
    for report in (all_labs_report, hostile_report):
        doc = report.to_dict(with_hops=False)
        rows = [row for t in rendered_tables(md.paths_markdown(report)) if t[0] == PATH_COLUMNS for row in t[1:]]
        assert len(rows) == len(doc["paths"])
        for row, p in zip(rows, doc["paths"]):
            assert row[:2] == [p["host"], p["node"]]
            assert row[2] == f"{p['endpoint']['ip']} ({p['endpoint']['vmk']})"
            assert row[3:5] == [p["ingress_vmk"] or "-", p["egress_vmk"] or "-"]
            assert [u.split()[0].split("(")[0] for u in re.split(r" [|+] ", row[5])] == [
                u["name"] for u in p["egress_uplinks"]] or row[5] == "-"
            assert row[7] == p["verdict"] + ("" if p["robust"] else "?") + (" DEGRADED" if p["degraded"] else "")


def test_degraded_reasons_listed(all_labs_report):
    text = md.paths_markdown(all_labs_report)
    for _, p in all_labs_report.paths:
        for reason in p.outcome.degraded:
            assert md.text(reason) in text
    degraded_lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(degraded_lines) == all_labs_report.summary()["degraded"]


def test_summary_counts(all_labs_report):
    s = all_labs_report.summary()
    text = md.findings_markdown(all_labs_report)
    f = s["findings"]
    assert f"findings: {f['error']} error, {f['warning']} warning, {f['info']} info" in text
    assert f"{s['pairs']} pairs:" in text


def test_findings_grouped_by_severity_with_fixes_in_sh_and_powershell(all_labs_report):
    text = md.findings_markdown(all_labs_report)
    doc = all_labs_report.to_dict(with_hops=False)
    headings = re.findall(r"^### (Errors|Warnings|Info) \((\d+)\)$", text, re.MULTILINE)
    expected = [(t, str(doc["summary"]["findings"][s])) for s, t in
                (("error", "Errors"), ("warning", "Warnings"), ("info", "Info")) if doc["summary"]["findings"][s]]
    assert headings == expected
    finding_heads = re.findall(r"^#### (NBD\d+) ", text, re.MULTILINE)
    order = {"error": 0, "warning": 1, "info": 2}
    by_sev = sorted(doc["findings"], key=lambda f: (order[f["severity"]], f["rule"]))  # stable inside a rule
    assert finding_heads == [f["rule"] for f in by_sev]
    blocks = fences(text)
    sh = [b for info, b in blocks if info == "sh"]
    ps = [b for info, b in blocks if info == "powershell"]
    assert sh == [f["fix"]["esxcli"] for f in by_sev if f["fix"]["esxcli"]]
    assert ps == [f["fix"]["powercli"] for f in by_sev if f["fix"]["powercli"]]
    assert sh and ps


def test_no_findings_says_so():
    report = Report()
    report.add("empty", [], [])
    assert "No findings." in md.findings_markdown(report)


def test_hostile_names_stay_text(hostile_report):
    for text in (md.paths_markdown(hostile_report), md.findings_markdown(hostile_report)):
        parsed = parse_html(MD.render(text))
        assert set(parsed.start_tags) <= OWN_TAGS, set(parsed.start_tags) - OWN_TAGS
        plain = parsed.root.text()
        for name in (HOSTILE["esx01.corp.local"], HOSTILE["rubrik-node1"]):
            assert name in plain
    # The PowerCLI block is code, not markdown text: the name is PowerShell-quoted, not markdown-escaped.
    blocks = [b for info, b in fences(md.findings_markdown(hostile_report)) if info == "powershell"]
    assert any(f"-VMHost {ps(HOSTILE['esx01.corp.local'])} " in line for b in blocks for line in b)


@pytest.mark.parametrize("value", ["a`b", "``x``", "`", "p|q", "plain"])
def test_code_span_survives_backticks_and_pipes(value):
    out = MD.render(f"| c |\n| --- |\n| {md.code(value, in_table=True)} |\n")
    codes = parse_html(out).root.find_all("code")
    assert [c.text() for c in codes] == [value]


def test_fence_is_longer_than_backticks_inside():
    lines = ["Write-Host `n", "```", "echo ````done"]
    assert fences("\n".join(md.fence(lines, "powershell")) + "\n") == [("powershell", lines)]


@pytest.mark.parametrize("value", ["a*b*", "[x](http://e)", "<b>", "&amp;", "_u_", "x\\", "~~s~~", "p|q", "#h"])
def test_text_renders_to_itself(value):
    root = parse_html(MD.render(md.text(value) + "\n")).root
    assert root.text().strip() == value
    assert [n.tag for n in root.iter()] == ["#root", "p"]


def _explain(lab: str, host: str, node: str, snap=None):
    snap = snap or labs.load(lab)
    engine = Engine(snap)
    path = engine.trace_pair(host, node)
    return path, check(engine, [path])


def test_explain_marks_failing_steps_and_lists_assumptions():
    path, findings = _explain("trick-through-firewall", "esx01.corp.local", "rubrik-node1")
    text = md.explain_markdown("trick-through-firewall", path, findings)
    steps = [s for h in path.hops for s in h.steps]
    hop_tables = [t for t in tables(text) if t[0][0].strip() == "device"]
    control = [t for t in tables(text) if t[0][0].strip() == "flow"]
    rows = [row for t in hop_tables for row in t[2:]]
    assert all(len(row) == 4 for t in hop_tables for row in t)
    assert [len(t) - 2 for t in control] == [len(path.control)] and all(len(r) == 6 for r in control[0])
    assert len(hop_tables) + len(control) == len(tables(text))
    assert len(rows) == len(steps)
    assert sum(row[3].strip() == "**FAIL**" for row in rows) == sum(not s.ok for s in steps) >= 1
    for a in path.outcome.assumptions:
        assert f"- **{md.text(a)}**:" in text
    assert "NBD008" in text and "`BROKEN_BY_FIREWALL`" in text


def test_explain_hostile_names():
    snap = hostile_snapshot()
    path, findings = _explain("", HOSTILE["esx01.corp.local"], HOSTILE["rubrik-node1"], snap)
    text = md.explain_markdown("snap|<script>", path, findings)
    parsed = parse_html(MD.render(text))
    assert set(parsed.start_tags) <= OWN_TAGS, set(parsed.start_tags) - OWN_TAGS
    assert all(len(row) == (4 if t[0][0].strip() == "device" else 6) for t in tables(text) for row in t)
    assert HOSTILE["esx01.corp.local"] in parsed.root.text()


def test_plan_markdown_has_every_step_and_path_change():
    plan = plan_mod.build(labs.load("mixed-estate"))
    d = plan.to_dict()
    text = md.plan_doc(d)
    blocks = fences(text)
    assert [c for info, b in blocks if info == "sh" for c in b if c.startswith("esxcli") and " add " in c] == [
        s["esxcli"] for s in d["steps"]]
    assert [c for info, b in blocks if info == "powershell" for c in b] == [s["powercli"] for s in d["steps"]]
    change_table = tables(text)[-1]
    assert all(len(row) == 6 for row in change_table)
    assert len(change_table) - 2 == len(d["path_changes"]) >= 1
    assert f"{len(d['resolved'])} resolved" in text


def test_plan_markdown_nothing_to_change():
    text = md.plan_doc(plan_mod.build(labs.load("veeam-tag-l2")).to_dict())
    assert text.startswith("# nbdpath plan") and "Nothing to change" in text


# --- CLI -------------------------------------------------------------------------------------------


def test_cli_trace_markdown(capsys):
    assert main(["trace", "--lab", "rubrik-mixed-speed", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    [t] = [t for t in tables(out) if [c.strip() for c in t[0]] == PATH_COLUMNS]
    assert len(t) == 2 + 4 and all(len(r) == 8 for r in t)


def test_cli_check_markdown_keeps_exit_codes(capsys):
    assert main(["check", "--lab", "trick-through-firewall", "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert "### Errors (1)" in out and "```sh" in out
    assert main(["check", "--lab", "trick-through-firewall", "--format", "markdown", "--fail-on", "never"]) == 0


def test_cli_explain_and_plan_markdown(capsys):
    assert main(["explain", "esx01.lab.local", "vbr-proxy02", "--lab", "veeam-tag-routed", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# esx01.lab.local -> vbr-proxy02 (veeam-tag-routed)") and "## Assumptions" in out
    assert main(["plan", "--lab", "veeam-tag-routed", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "esxcli network ip route ipv4 add -n 10.40.0.0/24 -g 10.30.0.1" in out
    doc = json.loads(json.dumps(plan_mod.build(labs.load("veeam-tag-routed")).to_dict()))
    assert out == md.plan_doc(doc)


def test_report_from_build_report_matches_direct_render():
    report = build_report([("veeam-tag-routed", labs.load("veeam-tag-routed"))])
    # Renders from the contract: the dict alone (as a JSON round trip) gives the same text.
    doc, clusters = json.loads(json.dumps([report.to_dict(with_hops=False), report.clusters()]))
    assert md.paths_doc(doc, clusters) == md.paths_markdown(report)
    assert md.findings_doc(doc, clusters) == md.findings_markdown(report)


def test_fleet_summary_counts_by_cluster_and_rule(all_labs_report):
    doc = all_labs_report.to_dict(with_hops=False)
    text = md.findings_markdown(all_labs_report)
    [matrix] = [t for t in rendered_tables(text) if t[0][0] == "cluster"]
    verdicts = matrix[0][1:-1]
    total = {v: sum(int(r[1 + i]) for r in matrix[1:]) for i, v in enumerate(verdicts)}
    assert total == doc["summary"]["verdicts"]
    [rules] = [t for t in rendered_tables(text) if t[0][0] == "rule"]
    counts = {r[0].split()[0]: int(r[2]) for r in rules[1:]}
    assert counts == {rule: sum(f["rule"] == rule for f in doc["findings"]) for rule in counts}
    assert sum(counts.values()) == len(doc["findings"])


def test_fleet_sized_markdown_is_grouped(monkeypatch, all_labs_report):
    from nbdpath.render import cells

    monkeypatch.setattr(cells, "PAIR_ROWS", 5)
    monkeypatch.setattr(cells, "FULL_FINDINGS", 3)
    monkeypatch.setattr(cells, "FIX_EXAMPLES", 1)
    paths = md.paths_markdown(all_labs_report)
    assert not [t for t in rendered_tables(paths) if t[0] == PATH_COLUMNS]
    [hosts] = [t for t in rendered_tables(paths) if t[0] == ["host", "cluster", "verdicts"]]
    assert len(hosts) - 1 == len({(s, p.host) for s, p in all_labs_report.paths})
    findings = md.findings_markdown(all_labs_report)
    rules = {f.rule for _, f in all_labs_report.findings}
    assert len(re.findall(r"^#### (NBD\d+) ", findings, re.MULTILINE)) == len(rules)


@pytest.mark.parametrize("lab", labs.names())
def test_plan_markdown_from_the_plan_is_the_document_form(lab):
    # The command renders from the Plan (two formats, no whole document); the dict form is the contract.
    plan = plan_mod.build(labs.load(lab), Severity.INFO)
    assert md.plan_markdown(plan) == md.plan_doc(plan.to_dict())


def test_a_fleet_plans_path_changes_are_grouped_and_counted(monkeypatch):
    from render_helpers import fleetgen

    from nbdpath.model import parse
    from nbdpath.render import cells

    monkeypatch.setattr(cells, "PAIR_ROWS", 200)  # a fleet's size, on a fleet small enough for a test
    plan = plan_mod.build(parse(json.dumps(fleetgen().generate(64))))
    assert len(plan.path_changes) > cells.PAIR_ROWS
    text = md.plan_markdown(plan)
    rows = [line for line in text.split("## What the plan does to the paths")[1].split("\n## ")[0].splitlines()
            if line.startswith("| ") and not line.startswith(("| host ", "| --- "))]
    assert 0 < len(rows) < 50
    pairs = sum(int(m[1].replace(",", "")) if (m := re.search(r"\(([\d,]+) pairs\)", r)) else 1 for r in rows)
    assert pairs == len(plan.path_changes)
    assert "One row per distinct change" in text
    # Below the threshold, every pair has its row, as in the document form.
    monkeypatch.setattr(cells, "PAIR_ROWS", 10**6)
    assert md.plan_markdown(plan) == md.plan_doc(plan.to_dict())


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from nbdpath.render import markdown as md_mod  # noqa: E402


@settings(max_examples=150)
@given(st.text(alphabet=st.sampled_from("ab_1 \\`*[]<&|~>-\n\tx"), max_size=30) | st.text(max_size=30))
def test_inline_text_without_markup_characters_is_kept_as_escaping_would_leave_it(value):
    # text() skips both substitutions when nothing in the text could be markup: the same result.
    one_line = " ".join(value.split())
    escaped = md_mod._EDGE_UNDERSCORE.sub(r"\\_", md_mod._SPECIAL.sub(r"\\\1", one_line))
    assert md_mod.text(value) == escaped
