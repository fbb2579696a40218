"""The vSphere client seam's contract, held by both clients behind it: the pyVmomi one on vcsim and the fake.

Whatever a fast test learns from FakeVsphere is only worth it while the fake
answers as the real client does; these cases pin what both must say.
"""

from __future__ import annotations

import pytest

from nbdpath import labs
from nbdpath.errors import SoapFault
from nbdpath.sources import vsphere
from nbdpath.sources.vsphere_fake import FakeVsphere

LAB = labs.load("veeam-tag-routed")
E1 = "esx01.lab.local"


@pytest.fixture(params=["fake", "pyvmomi"])
def session(request):
    if request.param == "fake":
        ep = vsphere.Endpoint.parse("vc01")
        s = FakeVsphere({"vc01": LAB}).connect(ep, vsphere.Credentials("u", "p"), vsphere.ConnectOptions())
    else:
        pytest.importorskip("pyVmomi")
        sim = request.getfixturevalue("run_vcsim")(LAB)
        ep = vsphere.Endpoint.parse(sim.server)
        s = vsphere.default_client().connect(ep, vsphere.Credentials(sim.user, sim.password),
                                             vsphere.ConnectOptions(ca_file=str(sim.cert)))
    yield s
    s.close()


def services(converted, host):
    h = next(h for h in converted.hosts if h.name == host)
    return {v.device: v.services for v in h.vmks}


def test_the_inventory_lists_every_host_with_its_vmks(session):
    converted = session.read_inventory()
    assert sorted(h.name for h in converted.hosts) == sorted(h.name for h in LAB.hosts)
    assert not converted.missing
    assert services(converted, E1) == {v.device: v.services for v in LAB.hosts[0].vmks}


def test_a_change_through_host_network_shows_in_a_host_scoped_read(session):
    session.read_inventory()
    session.host_network(E1).deselect_vnic("vSphereBackupNFC", "vmk2")
    one = session.read_hosts([E1])
    assert [h.name for h in one.hosts] == [E1]
    assert services(one, E1)["vmk2"] == ()
    session.host_network(E1).select_vnic("vSphereBackupNFC", "vmk2")
    assert services(session.read_hosts([E1]), E1)["vmk2"] == ("vSphereBackupNFC",)


def test_a_host_the_server_does_not_have_is_a_fault_not_a_crash(session):
    session.read_inventory()
    with pytest.raises(SoapFault) as err:
        session.host_network("esx99.lab.local")
    assert err.value.kind == "ManagedObjectNotFound"
