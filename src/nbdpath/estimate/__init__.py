"""Backup / migration window estimates per job, from the engine's paths. Pure: no I/O."""

from .constants import DEFAULTS, Constants, with_overrides
from .window import Estimator, JobEstimate, Limit, compare, estimate

__all__ = ["DEFAULTS", "Constants", "Estimator", "JobEstimate", "Limit", "compare", "estimate", "with_overrides"]
