"""explain HOST NODE shows that pair's findings only (issue 10 review: on mixed-estate it listed
gold-03's and legacy-02's findings for gold-01 -> vbr-proxy-a; on a 1,000-host estate, 207 of 206 hosts)."""

import json

from nbdpath.cli import main


def test_explain_lists_only_the_pairs_findings(capsys):
    assert main(["explain", "gold-01.corp.local", "vbr-proxy-a", "--lab", "mixed-estate", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {f["host"] for f in doc["findings"]} <= {"gold-01.corp.local"}
    assert main(["explain", "legacy-02.corp.local", "vbr-proxy-a", "--lab", "mixed-estate", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    hosts = {f["host"] for f in doc["findings"]}
    assert hosts == {"legacy-02.corp.local"}
    assert all(not f["nodes"] or "vbr-proxy-a" in f["nodes"] for f in doc["findings"])
