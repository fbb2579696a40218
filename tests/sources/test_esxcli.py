"""Importing saved esxcli output: every known layout, bundles, and located errors."""

from __future__ import annotations

import tarfile
from pathlib import Path

import esxcli_render as render
import pytest

from nbdpath import engine, labs
from nbdpath.cli import main
from nbdpath.errors import InputError
from nbdpath.model import Snapshot, load_file
from nbdpath.sources import esxcli
from nbdpath.sources.esxcli import Text
from nbdpath.sources.extra import merge

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "format-samples-esxcli.txt"


def seed_section(title: str) -> str:
    """The verbatim sample under a '## title' heading of the shared format samples."""
    lines = SEEDS.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("## ") and title in l)
    body = []
    for l in lines[start + 1 :]:
        if l.startswith("## "):
            break
        body.append(l)
    return "\n".join(body) + "\n"


def seed_lines(after: str, count: int) -> list[str]:
    """``count`` verbatim lines following the line that contains ``after``."""
    lines = SEEDS.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if after in l)
    return lines[start + 1 : start + 1 + count]


needs_seeds = pytest.mark.skipif(not SEEDS.exists(), reason=f"shared format samples not at {SEEDS}")


# ---- the published samples, each known layout ----

@needs_seeds
def test_nic_list_both_layouts():
    modern = esxcli.nics(Text("nic.txt", seed_section("esxcli network nic list  (ESXi 6.5+")))
    assert [(n.name, n.speed_mbps, n.link_up, n.mac) for n in modern] == [
        ("vmnic0", 10000, True, "a4:bf:01:4e:37:14"), ("vmnic1", None, False, "a4:bf:01:4e:37:15")]
    old = esxcli.nics(Text("nic.txt", seed_section("ESXi 5.x/6.0 older form")))
    assert [(n.name, n.speed_mbps, n.link_up) for n in old] == [("vmnic0", 1000, True)]


@needs_seeds
def test_ipv4_get_with_and_without_gateway():
    header_and_row = seed_lines("ip interface ipv4 get  (ESXi 6.5+", 3)
    assert esxcli.ipv4(Text("a", "\n".join(header_and_row))) == [esxcli.Ipv4("vmk0", "172.30.30.176/24", "172.30.30.1")]
    # The multi-vmk capture is published without its header: it is the same layout.
    multi = header_and_row[:2] + seed_lines("## multi-vmk example:", 2)
    assert esxcli.ipv4(Text("b", "\n".join(multi))) == [
        esxcli.Ipv4("vmk0", "192.168.10.67/24", "192.168.10.62"), esxcli.Ipv4("vmk1", "172.25.3.67/22", None)]
    older = seed_lines("## older (no Gateway column)", 3)
    assert esxcli.ipv4(Text("c", "\n".join(older))) == [esxcli.Ipv4("vmk0", "192.168.5.116/24", None)]


@needs_seeds
def test_route_list_and_esxcfg_route():
    table = esxcli.routes(Text("r", "\n".join(seed_lines("## esxcli network ip route ipv4 list", 4))))
    assert (table.gateway, table.routes) == ("192.168.5.1", ())
    legacy = esxcli.routes(Text("r2", "\n".join(seed_lines("## companion esxcfg-route -l", 4))))
    assert (legacy.gateway, legacy.routes) == ("172.26.64.1", ())


def test_route_list_static_routes():
    text = render.table(["Network", "Netmask", "Gateway", "Interface", "Source"], [
        ["default", "0.0.0.0", "10.10.0.1", "vmk0", "MANUAL"],
        ["10.30.0.0", "255.255.255.0", "0.0.0.0", "vmk2", "MANUAL"],
        ["10.40.0.0", "255.255.255.0", "10.30.0.1", "vmk2", "MANUAL"],
    ])
    got = esxcli.routes(Text("r", text))
    assert got.gateway == "10.10.0.1"
    assert [(r.network, r.gateway) for r in got.routes] == [("10.40.0.0/24", "10.30.0.1")]


@needs_seeds
def test_interface_list_standard_and_vds_variants():
    text = seed_section("esxcli network ip interface list  (ESXi 7/8)").split("## VDS-attached")[0]
    (vmk0,) = esxcli.interfaces(Text("i", text))
    assert (vmk0.device, vmk0.portgroup, vmk0.netstack, vmk0.mtu, vmk0.mac) == (
        "vmk0", "Management", "defaultTcpipStack", 1500, "00:50:56:6c:01:11")
    vds = text.replace("Portset: vSwitch0", "Portset: DvsPortset-0").replace("Portgroup: Management", "Portgroup: N/A")
    vds = vds.replace("VDS Name: N/A", "VDS Name: vDS").replace("VDS Port: N/A", "VDS Port: 16")
    vds = vds.replace("Port ID: 33554443", "Port ID: 33554443\n   URPF: 0")  # VCF 9 adds keys: accepted
    (got,) = esxcli.interfaces(Text("i", vds))
    assert (got.portgroup, got.vds_name, got.vds_port) == (None, "vDS", "16")


