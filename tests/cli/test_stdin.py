"""`trace -` / `check -` read the snapshot from stdin (issue 10 review: it was refused)."""

import json
import subprocess
import sys

from nbdpath import labs


def _run(*args, stdin: bytes):
    return subprocess.run([sys.executable, "-m", "nbdpath", *args], input=stdin, capture_output=True, timeout=120)


def test_trace_reads_stdin_like_a_file():
    r = _run("trace", "-", "--format", "json", stdin=labs.text("veeam-tag-routed").encode())
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["snapshots"] == ["<stdin>"] and len(doc["paths"]) == 2


def test_bad_stdin_is_one_line_naming_stdin():
    r = _run("check", "-", stdin=b"\xff\xfe")
    assert r.returncode == 2 and r.stderr.decode().splitlines() == [
        "nbdpath: error: <stdin>:1: byte 1: UTF-8 text"]
    r = _run("check", "-", stdin=b"hosts: 3\n")
    assert r.returncode == 2 and r.stderr.decode().startswith("nbdpath: error: <stdin>:1: hosts:")
