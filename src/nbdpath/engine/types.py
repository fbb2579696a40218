"""Trace data: Path -> Hop -> Step, each step saying why.

Like Batfish's flow traces: data first, rendering elsewhere. Every object
round-trips through ``to_dict`` / ``from_dict``; an unknown step kind is an
error, not silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Optional

from .assumptions import expand


class Verdict(str, Enum):
    ISOLATED = "ISOLATED"
    NOT_ISOLATED = "NOT_ISOLATED"
    ASYMMETRIC = "ASYMMETRIC"
    UNREACHABLE = "UNREACHABLE"
    BROKEN_BY_FIREWALL = "BROKEN_BY_FIREWALL"


class StepKind(str, Enum):
    ENDPOINT = "endpoint"  # which address vCenter hands out
    ROUTE = "route"  # a route lookup on a device
    DELIVER = "deliver"  # L2 delivery on a segment
    RECEIVE = "receive"  # a device accepts the packet on an interface
    TEAMING = "teaming"  # port group teaming picks uplinks
    FILTER = "filter"  # a stateful firewall's decision
    DROP = "drop"  # the packet goes no further


STEP_KINDS = {k.value for k in StepKind}


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    detail: str  # the reason, citing the snapshot fields it used
    ok: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "detail": self.detail, "ok": self.ok}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Step":
        if d.get("kind") not in STEP_KINDS:
            raise ValueError(f"unknown step kind {d.get('kind')!r}; expected one of {sorted(STEP_KINDS)}")
        return cls(StepKind(d["kind"]), str(d["detail"]), bool(d.get("ok", True)))


@dataclass(frozen=True, slots=True)
class Hop:
    device: str  # "host:esx01", "node:proxy01", "router:fw1"
    direction: str  # "forward" (node -> host) or "reply" (host -> node)
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "direction": self.direction, "steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Hop":
        return cls(str(d["device"]), str(d["direction"]), tuple(Step.from_dict(s) for s in d["steps"]))


@dataclass(frozen=True, slots=True)
class Endpoint:
    ip: Optional[str]
    vmk: Optional[str]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"ip": self.ip, "vmk": self.vmk, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Uplink:
    name: str
    speed_mbps: Optional[int]
    link_up: bool
    role: str  # active / standby

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "speed_mbps": self.speed_mbps, "link_up": self.link_up, "role": self.role}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a pair's trace decides; independent of the host's own addresses.

    Hosts that share a network shape share one Outcome (see engine.trace).
    """

    endpoint_vmk: Optional[str]
    endpoint_kind: str  # tagged / no-tag / tag-pre-7.0 / tag-not-default-stack
    ingress_vmk: Optional[str]
    egress_vmk: Optional[str]
    egress_uplinks: tuple[Uplink, ...]
    uplink_policy: Optional[str]
    bottleneck_mbps: Optional[int]
    best_available_mbps: Optional[int]
    verdict: Verdict
    verdict_reason: str
    degraded: tuple[str, ...]
    assumptions: tuple[str, ...]
    management_vmk: Optional[str]
    forward_devices: tuple[str, ...]
    reply_devices: tuple[str, ...]
    firewalls_one_way: tuple[str, ...]
    reply_route_origin: Optional[str]  # connected / static / default / vmk-gateway
    node_interface: Optional[str]  # node interface that sourced the connection
    node_ip: Optional[str]
    # The answer under the other reading of each unverified assumption the
    # path used, where it differs (engine.semantics); empty: robust.
    alternatives: tuple[Any, ...] = ()
    # Which walks crossed the undescribed routed network (A11): "forward", "reply".
    unmodelled_legs: tuple[str, ...] = ()

    @property
    def robust(self) -> bool:
        """No unverified assumption this path used would change its verdict."""
        return not any(a.verdict is not None for a in self.alternatives)


@dataclass(slots=True)
class Path:
    """One host -> backup node pair. ``hops`` are computed on first use."""

    host: str
    node: str
    endpoint: Endpoint
    outcome: Outcome
    _hops: Optional[tuple[Hop, ...]] = field(default=None, repr=False, compare=False)
    # Hops of a shared outcome are re-walked on first use: _hops_fn(*_hops_args).
    _hops_fn: Optional[Callable[..., tuple[Hop, ...]]] = field(default=None, repr=False, compare=False)
    _hops_args: tuple = field(default=(), repr=False, compare=False)

    @property
    def verdict(self) -> Verdict:
        return self.outcome.verdict

    @property
    def hops(self) -> tuple[Hop, ...]:
        if self._hops is None:
            self._hops = self._hops_fn(*self._hops_args) if self._hops_fn else ()
        return self._hops

    @property
    def control(self) -> tuple[Any, ...]:
        """The pair's control flows beside the data (engine.control), computed on first use."""
        if len(self._hops_args) != 4:
            return ()
        engine, hv, _, nd = self._hops_args
        return engine.control(hv.host.name, nd.name, self.outcome)

    def to_dict(self, with_hops: bool = True) -> dict[str, Any]:
        o = self.outcome
        d: dict[str, Any] = {
            "host": self.host,
            "node": self.node,
            "endpoint": self.endpoint.to_dict(),
            "node_ip": o.node_ip,
            "ingress_vmk": o.ingress_vmk,
            "egress_vmk": o.egress_vmk,
            "egress_uplinks": [u.to_dict() for u in o.egress_uplinks],
            "uplink_policy": o.uplink_policy,
            "bottleneck_mbps": o.bottleneck_mbps,
            "verdict": o.verdict.value,
            "verdict_reason": o.verdict_reason,
            "degraded": list(o.degraded),
            "assumptions": expand(o.assumptions),
            "alternatives": [a.to_dict() for a in o.alternatives],
            "robust": o.robust,
        }
        if with_hops:
            d["hops"] = [h.to_dict() for h in self.hops]
            d["control"] = [c.to_dict() for c in self.control]
        return d
