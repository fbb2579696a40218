"""Rules about the backup product's own settings."""

from __future__ import annotations

import ipaddress
from typing import Iterator

from ..engine.topology import HostView, Network
from ..engine.types import Path
from ..model import BACKUP_NFC, DEFAULT_STACK
from ..changes import TagAdd
from .base import Finding, Fix, Severity, finding, rule

PREFERENCE_IGNORED = rule(
    "NBD010", "product-preference-ineffective", Severity.INFO,
    "The backup product's network preference cannot steer NBD",
    """Settings such as Veeam's Preferred Networks do not change which address NBD connects to: vCenter decides
    (management address, or the vSphereBackupNFC vmk on 7.0+), in both directions (field report 1).""",
)


def path_rules(path: Path, hv: HostView, network: Network, preferred: tuple[str, ...]) -> Iterator[Finding]:
    if not preferred or path.endpoint.ip is None:
        return
    nets = [ipaddress.ip_network(n) for n in preferred]
    ep = ipaddress.ip_address(path.endpoint.ip)
    if any(ep in n for n in nets):
        return
    candidate = next(
        (d for d, i in hv.ifaces.items()
         if hv.stack_of[d] == DEFAULT_STACK and d not in hv.management_vmks and d != path.endpoint.vmk and any(ipaddress.ip_address(i.ip_text) in n for n in nets)),
        None,
    )
    changes = (TagAdd(path.host, candidate),) if candidate and hv.host.has_backup_tag else ()
    summary = (f"Tag {candidate} (in the preferred network) with {BACKUP_NFC}." if changes
               else "Nothing on the host follows the preference: to move NBD, change what vCenter hands out "
                    "(a vSphereBackupNFC vmk on 7.0+); the preference itself can stay.")
    yield finding(
        PREFERENCE_IGNORED, path.host,
        f"{path.node} prefers {', '.join(preferred)} but NBD uses {path.endpoint.ip} ({path.endpoint.vmk}) as vCenter hands out",
        Fix(summary, changes), node=path.node,
    )
