"""The HTML report: one self-contained file, counts that match the summary, every pair and finding, all escaped.

Read back with the stdlib html.parser (see render_helpers.parse_html): the
tests assert on the document structure a browser would build, not on strings.
"""

from __future__ import annotations

import re

import pytest
from render_helpers import HOSTILE, hostile_snapshot, parse_html

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.engine import Engine
from nbdpath.render import html as html_render
from nbdpath.rules import check
from nbdpath.safetext import ps

# The only tags the report writes; anything else came from input.
OWN_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "b", "code", "section",
            "table", "tr", "th", "td", "a", "span", "div", "pre", "ul", "ol", "li", "details", "summary", "dl", "dt",
            "dd"}


def well_formed(text: str):
    parsed = parse_html(text)
    assert parsed.decl == ["DOCTYPE html"]
    assert parsed.mismatched == [] and parsed.unclosed == []
    assert set(parsed.start_tags) <= OWN_TAGS, set(parsed.start_tags) - OWN_TAGS
    return parsed


def self_contained(parsed, text: str) -> None:
    """No script, no external reference: the file works as an attachment, offline."""
    assert "<script" not in text.lower()
    assert parsed.start_tags.count("style") == 1
    ids = {n.attrs["id"] for n in parsed.root.iter() if n.attrs.get("id")}
    for n in parsed.root.iter():
        for attr in ("src", "href", "action", "srcset"):
            value = n.attrs.get(attr)
            if value is not None:
                assert attr == "href" and value.startswith("#") and value[1:] in ids, (n.tag, attr, value)
        assert not any(k.startswith("on") for k in n.attrs), n.attrs
    style = parsed.root.find_all("style")[0].text()
    assert "url(" not in style and "@import" not in style


@pytest.fixture(scope="module")
def labs_html(all_labs_report):
    text = html_render.report_html(all_labs_report)
    return text, well_formed(text)


def test_self_contained_no_external_references(labs_html):
    text, parsed = labs_html
    self_contained(parsed, text)
    assert "http" not in text  # built-in labs name nothing with http: any hit is a reference we wrote


def test_summary_counts_match_report_summary(labs_html, all_labs_report):
    _, parsed = labs_html
    s = all_labs_report.summary()
    cells = [n for n in parsed.root.find_all("td") + parsed.root.find_all("th")]
    verdicts = {n.attrs["data-verdict"]: int(n.text()) for n in cells if "data-verdict" in n.attrs}
    severities = {n.attrs["data-severity"]: int(n.text()) for n in cells if "data-severity" in n.attrs}
    [pairs] = [int(n.text()) for n in cells if "data-pairs" in n.attrs]
    [degraded] = [int(n.text()) for n in cells if "data-degraded" in n.attrs]
    assert verdicts == s["verdicts"] and severities == s["findings"]
    assert pairs == s["pairs"] and degraded == s["degraded"]
    # The summary comes first: before the paths table.
    sections = [n.attrs.get("id") for n in parsed.root.find_all("section")]
    assert sections == ["summary", "paths", "findings", "details", "assumptions"]


def test_every_pair_in_the_paths_table_with_its_verdict_colour(labs_html, all_labs_report):
    _, parsed = labs_html
    rows = parsed.root.find_all("tr", "path")
    assert len(rows) == len(all_labs_report.paths)
    doc = all_labs_report.to_dict(with_hops=False)
    for row, p in zip(rows, doc["paths"]):
        tds = [c for c in row.children if not isinstance(c, str)]
        assert len(tds) == 8
        assert [tds[0].text(), tds[1].text()] == [p["host"], p["node"]]
        assert f"v-{p['verdict']}" in tds[7].classes
        assert tds[7].text() == p["verdict"] + ("" if p["robust"] else "?") + (" DEGRADED" if p["degraded"] else "")
    # Every verdict class used has a colour in the stylesheet.
    style = parsed.root.find_all("style")[0].text()
    for p in doc["paths"]:
        assert re.search(rf"\.v-{p['verdict']}[,{{]", style), p["verdict"]


def test_every_finding_with_fixes_in_pre(labs_html, all_labs_report):
    _, parsed = labs_html
    doc = all_labs_report.to_dict(with_hops=False)
    divs = parsed.root.find_all("div", "finding")
    order = {"error": 0, "warning": 1, "info": 2}
    expected = sorted(doc["findings"], key=lambda f: order[f["severity"]])
    assert [(d.attrs["data-rule"], d.attrs["data-host"]) for d in divs] == [(f["rule"], f["host"]) for f in expected]
    for d, f in zip(divs, expected):
        assert f"sev-{f['severity']}" in d.classes
        assert d.find_all("p", "message")[0].text() == f["message"]
        for kind in ("esxcli", "powercli", "govc"):
            pres = d.find_all("pre", kind)
            assert [p.text().splitlines() for p in pres] == ([f["fix"][kind]] if f["fix"][kind] else [])
    headings = [h.attrs["data-severity"] for h in parsed.root.find_all("h3", "sev-heading")]
    assert headings == [s for s in ("error", "warning", "info") if doc["summary"]["findings"][s]]


