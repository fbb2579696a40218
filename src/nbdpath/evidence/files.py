"""The file edge: open an evidence file, recognise its kind, hand it to a parser."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import InputError
from .esxtop import is_esxtop, read_esxtop
from .observations import Evidence
from .pcap import is_capture, read_capture
from .vddk import read_log

KINDS = ("capture", "esxtop", "log")
_WHAT = "an evidence file (pcap, pcapng, esxtop batch CSV or backup/VDDK log)"


def sniff(head: bytes) -> str:
    """The kind of evidence a file's first bytes announce; logs are the rest."""
    if is_capture(head):
        return "capture"
    if is_esxtop(head):
        return "esxtop"
    return "log"


def read_evidence(path: str | Path, kind: Optional[str] = None) -> Evidence:
    """Read one evidence file. Bad content gives warnings; only an unusable file raises."""
    p = Path(path)
    name = str(p)
    try:
        stream = p.open("rb")
    except FileNotFoundError:
        raise InputError(name, "", f"an existing file: {_WHAT}") from None
    except IsADirectoryError:
        raise InputError(name, "", f"a file, not a directory: {_WHAT}") from None
    except OSError as exc:
        raise InputError(name, "", f"a readable file ({exc.strerror})") from None
    with stream:
        head = stream.read(64)
        stream.seek(0)
        found = sniff(head)
        kind = kind or found
        if kind not in KINDS:
            raise InputError(name, "", f"an evidence kind among {', '.join(KINDS)}, not {kind!r}")
        if kind == "capture":
            result = read_capture(stream, name)
            if result is None:
                raise InputError(name, "byte 0", "a pcap or pcapng file (magic a1b2c3d4 or 0a0d0d0a)")
            return result
        if kind == "esxtop":
            result_e = read_esxtop(stream, name)
            if result_e is None:
                raise InputError(name, "line 1", 'an esxtop batch CSV starting with "(PDH-CSV 4.0)')
            return result_e
        return read_log(stream, name)
