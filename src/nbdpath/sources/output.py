"""Writing a snapshot file: all or nothing (temp file in the same directory + rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import UsageError
from ..model import Snapshot, dump


def snapshot_format(path: str | Path) -> str:
    return "json" if str(path).lower().endswith(".json") else "yaml"


def write_snapshot(snap: Snapshot, path: str | Path) -> Path:
    """Write ``snap`` to ``path`` atomically; a reader never sees half a file."""
    target = Path(path)
    text = dump(snap, snapshot_format(target))
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target
