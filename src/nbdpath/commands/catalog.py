"""labs, schema, rules: what nbdpath knows (its built-in labs, its snapshot schema, its rules)."""

from __future__ import annotations

import json
import textwrap

import click

from .. import labs as labs_mod
from ..model import json_schema
from ..result import Exit, Result, emit
from ..rules import RULES
from ..safetext import terminal
from .core import _emit


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
def labs(fmt):
    """List the built-in labs."""
    rows = []
    for n in labs_mod.names():
        s = labs_mod.load(n)
        rows.append({"name": n, "hosts": len(s.hosts), "backup_nodes": len(s.backup_nodes),
                     "description": " ".join(s.description.split())})
    # Descriptions wrap at word boundaries under their column, never cut mid-word.
    lines = []
    for r in rows:
        wrapped = textwrap.wrap(r["description"], 80) or [""]
        lines.append(f"{r['name']:24} {r['hosts']:2} hosts {r['backup_nodes']:2} nodes  {wrapped[0]}")
        lines += [" " * 45 + w for w in wrapped[1:]]
    return emit(Result("labs", {"labs": rows}, text=terminal("\n".join(lines))), fmt)

@click.command()
def schema():
    """Print the JSON Schema of snapshot files."""
    # The schema document is JSON Schema's own (its "$schema" and "version" keys), not a result envelope.
    _emit(json.dumps(json_schema(), indent=2) + "\n")
    return Exit.OK

@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
def rules(fmt):
    """List the check rules with their stable IDs."""
    ordered = [RULES[k] for k in sorted(RULES)]
    rows = [{"id": r.id, "name": r.name, "severity": r.severity.value, "title": r.title,
             "explanation": r.explanation} for r in ordered]
    text = "\n".join(f"{r.id} {r.severity.value:7} {r.name}: {r.title}" for r in ordered)
    return emit(Result("rules", {"rules": rows}, text=text), fmt)


def register(cli: click.Group) -> None:
    for command in (labs, schema, rules):
        cli.add_command(command)