@needs_seeds
def test_netstack_portgroup_and_failover_samples():
    assert esxcli.netstacks(Text("n", seed_section("ip netstack list"))) == ["defaultTcpipStack"]
    (pg,) = esxcli.portgroups(Text("p", seed_section("vswitch standard portgroup list")))
    assert (pg.name, pg.vswitch, pg.vlan) == ("Management", "vSwitch0", 0)
    body = "\n".join(seed_lines("## Expected shape (keys beyond the first seven", 12)) + "\n"
    fo = esxcli.failover(Text("f", body))
    assert (fo.policy, fo.active, fo.standby, fo.unused, fo.override_uplinks) == (
        "loadbalance_srcid", ("vmnic0",), ("vmnic1",), (), False)


def test_tag_get_accepts_esxcli_and_vcenter_spellings():
    assert esxcli.tags(Text("t", "   Tags: Management, VMotion, vSphereBackupNFC\n")) == (
        "management", "vmotion", "vSphereBackupNFC")
    assert esxcli.tags(Text("t", "Tags: \n")) == ()


# ---- unknown layouts: one error naming the file and line ----

def test_unknown_table_layout_names_file_and_header_line():
    text = "\nName    Driver  Speed\n------  ------  -----\nvmnic0  ixgben  10000\n"
    with pytest.raises(InputError) as e:
        esxcli.nics(Text("saved/network_nic_list.txt", text))
    assert e.value.file == "saved/network_nic_list.txt" and e.value.line == 2
    assert "Admin Status" in e.value.expected and "Name | Driver | Speed" in e.value.expected


def test_not_a_table_names_the_line():
    with pytest.raises(InputError) as e:
        esxcli.portgroups(Text("pg.txt", "Management  vSwitch0  1  0\n"))
    assert e.value.line == 1


def test_misaligned_row_names_its_line():
    text = render.table(["Name", "Virtual Switch", "Active Clients", "VLAN ID"], [["Backup", "vSwitch1", "1", "30"]])
    text += "Management Network vSwitch0\n"
    with pytest.raises(InputError) as e:
        esxcli.portgroups(Text("pg.txt", text))
    assert e.value.line == 4


def test_bad_value_names_its_line():
    text = render.table(["Name", "Virtual Switch", "Active Clients", "VLAN ID"], [["Backup", "vSwitch1", "1", "thirty"]])
    with pytest.raises(InputError) as e:
        esxcli.portgroups(Text("pg.txt", text))
    assert e.value.line == 3 and "VLAN ID" in e.value.expected


def test_block_output_missing_a_key_names_the_record():
    text = "vmk0\n   Name: vmk0\n   MTU: 1500\nvmk1\n   Name: vmk1\n   Portgroup: Backup\n   MTU: 9000\n"
    with pytest.raises(InputError) as e:
        esxcli.interfaces(Text("ifaces.txt", text))
    assert e.value.line == 1 and "Portgroup" in e.value.expected


def test_garbage_in_block_output_names_the_line():
    with pytest.raises(InputError) as e:
        esxcli.vswitches(Text("vs.txt", "vSwitch0\n   Name: vSwitch0\n   this is not a key value line\n"))
    assert e.value.line == 3


def test_unknown_load_balancing_policy():
    with pytest.raises(InputError) as e:
        esxcli.failover(Text("fo.txt", "   Load Balancing: roundrobin\n   Active Adapters: vmnic0\n   Standby Adapters:\n"))
    assert e.value.line == 1 and "roundrobin" in e.value.expected


# ---- file names ----

