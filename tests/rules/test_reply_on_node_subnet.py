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


def test_nbd001_manual_steps_fit_the_switch_and_know_the_netmask():
    """Issue 10 review: on a distributed switch `interface add` needs --dvs-name/--dvport-id, not -p."""
    import yaml

    from nbdpath import labs
    from nbdpath.model import parse

    def manual(snap):
        engine = Engine(snap)
        [f] = [f for f in check(engine, engine.trace()) if f.rule == "NBD001"]
        return f.fix.manual

    standard = manual(labs.load("tag-wrong-stack"))
    assert "esxcli network ip interface add -i vmk2 -p 'Backup'" in standard
    assert "esxcli network ip interface ipv4 set -i vmk2 -I 10.30.0.11 -N 255.255.255.0 -t static" in standard
    data = yaml.safe_load(labs.text("tag-wrong-stack"))
    host = data["hosts"][0]
    host["vswitches"] = host["vswitches"][:1]
    host["dvswitches"] = [{"switch": "dvs-backup", "uplinks": {"uplink1": "vmnic1"}}]
    data["dvswitches"] = [{"name": "dvs-backup", "uplink_ports": ["uplink1"], "portgroups": [{"name": "Backup", "vlan": 30}]}]
    dvs = manual(parse(yaml.safe_dump(data), "dvs.yaml"))
    assert "esxcli network ip interface add -i vmk2 --dvs-name 'dvs-backup' --dvport-id '<a free port of Backup>'" in dvs
    assert not any(" -p " in m for m in dvs)
