"""docs/apply.md stays complete: every option, status, journal state and JSON kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbdpath.apply import Status
from nbdpath.apply.journal import STATES, STEP_STATUSES
from nbdpath.commands.apply import apply_cmd

DOC = (Path(__file__).parents[2] / "docs" / "apply.md").read_text()


@pytest.mark.parametrize("option", [o for p in apply_cmd.params if p.param_type_name == "option" for o in p.opts])
def test_every_option_is_documented(option):
    assert f"`{option}" in DOC


@pytest.mark.parametrize("word", [s.value for s in Status] + list(STEP_STATUSES) + list(STATES)
                         + ["apply-dry-run", "rollback-dry-run"])
def test_every_status_state_and_kind_is_documented(word):
    assert f"`{word}`" in DOC or f"**{word}**" in DOC


def test_the_command_has_help():
    assert apply_cmd.help and "DRY RUN" in apply_cmd.help
