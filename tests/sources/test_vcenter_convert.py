"""Pure conversion of vCenter property values (real pyVmomi data objects, built offline)."""

from __future__ import annotations

import pytest
from pyVmomi import vim

from nbdpath.sources.vcenter import DiscoveryError, Endpoint
from nbdpath.sources.vcenter_convert import Inventory, convert


def vnic(device, pg, ip, mask="255.255.255.0", stack="defaultTcpipStack", mac=None, mtu=1500, dvport=None, gw=None):
    spec = vim.host.VirtualNic.Specification(
        ip=vim.host.IpConfig(dhcp=False, ipAddress=ip, subnetMask=mask), mac=mac, mtu=mtu,
        netStackInstanceKey=stack, portgroup=pg or None, distributedVirtualPort=dvport,
    )
    if gw:
        spec.ipRouteSpec = vim.host.VirtualNic.IpRouteSpec(ipRouteConfig=vim.host.IpRouteConfig(defaultGateway=gw))
    return vim.host.VirtualNic(device=device, key=f"key-vim.host.VirtualNic-{device}", portgroup=pg or "", spec=spec)


def netconfig(nic_type, vnics, selected):
    cands = []
    for v in vnics:
        c = vim.host.VirtualNic(device=v.device, key=f"{nic_type}.{v.key}", portgroup=v.portgroup, spec=v.spec)
        cands.append(c)
    return vim.host.VirtualNicManager.NetConfig(
        nicType=nic_type, multiSelectAllowed=True, candidateVnic=cands,
        selectedVnic=[f"{nic_type}.key-vim.host.VirtualNic-{d}" for d in selected])


def pnic(name, speed, up=True, mac="00:11:22:33:44:55"):
    return vim.host.PhysicalNic(
        key=f"key-vim.host.PhysicalNic-{name}", device=name, pci="0000:00:00.0", mac=mac,
        linkSpeed=vim.host.PhysicalNic.LinkSpeedDuplex(speedMb=speed, duplex=True) if up else None,
        spec=vim.host.PhysicalNic.Specification(
            linkSpeed=vim.host.PhysicalNic.LinkSpeedDuplex(speedMb=speed, duplex=True)),
    )


def teaming(policy, active, standby=()):
    return vim.host.NetworkPolicy.NicTeamingPolicy(
        policy=policy, nicOrder=vim.host.NetworkPolicy.NicOrderPolicy(activeNic=list(active), standbyNic=list(standby)))


def standard_host(vnics, netconfigs, routes=(), gateway="10.10.0.1", state="connected"):
    vswitch = vim.host.VirtualSwitch(
        name="vSwitch0", key="key-vim.host.VirtualSwitch-vSwitch0", mtu=9000,
        pnic=["key-vim.host.PhysicalNic-vmnic0", "key-vim.host.PhysicalNic-vmnic1", "key-vim.host.PhysicalNic-vmnic2"],
        spec=vim.host.VirtualSwitch.Specification(
            numPorts=128, policy=vim.host.NetworkPolicy(nicTeaming=teaming("loadbalance_srcid", ["vmnic0", "vmnic1"], ["vmnic2"]))),
    )
    pgs = [
        vim.host.PortGroup(key="key-vim.host.PortGroup-Mgmt", vswitch=vswitch.key,
                           spec=vim.host.PortGroup.Specification(name="Mgmt", vlanId=10, vswitchName="vSwitch0",
                                                                 policy=vim.host.NetworkPolicy())),
        vim.host.PortGroup(key="key-vim.host.PortGroup-Backup", vswitch=vswitch.key,
                           spec=vim.host.PortGroup.Specification(
                               name="Backup", vlanId=30, vswitchName="vSwitch0",
                               policy=vim.host.NetworkPolicy(nicTeaming=teaming("failover_explicit", ["vmnic2"], ["vmnic1"])))),
    ]
    stack = vim.host.NetStackInstance(
        key="defaultTcpipStack", ipRouteConfig=vim.host.IpRouteConfig(defaultGateway=gateway),
        routeTableConfig=vim.host.IpRouteTableConfig(ipRoute=[
            vim.host.IpRouteOp(changeOperation="add", route=vim.host.IpRouteEntry(
                network=n, prefixLength=p, gateway=g)) for n, p, g in routes]),
    )
    network = vim.host.NetworkInfo(
        pnic=[pnic("vmnic0", 1000), pnic("vmnic1", 1000), pnic("vmnic2", 10000, up=False)],
        vswitch=[vswitch], portgroup=pgs, vnic=vnics, netStackInstance=[stack])
    return {
        "name": "esx01.lab.local", "runtime.connectionState": state, "summary.config.product.version": "7.0.3",
        "config.network": network, "config.virtualNicManagerInfo": vim.host.VirtualNicManagerInfo(netConfig=netconfigs),
    }


