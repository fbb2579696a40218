"""-o/--output on trace, check and explain: the same bytes as stdout, written whole or not at all."""

from __future__ import annotations

import pytest

from nbdpath.cli import main

COMMANDS = {
    "trace": (["trace", "--lab", "rubrik-mixed-speed"], 0),
    "check": (["check", "--lab", "trick-through-firewall"], 1),
    "explain": (["explain", "esx01.corp.local", "rubrik-node1", "--lab", "trick-through-firewall"], 0),
}
FORMATS = ["table", "json", "yaml", "markdown", "html"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_output_file_equals_stdout_and_exit_code_unchanged(tmp_path, capsys, name, fmt):
    args, code = COMMANDS[name]
    assert main([*args, "--format", fmt]) == code
    stdout = capsys.readouterr().out
    out = tmp_path / f"report.{fmt}"
    assert main([*args, "--format", fmt, "-o", str(out)]) == code
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert out.read_text(encoding="utf-8") == stdout
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp file left beside it


@pytest.mark.parametrize("args", [
    ["trace", "{missing}", "--format", "html"],
    ["check", "{bad}", "--format", "markdown"],
    ["explain", "esx99", "vbr01", "--lab", "same-subnet-vmks", "--format", "html"],
    ["trace", "--lab", "no-such-lab"],
])
def test_bad_input_writes_nothing_and_keeps_an_old_report(tmp_path, capsys, args):
    bad = tmp_path / "bad.yaml"
    bad.write_text("hosts: [\n")
    args = [a.format(missing=tmp_path / "missing.yaml", bad=bad) for a in args]
    fresh = tmp_path / "fresh.html"
    assert main([*args, "--output", str(fresh)]) == 2
    assert not fresh.exists()
    old = tmp_path / "old.html"
    old.write_text("last week's report")
    assert main([*args, "-o", str(old)]) == 2
    assert old.read_text() == "last week's report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "old.html"]
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_unwritable_output_is_a_one_line_error(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "r.md"
    assert main(["trace", "--lab", "veeam-tag-l2", "--format", "markdown", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(target) in err and "No such file or directory" in err
    assert not target.parent.exists()
