"""Golden traces per built-in lab (issue 10): the hop-by-hop text of every pair and its JSON,
as reviewed by hand. A change to the engine that moves any step shows up here as a diff.

Refresh after an intended change: ``pytest tests/engine/test_golden.py --update-golden``,
then read ``git diff tests/engine/golden`` before committing it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbdpath import labs
from nbdpath.engine import ASSUMPTIONS, Engine
from nbdpath.render import explain_text
from nbdpath.rules import check

GOLDEN = Path(__file__).parent / "golden"


def _render(lab: str) -> tuple[str, str]:
    engine = Engine(labs.load(lab))
    paths = engine.trace()
    findings = check(engine, paths)
    text = "\n".join(explain_text(lab, p, [f for f in findings if f.host == p.host and (not f.nodes or p.node in f.nodes)],
                                  ASSUMPTIONS) for p in paths)
    doc = json.dumps([p.to_dict(with_hops=True) for p in paths], indent=1, sort_keys=True) + "\n"
    return text, doc


@pytest.mark.parametrize("lab", labs.names())
def test_trace_matches_golden(lab, request):
    text, doc = _render(lab)
    files = {GOLDEN / f"{lab}.txt": text, GOLDEN / f"{lab}.json": doc}
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        for path, content in files.items():
            path.write_text(content)
    for path, content in files.items():
        assert path.exists(), f"no golden file {path.name}: run with --update-golden and review it"
        assert content == path.read_text(), f"{path.name} differs: run with --update-golden and review the diff"


def test_every_golden_file_belongs_to_a_lab():
    names = set(labs.names())
    assert {p.stem for p in GOLDEN.glob("*.*")} <= names
