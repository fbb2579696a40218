"""Discovery reads each host's routing table (routeTableInfo) from vcsim into Netstack.route_table.

What the launcher serves (main.go rebuildRouteTable): for the default stack, a
connected row per vmk in creation order with its device, the static routes and
the default route without a device; nothing for other stacks, whose
routeTableConfig holds configured routes only (so their table stays unread).
"""

from __future__ import annotations

import ipaddress

import pytest
from pyVmomi import vim
from test_launcher_methods import rediscover, session  # noqa: F401  (fixture)
from test_roundtrip import by_vcenter, merge_file_for

from nbdpath import engine, labs
from nbdpath.model import Snapshot
from nbdpath.sources import extra as merge_mod
from nbdpath.sources import vcenter

pytestmark = pytest.mark.vcsim


def rows(stack):
    return [(r.network, r.gateway, r.device, r.source) for r in stack.route_table]


@pytest.mark.parametrize("name", labs.names())
def test_connected_rows_name_each_vmk_and_the_default_goes_via_the_stack_gateway(name, run_vcsim, tmp_path):
    lab = labs.load(name)
    sims = [run_vcsim(part) for part in by_vcenter(lab).values()]
    ca = tmp_path / "ca.pem"
    ca.write_text("".join(s.cert.read_text() for s in sims))
    found = vcenter.discover([s.server for s in sims], vcenter.Credentials(sims[0].user, sims[0].password),
                             vcenter.ConnectOptions(ca_file=str(ca)))
    assert not found.missing
    for want in lab.hosts:
        got = next(h for h in found.snapshot.hosts if h.name == want.name)
        for stack in got.netstacks:
            if stack.key != "defaultTcpipStack":
                assert stack.route_table is None  # configured routes only: not the host's table
                continue
            mine = [v for v in want.vmks if v.netstack == stack.key and v.ipv4]
            connected = [(r.network, r.device) for r in stack.route_table if r.source == "local"]
            assert connected == [(str(ipaddress.ip_interface(v.ipv4).network), v.device) for v in mine]
            configured = next(s for s in want.netstacks if s.key == stack.key)
            assert [(r.network, r.gateway) for r in stack.route_table if r.source == "manual"] == [
                (r.network, r.gateway) for r in configured.routes]
            defaults = [r.gateway for r in stack.route_table if r.source == "default"]
            assert defaults == ([configured.gateway] if configured.gateway else [])


def test_a_vmk_created_later_with_a_lower_number_comes_after_in_the_table(session):  # noqa: F811
    # vmk2 holds 10.30.0.0/24; the new vmk gets the free number vmk1 but is created after it.
    sim, hosts = session
    ns = hosts["esx01.lab.local"].configManager.networkSystem
    spec = vim.host.VirtualNic.Specification(ip=vim.host.IpConfig(dhcp=False, ipAddress="10.30.0.99",
                                                                  subnetMask="255.255.255.0"))
    device = ns.AddVirtualNic(portgroup="Backup", nic=spec)
    assert device == "vmk1"
    (stack,) = rediscover(sim)["esx01.lab.local"].netstacks
    subnet = [r.device for r in stack.route_table if r.network == "10.30.0.0/24" and r.source == "local"]
    assert subnet == ["vmk2", "vmk1"]
    ns.RemoveVirtualNic("vmk1")
    (stack,) = rediscover(sim)["esx01.lab.local"].netstacks
    assert [r.device for r in stack.route_table if r.network == "10.30.0.0/24"] == ["vmk2"]


def test_a_static_route_added_through_the_api_shows_as_manual(session):  # noqa: F811
    sim, hosts = session
    ns = hosts["esx01.lab.local"].configManager.networkSystem
    ns.UpdateIpRouteTableConfig(vim.host.IpRouteTableConfig(ipRoute=[vim.host.IpRouteOp(
        changeOperation="add", route=vim.host.IpRouteEntry(network="10.40.0.0", prefixLength=24, gateway="10.30.0.1"))]))
    (stack,) = rediscover(sim)["esx01.lab.local"].netstacks
    assert ("10.40.0.0/24", "10.30.0.1", None, "manual") in rows(stack)


def test_the_connected_row_not_the_vmk_number_picks_the_sender(run_vcsim, tmp_path):
    """same-subnet-vmks with vmk2 created before vmk0: the host's table, not A3's number order, decides."""
    lab = labs.load("same-subnet-vmks")
    (host,) = lab.hosts
    created_first = host.model_copy(update={"vmks": tuple(reversed(host.vmks))})  # the launcher creates in this order
    sim = run_vcsim(Snapshot(hosts=(created_first,), dvswitches=lab.dvswitches))
    found = vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                             vcenter.ConnectOptions(ca_file=str(sim.cert)))
    merged = merge_mod.merge(found.snapshot, merge_mod.parse_merge(merge_file_for(lab), "merge.yaml"), "merge.yaml")
    (stack,) = merged.hosts[0].netstacks
    assert [r.device for r in stack.route_table if r.network == "10.10.0.0/24"][0] == "vmk2"
    guessed = {p.node: p.outcome for p in engine.trace(lab)}
    observed = {p.node: p.outcome for p in engine.trace(merged)}
    assert {n: o.egress_vmk for n, o in guessed.items()} == {n: "vmk0" for n in guessed}
    assert {n: o.egress_vmk for n, o in observed.items()} == {n: "vmk2" for n in guessed}
    assert all("A3-same-subnet-first-vmk" in o.assumptions for o in guessed.values())
    assert not any("A3-same-subnet-first-vmk" in o.assumptions for o in observed.values())
