"""Partial esxcli sets (the norm in real captures): build what is there, list the rest under missing."""

from __future__ import annotations

import esxcli_render as render
import pytest

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.model import load_file
from nbdpath.sources import esxcli

HOST = "veeam-tag-l2"


def lab_host():
    return labs.load(HOST).hosts[0]


def written_without(tmp_path, *keys):
    host = lab_host()
    d = render.write_host(host, tmp_path / "h")
    for key in keys:
        for f in d.glob(f"{key}*.txt"):
            f.unlink()
    return host, d


def test_interface_list_and_ipv4_get_alone_give_the_vmks_on_stand_in_port_groups(tmp_path):
    host, d = written_without(tmp_path, "network_nic_list", "network_vswitch_standard", "network_ip_route",
                              "network_ip_netstack_list")
    snap = esxcli.import_hosts([str(d)], [host.name])
    got = snap.hosts[0]
    assert [(v.device, v.ipv4, v.mac, v.portgroup) for v in got.vmks] == [
        (v.device, v.ipv4, v.mac, v.portgroup) for v in host.vmks]
    assert got.pnics == ()
    assert [sw.name for sw in got.vswitches] == [esxcli.STAND_IN_SWITCH]
    for key in ("network_nic_list", "network_vswitch_standard_list", "network_vswitch_standard_portgroup_list"):
        assert esxcli.COMMANDS[key] in snap.missing[f"{host.name}:{key}"]
    for v in host.vmks:
        assert "stand-in" in snap.missing[f"{host.name}:{v.portgroup}:portgroup"]


def test_nic_list_alone_gives_the_pnics(tmp_path):
    host, d = written_without(tmp_path, *[k for k in esxcli.REQUIRED if k != "network_nic_list"])
    snap = esxcli.import_hosts([str(d)], [host.name])
    got = snap.hosts[0]
    assert [(p.name, p.speed_mbps, p.mac) for p in got.pnics] == [(p.name, p.speed_mbps, p.mac) for p in host.pnics]
    assert got.vmks == () and got.vswitches == ()
    assert "no vmks" in snap.missing[f"{host.name}:network_ip_interface_list"]


def test_without_nic_list_the_uplinks_get_stand_in_pnics(tmp_path):
    host, d = written_without(tmp_path, "network_nic_list")
    snap = esxcli.import_hosts([str(d)], [host.name])
    got = snap.hosts[0]
    uplinks = [u for sw in host.vswitches for u in sw.uplinks]
    assert [p.name for p in got.pnics] == uplinks
    assert all(p.speed_mbps is None for p in got.pnics)
    assert [sw.name for sw in got.vswitches] == [sw.name for sw in host.vswitches]


def test_without_portgroup_list_the_vswitch_list_names_the_port_groups(tmp_path):
    host, d = written_without(tmp_path, "network_vswitch_standard_portgroup_list.txt")
    (d / "network_vswitch_standard_portgroup_list.txt").unlink()
    snap = esxcli.import_hosts([str(d)], [host.name])
    got = snap.hosts[0]
    assert {(sw.name, pg.name) for sw in got.vswitches for pg in sw.portgroups} == {
        (sw.name, pg.name) for sw in host.vswitches for pg in sw.portgroups}
    assert "VLANs unknown" in snap.missing[f"{host.name}:network_vswitch_standard_portgroup_list"]


def test_without_ipv4_get_the_vmks_have_no_address_and_one_line_says_so(tmp_path):
    host, d = written_without(tmp_path, "network_ip_interface_ipv4_get")
    snap = esxcli.import_hosts([str(d)], [host.name])
    assert [v.ipv4 for v in snap.hosts[0].vmks] == [None] * len(host.vmks)
    assert not any(k.endswith(":ipv4") for k in snap.missing)
    assert "addresses unknown" in snap.missing[f"{host.name}:network_ip_interface_ipv4_get"]


def test_port_group_row_on_an_unlisted_vswitch_is_reported(tmp_path):
    host, d = written_without(tmp_path)
    rows = [[p.name, s.name, "1", str(p.vlan)] for s in host.vswitches for p in s.portgroups] + [
        ["Ghost PG", "vSwitch9", "0", "12"]]
    (d / "network_vswitch_standard_portgroup_list.txt").write_text(
        render.table(["Name", "Virtual Switch", "Active Clients", "VLAN ID"], rows, right=("Active Clients", "VLAN ID")))
    snap = esxcli.import_hosts([str(d)], [host.name])
    assert "vSwitch9" in snap.missing[f"{host.name}:Ghost PG:portgroup"]
    assert "Ghost PG" not in {pg.name for sw in snap.hosts[0].vswitches for pg in sw.portgroups}


def test_partial_import_exits_1_and_writes_the_snapshot(tmp_path):
    host, d = written_without(tmp_path, "network_vswitch_standard")
    out = tmp_path / "out.yaml"
    assert main(["import", "esxcli", str(d), "--host", host.name, "-o", str(out)]) == 1
    assert f"{host.name}:network_vswitch_standard_list" in load_file(out).missing
