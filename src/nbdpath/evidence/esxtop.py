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
import math
import re
from operator import itemgetter
from typing import BinaryIO, Optional

from .observations import EsxtopSummary, PortRates, Skipped, UplinkMatch

PDH_PREFIX = "(PDH-CSV"
TX = "MBits Transmitted/sec"
RX = "MBits Received/sec"
_COLUMN = re.compile(r"^\\\\(?P<host>[^\\]*)\\Network Port\((?P<inst>.*)\)\\(?P<counter>.+)$")
_VMK = re.compile(r"^vmk\d+$")
_VMNIC = re.compile(r"^(vmnic|vusb)\d+$")
# A vmk "transmits" in a sample above this rate (Mbit/s): keeps idle
# management chatter out of the backup window.
ACTIVE_MBPS = 1.0
# The uplink must follow the vmk closely and carry most of its traffic.
MIN_CORRELATION = 0.7
MIN_SHARE = 0.5
MAX_SKIP_NOTES = 5


def is_esxtop(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").lstrip(b'"').startswith(PDH_PREFIX.encode())


def _kind(client: str) -> str:
    if _VMK.match(client):
        return "vmk"
    if _VMNIC.match(client):
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


def _header(line: bytes, file: str, skipped: list[Skipped]) -> list[str]:
    text = line.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")
    if "\ufffd" in text:
        skipped.append(Skipped(file, "line 1", "header is not valid UTF-8; undecodable bytes replaced"))
    return _cells(text)


def read_esxtop(stream: BinaryIO, file: str) -> Optional[EsxtopSummary]:
    """Read an esxtop batch CSV stream; None when it is not one."""
    first = stream.readline()
    if not is_esxtop(first[:64]):
        return None
    skipped: list[Skipped] = []
    header = _header(first, file, skipped)
    ncols = len(header)
    ports: dict[str, _Port] = {}
    host: Optional[str] = None
    for i, cell in enumerate(header[1:], start=1):
        m = _COLUMN.match(cell)
        if not m:
            continue
        counter = " ".join(m["counter"].split())  # esxtop doubles some spaces
        if counter not in (TX, RX):
            continue
        host = host or m["host"]
        port = ports.get(m["inst"]) or ports.setdefault(m["inst"], _Port(m["inst"]))
        if counter == TX:
            port.tx = i
        else:
            port.rx = i
    for p in ports.values():
        if p.tx is None or p.rx is None:
            missing = TX if p.tx is None else RX
            skipped.append(Skipped(file, "line 1", f"port {p.instance} has no '{missing}' column; "
                                   "that direction is reported as 0"))
    if not ports:
        skipped.append(Skipped(file, "line 1", "no 'Network Port' transmit/receive columns; "
                               "nothing to attribute (was the network panel excluded from the batch?)"))
    plist = list(ports.values())
    idx = [0]
    for p in plist:
        idx.append(p.tx if p.tx is not None else 0)
        idx.append(p.rx if p.rx is not None else 0)
    # With a missing column the index 0 (the timestamp) stands in; zeroed below.
    has = [True] + [c for p in plist for c in (p.tx is not None, p.rx is not None)]
    pick = itemgetter(*idx) if len(idx) > 1 else (lambda cells: (cells[0],))
    vmks = [k for k, p in enumerate(plist) if p.kind == "vmk"]
    nics = [k for k, p in enumerate(plist) if p.kind == "vmnic"]
    cross = {(v, n): 0.0 for v in vmks for n in nics}
    samples = 0
    first_time: Optional[str] = None
    last_time: Optional[str] = None
    bad_rows = 0
    lineno = 1
    for raw in stream:
        lineno += 1
        line = raw.rstrip(b"\r\n")
        if not line:
            continue
        cells: list = line[1:-1].split(b'","') if line[:1] == b'"' and line[-1:] == b'"' else []
        if len(cells) != ncols:
            # Unusual quoting: let the csv module decide, once for this row.
            cells = _cells(line.decode("utf-8", "replace"))
            if len(cells) != ncols:
                bad_rows += 1
                if bad_rows <= MAX_SKIP_NOTES:
                    skipped.append(Skipped(file, f"line {lineno}",
                                           f"row has {len(cells)} cells, header has {ncols}; row skipped"))
                continue
        row = pick(cells)
        values = []
        ok = True
        for j in range(1, len(row)):
            if not has[j]:
                values.append(0.0)
                continue
            try:
                v = float(row[j])
            except ValueError:
                v = math.nan
            if not math.isfinite(v):
                ok = False
                break
            values.append(v)
        if not ok:
            bad_rows += 1
            if bad_rows <= MAX_SKIP_NOTES:
                skipped.append(Skipped(file, f"line {lineno}", "a network value is not a number; row skipped"))
            continue
        t = row[0].decode("utf-8", "replace") if isinstance(row[0], bytes) else str(row[0])
        samples += 1
        first_time = first_time or t
        last_time = t
        for k, p in enumerate(plist):
            tx = values[2 * k]
            rx = values[2 * k + 1]
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
        for v, n in cross:
            cross[(v, n)] += values[2 * v] * values[2 * n]
    if bad_rows > MAX_SKIP_NOTES:
        skipped.append(Skipped(file, "whole file", f"{bad_rows} rows skipped in all "
                               f"(first {MAX_SKIP_NOTES} listed)"))
    return _summarise(file, host, samples, first_time, last_time, plist, cross, skipped)


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


def _summarise(file: str, host: Optional[str], samples: int, first_time: Optional[str],
               last_time: Optional[str], plist: list[_Port], cross: dict[tuple[int, int], float],
               skipped: list[Skipped]) -> EsxtopSummary:
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
    uplink = best_uplink(tuple(matches), summary_ports, transmitting) if transmitting else None
    return EsxtopSummary(
        file=file, host=host, samples=samples, first_time=first_time, last_time=last_time,
        ports=rates, transmitting_vmk=transmitting,
        window_first=top_tx[1].active_first if transmitting else None,
        window_last=top_tx[1].active_last if transmitting else None,
        receiving_vmk=receiving, uplink=uplink,
        uplink_matches=tuple(matches), skipped=tuple(skipped),
    )
