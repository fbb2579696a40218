"""Where each plan step stands against the live state (pure).

The live state is a :class:`~nbdpath.model.Snapshot` read from vCenter; a
step is *pending* (it would change something), *done* (the live state
already matches: re-runs skip it) or *blocked* (it cannot be applied: host
gone, vmk missing, a conflicting route, ...). A dry run assesses every step
on the state the earlier steps would leave, so a plan whose step 2 depends
on step 1 reads as it will run.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

from ..model import DEFAULT_STACK, Host, Snapshot
from ..model.snapshot import normalise_service, normalise_stack
from ..plan import changes as ch

BACKUP_TAG = "vSphereBackupNFC"


class Status(str, Enum):
    PENDING = "pending"
    DONE = "already done"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Assessment:
    status: Status
    reason: str  # why, in the domain's words (what the live state shows)


def find_host(snap: Snapshot, name: str) -> Host | None:
    return next((h for h in snap.hosts if h.name == name), None)


def assess(change: ch.Change, snap: Snapshot, allow_irreversible: bool = False, restoring: bool = False) -> Assessment:
    """The status of one change on the live state ``snap``.

    ``restoring``: the change puts back what was there before (a rollback),
    so the checks of what is *sensible* (backup tag on 7.0+, default stack)
    give way; only what is impossible still blocks.
    """
    host = find_host(snap, change.host)
    if host is None:
        why = snap.missing.get(change.host)
        return Assessment(Status.BLOCKED, f"host {change.host} not found live" + (f" ({why})" if why else ""))
    if isinstance(change, (ch.TagAdd, ch.TagRemove)):
        return _tag(change, host, restoring)
    if isinstance(change, (ch.RouteAdd, ch.RouteRemove)):
        return _route(change, host)
    if isinstance(change, ch.VmkRemove):
        vmk = next((v for v in host.vmks if v.device == change.vmk), None)
        if vmk is None:
            return Assessment(Status.DONE, f"{change.vmk} is not on {host.name}")
        if not allow_irreversible:
            return Assessment(Status.BLOCKED, f"removing {change.vmk} cannot be undone by nbdpath; "
                                              "give --allow-irreversible to include it")
        if "management" in vmk.services:
            return Assessment(Status.BLOCKED, f"{change.vmk} carries management: removing it would cut the host off")
        return Assessment(Status.PENDING, f"{change.vmk} ({vmk.ipv4 or 'no IPv4'}) would be removed")
    raise TypeError(f"unknown change {change!r}")


def _tag(change: ch.TagAdd | ch.TagRemove, host: Host, restoring: bool = False) -> Assessment:
    vmk = next((v for v in host.vmks if v.device == change.vmk), None)
    if vmk is None:
        have = ", ".join(v.device for v in host.vmks) or "none"
        return Assessment(Status.BLOCKED, f"{change.vmk} not found on {host.name} (it has {have})")
    tag = normalise_service(change.tag)
    tagged = tag in vmk.services
    if isinstance(change, ch.TagRemove):
        if not tagged:
            return Assessment(Status.DONE, f"{change.vmk} does not carry {tag}")
        return Assessment(Status.PENDING, f"{change.vmk} carries {tag}")
    if tagged:
        return Assessment(Status.DONE, f"{change.vmk} already carries {tag}")
    if tag == BACKUP_TAG and not restoring:
        # The tag exists from 7.0 and is honoured on the default stack only (domain notes, section 2).
        if host.version_tuple < (7, 0):
            return Assessment(Status.BLOCKED, f"{host.name} runs ESXi {host.version}; {tag} needs 7.0 or later")
        if vmk.netstack != DEFAULT_STACK:
            return Assessment(Status.BLOCKED, f"{change.vmk} is on the {vmk.netstack} stack; "
                                              f"{tag} is honoured on {DEFAULT_STACK} only")
    return Assessment(Status.PENDING, f"{change.vmk} does not carry {tag} yet")


def _route(change: ch.RouteAdd | ch.RouteRemove, host: Host) -> Assessment:
    key = normalise_stack(change.netstack)
    stack = next((s for s in host.netstacks if s.key == key), None)
    if stack is None:
        return Assessment(Status.BLOCKED, f"{host.name} has no {key} netstack")
    network = str(ipaddress.ip_network(change.network, strict=False))
    if network == "0.0.0.0/0":
        current = stack.gateway
        if isinstance(change, ch.RouteAdd):
            if current == change.gateway:
                return Assessment(Status.DONE, f"default gateway is already {current}")
            if current:
                return Assessment(Status.BLOCKED, f"default gateway on {key} is {current}; "
                                                  f"the plan would replace it with {change.gateway}")
            return Assessment(Status.PENDING, f"no default gateway on {key}")
        if current != change.gateway:
            return Assessment(Status.DONE, f"default gateway on {key} is {current or 'unset'}, not {change.gateway}")
        return Assessment(Status.PENDING, f"default gateway on {key} is {current}")
    same_net = [r for r in stack.routes if r.network == network]
    exact = any(r.gateway == change.gateway for r in same_net)
    if isinstance(change, ch.RouteAdd):
        if exact:
            return Assessment(Status.DONE, f"route {network} via {change.gateway} already on {key}")
        if same_net:
            return Assessment(Status.BLOCKED, f"{key} already routes {network} via {same_net[0].gateway}; "
                                              "remove that route first")
        if not _gateway_on_link(host, key, change.gateway):
            return Assessment(Status.BLOCKED, f"gateway {change.gateway} is on no subnet of a {key} vmk")
        return Assessment(Status.PENDING, f"no route for {network} on {key}")
    if not exact:
        return Assessment(Status.DONE, f"no route {network} via {change.gateway} on {key}")
    return Assessment(Status.PENDING, f"route {network} via {change.gateway} is on {key}")


def _gateway_on_link(host: Host, stack: str, gateway: str) -> bool:
    """ESXi refuses a static route whose gateway no vmk of the stack can reach directly."""
    gw = ipaddress.ip_address(gateway)
    return any(v.ipv4 and v.netstack == stack and gw in ipaddress.ip_interface(v.ipv4).network for v in host.vmks)


@dataclass(frozen=True)
class StepView:
    """One step as a dry run shows it."""

    number: int
    change: ch.Change
    assessment: Assessment
    rollback: tuple[ch.Change, ...]


def assess_plan(steps, snap: Snapshot, allow_irreversible: bool = False) -> list[StepView]:
    """Every step on the state the earlier (pending) steps would leave, starting from ``snap``."""
    out = []
    state = snap
    for step in steps:
        a = assess(step.change, state, allow_irreversible)
        rollback: tuple[ch.Change, ...] = ()
        if a.status is Status.PENDING:
            rollback = live_inverse(step.change, state)
            state = ch.apply(state, step.change)
        out.append(StepView(step.number, step.change, a, rollback))
    return out


def live_inverse(change: ch.Change, snap: Snapshot) -> tuple[ch.Change, ...]:
    """What undoes ``change`` given the live state before it; () for a vmk removal (irreversible)."""
    if isinstance(change, ch.VmkRemove):
        return ()
    return tuple(ch.inverse(change, snap))
