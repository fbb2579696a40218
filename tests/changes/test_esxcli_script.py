"""The esxcli plan script's guard: a section runs only on the host it was made for."""

from __future__ import annotations

import subprocess

import pytest

from nbdpath.safetext import sh


def _guard_line() -> str:
    from nbdpath import labs
    from nbdpath.plan import plan as plan_mod

    text = plan_mod.render_script(plan_mod.build(labs.load("veeam-tag-routed")), "esxcli")
    return next(line for line in text.splitlines() if line.startswith("is_host()"))


@pytest.mark.parametrize("running_on, planned, runs", [
    ("esx01.corp.local", "esx01.corp.local", True),
    ("esx01", "esx01.corp.local", True),         # ESXi often reports its short name
    ("esx01.corp.local", "esx01", True),         # the snapshot has the short one
    ("esx01.site-a.local", "esx01.site-b.local", False),
    ("esx01", "esx02.corp.local", False),
    (".", ".1", False),                          # names with an empty first label never match each other
    ("", "esx01", False),
])
def test_is_host(running_on, planned, runs):
    shown = sh(running_on) if running_on else "''"
    # hostname is a shell function here, so is_host's $(hostname) finds it before any binary.
    script = f"hostname() {{ printf '%s\\n' {shown}; }}\n{_guard_line()}\nis_host {sh(planned)}\n"
    r = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert (r.returncode == 0) is runs, (running_on, planned, r.stderr)
