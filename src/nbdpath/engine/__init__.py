"""Endpoint selection, routing, teaming, trace and verdicts. Pure: no I/O."""

from .assumptions import ASSUMPTIONS
from .trace import Engine, trace, trace_pair
from .types import Endpoint, Hop, Outcome, Path, Step, StepKind, Uplink, Verdict

__all__ = [
    "ASSUMPTIONS", "Endpoint", "Engine", "Hop", "Outcome", "Path", "Step", "StepKind", "Uplink", "Verdict",
    "trace", "trace_pair",
]
