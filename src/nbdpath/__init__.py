"""nbdpath: over which vmk and physical link will NBD backup traffic flow, and why.

The public API; everything else is private and may change.
"""

from .engine import ASSUMPTIONS, Engine, Hop, Path, Step, Verdict, trace, trace_pair
from .errors import InputError, NbdpathError, UsageError
from .model import Snapshot, dump, json_schema, load_file, parse
from .changes import Change, RouteAdd, RouteRemove, TagAdd, TagRemove, VmkRemove
from .result import Exit, Result
from .rules import RULES, Finding, Severity, check

__version__ = "0.1.0"

__all__ = [
    "ASSUMPTIONS", "Change", "Engine", "Exit", "Finding", "Hop", "InputError", "NbdpathError", "Path", "RULES",
    "Result", "RouteAdd", "RouteRemove", "Severity", "Snapshot", "Step", "TagAdd", "TagRemove", "UsageError",
    "Verdict", "VmkRemove", "check", "dump", "json_schema", "load_file", "parse", "trace", "trace_pair",
]
