"""Streaming reader for esxtop batch CSV (perfmon style), network ports only.

``esxtop -b`` writes one header row of ~17,000 quoted cells such as
``"\\\\esx01\\Network Port(vSwitch0:33554436:vmk0)\\MBits Transmitted/sec"``
and one row per sample. We keep only the Network Port transmit/receive
columns and fold every row into running sums, so memory does not grow with
the number of rows: averages, peaks, and the sums a Pearson correlation
needs between each vmk's and each vmnic's transmit series. The CSV has no
vmk -> vmnic column; the uplink is the vmnic whose transmit followed the
vmk's over time.
"""

from __future__ import annotations

import csv
import heapq
import math
import re
from operator import itemgetter
from typing import BinaryIO, Optional

from .observations import EsxtopSummary, Notes, PortRates, UplinkMatch
from .rates import MAX_SERIES, Bins, rates as _rates, us_of
from .window import Window, parse_time

PDH_PREFIX = "(PDH-CSV"
TX = "MBits Transmitted/sec"
RX = "MBits Received/sec"
_PORT = "\\Network Port("
_VMK = re.compile(r"vmk\d{1,4}")
_VMNIC = re.compile(r"(?:vmnic|vusb)\d{1,4}")
# A vmk "transmits" in a sample above this rate (Mbit/s): keeps idle
# management chatter out of the backup window.
ACTIVE_MBPS = 1.0
# The uplink must follow the vmk closely and carry most of its traffic.
MIN_CORRELATION = 0.7
MIN_SHARE = 0.5
# Caps for hostile files (a real host has a few vmks and vmnics and at most
# 4,096 virtual switch ports; a real header is about 1 MB): longer lines are
# skipped, ports past MAX_PORTS ignored, and with more than MAX_CORRELATED
# vmks or vmnics only the busiest of each are correlated (in a second pass),
# so time stays linear in the file and memory flat.
MAX_LINE = 16 << 20
MAX_PORTS = 10_000
MAX_CORRELATED = 32


