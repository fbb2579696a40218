"""Fixtures for tests against the vCenter simulator (see vcsim_launcher.py)."""

from __future__ import annotations

import os

import pytest
import vcsim_launcher


@pytest.fixture(scope="session")
def vcsim_binary():
    try:
        return vcsim_launcher.build()
    except vcsim_launcher.Unavailable as exc:
        if os.environ.get("CI"):  # scripts/test.sh installs Go and govmomi: under CI the simulator must run
            pytest.fail(f"vcsim cannot be built under CI: {exc}")
        pytest.skip(f"vcsim cannot be built here: {exc}")


@pytest.fixture
def run_vcsim(vcsim_binary, tmp_path):
    """Start simulators loaded with snapshots; all are stopped at teardown."""
    started = []

    def start(snap, **kw):
        sim = vcsim_launcher.start(snap, tmp_path / f"vc{len(started)}", **kw)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
