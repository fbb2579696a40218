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
OWN_TAGS = {"html", "head", "meta", "title", "style", "script", "body", "h1", "h2", "h3", "h4", "p", "b", "br", "code",
            "section", "article", "figure", "table", "tr", "th", "td", "a", "span", "div", "pre", "ul", "ol", "li",
            "details", "summary", "dl", "dt", "dd",
            "svg", "defs", "marker", "path", "g", "rect", "text", "line", "polyline"}


def well_formed(text: str):
    parsed = parse_html(text)
    assert parsed.decl == ["DOCTYPE html"]
    assert parsed.mismatched == [] and parsed.unclosed == []
    assert set(parsed.start_tags) <= OWN_TAGS, set(parsed.start_tags) - OWN_TAGS
    return parsed


def self_contained(parsed, text: str) -> None:
    """No external reference and no script but the one that opens details for printing:
    the file works as an attachment, offline."""
    [script] = parsed.root.find_all("script")
    assert script.text() == html_render._PRINT_SCRIPT and script.attrs == {}
    assert text.lower().count("<script") == 1
    svgs = parsed.root.find_all("svg")
    assert parsed.start_tags.count("style") == 1 + len(svgs)  # the page's and one per diagram
    ids = {n.attrs["id"] for n in parsed.root.iter() if n.attrs.get("id")}
    for n in parsed.root.iter():
        for attr in ("src", "href", "action", "srcset", "xlink:href"):
            value = n.attrs.get(attr)
            if value is not None:
                assert attr == "href" and value.startswith("#") and value[1:] in ids, (n.tag, attr, value)
        marker = n.attrs.get("marker-end")
        if marker is not None:  # arrow heads: markers of this page only
            assert marker.startswith("url(#") and marker[5:-1] in ids, marker
        assert not any(k.startswith("on") for k in n.attrs), n.attrs
    for style in parsed.root.find_all("style"):
        assert "url(" not in style.text() and "@import" not in style.text()


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
    [summary] = [n for n in parsed.root.find_all("section") if n.attrs.get("id") == "summary"]
    [counts] = summary.find_all("table", "verdicts")
    cells = [n for n in counts.find_all("td") + counts.find_all("th")]
    verdicts = {n.attrs["data-verdict"]: int(n.text()) for n in cells if "data-verdict" in n.attrs}
    severities = {n.attrs["data-severity"]: int(n.text()) for n in summary.find_all("td") if "data-severity" in n.attrs}
    [pairs] = [int(n.text()) for n in cells if "data-pairs" in n.attrs]
    [degraded] = [int(n.text()) for n in cells if "data-degraded" in n.attrs]
    assert verdicts == s["verdicts"] and severities == s["findings"]
    assert pairs == s["pairs"] and degraded == s["degraded"]
    # The summary comes first: before the paths table.
    sections = [n.attrs.get("id") for n in parsed.root.find_all("section")]
    assert sections == ["summary", "paths", "findings", "shapes", "assumptions"]


def test_cluster_matrix_counts_each_clusters_pairs(labs_html, all_labs_report):
    _, parsed = labs_html
    [matrix] = parsed.root.find_all("table", "matrix")
    got = {}
    for row in matrix.find_all("tr"):
        if "data-cluster" in row.attrs:
            got[row.attrs["data-cluster"]] = {td.attrs["data-verdict"]: int(td.text())
                                              for td in row.find_all("td") if "data-verdict" in td.attrs}
    want: dict[str, dict[str, int]] = {}
    for snap, p in all_labs_report.paths:
        host = next(h for h in all_labs_report.snaps[snap].hosts if h.name == p.host)
        row = want.setdefault(f"{snap}: {host.cluster or '(no cluster)'}", {})
        row[p.verdict.value] = row.get(p.verdict.value, 0) + 1
    assert {c: {v: n for v, n in r.items() if n} for c, r in got.items()} == want
    assert sum(sum(r.values()) for r in got.values()) == all_labs_report.summary()["pairs"]


