"""Every built-in lab: snapshot -> vcsim -> discover -> trace == trace of the lab."""

from __future__ import annotations

import pytest

from nbdpath import engine, labs
from nbdpath.model import Snapshot, dump
from nbdpath.sources import extra as merge_mod
from nbdpath.sources import vcenter

pytestmark = pytest.mark.vcsim


def merge_file_for(lab: Snapshot) -> str:
    """What an admin writes by hand: the lab's nodes, routers, segments and DNS."""
    extra = Snapshot(segments=lab.segments, routers=lab.routers, backup_nodes=lab.backup_nodes, dns=lab.dns)
    return dump(extra)


def by_vcenter(lab: Snapshot) -> dict[str, Snapshot]:
    groups: dict[str, list] = {}
    for h in lab.hosts:
        groups.setdefault(h.vcenter or "vc", []).append(h)
    out = {}
    for vc, hosts in groups.items():
        used = {m.switch for h in hosts for m in h.dvswitches}
        out[vc] = Snapshot(hosts=tuple(hosts), dvswitches=tuple(d for d in lab.dvswitches if d.name in used))
    return out


def signature(paths) -> list[tuple]:
    return sorted(
        (
            p.host, p.node, p.endpoint.ip, p.endpoint.vmk, p.outcome.ingress_vmk, p.outcome.egress_vmk,
            tuple((u.name, u.speed_mbps, u.link_up, u.role) for u in p.outcome.egress_uplinks),
            p.outcome.uplink_policy, p.outcome.bottleneck_mbps, p.outcome.best_available_mbps,
            p.outcome.verdict.value, p.outcome.verdict_reason, p.outcome.degraded, p.outcome.assumptions,
        )
        for p in paths
    )


def without_route_tables(snap: Snapshot) -> Snapshot:
    hosts = tuple(h.model_copy(update={"netstacks": tuple(s.model_copy(update={"route_table": None}) for s in h.netstacks)})
                  for h in snap.hosts)
    return snap.model_copy(update={"hosts": hosts})


def drop_a3(sig: tuple) -> tuple:
    return sig[:-1] + (tuple(a for a in sig[-1] if a != "A3-same-subnet-first-vmk"),)


@pytest.mark.parametrize("name", labs.names())
def test_discovered_lab_traces_like_the_lab(name, run_vcsim, tmp_path):
    lab = labs.load(name)
    sims = [run_vcsim(part) for part in by_vcenter(lab).values()]
    creds = vcenter.Credentials(sims[0].user, sims[0].password)
    # One CA file trusting every simulator's own certificate.
    ca = tmp_path / "ca.pem"
    ca.write_text("".join(s.cert.read_text() for s in sims))
    found = vcenter.discover([s.server for s in sims], creds, vcenter.ConnectOptions(ca_file=str(ca), page_size=2))
    assert not found.missing
    extra = merge_mod.parse_merge(merge_file_for(lab), "merge.yaml")
    merged = merge_mod.merge(found.snapshot, extra, "merge.yaml")

    def host_facts(snap):
        return {h.name: (h.cluster, h.version, h.management_address or h.name) for h in snap.hosts}

    assert host_facts(merged) == host_facts(lab)
    # What the lab describes comes back as it was; the routing table read beside it is a fact
    # the lab leaves to assumption A3, so it only takes that assumption away.
    assert signature(engine.trace(without_route_tables(merged))) == signature(engine.trace(lab))
    assert [drop_a3(p) for p in signature(engine.trace(merged))] == [drop_a3(p) for p in signature(engine.trace(lab))]


@pytest.mark.parametrize("name, flags", [
    ("veeam-tag-routed", ["vbr-proxy02=10.40.0.50/24@10.40.0.1"]),
    ("veeam-tag-l2", ["vbr-proxy01=10.10.0.50/24,10.30.0.50/24@10.10.0.1"]),
])
def test_read_only_discovery_and_the_proxys_address_answer_without_a_network_model(name, flags, run_vcsim, tmp_path):
    """Issue 13: what an admin has (vCenter, the proxy's address) gives the lab's answers, with A11 named."""
    lab = labs.load(name)
    [sim] = [run_vcsim(part) for part in by_vcenter(lab).values()]
    ca = tmp_path / "ca.pem"
    ca.write_text(sim.cert.read_text())
    found = vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                             vcenter.ConnectOptions(ca_file=str(ca)))
    snap = merge_mod.merge(found.snapshot, None, nodes=merge_mod.parse_node_flags(flags), dns=dict(lab.dns))
    assert not snap.segments and not snap.routers
    got = {(p.host, p.node): p for p in engine.trace(snap)}
    want = {(p.host, p.node): p for p in engine.trace(lab)}
    assert got.keys() == want.keys()
    for key, p in want.items():
        g = got[key].outcome
        assert (g.ingress_vmk, g.egress_vmk, g.verdict) == (p.outcome.ingress_vmk, p.outcome.egress_vmk, p.outcome.verdict)
        assert ("A11-unmodelled-routing" in g.assumptions) == bool(p.outcome.forward_devices or p.outcome.reply_devices)
