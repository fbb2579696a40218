"""Step status from a Snapshot: pending / already done / blocked, and why."""

from __future__ import annotations

import pytest

from nbdpath import labs
from nbdpath.apply import Status, assess, assess_plan
from nbdpath.apply.planfile import PlannedStep
from nbdpath.plan import changes as ch

ROUTED = labs.load("veeam-tag-routed")
E1, E2 = "esx01.lab.local", "esx02.lab.local"


@pytest.mark.parametrize("change, status, why", [
    (ch.RouteAdd(E1, "10.40.0.0/24", "10.30.0.1"), Status.PENDING, "no route"),
    (ch.RouteAdd(E2, "10.40.0.0/24", "10.30.0.1"), Status.DONE, "already"),
    (ch.RouteAdd(E2, "10.40.0.0/24", "10.30.0.2"), Status.BLOCKED, "already routes 10.40.0.0/24 via 10.30.0.1"),
    (ch.RouteAdd(E1, "10.40.0.0/24", "10.99.0.1"), Status.BLOCKED, "on no subnet"),
    (ch.RouteAdd(E1, "10.40.0.0/24", "10.30.0.1", "vmotion"), Status.BLOCKED, "no vmotion netstack"),
    (ch.RouteRemove(E2, "10.40.0.0/24", "10.30.0.1"), Status.PENDING, "is on"),
    (ch.RouteRemove(E1, "10.40.0.0/24", "10.30.0.1"), Status.DONE, "no route"),
    (ch.RouteAdd(E1, "0.0.0.0/0", "10.10.0.1"), Status.DONE, "already 10.10.0.1"),
    (ch.RouteAdd(E1, "0.0.0.0/0", "10.30.0.1"), Status.BLOCKED, "would replace"),
    (ch.RouteRemove(E1, "0.0.0.0/0", "10.10.0.1"), Status.PENDING, "is 10.10.0.1"),
    (ch.TagAdd(E1, "vmk2"), Status.DONE, "already carries"),
    (ch.TagAdd(E1, "vmk0"), Status.PENDING, "does not carry"),
    (ch.TagAdd(E1, "vmk7"), Status.BLOCKED, "vmk7 not found on esx01.lab.local (it has vmk0, vmk2)"),
    (ch.TagRemove(E1, "vmk0"), Status.DONE, "does not carry"),
    (ch.TagRemove(E1, "vmk2"), Status.PENDING, "carries vSphereBackupNFC"),
    (ch.TagAdd("esx09", "vmk2"), Status.BLOCKED, "host esx09 not found live"),
    (ch.VmkRemove(E1, "vmk2"), Status.BLOCKED, "--allow-irreversible"),
    (ch.VmkRemove(E1, "vmk5"), Status.DONE, "not on"),
])
def test_assess_on_a_lab(change, status, why):
    a = assess(change, ROUTED)
    assert a.status is status
    assert why in a.reason


def test_vmk_removal_needs_the_flag_and_never_takes_management():
    assert assess(ch.VmkRemove(E1, "vmk2"), ROUTED, allow_irreversible=True).status is Status.PENDING
    a = assess(ch.VmkRemove(E1, "vmk0"), ROUTED, allow_irreversible=True)
    assert a.status is Status.BLOCKED and "management" in a.reason


def test_missing_host_says_what_discovery_recorded():
    snap = ROUTED.model_copy(update={"hosts": ROUTED.hosts[1:], "missing": {E1: "connection state is disconnected"}})
    a = assess(ch.TagAdd(E1, "vmk2"), snap)
    assert a.status is Status.BLOCKED and "disconnected" in a.reason


def test_backup_tag_needs_esxi_7_and_the_default_stack():
    old = labs.load("esxi67-no-tag")
    host = old.hosts[0]
    vmk = next(v for v in host.vmks if "vSphereBackupNFC" not in v.services)
    a = assess(ch.TagAdd(host.name, vmk.device), old)
    assert a.status is Status.BLOCKED and "7.0" in a.reason
    wrong = labs.load("tag-wrong-stack")
    h = wrong.hosts[0]
    off_default = next(v for v in h.vmks if v.netstack != "defaultTcpipStack")
    cleared = ch.apply(wrong, ch.TagRemove(h.name, off_default.device)) if off_default.services else wrong
    a = assess(ch.TagAdd(h.name, off_default.device), cleared)
    assert a.status is Status.BLOCKED and "honoured on defaultTcpipStack only" in a.reason


def test_a_plan_is_assessed_on_the_state_its_earlier_steps_leave():
    steps = [PlannedStep(1, ch.TagRemove(E1, "vmk2"), ()), PlannedStep(2, ch.TagAdd(E1, "vmk2"), ()),
             PlannedStep(3, ch.TagRemove(E1, "vmk2"), ())]
    views = assess_plan(steps, ROUTED)
    assert [v.assessment.status for v in views] == [Status.PENDING, Status.PENDING, Status.PENDING]
    assert views[0].rollback == (ch.TagAdd(E1, "vmk2"),)
    # Already-done steps neither change the simulated state nor carry a rollback.
    views = assess_plan([PlannedStep(1, ch.TagAdd(E1, "vmk2"), ()), PlannedStep(2, ch.TagRemove(E1, "vmk2"), ())],
                        ROUTED)
    assert [v.assessment.status for v in views] == [Status.DONE, Status.PENDING]
    assert views[0].rollback == ()


def test_a_rollback_may_restore_what_the_forward_checks_would_block():
    wrong = labs.load("tag-wrong-stack")
    h = wrong.hosts[0]
    vmk = next(v for v in h.vmks if v.netstack != "defaultTcpipStack")
    untagged = ch.apply(wrong, ch.TagRemove(h.name, vmk.device))
    assert assess(ch.TagAdd(h.name, vmk.device), untagged).status is Status.BLOCKED
    assert assess(ch.TagAdd(h.name, vmk.device), untagged, restoring=True).status is Status.PENDING