def test_findings_by_rule_counted_once_with_their_fix(labs_html, all_labs_report):
    _, parsed = labs_html
    [table] = parsed.root.find_all("table", "rules")
    rows = {r.attrs["data-rule"]: r for r in table.find_all("tr") if "data-rule" in r.attrs}
    doc = all_labs_report.to_dict(with_hops=False)
    by_rule: dict[str, list] = {}
    for f in doc["findings"]:
        by_rule.setdefault(f["rule"], []).append(f)
    assert set(rows) == set(by_rule)
    for rule, fs in by_rule.items():
        tds = [c for c in rows[rule].children if not isinstance(c, str)]
        assert int(tds[2].text()) == len(fs)
        assert int(tds[3].text()) == len({(f["snapshot"], f["host"]) for f in fs})
        assert tds[4].text() == fs[0]["fix"]["summary"]


def test_worst_hosts_are_the_worst(labs_html, all_labs_report):
    _, parsed = labs_html
    worst = [r.attrs["data-host"] for r in parsed.root.find_all("tr", "worst-host")]
    assert 0 < len(worst) <= 10
    failing = {p.host for _, p in all_labs_report.paths if p.verdict.value in ("UNREACHABLE", "BROKEN_BY_FIREWALL")}
    # Every host with a failing backup comes before any host whose backups all work.
    assert set(worst[:len(failing)]) == failing or failing >= set(worst)


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
    expected = sorted(doc["findings"], key=lambda f: (order[f["severity"]], f["rule"]))
    assert [(d.attrs["data-rule"], d.attrs["data-host"]) for d in divs] == [(f["rule"], f["host"]) for f in expected]
    for d, f in zip(divs, expected):
        assert f"sev-{f['severity']}" in d.classes
        assert d.find_all("p", "message")[0].text() == f["message"]
        for kind in ("esxcli", "powercli", "govc"):
            pres = d.find_all("pre", kind)
            assert [p.text().splitlines() for p in pres] == ([f["fix"][kind]] if f["fix"][kind] else [])
    headings = [h.attrs["data-severity"] for h in parsed.root.find_all("h3", "sev-heading")]
    assert headings == [s for s in ("error", "warning", "info") if doc["summary"]["findings"][s]]


def _shape_of(p: dict) -> tuple:
    """What a shape's pairs must have in common, read off the JSON contract alone."""
    return (p["snapshot"], p["endpoint"]["vmk"], p["ingress_vmk"], p["egress_vmk"], p["verdict"], p["bottleneck_mbps"],
            p["degraded"], p["robust"], [(u["name"], u["speed_mbps"], u["link_up"], u["role"]) for u in p["egress_uplinks"]])


def test_one_diagram_and_details_per_shape_with_hops_and_linked_assumptions(labs_html, all_labs_report):
    _, parsed = labs_html
    shapes = parsed.root.find_all("article", "shape")
    doc = all_labs_report.to_dict(with_hops=True)
    rows = parsed.root.find_all("tr", "path")
    members: dict[str, list[dict]] = {}
    for row, p in zip(rows, doc["paths"], strict=True):
        members.setdefault(row.attrs["data-shape"], []).append(p)
    assert [a.attrs["data-shape"] for a in shapes] == list(members)  # every shape a pair links to, once
    assert sum(int(a.attrs["data-pairs"]) for a in shapes) == len(doc["paths"])
    assert len(shapes) < len(doc["paths"])  # the labs have hosts of one shape
    [section] = [n for n in parsed.root.find_all("section") if n.attrs.get("id") == "assumptions"]
    glossary = {dt.attrs["id"]: (dt.text(), dd.text())
                for dt, dd in zip(section.find_all("dt"), section.find_all("dd"), strict=True)}
    used = {a["id"] for p in doc["paths"] for a in p["assumptions"]}
    assert sorted(i for i, _ in glossary.values()) == sorted(used)
    failing_total = 0
    for a in shapes:
        pairs = members[a.attrs["data-shape"]]
        assert int(a.attrs["data-pairs"]) == len(pairs)
        assert all(_shape_of(q) == _shape_of(pairs[0]) for q in pairs)
        first = pairs[0]
        [svg] = a.find_all("svg")
        assert svg.attrs["data-verdict"] == first["verdict"] == a.attrs["data-verdict"]
        [d] = a.find_all("details", "path-details")
        steps = [s for h in first["hops"] for s in h["steps"]]
        lis = d.find_all("li", "step")
        assert len(lis) == len(steps)
        fails = [li for li in lis if "fail" in li.classes]
        assert len(fails) == sum(not s["ok"] for s in steps)
        failing_total += len(fails)
        assert all(li.text().split(" ", 1)[1].startswith("FAILS: ") for li in fails)
        links = [n for n in d.find_all("a")]
        assert [n.text() for n in links] == [x["id"] for x in first["assumptions"]]
        for n, x in zip(links, first["assumptions"]):
            assert glossary[n.attrs["href"][1:]] == (x["id"], x["text"])
        assert d.find_all("summary")[0].text().startswith(f"hop by hop: {first['host']} -> {first['node']}")
        assert "open" not in d.attrs
    assert failing_total >= 1  # the labs include broken and unreachable pairs


