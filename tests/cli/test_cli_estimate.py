"""`nbdpath estimate`, `trace --vm` and the windows `plan` shows, as users run them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from nbdpath import labs
from nbdpath.estimate import DEFAULTS

LAB = "nightly-window"


def run(*args):
    return subprocess.run([sys.executable, "-m", "nbdpath", *args], capture_output=True, text=True, timeout=120)


def _json(*args):
    r = run(*args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_json_is_versioned_with_the_documented_keys():
    doc = _json("estimate", "--lab", LAB, "--format", "json")
    assert doc["version"] == 1 and doc["kind"] == "estimate"
    [job] = doc["jobs"]
    assert {"name", "duration_s", "bytes", "bottleneck", "hosts", "vms"} <= set(job)
    assert set(job["bottleneck"]) == {"kind", "where", "mbps"}
    assert {a["name"] for a in doc["assumptions"]} == set(DEFAULTS)
    # The routed cluster's 1 GbE management uplink binds, and its VMs are the critical path.
    assert job["bottleneck"]["kind"] == "uplink" and "esx-r0" in job["bottleneck"]["where"]
    # Both routed hosts' uplinks tie for the window: every VM on them is on the critical path.
    assert sorted(job["vms"]) == sorted(f"{v}-{h}" for v in ("app", "db", "web") for h in ("r01", "r02"))


def test_bad_job_is_one_line_exit_2():
    r = run("estimate", "--lab", LAB, "--job", "nosuch")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "no job 'nosuch'" in r.stderr and "nightly" in r.stderr


def test_bad_set_is_one_line_exit_2():
    r = run("estimate", "--lab", LAB, "--set", "nbd_stream_mbyte_s=fast")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "a number" in r.stderr


def test_set_changes_the_window_and_is_reported():
    base = _json("estimate", "--lab", LAB, "--format", "json")["jobs"][0]["duration_s"]
    doc = _json("estimate", "--lab", LAB, "--format", "json", "--set", "link_efficiency=0.5")
    assert doc["jobs"][0]["duration_s"] > base
    assert [a["name"] for a in doc["assumptions"] if a["overridden"]] == ["link_efficiency"]


def test_plan_shows_windows_and_its_saved_snapshot_gives_the_after_state(tmp_path):
    after = tmp_path / "after.yaml"
    plan = _json("plan", "--lab", LAB, "--format", "json", "--save-snapshot", str(after))
    [w] = plan["windows"]
    assert w["job"] == "nightly" and w["after_s"] < w["before_s"] / 2
    assert w["before_bottleneck"]["kind"] == "uplink"
    est = _json("estimate", str(after), "--format", "json")["jobs"][0]
    assert est["duration_s"] == w["after_s"]
    text = run("plan", "--lab", LAB).stdout
    assert "job windows" in text and "nightly: 1h46m ->" in text


def test_plan_without_jobs_has_no_windows_key():
    assert "windows" not in _json("plan", "--lab", "veeam-tag-routed", "--format", "json")


def test_trace_vm_rows_only_when_the_snapshot_has_vms():
    assert "vms" not in _json("trace", "--lab", "veeam-tag-routed", "--format", "json", "--no-hops")
    doc = _json("trace", "--lab", LAB, "--format", "json", "--no-hops")
    rows = {r["vm"]: r for r in doc["vms"]}
    for r in doc["vms"]:
        assert set(r) == {"snapshot", "vm", "job", "served_by", "candidates", "reason", "disagree", "worst", "paths"}
    assert rows["tpl-win2022"]["disagree"] and rows["tpl-win2022"]["served_by"] == "datastore"
    assert rows["app-r01"]["job"] == "nightly" and rows["app-r01"]["worst"]["verdict"] == "NOT_ISOLATED"


def test_trace_vm_table_and_unknown_vm():
    r = run("trace", "--lab", LAB, "--vm", "tpl-win2022")
    assert r.returncode == 0 and "CANDIDATES DISAGREE" in r.stdout and "esx-i01.lab.local" in r.stdout
    r = run("trace", "--lab", LAB, "--vm", "ghost")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no VM 'ghost'" in r.stderr


def test_markdown_and_html_escape_names(tmp_path):
    doc = yaml.safe_load(labs.text(LAB))
    doc["jobs"][0]["name"] = "<b>job|*x*"
    doc["vms"][0]["name"] = "<script>alert(1)</script>"
    doc["jobs"][0]["vms"] = [doc["vms"][0]["name"]]
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(doc))
    out = tmp_path / "e.html"
    assert run("estimate", str(f), "--format", "html", "-o", str(out)).returncode == 0
    page = out.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;job" in page
    assert not re.search(r"(src|href)=\"?https?:", page)  # no external assets
    assert 'class="bar"' in page
    md = run("estimate", str(f), "--format", "markdown").stdout
    assert not re.search(r"(?<!\\)<", md) and "\\<b>job\\|\\*x\\*" in md


def test_no_jobs_is_exit_0_with_an_empty_list():
    doc = _json("estimate", "--lab", "veeam-tag-routed", "--format", "json")
    assert doc["jobs"] == []
    assert "no jobs" in run("estimate", "--lab", "veeam-tag-routed").stdout


def test_docs_list_every_constant_with_its_default():
    text = (Path(__file__).parents[2] / "docs" / "estimate.md").read_text()
    for c in DEFAULTS.values():
        assert f"| `{c.name}` | {c.value:g} |" in text, c.name


def test_esxcli_whatif_shows_the_windows_and_that_one_host_is_not_enough():
    r = run("esxcli", "--lab", LAB, "--host", "esx-r01.lab.local", "network", "ip", "route", "ipv4", "add",
            "-n", "10.40.0.0/24", "-g", "10.30.0.1")
    assert r.returncode == 0, r.stderr
    # esx-r02 still sends over management: the window stays, its bottleneck moves there.
    line = next(x for x in r.stdout.splitlines() if x.strip().startswith("nightly:"))
    assert "1h46m -> 1h46m" in line and "-> uplink: esx-r02.lab.local" in line


def test_trace_narrowed_to_a_host_keeps_the_vms_it_may_serve():
    doc = _json("trace", "--lab", LAB, "--host", "esx-i01.lab.local", "--format", "json", "--no-hops")
    # esx-i01's own VMs, and the template on the datastore it shares with esx-r01.
    assert sorted(r["vm"] for r in doc["vms"]) == ["app-i01", "db-i01", "tpl-win2022", "web-i01"]


def test_trace_vm_in_a_report_format_says_which_formats_carry_it():
    r = run("trace", "--lab", LAB, "--vm", "app-r01", "--format", "html")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "table, json or yaml" in r.stderr
