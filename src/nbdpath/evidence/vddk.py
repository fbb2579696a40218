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
from typing import BinaryIO, Iterator, Optional

from .observations import ConnectFailure, LogSummary, NfcTarget, Skipped

MAX_LINE = 1 << 20  # longer "lines" are read in pieces: binary junk stays bounded
MAX_SKIP_NOTES = 5

_URL = re.compile(
    r"(?:(?P<comp>SKIPZ|FASTLZ|ZLIB|LZ4)-)?"
    r"(?P<scheme>vpxa-nfcssl|vpxa-nfc|ha-nfcssl|ha-nfc)://"
    r"(?P<disk>[^@\r\n]*?)@"
    r"(?P<target>\{[^}\r\n]*\}|[^\s:'\"()!]+):(?P<port>\d{1,5})"
)
_COULDNT = re.compile(
    r"Couldn't connect to (?P<target>\S+?):(?P<port>\d{1,5})\s+"
    r"Failed to connect to server (?P<server>\S+?):\d{1,5}"
)
_SOCKET = re.compile(
    r"CnxOpenTCPSocket: (?P<what>Timed out connecting to|Cannot connect to) server "
    r"(?P<target>\S+?):(?P<port>\d{1,5})(?::\s*(?P<msg>.*))?$"
)
_FAILED_OPEN = re.compile(r"Failed to open (?:NBD extent|disk)")
_TIME = re.compile(
    r"^\s*\[?(?P<t>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?Z?"
    r"|\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?)"
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


def parse_line(lineno: int, line: str) -> tuple[list[NfcTarget], list[ConnectFailure]]:
    """Pure: the NFC targets and connect failures one log line states."""
    targets: list[NfcTarget] = []
    failures: list[ConnectFailure] = []
    if "nfc" in line:
        failed = bool(_FAILED_OPEN.search(line))
        for m in _URL.finditer(line):
            address, hostname = _target(m["target"])
            scheme = m["scheme"]
            targets.append(NfcTarget(
                line=lineno, time=_time(line), url=m.group(0), disk=m["disk"].strip(),
                scheme=scheme, transport="nbdssl" if scheme.endswith("ssl") else "nbd",
                compression=m["comp"], address=address, hostname=hostname,
                port=int(m["port"]), failed=failed,
            ))
    if "connect" in line:
        m = _COULDNT.search(line)
        if m:
            failures.append(ConnectFailure(lineno, _time(line), m["target"], m["server"], int(m["port"]),
                                           line[m.start():].strip()))
        else:
            m = _SOCKET.search(line)
            if m:
                failures.append(ConnectFailure(lineno, _time(line), m["target"], m["target"], int(m["port"]),
                                               line[m.start():].strip()))
    return targets, failures


def _encoding(head: bytes) -> str:
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


def _lines(stream: BinaryIO, encoding: str, file: str, skipped: list[Skipped]) -> Iterator[str]:
    """Decoded lines; undecodable bytes replaced and the first few noted."""
    if encoding.startswith("utf-16"):
        text_stream = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline=None)
        try:
            bad = 0
            for lineno, text in enumerate(text_stream, start=1):
                if "\ufffd" in text:
                    bad += 1
                    if bad <= MAX_SKIP_NOTES:
                        skipped.append(Skipped(file, f"line {lineno}", f"not valid {encoding}; "
                                               "undecodable bytes replaced with U+FFFD"))
                yield text.rstrip("\r\n")
        finally:
            text_stream.detach()
        return
    bad = 0
    lineno = 0
    while True:
        raw = stream.readline(MAX_LINE)
        if not raw:
            break
        lineno += 1
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            bad += 1
            if bad <= MAX_SKIP_NOTES:
                skipped.append(Skipped(file, f"line {lineno}",
                                       f"not valid {encoding} at byte {exc.start} of the line; "
                                       "undecodable bytes replaced with U+FFFD"))
            text = raw.decode(encoding, "replace")
        yield text.rstrip("\r\n")
    if bad > MAX_SKIP_NOTES:
        skipped.append(Skipped(file, "whole file", f"{bad} lines had undecodable bytes in all "
                               f"(first {MAX_SKIP_NOTES} listed)"))


def read_log(stream: BinaryIO, file: str) -> LogSummary:
    """Read a backup/VDDK log of any size, line by line."""
    head = stream.read(64)
    stream.seek(0)
    encoding = _encoding(head)
    skipped: list[Skipped] = []
    targets: list[NfcTarget] = []
    failures: list[ConnectFailure] = []
    n = 0
    for n, line in enumerate(_lines(stream, encoding, file, skipped), start=1):
        t, f = parse_line(n, line)
        targets.extend(t)
        failures.extend(f)
    if not targets and not failures:
        skipped.append(Skipped(file, "whole file", f"no NFC target or connect failure in {n} lines "
                               "(expected vpxa-nfc:// URLs or 'Couldn't connect to' lines)"))
    return LogSummary(file=file, encoding=encoding, lines=n, targets=tuple(targets),
                      failures=tuple(failures), skipped=tuple(skipped))
