"""Rates over time (``nbdpath.evidence.observations.Rates``) as a text table, a Markdown table
and a small inline SVG chart. Pure functions of the JSON form (``to_dict`` of a Rates), so
every output says what ``--format json`` says.

Only the direction that carries NFC data is shown (host -> node in captures, transmit in
esxtop); the JSON keeps both. Names come from evidence files: the SVG escapes every one
(``html.escape``), the text table leaves escaping to the caller's per-line escaper.
"""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

from ..safetext import one_line

MAX_COLUMNS = 8
_DATA_DIRECTIONS = ("to node", "tx")
_KIND_ORDER = {"vmk": 0, "vmnic": 1, "interface": 2, "mac": 3}
# Colour-blind safe (Okabe-Ito), one per series.
_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def data_series(rates: dict[str, Any], max_columns: int = MAX_COLUMNS) -> list[dict[str, Any]]:
    """The series worth a column: the data direction, any traffic at all, busiest first, at most ``max_columns``,
    shown vmks first, then uplinks, interfaces and MACs."""
    shown = [s for s in rates["series"] if s["direction"] in _DATA_DIRECTIONS and any(s["mbps"])]
    shown.sort(key=lambda s: -sum(s["mbps"]))
    shown = shown[:max_columns]
    shown.sort(key=lambda s: (_KIND_ORDER.get(s["kind"], 9), s["name"]))
    return shown


def _caption(rates: dict[str, Any]) -> str:
    what = "TCP 902 payload host -> node" if rates["clock"] == "utc" else "transmit"
    clock = "UTC" if rates["clock"] == "utc" else "the host's clock"
    return f"rates over time (Mbit/s, {what}; {rates['bin_seconds']:g} s bins, times in {clock})"


def _fmt(v: float) -> str:
    return f"{v:.1f}" if v >= 0.05 or v == 0 else f"{v:.3f}"


def text_table(rates: dict[str, Any], indent: str = "  ") -> list[str]:
    series = data_series(rates)
    if not series:
        return [f"{indent}rates over time: no data sent"]
    names = [s["name"] for s in series]
    widths = [max(9, len(n)) for n in names]
    tw = max(len(t) for t in rates["times"])
    out = [f"{indent}{_caption(rates)}:",
           indent + "time".ljust(tw) + "".join(f"  {n:>{w}}" for n, w in zip(names, widths))]
    for j, t in enumerate(rates["times"]):
        out.append(indent + t.ljust(tw) + "".join(f"  {_fmt(s['mbps'][j]):>{w}}" for s, w in zip(series, widths)))
    hidden = len([s for s in rates["series"] if s["direction"] in _DATA_DIRECTIONS and any(s["mbps"])]) - len(series)
    if hidden > 0:
        out.append(f"{indent}(+{hidden} quieter series in --format json)")
    return out


def md_cell(text: str) -> str:
    """A value for a Markdown table cell or heading: no pipe, no code fence, no raw HTML, one line,
    no terminal control (control and bidirectional characters escaped)."""
    text = one_line(str(text))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")
            .replace("|", "\\|").replace("\r", " ").replace("\n", " "))


def markdown_table(rates: dict[str, Any]) -> list[str]:
    series = data_series(rates)
    if not series:
        return ["No data sent in the rates over time."]
    out = [f"*{md_cell(_caption(rates))}*", "",
           "| time | " + " | ".join(md_cell(s["name"]) for s in series) + " |",
           "|---|" + "---:|" * len(series)]
    for j, t in enumerate(rates["times"]):
        out.append(f"| {md_cell(t)} | " + " | ".join(_fmt(s["mbps"][j]) for s in series) + " |")
    return out


def svg_chart(rates: dict[str, Any], title: str, width: int = 640, height: int = 220) -> str:
    """One line per series over time; every text escaped, no script, no external reference."""
    series = data_series(rates)
    left, right, top, bottom = 56, 150, 24, 36
    pw, ph = width - left - right, height - top - bottom
    n = len(rates["times"])
    peak = max((max(s["mbps"]) for s in series), default=0.0) or 1.0
    x = (lambda j: left + (pw * j / (n - 1) if n > 1 else pw / 2))
    y = (lambda v: top + ph - ph * v / peak)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="rates" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title, quote=True)}">',
           f'<title>{escape(title)}</title>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#d0d7de"/>',
           f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{_fmt(peak)}</text>',
           f'<text x="{left - 4}" y="{top + ph}" font-size="10" text-anchor="end">0</text>',
           f'<text x="12" y="{top + ph / 2:.0f}" font-size="10" transform="rotate(-90 12 {top + ph / 2:.0f})" '
           'text-anchor="middle">Mbit/s</text>']
    if n:
        out.append(f'<text x="{left}" y="{height - 20}" font-size="10">{escape(rates["times"][0])}</text>')
        out.append(f'<text x="{left + pw}" y="{height - 20}" font-size="10" text-anchor="end">'
                   f'{escape(rates["times"][-1])}</text>')
    out.append(f'<text x="{left}" y="{height - 6}" font-size="10">{escape(_caption(rates))}</text>')
    for k, s in enumerate(series):
        colour = _COLOURS[k % len(_COLOURS)]
        points = " ".join(f"{x(j):.1f},{y(v):.1f}" for j, v in enumerate(s["mbps"]))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}">'
                   f'<title>{escape(s["name"])}</title></polyline>')
        ly = top + 12 + 14 * k
        out.append(f'<line x1="{left + pw + 10}" y1="{ly - 4}" x2="{left + pw + 24}" y2="{ly - 4}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{left + pw + 28}" y="{ly}" font-size="11">{escape(s["name"])}</text>')
    if not series:
        out.append(f'<text x="{left + pw / 2:.0f}" y="{top + ph / 2:.0f}" font-size="12" '
                   'text-anchor="middle">no data sent</text>')
    out.append("</svg>")
    return "\n".join(out)


def shares(totals: Sequence[tuple[str, float]]) -> list[tuple[str, float, float]]:
    """(name, amount, share of the sum) busiest first; amounts of 0 are left out."""
    whole = sum(v for _, v in totals)
    if whole <= 0:
        return []
    return sorted(((n, v, v / whole) for n, v in totals if v > 0), key=lambda t: -t[1])
