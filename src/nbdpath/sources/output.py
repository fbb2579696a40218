"""Writing a snapshot file: all or nothing (temp file in the same directory + rename)."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..io import write_atomic
from ..model import Snapshot, dump


def snapshot_format(path: str | Path) -> str:
    return "json" if str(path).lower().endswith(".json") else "yaml"


def write_snapshot(snap: Snapshot, path: str | Path) -> Path:
    """Write ``snap`` to ``path`` atomically; a reader never sees half a file."""
    try:
        return write_atomic(path, dump(snap, snapshot_format(path)))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
