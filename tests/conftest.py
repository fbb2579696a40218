"""Suite-wide settings.

Under CI the property tests are derandomized: the same examples every run, so a
submission never fails on a shape no earlier run tried. Local runs stay random
(that is how the kernel lab found the gateway bug); set HYPOTHESIS_PROFILE=ci to
reproduce CI exactly.
"""

import importlib.util
import os
import sys
from pathlib import Path

from hypothesis import settings

# The vcsim fixtures of tests/vcsim (vcsim_binary, run_vcsim), for every test directory that drives the
# simulator (apply, changes), loaded once here rather than copied into each.
_VCSIM_DIR = Path(__file__).resolve().parent / "vcsim"
if str(_VCSIM_DIR) not in sys.path:
    sys.path.insert(0, str(_VCSIM_DIR))
_spec = importlib.util.spec_from_file_location("nbdpath_vcsim_fixtures", _VCSIM_DIR / "conftest.py")
_vcsim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_vcsim)
vcsim_binary = _vcsim.vcsim_binary
run_vcsim = _vcsim.run_vcsim

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") or os.environ.get("HYPOTHESIS_PROFILE") == "ci":
    settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite golden files (tests/engine/golden) from today's output; review the diff.")


def generated_fleet(hosts: int, nodes: int = 16):
    """A fleet from benchmarks/fleetgen.py as a Snapshot: what the fleet-size tests run on."""
    spec = importlib.util.spec_from_file_location("fleetgen", Path(__file__).resolve().parent.parent / "benchmarks" / "fleetgen.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fleetgen"] = mod
    spec.loader.exec_module(mod)
    from nbdpath.model import Snapshot

    return Snapshot.model_validate(mod.generate(hosts, nodes))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def fleet_of():
    """``fleet_of(hosts)``: :func:`generated_fleet`."""
    return generated_fleet


@pytest.fixture
def counted_forks(monkeypatch):
    """Forks allowed whatever else runs (nbdpath.io._can_fork), and each real fork's child pid
    listed in the parent: how the halves' tests see that a document was made by two processes."""
    from nbdpath import io as nbdpath_io

    forks: list[int] = []
    real_fork = nbdpath_io.os.fork

    def fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(nbdpath_io, "_can_fork", lambda: True)
    monkeypatch.setattr(nbdpath_io.os, "fork", fork)
    return forks
