"""A partial discovery's `missing` entries in every rendering: hosts not traced apart from the
VMs, datastores and tags an estimate leaves out; listed in the reports people mail (capped),
counted apart in the JSON summary."""

from __future__ import annotations

import json

import yaml

from nbdpath import labs
from nbdpath.commands.core import build_report
from nbdpath.model import parse
from nbdpath.render import cells, findings_table, paths_table, to_json
from nbdpath.render import html as html_render
from nbdpath.render import markdown as md


def _partial(missing: dict[str, str]):
    doc = yaml.safe_load(labs.text("veeam-tag-l2"))
    doc["missing"] = missing
    return build_report([("partial", parse(yaml.safe_dump(doc)))], kind="check")


MISSING = {"vm:web<01>": "left out (vanished from the inventory before its disks were read)",
           "esx03.lab.local": "host is disconnected", "datastore:ds&1": "not read (NoPermission)",
           "tags:vc01": "VM tags not read (HTTP 404)"}


def test_the_summary_counts_hosts_apart_from_other_items():
    report = _partial(MISSING)
    summary = json.loads(to_json(report, with_hops=False))["summary"]
    assert (summary["missing_hosts"], summary["missing_items"]) == (1, 3)
    line = cells.summary_line(summary)
    assert line.endswith("; PARTIAL: 1 host(s) and 3 VM, datastore or tag item(s) not read")
    assert cells.summary_line({**summary, "missing_hosts": 0, "missing_items": 0}).count("PARTIAL") == 0


def test_tables_say_which_entries_are_hosts():
    for text in (paths_table(_partial(MISSING)), findings_table(_partial(MISSING))):
        hosts = text.index("PARTIAL: 1 host(s) could not be read and are not traced:")
        items = text.index("PARTIAL: 3 VM, datastore or tag item(s) could not be read")
        assert hosts < text.index("esx03.lab.local: host is disconnected") < items < text.index("vm:web<01>")


def test_markdown_and_html_list_what_was_not_read_hosts_first_and_escaped():
    report = _partial(MISSING)
    page = html_render.report_html(report)
    section = page[page.index('<section id="missing"'):page.index('<section id="summary"')]
    rows = [part.split('"')[0] for part in section.split('data-missing="')[1:]]
    others = [key.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
              for _, key, _ in report.missing if key != "esx03.lab.local"]
    assert rows == ["esx03.lab.local", *others] and len(others) == 3  # hosts first, then as the snapshot lists
    assert "web<01>" not in page and "host is disconnected" in section
    for text in (md.paths_markdown(report), md.findings_markdown(report)):
        part = text[text.index("## Not read (partial discovery)"):]
        assert part.index("esx03.lab.local") < part.index("vm:web\\<01>") < part.index("## Verdicts by cluster")
    complete = _partial({})
    assert "Not read" not in md.paths_markdown(complete) and 'id="missing"' not in html_render.report_html(complete)


def test_a_long_list_is_capped_and_says_how_many_more(monkeypatch):
    monkeypatch.setattr(cells, "MISSING_ROWS", 2)
    report = _partial(MISSING)
    page = html_render.report_html(report)
    assert page.count("data-missing=") == 2 and "... and 2 more" in page
    assert "... and 2 more (all in the JSON's `missing`)." in md.paths_markdown(report)
    # The same text from the contract alone (cells.doc_view) as from the report (Report.view).
    doc, extra = json.loads(json.dumps([report.to_dict(with_hops=False), report.render_data()]))
    assert html_render.report_doc(doc, extra) == page
    assert md.paths_doc(doc, extra["clusters"]) == md.paths_markdown(report)
