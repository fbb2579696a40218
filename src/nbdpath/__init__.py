"""nbdpath: over which vmk and physical link will NBD backup traffic flow, and why.

The public API; everything else is private and may change.
"""

from .engine import ASSUMPTIONS, Engine, Hop, Path, Step, Verdict, trace, trace_pair
from .errors import InputError, NbdpathError, UsageError
from .model import Snapshot, dump, json_schema, load_file, parse
from .rules import RULES, Finding, Severity, check

__version__ = "0.1.0"

__all__ = [
    "ASSUMPTIONS", "Engine", "Finding", "Hop", "InputError", "NbdpathError", "Path", "RULES", "Severity", "Snapshot",
    "Step", "UsageError", "Verdict", "check", "dump", "json_schema", "load_file", "parse", "trace", "trace_pair",
]