def inventory(**hosts):
    return Inventory(vcenter="vc01", hosts=hosts, listed_hosts=tuple(hosts))


def test_exact_vnic_key_match_vmk1_is_not_vmk10():
    vnics = [vnic("vmk0", "Mgmt", "10.10.0.11"), vnic("vmk1", "Backup", "10.30.0.11"), vnic("vmk10", "Backup", "10.30.0.12")]
    host = standard_host(vnics, [netconfig("vSphereBackupNFC", vnics, ["vmk10"]), netconfig("management", vnics, ["vmk0"])])
    (h,) = convert(inventory(**{"host-1": host})).hosts
    services = {v.device: v.services for v in h.vmks}
    assert services == {"vmk0": ("management",), "vmk1": (), "vmk10": ("vSphereBackupNFC",)}
    # Sorted numerically, not as text.
    assert [v.device for v in h.vmks] == ["vmk0", "vmk1", "vmk10"]


def test_selected_key_without_candidates_still_matches_exactly():
    vnics = [vnic("vmk1", "Backup", "10.30.0.11"), vnic("vmk10", "Backup", "10.30.0.12")]
    nc = vim.host.VirtualNicManager.NetConfig(nicType="vSphereBackupNFC", multiSelectAllowed=True,
                                              selectedVnic=["vSphereBackupNFC.key-vim.host.VirtualNic-vmk1"])
    (h,) = convert(inventory(h1=standard_host(vnics, [nc]))).hosts
    assert {v.device: v.services for v in h.vmks} == {"vmk1": ("vSphereBackupNFC",), "vmk10": ()}


def test_standard_switch_pnics_stacks_and_vmks():
    vnics = [vnic("vmk0", "Mgmt", "10.10.0.11", mac="00:50:56:6c:11:10"),
             vnic("vmk2", "Backup", "10.30.0.11", mask="255.255.252.0", mtu=9000, gw="10.30.0.254")]
    host = standard_host(vnics, [], routes=[("10.40.0.0", 24, "10.30.0.1"), ("10.30.0.0", 22, "0.0.0.0")])
    (h,) = convert(inventory(h1=host)).hosts
    assert (h.name, h.version, h.management_address, h.vcenter) == ("esx01.lab.local", "7.0.3", "esx01.lab.local", "vc01")
    assert [(p.name, p.speed_mbps, p.link_up) for p in h.pnics] == [
        ("vmnic0", 1000, True), ("vmnic1", 1000, True), ("vmnic2", 10000, False)]
    (sw,) = h.vswitches
    assert (sw.uplinks, sw.mtu) == (("vmnic0", "vmnic1", "vmnic2"), 9000)
    assert (sw.teaming.policy, sw.teaming.active, sw.teaming.standby, sw.teaming.unused) == (
        "loadbalance_srcid", ("vmnic0", "vmnic1"), ("vmnic2",), ())
    mgmt, backup = sw.portgroups
    assert (mgmt.name, mgmt.vlan, mgmt.teaming) == ("Mgmt", 10, None)  # inherits
    assert (backup.teaming.policy, backup.teaming.active, backup.teaming.standby, backup.teaming.unused) == (
        "failover_explicit", ("vmnic2",), ("vmnic1",), ("vmnic0",))
    (stack,) = h.netstacks
    assert stack.gateway == "10.10.0.1"
    assert [(r.network, r.gateway) for r in stack.routes] == [("10.40.0.0/24", "10.30.0.1")]  # connected route dropped
    vmk2 = h.vmks[1]
    assert (vmk2.ipv4, vmk2.mtu, vmk2.gateway, vmk2.portgroup) == ("10.30.0.11/22", 9000, "10.30.0.254", "Backup")


