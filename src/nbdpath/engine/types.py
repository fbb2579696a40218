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


class Direction(str, Enum):
    CONTROL = "control"  # vCenter hands out the endpoint (no packet yet)
    FORWARD = "forward"  # node -> host: the request
    REPLY = "reply"  # host -> node: the data
    VERDICT = "verdict"  # a decision on the whole flow (a firewall that saw one direction only)

    def __str__(self) -> str:
        return self.value


class DeviceKind(str, Enum):
    HOST = "host"
    NODE = "node"
    ROUTER = "router"
    VCENTER = "vcenter"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Device:
    """Where a hop happens. Written ``kind:name`` (``vcenter`` alone), as in JSON."""

    kind: DeviceKind
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> "Device":
        kind, _, name = text.partition(":")
        try:
            return cls(DeviceKind(kind), name)
        except ValueError:
            raise ValueError(f"unknown device {text!r}; expected host:NAME, node:NAME, router:NAME or vcenter") from None

    def __str__(self) -> str:
        return self.kind.value if self.kind is DeviceKind.VCENTER else f"{self.kind.value}:{self.name}"


class Degradation(str):
    """A way a path runs worse than designed: the text an admin reads, and a stable ``kind``
    that rules act upon (never a prefix of the text)."""

    kind: str
    KINDS = ("slower-than-available", "uplink-down", "standby-only")

    def __new__(cls, kind: str, text: str) -> "Degradation":
        if kind not in cls.KINDS:
            raise ValueError(f"unknown degradation kind {kind!r}")
        obj = super().__new__(cls, text)
        obj.kind = kind
        return obj

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        return self.kind, str(self)

    @classmethod
    def parse(cls, text: str) -> "Degradation":
        """From JSON, where a degradation is its text."""
        if text.startswith("slower-than-available"):
            return cls("slower-than-available", text)
        if text.startswith("standby-only"):
            return cls("standby-only", text)
        if text.startswith("active uplink ") and text.endswith(" is down"):
            return cls("uplink-down", text)
        raise ValueError(f"unknown degradation {text!r}")


# Typed step details, in the manner of pybatfish's flow steps: what the text says, as data.

@dataclass(frozen=True, slots=True)
class EndpointDetail:
    ip: Optional[str]
    vmk: Optional[str]
    kind: str  # tagged / no-tag / tag-pre-7.0 / tag-not-default-stack


@dataclass(frozen=True, slots=True)
class RouteDetail:
    destination: str
    network: str  # CIDR of the entry that matched
    interface: str
    gateway: Optional[str]  # None: connected
    origin: str  # connected / static / default / vmk-gateway / dynamic


@dataclass(frozen=True, slots=True)
class TeamingDetail:
    vmk: str
    policy: Optional[str]
    uplinks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeliveryDetail:
    interface: str
    next_hop: str
    segment: Optional[str]
    to: Optional[str]  # the device that takes it; None: beyond the snapshot
    assumed: bool = False  # through the undescribed routed network (A11) or beyond the snapshot


@dataclass(frozen=True, slots=True)
class ReceiveDetail:
    address: str
    interface: str
    forwards: bool = False  # a router that passes the packet on


@dataclass(frozen=True, slots=True)
class FilterDetail:
    firewall: str
    saw: Optional[str] = None  # "request" / "reply": the only direction a stateful firewall saw


@dataclass(frozen=True, slots=True)
class DropDetail:
    reason: str


StepDetail = Any  # one of the *Detail classes above
_DETAILS: dict[StepKind, type] = {
    StepKind.ENDPOINT: EndpointDetail, StepKind.ROUTE: RouteDetail, StepKind.TEAMING: TeamingDetail,
    StepKind.DELIVER: DeliveryDetail, StepKind.RECEIVE: ReceiveDetail, StepKind.FILTER: FilterDetail,
    StepKind.DROP: DropDetail,
}


def _detail_dict(data: Any) -> Optional[dict[str, Any]]:
    if data is None:
        return None
    return {f: (list(v) if isinstance(v, tuple) else v) for f in data.__dataclass_fields__ for v in (getattr(data, f),)}


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    detail: str  # the reason, citing the snapshot fields it used
    ok: bool = True
    data: Optional[StepDetail] = None  # the same as typed fields (see _DETAILS)

    def __str__(self) -> str:
        return self.detail

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind.value, "detail": self.detail, "ok": self.ok}
        if self.data is not None:
            d["data"] = _detail_dict(self.data)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Step":
        if d.get("kind") not in STEP_KINDS:
            raise ValueError(f"unknown step kind {d.get('kind')!r}; expected one of {sorted(STEP_KINDS)}")
        kind = StepKind(d["kind"])
        data = None
        if d.get("data") is not None:
            cls_ = _DETAILS[kind]
            raw = dict(d["data"])
            data = cls_(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items()})
        return cls(kind, str(d["detail"]), bool(d.get("ok", True)), data)


