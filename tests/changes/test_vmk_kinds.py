"""The vmk kinds of issue 10 (vmk-add, ipv4-set, vmk-mtu-set, portgroup-vlan-set, a recorded vmk-remove):
each undoes itself from its op alone, and its precondition refuses what ESXi or safety would."""

from __future__ import annotations

import pytest

from nbdpath import changes as ch
from nbdpath import labs
from nbdpath.apply.planfile import parse_op
from nbdpath.apply.status import assess
from nbdpath.errors import InputError, LiveError, UsageError
from nbdpath.sources.vsphere_fake import FakeVsphere

HOST = "esx01.lab.local"
SNAP = labs.load("veeam-tag-routed")  # esx01: vmk0 10.10.0.11/24 management, vmk2 10.30.0.11/24 backup on Backup (VLAN 30)


def _renamed(snap, old, new):
    h = snap.hosts[0]
    vmks = tuple(v.model_copy(update={"device": new}) if v.device == old else v for v in h.vmks)
    return snap.model_copy(update={"hosts": (h.model_copy(update={"vmks": vmks}),) + snap.hosts[1:]})


SNAP1 = _renamed(SNAP, "vmk2", "vmk1")  # no gap below the backup vmk: a recreated one gets its name back

MADE = [
    ch.VmkAdd(HOST, "vmk1", "Backup", "10.30.0.21/24", mtu=1500, services=("vmotion",)),
    ch.VmkAdd(HOST, "vmk1", "Backup"),
    ch.Ipv4Set(HOST, "vmk2", "10.31.0.11/24", "10.30.0.11/24"),
    ch.Ipv4Set(HOST, "vmk2", "none", "10.30.0.11/24"),
    ch.VmkMtuSet(HOST, "vmk2", 1400, 1500),
    ch.PortgroupVlanSet(HOST, "Backup", 31, 30),
]


@pytest.mark.parametrize("change, snap", [(c, SNAP) for c in MADE] + [(ch.VmkRemove.of(SNAP1.hosts[0], "vmk1"), SNAP1)],
                         ids=lambda c: c.describe() if isinstance(c, tuple(ch.KINDS)) else "")
def test_made_on_a_copy_then_undone_by_its_opposite_restores_the_snapshot(change, snap):
    assert ch.from_dict(change.to_dict()) == change
    assert parse_op(change.to_dict(), "plan.json", "steps[0].op") == change  # a plan file reads it back
    assert assess(change, snap).status is ch.Status.PENDING
    after = ch.apply(snap, change)
    assert assess(change, after).status is ch.Status.DONE
    assert change.reversible and change.inverse(snap) == list(change.opposite())
    [undo] = change.opposite()
    restored = ch.apply(after, undo, restoring=True)
    host, was = restored.hosts[0], snap.hosts[0]
    # A recreated vmk comes back last in the list and without its MAC (the host gives it a new one).
    key = lambda v: v.device  # noqa: E731
    assert sorted((v.model_copy(update={"mac": None}) for v in host.vmks), key=key) == \
        sorted((v.model_copy(update={"mac": None}) for v in was.vmks), key=key)
    assert host.vswitches == was.vswitches and restored.hosts[1:] == snap.hosts[1:]


def _with_route(snap):
    h = snap.hosts[0]
    stack = h.netstacks[0].model_copy(update={"routes": (ch.kinds.Route(network="10.40.0.0/24", gateway="10.30.0.1"),)})
    return snap.model_copy(update={"hosts": (h.model_copy(update={"netstacks": (stack,) + h.netstacks[1:]}),) + snap.hosts[1:]})


REFUSED = [
    (ch.VmkAdd(HOST, "vmk2", "Backup", "10.30.0.21/24"), SNAP, "already has a vmk2"),
    (ch.VmkAdd(HOST, "vmk3", "Backup", "10.30.0.21/24"), SNAP, "would name a new vmk vmk1"),
    (ch.VmkAdd(HOST, "vmk1", "Nope", "10.30.0.21/24"), SNAP, "no standard port group Nope"),
    (ch.VmkAdd(HOST, "vmk1", "Backup", "10.30.0.11/24"), SNAP, "10.30.0.11 is already vmk2's address"),
    (ch.VmkAdd(HOST, "vmk1", "Backup", "10.30.0.21/24", netstack="backupStack"), SNAP, "has no backupStack netstack"),
    (ch.VmkAdd(HOST, "vmk1", "Backup", "10.30.0.21/24", mtu=9000), SNAP, "above vSwitch1's 1500"),
    (ch.VmkAdd(HOST, "vmk1", "Backup", "10.30.0.21/24", switch="dvs9"), SNAP, "not on distributed switch dvs9"),
    (ch.Ipv4Set(HOST, "vmk2", "10.31.0.11/24", "10.30.0.99/24"), SNAP, "not 10.30.0.99/24 as planned"),
    (ch.Ipv4Set(HOST, "vmk0", "10.10.0.99/24", "10.10.0.11/24"), SNAP, "carries management"),
    (ch.Ipv4Set(HOST, "vmk2", "10.10.0.11/24", "10.30.0.11/24"), SNAP, "already vmk0's address"),
    (ch.Ipv4Set(HOST, "vmk2", "10.31.0.11/24", "10.30.0.11/24"), _with_route(SNAP), "gateway 10.30.0.1 on defaultTcpipStack"),
    (ch.VmkMtuSet(HOST, "vmk2", 9000, 1500), SNAP, "above vSwitch1's 1500"),
    (ch.VmkMtuSet(HOST, "vmk2", 1400, 9000), SNAP, "is 1500, not 9000"),
    (ch.PortgroupVlanSet(HOST, "Management Network", 99, 10), SNAP, "carries management"),
    (ch.PortgroupVlanSet(HOST, "Backup", 31, 20), SNAP, "on VLAN 30, not 20"),
    (ch.PortgroupVlanSet(HOST, "Nope", 31, 30), SNAP, "no standard port group Nope"),
    (ch.VmkRemove(HOST, "vmk2", "Backup", "10.30.0.99/24", "defaultTcpipStack", 1500, ("vSphereBackupNFC",)), SNAP,
     "not as recorded"),
    (ch.VmkRemove(HOST, "vmk0"), SNAP, "carries management"),
]