def is_esxtop(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").lstrip(b'"').startswith(PDH_PREFIX.encode())


def parse_column(cell: str) -> Optional[tuple[str, str, str]]:
    """``\\\\HOST\\Network Port(INSTANCE)\\COUNTER`` -> (host, instance, counter).

    By hand rather than a regex: a few linear string searches whatever the cell
    holds. INSTANCE runs to the last ``)\\`` (VM names may hold both characters).
    """
    if not cell.startswith("\\\\"):
        return None
    slash = cell.find("\\", 2)
    if slash < 0 or not cell.startswith(_PORT, slash):
        return None
    start = slash + len(_PORT)
    close = cell.rfind(")\\", start, len(cell) - 1)  # the counter after it is not empty
    if close < 0:
        return None
    return cell[2:slash], cell[start:close], cell[close + 2:]


def column_host(cell: str) -> Optional[str]:
    """The HOST of any ``\\\\HOST\\OBJECT\\COUNTER`` cell (Memory, CPU, ...), or None."""
    if not cell.startswith("\\\\"):
        return None
    slash = cell.find("\\", 2)
    return cell[2:slash] if slash > 2 else None


def _kind(client: str) -> str:
    if _VMK.fullmatch(client):
        return "vmk"
    if _VMNIC.fullmatch(client):
        return "vmnic"
    if ":" in client:
        return "vm"
    return "other"


class _Port:
    __slots__ = ("instance", "portset", "port_id", "client", "kind", "tx", "rx",
                 "n", "tx_sum", "tx_peak", "rx_sum", "rx_peak", "tx_sq",
                 "active_first", "active_last")

    def __init__(self, instance: str) -> None:
        self.instance = instance
        parts = instance.split(":", 2)
        while len(parts) < 3:
            parts.append("")
        self.portset, self.port_id, self.client = parts
        self.kind = _kind(self.client)
        self.tx: Optional[int] = None
        self.rx: Optional[int] = None
        self.n = 0
        self.tx_sum = self.tx_peak = self.rx_sum = self.rx_peak = self.tx_sq = 0.0
        self.active_first: Optional[str] = None
        self.active_last: Optional[str] = None


def _cells(text: str) -> list[str]:
    """One CSV row by the csv module's rules; [] when it cannot be read."""
    try:
        return next(csv.reader([text]), [])
    except csv.Error:
        return []


def _readline(stream: BinaryIO) -> tuple[bytes, bool]:
    """One line of at most MAX_LINE bytes, and whether it was longer (the rest is read and dropped)."""
    line = stream.readline(MAX_LINE)
    if len(line) < MAX_LINE or line.endswith(b"\n"):
        return line, False
    while True:
        rest = stream.readline(MAX_LINE)
        if not rest or rest.endswith(b"\n"):
            return line, True


def _header(line: bytes, notes: Notes) -> list[str]:
    text = line.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")
    if "\ufffd" in text:
        notes.add("header", "line 1", "header is not valid UTF-8; undecodable bytes replaced")
    return _cells(text)


def _ports(header: list[str], notes: Notes) -> tuple[Optional[str], list[_Port]]:
    """The Network Port transmit/receive columns of the header, at most MAX_PORTS ports."""
    ports: dict[str, _Port] = {}
    host: Optional[str] = None
    ignored = 0
    for i, cell in enumerate(header[1:], start=1):
        parts = parse_column(cell) if _PORT in cell else None
        if parts is None:
            continue
        cell_host, inst, counter = parts
        counter = " ".join(counter.split())  # esxtop doubles some spaces
        if counter not in (TX, RX):
            continue
        host = host or cell_host
        port = ports.get(inst)
        if port is None:
            if len(ports) >= MAX_PORTS:
                ignored += 1
                continue
            port = ports[inst] = _Port(inst)
        if counter == TX:
            port.tx = i
        else:
            port.rx = i
    if host is None:
        # No network columns (panel excluded): every other column still names the host.
        host = next(filter(None, map(column_host, header[1:])), None)
    for p in ports.values():
        if p.tx is None or p.rx is None:
            missing = TX if p.tx is None else RX
            notes.add("ports without a column", "line 1", f"port {p.instance} has no '{missing}' column; "
                      "that direction is reported as 0")
    if ignored:
        notes.add("ports", "line 1", f"more than {MAX_PORTS} Network Ports: the first {MAX_PORTS} in the "
                  f"header are read, {ignored} more column(s) ignored")
    if not ports:
        notes.add("ports", "line 1", "no 'Network Port' transmit/receive columns; "
                  "nothing to attribute (was the network panel excluded from the batch?)")
    return host, list(ports.values())


class _CrLines:
    """A stream whose lines end in CR alone (CSVs saved by some Windows and classic Mac
    tools), read as if they ended in LF; ``tell``/``seek`` stay byte positions of the
    file, so the second pass over the rows works as on any other file."""

    CHUNK = 1 << 16

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.buf = bytearray()
        self.pos = raw.tell()

    def readline(self, limit: int) -> bytes:
        scanned = 0
        while True:
            i = self.buf.find(b"\r", scanned, limit)
            if i >= 0:
                line = bytes(self.buf[:i]) + b"\n"
                del self.buf[:i + 1]
                self.pos += i + 1
                return line
            if len(self.buf) >= limit:
                line = bytes(self.buf[:limit])
                del self.buf[:limit]
                self.pos += limit
                return line
            scanned = len(self.buf)
            chunk = self.raw.read(self.CHUNK)
            if not chunk:
                line = bytes(self.buf)
                self.buf.clear()
                self.pos += len(line)
                return line
            self.buf += chunk

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int) -> None:
        self.raw.seek(pos)
        self.buf.clear()
        self.pos = pos


def _cr_only(stream: BinaryIO) -> bool:
    """Lines end in CR alone: a CR in the first 64 KiB and no LF."""
    start = stream.tell()
    head = stream.read(_CrLines.CHUNK)
    stream.seek(start)
    return b"\r" in head and b"\n" not in head


def read_esxtop(stream: BinaryIO, file: str, window: Window = Window(),
                bin_seconds: Optional[float] = None) -> Optional[EsxtopSummary]:
    """Read an esxtop batch CSV stream (LF, CRLF or CR line ends); None when it is not one.

    Only samples inside ``window`` count; ``bin_seconds`` fixes the width of the rate bins."""
    if _cr_only(stream):
        stream = _CrLines(stream)  # type: ignore[assignment]
    first, too_long = _readline(stream)
    if not is_esxtop(first[:64]):
        return None
    notes = Notes(file)
    if too_long:
        notes.add("long lines", "line 1", f"header longer than {MAX_LINE} bytes: not read, "
                  "and no row can be matched to it")
        return _summarise(file, None, _Rows(0, []), [], {}, notes)
    header = _header(first, notes)
    host, plist = _ports(header, notes)
    rows = _Rows(len(header), plist, window, Bins(bin_seconds))
    body = stream.tell()
    vmks = [k for k, p in enumerate(plist) if p.kind == "vmk"]
    nics = [k for k, p in enumerate(plist) if p.kind == "vmnic"]
    few = len(vmks) <= MAX_CORRELATED and len(nics) <= MAX_CORRELATED
    cross = {(v, n): 0.0 for v in vmks for n in nics} if few else {}
    rows.fold(stream, notes, cross, sums=True)
    if not window.open:
        notes.add("window", "whole file", f"{rows.samples} sample(s) inside {window}, "
                  f"{rows.outside} outside not counted")
    if not few:
        # Too many pairs to correlate every row: a second pass over the busiest only.
        vmks = _busiest(plist, vmks)
        nics = _busiest(plist, nics)
        cross = {(v, n): 0.0 for v in vmks for n in nics}
        stream.seek(body)
        rows.fold(stream, Notes(file), cross, sums=False)
        notes.add("ports", "line 1", f"more than {MAX_CORRELATED} vmks or vmnics: uplinks are correlated "
                  f"for the {len(vmks)} vmks and {len(nics)} vmnics that transmitted most")
    return _summarise(file, host, rows, plist, cross, notes)


