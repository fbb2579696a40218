"""NBD017 (issue 10 review): a node on the management subnet routed to the tagged vmk.

Before, only NBD006 fired, its fix pointed to NBD005 / NBD009 (which did not fire) and `plan`
had nothing to change. The fixture is veeam-tag-routed's esx01 with the proxy moved to 10.10.0.0/24."""

from pathlib import Path

from nbdpath.engine import Engine
from nbdpath.model import load_file
from nbdpath.plan import plan as plan_mod
from nbdpath.rules import check

SNAP = load_file(str(Path(__file__).parent / "data" / "node-on-mgmt-routed.yaml"))


def test_nbd017_fires_with_a_host_route_that_beats_the_connected_one():
    engine = Engine(SNAP)
    found = {f.rule: f for f in check(engine, engine.trace())}
    assert {"NBD006", "NBD017"} <= set(found)
    [change] = found["NBD017"].fix.changes
    assert (change.network, change.gateway) == ("10.10.0.50/32", "10.30.0.1")
    assert "NBD017" in found["NBD006"].fix.summary


def test_plan_isolates_the_pair_and_resolves_both_findings():
    p = plan_mod.build(SNAP)
    assert [s.change.describe() for s in p.steps] == [
        "add route 10.10.0.50/32 via 10.30.0.1 (defaultTcpipStack) on esx01.lab.local"]
    [pc] = p.path_changes
    assert (pc.verdict_before, pc.verdict_after) == ("NOT_ISOLATED", "ISOLATED")
    assert {f.rule for f in p.resolved} == {"NBD006", "NBD017"} and not p.introduced
    assert "-> None" not in plan_mod.render_text(p) and "-> none" in plan_mod.render_text(p)


def test_a_node_on_the_tagged_subnet_does_not_raise_it():
    data = SNAP.model_dump()
    data["backup_nodes"][0]["interfaces"][0]["address"] = "10.30.0.50/24"
    data["backup_nodes"][0]["gateway"] = "10.30.0.1"
    from nbdpath.model import Snapshot

    snap = Snapshot.model_validate(data)
    engine = Engine(snap)
    assert "NBD017" not in {f.rule for f in check(engine, engine.trace())}


def test_nbd001_fix_is_changes_that_fit_the_switch_and_know_the_netmask():
    """Issue 10: NBD001's fix is structured changes (untag, remove, recreate on the default stack), no esxcli
    text in the rule; rendered, the recreate names a standard port group with -p and a distributed one by
    its switch and a port the admin picks, never -p."""
    import yaml

    from nbdpath import labs
    from nbdpath import changes as ch
    from nbdpath.changes import render
    from nbdpath.model import parse

    def fix(snap):
        engine = Engine(snap)
        [f] = [f for f in check(engine, engine.trace()) if f.rule == "NBD001"]
        return f.fix

    # vmk2 with vmk1 free: the host would give a recreated vmk the name vmk1, so the removal cannot be
    # undone and is not proposed; the rest is a manual step in words.
    lab = fix(labs.load("tag-wrong-stack"))
    assert [type(c) for c in lab.changes] == [ch.TagRemove] and not any("esxcli" in m for m in lab.manual)
    data = yaml.safe_load(labs.text("tag-wrong-stack").replace("device: vmk2", "device: vmk1"))
    standard = fix(parse(yaml.safe_dump(data), "vmk1.yaml"))
    assert standard.manual == ()
    assert [type(c) for c in standard.changes] == [ch.TagRemove, ch.VmkRemove, ch.VmkAdd]
    untag, remove, add = standard.changes
    assert remove.reversible and remove.opposite() == (ch.VmkAdd(add.host, "vmk1", "Backup", "10.30.0.11/24", "backupStack",
                                                                 add.mtu, (), None),)
    assert (add.vmk, add.netstack, add.ipv4, add.services) == ("vmk1", "defaultTcpipStack", "10.30.0.11/24",
                                                              ("vSphereBackupNFC",))
    text = render.command("esxcli", add)
    assert "esxcli network ip interface add -i vmk1 -p 'Backup'" in text
    assert "esxcli network ip interface ipv4 set -i vmk1 -I 10.30.0.11 -N 255.255.255.0 -t static" in text
    host = data["hosts"][0]
    host["vswitches"] = host["vswitches"][:1]
    host["dvswitches"] = [{"switch": "dvs-backup", "uplinks": {"uplink1": "vmnic1"}}]
    data["dvswitches"] = [{"name": "dvs-backup", "uplink_ports": ["uplink1"], "portgroups": [{"name": "Backup", "vlan": 30}]}]
    dvs_add = fix(parse(yaml.safe_dump(data), "dvs.yaml")).changes[-1]
    assert dvs_add.switch == "dvs-backup"
    dvs = render.command("esxcli", dvs_add)
    assert "esxcli network ip interface add -i vmk1 --dvs-name 'dvs-backup' --dvport-id '<a free port of Backup>'" in dvs
    assert " -p " not in dvs
