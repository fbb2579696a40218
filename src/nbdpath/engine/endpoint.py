"""Which address vCenter hands the backup node for NFC (the "endpoint")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..model import BACKUP_NFC, DEFAULT_STACK, Snapshot
from .addr import ip_int, ip_str, is_ipv4
from .semantics import DEFAULT, Semantics
from .topology import HostView

# Kinds, used by rules and as part of a host's shape.
TAGGED = "tagged"
PRE70 = "tag-pre-7.0"
WRONG_STACK = "tag-not-default-stack"
NO_TAG = "no-tag"


@dataclass(frozen=True, slots=True)
class EndpointChoice:
    ip: Optional[int]
    vmk: Optional[str]
    kind: str
    reason: str
    assumptions: tuple[str, ...]
    tagged: tuple[str, ...]  # every vmk carrying the tag
    management_vmk: Optional[str]  # the vmk holding the management address

    @property
    def ip_text(self) -> Optional[str]:
        return None if self.ip is None else ip_str(self.ip)


def _vmk_with_ip(hv: HostView, ip: int) -> Optional[str]:
    for dev, iface in hv.ifaces.items():
        if iface.ip == ip:
            return dev
    return None


def management_ip(hv: HostView, snap: Snapshot, sem: Semantics = DEFAULT) -> tuple[Optional[int], str, tuple[str, ...]]:
    """The management address as the node would resolve it, how, and assumptions used."""
    host = hv.host
    addr = host.management_address or host.name
    if is_ipv4(addr):
        return ip_int(addr), f"host registered in vCenter as {addr}", ()
    if addr in snap.dns:
        return ip_int(snap.dns[addr]), f"host registered as {addr}, which resolves to {snap.dns[addr]}", ()
    for dev in hv.management_vmks:
        if dev in hv.ifaces:
            if sem.a6_unresolved:
                return None, f"host registered as {addr}, which (alternative to A6) the node cannot resolve", ("A6-mgmt-dns",)
            ip = hv.ifaces[dev].ip
            return ip, f"host registered as {addr}, assumed to resolve to {dev}'s {ip_str(ip)}", ("A6-mgmt-dns",)
    return None, f"host registered as {addr}, which resolves to no known address", ()


def _tags(hv: HostView) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every vmk carrying the tag, and those vCenter honours it on (an enabled vmk with
    IPv4 on the default stack): facts of the host's configuration, kept with it."""
    hit = hv.config.get("tags")
    if hit is None:
        vmks = hv.vmks
        tagged = tuple(v.device for v in vmks if BACKUP_NFC in v.services)
        usable = tuple(v.device for v in vmks if BACKUP_NFC in v.services and v.netstack == DEFAULT_STACK
                       and v.device in hv.ifaces)
        hit = hv.config["tags"] = (tagged, usable)
    return hit


def select(hv: HostView, snap: Snapshot, sem: Semantics = DEFAULT) -> EndpointChoice:
    host = hv.host
    tagged, usable = _tags(hv)
    mgmt_ip, how, assumptions = management_ip(hv, snap, sem)
    mgmt_vmk = _vmk_with_ip(hv, mgmt_ip) if mgmt_ip is not None else None
    if tagged and not host.has_backup_tag:
        kind = PRE70
        reason = (
            f"{', '.join(tagged)} carries {BACKUP_NFC} but host {host.name} runs ESXi {host.version}; "
            f"the tag exists from 7.0, so vCenter returns the management address"
        )
    elif usable:
        chosen = usable[-1] if sem.a4_last_tag else usable[0]
        ip = hv.ifaces[chosen].ip
        reason = f"{chosen} carries {BACKUP_NFC} on {DEFAULT_STACK} (ESXi {host.version}): vCenter returns its IP {ip_str(ip)}"
        extra: tuple[str, ...] = ()
        if len(usable) > 1:
            reason += f"; also tagged: {', '.join(u for u in usable if u != chosen)}"
            extra = ("A4-multi-tag-first",)
        return EndpointChoice(ip, chosen, TAGGED, reason, extra, tagged, mgmt_vmk)
    elif tagged:
        kind = WRONG_STACK
        where = ", ".join(f"{d} on {hv.stack_of.get(d)}" + ("" if d in hv.ifaces else " (no IPv4 or disabled)") for d in tagged)
        reason = (
            f"{BACKUP_NFC} is set on {where}; vCenter honours it only on an enabled vmk with IPv4 on "
            f"{DEFAULT_STACK}, so it returns the management address"
        )
    else:
        kind = NO_TAG
        reason = f"no vmk carries {BACKUP_NFC}: vCenter returns the management address"
    if mgmt_ip is None:
        return EndpointChoice(None, None, kind, f"{reason}; {how}", assumptions, tagged, None)
    reason = f"{reason}; {how}"
    if mgmt_vmk is None:
        reason += f"; {ip_str(mgmt_ip)} is on no vmk of this host"
    return EndpointChoice(mgmt_ip, mgmt_vmk, kind, reason, assumptions, tagged, mgmt_vmk)


TRANSFER = "transfer-address"


def at_address(hv: HostView, snap: Snapshot, address: str, why: str) -> EndpointChoice:
    """The endpoint when a job, not vCenter, names the address (Forklift's Host
    ``ipAddress``, "used for disk transfer"): the connection goes there whatever
    the tag says. An address on no vmk of the host is traced as given (it fails)."""
    base = select(hv, snap)
    if not is_ipv4(address):
        return EndpointChoice(None, None, TRANSFER, f"{why}: {address} is not IPv4, which the engine does not trace",
                              (), base.tagged, base.management_vmk)
    ip = ip_int(address)
    vmk = _vmk_with_ip(hv, ip)
    where = f"{vmk} of {hv.host.name}" if vmk else f"on no vmk of {hv.host.name}"
    return EndpointChoice(ip, vmk, TRANSFER, f"{why}: {address} ({where}) replaces the address vCenter hands out",
                          (), base.tagged, base.management_vmk)
