"""One self-contained HTML file to mail to the network team.

Pure functions from the JSON contract (``Report.to_dict()``) to text, so the
page says exactly what ``--format json`` says. The file needs nothing else:
inline CSS, no JavaScript (``<details>`` folds the hops), no external URL.
Every value is HTML-escaped: a snapshot is input, and a host named
``<script>`` must arrive as text.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..engine.types import Path
from ..rules import Finding
from ..safetext import terminal
from . import cells
from .report import Report

# Colours follow the terminal table: green isolated, amber working but not where
# intended, red failing backups.
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1f24;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;
vertical-align:top}th{background:#f6f8fa}td.num{text-align:right}
.meta{color:#57606a}.counts{display:inline-table;margin-right:2em}
.v-ISOLATED{background:#dafbe1}.v-NOT_ISOLATED,.v-ASYMMETRIC{background:#fff8c5}
.v-UNREACHABLE,.v-BROKEN_BY_FIREWALL{background:#ffebe9}
.degraded{color:#8250df;font-weight:bold}
.finding{border-left:.4em solid #d0d7de;padding:.1em 1em;margin:1em 0}
.sev-error{border-color:#cf222e}.sev-warning{border-color:#bf8700}.sev-info{border-color:#0969da}
.sev-label{font-weight:bold;text-transform:uppercase}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap}
details{margin:.4em 0;border:1px solid #d0d7de;padding:.3em .8em}summary{cursor:pointer}
li.step.fail{color:#cf222e;font-weight:bold}.kind{display:inline-block;min-width:5.5em;color:#57606a}
"""


_DEGRADED = ' <span class="degraded">DEGRADED</span>'


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _verdict_cell(p: dict[str, Any]) -> str:
    extra = _DEGRADED if p["degraded"] else ""
    unsure = '<span class="unsure" title="depends on an unverified assumption">?</span>' if not p.get("robust", True) else ""
    return f'<td class="verdict v-{_e(p["verdict"])}">{_e(p["verdict"])}{unsure}{extra}</td>'


def _summary(doc: dict[str, Any]) -> list[str]:
    s = doc["summary"]
    out = ['<section id="summary"><h2>Summary</h2>',
           '<table class="counts verdicts"><tr><th>verdict</th><th>pairs</th></tr>']
    out += [f'<tr class="v-{_e(v)}"><td>{_e(v)}</td><td class="num" data-verdict="{_e(v)}">{n}</td></tr>'
            for v, n in s["verdicts"].items()]
    out.append(f'<tr><td>DEGRADED</td><td class="num" data-degraded="">{s["degraded"]}</td></tr>')
    out.append(f'<tr><th>pairs</th><th class="num" data-pairs="">{s["pairs"]}</th></tr></table>')
    out.append('<table class="counts severities"><tr><th>severity</th><th>findings</th></tr>')
    out += [f'<tr class="sev-{_e(k)}"><td>{_e(k)}</td><td class="num" data-severity="{_e(k)}">{n}</td></tr>'
            for k, n in s["findings"].items()]
    out.append("</table></section>")
    return out


def _paths(doc: dict[str, Any]) -> list[str]:
    out = ['<section id="paths"><h2>Paths</h2>']
    for snap in doc["snapshots"]:
        out.append(f"<h3>{_e(snap)}</h3>")
        out.append('<table class="paths"><tr>' + "".join(
            f"<th>{c}</th>" for c in ("host", "node", "endpoint", "in", "out", "uplinks", "bottleneck", "verdict")
        ) + "</tr>")
        for i, p in enumerate(doc["paths"]):
            if p["snapshot"] != snap:
                continue
            out.append(
                f'<tr class="path" data-host="{_e(p["host"])}" data-node="{_e(p["node"])}">'
                f'<td><a href="#path-{i}">{_e(p["host"])}</a></td><td>{_e(p["node"])}</td>'
                f'<td>{_e(cells.endpoint(p))}</td><td>{_e(p["ingress_vmk"] or "-")}</td>'
                f'<td>{_e(p["egress_vmk"] or "-")}</td><td>{_e(cells.uplinks(p))}</td>'
                f'<td class="num">{_e(cells.speed(p["bottleneck_mbps"]))}</td>{_verdict_cell(p)}</tr>'
            )
        out.append("</table>")
    out.append("</section>")
    return out


def _fix(fix: dict[str, Any], host: str) -> list[str]:
    out = [f'<p><b>Fix:</b> {_e(fix["summary"])}</p>']
    for key, label in (("esxcli", f"esxcli, on {_e(host)}"), ("powercli", "PowerCLI"), ("govc", "govc")):
        if fix[key]:
            out.append(f'<p class="fix-label">{label}:</p><pre class="fix {key}">'
                       + "\n".join(_e(c) for c in fix[key]) + "</pre>")
    if fix["manual"]:
        out.append('<ul class="manual">' + "".join(f"<li>{_e(m)}</li>" for m in fix["manual"]) + "</ul>")
    return out


def _findings(doc: dict[str, Any]) -> list[str]:
    out = ['<section id="findings"><h2>Findings</h2>']
    if not doc["findings"]:
        out.append("<p>No findings.</p>")
    multi = len(doc["snapshots"]) > 1
    for severity, group in cells.by_severity(doc["findings"]):
        out.append(f'<h3 class="sev-heading" data-severity="{_e(severity)}">{_e(severity)} ({len(group)})</h3>')
        for f in group:
            snap = f" ({_e(f['snapshot'])})" if multi else ""
            out += [f'<div class="finding sev-{_e(severity)}" data-rule="{_e(f["rule"])}" data-host="{_e(f["host"])}">',
                    (f'<h4><span class="sev-label">{_e(severity)}</span> {_e(f["rule"])} <code>{_e(f["name"])}</code>: '
                    f"{_e(cells.where(f))}{snap}</h4>"),
                    f'<p class="message">{_e(f["message"])}</p>',
                    f'<p class="explanation">{_e(f["explanation"])}</p>',
                    *_fix(f["fix"], f["host"]), "</div>"]
    out.append("</section>")
    return out