def test_disconnected_and_vanished_hosts_are_missing_not_fatal():
    vnics = [vnic("vmk0", "Mgmt", "10.10.0.11")]
    good = standard_host(vnics, [])
    down = dict(standard_host(vnics, []), name="esx02", **{"runtime.connectionState": "notResponding"})
    inv = Inventory(vcenter="vc01", hosts={"h1": good, "h2": down}, listed_hosts=("h1", "h2", "h3"))
    got = convert(inv)
    assert [h.name for h in got.hosts] == ["esx01.lab.local"]
    assert got.missing == {
        "esx02": "connection state is notResponding",
        "vc01/h3": "vanished from the inventory during discovery",
    }


def test_host_without_network_config_is_missing():
    host = {"name": "esx03", "runtime.connectionState": "connected", "summary.config.product.version": "8.0.2"}
    got = convert(inventory(h1=host))
    assert got.hosts == () and "config.network" in got.missing["esx03"]


def dvs_objects():
    order = vim.dvs.VmwareDistributedVirtualSwitch.UplinkPortOrderPolicy
    team = vim.dvs.VmwareDistributedVirtualSwitch.UplinkPortTeamingPolicy
    string = vim.StringPolicy
    sw_policy = team(inherited=False, policy=string(inherited=False, value="loadbalance_srcid"),
                     uplinkPortOrder=order(inherited=False, activeUplinkPort=["uplink1", "uplink2"], standbyUplinkPort=[]))
    dvs_config = vim.dvs.VmwareDistributedVirtualSwitch.ConfigInfo(
        name="dvs-a", uuid="50 1e 5b ad", maxMtu=9000,
        uplinkPortPolicy=vim.DistributedVirtualSwitch.NameArrayUplinkPortPolicy(uplinkPortName=["uplink1", "uplink2", "uplink3"]),
        defaultPortConfig=vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy(uplinkTeamingPolicy=sw_policy),
    )
    dvs_ref = vim.dvs.VmwareDistributedVirtualSwitch("dvs-7")

    def pg(key, name, vlan, policy, uplink=False):
        vlan_spec = (vim.dvs.VmwareDistributedVirtualSwitch.TrunkVlanSpec(vlanId=[vim.NumericRange(start=0, end=4094)])
                     if uplink else vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec(vlanId=vlan))
        cfg = vim.dvs.DistributedVirtualPortgroup.ConfigInfo(
            key=key, name=name, distributedVirtualSwitch=dvs_ref, uplink=uplink,
            defaultPortConfig=vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy(vlan=vlan_spec, uplinkTeamingPolicy=policy))
        return {"name": name, "key": key, "config": cfg}

    inherited = team(inherited=True, policy=string(inherited=True, value="loadbalance_srcid"),
                     uplinkPortOrder=order(inherited=True, activeUplinkPort=["uplink1", "uplink2"]))
    backup = team(inherited=False, policy=string(inherited=False, value="failover_explicit"),
                  uplinkPortOrder=order(inherited=False, activeUplinkPort=["uplink3"], standbyUplinkPort=["uplink1"]))
    pgs = {
        "dvportgroup-1": pg("dvportgroup-1", "dvs-a-DVUplinks-7", None, inherited, uplink=True),
        "dvportgroup-2": pg("dvportgroup-2", "dvpg-mgmt", 10, inherited),
        "dvportgroup-3": pg("dvportgroup-3", "dvpg-backup", 30, backup),
    }
    return {"dvs-7": {"name": "dvs-a", "uuid": "50 1e 5b ad", "config": dvs_config}}, pgs


