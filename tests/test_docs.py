"""Docs stay complete: every rule, lab and assumption has its entry."""

from pathlib import Path

from nbdpath import labs
from nbdpath.engine import ASSUMPTIONS
from nbdpath.rules import RULES

DOCS = Path(__file__).parents[1] / "docs"


def test_rules_doc_lists_every_rule():
    text = (DOCS / "rules.md").read_text()
    for r in RULES.values():
        assert f"## {r.id} `{r.name}` ({r.severity.value})" in text


def test_labs_doc_lists_every_lab():
    text = (DOCS / "labs.md").read_text()
    for name in labs.names():
        assert f"## `{name}`" in text


def test_engine_doc_lists_every_assumption():
    text = (DOCS / "engine.md").read_text()
    for key, value in ASSUMPTIONS.items():
        assert f"| {key} | {value} |" in text
