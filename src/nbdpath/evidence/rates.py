"""Rates over time, folded into time bins as a reader streams: memory is bins, never packets.

A stream does not know its duration in advance, so the bins start narrow
(1 ms) and widen whenever the span seen would need more than ``max_bins``:
each width in :data:`WIDTHS` divides the next and bins are aligned to
multiples of the width since the epoch, so widening only merges whole bins
(no value is split or guessed). With ``--bin SECONDS`` the width is fixed
unless the span would need more than :data:`MAX_FIXED_BINS`; then it doubles
and a warning says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Generic, Hashable, Mapping, Optional, Sequence, TypeVar

from .observations import Notes, Rates, RateSeries

MAX_BINS = 60  # automatic width: a table a reader can scan, a chart that stays readable
MAX_FIXED_BINS = 2000
MAX_SERIES = 64  # interfaces / MACs / ports per file; real files have a handful
_US = 1_000_000
# Widths in microseconds, each a whole multiple of the one before (then doubling).
WIDTHS = tuple(int(s * _US) for s in (
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200,
    86400, 604800))
_EPOCH = datetime(1970, 1, 1)
# A reader's series key: (interface, direction, MAC) for a capture, (port, column) for esxtop.
K = TypeVar("K", bound=Hashable)
K2 = TypeVar("K2", bound=Hashable)


class Bins(Generic[K]):
    """Sums per (series key, bin index), plus the number of samples per bin (esxtop averages)."""

    def __init__(self, fixed_seconds: Optional[float] = None, max_bins: int = MAX_BINS) -> None:
        self.fixed = fixed_seconds is not None
        self.width = max(1, int(round(fixed_seconds * _US))) if fixed_seconds is not None else WIDTHS[0]
        self.requested = self.width
        self.limit = MAX_FIXED_BINS if self.fixed else max_bins
        self.lo: Optional[int] = None
        self.hi: Optional[int] = None
        self.sums: dict[K, dict[int, float]] = {}
        self.counts: dict[int, int] = {}
        self.dropped_series = 0

    def index(self, t_us: int) -> int:
        """The bin of time ``t_us`` (microseconds since the epoch), widening the bins if needed."""
        i = t_us // self.width
        lo, hi = self.lo, self.hi
        if lo is None or hi is None:
            self.lo = self.hi = i
            return i
        if lo <= i <= hi:
            return i
        lo, hi = min(lo, i), max(hi, i)
        if hi - lo + 1 > self.limit:
            self._widen(lo * self.width, (hi + 1) * self.width - 1)
            i = t_us // self.width
            lo, hi = min(self.lo, i), max(self.hi, i)  # type: ignore[type-var]
        self.lo, self.hi = lo, hi
        return i

    def add(self, key: K, t_us: int, value: float) -> None:
        i = self.index(t_us)
        self.add_at(key, i, value)

    def add_at(self, key: K, i: int, value: float) -> None:
        s = self.sums.get(key)
        if s is None:
            if len(self.sums) >= MAX_SERIES:
                self.dropped_series += 1
                return
            s = self.sums[key] = {}
        s[i] = s.get(i, 0.0) + value

    def count(self, i: int) -> None:
        self.counts[i] = self.counts.get(i, 0) + 1

    def _next_width(self, width: int) -> int:
        if self.fixed:
            return width * 2
        bigger = [w for w in WIDTHS if w > width]
        return bigger[0] if bigger else width * 2

    def _widen(self, first_us: int, last_us: int) -> None:
        old = new = self.width
        while last_us // new - first_us // new + 1 > self.limit:
            new = self._next_width(new)  # each step divides the next: bins merge whole
        self.width = new
        k = new // old
        self.sums = {key: _merge(s, k) for key, s in self.sums.items()}
        self.counts = {i: int(v) for i, v in _merge(self.counts, k).items()}  # type: ignore[arg-type]
        self.lo = self.lo // k if self.lo is not None else None
        self.hi = self.hi // k if self.hi is not None else None

    def notes(self, notes: Notes) -> None:
        if self.fixed and self.width != self.requested:
            notes.add("rates", "whole file", f"--bin {self.requested / _US:g} s would need more than "
                      f"{MAX_FIXED_BINS} bins: rates are in {self.width / _US:g} s bins")
        if self.dropped_series:
            notes.add("rates", "whole file", f"more than {MAX_SERIES} rate series: later interfaces/ports "
                      "have no rates over time (their totals are still counted)")

    def over(self, sums: dict[K2, dict[int, float]]) -> Bins[K2]:
        """The same time bins holding other series (a reader merging its raw keys into the ones it shows)."""
        other: Bins[K2] = Bins(max_bins=self.limit)
        other.fixed, other.width, other.requested, other.limit = self.fixed, self.width, self.requested, self.limit
        other.lo, other.hi, other.counts, other.dropped_series = self.lo, self.hi, self.counts, self.dropped_series
        other.sums = sums
        return other

    def span(self) -> range:
        if self.lo is None or self.hi is None:
            return range(0)
        return range(self.lo, self.hi + 1)


def _merge(bins: dict[int, float], k: int) -> dict[int, float]:
    out: dict[int, float] = {}
    for i, v in bins.items():
        j = i // k
        out[j] = out.get(j, 0.0) + v
    return out


def us_of(dt: datetime) -> int:
    """Microseconds since the epoch of a naive datetime in the file's own clock."""
    return (dt - _EPOCH) // timedelta(microseconds=1)


