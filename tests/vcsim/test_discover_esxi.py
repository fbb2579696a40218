"""Discovery pointed at one ESXi host (hostd) instead of vCenter."""

from __future__ import annotations

import pytest

from test_roundtrip import merge_file_for, signature

from nbdpath import engine, labs
from nbdpath.model import Snapshot
from nbdpath.sources import extra as merge_mod
from nbdpath.sources import vcenter

pytestmark = pytest.mark.vcsim


def discover(sim):
    return vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                            vcenter.ConnectOptions(ca_file=str(sim.cert)))


def test_standard_switch_host_reads_like_through_vcenter(run_vcsim):
    lab = labs.load("veeam-tag-routed")
    host = lab.hosts[1]
    found = discover(run_vcsim(Snapshot(hosts=(host,)), esx=True))
    assert found.missing == {}
    (got,) = found.snapshot.hosts
    described = tuple(s.model_copy(update={"route_table": None}) for s in got.netstacks)  # the table: tests/vcsim/test_route_table.py
    assert (got.name, got.version, described, got.vmks) == (host.name, host.version, host.netstacks, host.vmks)
    one_host_lab = lab.model_copy(update={"hosts": (host,)})
    extra = merge_mod.parse_merge(merge_file_for(lab), "merge.yaml")
    merged = merge_mod.merge(found.snapshot, extra, "merge.yaml")
    assert signature(engine.trace(merged)) == signature(engine.trace(one_host_lab))


def test_host_on_a_distributed_switch_is_skipped_and_says_why(run_vcsim):
    lab = labs.load("mixed-estate")
    host = next(h for h in lab.hosts if h.dvswitches)
    used = {m.switch for m in host.dvswitches}
    snap = Snapshot(hosts=(host,), dvswitches=tuple(d for d in lab.dvswitches if d.name in used))
    found = discover(run_vcsim(snap, esx=True))
    assert found.snapshot.hosts == ()
    assert "distributed switch" in found.missing[host.name] and "did not return" in found.missing[host.name]
