"""Each change kind's precondition is one rule: the what-if (apply to a copy) and live apply
(assess) agree on every case, including those where they used to disagree."""

from __future__ import annotations

import pytest

from nbdpath import changes as ch
from nbdpath import labs
from nbdpath.apply.status import assess
from nbdpath.errors import UsageError

HOST = "esx01.lab.local"


def _disabled(snap, device):
    host = snap.hosts[0]
    vmks = tuple(v.model_copy(update={"enabled": False}) if v.device == device else v for v in host.vmks)
    return snap.model_copy(update={"hosts": (host.model_copy(update={"vmks": vmks}),) + snap.hosts[1:]})


CASES = [
    # (change, snapshot transform, blocked?, reason fragment)
    (ch.RouteAdd(HOST, "10.40.0.0/24", "10.30.0.1"), lambda s: s, False, "no route for 10.40.0.0/24"),
    (ch.RouteAdd(HOST, "10.40.0.0/24", "10.30.0.1"), lambda s: _disabled(s, "vmk2"), True, "no subnet of an enabled"),
    (ch.RouteAdd(HOST, "10.40.0.0/24", "10.77.0.1"), lambda s: s, True, "no subnet of an enabled"),
    (ch.RouteAdd(HOST, "10.40.0.0/24", "10.30.0.1", "backupStack"), lambda s: s, True, "has no backupStack netstack"),
    (ch.TagAdd(HOST, "vmk9"), lambda s: s, True, "vmk9 not found"),
]


@pytest.mark.parametrize("change, transform, blocked, why", CASES)
def test_what_if_and_apply_agree(change, transform, blocked, why):
    snap = transform(labs.load("veeam-tag-routed"))
    live = assess(change, snap)
    assert (live.status is ch.Status.BLOCKED) is blocked and why in live.reason, live
    if blocked:
        with pytest.raises(UsageError):
            ch.apply(snap, change)
    else:
        after = ch.apply(snap, change)
        assert assess(change, after).status is ch.Status.DONE


def test_every_kind_round_trips_and_its_opposite_undoes_it():
    snap = labs.load("veeam-tag-routed")
    tagged = ch.TagAdd(HOST, "vmk2", "vmotion")
    route = ch.RouteAdd(HOST, "10.40.0.0/24", "10.30.0.1")
    for change in (tagged, route):
        assert ch.from_dict(change.to_dict()) == change
        after = ch.apply(snap, change)
        [undo] = change.opposite()
        assert ch.apply(after, undo) == snap
        assert change.inverse(snap) == list(change.opposite())
    gone = ch.VmkRemove(HOST, "vmk2")
    assert not gone.reversible and gone.opposite() == ()
    with pytest.raises(UsageError, match="cannot be undone"):
        gone.inverse(snap)


def test_field_names_come_from_the_kind():
    assert ch.RouteAdd.field_names() == (("network", "gateway"), ("netstack",))
    assert ch.TagRemove.field_names() == (("vmk",), ("tag",))
    with pytest.raises(ValueError, match="unknown op"):
        ch.from_dict({"op": "reboot", "host": HOST})


SAMPLES = (ch.TagAdd(HOST, "vmk2"), ch.TagRemove(HOST, "vmk0", "management"),
           ch.RouteAdd(HOST, "10.40.0.0/24", "10.30.0.1"), ch.RouteRemove(HOST, "10.40.0.0/24", "10.30.0.1"),
           ch.VmkRemove(HOST, "vmk2"), ch.VmkAdd(HOST, "vmk3", "Backup", "10.30.0.21/24", services=("vSphereBackupNFC",)),
           ch.Ipv4Set(HOST, "vmk2", "10.31.0.11/24", "10.30.0.11/24"), ch.VmkMtuSet(HOST, "vmk2", 1400, 1500),
           ch.PortgroupVlanSet(HOST, "Backup", 31, 30))


def test_registry_lists_every_renderer_and_each_renders_every_kind():
    names = tuple(ch.renderers())
    assert names == ("esxcli", "powercli", "govc", "ansible")
    snap = labs.load("veeam-tag-routed")
    samples = SAMPLES
    # A new kind must come with a sample here, and every renderer must render it.
    assert {type(c) for c in samples} == set(ch.KINDS)
    for change in samples:
        for name, r in ch.renderers().items():
            text = r.command(change, snap)
            assert text.strip() and (change.host in text or name in ("esxcli",)), (name, text)


@pytest.mark.parametrize("change", SAMPLES, ids=lambda c: c.OP)
def test_a_change_moved_to_another_host_is_the_one_built_for_it(change):
    # with_host copies the checked fields instead of constructing: it must equal a construction.
    moved = change.with_host("esx99.lab.local")
    built = type(change)(**{**change.__dict__, "host": "esx99.lab.local"})
    assert moved == built and hash(moved) == hash(built) and type(moved) is type(change)
    assert moved.to_dict() == {**change.to_dict(), "host": "esx99.lab.local"}
    assert change.host == HOST  # the original is untouched


@pytest.mark.parametrize("change", SAMPLES, ids=lambda c: c.OP)
def test_a_kind_whose_inverse_reads_no_state_undoes_alike_on_any_state(change):
    # The workspace hands such a kind no copy of the host's state: its inverse must not depend on it.
    from nbdpath.changes.kinds import Workspace

    def undo(f):
        try:
            return f()
        except UsageError as exc:
            return str(exc)

    snap = labs.load("veeam-tag-routed")
    other = snap.model_copy(update={"hosts": ()})  # a state that knows nothing of the host
    expected = undo(lambda: change.inverse(snap))
    assert undo(lambda: Workspace(snap).inverse(change)) == expected
    if change.inverse_reads_state:
        assert undo(lambda: change.inverse(other)) != expected
    else:
        assert undo(lambda: change.inverse(other)) == expected