def test_distributed_switch_uplink_ports_mapped_to_vmnics():
    dvs, pgs = dvs_objects()
    port = vim.dvs.PortConnection(switchUuid="50 1e 5b ad", portgroupKey="dvportgroup-3")
    vnics = [vnic("vmk0", "Mgmt", "10.10.0.11"), vnic("vmk2", None, "10.30.0.11", dvport=port)]
    host = standard_host(vnics, [netconfig("vSphereBackupNFC", vnics, ["vmk2"])])
    proxy = vim.host.HostProxySwitch(
        dvsUuid="50 1e 5b ad", dvsName="dvs-a", key="50 1e 5b ad", numPorts=64, numPortsAvailable=60,
        uplinkPort=[vim.KeyValue(key="100", value="uplink1"), vim.KeyValue(key="101", value="uplink2"),
                    vim.KeyValue(key="102", value="uplink3")],
        spec=vim.host.HostProxySwitch.Specification(backing=vim.dvs.HostMember.PnicBacking(pnicSpec=[
            vim.dvs.HostMember.PnicSpec(pnicDevice="vmnic1", uplinkPortKey="100"),
            vim.dvs.HostMember.PnicSpec(pnicDevice="vmnic2", uplinkPortKey="102")])),
    )
    host["config.network"].proxySwitch = [proxy]
    got = convert(Inventory(vcenter="vc01", hosts={"h1": host}, dvswitches=dvs, dvportgroups=pgs, listed_hosts=("h1",)))
    (sw,) = got.dvswitches
    assert (sw.name, sw.uplink_ports, sw.mtu) == ("dvs-a", ("uplink1", "uplink2", "uplink3"), 9000)
    assert (sw.teaming.active, sw.teaming.unused) == (("uplink1", "uplink2"), ("uplink3",))
    assert [p.name for p in sw.portgroups] == ["dvpg-backup", "dvpg-mgmt"]  # the DVUplinks group is not one
    backup, mgmt = sw.portgroups
    assert mgmt.teaming is None and mgmt.vlan == 10
    assert (backup.teaming.policy, backup.teaming.active, backup.teaming.standby, backup.teaming.unused) == (
        "failover_explicit", ("uplink3",), ("uplink1",), ("uplink2",))
    (h,) = got.hosts
    assert h.dvswitches[0].switch == "dvs-a"
    assert h.dvswitches[0].uplinks == {"uplink1": "vmnic1", "uplink3": "vmnic2"}
    assert h.vmks[1].portgroup == "dvpg-backup" and h.vmks[1].services == ("vSphereBackupNFC",)


def test_vmk_on_an_unknown_dvpg_skips_only_that_host():
    port = vim.dvs.PortConnection(switchUuid="x", portgroupKey="dvportgroup-99")
    bad = standard_host([vnic("vmk0", None, "10.10.0.11", dvport=port)], [])
    got = convert(inventory(h1=bad))
    assert got.hosts == () and "dvportgroup-99" in got.missing["esx01.lab.local"]


@pytest.mark.parametrize("text, host, port, label", [
    ("vc01.lab.local", "vc01.lab.local", 443, "vc01.lab.local"),
    ("https://10.0.0.5:8443/sdk", "10.0.0.5", 8443, "10.0.0.5:8443"),
    ("vc01:444", "vc01", 444, "vc01:444"),
])
def test_server_spellings(text, host, port, label):
    assert Endpoint.parse(text) == Endpoint(host, port, label)


def test_bad_server_spelling():
    with pytest.raises(DiscoveryError):
        Endpoint.parse("vc01:notaport")


def test_two_vcenters_with_a_same_named_switch_keep_both():
    from nbdpath.model import DistributedSwitch, DvsMembership, Host
    from nbdpath.sources.vcenter import merge_converted
    from nbdpath.sources.vcenter_convert import Converted

    def part(vc, mtu):
        dvs = DistributedSwitch(name="DSwitch", mtu=mtu)
        host = Host(name=f"esx-{vc}", vcenter=vc, dvswitches=(DvsMembership(switch="DSwitch"),))
        return Converted((host,), (dvs,), {})

    missing: dict[str, str] = {}
    snap = merge_converted([part("vc-a", 1500), part("vc-b", 9000)], ["vc-a", "vc-b"], missing)
    assert [(d.name, d.mtu) for d in snap.dvswitches] == [("DSwitch", 1500), ("DSwitch (vc-b)", 9000)]
    assert [h.dvswitches[0].switch for h in snap.hosts] == ["DSwitch", "DSwitch (vc-b)"]
    assert snap.missing == {}


def test_a_host_listed_by_two_vcenters_is_kept_once_and_reported():
    from nbdpath.model import Host
    from nbdpath.sources.vcenter import merge_converted
    from nbdpath.sources.vcenter_convert import Converted

    parts = [Converted((Host(name="esx01", vcenter=vc),), (), {}) for vc in ("vc-a", "vc-b")]
    snap = merge_converted(parts, ["vc-a", "vc-b"], {})
    assert [h.vcenter for h in snap.hosts] == ["vc-a"]
    assert snap.missing == {"esx01 (vc-b)": "also listed by vc-a; kept that one"}


