"""One result contract over every command (issue 10): each ``--format json`` document is
``{"version": int, "kind": str, ...}`` with the kind named after the command, and every exit
code is a named one (nbdpath.result.Exit). A new command with JSON output must be added here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest

from nbdpath.cli import cli, main
from nbdpath.result import Exit, Result, emit, envelope

ROOT = Path(__file__).parent
DATA = ROOT / "sources" / "data"
LOG = ROOT / "evidence" / "data" / "vixDiskLib-nbd.log"


def _json_commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    commands = group.all_commands() if group is cli else group.commands  # type: ignore[attr-defined]
    for name, cmd in sorted(commands.items()):
        if isinstance(cmd, click.Group):
            yield from _json_commands(cmd, path + (name,))
            continue
        for p in cmd.params:
            if p.name == "fmt" and isinstance(p.type, click.Choice) and "json" in p.type.choices:
                yield " ".join(path + (name,))


# command -> (argv after the command, which the test fills in with tmp paths)
SAMPLES = {
    "trace": ["--lab", "veeam-tag-l2"],
    "check": ["--lab", "veeam-tag-l2"],
    "explain": ["esx01.lab.local", "vbr-proxy01", "--lab", "veeam-tag-l2"],
    "labs": [],
    "rules": [],
    "plan": ["--lab", "veeam-tag-routed"],
    "diff": ["{old}", "{new}"],
    "estimate": ["--lab", "nightly-window"],
    "verify": ["--lab", "rubrik-mixed-speed", "-e", str(LOG)],
    "evidence summarize": [str(LOG)],
    "history list": ["--db", "{db}"],
    "history show": ["1", "--db", "{db}"],
    "history drift": ["--db", "{db}"],
    "import esxcli": [str(DATA / "wild" / "hpegl-esxi-7.0.3"), "--host", "h1", "-o", "{out}"],
    "import node": [str(DATA / "node" / "win-addr.json"), str(DATA / "node" / "win-route.json"), "--name", "n1",
                    "-o", "{out}"],
    "import forklift": [str(DATA / "forklift" / "plan.yaml"), str(DATA / "forklift" / "hosts.yaml"), "-o", "{out}"],
}
# Commands whose JSON needs a world this test cannot hold (a vCenter, root, a node's network):
# each is pinned where that world exists.
OUTSIDE = {
    "apply": "tests/apply/test_apply_vcsim.py (kind apply-dry-run / apply / rollback)",
    "discover": "tests/vcsim/test_discover_faults.py (kind discover)",
    "lab run": "tests/lab/test_lab_cli.py (kind lab-run)",
    "lab verify": "tests/lab/test_lab_cli.py (kind lab-verify)",
    "probe": "tests/sources/test_node_probe.py (kind probe)",
}


def test_every_json_command_is_covered():
    assert set(_json_commands()) == set(SAMPLES) | set(OUTSIDE)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("contract")
    old, new = tmp / "old.yaml", tmp / "new.yaml"
    assert main(["plan", "--lab", "veeam-tag-routed", "--save-snapshot", str(new), "-o", str(tmp / "p.txt")]) == 0
    from nbdpath import labs

    old.write_text(labs.text("veeam-tag-routed"))
    db = tmp / "h.sqlite"
    assert main(["history", "record", str(old), "--db", str(db)]) == 0
    assert main(["history", "record", str(new), "--db", str(db)]) == 0
    return {"old": str(old), "new": str(new), "db": str(db), "tmp": tmp}


@pytest.mark.parametrize("command", sorted(SAMPLES))
def test_json_has_version_and_kind(command, files, capsys, tmp_path):
    argv = [a.format(**files, out=str(tmp_path / "out.yaml")) for a in SAMPLES[command]]
    rc = main([*command.split(), *argv, "--format", "json"])
    out = capsys.readouterr().out
    assert rc in set(Exit), rc
    doc = json.loads(out)
    assert isinstance(doc["version"], int) and doc["version"] >= 1
    assert doc["kind"] == command.replace(" ", "-").replace("evidence-summarize", "evidence-summary"), doc["kind"]
    assert list(doc)[:2] == ["version", "kind"] or command in ("trace", "check", "explain", "plan"), list(doc)[:3]


def test_exit_codes_are_named_once():
    assert (Exit.OK, Exit.ATTENTION, Exit.BAD_INPUT, Exit.APPLY_FAILED, Exit.INTERNAL) == (0, 1, 2, 3, 70)
    assert Exit.FINDINGS is Exit.PARTIAL is Exit.ATTENTION  # one meaning: look at this
    src = (ROOT.parent / "src" / "nbdpath")
    offenders = [str(p.relative_to(src)) for p in src.rglob("*.py")
                 if p.name != "result.py" and any(line.lstrip().startswith(("EXIT_OK = 0", "EXIT_OK, "))
                                                  and "Exit." not in line for line in p.read_text().splitlines())]
    assert offenders == [], f"exit codes defined outside nbdpath.result: {offenders}"


def test_envelope_and_emitter(capsys, tmp_path):
    with pytest.raises(ValueError):
        envelope("x", {"kind": "y"})
    r = Result("demo", {"n": 1}, Exit.ATTENTION, text="one\n")
    assert emit(r, "json") == 1 and json.loads(capsys.readouterr().out) == {"version": 1, "kind": "demo", "n": 1}
    assert emit(r, "table", str(tmp_path / "o.txt")) == 1 and (tmp_path / "o.txt").read_text() == "one\n"
