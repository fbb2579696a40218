"""apply's own fixture; the vcsim fixtures come from tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _journal_key_home(tmp_path_factory, monkeypatch):
    """Journals are sealed with a per-user key: the tests' key lives in a temp state dir, not the real one."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
