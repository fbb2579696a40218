"""Replay a snapshot on a real Linux kernel and check the engine against it.

plan (pure) -> script (pure) -> kernel (imperative) -> compare (pure).
"""

from .compare import Check, Counters, Observation, Prediction, compare, prediction
from .kernel import Lab, LabError, Limits, down, leftovers, missing_requirements, new_prefix, require, run_streams
from .plan import LabPlan, build

__all__ = [
    "Check", "Counters", "Lab", "LabError", "LabPlan", "Limits", "Observation", "Prediction", "build", "compare",
    "down", "leftovers", "missing_requirements", "new_prefix", "prediction", "require", "run_streams",
]