@pytest.mark.parametrize("change, snap, why", REFUSED, ids=[r[2] for r in REFUSED])
def test_refused_alike_by_the_what_if_and_by_apply(change, snap, why):
    a = assess(change, snap, allow_irreversible=True)
    assert a.status is ch.Status.BLOCKED and why in a.reason, a
    with pytest.raises(UsageError, match=why.split(" ")[0]):
        ch.apply(snap, change)


def test_a_rollback_restores_what_forward_checks_refuse():
    # Back to an MTU above the switch's: what was there before, so the restore is allowed.
    assert assess(ch.VmkMtuSet(HOST, "vmk2", 9000, 1500), SNAP, restoring=True).status is ch.Status.PENDING


def test_a_vmk_removal_is_reversible_only_with_a_record_a_vmk_add_can_restore():
    host = SNAP1.hosts[0]
    assert ch.VmkRemove.of(host, "vmk1").reversible
    # vmk1 free below vmk2: the host would give a recreated vmk2 the name vmk1, so it cannot come back.
    assert ch.VmkRemove.of(SNAP.hosts[0], "vmk2") == ch.VmkRemove(HOST, "vmk2")
    assert not ch.VmkRemove(HOST, "vmk2").reversible and ch.VmkRemove(HOST, "vmk2").opposite() == ()
    v6 = host.model_copy(update={"vmks": tuple(v.model_copy(update={"ipv6": ("fd00::11/64",)}) for v in host.vmks)})
    assert ch.VmkRemove.of(v6, "vmk1") == ch.VmkRemove(HOST, "vmk1")  # IPv6 cannot be recreated: irreversible
    assert ch.VmkRemove(HOST, "vmk2").to_dict() == {"op": "vmk-remove", "host": HOST, "vmk": "vmk2"}


@pytest.mark.parametrize("op, where", [
    ({"op": "vmk-mtu-set", "host": HOST, "vmk": "vmk2", "mtu": "9000", "previous": 1500}, "op.mtu"),
    ({"op": "vmk-mtu-set", "host": HOST, "vmk": "vmk2", "mtu": True, "previous": 1500}, "op.mtu"),
    ({"op": "vmk-mtu-set", "host": HOST, "vmk": "vmk2", "mtu": 100, "previous": 1500}, "mtu: expected an integer from 576"),
    ({"op": "vmk-mtu-set", "host": HOST, "vmk": "vmk2", "mtu": 1400}, "op.previous"),
    ({"op": "vmk-add", "host": HOST, "vmk": "vmk1", "portgroup": "Backup", "services": "vmotion"}, "op.services"),
    ({"op": "vmk-add", "host": HOST, "vmk": "vmk1", "portgroup": "Backup", "services": ["bogus"]}, "unknown service"),
    ({"op": "vmk-add", "host": HOST, "vmk": "vmk1", "portgroup": "Backup", "ipv4": "10.30.0.21"}, "prefix length"),
    ({"op": "ipv4-set", "host": HOST, "vmk": "vmk2", "ipv4": "10.30.0.0/24", "previous": "none"}, "network or broadcast"),
    ({"op": "portgroup-vlan-set", "host": HOST, "portgroup": "Backup", "vlan": 4096, "previous": 30}, "0 to 4095"),
])
def test_a_plan_file_op_of_the_wrong_shape_is_one_input_error(op, where):
    with pytest.raises(InputError, match=where.replace(".", r"\.")):
        parse_op(op, "plan.json", "op")


class _Host(ch.HostNetworkApi):
    """A host that names every new vmk vmk7 (as ESXi does when vmk7 is its lowest free number)."""

    def __init__(self):
        self.calls = []

    def add_vnic(self, device, portgroup, switch, ipv4, netstack, mtu):
        self.calls.append(("add", device))
        return "vmk7"

    def remove_vnic(self, device):
        self.calls.append(("remove", device))


def test_a_vmk_the_host_names_otherwise_is_removed_again_and_the_step_fails():
    api = _Host()
    with pytest.raises(LiveError, match="named the new adapter vmk7, not vmk1"):
        ch.VmkAdd(HOST, "vmk1", "Backup", "10.30.0.21/24").perform(api)
    assert api.calls == [("add", "vmk1"), ("remove", "vmk7")]


def test_the_fake_host_makes_each_primitive_as_the_kind_says():
    fake = FakeVsphere({"vc": SNAP})
    from nbdpath.sources.vsphere import ConnectOptions, Credentials, Endpoint

    api = fake.connect(Endpoint.parse("vc"), Credentials("u", "p"), ConnectOptions()).host_network(HOST)
    for change in (ch.VmkAdd(HOST, "vmk1", "Backup", "10.30.0.21/24", services=("vmotion",)),
                   ch.Ipv4Set(HOST, "vmk1", "10.30.0.22/24", "10.30.0.21/24"), ch.VmkMtuSet(HOST, "vmk1", 1400, 1500),
                   ch.PortgroupVlanSet(HOST, "Backup", 31, 30)):
        change.perform(api)
        assert assess(change, fake.estates["vc"]).status is ch.Status.DONE, change