def _busiest(plist: list[_Port], ks: list[int]) -> list[int]:
    return sorted(heapq.nlargest(MAX_CORRELATED, ks, key=lambda k: plist[k].tx_sum))


class _Rows:
    """Folds sample rows into the ports' running sums and the vmk x vmnic products."""

    def __init__(self, ncols: int, plist: list[_Port], window: Window = Window(),
                 bins: Optional[Bins[tuple[int, str]]] = None) -> None:
        self.ncols = ncols
        self.window = window
        # Series keyed (port index in plist, "tx" or "rx").
        self.bins: Bins[tuple[int, str]] = bins or Bins()
        # Rates over time for the vmks and vmnics (the ports a path runs through), first in the header.
        self.rate_ports = [k for k, p in enumerate(plist) if p.kind in ("vmk", "vmnic")][:MAX_SERIES // 2]
        self.untimed = 0
        self.outside = 0
        self.plist = plist
        # Per picked cell: is the column there (a missing one reads as 0).
        self.has = [True] + [c for p in plist for c in (p.tx is not None, p.rx is not None)]
        idx = [0]
        for p in plist:
            idx.append(p.tx if p.tx is not None else 0)
            idx.append(p.rx if p.rx is not None else 0)
        self.pick = itemgetter(*idx) if len(idx) > 1 else (lambda cells: (cells[0],))
        self.samples = 0
        self.first_time: Optional[str] = None
        self.last_time: Optional[str] = None

    def fold(self, stream: BinaryIO, notes: Notes, cross: dict[tuple[int, int], float], sums: bool) -> None:
        lineno = 1
        while True:
            raw, too_long = _readline(stream)
            if not raw:
                return
            lineno += 1
            if too_long:
                notes.add("rows skipped", f"line {lineno}", f"row longer than {MAX_LINE} bytes; row skipped")
                continue
            line = raw.rstrip(b"\r\n")
            if not line:
                continue
            values = self._values(line, lineno, notes)
            if values is None:
                continue
            when = parse_time(values[0]) if sums or not self.window.open else None
            if not self.window.open and not self.window.holds(when):
                if sums:  # the second pass sees the same rows again
                    self.outside += 1
                continue
            if sums:
                self._add(values)
                self._bin(values, when)
            for v, n in cross:
                cross[(v, n)] += values[1 + 2 * v] * values[1 + 2 * n]

    def _values(self, line: bytes, lineno: int, notes: Notes) -> Optional[list]:
        """[time, tx0, rx0, tx1, ...] of one row, or None (noted) when it cannot be read."""
        ncols = self.ncols
        cells: list = []
        if line[:1] == b'"' and line[-1:] == b'"' and line.count(b'","') == ncols - 1:
            cells = line[1:-1].split(b'","')
        if len(cells) != ncols:
            # Unusual quoting: let the csv module decide, once for this row.
            cells = _cells(line.decode("utf-8", "replace"))
            if len(cells) != ncols:
                notes.add("rows skipped", f"line {lineno}", f"row has {len(cells)} cells, header has {ncols}; "
                          "row skipped")
                return None
        row = self.pick(cells)
        t = row[0].decode("utf-8", "replace") if isinstance(row[0], bytes) else str(row[0])
        values: list = [t]
        has = self.has
        for j in range(1, len(row)):
            if not has[j]:
                values.append(0.0)
                continue
            try:
                v = float(row[j])
            except ValueError:
                v = math.nan
            if not math.isfinite(v):
                notes.add("rows skipped", f"line {lineno}", "a network value is not a number; row skipped")
                return None
            values.append(v)
        return values

    def _bin(self, values: list, when) -> None:
        if when is None:
            self.untimed += 1
            return
        bins = self.bins
        i = bins.index(us_of(when))
        bins.count(i)
        for k in self.rate_ports:
            bins.add_at((k, "tx"), i, values[1 + 2 * k])
            bins.add_at((k, "rx"), i, values[2 + 2 * k])

    def rates(self, notes: Notes):
        if self.untimed:
            notes.add("rates", "whole file", f"{self.untimed} sample(s) without a readable time are "
                      "counted in the averages but not in the rates over time")
        self.bins.notes(notes)
        named = [((k, d), self.plist[k].client, self.plist[k].kind, d) for k in self.rate_ports for d in ("tx", "rx")]
        return _rates(self.bins, named, average=True, clock="file")

    def _add(self, values: list) -> None:
        t = values[0]
        self.samples += 1
        self.first_time = self.first_time or t
        self.last_time = t
        for k, p in enumerate(self.plist):
            tx = values[1 + 2 * k]
            rx = values[2 + 2 * k]
            p.n += 1
            p.tx_sum += tx
            p.tx_sq += tx * tx
            p.rx_sum += rx
            if tx > p.tx_peak:
                p.tx_peak = tx
            if rx > p.rx_peak:
                p.rx_peak = rx
            if tx > ACTIVE_MBPS:
                p.active_first = p.active_first or t
                p.active_last = t


def _pearson(n: int, sx: float, sxx: float, sy: float, syy: float, sxy: float) -> Optional[float]:
    vx = n * sxx - sx * sx
    vy = n * syy - sy * sy
    if n < 2 or vx <= 1e-12 * max(1.0, n * sxx) or vy <= 1e-12 * max(1.0, n * syy):
        return None
    return max(-1.0, min(1.0, (n * sxy - sx * sy) / math.sqrt(vx * vy)))


def best_uplink(matches: tuple[UplinkMatch, ...], ports: dict[str, PortRates],
                vmk: str) -> Optional[UplinkMatch]:
    """The vmnic whose transmit followed ``vmk``'s closely and carried most of it."""
    port = ports.get(vmk)
    if port is None:
        return None
    for m in matches:  # sorted: per vmk, best correlation first
        if (m.vmk == vmk and m.correlation is not None and m.correlation >= MIN_CORRELATION
                and m.tx_mbps_avg >= MIN_SHARE * port.tx_mbps_avg):
            return m
    return None


def _summarise(file: str, host: Optional[str], rows: _Rows, plist: list[_Port],
               cross: dict[tuple[int, int], float], notes: Notes) -> EsxtopSummary:
    samples = rows.samples
    rates = tuple(
        PortRates(
            instance=p.instance, portset=p.portset, port_id=p.port_id, client=p.client, kind=p.kind,
            samples=p.n,
            tx_mbps_avg=p.tx_sum / p.n if p.n else 0.0, tx_mbps_peak=p.tx_peak,
            rx_mbps_avg=p.rx_sum / p.n if p.n else 0.0, rx_mbps_peak=p.rx_peak,
        )
        for p in plist
    )
    vmk_ports = [(k, p) for k, p in enumerate(plist) if p.kind == "vmk"]
    top_tx = max(vmk_ports, key=lambda kp: kp[1].tx_sum, default=None)
    top_rx = max(vmk_ports, key=lambda kp: kp[1].rx_sum, default=None)
    transmitting = top_tx[1].client if top_tx and top_tx[1].active_first else None
    receiving = top_rx[1].client if top_rx and top_rx[1].rx_peak > ACTIVE_MBPS else None
    matches = []
    for (v, n), sxy in cross.items():
        pv, pn = plist[v], plist[n]
        r = _pearson(samples, pv.tx_sum, pv.tx_sq, pn.tx_sum, pn.tx_sq, sxy)
        matches.append(UplinkMatch(pv.client, pn.client, None if r is None else round(r, 4),
                                   pn.tx_sum / samples if samples else 0.0))
    matches.sort(key=lambda m: (m.vmk, -(m.correlation if m.correlation is not None else -2), m.vmnic))
    summary_ports = {r.client: r for r in rates}
    over_time = rows.rates(notes)
    uplink = best_uplink(tuple(matches), summary_ports, transmitting) if transmitting else None
    return EsxtopSummary(
        file=file, host=host, samples=samples, first_time=rows.first_time, last_time=rows.last_time,
        ports=rates, transmitting_vmk=transmitting,
        # transmitting is set only from top_tx: the "top_tx and" only tells mypy so.
        window_first=top_tx[1].active_first if top_tx and transmitting else None,
        window_last=top_tx[1].active_last if top_tx and transmitting else None,
        receiving_vmk=receiving, uplink=uplink,
        uplink_matches=tuple(matches), skipped=notes.done(), rates=over_time,
    )
