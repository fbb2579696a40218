"""Backup and VDDK log lines -> which NFC address each disk used, and failures.

Formats (see docs/verify.md and the project's seed samples): disk opens
carry ``[COMPRESSION-]vpxa-nfc[ssl]://[ds] path.vmdk@TARGET:902`` where
TARGET is a host name/IP or ``{nfcip:IP,hostname:NAME}`` (vSphere 7+, the
nfcip is where TCP really went); connect failures say
``Couldn't connect to X:902 Failed to connect to server Y:902`` or
``Timed out connecting to server X:902``.

Logs come from Windows and Linux tools in whatever encoding they were
written in: UTF-16 is recognised by its BOM (or its NUL pattern), anything
else is read as UTF-8 with undecodable bytes replaced and reported.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import replace
from typing import BinaryIO, Iterator, Optional

from .esxtop import _CrLines, _cr_only
from .observations import NFC_PORT, ConnectFailure, LogSummary, NfcTarget, Notes
from .window import Window, parse_time

# Caps that keep time linear and memory flat on hostile logs. Real lines are a
# few hundred bytes; a datastore path and a host name fit well inside the field
# caps; a real log names a few hundred disks, not MAX_TARGETS.
MAX_LINE = 64 << 10  # bytes (characters in UTF-16); the rest of a longer line is skipped, counted
MAX_DISK = 2048  # characters of "[ds] path.vmdk"; a longer one is not taken for a URL
MAX_HOST = 512  # characters of a host name, IP or {nfcip:...,hostname:...}
MAX_MESSAGE = 512  # characters of a connect failure's message kept
MAX_TARGETS = 10_000  # NFC target records kept; later ones are counted
MAX_FAILURES = 10_000

# Every pattern below has only bounded repetition and is applied once per line
# (or, for _TARGET, once per "@"): work is linear in the line whatever it holds.
# The URL itself is walked by hand (parse_line): "SCHEME://" is found, then the
# first "@" after it ends the disk; a regex that searched lazily for that "@"
# from every "vpxa-nfc://" was quadratic (9,000 repeats on one line: 10 s).
# "nfc[ssl]://" has a literal prefix the engine searches for quickly; the
# scheme's head and the compression before it are then matched in the at most
# _HEAD_SPAN characters before it ("FASTLZ-vpxa-").
_NFC = re.compile(r"nfc(?:ssl)?://")
_HEAD = re.compile(r"(?:(SKIPZ|FASTLZ|ZLIB|LZ4)-)?(?:vpxa|ha)-\Z")
_HEAD_SPAN = 12
_TARGET = re.compile(r"(\{[^}\r\n]{0,%d}\}|[^\s:'\"()!]{1,%d}):(\d{1,5})" % (MAX_HOST, MAX_HOST))
_COULDNT = re.compile(
    r"Couldn't connect to (?P<target>\S{1,%d}?):(?P<port>\d{1,5})\s{1,64}"
    r"Failed to connect to server (?P<server>\S{1,%d}?):\d{1,5}" % (MAX_HOST, MAX_HOST)
)
_SOCKET = re.compile(
    r"CnxOpenTCPSocket: (?:Timed out connecting to|Cannot connect to) server "
    r"(?P<target>\S{1,%d}?):(?P<port>\d{1,5})(?=:|$)" % MAX_HOST
)
_FAILED_OPEN = re.compile(r"Failed to open (?:NBD extent|disk)|[Ff]ailed to open ['(]|NBD_ERR_[A-Z_]{1,64}")
_NBD_ERR = re.compile(r"NBD_ERR_[A-Z_]{1,64}")
# NBD_ERR_* codes that say the network path failed; the others (NBD_ERR_INSUFFICIENT_RESOURCES,
# NBD_ERR_GENERIC, ...) can be a full host or a bad disk as well.
NETWORK_CODES = frozenset({"NBD_ERR_NETWORK_CONNECT", "NBD_ERR_NETWORK_READ", "NBD_ERR_NETWORK_WRITE"})
_TIME = re.compile(
    r"\s{0,64}\[?(?P<t>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?Z?"
    # Veeam writes the hour without a leading zero: [08.04.2020 8:26:46.680].
    r"|\d{2}\.\d{2}\.\d{4} \d{1,2}:\d{2}:\d{2}(?:\.\d{1,9})?)"
)


def _time(line: str) -> Optional[str]:
    m = _TIME.match(line)
    return m["t"] if m else None


def _target(raw: str) -> tuple[str, Optional[str]]:
    """``{nfcip:a,hostname:b}`` -> (a, b); a plain host -> (host, None)."""
    if not raw.startswith("{"):
        return raw, None
    fields = {}
    for part in raw.strip("{}").split(","):
        key, _, value = part.partition(":")
        fields[key.strip().lower()] = value.strip()
    address = fields.get("nfcip") or fields.get("hostname") or raw
    return address, fields.get("hostname")


def _next(text: str, char: str, pos: int) -> int:
    hit = text.find(char, pos)
    return hit if hit >= 0 else len(text)


def _urls(line: str) -> Iterator[tuple[int, Optional[str], re.Match, int, re.Match]]:
    """(start, compression, "nfc[ssl]://" match, "@" position, target match) of each NFC URL.

    The same URLs as ``(comp-)?scheme://[^@\r\n]*?@(target):(port)`` found with
    finditer, but each "@" (and each line break) is looked for once, however
    many schemes precede it: the positions found are kept while still ahead.
    """
    at = cr = lf = -1
    breaks = "\r" in line or "\n" in line  # parse_line may be handed any text, not only a read line
    done = 0  # end of the last URL: matches do not overlap
    memo_at, memo = -1, None
    for nfc in _NFC.finditer(line):
        pos = nfc.start()
        head = _HEAD.search(line, max(done, pos - _HEAD_SPAN), pos)
        if head is None:
            continue
        disk = nfc.end()
        if at < disk:
            at = line.find("@", disk)
            if at < 0:
                return  # no "@" after this scheme, so none after any later one
        if at - disk > MAX_DISK:
            continue
        if breaks:
            cr = cr if cr >= disk else _next(line, "\r", disk)
            lf = lf if lf >= disk else _next(line, "\n", disk)
            if cr < at or lf < at:
                continue
        if at != memo_at:
            memo_at, memo = at, _TARGET.match(line, at + 1)
        if memo is not None:
            yield head.start(), head[1], nfc, at, memo
            done = memo.end()


def parse_line(lineno: int, line: str) -> tuple[list[NfcTarget], list[ConnectFailure]]:
    """Pure: the NFC targets and connect failures one log line states."""
    targets: list[NfcTarget] = []
    failures: list[ConnectFailure] = []
    time = _time(line) if "nfc" in line or "onnect" in line or "authd" in line or "NBD_ERR" in line \
        or "DISKLIB-LIB" in line else None
    nbd_err = _NBD_ERR.search(line) if "NBD_ERR_" in line else None
    error = nbd_err[0] if nbd_err else None
    if "nfc" in line:
        failed = bool(_FAILED_OPEN.search(line))
        for start, comp, nfc, at, target in _urls(line):
            address, hostname = _target(target[1])
            scheme = line[start + (len(comp) + 1 if comp else 0):nfc.end() - 3]
            targets.append(NfcTarget(
                line=lineno, time=time, url=line[start:target.end()], disk=line[nfc.end():at].strip(),
                scheme=scheme, transport="nbdssl" if scheme.endswith("ssl") else "nbd",
                compression=comp, address=address, hostname=hostname,
                port=int(target[2]), failed=failed, error=error,
            ))
    if "connect" in line:
        m = _COULDNT.search(line)
        server = m["server"] if m else None
        m = m or _SOCKET.search(line)
        if m:
            failures.append(ConnectFailure(lineno, time, m["target"], server or m["target"], int(m["port"]),
                                           line[m.start():m.start() + MAX_MESSAGE].strip()))
    if not targets and not failures:
        loose = _loose_failure(lineno, time, line, error)
        if loose is not None:
            failures.append(loose)
    return targets, failures


# A target a Markdown renderer or mail client mangled: "x.vmdk@10.0.0.5](mailto:x.vmdk@10.0.0.5)",
# "<vpxa-nfc://...@host>", "...@host)." -- a host name or IP (port optional, 902 then) that ends
# at one of those marks. Applied once per line, at the "@" of the line's first URL.
_MANGLED = re.compile(
    r"(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9][A-Za-z0-9.\-]{0,252})(?::(\d{1,5}))?"
    r"(?P<mark>\]\(mailto:|[\])>]|\.(?=\s|$))"
)


def mangled_target(lineno: int, line: str) -> Optional[NfcTarget]:
    """The NFC target of a line whose URL was mangled (see _MANGLED), when it can be recovered.

    Kept apart from parse_line, which reads URLs exactly as VDDK writes them."""
    for nfc in _NFC.finditer(line):
        head = _HEAD.search(line, max(0, nfc.start() - _HEAD_SPAN), nfc.start())
        if head is None:
            continue
        at = line.find("@", nfc.end(), nfc.end() + MAX_DISK + 1)
        m = _MANGLED.match(line, at + 1) if at >= 0 else None
        if m is None:
            return None
        disk = line[nfc.end():at].strip()
        if m["mark"].startswith("]("):  # the link text's "[" opened before the file name
            cut = disk.rfind("[")
            disk = disk[:cut] + disk[cut + 1:] if cut > disk.find("]") else disk
        start = head.start()
        comp = head[1]
        scheme = line[start + (len(comp) + 1 if comp else 0):nfc.end() - 3]
        return NfcTarget(
            line=lineno, time=_time(line), url=line[start:m.end()], disk=disk, scheme=scheme,
            transport="nbdssl" if scheme.endswith("ssl") else "nbd", compression=comp,
            address=m[1].strip("[]"), hostname=None, port=int(m[2]) if m[2] else NFC_PORT,
            failed=bool(_FAILED_OPEN.search(line)), mangled=True,
        )
    return None


def _loose_failure(lineno: int, time: Optional[str], line: str, error: Optional[str]) -> Optional[ConnectFailure]:
    """A failure the line states without naming where it went (target ""; the reader attaches it
    to the log's last target): an NBD_ERR_* code, DISKLIB-LIB's "Failed to open '[ds] x.vmdk' with
    flags 0x..", VixDiskLib_Open's "The server refused connection", authd read errors."""
    code = None
    if error is not None:
        code = error
    elif "refused connectio" in line and "VixDiskLib" in line:  # UIs cut the last letter off (proxcenter-ui #438)
        code = "refused"
    elif "authd" in line and ("ailed to read" in line or "rror reading" in line or "read error" in line.lower()):
        code = "authd read"
    elif "DISKLIB-LIB" in line and "ailed to open" in line and "with flags 0x" in line:
        code = "open"
    if code is None:
        return None
    network = code in NETWORK_CODES or code in ("refused", "authd read")
    return ConnectFailure(lineno, time, "", None, NFC_PORT, line.strip()[:MAX_MESSAGE],
                          code=code, network=network)


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        return "utf-32"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # UTF-16 without a BOM: ASCII text with a NUL after (LE) or before (BE) every byte.
    if len(head) >= 8:
        if head[1::2].count(0) > 0.9 * (len(head) // 2) and head[0::2].count(0) == 0:
            return "utf-16-le"
        if head[0::2].count(0) > 0.9 * (len(head) // 2) and head[1::2].count(0) == 0:
            return "utf-16-be"
    return "utf-8"


def _wide_lines(stream: BinaryIO, encoding: str, notes: Notes) -> Iterator[tuple[str, bool]]:
    """UTF-16/32 lines of at most MAX_LINE characters, and whether the line was longer."""
    text_stream = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline=None)
    try:
        lineno = 0
        while True:
            text = text_stream.readline(MAX_LINE)
            if not text:
                return
            lineno += 1
            cut = not text.endswith("\n") and len(text) == MAX_LINE
            while cut:
                rest = text_stream.readline(MAX_LINE)
                if not rest or rest.endswith("\n"):
                    break
            if "\ufffd" in text:
                notes.add("lines with undecodable bytes", f"line {lineno}",
                          f"not valid {encoding}; undecodable bytes replaced with U+FFFD")
            yield text.rstrip("\r\n"), cut
    finally:
        text_stream.detach()


def _narrow_lines(stream: BinaryIO, encoding: str, notes: Notes) -> Iterator[tuple[str, bool]]:
    """UTF-8 lines of at most MAX_LINE bytes, and whether the line was longer."""
    lineno = 0
    while True:
        raw = stream.readline(MAX_LINE)
        if not raw:
            return
        lineno += 1
        cut = not raw.endswith(b"\n") and len(raw) == MAX_LINE
        while cut:
            rest = stream.readline(MAX_LINE)
            if not rest or rest.endswith(b"\n"):
                break
        try:
            text = raw.decode(encoding) if not cut else _decode(raw, encoding, "strict")
        except UnicodeDecodeError as exc:
            notes.add("lines with undecodable bytes", f"line {lineno}",
                      f"not valid {encoding} at byte {exc.start} of the line; "
                      "undecodable bytes replaced with U+FFFD")
            text = raw.decode(encoding, "replace") if not cut else _decode(raw, encoding, "replace")
        yield text.rstrip("\r\n"), cut


def _decode(raw: bytes, encoding: str, errors: str) -> str:
    """A line cut short: the cut can split a character, and the incremental decoder leaves that tail out."""
    return codecs.getincrementaldecoder(encoding)(errors).decode(raw, final=False)


class _Kept:
    """The first MAX records of a kind; later ones counted, and whether they said anything new."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list = []
        self.keys: set = set()
        self.dropped = 0
        self.dropped_new = 0  # of those, how many were unlike every kept one

    def add(self, item, key: tuple) -> None:
        if len(self.items) < self.limit:
            self.items.append(item)
            self.keys.add(key)
            return
        self.dropped += 1
        if key not in self.keys:
            self.dropped_new += 1

    def note(self, notes: Notes, what: str) -> None:
        if self.dropped:
            notes.add("caps", "whole file",
                      f"more than {self.limit} {what}: the first {self.limit} are kept; {self.dropped} later "
                      f"one(s) were not, {self.dropped_new} of them unlike every one kept")


def read_log(stream: BinaryIO, file: str, window: Window = Window()) -> LogSummary:
    """Read a backup/VDDK log of any size, line by line; only lines inside ``window`` count.

    A line without a time of its own (a continuation) has the time of the line before it."""
    head = stream.read(64)
    stream.seek(0)
    encoding = _encoding(head)
    notes = Notes(file)
    targets = _Kept(MAX_TARGETS)
    failures = _Kept(MAX_FAILURES)
    lines = _wide_lines if encoding.startswith(("utf-16", "utf-32")) else _narrow_lines
    if lines is _narrow_lines and _cr_only(stream):
        stream = _CrLines(stream)  # type: ignore[assignment]  # saved by a classic-Mac/Windows tool
    n = outside = 0
    last: Optional[NfcTarget] = None
    when = None
    for n, (line, cut) in enumerate(lines(stream, encoding, notes), start=1):
        if not window.open:
            when = parse_time(_time(line) or "") or when
            if not window.holds(when):
                outside += 1
                continue
        if cut:
            notes.add("long lines", f"line {n}", f"longer than {MAX_LINE} "
                      f"{'characters' if lines is _wide_lines else 'bytes'}; only the first {MAX_LINE} read")
        t, f = parse_line(n, line)
        if not t and "nfc" in line:
            m = mangled_target(n, line)
            if m is not None:
                t = [m]
                notes.add("mangled URLs", f"line {n}", f"NFC URL mangled (by Markdown or a mail client); "
                          f"address read as {m.address}:{m.port}")
        for x in t:
            targets.add(x, (x.scheme, x.compression, x.disk, x.address, x.hostname, x.port, x.failed))
            last = x
        for y in f:
            if not y.target and last is not None:  # a failure naming no address: the disk opened last
                y = replace(y, target=last.address, server=last.address, port=last.port)
            failures.add(y, (y.target, y.server, y.port, y.code))
    if not window.open:
        notes.add("window", "whole file", f"{n - outside} line(s) inside {window}, {outside} outside not read")
    targets.note(notes, "NFC targets")
    failures.note(notes, "connect failures")
    if not targets.items and not failures.items:
        notes.add("nothing", "whole file", f"no NFC target or connect failure in {n} lines "
                  "(expected vpxa-nfc:// URLs or 'Couldn't connect to' lines)")
    return LogSummary(file=file, encoding=encoding, lines=n, targets=tuple(targets.items),
                      failures=tuple(failures.items), skipped=notes.done())
