"""The CLI as users run it: exit codes, one-line errors, no tracebacks, no half-written files."""

import json
import subprocess
import sys

import pytest

from nbdpath import labs


def run(*args, input=None):
    return subprocess.run([sys.executable, "-m", "nbdpath", *args], capture_output=True, text=True, input=input, timeout=120)


def test_check_all_labs_exits_1_on_errors_and_0_when_relaxed():
    r = run("check", "--lab", "all")
    assert r.returncode == 1, r.stderr
    assert "NBD008" in r.stdout and "NBD004" in r.stdout
    assert run("check", "--lab", "veeam-tag-l2").returncode == 0  # info only
    assert run("check", "--lab", "veeam-tag-l2", "--fail-on", "info").returncode == 1
    assert run("check", "--lab", "all", "--fail-on", "never").returncode == 0


def test_trace_json_is_one_versioned_object():
    r = run("trace", "--lab", "rubrik-mixed-speed", "--format", "json")
    assert r.returncode == 0
    doc = json.loads(r.stdout)
    assert doc["version"] == 1 and len(doc["paths"]) == 4


def test_explain_shows_hops_and_assumptions():
    r = run("explain", "esx01.corp.local", "rubrik-node1", "--lab", "rubrik-mixed-speed")
    assert r.returncode == 0
    assert "route 10.28.0.0/24 on vmk4, connected" in r.stdout
    assert "A1-reply-route-lookup" in r.stdout and "ASYMMETRIC" in r.stdout


def test_python_dash_m_and_labs_and_schema():
    r = run("labs")
    assert r.returncode == 0
    for name in labs.names():
        assert name in r.stdout
    assert json.loads(run("schema").stdout)["title"] == "nbdpath snapshot"


@pytest.mark.parametrize("content, needle", [
    ("hosts: [\n", "valid YAML"),
    ("hosts:\n  - name: a\n    vmks:\n      - {device: vmk0, portgroup: nope}\n", "hosts[0].vmks[0].portgroup"),
    ('{"hosts": 5}', "hosts"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, content, needle):
    f = tmp_path / "estate.yaml"
    f.write_text(content)
    r = run("check", str(f))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert str(f) in r.stderr and needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_usage_errors_exit_2():
    assert run("trace").returncode == 2
    assert run("trace", "--lab", "nope").returncode == 2
    r = run("explain", "esx99", "vbr01", "--lab", "same-subnet-vmks")
    assert r.returncode == 2 and "no host 'esx99'" in r.stderr


def test_esxcli_what_if_writes_atomically_and_diff(tmp_path):
    out = tmp_path / "fixed.yaml"
    r = run("esxcli", "--lab", "veeam-tag-routed", "--host", "esx01.lab.local",
            "network", "ip", "route", "ipv4", "add", "-n", "10.40.0.0/24", "-g", "10.30.0.1", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "NOT_ISOLATED -> ISOLATED" in r.stdout and "rollback: esxcli network ip route ipv4 remove" in r.stdout
    orig = tmp_path / "orig.yaml"
    orig.write_text(labs.text("veeam-tag-routed"))
    d = run("diff", str(orig), str(out))
    assert d.returncode == 1 and "esx01.lab.local -> vbr-proxy02: NOT_ISOLATED -> ISOLATED" in d.stdout
    assert run("diff", str(orig), str(orig)).returncode == 0
    # A refused change writes nothing.
    bad = tmp_path / "bad.yaml"
    r = run("esxcli", str(orig), "--host", "esx01.lab.local", "network", "ip", "interface", "tag", "remove",
            "-i", "vmk0", "-t", "vSphereBackupNFC", "-o", str(bad))
    assert r.returncode == 2 and not bad.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_every_command_has_help_and_docs():
    from pathlib import Path

    from nbdpath.cli import cli

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    docs = "".join(p.read_text() for p in (Path(__file__).parents[2] / "docs").glob("*.md"))
    for name, cmd in cli.all_commands().items():
        assert (cmd.help or "").strip(), f"{name} has no help"
        assert f"nbdpath {name}" in readme + docs, f"{name} is not documented"


def test_written_reports_get_normal_permissions(tmp_path):
    import os

    out = tmp_path / "report.json"
    old = os.umask(0o022)
    try:
        from nbdpath.cli import main

        assert main(["trace", "--lab", "veeam-tag-l2", "--format", "json", "-o", str(out)]) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_explain_takes_the_snapshot_as_an_argument(tmp_path):
    f = tmp_path / "estate.yaml"
    f.write_text(labs.text("same-subnet-vmks"))
    r = run("explain", "esx01.lab.local", "vbr01", str(f))
    assert r.returncode == 0 and "A3-same-subnet-first-vmk" in r.stdout
    assert run("explain", "esx01.lab.local", "vbr01", str(f), "--snapshot", str(f)).returncode == 2
