"""docs/lab.md names every `nbdpath lab` command and option, and each has help."""

from __future__ import annotations

from pathlib import Path

import click

from nbdpath.commands.lab import lab_group

DOC = (Path(__file__).resolve().parents[2] / "docs" / "lab.md").read_text()


def test_every_lab_command_and_option_is_documented():
    missing = []
    for name, cmd in lab_group.commands.items():
        if f"nbdpath lab {name}" not in DOC:
            missing.append(f"command {name}")
        if not (cmd.help or "").strip():
            missing.append(f"help of {name}")
        for param in cmd.params:
            if isinstance(param, click.Option):
                flag = max(param.opts, key=len)
                if flag not in DOC:
                    missing.append(f"{name} {flag}")
                if not (param.help or "").strip():
                    missing.append(f"help of {name} {flag}")
    assert missing == []