@dataclass(frozen=True, slots=True)
class Hop:
    device: Device
    direction: Direction
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"device": str(self.device), "direction": self.direction.value, "steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Hop":
        return cls(Device.parse(str(d["device"])), Direction(str(d["direction"])),
                   tuple(Step.from_dict(s) for s in d["steps"]))


@dataclass(frozen=True, slots=True)
class Endpoint:
    ip: Optional[str]
    vmk: Optional[str]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"ip": self.ip, "vmk": self.vmk, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Endpoint":
        return cls(d.get("ip"), d.get("vmk"), str(d["reason"]))


@dataclass(frozen=True, slots=True)
class Uplink:
    name: str
    speed_mbps: Optional[int]
    link_up: bool
    role: str  # active / standby

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "speed_mbps": self.speed_mbps, "link_up": self.link_up, "role": self.role}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Uplink":
        return cls(str(d["name"]), d.get("speed_mbps"), bool(d["link_up"]), str(d["role"]))


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
    degraded: tuple[Degradation, ...]
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
    # Hops of a shared outcome are re-walked on first use: _hops_fn(*_hops_args); the
    # engine's paths take (engine, host view, endpoint), one tuple for a host's row.
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
        if len(self._hops_args) != 3:
            return ()
        engine, hv, _ = self._hops_args
        return engine.control(hv.host.name, self.node, self.outcome)

    def to_dict(self, with_hops: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {"host": self.host, "node": self.node, "endpoint": self.endpoint.to_dict(),
                             **outcome_dict(self.outcome)}
        if with_hops:
            d["hops"] = [h.to_dict() for h in self.hops]
            d["control"] = [c.to_dict() for c in self.control]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Path":
        """Inverse of :meth:`to_dict` (control flows are not read back: they are recomputed
        from a snapshot, never trusted from a file)."""
        from .semantics import Alternative

        outcome = Outcome(
            endpoint_vmk=d["endpoint"].get("vmk"), endpoint_kind=str(d["endpoint_kind"]),
            ingress_vmk=d.get("ingress_vmk"), egress_vmk=d.get("egress_vmk"),
            egress_uplinks=tuple(Uplink.from_dict(u) for u in d["egress_uplinks"]),
            uplink_policy=d.get("uplink_policy"), bottleneck_mbps=d.get("bottleneck_mbps"),
            best_available_mbps=d.get("best_available_mbps"), verdict=Verdict(d["verdict"]),
            verdict_reason=str(d["verdict_reason"]), degraded=tuple(Degradation.parse(t) for t in d["degraded"]),
            assumptions=tuple(a["id"] for a in d["assumptions"]), management_vmk=d.get("management_vmk"),
            forward_devices=tuple(d["forward_devices"]), reply_devices=tuple(d["reply_devices"]),
            firewalls_one_way=tuple(d["firewalls_one_way"]), reply_route_origin=d.get("reply_route_origin"),
            node_interface=d.get("node_interface"), node_ip=d.get("node_ip"),
            alternatives=tuple(Alternative.from_dict(a) for a in d.get("alternatives", ())),
            unmodelled_legs=tuple(d.get("unmodelled_legs", ())),
        )
        hops = tuple(Hop.from_dict(h) for h in d["hops"]) if "hops" in d else None
        return cls(str(d["host"]), str(d["node"]), Endpoint.from_dict(d["endpoint"]), outcome, hops)


def outcome_dict(o: Outcome) -> dict[str, Any]:
    """A path's outcome fields as :meth:`Path.to_dict` writes them, after host, node and
    endpoint (render.stream writes this part once per shared Outcome)."""
    return {
        "endpoint_kind": o.endpoint_kind,
        "node_interface": o.node_interface,
        "node_ip": o.node_ip,
        "ingress_vmk": o.ingress_vmk,
        "egress_vmk": o.egress_vmk,
        "management_vmk": o.management_vmk,
        "egress_uplinks": [u.to_dict() for u in o.egress_uplinks],
        "uplink_policy": o.uplink_policy,
        "reply_route_origin": o.reply_route_origin,
        "bottleneck_mbps": o.bottleneck_mbps,
        "best_available_mbps": o.best_available_mbps,
        "verdict": o.verdict.value,
        "verdict_reason": o.verdict_reason,
        "degraded": [str(x) for x in o.degraded],
        "forward_devices": list(o.forward_devices),
        "reply_devices": list(o.reply_devices),
        "firewalls_one_way": list(o.firewalls_one_way),
        "unmodelled_legs": list(o.unmodelled_legs),
        "assumptions": expand(o.assumptions),
        "alternatives": [a.to_dict() for a in o.alternatives],
        "robust": o.robust,
    }