def test_details_per_path_with_hops_failing_steps_and_linked_assumptions(labs_html, all_labs_report):
    _, parsed = labs_html
    details = parsed.root.find_all("details", "path-details")
    doc = all_labs_report.to_dict(with_hops=True)
    assert len(details) == len(doc["paths"])
    failing_total = 0
    [section] = [n for n in parsed.root.find_all("section") if n.attrs.get("id") == "assumptions"]
    glossary = {dt.attrs["id"]: (dt.text(), dd.text())
                for dt, dd in zip(section.find_all("dt"), section.find_all("dd"), strict=True)}
    used = {a["id"] for p in doc["paths"] for a in p["assumptions"]}
    assert sorted(i for i, _ in glossary.values()) == sorted(used)
    for d, p in zip(details, doc["paths"]):
        steps = [s for h in p["hops"] for s in h["steps"]]
        lis = d.find_all("li", "step")
        assert len(lis) == len(steps)
        fails = [li for li in lis if "fail" in li.classes]
        assert len(fails) == sum(not s["ok"] for s in steps)
        failing_total += len(fails)
        assert all(li.text().split(" ", 1)[1].startswith("FAILS: ") for li in fails)
        links = [n for n in d.find_all("a")]
        assert [n.text() for n in links] == [a["id"] for a in p["assumptions"]]
        for n, a in zip(links, p["assumptions"]):
            assert glossary[n.attrs["href"][1:]] == (a["id"], a["text"])
        assert d.find_all("summary")[0].text().startswith(f"{p['host']} -> {p['node']}")
        assert "open" not in d.attrs
    assert failing_total >= 1  # the labs include broken and unreachable pairs


def test_no_hops_keeps_details_without_steps(capsys, all_labs_report):
    assert main(["trace", "--lab", "all", "--format", "html", "--no-hops"]) == 0
    out = capsys.readouterr().out
    parsed = well_formed(out)
    self_contained(parsed, out)
    details = parsed.root.find_all("details", "path-details")
    assert len(details) == len(all_labs_report.paths)
    assert parsed.root.find_all("li", "step") == [] and parsed.root.find_all("ol", "hops") == []
    assert len(out) < len(html_render.report_html(all_labs_report))


def test_hostile_names_are_escaped(hostile_report):
    text = html_render.report_html(hostile_report)
    parsed = well_formed(text)
    self_contained(parsed, text)
    rows = parsed.root.find_all("tr", "path")
    assert [c.text() for c in rows[0].children if not isinstance(c, str)][:2] == [
        HOSTILE["esx01.corp.local"], HOSTILE["rubrik-node1"]]
    assert rows[0].attrs["data-host"] == HOSTILE["esx01.corp.local"]
    [finding] = parsed.root.find_all("div", "finding")
    assert HOSTILE["fw1"] in finding.find_all("p", "message")[0].text()
    # PowerCLI gets the name as one single-quoted literal (its ' doubled), not verbatim.
    assert f"-VMHost {ps(HOSTILE['esx01.corp.local'])} " in finding.find_all("pre", "powercli")[0].text()
    assert "snap <script>&" in parsed.root.find_all("title")[0].text()


def test_explain_html_one_open_path():
    engine = Engine(labs.load("trick-through-firewall"))
    path = engine.trace_pair("esx01.corp.local", "rubrik-node1")
    text = html_render.explain_html("trick-through-firewall", path, check(engine, [path]))
    parsed = well_formed(text)
    self_contained(parsed, text)
    [d] = parsed.root.find_all("details", "path-details")
    assert "open" in d.attrs
    assert len(d.find_all("li", "fail")) == sum(not s.ok for h in path.hops for s in h.steps) == 1
    assert [n.attrs["data-rule"] for n in parsed.root.find_all("div", "finding")] == ["NBD008"]


def test_explain_html_hostile():
    engine = Engine(hostile_snapshot())
    path = engine.trace_pair(HOSTILE["esx01.corp.local"], HOSTILE["rubrik-node1"])
    text = html_render.explain_html("<script>", path, check(engine, [path]))
    parsed = well_formed(text)
    self_contained(parsed, text)
    assert HOSTILE["esx01.corp.local"] in parsed.root.find_all("h1")[0].text()


# --- CLI -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd, code", [
    (["trace", "--lab", "rubrik-mixed-speed"], 0),
    (["check", "--lab", "trick-through-firewall"], 1),
    (["check", "--lab", "trick-through-firewall", "--fail-on", "never"], 0),
    (["explain", "esx01.corp.local", "rubrik-node1", "--lab", "rubrik-mixed-speed"], 0),
])
def test_cli_html_to_stdout(capsys, cmd, code):
    assert main([*cmd, "--format", "html"]) == code
    out = capsys.readouterr().out
    parsed = well_formed(out)
    self_contained(parsed, out)
    assert re.search(r"<title>nbdpath (report|explain)", out)
