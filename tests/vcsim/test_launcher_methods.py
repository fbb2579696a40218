"""The methods the launcher adds to vcsim, called through pyVmomi as later work will call them."""

from __future__ import annotations

import ssl

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from nbdpath import labs
from nbdpath.sources import vcenter

pytestmark = pytest.mark.vcsim


@pytest.fixture
def session(run_vcsim):
    lab = labs.load("veeam-tag-routed")
    sim = run_vcsim(lab)
    host, port = sim.server.removeprefix("https://").split(":")
    si = SmartConnect(host=host, port=int(port), user=sim.user, pwd=sim.password,
                      sslContext=ssl.create_default_context(cafile=str(sim.cert)))
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.HostSystem], True)
    hosts = {h.name: h for h in view.view}
    view.DestroyView()
    yield sim, hosts
    Disconnect(si)


def rediscover(sim):
    found = vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                             vcenter.ConnectOptions(ca_file=str(sim.cert)))
    return {h.name: h for h in found.snapshot.hosts}


def test_query_select_and_deselect_the_backup_tag(session):
    sim, hosts = session
    vnm = hosts["esx01.lab.local"].configManager.virtualNicManager
    nc = vnm.QueryNetConfig("vSphereBackupNFC")
    assert list(nc.selectedVnic) == ["vSphereBackupNFC.key-vim.host.VirtualNic-vmk2"]
    assert sorted(c.device for c in nc.candidateVnic) == ["vmk0", "vmk2"]

    vnm.DeselectVnicForNicType("vSphereBackupNFC", "vmk2")
    vnm.SelectVnicForNicType("vSphereBackupNFC", "vmk0")
    assert list(vnm.QueryNetConfig("vSphereBackupNFC").selectedVnic) == ["vSphereBackupNFC.key-vim.host.VirtualNic-vmk0"]
    vmks = {v.device: v.services for v in rediscover(sim)["esx01.lab.local"].vmks}
    assert vmks == {"vmk0": ("management", "vSphereBackupNFC"), "vmk2": ()}


def test_select_rejects_unknown_device_and_deselect_unknown_selection(session):
    _, hosts = session
    vnm = hosts["esx01.lab.local"].configManager.virtualNicManager
    with pytest.raises(vmodl_fault("InvalidArgument")):
        vnm.SelectVnicForNicType("vSphereBackupNFC", "vmk9")
    with pytest.raises(vmodl_fault("NotFound")):
        vnm.DeselectVnicForNicType("vSphereBackupNFC", "vmk0")


def vmodl_fault(name):
    return getattr(vim.fault, name, None) or getattr(__import__("pyVmomi").vmodl.fault, name)


def test_add_update_remove_vnic(session):
    sim, hosts = session
    ns = hosts["esx02.lab.local"].configManager.networkSystem
    spec = vim.host.VirtualNic.Specification(
        ip=vim.host.IpConfig(dhcp=False, ipAddress="10.30.0.99", subnetMask="255.255.255.0"), mtu=9000,
        mac="00:50:56:aa:bb:cc")
    device = ns.AddVirtualNic("Backup", spec)
    assert device == "vmk1"
    ns.UpdateVirtualNic("vmk1", vim.host.VirtualNic.Specification(
        ip=vim.host.IpConfig(dhcp=False, ipAddress="10.30.0.98", subnetMask="255.255.255.0")))
    got = {v.device: v for v in rediscover(sim)["esx02.lab.local"].vmks}
    assert (got["vmk1"].ipv4, got["vmk1"].mtu, got["vmk1"].portgroup) == ("10.30.0.98/24", 9000, "Backup")
    ns.RemoveVirtualNic("vmk2")
    assert sorted(rediscover(sim)["esx02.lab.local"].vmks, key=lambda v: v.device)[-1].device == "vmk1"


def test_route_methods_change_gateway_and_static_routes(session):
    sim, hosts = session
    ns = hosts["esx01.lab.local"].configManager.networkSystem
    ns.UpdateIpRouteConfig(vim.host.IpRouteConfig(defaultGateway="10.10.0.254"))
    ns.UpdateIpRouteTableConfig(vim.host.IpRouteTableConfig(ipRoute=[vim.host.IpRouteOp(
        changeOperation="add", route=vim.host.IpRouteEntry(network="10.40.0.0", prefixLength=24, gateway="10.30.0.1"))]))
    (stack,) = rediscover(sim)["esx01.lab.local"].netstacks
    assert stack.gateway == "10.10.0.254"
    assert [(r.network, r.gateway) for r in stack.routes] == [("10.40.0.0/24", "10.30.0.1")]
    ns.UpdateIpRouteTableConfig(vim.host.IpRouteTableConfig(ipRoute=[vim.host.IpRouteOp(
        changeOperation="remove", route=vim.host.IpRouteEntry(network="10.40.0.0", prefixLength=24, gateway="10.30.0.1"))]))
    (stack,) = rediscover(sim)["esx01.lab.local"].netstacks
    assert stack.routes == ()
    # The live table (routeTableInfo) follows too.
    info = hosts["esx01.lab.local"].config.network.routeTableInfo
    assert ("0.0.0.0", 0, "10.10.0.254") in [(r.network, r.prefixLength, r.gateway) for r in info.ipRoute]


def test_a_key_based_array_path_answers_one_element(run_vcsim):
    """config.hardware.device[KEY] as vCenter answers it: that device alone; a key not there, nothing."""
    from pyVmomi import vmodl

    from nbdpath.model import Datastore, Snapshot, VirtualDisk, Vm

    lab = labs.load("veeam-tag-routed")
    h = lab.hosts[0].name
    disks = (VirtualDisk(label="Hard disk 1", capacity_gib=2, datastore="ds1"),
             VirtualDisk(label="data", capacity_gib=3, datastore="ds1"))
    sim = run_vcsim(Snapshot(hosts=lab.hosts, dvswitches=lab.dvswitches, vms=(Vm(name="web01", host=h, disks=disks),),
                             datastores=(Datastore(name="ds1", hosts=(h,)),)))
    host, port = sim.server.removeprefix("https://").split(":")
    si = SmartConnect(host=host, port=int(port), user=sim.user, pwd=sim.password,
                      sslContext=ssl.create_default_context(cafile=str(sim.cert)))
    try:
        view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
        [vm] = view.view
        pc = vmodl.query.PropertyCollector
        spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=vm)], propSet=[pc.PropertySpec(
            type=vim.VirtualMachine, pathSet=["config.hardware.device[2001]", "config.hardware.device[2999]",
                                              "layoutEx.disk", "summary.config.numVirtualDisks"])])
        [content] = si.content.propertyCollector.RetrieveContents([spec])
        props = {p.name: p.val for p in content.propSet}
        assert set(props) == {"config.hardware.device[2001]", "layoutEx.disk", "summary.config.numVirtualDisks"}
        disk = props["config.hardware.device[2001]"]
        assert isinstance(disk, vim.vm.device.VirtualDisk)
        assert (disk.key, disk.deviceInfo.label, disk.capacityInBytes) == (2001, "data", 3 * 2**30)
        # ...the key layoutEx gives the disk, and the count the summary gives.
        assert [d.key for d in props["layoutEx.disk"]] == [2000, 2001]
        assert props["summary.config.numVirtualDisks"] == 2
        view.DestroyView()
    finally:
        Disconnect(si)
