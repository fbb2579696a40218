"""The Ansible playbook run for real against vCenter's simulator (issue 10): discover -> plan ->
`ansible-playbook` with community.vmware's vmware_vmkernel -> discover again. The tag moves and
nothing else on the vmk does (every enable_* flag was restated)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nbdpath import labs
from nbdpath.model import Snapshot
from nbdpath.plan import plan as plan_mod
from nbdpath.sources import extra as merge_mod
from nbdpath.sources import vcenter

pytestmark = pytest.mark.vcsim
PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def _discover(sim) -> Snapshot:
    return vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                            vcenter.ConnectOptions(ca_file=str(sim.cert))).snapshot


@pytest.mark.skipif(not PLAYBOOK.exists() and not os.environ.get("CI"), reason="ansible is not installed")
def test_playbook_takes_the_tag_off_and_keeps_the_rest(run_vcsim, tmp_path):
    lab = labs.load("veeam-tag-unreachable")  # vmk2 carries the tag on an address no node reaches: NBD004
    sim = run_vcsim(lab)
    found = _discover(sim)
    estate = merge_mod.merge(found, Snapshot(segments=lab.segments, routers=lab.routers,
                                             backup_nodes=lab.backup_nodes, dns=lab.dns), "lab")
    before = {v.device: v.services for v in estate.hosts[0].vmks}
    assert "vSphereBackupNFC" in before["vmk2"] and "management" in before["vmk0"]
    book = tmp_path / "plan.yml"
    book.write_text(plan_mod.render_script(plan_mod.build(estate), "ansible"))
    host, _, port = sim.server.removeprefix("https://").rpartition(":")
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ah"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "at"),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0"}
    r = subprocess.run([str(PLAYBOOK), "-i", "localhost,", "-c", "local", str(book),
                        "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"vcenter_hostname={host}",
                        "-e", f"vcenter_port={port}", "-e", f"vcenter_username={sim.user}",
                        "-e", f"vcenter_password={sim.password}", "-e", "vcenter_validate_certs=false"],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "changed=1" in r.stdout and "failed=0" in r.stdout
    after = {v.device: v.services for v in _discover(sim).hosts[0].vmks}
    assert after["vmk2"] == tuple(s for s in before["vmk2"] if s != "vSphereBackupNFC")
    assert after["vmk0"] == before["vmk0"]