@pytest.mark.parametrize("name, expected", [
    ("network_ip_interface_list.txt", ("network_ip_interface_list", "")),
    ("commands/esxcli_network-ip-interface-list.txt", ("network_ip_interface_list", "")),
    ("localcli_network-nic-list.txt", ("network_nic_list", "")),
    ("network_ip_interface_tag_get_vmk10.txt", ("network_ip_interface_tag_get", "vmk10")),
    ("esxcli_network-ip-interface-tag-get-i vmk2.txt", ("network_ip_interface_tag_get", "vmk2")),
    ("network_vswitch_standard_portgroup_policy_failover_get_Management Network.txt",
     ("network_vswitch_standard_portgroup_policy_failover_get", "Management Network")),
    ("network_ip_route_ipv4_list_vmotion.txt", ("network_ip_route_ipv4_list", "vmotion")),
    ("vmware_-vl.txt", ("vmware_vl", "")),
    ("hostname.txt", None),
])
def test_file_names(name, expected):
    assert esxcli.classify(name) == expected


# ---- whole hosts: a lab printed as esxcli, imported, traces like the lab ----

def standard_only(lab: Snapshot) -> Snapshot:
    hosts = tuple(h for h in lab.hosts if not h.dvswitches)
    return lab.model_copy(update={"hosts": hosts, "dvswitches": ()})


def signature(paths):
    return sorted((p.host, p.node, p.endpoint.ip, p.endpoint.vmk, p.outcome.ingress_vmk, p.outcome.egress_vmk,
                   tuple(u.name for u in p.outcome.egress_uplinks), p.outcome.bottleneck_mbps,
                   p.outcome.verdict.value) for p in paths)


@pytest.mark.parametrize("name", labs.names())
def test_imported_lab_traces_like_the_lab(name, tmp_path):
    lab = standard_only(labs.load(name))
    if not lab.hosts:
        pytest.skip(f"{name} has only distributed-switch hosts (esxcli does not show VDS teaming)")
    dirs = [str(render.write_host(h, tmp_path / f"h{i}", bundle=i % 2 == 1)) for i, h in enumerate(lab.hosts)]
    imported = esxcli.import_hosts(dirs, [h.name for h in lab.hosts])
    assert imported.missing == {}
    extra = Snapshot(segments=lab.segments, routers=lab.routers, backup_nodes=lab.backup_nodes, dns=lab.dns)
    merged = merge(imported, extra)
    assert signature(engine.trace(merged)) == signature(engine.trace(lab))


def test_bundle_directory_and_tgz_take_the_host_name_from_the_bundle(tmp_path):
    host = labs.load("veeam-tag-l2").hosts[0]
    bundle = render.write_host(host, tmp_path / "esx-esx77.lab.local-2024-05-01--10.22-12345", bundle=True)
    got = esxcli.import_hosts([str(bundle)])
    assert [h.name for h in got.hosts] == ["esx77.lab.local"]
    tgz = tmp_path / "esx-esx77.lab.local-2024-05-01--10.22-12345.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(bundle, arcname=bundle.name)
    from_tgz = esxcli.import_hosts([str(tgz)])
    assert from_tgz.hosts == got.hosts
    assert from_tgz.hosts[0].vmks == tuple(v.model_copy(update={"segment": None}) for v in host.vmks)


def test_error_inside_a_tgz_names_member_and_line(tmp_path):
    host = labs.load("veeam-tag-l2").hosts[0]
    d = render.write_host(host, tmp_path / "esx-h1-2024-05-01--10.22-1", bundle=True)
    nic = d / "commands" / "esxcli_network-nic-list.txt"
    nic.write_text(nic.read_text().replace("Admin Status", "Admin State "))
    tgz = tmp_path / "b.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(d, arcname=d.name)
    with pytest.raises(InputError) as e:
        esxcli.import_hosts([str(tgz)])
    assert e.value.file.endswith("b.tgz:esx-h1-2024-05-01--10.22-1/commands/esxcli_network-nic-list.txt")
    assert e.value.line == 1


def test_no_network_output_at_all_is_refused_naming_them(tmp_path):
    host = labs.load("veeam-tag-l2").hosts[0]
    d = render.write_host(host, tmp_path / "h")
    for key in esxcli.REQUIRED:
        (d / f"{key}.txt").unlink()
    with pytest.raises(InputError) as e:
        esxcli.import_hosts([str(d)])
    assert "esxcli network nic list" in e.value.expected and "network_nic_list.txt" in e.value.expected


def test_missing_tags_make_a_partial_import(tmp_path, capsys):
    host = labs.load("veeam-tag-l2").hosts[0]
    d = render.write_host(host, tmp_path / "h")
    for f in d.glob("network_ip_interface_tag_get_*"):
        f.unlink()
    out = tmp_path / "out.yaml"
    rc = main(["import", "esxcli", str(d), "--host", host.name, "-o", str(out)])
    assert rc == 1
    snap = load_file(out)
    assert "service tags" in snap.missing[f"{host.name}:tags"]
    assert all(v.services == () for v in snap.hosts[0].vmks)


