"""docs/reports.md stays true: its examples are today's output, every format and option is described."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from nbdpath.cli import cli, main

DOC = Path(__file__).parents[2] / "docs" / "reports.md"
EXAMPLES = re.findall(r"^````console\n\$ (nbdpath [^\n]+)\n(.*?)^````$", DOC.read_text(), re.MULTILINE | re.DOTALL)


def test_doc_has_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_example_is_current_output(capsys, command, shown):
    main(shlex.split(command)[1:])
    assert capsys.readouterr().out == shown


@pytest.mark.parametrize("name", ["trace", "check", "explain", "plan"])
def test_every_report_format_and_output_option_documented(name):
    text = DOC.read_text()
    params = {p.name: p for p in cli.all_commands()[name].params}
    choices = params["fmt"].type
    assert isinstance(choices, click.Choice)
    for fmt in set(choices.choices) & {"markdown", "html"}:
        assert re.search(rf"^\| `{fmt}` \| [^|]*\b{name}\b", text, re.MULTILINE), (fmt, name)
    section = text.split("## `-o/--output FILE`", 1)[1].split("\n## ", 1)[0]
    assert ("output" in params) == (f"`{name}`" in section.split(" write any format", 1)[0]), name
