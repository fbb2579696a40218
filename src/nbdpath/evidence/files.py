"""The file edge: open an evidence file, recognise its kind, hand it to a parser."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Optional

from ..errors import InputError
from ..io import gc_paused, open_input
from .esxtop import is_esxtop, read_esxtop
from .observations import Evidence
from .pcap import is_capture, read_capture
from .vddk import read_log
from .window import Window

KINDS = ("capture", "esxtop", "log")


def sniff(head: bytes) -> str:
    """The kind of evidence a file's first bytes announce; logs are the rest."""
    if is_capture(head):
        return "capture"
    if is_esxtop(head):
        return "esxtop"
    return "log"


def read_evidence(path: str | Path, kind: Optional[str] = None, window: Window = Window(),
                  bin_seconds: Optional[float] = None) -> Evidence:
    """Read one evidence file. Bad content gives warnings; only an unusable file raises.

    ``window`` limits esxtop samples and log lines to a time span (captures are read whole);
    ``bin_seconds`` fixes the width of the rate bins (else at most 60 bins)."""
    name = str(path)
    with open_input(path, "file", shown=name) as stream, gc_paused():  # flow and target records hold no cycles
        try:
            return _read(stream, name, kind, window, bin_seconds)
        except OSError as exc:  # EIO, a file in /proc that refuses reads, a vanished network share
            raise InputError(name, "", f"a readable file (read failed: {exc.strerror or exc})") from None


def _read(stream: BinaryIO, name: str, kind: Optional[str], window: Window,
          bin_seconds: Optional[float] = None) -> Evidence:
    head = stream.read(64)
    stream.seek(0)
    found = sniff(head)
    kind = kind or found
    if kind not in KINDS:
        raise InputError(name, "", f"an evidence kind among {', '.join(KINDS)}, not {kind!r}")
    if kind == "capture":
        result = read_capture(stream, name, bin_seconds)
        if result is None:
            raise InputError(name, "byte 0", "a pcap or pcapng file (magic a1b2c3d4 or 0a0d0d0a)")
        return result
    if kind == "esxtop":
        result_e = read_esxtop(stream, name, window, bin_seconds)
        if result_e is None:
            raise InputError(name, "line 1", 'an esxtop batch CSV starting with "(PDH-CSV 4.0)')
        return result_e
    return read_log(stream, name, *_span(window))


def _span(window: Window) -> tuple[Window, ...]:
    """The window argument for a reader, none when open: readers keep their (stream, name) form."""
    return () if window.open else (window,)
