"""esxcli verbs on a snapshot copy, rollback, and diff."""

import pytest

from nbdpath import labs
from nbdpath.engine import trace
from nbdpath.errors import UsageError
from nbdpath.plan import changes, diff, esxcli


def test_tag_add_then_inverse_restores_snapshot():
    snap = labs.load("rubrik-mixed-speed")
    change = esxcli.parse("network ip interface tag add -i vmk4 -t vSphereBackupNFC".split(), snap, "esx01.corp.local")
    new = changes.apply(snap, change)
    assert new != snap
    back = changes.apply_all(new, changes.inverse(change, snap))
    assert back == snap
    moved = diff.diff(trace(snap), trace(new))
    assert {(c.host, c.verdict_before, c.verdict_after) for c in moved} == {("esx01.corp.local", "ASYMMETRIC", "ISOLATED")}


def test_route_add_remove_and_list():
    snap = labs.load("veeam-tag-routed")
    add = esxcli.parse("esxcli network ip route ipv4 add -n 10.40.0.0/24 -g 10.30.0.1".split(), snap, "esx01.lab.local")
    new = changes.apply(snap, add)
    listing = esxcli.parse("network ip route ipv4 list".split(), new, "esx01.lab.local").render()
    assert "10.40.0.0  255.255.255.0  10.30.0.1  vmk2" in listing
    assert listing.splitlines()[0].split() == ["Network", "Netmask", "Gateway", "Interface", "Source"]
    with pytest.raises(UsageError, match="already on defaultTcpipStack"):
        changes.apply(new, add)
    rm = esxcli.parse("network ip route ipv4 remove -n 10.40.0.0/24 -g 10.30.0.1".split(), new, "esx01.lab.local")
    assert changes.apply(new, rm) == snap


def test_read_verbs_look_like_esxcli():
    snap = labs.load("veeam-tag-l2")
    assert esxcli.parse("network ip interface tag get -i vmk0".split(), snap, "esx01.lab.local").render() == "   Tags: Management\n"
    listing = esxcli.parse("network ip interface list".split(), snap, "esx01.lab.local").render()
    assert "   Netstack Instance: defaultTcpipStack" in listing and listing.startswith("vmk0\n   Name: vmk0")


@pytest.mark.parametrize("argv, message", [
    ("network ip interface tag add -i vmk9 -t vSphereBackupNFC", "no vmk9"),
    ("network ip interface tag add -i vmk2", "missing required option -t"),
    ("network ip interface tag add -i vmk2 -t Bogus", "unknown service tag"),
    ("network firewall ruleset list", "unsupported esxcli command"),
    ("network ip route ipv4 add -n 10.40.0.0/24 -x 1", "unexpected argument"),
])
def test_bad_esxcli_usage(argv, message):
    snap = labs.load("veeam-tag-l2")
    with pytest.raises(UsageError, match=message):
        result = esxcli.parse(argv.split(), snap, "esx01.lab.local")
        changes.apply(snap, result)


def test_renderers():
    c = changes.RouteAdd("esx01", "10.40.0.0/24", "10.30.0.1", "vmotion")
    assert changes.esxcli(c) == "esxcli network ip route ipv4 add -n 10.40.0.0/24 -g 10.30.0.1 -N vmotion"
    assert changes.powercli(c) == ("(Get-EsxCli -VMHost 'esx01' -V2).network.ip.route.ipv4.add.Invoke("
                                   "@{network='10.40.0.0/24'; gateway='10.30.0.1'; netstack='vmotion'})")
    t = changes.TagAdd("esx01", "vmk2")
    assert changes.govc(t) == "govc host.vnic.service -host 'esx01' vSphereBackupNFC vmk2"
