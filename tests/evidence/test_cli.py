"""`nbdpath verify` and `nbdpath evidence summarize` as users run them."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from esxtopgen import REPORT2_PORTS, report2_rates, write
from frames import nfc_session, pcap
from nbdpath.evidence import REPORT_SCHEMA
from test_vddk import DATA


def run(*args):
    return subprocess.run([sys.executable, "-m", "nbdpath", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def evidence(tmp_path):
    csv = tmp_path / "esx01.csv"
    write(csv, "esx01.corp.local", REPORT2_PORTS, 60, report2_rates())
    log = tmp_path / "vix.log"
    log.write_text("2026-11-21T08:14:02.702Z| host-31| I125: NBD_ClientOpen: attempting to create connection to "
                   "vpxa-nfc://[ds01] app/app.vmdk@esx01.corp.local:902!52 a1\n")
    bad = tmp_path / "mirror.pcap"
    bad.write_bytes(pcap(nfc_session(host="10.10.0.11", node="10.28.0.51", host_mac="00:50:56:6c:31:10")))
    return {"csv": str(csv), "log": str(log), "pcap": str(bad)}


def test_verify_table_and_exit_codes(evidence):
    r = run("verify", "--lab", "rubrik-mixed-speed", "-e", evidence["csv"], "-e", evidence["log"])
    assert r.returncode == 0, r.stderr
    assert "esx01.corp.local -> rubrik-node1: CONFIRMED" in r.stdout
    assert "uplink      predicted vmnic2, vmnic3, observed vmnic2" in r.stdout
    assert r.stdout.rstrip().endswith("2 CONFIRMED, 0 CONTRADICTED, 2 INCONCLUSIVE")
    r = run("verify", "--lab", "rubrik-mixed-speed", "-e", evidence["pcap"])
    assert r.returncode == 1
    assert "esx01.corp.local -> rubrik-node1: CONTRADICTED" in r.stdout and "[DISAGREES] egress vmk" in r.stdout


def test_verify_json_is_versioned(evidence):
    r = run("verify", "--lab", "rubrik-mixed-speed", "-e", evidence["pcap"], "--format", "json")
    d = json.loads(r.stdout)
    assert r.returncode == 1 and d["version"] == 1 and d["kind"] == "verify"
    checks = {(p["host"], p["node"]): p["check"] for p in d["pairs"]}
    assert checks[("esx01.corp.local", "rubrik-node1")] == "CONTRADICTED"
    jsonschema.validate(d, REPORT_SCHEMA)
    del d["pairs"][0]["facts"][0]["agrees"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(d, REPORT_SCHEMA)


def test_summarize_each_kind(evidence, tmp_path):
    r = run("evidence", "summarize", evidence["pcap"])
    assert r.returncode == 0 and "10.28.0.51:40000 -> 10.10.0.11:902  handshake complete" in r.stdout
    r = run("evidence", "summarize", evidence["csv"])
    assert "transmitting vmk: vmk4" in r.stdout and "uplink: vmnic2" in r.stdout
    r = run("evidence", "summarize", str(DATA / "vixDiskLib-nbd.log"), "--format", "json")
    d = json.loads(r.stdout)
    assert d["version"] == 1 and d["evidence"]["kind"] == "log" and len(d["evidence"]["targets"]) == 5


def test_truncated_capture_warns_and_still_answers(tmp_path):
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap(nfc_session())[:-300])
    r = run("evidence", "summarize", str(path))
    assert r.returncode == 0 and "TRUNCATED" in r.stdout
    assert r.stderr.startswith(f"nbdpath: warning: {path}: byte ") and "Traceback" not in r.stderr


@pytest.mark.parametrize("args,needle", [
    (["evidence", "summarize", "/nonexistent/x.pcap"], "/nonexistent/x.pcap: an existing file"),
    (["evidence", "summarize", str(DATA / "vixDiskLib-nbd.log"), "--kind", "capture"], "byte 0: a pcap or pcapng"),
    (["evidence", "summarize", str(DATA / "vixDiskLib-nbd.log"), "--kind", "esxtop"], "line 1: an esxtop batch CSV"),
    (["verify", "--lab", "all", "-e", str(DATA / "vixDiskLib-nbd.log")], "one snapshot at a time"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    r = run(*args)
    assert r.returncode == 2 and needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_verify_yaml_is_the_json_document(capsys):
    """Issue 10 review: verify had no yaml (labs and diff neither)."""
    import yaml

    from nbdpath.cli import main

    log = str(DATA / "vixDiskLib-nbd.log")
    rc_json = main(["verify", "--lab", "rubrik-mixed-speed", "-e", log, "--format", "json"])
    as_json = json.loads(capsys.readouterr().out)
    rc_yaml = main(["verify", "--lab", "rubrik-mixed-speed", "-e", log, "--format", "yaml"])
    assert rc_yaml == rc_json and yaml.safe_load(capsys.readouterr().out) == as_json