def test_enhanced_lacp_lag_becomes_its_ports_with_lacp_policy():
    dvs, pgs = dvs_objects()
    config = dvs["dvs-7"]["config"]
    config.lacpGroupConfig = [vim.dvs.VmwareDistributedVirtualSwitch.LacpGroupConfig(
        name="lag1", uplinkName=["lag1-0", "lag1-1"], mode="active")]
    order = vim.dvs.VmwareDistributedVirtualSwitch.UplinkPortOrderPolicy
    pgs["dvportgroup-3"]["config"].defaultPortConfig.uplinkTeamingPolicy = (
        vim.dvs.VmwareDistributedVirtualSwitch.UplinkPortTeamingPolicy(
            inherited=False, policy=vim.StringPolicy(inherited=False, value="loadbalance_ip"),
            uplinkPortOrder=order(inherited=False, activeUplinkPort=["lag1"], standbyUplinkPort=[])))
    got = convert(Inventory(vcenter="vc01", hosts={}, dvswitches=dvs, dvportgroups=pgs))
    (sw,) = got.dvswitches
    assert sw.uplink_ports == ("uplink1", "uplink2", "uplink3", "lag1-0", "lag1-1")
    backup = next(p for p in sw.portgroups if p.name == "dvpg-backup")
    assert (backup.teaming.policy, backup.teaming.active, backup.teaming.standby) == ("lacp", ("lag1-0", "lag1-1"), ())
    assert backup.teaming.unused == ("uplink1", "uplink2", "uplink3")


def test_host_added_by_ip_is_named_by_its_dns_name():
    vnics = [vnic("vmk0", "Mgmt", "10.10.0.21")]
    host = standard_host(vnics, [])
    host["name"] = "10.10.0.21"
    host["config.network"].dnsConfig = vim.host.DnsConfig(dhcp=False, hostName="esx67-01", domainName="lab.local")
    (h,) = convert(inventory(h1=host)).hosts
    assert (h.name, h.management_address) == ("esx67-01.lab.local", "10.10.0.21")


def test_hosts_sharing_a_dns_name_keep_their_ips():
    hosts = {}
    for i in (1, 2):
        host = standard_host([vnic("vmk0", "Mgmt", f"10.10.0.{i}")], [])
        host["name"] = f"10.10.0.{i}"
        host["config.network"].dnsConfig = vim.host.DnsConfig(dhcp=False, hostName="localhost")
        hosts[f"h{i}"] = host
    got = convert(inventory(**hosts))
    assert [h.name for h in got.hosts] == ["10.10.0.1", "10.10.0.2"]


@pytest.mark.parametrize("where", ["vmk", "host", "portgroup"])
def test_a_name_vsphere_would_never_produce_leaves_one_escaped_line_in_missing(where):
    bad = "x\x1b[2J\n#evil"
    vnics = [vnic("vmk0" if where != "vmk" else f"vmk0{bad}", "Mgmt", "10.10.0.11")]
    host = standard_host(vnics, [])
    if where == "host":
        host["name"] = f"esx01{bad}"
    if where == "portgroup":
        host["config.network"].portgroup[0].spec.name = f"Mgmt{bad}"
    good = dict(standard_host([vnic("vmk0", "Mgmt", "10.10.0.12")], []), name="esx02")
    got = convert(inventory(h1=host, h2=good))
    assert [h.name for h in got.hosts] == ["esx02"]
    ((key, reason),) = got.missing.items()
    for text in (key, reason):
        assert "\x1b" not in text and "\n" not in text
    assert reason.startswith("could not read its network configuration (") and len(reason) <= 400
    assert key == ("esx01x\\x1b[2J\\n#evil" if where == "host" else "esx01.lab.local")
    assert ("device:" if where == "vmk" else "name:") in reason and "#evil" not in reason  # the field, not the value


def test_a_distributed_switch_the_model_refuses_is_missing_not_fatal():
    dvs, pgs = dvs_objects()
    dvs["dvs-7"]["name"] = "dvs\x07bell"
    inv = Inventory(vcenter="vc01", hosts={"h1": standard_host([vnic("vmk0", "Mgmt", "10.10.0.11")], [])},
                    listed_hosts=("h1",), dvswitches=dvs, dvportgroups=pgs)
    got = convert(inv)
    assert got.dvswitches == () and [h.name for h in got.hosts] == ["esx01.lab.local"]
    assert got.missing == {"vc01/dvs\\x07bell": got.missing["vc01/dvs\\x07bell"]}
    assert "distributed switch not read" in got.missing["vc01/dvs\\x07bell"]
