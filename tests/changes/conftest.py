"""The vcsim fixtures of tests/vcsim (vcsim_binary, run_vcsim), shared rather than copied (as tests/apply does)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

VCSIM_DIR = Path(__file__).resolve().parents[1] / "vcsim"
if str(VCSIM_DIR) not in sys.path:
    sys.path.insert(0, str(VCSIM_DIR))

_spec = importlib.util.spec_from_file_location("nbdpath_vcsim_fixtures_changes", VCSIM_DIR / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

vcsim_binary = _fixtures.vcsim_binary
run_vcsim = _fixtures.run_vcsim


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _journal_key_home(tmp_path_factory, monkeypatch):
    """Journals are sealed with a per-user key: the tests' key lives in a temp state dir, not the real one."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
