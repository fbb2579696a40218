"""A time window (``--from`` / ``--to``) over the timestamps evidence files write.

esxtop writes ``MM/DD/YYYY HH:MM:SS``, VDDK logs ISO 8601 and Veeam
``DD.MM.YYYY H:MM:SS``. Each is read to a naive datetime: the window is given
in the file's own clock, so no time zone is applied (an ISO time with an
offset is taken to UTC first, as the log's ``Z`` times are).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M:%S")
MAX_TIME = 64  # characters; a time is short, longer text is not one


def parse_time(text: str) -> Optional[datetime]:
    """A timestamp as an esxtop CSV or a backup log writes it, or None."""
    text = text.strip()
    if not text or len(text) > MAX_TIME:
        return None
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text.split(".")[0] if fmt.startswith("%m") else _no_fraction(text), fmt)
        except ValueError:
            continue
    try:
        t = datetime.fromisoformat(text.replace(",", ".").replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def _no_fraction(text: str) -> str:
    """``08.04.2020 8:26:46.680`` -> ``08.04.2020 8:26:46`` (strptime's %f wants 6 digits or fewer)."""
    head, sep, tail = text.rpartition(":")
    return f"{head}{sep}{tail.split('.')[0]}" if sep else text


@dataclass(frozen=True, slots=True)
class Window:
    start: Optional[datetime] = None
    end: Optional[datetime] = None

    @property
    def open(self) -> bool:
        """No bound: every sample counts."""
        return self.start is None and self.end is None

    def holds(self, when: Optional[datetime]) -> bool:
        if self.open:
            return True
        if when is None:
            return False
        return (self.start is None or when >= self.start) and (self.end is None or when <= self.end)

    def __str__(self) -> str:
        return f"{self.start or '..'} .. {self.end or '..'}"
