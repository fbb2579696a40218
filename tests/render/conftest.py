"""Reports of the built-in labs, and one whose every name is hostile markup."""

from __future__ import annotations

import pytest
from render_helpers import hostile_snapshot

from nbdpath import labs
from nbdpath.commands.core import build_report
from nbdpath.render import Report


@pytest.fixture(scope="session")
def all_labs_report() -> Report:
    return build_report([(n, labs.load(n)) for n in labs.names()])


@pytest.fixture(scope="session")
def hostile_report() -> Report:
    return build_report([("snap <script>&", hostile_snapshot())])