def utc_text(t_us: int) -> str:
    """A capture's bin start: ISO 8601 UTC, milliseconds only when the bins are that narrow."""
    try:
        dt = datetime.fromtimestamp(0, timezone.utc) + timedelta(microseconds=t_us)
    except OverflowError:  # a damaged timestamp past the calendar (year 9999): say it as a number
        return f"{t_us // _US} s after 1970-01-01T00:00:00Z"
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if t_us % _US:
        text += f".{dt.microsecond // 1000:03d}"
    return text + "Z"


def esxtop_text(t_us: int) -> str:
    """An esxtop bin start, written as esxtop writes its times (the file's clock)."""
    return (_EPOCH + timedelta(microseconds=t_us)).strftime("%m/%d/%Y %H:%M:%S")


def series_of(bins: Bins[K], named: Sequence[tuple[K, str, str, str]], average: bool,
              totals: Optional[Mapping[K, int]] = None) -> tuple[tuple[int, ...], tuple[RateSeries, ...]]:
    """(bin starts in µs, series) for the keys in ``named``: (key, name, kind, direction).

    Captures sum bytes per bin (Mbit/s = bytes * 8 / width); esxtop sums Mbit/s
    samples per bin (``average``: divided by the samples of that bin)."""
    span = bins.span()
    width_s = bins.width / _US
    out = []
    for key, name, kind, direction in named:
        s = bins.sums.get(key)
        if s is None:
            continue
        if average:
            values = tuple(round(s.get(i, 0.0) / bins.counts[i], 3) if bins.counts.get(i) else 0.0 for i in span)
        else:
            values = tuple(round(s.get(i, 0.0) * 8 / width_s / 1e6, 3) for i in span)
        out.append(RateSeries(name=name, kind=kind, direction=direction, mbps=values,
                              total_bytes=(totals or {}).get(key)))
    return tuple(i * bins.width for i in span), tuple(out)


def rates(bins: Bins[K], named: Sequence[tuple[K, str, str, str]], average: bool, clock: str,
          totals: Optional[Mapping[K, int]] = None) -> Optional[Rates]:
    """The :class:`Rates` of a file, or None when nothing was binned."""
    starts, series = series_of(bins, named, average, totals)
    if not starts or not series:
        return None
    text = utc_text if clock == "utc" else esxtop_text
    return Rates(bin_seconds=bins.width / _US, clock=clock, times=tuple(text(t) for t in starts), series=series)
