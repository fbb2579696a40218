"""The control path beside the data path.

Field report 1: "control traffic for backup (snapshot creation and so on) is
still using the management port". Isolating NBD moves only the data. Each
pair's control flows are traced as short paths of their own:

- node -> vCenter TCP 443: the backup application's session (snapshots, the
  NFC ticket); vCenter's address comes from ``vcenters[].address``;
- node -> endpoint TCP 902: the NFC ticket and authd exchange, which public
  VDDK logs show going to the same address as the data;
- node -> the host's management address TCP 443: host-level API calls some
  products make; and
- host -> vCenter: vpxa answers and the snapshot work arrive on the
  management network, out of whichever vmk the host's default-stack route
  lookup picks.

Reachability is "nothing described rules it out": vCenter is not a device of
the snapshot, so the engine's walk (``beyond``) counts a packet for it that
leaves the described network as delivered (A11), and one sent onto a subnet
it sits on as answered (A8).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..model import Snapshot
from .addr import ip_int, is_ipv4


@dataclass(frozen=True, slots=True)
class ControlFlow:
    flow: str  # node-vcenter / nfc-auth / node-management / host-vcenter
    src: str
    dst: Optional[str]  # None: the address is not known
    port: int
    reachable: Optional[bool]  # None: cannot tell (address unknown)
    via: Optional[str]  # the vmk (host side) or interface (node side) it leaves on
    reason: str
    on_management: Optional[bool] = None  # host side: leaves on the management vmk

    def to_dict(self) -> dict[str, Any]:
        return {"flow": self.flow, "src": self.src, "dst": self.dst, "port": self.port, "reachable": self.reachable,
                "via": self.via, "on_management": self.on_management, "reason": self.reason}


def vcenter_address(snap: Snapshot, vcenter: Optional[str]) -> tuple[Optional[int], str]:
    """The IPv4 address the backup nodes reach ``vcenter`` at, and how it is known."""
    vcs = {v.name: v for v in snap.vcenters}
    vc = vcs.get(vcenter or "") or (snap.vcenters[0] if len(snap.vcenters) == 1 else None)
    if vc is None:
        return None, "no vCenter in the snapshot for this host (vcenters[], hosts[].vcenter)"
    for candidate in (vc.address, vc.name.rsplit(":", 1)[0] if vc.name.count(":") == 1 else vc.name):
        if candidate and is_ipv4(candidate):
            return ip_int(candidate), f"vCenter {vc.name} at {candidate}"
        if candidate and candidate in snap.dns:
            return ip_int(snap.dns[candidate]), f"vCenter {vc.name}, which resolves to {snap.dns[candidate]}"
    return None, f"vCenter {vc.name}'s address is unknown: give vcenters[].address or a dns entry"


__all__ = ["ControlFlow", "vcenter_address"]
