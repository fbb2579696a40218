"""What the engine assumes where vSphere is undocumented, and the other reading of each.

A trace runs under one :class:`Semantics`; the default is the reading the
engine defends (docs/engine.md cites why). For every unverified assumption a
path used, the engine traces the pair again under the other reading and keeps
what changed: that is how sure the answer is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Semantics:
    a3_last_vmk: bool = False  # several vmks in one subnet: the last one sends, not the first
    a4_last_tag: bool = False  # several tagged vmks: vCenter returns the highest-numbered
    a5_vmk_gateway_applies: bool = False  # a per-vmk gateway steers all traffic sourced from the vmk
    a6_unresolved: bool = False  # the registered name resolves to nothing the node can reach
    a7_fastest_uplink: bool = False  # the flow lands on the fastest of the active uplinks
    a11_no_routing: bool = False  # the undescribed network does not route between these subnets


DEFAULT = Semantics()

# assumption id -> (the other reading, in words) and its semantics.
ALTERNATIVES: dict[str, tuple[str, Semantics]] = {
    "A3-same-subnet-first-vmk": ("the last-created vmk of the subnet sends instead of the first",
                                 Semantics(a3_last_vmk=True)),
    "A4-multi-tag-first": ("vCenter returns the highest-numbered tagged vmk", Semantics(a4_last_tag=True)),
    "A5-vmk-gateway": ("the per-vmk gateway applies to all traffic sourced from the vmk's IP",
                       Semantics(a5_vmk_gateway_applies=True)),
    "A6-mgmt-dns": ("the registered name does not resolve to the management vmk's IP", Semantics(a6_unresolved=True)),
    "A7-uplink-unpredictable": ("the flow lands on the fastest active uplink", Semantics(a7_fastest_uplink=True)),
    "A11-unmodelled-routing": ("the undescribed network does not route between these subnets",
                               Semantics(a11_no_routing=True)),
}

# Outcome fields an alternative is compared on: what an admin acts upon.
COMPARED = ("endpoint_vmk", "ingress_vmk", "egress_vmk", "verdict", "bottleneck_mbps")


@dataclass(frozen=True, slots=True)
class Alternative:
    """The answer if ``assumption`` did not hold: only the fields that change."""

    assumption: str
    if_not: str
    changes: tuple[tuple[str, Any], ...]

    @property
    def verdict(self) -> Any:
        return dict(self.changes).get("verdict")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"assumption": self.assumption, "if_not": self.if_not}
        for key, value in self.changes:
            d[key] = getattr(value, "value", value)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Alternative":
        from .types import Verdict

        changes = tuple((k, Verdict(d[k]) if k == "verdict" else d[k]) for k in COMPARED if k in d)
        return cls(str(d["assumption"]), str(d["if_not"]), changes)

    def __str__(self) -> str:
        said = ", ".join(f"{k} {getattr(v, 'value', v)}" for k, v in self.changes)
        return f"if not {self.assumption} ({self.if_not}): {said}"


def difference(assumption: str, base: Any, other: Any) -> Alternative | None:
    """What ``other`` (an Outcome under the alternative) changes about ``base``."""
    changes = tuple((k, getattr(other, k)) for k in COMPARED if getattr(other, k) != getattr(base, k))
    if not changes:
        return None
    return Alternative(assumption, ALTERNATIVES[assumption][0], changes)


__all__ = ["ALTERNATIVES", "Alternative", "COMPARED", "DEFAULT", "Semantics", "difference"]
