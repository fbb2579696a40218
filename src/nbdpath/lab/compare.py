"""Predicted vs observed, per pair. Pure.

A prediction is read off the engine's :class:`~nbdpath.engine.types.Path`;
an observation is what the kernel did (:mod:`nbdpath.lab.kernel`). The
comparison looks at the two things the issue asks for: does the NBD
connection complete, and which vmk carries the data back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..engine.types import Path, Verdict

# Verdicts under which the NFC stream delivers its data.
COMPLETING = frozenset({Verdict.ISOLATED, Verdict.NOT_ISOLATED, Verdict.ASYMMETRIC})

# An ARP frame on a veth is 42 bytes (no padding to 60 is done in software).
# With IPv6 off, ARP is the only non-TCP traffic a lab host sends, so an
# interface that sent more than 42 bytes per frame carried TCP.
ARP_FRAME_BYTES = 42


@dataclass(frozen=True, slots=True)
class Prediction:
    host: str
    node: str
    endpoint_ip: Optional[str]
    egress_vmk: Optional[str]
    completes: bool
    verdict: str
    node_ip: Optional[str] = None


def prediction(path: Path) -> Prediction:
    o = path.outcome
    return Prediction(
        path.host, path.node, path.endpoint.ip, o.egress_vmk, o.verdict in COMPLETING, o.verdict.value, o.node_ip
    )


@dataclass(frozen=True, slots=True)
class Counters:
    """Deltas of one host interface's kernel counters over one pair's stream."""

    interface: str
    tx_bytes: int
    rx_bytes: int
    tx_packets: int
    rx_packets: int

    @property
    def carried_tcp(self) -> bool:
        return self.tx_bytes > ARP_FRAME_BYTES * self.tx_packets


@dataclass(frozen=True, slots=True)
class Observation:
    host: str
    node: str
    endpoint_ip: Optional[str]
    attempted: bool
    connected: bool  # the node's connect() returned
    bytes_expected: int
    bytes_received: int
    interfaces: tuple[Counters, ...]
    node_ip: Optional[str] = None  # the node's source address, as the kernel chose it
    error: Optional[str] = None
    seconds: float = 0.0
    skip_reason: Optional[str] = None

    @property
    def completed(self) -> bool:
        return self.attempted and self.bytes_received == self.bytes_expected

    @property
    def egress_vmk(self) -> Optional[str]:
        """The interface that transmitted the most, among those that sent TCP."""
        sent = [c for c in self.interfaces if c.carried_tcp]
        if not sent:
            return None
        return max(sent, key=lambda c: c.tx_bytes).interface


@dataclass(frozen=True, slots=True)
class Check:
    prediction: Prediction
    observation: Observation
    agree: bool
    problems: tuple[str, ...]
    compared_egress: bool

    def to_dict(self) -> dict[str, Any]:
        p, o = self.prediction, self.observation
        return {
            "host": p.host,
            "node": p.node,
            "endpoint_ip": p.endpoint_ip,
            "agree": self.agree,
            "problems": list(self.problems),
            "predicted": {"egress_vmk": p.egress_vmk, "completes": p.completes, "verdict": p.verdict, "node_ip": p.node_ip},
            "observed": {
                "egress_vmk": o.egress_vmk,
                "completes": o.completed,
                "attempted": o.attempted,
                "connected": o.connected,
                "bytes_expected": o.bytes_expected,
                "bytes_received": o.bytes_received,
                "node_ip": o.node_ip,
                "error": o.error,
                "skip_reason": o.skip_reason,
                "seconds": round(o.seconds, 3),
                "interfaces": [asdict(c) for c in o.interfaces],
            },
            "egress_compared": self.compared_egress,
        }


def compare(pred: Prediction, obs: Observation) -> Check:
    """Agreement on completion always; on the egress vmk whenever the host sent TCP.

    The egress vmk is not compared when the kernel's host sent no TCP at all
    (the SYN never reached it): there is nothing to observe, whatever the
    engine says the reply route would be.
    """
    if not obs.attempted:
        # Not emulated (e.g. endpoint on another netstack): no verdict either way.
        return Check(pred, obs, True, (), False)
    problems = []
    if pred.completes != obs.completed:
        said = "completes" if pred.completes else f"does not complete ({pred.verdict})"
        saw = f"received {obs.bytes_received} of {obs.bytes_expected} bytes" + (f" ({obs.error})" if obs.error else "")
        problems.append(f"completion: engine says the stream {said}; kernel {saw}")
    compared = obs.egress_vmk is not None or pred.completes
    if compared and pred.egress_vmk != obs.egress_vmk:
        problems.append(f"egress vmk: engine says {pred.egress_vmk or 'none'}; kernel sent the data on {obs.egress_vmk or 'none'}")
    return Check(pred, obs, not problems, tuple(problems), compared)
