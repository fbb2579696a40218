"""``nbdpath verify --format markdown|html``: the verify report (its JSON form) for people.

Pure functions of ``VerifyReport.to_dict()``, so both say what ``--format json``
says. The HTML page is one self-contained file: inline CSS, inline SVG charts
of the rates over time, no script, no external URL; every value from the
snapshot or the evidence is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from . import rates as rates_render
from .rates import md_cell

_MARK = {True: "agrees", False: "DISAGREES", None: "info"}
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1f24;line-height:1.4}
h1{font-size:1.5em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;
vertical-align:top}th{background:#f6f8fa}td.num{text-align:right}
.c-CONFIRMED{background:#dafbe1}.c-CONTRADICTED{background:#ffebe9}.c-INCONCLUSIVE{background:#fff8c5}
.DISAGREES{color:#cf222e;font-weight:bold}.meta{color:#57606a}svg.rates{display:block;margin:.5em 0 1.5em}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _counts(doc: dict[str, Any]) -> dict[str, int]:
    out = {"CONFIRMED": 0, "CONTRADICTED": 0, "INCONCLUSIVE": 0}
    for p in doc["pairs"]:
        out[p["check"]] += 1
    return out


def html(doc: dict[str, Any]) -> str:
    counts = _counts(doc)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>nbdpath verify</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>nbdpath verify: prediction held against evidence</h1>",
           '<p class="meta">' + ", ".join(f"{n} {_e(c)}" for c, n in counts.items()) + "</p>",
           "<h2>Pairs</h2>", "<table><tr><th>host</th><th>node</th><th>check</th><th>predicted</th>"
           "<th>endpoint</th><th>egress vmk</th><th>uplink</th></tr>"]
    for p in doc["pairs"]:
        out.append(
            f'<tr><td>{_e(p["host"])}</td><td>{_e(p["node"])}</td>'
            f'<td class="c-{_e(p["check"])}">{_e(p["check"])}</td><td>{_e(p["predicted_verdict"])}</td>'
            f'<td>{_e(p["predicted_endpoint"] or "-")} / {_e(p["observed_endpoint"] or "-")}</td>'
            f'<td>{_e(p["predicted_egress_vmk"] or "-")} / {_e(p["observed_egress_vmk"] or "-")}</td>'
            f'<td>{_e(", ".join(p["predicted_uplinks"]) or "-")} / {_e(p["observed_uplink"] or "unknown")}</td></tr>')
    out.append("</table>")
    for p in doc["pairs"]:
        out.append(f'<h3>{_e(p["host"])} &rarr; {_e(p["node"])}: {_e(p["check"])}</h3>')
        out.append(f"<p>{_e(p['reason'])}</p>")
        if p["facts"]:
            out.append("<ul>")
            for f in p["facts"]:
                mark = _MARK[f["agrees"]]
                note = f"; {_e(f['note'])}" if f["note"] else ""
                out.append(f'<li><span class="{mark}">[{mark}]</span> {_e(f["subject"])}: predicted '
                           f'{_e(f["predicted"] or "-")}, observed {_e(f["observed"])} '
                           f'<span class="meta">({_e(f["source"])})</span>{note}</li>')
            out.append("</ul>")
        for s in p["settle"]:
            out.append(f"<p>to settle: {_e(s)}</p>")
    if doc.get("carried"):
        out.append("<h2>Which interface carried the bulk</h2><ul>")
        out += [f"<li>{_e(c['text'])}</li>" for c in doc["carried"]]
        out.append("</ul>")
    if doc.get("rates"):
        out.append("<h2>Rates over time</h2>")
        for r in doc["rates"]:
            title = f"{r['file']} ({r['kind']}{', ' + r['host'] if r['host'] else ''})"
            out.append(f"<h3>{_e(title)}</h3>")
            out.append(rates_render.svg_chart(r["rates"], title))
            out.append(_rates_table(r["rates"]))
    if doc["unmatched"]:
        out.append("<h2>Not matched to the snapshot</h2><ul>")
        out += [f"<li>{_e(u)}</li>" for u in doc["unmatched"]]
        out.append("</ul>")
    if doc["skipped"]:
        out.append("<h2>Warnings</h2><ul>")
        out += [f"<li>{_e(s['file'])}: {_e(s['where'])}: {_e(s['what'])}</li>" for s in doc["skipped"]]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def _rates_table(rates: dict[str, Any]) -> str:
    series = rates_render.data_series(rates)
    if not series:
        return ""
    head = "".join(f"<th>{_e(s['name'])}</th>" for s in series)
    rows = [f"<details><summary>table (Mbit/s)</summary><table><tr><th>time</th>{head}</tr>"]
    for j, t in enumerate(rates["times"]):
        cells = "".join(f'<td class="num">{s["mbps"][j]:.1f}</td>' for s in series)
        rows.append(f"<tr><td>{_e(t)}</td>{cells}</tr>")
    rows.append("</table></details>")
    return "\n".join(rows)


def markdown(doc: dict[str, Any]) -> str:
    counts = _counts(doc)
    out = ["# nbdpath verify", "", ", ".join(f"{n} {c}" for c, n in counts.items()), "",
           "| host | node | check | predicted | endpoint (predicted / observed) | egress vmk | uplink |",
           "|---|---|---|---|---|---|---|"]
    for p in doc["pairs"]:
        cells = [p["host"], p["node"], p["check"], p["predicted_verdict"],
                 f"{p['predicted_endpoint'] or '-'} / {p['observed_endpoint'] or '-'}",
                 f"{p['predicted_egress_vmk'] or '-'} / {p['observed_egress_vmk'] or '-'}",
                 f"{', '.join(p['predicted_uplinks']) or '-'} / {p['observed_uplink'] or 'unknown'}"]
        out.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    for p in doc["pairs"]:
        out += ["", f"## {md_cell(p['host'])} -> {md_cell(p['node'])}: {p['check']}", "", md_cell(p["reason"])]
        for f in p["facts"]:
            note = f"; {f['note']}" if f["note"] else ""
            out.append(f"- [{_MARK[f['agrees']]}] " + md_cell(
                f"{f['subject']}: predicted {f['predicted'] or '-'}, observed {f['observed']} ({f['source']}){note}"))
        out += [f"- to settle: {md_cell(s)}" for s in p["settle"]]
    if doc.get("carried"):
        out += ["", "## Which interface carried the bulk", ""] + [f"- {md_cell(c['text'])}" for c in doc["carried"]]
    for r in doc.get("rates", []):
        title = f"{r['file']} ({r['kind']}{', ' + r['host'] if r['host'] else ''})"
        out += ["", f"## Rates: {md_cell(title)}", "", *rates_render.markdown_table(r["rates"])]
    if doc["unmatched"]:
        out += ["", "## Not matched to the snapshot", ""] + [f"- {md_cell(u)}" for u in doc["unmatched"]]
    return "\n".join(out)
