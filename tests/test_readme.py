"""The README stays true (issue 10 review: its what-if example disagreed with the output).

Every console example (a block starting ``$ nbdpath``) is run and must print what the README shows
(trailing blanks aside); every command line in a ``sh`` block must parse: the command exists and
takes those options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from nbdpath.cli import cli, main

README = (Path(__file__).parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"^```([a-z]*)\n(.*?)^```$", README, re.MULTILINE | re.DOTALL)
CONSOLE = [body for lang, body in BLOCKS if body.startswith("$ nbdpath ")]
LINES = [line.split("  #")[0].strip() for lang, body in BLOCKS if lang == "sh" for line in body.splitlines()
         if line.startswith("nbdpath ")]


def _norm(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").splitlines()]


def test_readme_has_examples():
    assert len(CONSOLE) >= 3 and len(LINES) >= 8


@pytest.mark.parametrize("body", CONSOLE, ids=[b.splitlines()[0][2:60] for b in CONSOLE])
def test_console_example_is_todays_output(body, capsys):
    command, _, shown = body.partition("\n")
    main(shlex.split(command[2:])[1:])
    assert _norm(capsys.readouterr().out) == _norm(shown)


@pytest.mark.parametrize("line", LINES)
def test_shell_example_parses(line):
    args = shlex.split(line.split(" > ")[0].split(" | ")[0])[1:]
    cmd: click.Command = cli
    while isinstance(cmd, click.Group):
        name, *args = args
        sub = cmd.get_command(click.Context(cmd), name)
        assert sub is not None, f"{line}: no command {name!r}"
        cmd = sub
    cmd.make_context(name, list(args))  # raises on an unknown option or a bad value
