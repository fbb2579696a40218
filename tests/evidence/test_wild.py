"""Evidence as it comes from the wild: one test per sample in data/wild (provenance in its README)."""

from __future__ import annotations

from pathlib import Path

from nbdpath.commands.evidence import render_summary
from nbdpath.evidence import read_evidence

WILD = Path(__file__).parent / "data" / "wild"


def test_esxtop_without_network_columns_names_its_host():
    top = read_evidence(WILD / "esxtop-vdisk-no-network.csv")
    assert top.host == "esx01.example.com" and top.samples == 2 and top.ports == ()
    assert "from esx01.example.com, 2 samples" in render_summary(top)
    assert any("network panel was excluded" in s.what or "no 'Network Port'" in s.what for s in top.skipped)


def test_vddk_failures_as_logs_write_them():
    log = read_evidence(WILD / "vddk-failures.log")
    got = [(f.line, f.target, f.port, f.code, f.network) for f in log.failures]
    assert got == [
        (1, "", 902, "authd read", True),  # before any target: a failure without one
        (3, "10.10.0.11", 902, "NBD_ERR_NETWORK_CONNECT", True),  # DISKLIB-LIB ... with flags 0xe
        (4, "10.10.0.11", 902, "refused", True),  # VixDiskLib_Open ... The server refused connection
        (6, "esx02.corp.local", 902, "NBD_ERR_INSUFFICIENT_RESOURCES", False),
    ]
    web = log.targets[-1]
    assert (web.line, web.address, web.failed, web.error) == (7, "10.10.0.12", True, "NBD_ERR_NETWORK_CONNECT")
    text = render_summary(log)
    assert "line 1: authd read failure, no NFC target before it" in text
    assert "line 6: NBD_ERR_INSUFFICIENT_RESOURCES opening esx02.corp.local:902 (not a network failure)" in text


def _verify(*logs, node=None):
    from dataclasses import replace

    from nbdpath.engine import trace
    from nbdpath.evidence import verify
    from nbdpath.labs import load

    snap = load("rubrik-mixed-speed")
    evidence = [replace(read_evidence(p), node=node) for p in logs]
    report = verify(snap, trace(snap), evidence)
    return {(p.host, p.node): p for p in report.pairs}, report


def test_failures_contradict_reachable_at_the_predicted_endpoint():
    pairs, report = _verify(WILD / "vddk-failures.log", node="rubrik-node1")
    esx01, esx02 = pairs[("esx01.corp.local", "rubrik-node1")], pairs[("esx02.corp.local", "rubrik-node1")]
    assert esx01.check.value == "CONTRADICTED" and "could not connect to 10.10.0.11:902" in esx01.reason
    assert esx02.check.value == "CONTRADICTED" and "(NBD_ERR_NETWORK_CONNECT)" in esx02.reason
    assert not any(f.agrees is False and "INSUFFICIENT" in f.observed for f in esx02.facts)
    assert pairs[("esx01.corp.local", "rubrik-node2")].check.value == "INCONCLUSIVE"
    assert any("line 1: authd read failure, and no NFC target" in u for u in report.unmatched)


def test_failure_elsewhere_than_the_predicted_endpoint_does_not_contradict(tmp_path):
    log = tmp_path / "vix.log"
    log.write_text("NBD_ClientOpen: Couldn't connect to esx01.corp.local:902 Failed to connect to server 10.10.0.99:902\n")
    pairs, _ = _verify(log, node="rubrik-node1")
    pair = pairs[("esx01.corp.local", "rubrik-node1")]
    (fact,) = [f for f in pair.facts if f.subject == "connection"]
    assert pair.check.value == "INCONCLUSIVE" and fact.agrees is None and "not the predicted endpoint" in fact.note


def test_mangled_urls_are_recovered_with_a_warning():
    log = read_evidence(WILD / "vddk-mangled-urls.log")
    got = [(t.line, t.address, t.port, t.disk, t.mangled) for t in log.targets]
    assert got == [
        (1, "10.10.0.11", 902, "[ds01] app/app.vmdk", True),  # ...vmdk@10.10.0.11](mailto:...)
        (2, "esx02.corp.local", 902, "[ds01] db/db.vmdk", True),  # <vpxa-nfc://...@host>
        (3, "10.10.0.12", 902, "[ds01] web/web.vmdk", True),  # trailing ")."
        (4, "10.10.0.12", 902, "[ds01] log/log.vmdk", False),  # <...:902> was never ambiguous
    ]  # line 5 names no address: nothing recovered
    assert [s.where for s in log.skipped if "mangled" in s.what] == ["line 1", "line 2", "line 3"]
    assert "(URL mangled, recovered)" in render_summary(log)