def test_vds_vmk_is_kept_with_a_stand_in_and_reported(tmp_path):
    host = labs.load("veeam-tag-l2").hosts[0]
    d = render.write_host(host, tmp_path / "h")
    f = d / "network_ip_interface_list.txt"
    vmk2 = next(v for v in host.vmks if v.device != "vmk0")
    head, sep, block = f.read_text().partition(f"\n{vmk2.device}\n")
    assert sep, "vmk2's record"
    block = block.replace(f"Portgroup: {vmk2.portgroup}\n", "Portgroup: N/A\n", 1)
    block = block.replace("VDS Name: N/A", "VDS Name: dvs-a", 1).replace("VDS Port: N/A", "VDS Port: 16", 1)
    f.write_text(head + sep + block)
    got = esxcli.import_hosts([str(d)], [host.name])
    vmk = next(v for v in got.hosts[0].vmks if v.device == vmk2.device)
    assert vmk.portgroup == "dvs-a port 16"
    assert got.dvswitches[0].name == "dvs-a"
    assert "neither its port group nor its teaming" in got.missing[f"{host.name}:{vmk2.device}:vds"]


def test_cli_import_writes_the_snapshot(tmp_path, capsys):
    lab = labs.load("veeam-tag-routed")
    dirs = [str(render.write_host(h, tmp_path / f"h{i}")) for i, h in enumerate(lab.hosts)]
    merge_file = tmp_path / "extra.yaml"
    from nbdpath.model import dump

    merge_file.write_text(dump(Snapshot(segments=lab.segments, routers=lab.routers, backup_nodes=lab.backup_nodes,
                                        dns=lab.dns)))
    out = tmp_path / "estate.json"
    args = ["import", "esxcli", *dirs, "-o", str(out), "--merge", str(merge_file), "--format", "json"]
    for h in lab.hosts:
        args += ["--host", h.name]
    rc = main(args)
    assert rc == 0, capsys.readouterr().err
    import json

    summary = json.loads(capsys.readouterr().out)
    assert summary["hosts"] == 2 and summary["backup_nodes"] == 1 and summary["partial"] is False
    assert signature(engine.trace(load_file(out))) == signature(engine.trace(lab))


def test_cli_bad_layout_exits_2_with_file_and_line(tmp_path, capsys):
    host = labs.load("veeam-tag-l2").hosts[0]
    d = render.write_host(host, tmp_path / "h")
    (d / "network_vswitch_standard_portgroup_list.txt").write_text("Name  VLAN\n----  ----\nA     1\n")
    out = tmp_path / "o.yaml"
    rc = main(["import", "esxcli", str(d), "--host", "x", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{d / 'network_vswitch_standard_portgroup_list.txt'}:1" in err
    assert not out.exists()


def test_pre_65_layouts_for_a_whole_host(tmp_path):
    """ESXi 6.0-style files: nic list with 'Link', ipv4 get without Gateway, esxcfg-route -l."""
    lab = labs.load("veeam-tag-routed")
    host = lab.hosts[1]  # the one with a static route
    d = render.write_host(host, tmp_path / "h")
    (d / "network_nic_list.txt").write_text(render.nic_list(host, modern=False))
    (d / "network_ip_interface_ipv4_get.txt").write_text(render.ipv4_get(host, with_gateway=False))
    (d / "network_ip_route_ipv4_list.txt").unlink()
    (d / "esxcfg_route_l.txt").write_text(
        "VMkernel Routes:\n"
        "Network          Netmask          Gateway          Interface\n"
        "10.10.0.0        255.255.255.0    Local Subnet     vmk0\n"
        "10.30.0.0        255.255.255.0    Local Subnet     vmk2\n"
        "10.40.0.0        255.255.255.0    10.30.0.1        vmk2\n"
        "default          0.0.0.0          10.10.0.1        vmk0\n")
    got = esxcli.import_hosts([str(d)], [host.name])
    assert got.missing == {}
    (h,) = got.hosts
    assert h.pnics == tuple(p.model_copy(update={"mac": h.pnics[i].mac}) for i, p in enumerate(host.pnics))
    # The table read from esxcfg-route -l comes on top of what the lab describes.
    assert [(r.network, r.device) for r in h.netstacks[0].route_table][:2] == [("10.10.0.0/24", "vmk0"), ("10.30.0.0/24", "vmk2")]
    assert tuple(s.model_copy(update={"route_table": None}) for s in h.netstacks) == host.netstacks
    assert h.vmks == host.vmks
