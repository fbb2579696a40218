"""Naming the host of an esxtop CSV and the node of a log on the command line (files from the wild say neither)."""

from __future__ import annotations

import json

import pytest

from esxtopgen import REPORT2_PORTS, report2_rates, write
from test_cli import run

LAB = ("verify", "--lab", "rubrik-mixed-speed", "--format", "json")
FAIL = ("2026-11-21T08:17:21.469Z| host-31| I125: NBD_ClientOpen: Couldn't connect to esx01.corp.local:902 "
        "Failed to connect to server 10.10.0.11:902\n")


@pytest.fixture
def localhost_csv(tmp_path):
    path = tmp_path / "esxtop.csv"
    write(path, "localhost", REPORT2_PORTS, 60, report2_rates())
    return path


def _pair(report, host, node):
    return next(p for p in report["pairs"] if (p["host"], p["node"]) == (host, node))


def test_localhost_csv_says_how_to_name_the_host(localhost_csv):
    r = run(*LAB, "-e", str(localhost_csv))
    assert r.returncode == 0, r.stderr
    (msg,) = json.loads(r.stdout)["unmatched"]
    assert "'localhost' is not in the snapshot; name it with -e esx01.corp.local=" in msg and "--host" in msg


@pytest.mark.parametrize("how", ["name=file", "--host"])
def test_named_host_attributes_the_csv(localhost_csv, how):
    args = ("-e", f"esx01.corp.local={localhost_csv}") if how == "name=file" else \
        ("-e", str(localhost_csv), "--host", "esx01.corp.local")
    r = run(*LAB, *args)
    report = json.loads(r.stdout)
    assert report["unmatched"] == []
    assert _pair(report, "esx01.corp.local", "rubrik-node1")["observed_egress_vmk"].startswith("vmk4 sent ")


def test_a_file_whose_name_holds_an_equals_sign_is_a_file(tmp_path):
    path = tmp_path / "a=b.csv"
    write(path, "esx01.corp.local", REPORT2_PORTS, 60, report2_rates())
    r = run(*LAB, "-e", str(path))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["unmatched"] == []


@pytest.mark.parametrize("how", ["none", "--node", "name=file"])
def test_named_node_makes_a_failure_contradict(tmp_path, how):
    log = tmp_path / "vix.log"
    log.write_text(FAIL)
    args = {"none": ("-e", str(log)), "--node": ("-e", str(log), "--node", "rubrik-node2"),
            "name=file": ("-e", f"rubrik-node2={log}")}[how]
    r = run(*LAB, *args)
    report = json.loads(r.stdout)
    node1, node2 = (_pair(report, "esx01.corp.local", n)["check"] for n in ("rubrik-node1", "rubrik-node2"))
    if how == "none":  # two nodes, and the log names neither: nobody is contradicted
        assert r.returncode == 0 and (node1, node2) == ("INCONCLUSIVE", "INCONCLUSIVE")
    else:
        assert r.returncode == 1 and (node1, node2) == ("INCONCLUSIVE", "CONTRADICTED")


def test_unknown_node_is_listed(tmp_path):
    log = tmp_path / "vix.log"
    log.write_text(FAIL)
    r = run(*LAB, "-e", str(log), "--node", "nosuch")
    assert r.returncode == 0
    assert "node 'nosuch' is not a backup node of the snapshot" in json.loads(r.stdout)["unmatched"][0]


def test_window_on_esxtop(tmp_path):
    path = tmp_path / "esxtop.csv"
    write(path, "esx01.corp.local", REPORT2_PORTS, 60, report2_rates())
    r = run("evidence", "summarize", str(path), "--format", "json",
            "--from", "11/21/2026 08:00:30", "--to", "11/21/2026 08:00:50")
    ev = json.loads(r.stdout)["evidence"]
    assert (ev["samples"], ev["first_time"], ev["last_time"]) == (11, "11/21/2026 08:00:30", "11/21/2026 08:00:50")
    r = run("evidence", "summarize", str(path), "--format", "json", "--from", "11/21/2026 08:05:00")
    assert json.loads(r.stdout)["evidence"]["samples"] == 0 and "0 sample(s) inside" in r.stderr


def test_window_on_log_in_verify(tmp_path):
    log = tmp_path / "vix.log"
    log.write_text(FAIL + FAIL.replace("08:17:21", "09:30:00"))
    r = run(*LAB, "-e", str(log), "--node", "rubrik-node2", "--to", "2026-11-21T08:00:00Z")
    assert r.returncode == 0 and "0 line(s) inside" in r.stderr
    r = run(*LAB, "-e", str(log), "--node", "rubrik-node2", "--from", "2026-11-21T09:00:00")
    assert r.returncode == 1
    facts = _pair(json.loads(r.stdout), "esx01.corp.local", "rubrik-node2")["facts"]
    assert [f["source"] for f in facts] == [f"{log}: line 2"]


@pytest.mark.parametrize("option", ["--from", "--to"])
def test_unreadable_time_names_the_option(tmp_path, option):
    log = tmp_path / "vix.log"
    log.write_text(FAIL)
    for cmd in (("evidence", "summarize", str(log)), (*LAB, "-e", str(log))):
        r = run(*cmd, option, "last tuesday")
        assert r.returncode == 2 and r.stdout == ""
        (line,) = r.stderr.splitlines()
        assert line.startswith(f"nbdpath: error: {option}: expected a time") and "'last tuesday'" in line
