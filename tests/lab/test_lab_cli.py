"""The `nbdpath lab` commands: preflight, bad input, dry run, JSON contract."""

from __future__ import annotations

import json
import shutil

import pytest

from nbdpath.cli import main
from nbdpath.commands.lab import parse_size
from nbdpath.lab import kernel

from lab_helpers import needs_kernel


def fake_machine(monkeypatch, euid=0, missing=()):
    monkeypatch.setattr(kernel.os, "geteuid", lambda: euid)
    real = shutil.which
    monkeypatch.setattr(kernel.shutil, "which", lambda name: None if name in missing else real(name))


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


def test_not_root_is_one_clear_line_and_exit_2(monkeypatch, capsys):
    fake_machine(monkeypatch, euid=1000)
    assert main(["lab", "verify", "lab:veeam-tag-l2"]) == 2
    line = one_error_line(capsys)
    assert line.startswith("nbdpath: error: nbdpath lab cannot run here; missing: root privileges")


def test_missing_tools_are_all_named(monkeypatch, capsys):
    fake_machine(monkeypatch, euid=1000, missing=("ip", "tcpdump", "iptables"))
    assert main(["lab", "run", "lab:trick-through-firewall", "--keep-pcaps", "/tmp/nbdpath-never"]) == 2
    line = one_error_line(capsys)
    for what in ("root privileges", "ip (install iproute2)", "iptables (install iptables", "tcpdump (install tcpdump"):
        assert what in line


def test_tools_only_required_when_needed():
    which = lambda name: None if name in ("tcpdump", "iptables") else "/usr/bin/" + name  # noqa: E731
    assert kernel.missing_requirements(False, False, euid=0, which=which) == []
    assert len(kernel.missing_requirements(True, True, euid=0, which=which)) == 2


def test_down_needs_root_too(monkeypatch, capsys):
    fake_machine(monkeypatch, euid=1000)
    assert main(["lab", "down"]) == 2
    assert "missing: root privileges" in one_error_line(capsys)


@pytest.mark.parametrize("args, expected", [
    (["lab", "verify", "/nonexistent/estate.yaml"], "/nonexistent/estate.yaml"),
    (["lab", "verify", "lab:no-such-lab"], "no built-in lab 'no-such-lab'"),
    (["lab", "verify", "lab:veeam-tag-l2", "--pair", "esx01.lab.local"], "--pair expects HOST:NODE"),
    (["lab", "verify", "lab:veeam-tag-l2", "--pair", "nohost:vbr-proxy01"], "no such host/node pair"),
    (["lab", "run", "lab:veeam-tag-l2", "--bytes", "2GiB"], "between 1 byte and 1GiB"),
    (["lab", "run", "lab:veeam-tag-l2", "--bytes", "lots"], "a size like 8MiB"),
    *[(["lab", cmd, "lab:veeam-tag-l2", "--bytes", size, *dry], "'--bytes': expected")
      for size in ("0", "abc", "-5", "2GiB", "1.5MiB", "9" * 40, "8 MiB extra", "\x1b[2J")
      for cmd, dry in (("run", []), ("run", ["--dry-run"]), ("verify", []))],
])
def test_bad_input_exits_2_without_building_anything(monkeypatch, capsys, args, expected):
    built = []
    monkeypatch.setattr(kernel.Lab, "__enter__", lambda self: built.append(self) or self)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.splitlines()) == 1 and "\x1b" not in err
    assert built == []


def test_sizes():
    assert parse_size("8MiB") == 8 * 1024 * 1024
    assert parse_size("512KiB") == 512 * 1024
    assert parse_size("1000") == 1000
    assert parse_size("1GiB") == 1 << 30


def test_dry_run_prints_the_build_without_root(monkeypatch, capsys):
    fake_machine(monkeypatch, euid=1000, missing=("ip", "tcpdump", "iptables"))
    assert main(["lab", "run", "lab:trick-through-firewall", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#!/bin/sh\n")
    assert "iptables -w -A FORWARD -m conntrack --ctstate INVALID -j DROP" in out
    assert " type veth peer name vmk4 netns " in out


@pytest.mark.lab
@needs_kernel
def test_json_is_a_versioned_contract(capsys):
    assert main(["lab", "verify", "lab:veeam-tag-l2", "--bytes", "64KiB", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"version", "kind", "snapshot", "prefix", "agree", "limits", "pairs", "notes", "emulation", "pcaps", "timings_s"}
    assert doc["version"] == 1 and doc["kind"] == "lab-verify"
    pair = doc["pairs"][0]
    assert set(pair) == {"host", "node", "endpoint_ip", "agree", "problems", "predicted", "observed", "egress_compared"}
    assert set(pair["observed"]) == {"egress_vmk", "completes", "attempted", "connected", "bytes_expected",
                                     "bytes_received", "node_ip", "error", "skip_reason", "seconds", "interfaces"}
    assert pair["observed"]["bytes_received"] == 64 * 1024


@pytest.mark.lab
@needs_kernel
def test_verify_exits_1_on_disagreement(monkeypatch, capsys):
    # An engine that is wrong on purpose: it claims the routed-tag reply
    # leaves the tagged vmk (the kernel sends it via vmk0's gateway).
    from dataclasses import replace

    from nbdpath import engine

    real = engine.trace

    def wrong(snap):
        return [replace(p, outcome=replace(p.outcome, egress_vmk="vmk2")) for p in real(snap)]

    monkeypatch.setattr(engine, "trace", wrong)
    assert main(["lab", "verify", "lab:veeam-tag-routed", "--bytes", "64KiB"]) == 1
    out = capsys.readouterr().out
    assert "DISAGREE" in out and "egress vmk: engine says vmk2; kernel sent the data on vmk0" in out


def test_cleanup_holds_ctrl_c_until_done():
    import os
    import signal

    done = []
    with pytest.raises(KeyboardInterrupt):
        with kernel.signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
            done.append("cleanup finished")
    assert done == ["cleanup finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@needs_kernel
def test_verify_every_builtin_lab_in_one_run(capsys):
    from nbdpath import labs

    assert main(["lab", "verify", "--lab", "all", "--bytes", "64KiB", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == 1 and doc["kind"] == "lab-verify"
    assert [r["snapshot"] for r in doc["runs"]] == labs.names()
    assert all(r["agree"] for r in doc["runs"])


def test_lab_takes_one_input_form():
    assert main(["lab", "run", "--dry-run", "--lab", "veeam-tag-l2", "some-file.yaml"]) == 2
    assert main(["lab", "run", "--dry-run", "--lab", "all"]) == 2  # a dry run shows one lab


def test_bytes_over_64_characters_are_refused_before_any_pattern_runs():
    import click
    import pytest as _pytest

    from nbdpath.commands.lab import parse_size

    assert parse_size(" 8 MiB ") == 8 << 20
    with _pytest.raises(click.BadParameter):
        parse_size("1" + " " * 100_000 + "!")
