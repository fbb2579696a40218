"""esxcli text as admins paste it: indented record blocks, damaged headers, legacy esxcfg-* commands.

Real samples are under data/wild/ (provenance in its README.md); variants are made from them here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_esxcli import needs_seeds, seed_section

from nbdpath.errors import InputError
from nbdpath.sources import esxcli
from nbdpath.sources.esxcli import Text

WILD = Path(__file__).parent / "data" / "wild"


def indented(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines()) + "\n"


@needs_seeds
@pytest.mark.parametrize("prefix", ["    ", "        ", "\t"])
def test_interface_list_pasted_indented_as_a_whole_reads_like_the_original(prefix):
    original = seed_section("esxcli network ip interface list  (ESXi 7/8)")
    plain = esxcli.interfaces(Text("i.txt", original))
    assert [(i.device, i.portgroup, i.mac) for i in plain] == [("vmk0", "Management", "00:50:56:6c:01:11")]
    assert esxcli.interfaces(Text("i.txt", indented(original, prefix))) == plain


@needs_seeds
def test_damaged_table_header_is_shown_as_written():
    lines = seed_section("ip interface ipv4 get  (ESXi 6.5+").splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("----"))
    # A paste that lost four dashes: every later column starts four characters early, mid-name.
    lines[at] = lines[at].replace("-" * 13 + "  ", "-" * 9 + "  ", 1)
    with pytest.raises(InputError) as e:
        esxcli.ipv4(Text("a.txt", "\n".join(lines)))
    assert e.value.line == at  # the header, the line above the dashes
    assert "not 'Name | IPv4 Address | IPv4 Netmask | IPv4 Broadcast | Address Type | Gateway | DHCP DNS'" in e.value.expected


# ---- legacy esxcfg-* -l, real samples (data/wild/README.md) ----

def wild_host(name: str, tmp_path=None, transform=None):
    """Import one sample directory, optionally rewritten file by file into a vm-support bundle layout."""
    src = WILD / name
    if transform is None:
        return esxcli.import_hosts([str(src)], [name], "7.0.3")
    bundle = tmp_path / f"esx-{name}-2024-05-01--10.22-1" / "commands"
    bundle.mkdir(parents=True)
    for f in src.iterdir():
        (bundle / f.name).write_text(transform(f.read_text()))
    return esxcli.import_hosts([str(bundle.parent)], esxi_version="7.0.3")


def facts(snap):
    h = snap.hosts[0]
    return {
        "vmks": [(v.device, v.portgroup, v.ipv4, v.mac, v.netstack, v.mtu) for v in h.vmks],
        "pnics": [(p.name, p.speed_mbps, p.link_up, p.mac) for p in h.pnics],
        "switches": [(s.name, s.uplinks, s.mtu, [(p.name, p.vlan) for p in s.portgroups]) for s in h.vswitches],
        "gateways": {n.key: n.gateway for n in h.netstacks},
        "vds": [d.name for d in snap.dvswitches],
    }


HPEGL = {
    "vmks": [("vmk0", "Management Network", "172.26.64.10/26", "88:e9:a4:6b:b8:54", "defaultTcpipStack", 1500)],
    "pnics": [("vmnic0", 25000, True, "88:e9:a4:6b:b8:54"), ("vmnic1", 25000, True, "88:e9:a4:6b:b8:55")],
    "switches": [("vSwitch0", ("vmnic0",), 1500, [("VM Network", 0), ("Management Network", 0)])],
    "gateways": {"defaultTcpipStack": "172.26.64.1"},
    "vds": [],
}


def test_hpegl_esxi_7_legacy_outputs_read_as_a_reader_would():
    snap = wild_host("hpegl-esxi-7.0.3")
    assert facts(snap) == HPEGL
    # All four legacy outputs stand in for the five esxcli ones: none is listed as absent.
    assert not any(k.split(":")[-1] in esxcli.REQUIRED for k in snap.missing)
    assert snap.hosts[0].version == "7.0.3"


def test_nsx_v_host_vmk_on_a_vds_is_named_from_esxcfg_vswitch():
    snap = wild_host("nsx-v-esxi-04")
    got = facts(snap)
    assert got["vmks"] == [
        ("vmk0", "Management Network", "172.18.128.14/18", "c4:34:6b:b8:fd:40", "defaultTcpipStack", 1500),
        ("vmk1", "ISCSI", "172.18.0.114/24", "00:50:56:6b:b7:14", "defaultTcpipStack", 1500),
        ("vmk2", "vDS-C-Transport port 8", "172.18.192.21/18", "00:50:56:65:d0:7f", "vxlan", 1600),
    ]
    assert got["switches"] == [("vSwitch0", ("vmnic0",), 1500, [("MGMT", 50), ("ISCSI", 0), ("Management Network", 50)])]
    assert got["vds"] == ["vDS-C-Transport"]
    assert "esxcfg-nics -l" in snap.missing["nsx-v-esxi-04:network_nic_list"]


def test_esx4_vmknic_layout_without_family_tso_or_netstack():
    snap = wild_host("esx41-nfs-blog")
    assert facts(snap)["vmks"] == [
        ("vmk0", "Mgmt", "1.1.1.2/24", "00:50:56:7c:ec:ca", "defaultTcpipStack", 1500),
        ("vmk1", "vMotion", "1.1.2.2/24", "00:50:56:7e:69:07", "defaultTcpipStack", 1500),
        ("vmk3", "NFS", "1.1.3.2/24", "00:50:56:73:5a:3b", "defaultTcpipStack", 1500),
    ]
    assert {k for k in snap.missing if k.endswith(":portgroup")} == {
        "esx41-nfs-blog:Mgmt:portgroup", "esx41-nfs-blog:NFS:portgroup", "esx41-nfs-blog:vMotion:portgroup"}


# ---- synthetic variants of the real samples ----

def collapsed(text: str) -> str:
    """As mail and forum pastes leave it: runs of spaces squeezed to one."""
    return "\n".join(" ".join(line.split()) if not line.startswith(" ") else "  " + " ".join(line.split())
                     for line in text.splitlines()) + "\n"


@pytest.mark.parametrize("transform", [lambda t: t, collapsed, lambda t: indented(t, "    ")],
                         ids=["as-is", "collapsed", "indented"])
def test_legacy_outputs_in_a_vm_support_bundle_and_as_pasted(tmp_path, transform):
    snap = wild_host("hpegl-esxi-7.0.3", tmp_path, transform)
    assert snap.hosts[0].name == "hpegl-esxi-7.0.3"
    assert facts(snap) == HPEGL


def test_esxcli_output_wins_over_its_legacy_twin(tmp_path):
    d = tmp_path / "h"
    d.mkdir()
    for f in (WILD / "hpegl-esxi-7.0.3").iterdir():
        (d / f.name).write_text(f.read_text())
    (d / "network_nic_list.txt").write_text(
        "Name    PCI Device    Driver  Link  Speed  Duplex  MAC Address        MTU   Description\n"
        "------  ------------  ------  ----  -----  ------  -----------------  ----  -----------\n"
        "vmnic0  0000:0f:00.0  nmlx5   Up    10000  Full    88:e9:a4:6b:b8:54  1500  ConnectX-5\n")
    snap = esxcli.import_hosts([str(d)], ["h"], "7.0.3")
    assert [(p.name, p.speed_mbps) for p in snap.hosts[0].pnics] == [("vmnic0", 10000)]


@pytest.mark.parametrize("name, line", [("esxcfg-vmknic_-l.txt", 2), ("esxcfg-nics_-l.txt", 3)])
def test_a_damaged_legacy_row_is_an_error_at_its_line(tmp_path, name, line):
    d = tmp_path / "h"
    d.mkdir()
    for f in (WILD / "hpegl-esxi-7.0.3").iterdir():
        lines = f.read_text().splitlines()
        if f.name == name:
            lines[line - 1] = lines[line - 1].replace(":", "-")  # a MAC no longer a MAC
        (d / f.name).write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as e:
        esxcli.import_hosts([str(d)], ["h"], "7.0.3")
    assert e.value.file.endswith(name) and e.value.line == line


@pytest.mark.parametrize("row, expected", [
    ("vmk0 " + " " * 4000 + "x", "an esxcfg-vmknic -l row"),  # a blank run: was cubic backtracking
    ("vmk0 " + "a" * 5000, "a row of at most 4096 characters"),
])
def test_hostile_legacy_rows_are_refused_at_their_line(row, expected):
    header = (WILD / "esx41-nfs-blog" / "esxcfg-vmknic_-l.txt").read_text().splitlines()[0]
    with pytest.raises(InputError) as e:
        esxcli.vmknics(Text("v.txt", f"{header}\n{row}\n"))
    assert e.value.line == 2 and expected in e.value.expected


# ---- PowerCLI's Get-EsxCli -V2 records (data/wild/asbuiltreport-33-powercli) ----

POWERCLI = WILD / "asbuiltreport-33-powercli" / "esxcli_network_nic_list.txt"


def test_powercli_nic_list_records_read_as_esxcli_nic_list():
    nics = esxcli.nics(Text(POWERCLI.name, POWERCLI.read_text()))
    # What the thread shows: four 10 Gbit/s QLogic ports up, vmnic2 and vmnic3 absent.
    assert [(n.name, n.speed_mbps, n.link_up, n.mac) for n in nics] == [
        ("vmnic0", 10000, True, "fc:15:b4:15:14:60"), ("vmnic1", 10000, True, "fc:15:b4:15:14:64"),
        ("vmnic4", 10000, True, "fc:15:b4:15:14:62"), ("vmnic5", 10000, True, "fc:15:b4:15:14:66")]


@pytest.mark.parametrize("variant", ["crlf", "cr only", "indented", "admin down", "no link status"])
def test_powercli_nic_list_variants(variant):
    text = POWERCLI.read_text()
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    elif variant == "cr only":
        text = text.replace("\n", "\r")
    elif variant == "indented":
        text = indented(text, "    ")
    elif variant == "admin down":
        text = text.replace("AdminStatus : Up", "AdminStatus : Down", 1)
    else:  # ESXi before 6.5 has Link only
        text = "\n".join(l for l in text.splitlines() if not l.startswith(("AdminStatus", "LinkStatus")))
    nics = esxcli.nics(Text(POWERCLI.name, text))
    up = [n.link_up for n in nics]
    assert [n.name for n in nics] == ["vmnic0", "vmnic1", "vmnic4", "vmnic5"]
    assert up == ([False, True, True, True] if variant == "admin down" else [True] * 4)


def test_powercli_record_without_a_field_names_its_line():
    text = POWERCLI.read_text().replace("MACAddress  : fc:15:b4:15:14:64\n", "", 1)
    with pytest.raises(InputError) as e:
        esxcli.nics(Text(POWERCLI.name, text))
    assert e.value.line == 13 and "'MAC Address' field" in e.value.expected


# ---- a Chinese-language esxcli blog (data/wild/cnblogs-*): aligned and collapsed tables ----

def test_vsan03_interface_list_and_pre_6_5_ipv4_get():
    snap = wild_host("cnblogs-vsan03")
    got = facts(snap)
    # Two vmks on two switches; ipv4 get has no Gateway column (the pre-6.5 layout).
    assert got["vmks"] == [
        ("vmk0", "Management Network", "10.65.17.33/24", "34:40:b5:b0:08:28", "defaultTcpipStack", 1500),
        ("vmk2", "VSAN", "192.168.17.33/24", "00:50:56:62:76:bd", "defaultTcpipStack", 1500),
    ]
    assert {"cnblogs-vsan03:network_nic_list", "cnblogs-vsan03:network_vswitch_standard_list"} <= set(snap.missing)


def test_localhost_tables_with_spacing_collapsed_by_the_blog():
    snap = wild_host("cnblogs-localhost-7.0.1")
    got = facts(snap)
    assert got["pnics"] == [("vmnic0", 1000, True, "08:92:04:b2:00:86"), ("vmnic1", None, False, "08:92:04:b2:00:87")]
    assert got["gateways"] == {"defaultTcpipStack": "10.2.129.254"}
    table = [(r.network, r.gateway, r.device) for r in snap.hosts[0].netstacks[0].route_table]
    assert table == [("0.0.0.0/0", "10.2.129.254", "vmk0"), ("10.2.129.0/24", None, "vmk0")]


@pytest.mark.parametrize("name", ["esxcli_network_ip_interface_ipv4_get.txt", "esxcli_network_nic_list.txt",
                                  "esxcli_network_ip_route_ipv4_list.txt"])
def test_collapsed_table_reads_like_its_aligned_twin(name):
    """The collapsed sample re-aligned by hand reads the same: the collapse costs nothing."""
    text = (WILD / "cnblogs-localhost-7.0.1" / name).read_text()
    rows = [line.split() for line in text.splitlines()]
    reader = {"esxcli_network_ip_interface_ipv4_get.txt": esxcli.ipv4, "esxcli_network_nic_list.txt": esxcli.nics,
              "esxcli_network_ip_route_ipv4_list.txt": esxcli.routes}[name]
    header_cells = {"esxcli_network_ip_interface_ipv4_get.txt": esxcli.IPV4_LAYOUTS["6.5+"],
                    "esxcli_network_nic_list.txt": esxcli.NIC_LAYOUTS["6.5+"],
                    "esxcli_network_ip_route_ipv4_list.txt": esxcli.ROUTE_LAYOUTS["esxcli"]}[name]
    body = [r[:len(header_cells) - 1] + [" ".join(r[len(header_cells) - 1:])] for r in rows[2:]]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(header_cells)]
    aligned = ["  ".join(c.ljust(w) for c, w in zip(header_cells, widths)).rstrip(),
               "  ".join("-" * w for w in widths)] + ["  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip()
                                                     for b in body]
    assert reader(Text(name, text)) == reader(Text(name, "\n".join(aligned) + "\n"))


def test_esxi_9_nested_lab_host_nics_and_vmk():
    """ogelbric/VCF9-notes: six vmxnet3 uplinks with mixed MTUs, vmk0 at MTU 9000 (the MTU hunt of the page)."""
    snap = esxcli.import_hosts([str(WILD / "vcf9-esxi1")], ["vcf-esxi1"], "9.0.0")
    got = facts(snap)
    assert got["vmks"] == [("vmk0", "Management Network", None, "00:50:56:9f:78:3b", "defaultTcpipStack", 9000)]
    assert [p[0] for p in got["pnics"]] == [f"vmnic{i}" for i in range(6)]
    assert {(p[1], p[2]) for p in got["pnics"]} == {(10000, True)}
    assert "vcf-esxi1:network_ip_interface_ipv4_get" in snap.missing
