"""Rules about the address vCenter hands out (the vSphereBackupNFC tag)."""

from __future__ import annotations

from typing import Iterator

from ..engine.endpoint import PRE70, TAGGED, WRONG_STACK, EndpointChoice
from ..engine.topology import HostView
from ..engine.types import Path, Verdict
from ..model import BACKUP_NFC, DEFAULT_STACK
from ..changes import Change, TagRemove, VmkAdd, VmkRemove
from .base import Finding, Fix, Severity, finding, rule

TAG_WRONG_STACK = rule(
    "NBD001", "tag-non-default-stack", Severity.WARNING, "vSphereBackupNFC on a vmk outside the default TCP/IP stack",
    """vCenter honours the vSphereBackupNFC tag only on a vmk of the default TCP/IP stack (defaultTcpipStack).
    A tag on a vmk of another stack (vmotion, provisioning, a custom stack) is silently ignored: vCenter keeps
    handing out the management address and the backup data flows over management.""",
)
TAG_PRE70 = rule(
    "NBD002", "tag-pre-7.0", Severity.WARNING, "vSphereBackupNFC on a host older than ESXi 7.0",
    """The vSphereBackupNFC service exists from vSphere 7.0. On a 6.x host the tag does nothing: NBD always uses
    the management address. Upgrade the host, or accept management for NBD on it.""",
)
TAG_MULTIPLE = rule(
    "NBD003", "several-tagged-vmks", Severity.WARNING, "Several vmks carry vSphereBackupNFC",
    """VMware does not document which of several tagged vmks vCenter returns; nbdpath assumes the lowest-numbered
    one (assumption A4). Keep the tag on exactly one vmk so the NBD path is deterministic.""",
)
TAG_UNREACHABLE = rule(
    "NBD004", "tagged-ip-unreachable", Severity.ERROR, "The tagged vmk's IP is not reachable from a backup node",
    """When a vmk carries vSphereBackupNFC, vCenter hands out its IP whether or not the backup node can reach it.
    There is no fallback to the management address: the NFC connection times out and the backup fails
    (field report 1, vNote42's test).""",
)
ENDPOINT_UNREACHABLE = rule(
    "NBD011", "endpoint-unreachable", Severity.ERROR, "A backup node cannot reach the NFC endpoint",
    """The backup node cannot open TCP 902 to the address vCenter hands out for this host, so NBD backups of
    its VMs fail.""",
)


def _restack(hv: HostView, dev: str) -> tuple[tuple[Change, ...], tuple[str, ...]]:
    """NBD001's changes: untag, remove and recreate the vmk on the default stack with its address and the tag.

    In this order, each reversible: the removal records the vmk as it stands after the untag, so a rollback
    (newest first) removes the new vmk, recreates the old one and tags it again. Where the vmk cannot be
    recreated as it was (IPv6, a gateway of its own, no IPv4, disabled, or a lower vmk number free, which
    the host would give the new vmk instead), only the untag is proposed: an irreversible removal would
    run last under apply, after the add, and the two would hold one address for a while."""
    name = hv.host.name
    vmk = next(v for v in hv.host.vmks if v.device == dev)
    untag = TagRemove(name, dev)
    pg = hv.pgs.get(vmk.portgroup)
    switch = pg.switch if pg is not None and pg.distributed else None
    remove = VmkRemove.of(untag.edit(hv.host), dev, switch)
    if vmk.ipv4 is None or not remove.reversible:
        return (untag,), (f"remove {dev} and create a vmk on port group {vmk.portgroup} on {DEFAULT_STACK} with its "
                          f"address, tagged {BACKUP_NFC} (nbdpath cannot undo that removal here, so it is not proposed)",)
    mtu = min(vmk.mtu, pg.mtu) if pg is not None else vmk.mtu  # a new vmk above its switch's MTU is NBD014
    add = VmkAdd(name, dev, vmk.portgroup, vmk.ipv4, DEFAULT_STACK, mtu, (BACKUP_NFC,), switch)
    return (untag, remove, add), ()


def host_rules(hv: HostView, ep: EndpointChoice) -> Iterator[Finding]:
    name = hv.host.name
    if ep.kind == WRONG_STACK:
        for dev in ep.tagged:
            stack = hv.stack_of.get(dev)
            if stack == DEFAULT_STACK:
                continue
            vmk = next(v for v in hv.host.vmks if v.device == dev)
            changes, manual = _restack(hv, dev)
            yield finding(
                TAG_WRONG_STACK, name,
                f"{dev} carries {BACKUP_NFC} on netstack {stack}; vCenter ignores it and returns the management address",
                Fix(
                    f"Put the backup vmk on {DEFAULT_STACK}: remove the tag from {dev}, then recreate a vmk on port group "
                    f"{vmk.portgroup} on the default stack with the same IP and tag it. A vmk cannot change netstack in place.",
                    changes, manual,
                ),
                vmk=dev,
            )
    if ep.kind == PRE70:
        for dev in ep.tagged:
            yield finding(
                TAG_PRE70, name,
                f"{dev} carries {BACKUP_NFC} but {name} runs ESXi {hv.host.version}; the tag needs 7.0 or later",
                Fix("Remove the tag (it misleads), or upgrade the host to 7.0+.", (TagRemove(name, dev),)),
                vmk=dev,
            )
    usable = [d for d in ep.tagged if hv.stack_of.get(d) == DEFAULT_STACK and d in hv.ifaces]
    if len(ep.tagged) > 1 and hv.host.has_backup_tag:
        keep = usable[0] if usable else ep.tagged[0]
        yield finding(
            TAG_MULTIPLE, name,
            f"{', '.join(ep.tagged)} all carry {BACKUP_NFC}; nbdpath assumes vCenter returns {keep}",
            Fix(f"Keep the tag on {keep} only.", tuple(TagRemove(name, d) for d in ep.tagged if d != keep)),
        )


def path_rules(path: Path) -> Iterator[Finding]:
    o = path.outcome
    if o.verdict is not Verdict.UNREACHABLE:
        return
    if o.endpoint_kind == TAGGED and o.endpoint_vmk is not None:
        yield finding(
            TAG_UNREACHABLE, path.host,
            f"{path.node} cannot reach {path.endpoint.vmk} {path.endpoint.ip}:902 that vCenter hands out: {o.verdict_reason}",
            Fix(
                f"Make {path.endpoint.ip} reachable from {path.node} (a leg on that subnet, or a route), or remove the tag "
                "so vCenter hands out the management address.",
                (TagRemove(path.host, o.endpoint_vmk),),
                (f"on {path.node}: add an interface on {path.endpoint.vmk}'s subnet or a route to it",),
            ),
            node=path.node, vmk=o.endpoint_vmk,
        )
    else:
        yield finding(
            ENDPOINT_UNREACHABLE, path.host, f"{path.node} cannot use NBD with {path.host}: {o.verdict_reason}",
            Fix(f"Give {path.node} a route to {path.endpoint.ip or 'the management address'} and the host a route back.",
                (), (f"on {path.node}: check its routes and gateway towards {path.endpoint.ip}",)),
            node=path.node,
        )
