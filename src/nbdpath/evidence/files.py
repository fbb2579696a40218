"""The file edge: open an evidence file, recognise its kind, hand it to a parser."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO, Optional

from ..engine.trace import no_gc
from ..errors import InputError
from .esxtop import is_esxtop, read_esxtop
from .observations import Evidence
from .pcap import is_capture, read_capture
from .vddk import read_log
from .window import Window

KINDS = ("capture", "esxtop", "log")
_WHAT = "an evidence file (pcap, pcapng, esxtop batch CSV or backup/VDDK log)"


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
    with _open_regular(Path(path), name) as stream, no_gc():  # flow and target records hold no cycles
        try:
            return _read(stream, name, kind, window, bin_seconds)
        except OSError as exc:  # EIO, a file in /proc that refuses reads, a vanished network share
            raise InputError(name, "", f"a readable file (read failed: {exc.strerror or exc})") from None


_NOT_REGULAR = (
    (stat.S_ISDIR, "a file, not a directory"),
    (stat.S_ISFIFO, "a regular file, not a FIFO (named pipe)"),
    (stat.S_ISCHR, "a regular file, not a character device"),
    (stat.S_ISBLK, "a regular file, not a block device"),
    (stat.S_ISSOCK, "a regular file, not a socket"),
)


def _refuse_special(mode: int, name: str) -> None:
    for test, expected in _NOT_REGULAR:
        if test(mode):
            raise InputError(name, "", f"{expected}: {_WHAT}")
    if not stat.S_ISREG(mode):
        raise InputError(name, "", f"a regular file: {_WHAT}")


def _open_regular(p: Path, name: str) -> BinaryIO:
    """Open a regular file only: a FIFO would block forever, a device never ends.

    stat() first for the clear message (a socket cannot even be opened); then
    the open itself is O_NONBLOCK, so a file swapped for a FIFO in between
    cannot hang us, and fstat() checks what was really opened.
    """
    try:
        _refuse_special(os.stat(p).st_mode, name)
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(name, "", f"an existing file: {_WHAT}") from None
    except OSError as exc:
        raise InputError(name, "", f"a readable file ({exc.strerror or exc})") from None
    try:
        _refuse_special(os.fstat(fd).st_mode, name)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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
