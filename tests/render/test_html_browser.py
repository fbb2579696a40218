"""The HTML reports in a real browser: headless Chromium loads each built-in lab's report
(scripts run), and the tests read the DOM it built (``--dump-dom``).

Needs the Debian package ``chromium`` (scripts/test.sh installs it); skipped without it,
except under CI=true where a missing browser fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from render_helpers import parse_html

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.commands.core import build_report

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("headless Chromium is required under CI=true (apt-get install chromium)")
    pytest.skip("no chromium on PATH (apt-get install chromium)", allow_module_level=True)

# Root in a container: Chromium's sandbox needs user namespaces it may not get.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-extensions", "--mute-audio"]


def dump_dom(path: Path) -> str:
    run = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={path.parent / ('profile-' + path.stem)}",
                          "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "<html" in run.stdout[:200].lower() and "</body></html>" in run.stdout, run.stdout[:200]
    return run.stdout


REPORTS = [(lab, "check") for lab in labs.names()] + [("all", "trace")]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[tuple[str, str], tuple[dict, object]]:
    """(lab, command) -> (the command's JSON, the DOM Chromium built from its HTML)."""
    tmp = tmp_path_factory.mktemp("browser")
    docs = {}
    for lab, cmd in REPORTS:
        extra = ["--fail-on", "never"] if cmd == "check" else []
        html = tmp / f"{lab}-{cmd}.html"
        assert main([cmd, "--lab", lab, *extra, "--format", "html", "-o", str(html)]) == 0
        out = tmp / f"{lab}-{cmd}.json"
        assert main([cmd, "--lab", lab, *extra, "--format", "json", "-o", str(out)]) == 0
        docs[(lab, cmd)] = (json.loads(out.read_text()), html)
    with ThreadPoolExecutor(max_workers=2) as pool:
        doms = dict(zip(docs, pool.map(lambda k: dump_dom(docs[k][1]), docs)))
    return {k: (docs[k][0], parse_html(doms[k]).root) for k in docs}


def _shapes(lab: str) -> int:
    inputs = [(n, labs.load(n)) for n in (labs.names() if lab == "all" else [lab])]
    return len(build_report(inputs).shapes())


@pytest.mark.parametrize("lab, cmd", REPORTS, ids=[f"{c}-{lab}" for lab, c in REPORTS])
def test_one_diagram_per_shape_in_the_rendered_dom(rendered, lab, cmd):
    doc, dom = rendered[(lab, cmd)]
    articles = dom.find_all("article", "shape")
    assert len(articles) == _shapes(lab) >= 1
    for a in articles:
        [svg] = a.find_all("svg")
        assert svg.find_all("g", "host-g") and svg.find_all("g", "node-g")
        assert svg.attrs["data-verdict"] == a.attrs["data-verdict"]
    assert sum(int(a.attrs["data-pairs"]) for a in articles) == doc["summary"]["pairs"] == len(doc["paths"])
    # Every pair row links to a shape that is on the page.
    ids = {a.attrs["id"] for a in articles}
    assert {r.attrs["data-shape"] for r in dom.find_all("tr", "path")} <= {i.split("-")[1] for i in ids}
    # A failing backup is drawn failing: its request or its data stops short, and says so.
    for a in articles:
        arrives = [g.attrs["data-arrives"] for g in a.find_all("g", "flow")]
        if a.attrs["data-verdict"] == "UNREACHABLE":
            assert "no" in arrives or not arrives, a.attrs["id"]
            assert a.find_all("text", "fail")
        else:
            assert arrives == ["yes", "yes"], a.attrs["id"]


@pytest.mark.parametrize("lab, cmd", REPORTS, ids=[f"{c}-{lab}" for lab, c in REPORTS])
def test_summary_counts_equal_the_json(rendered, lab, cmd):
    doc, dom = rendered[(lab, cmd)]
    [summary] = [s for s in dom.find_all("section") if s.attrs.get("id") == "summary"]
    [counts] = summary.find_all("table", "verdicts")
    verdicts = {td.attrs["data-verdict"]: int(td.text()) for td in counts.find_all("td") if "data-verdict" in td.attrs}
    assert verdicts == doc["summary"]["verdicts"] == {v: sum(p["verdict"] == v for p in doc["paths"]) for v in verdicts}
    sev = {td.attrs["data-severity"]: int(td.text()) for td in summary.find_all("td") if "data-severity" in td.attrs}
    assert sev == doc["summary"]["findings"]
    [matrix] = summary.find_all("table", "matrix")
    by_verdict: Counter = Counter()
    for row in matrix.find_all("tr"):
        for td in row.find_all("td"):
            if "data-verdict" in td.attrs:
                by_verdict[td.attrs["data-verdict"]] += int(td.text())
    assert {v: by_verdict[v] for v in verdicts} == doc["summary"]["verdicts"]
    rules = {r.attrs["data-rule"]: int(r.find_all("td")[2].text())
             for t in summary.find_all("table", "rules") for r in t.find_all("tr") if "data-rule" in r.attrs}
    assert rules == dict(Counter(f["rule"] for f in doc["findings"]))


def test_report_1_and_2_flows_as_the_field_reports_describe(rendered):
    """Report 1 (routed node): the request arrives on the tagged vmk2, the data leaves vmk0.
    Report 2 (vmk on the node's subnet, no tag): the request arrives on vmk0, the data leaves vmk4."""
    _, dom = rendered[("veeam-tag-routed", "check")]
    flows = {(a.attrs["data-verdict"], tuple(g.attrs.get("data-to") or g.attrs.get("data-from")
                                             for g in a.find_all("g", "flow"))) for a in dom.find_all("article", "shape")}
    assert ("NOT_ISOLATED", ("vmk2", "vmk0")) in flows
    _, dom = rendered[("rubrik-mixed-speed", "check")]
    flows = {(a.attrs["data-verdict"], tuple(g.attrs.get("data-to") or g.attrs.get("data-from")
                                             for g in a.find_all("g", "flow"))) for a in dom.find_all("article", "shape")}
    assert ("ASYMMETRIC", ("vmk0", "vmk4")) in flows


def test_details_fold_on_screen_and_open_for_printing(tmp_path):
    """The page's own script opens every <details> on beforeprint and folds them again after."""
    html = tmp_path / "report.html"
    assert main(["trace", "--lab", "all", "--format", "html", "-o", str(html)]) == 0
    text = html.read_text()
    screen = parse_html(dump_dom(html)).root
    assert screen.find_all("details") and all("open" not in d.attrs for d in screen.find_all("details"))
    printing = tmp_path / "printing.html"
    printing.write_text(text.replace("</body>", "<script>dispatchEvent(new Event('beforeprint'))</script></body>"))
    opened = parse_html(dump_dom(printing)).root.find_all("details")
    assert len(opened) == len(screen.find_all("details")) and all("open" in d.attrs for d in opened)
    after = tmp_path / "after.html"
    after.write_text(text.replace("</body>", "<script>dispatchEvent(new Event('beforeprint'));"
                                  "dispatchEvent(new Event('afterprint'))</script></body>"))
    assert all("open" not in d.attrs for d in parse_html(dump_dom(after)).root.find_all("details"))