def _path_details(i: int, p: dict[str, Any], open_: bool) -> list[str]:
    e = p["endpoint"]
    out = [f'<details class="path-details" id="path-{i}"{" open" if open_ else ""}>',
           (f'<summary>{_e(p["host"])} -&gt; {_e(p["node"])} ({_e(p["snapshot"])}): '
           f'<span class="v-{_e(p["verdict"])}">{_e(p["verdict"])}</span>'
           f'{_DEGRADED if p["degraded"] else ""}</summary>'),
           f'<p><b>verdict:</b> {_e(p["verdict_reason"])}</p>',
           f'<p><b>endpoint:</b> {_e(e["ip"] or "?")} on {_e(e["vmk"] or "-")}: {_e(e["reason"])}</p>']
    out += [f'<p class="degraded">DEGRADED: {_e(d)}</p>' for d in p["degraded"]]
    for title, hops in cells.hop_groups(p.get("hops", [])):
        out.append(f"<h4>{_e(title)}</h4><ol class=\"hops\">")
        for h in hops:
            out.append(f'<li class="hop"><b>{_e(h["device"])}</b><ul>')
            for s in h["steps"]:
                cls, mark = ("step ok", "") if s["ok"] else ("step fail", "FAILS: ")
                out.append(f'<li class="{cls}"><span class="kind">{_e(s["kind"])}</span> {mark}{_e(s["detail"])}</li>')
            out.append("</ul></li>")
        out.append("</ol>")
    if p["assumptions"]:
        # IDs here, each text once in the glossary: 16,000 pairs would repeat it 16,000 times.
        out.append('<p class="assumptions"><b>assumptions:</b> ' + ", ".join(
            f'<a href="#{_assumption_anchor(a["id"])}">{_e(a["id"])}</a>' for a in p["assumptions"]) + "</p>")
    if p.get("control"):
        out.append('<h4>control (beside the data)</h4><ul class="control">')
        for c in p["control"]:
            state = {True: "reachable", False: "UNREACHABLE", None: "unknown"}[c["reachable"]]
            out.append(f'<li class="control-{_e(state)}"><b>{_e(c["flow"])}</b> {_e(c["src"])} -&gt; '
                       f'{_e(c["dst"] or "?")}:{_e(c["port"])} {state}: {_e(c["reason"])}</li>')
        out.append("</ul>")
    for a in p.get("alternatives", ()):
        said = ", ".join(f"{k} {v}" for k, v in a.items() if k not in ("assumption", "if_not"))
        out.append(f'<p class="alternative"><b>if not {_e(a["assumption"])}</b> ({_e(a["if_not"])}): {_e(said)}</p>')
    out.append("</details>")
    return out


def _assumption_anchor(ident: str) -> str:
    return "assumption-" + "".join(c if c.isalnum() or c == "-" else "_" for c in ident)


def _glossary(doc: dict[str, Any]) -> list[str]:
    """Every assumption any path relies on, in order of first use, with its text."""
    seen: dict[str, str] = {}
    for p in doc["paths"]:
        for a in p["assumptions"]:
            seen.setdefault(a["id"], a["text"])
    if not seen:
        return []
    out = ['<section id="assumptions"><h2>Assumptions</h2><dl class="assumptions">']
    out += [f'<dt id="{_assumption_anchor(i)}">{_e(i)}</dt><dd>{_e(t)}</dd>' for i, t in seen.items()]
    out.append("</dl></section>")
    return out


def report_doc(doc: dict[str, Any], title: str = "nbdpath report", open_details: bool = False) -> str:
    """The whole page: summary counts, paths table, findings with fixes, one <details> per path."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}: {_e(', '.join(doc['snapshots']))}</title>", f"<style>{_CSS}</style></head><body>",
           f"<h1>{_e(title)}</h1>",
           (f'<p class="meta">snapshots: {_e(", ".join(doc["snapshots"]) or "none")}; '
           f"nbdpath output version {_e(doc['version'])}; {_e(cells.summary_line(doc['summary']))}</p>")]
    out += _summary(doc)
    out += _paths(doc)
    out += _findings(doc)
    out.append('<section id="details"><h2>Hop by hop</h2>')
    for i, p in enumerate(doc["paths"]):
        out += _path_details(i, p, open_details)
    out.append("</section>")
    out += _glossary(doc)
    out += ["</body></html>", ""]
    # Control characters as escapes: the page is safe to cat, and valid HTML.
    return terminal("\n".join(out))


def report_html(report: Report, with_hops: bool = True) -> str:
    """The page; ``with_hops=False`` (``trace --no-hops``) keeps the details to verdict, endpoint and
    assumptions: a large estate's hops are most of the file."""
    return report_doc(report.to_dict(with_hops=with_hops))


def explain_html(snapshot: str, path: Path, findings: list[Finding]) -> str:
    report = Report()
    report.add(snapshot, [path], findings)
    return report_doc(report.to_dict(with_hops=True), title=f"nbdpath explain {path.host} -> {path.node}",
                      open_details=True)