def test_diagram_draws_the_flows_vmks_and_uplinks_of_its_shape(labs_html, all_labs_report):
    _, parsed = labs_html
    doc = all_labs_report.to_dict(with_hops=False)
    rows = parsed.root.find_all("tr", "path")
    first = {}
    for row, p in zip(rows, doc["paths"]):
        first.setdefault(row.attrs["data-shape"], p)
    for a in parsed.root.find_all("article", "shape"):
        p = first[a.attrs["data-shape"]]
        [svg] = a.find_all("svg")
        flows = {g.attrs["data-flow"]: g for g in svg.find_all("g", "flow")}
        if p["ingress_vmk"]:
            assert flows["request"].attrs["data-to"] == p["ingress_vmk"]
        if p["egress_vmk"]:
            assert flows["reply"].attrs["data-from"] == p["egress_vmk"]
            assert "stroke-dasharray" not in flows["request"].find_all("polyline")[0].attrs  # styled by class
            assert flows["reply"].find_all("polyline")[0].attrs["class"] == "rep"
        roles = {g.attrs["data-vmk"]: g.attrs["data-roles"].split() for g in svg.find_all("g") if "data-vmk" in g.attrs}
        assert ("out" in roles.get(p["egress_vmk"], [])) == bool(p["egress_vmk"])
        egress = {g.attrs["data-uplink"] for g in svg.find_all("g", "uplink-g") if g.attrs["data-egress"] == "yes"}
        assert egress == {u["name"] for u in p["egress_uplinks"]}
        if p["bottleneck_mbps"] is not None:
            assert svg.find_all("rect", "bottleneck"), a.attrs["data-shape"]
        # The firewall that sees one direction is marked; no other shape marks one.
        one_way = [r for r in svg.find_all("rect") if "one-way" in r.classes]
        assert bool(one_way) == (p["verdict"] == "BROKEN_BY_FIREWALL"), a.attrs["data-shape"]


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
    # The diagrams hold the names as text too: in the tooltips and the labels.
    svg_text = " ".join(t.text() for t in parsed.root.find_all("svg"))
    assert HOSTILE["esx01.corp.local"] in svg_text and HOSTILE["rubrik-node1"] in svg_text


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


def test_fleet_sized_report_has_a_row_per_host_and_a_rule_summary(monkeypatch, all_labs_report):
    """Over cells.PAIR_ROWS pairs the paths are one row per host; over FULL_FINDINGS findings a rule's
    first FIX_EXAMPLES carry commands and the rest one line each (sizes: benchmarks/render_reports.py)."""
    from nbdpath.render import cells

    monkeypatch.setattr(cells, "PAIR_ROWS", 5)
    monkeypatch.setattr(cells, "FULL_FINDINGS", 3)
    monkeypatch.setattr(cells, "FIX_EXAMPLES", 1)
    text = html_render.report_html(all_labs_report)
    parsed = well_formed(text)
    self_contained(parsed, text)
    assert parsed.root.find_all("tr", "path") == []
    rows = parsed.root.find_all("tr", "host-row")
    hosts = list(dict.fromkeys((s, p.host) for s, p in all_labs_report.paths))
    assert [r.attrs["data-host"] for r in rows] == [h for _, h in hosts]
    shape_ids = {a.attrs["id"] for a in parsed.root.find_all("article", "shape")}
    assert all(a.attrs["href"][1:] in shape_ids for r in rows for a in r.find_all("a"))
    doc = all_labs_report.to_dict(with_hops=False)
    for group in parsed.root.find_all("div", "rule-group"):
        rule = group.attrs["data-rule"]
        n = sum(f["rule"] == rule for f in doc["findings"])
        assert int(group.attrs["data-count"]) == n
        assert len(group.find_all("div", "finding")) == min(n, 1)
        assert len(group.find_all("ul", "more-findings")[0].find_all("li") if n > 1 else []) == n - min(n, 1)
