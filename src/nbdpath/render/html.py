"""One self-contained HTML file to mail to the network team.

Pure functions from the JSON contract (``Report.to_dict()``; a fleet's page from
``Report.view``, the same content without a dict per pair) to text, so the page
says exactly what ``--format json`` says. The file needs nothing else:
inline CSS and SVG, no external URL; one tiny inline script opens the folded
``<details>`` for printing (the print CSS shows their content without it).
Every value is HTML-escaped: a snapshot is input, and a host named
``<script>`` must arrive as text.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..engine.types import Path
from ..rules import Finding
from ..safetext import terminal
from . import cells, svg
from .report import Report

# Colours follow the terminal table: green isolated, amber working but not where
# intended, red failing backups.
_CSS = """
.partial{border-left:4px solid #c60;padding-left:.6em}
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
.matrix td.num:not([class*=" v-"]){color:#8c959f}.shape{border-top:1px solid #d0d7de;margin-top:1.2em}
figure.diagram-box{margin:.4em 0;overflow-x:auto}svg.diagram{max-width:100%;height:auto}
.members{font-size:.9em;color:#424a53;max-height:6em;overflow-y:auto}.more-findings{font-size:.9em}
@media print{body{margin:0;font-size:10pt}details{border:none}summary{list-style:none}
details>*{display:block}details::details-content{content-visibility:visible;display:block}
.members{max-height:none;overflow:visible}.shape,figure{break-inside:avoid}a{color:inherit;text-decoration:none}
h2{break-after:avoid}}
"""


_DEGRADED = ' <span class="degraded">DEGRADED</span>'
# Folded details open for printing; without scripts the print CSS shows their content as well.
_PRINT_SCRIPT = ("addEventListener('beforeprint',()=>document.querySelectorAll('details')"
                 ".forEach(d=>{if(!d.open){d.open=true;d.dataset.printOpened=''}}));"
                 "addEventListener('afterprint',()=>document.querySelectorAll('details[data-print-opened]')"
                 ".forEach(d=>{d.open=false;delete d.dataset.printOpened}))")


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _verdict_cell(p: dict[str, Any]) -> str:
    extra = _DEGRADED if p["degraded"] else ""
    unsure = '<span class="unsure" title="depends on an unverified assumption">?</span>' if not p.get("robust", True) else ""
    return f'<td class="verdict v-{_e(p["verdict"])}">{_e(p["verdict"])}{unsure}{extra}</td>'


def _summary(view: dict[str, Any], extra: dict[str, Any]) -> list[str]:
    s = view["summary"]
    out = ['<section id="summary"><h2>Summary</h2>',
           '<table class="counts verdicts"><tr><th>verdict</th><th>pairs</th></tr>']
    out += [f'<tr class="v-{_e(v)}"><td>{_e(v)}</td><td class="num" data-verdict="{_e(v)}">{n}</td></tr>'
            for v, n in s["verdicts"].items()]
    out.append(f'<tr><td>DEGRADED</td><td class="num" data-degraded="">{s["degraded"]}</td></tr>')
    out.append(f'<tr><th>pairs</th><th class="num" data-pairs="">{s["pairs"]}</th></tr></table>')
    out.append('<table class="counts severities"><tr><th>severity</th><th>findings</th></tr>')
    out += [f'<tr class="sev-{_e(k)}"><td>{_e(k)}</td><td class="num" data-severity="{_e(k)}">{n}</td></tr>'
            for k, n in s["findings"].items()]
    out.append("</table>")
    out.append(f'<p class="meta">{len(extra["shapes"])} distinct path shape(s): '
               '<a href="#shapes">diagrams</a></p>')
    out += _matrix(view)
    out += _rules_table(view)
    out += _worst(view)
    out.append("</section>")
    return out


def _missing(view: dict[str, Any]) -> list[str]:
    """A partial discovery's entries, before the summary: what its counts leave out."""
    rows, more = cells.missing_rows(view)
    if not rows:
        return []
    multi = len(view["snapshots"]) > 1
    out = ['<section id="missing" class="partial"><h2>Not read (partial discovery)</h2>',
           "<p>These hosts are not traced, and these VMs, datastores or tags are left out of estimates:</p>",
           '<table class="missing"><tr>' + ("<th>snapshot</th>" if multi else "") + "<th>not read</th><th>why</th></tr>"]
    for m in rows:
        snap = f"<td>{_e(m['snapshot'])}</td>" if multi else ""
        out.append(f'<tr data-missing="{_e(m["host"])}">{snap}<td>{_e(m["host"])}</td><td>{_e(m["reason"])}</td></tr>')
    out.append("</table>")
    if more:
        out.append(f"<p>... and {more} more (all in the JSON's <code>missing</code>).</p>")
    out.append("</section>")
    return out


def _matrix(view: dict[str, Any]) -> list[str]:
    verdicts, rows = cells.verdict_matrix(view["hosts"])
    out = ['<h3>Verdicts by cluster</h3><table class="matrix"><tr><th>cluster</th>'
           + "".join(f'<th class="v-{_e(v)}">{_e(v)}</th>' for v in verdicts) + "<th>hosts</th></tr>"]
    for cluster, counts, hosts in rows:
        out.append(f'<tr data-cluster="{_e(cluster)}"><td>{_e(cluster)}</td>' + "".join(
            f'<td class="num{" v-" + _e(v) if counts[v] else ""}" data-verdict="{_e(v)}">{counts[v]}</td>'
            for v in verdicts) + f'<td class="num">{hosts}</td></tr>')
    out.append("</table>")
    return out


def _head(title: str, cls: str, columns: tuple[str, ...]) -> str:
    return f'<h3>{title}</h3><table class="{cls}"><tr>' + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"


def _rules_table(view: dict[str, Any]) -> list[str]:
    groups = cells.by_rule(view["findings"])
    if not groups:
        return []
    out = [_head("Findings by rule", "rules", ("rule", "severity", "findings", "hosts", "fix"))]
    for rule, fs in groups:
        f = fs[0]
        hosts = len({(x["snapshot"], x["host"]) for x in fs})
        out.append(f'<tr class="sev-{_e(f["severity"])}" data-rule="{_e(rule)}"><td><a href="#rule-{_e(rule)}">'
                   f'{_e(rule)}</a> <code>{_e(f["name"])}</code></td><td>{_e(f["severity"])}</td>'
                   f'<td class="num" data-count="{len(fs)}">{len(fs)}</td><td class="num">{hosts}</td>'
                   f'<td>{_e(f["fix"]["summary"])}</td></tr>')
    out.append("</table>")
    return out


def _worst(view: dict[str, Any]) -> list[str]:
    worst = cells.worst_hosts(view["hosts"], view["findings"])
    if not worst:
        return []
    out = [_head("Worst hosts", "worst", ("host", "cluster", "worst verdict", "pairs not isolated", "errors",
                                          "warnings"))]
    for w in worst:
        out.append(f'<tr class="worst-host" data-host="{_e(w["host"])}"><td>{_e(w["host"])}</td>'
                   f'<td>{_e(w["cluster"])}</td><td class="v-{_e(w["verdict"])}">{_e(w["verdict"])}</td>'
                   f'<td class="num">{w["bad_pairs"]}</td><td class="num">{w["error"]}</td>'
                   f'<td class="num">{w["warning"]}</td></tr>')
    out.append("</table>")
    return out


def _paths(view: dict[str, Any], extra: dict[str, Any]) -> list[str]:
    if view["pairs"] is None:
        return _hosts_table(view)
    shape_of = extra["shape_of"]
    out = ['<section id="paths"><h2>Paths</h2>']
    for snap in view["snapshots"]:
        out.append(f"<h3>{_e(snap)}</h3>")
        out.append('<table class="paths"><tr>' + "".join(
            f"<th>{c}</th>" for c in ("host", "node", "endpoint", "in", "out", "uplinks", "bottleneck", "verdict")
        ) + "</tr>")
        for i, p in enumerate(view["pairs"]):
            if p["snapshot"] != snap:
                continue
            out.append(
                f'<tr class="path" data-host="{_e(p["host"])}" data-node="{_e(p["node"])}" data-shape="{shape_of[i]}">'
                f'<td><a href="#shape-{shape_of[i]}">{_e(p["host"])}</a></td><td>{_e(p["node"])}</td>'
                f'<td>{_e(cells.endpoint(p))}</td><td>{_e(p["ingress_vmk"] or "-")}</td>'
                f'<td>{_e(p["egress_vmk"] or "-")}</td><td>{_e(cells.uplinks(p))}</td>'
                f'<td class="num">{_e(cells.speed(p["bottleneck_mbps"]))}</td>{_verdict_cell(p)}</tr>'
            )
        out.append("</table>")
    out.append("</section>")
    return out


def _hosts_table(view: dict[str, Any]) -> list[str]:
    """A fleet's pairs, one row per host: its verdicts and the shapes its pairs take."""
    out = ['<section id="paths"><h2>Hosts</h2>',
           f'<p class="meta">{view["pair_count"]} pairs: one row per host; each shape links to its diagram.</p>',
           '<table class="hosts"><tr><th>host</th><th>cluster</th><th>verdicts</th><th>shapes</th></tr>']
    for h in cells.host_rows(view["hosts"]):
        verdicts = ", ".join(f'<span class="v-{_e(v)}">{_e(v)} {n}</span>' for v, n in h["verdicts"].items())
        links = " ".join(f'<a href="#shape-{k}">{k}</a>' for k in h["shapes"])
        out.append(f'<tr class="host-row" data-host="{_e(h["host"])}"><td>{_e(h["host"])}</td>'
                   f'<td>{_e(h["cluster"])}</td><td>{verdicts}</td><td>{links}</td></tr>')
    out.append("</table></section>")
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


def _finding_div(f: dict[str, Any], multi: bool, with_fix: bool) -> list[str]:
    severity = f["severity"]
    snap = f" ({_e(f['snapshot'])})" if multi else ""
    out = [f'<div class="finding sev-{_e(severity)}" data-rule="{_e(f["rule"])}" data-host="{_e(f["host"])}">',
           (f'<h4><span class="sev-label">{_e(severity)}</span> {_e(f["rule"])} <code>{_e(f["name"])}</code>: '
            f"{_e(cells.where(f))}{snap}</h4>"),
           f'<p class="message">{_e(f["message"])}</p>']
    if with_fix:
        out += _fix(f["fix"], f["host"])
    out.append("</div>")
    return out


def _findings(view: dict[str, Any]) -> list[str]:
    """Per severity, per rule: the explanation and fix summary once, then each finding; in a
    fleet only the first few carry their commands (``nbdpath plan --rule`` writes them all)."""
    out = ['<section id="findings"><h2>Findings</h2>']
    if not view["findings"]:
        out.append("<p>No findings.</p>")
    multi = len(view["snapshots"]) > 1
    full = len(view["findings"]) <= cells.FULL_FINDINGS
    for severity, group in cells.by_severity(view["findings"]):
        out.append(f'<h3 class="sev-heading" data-severity="{_e(severity)}">{_e(severity)} ({len(group)})</h3>')
        for rule, fs in cells.by_rule(group):
            first = fs[0]
            out += [f'<div class="rule-group" id="rule-{_e(rule)}" data-rule="{_e(rule)}" data-count="{len(fs)}">',
                    f'<h4>{_e(rule)} <code>{_e(first["name"])}</code>: {len(fs)} finding(s)</h4>',
                    f'<p class="explanation">{_e(first["explanation"])}</p>',
                    f'<p class="fix-summary"><b>Fix:</b> {_e(first["fix"]["summary"])}</p>']
            shown = fs if full else fs[:cells.FIX_EXAMPLES]
            for f in shown:
                out += _finding_div(f, multi, True)
            rest = fs[len(shown):]
            if rest:
                out.append(f'<p class="more">{len(rest)} more; every command: '
                           f'<code>nbdpath plan SNAPSHOT --rule {_e(rule)} --format esxcli</code></p>'
                           '<ul class="more-findings">')
                out += [f'<li data-host="{_e(f["host"])}">{_e(cells.where(f))}: {_e(f["message"])}</li>' for f in rest]
                out.append("</ul>")
            out.append("</div>")
    out.append("</section>")
    return out


def _shape_section(g: dict[str, Any], open_: bool) -> list[str]:
    """One shape: its diagram, who shares it, and its first pair hop by hop (folded)."""
    p = g["path"]
    e = p["endpoint"]
    hosts, nodes = g["hosts"], g["nodes"]
    out = [f'<article class="shape" id="shape-{g["id"]}" data-shape="{g["id"]}" data-pairs="{g["pairs"]}"'
           f' data-verdict="{_e(p["verdict"])}">',
           (f'<h3>Shape {g["id"]}: <span class="v-{_e(p["verdict"])}">{_e(p["verdict"])}</span>'
            f'{_DEGRADED if p["degraded"] else ""} ({_e(p["snapshot"])}): {g["pairs"]} pair(s), '
            f'{len(hosts)} host(s), {len(nodes)} node(s)</h3>'),
           f'<figure class="diagram-box">{svg.shape_svg(g["diagram"], g["id"])}</figure>',
           f'<p><b>verdict:</b> {_e(p["verdict_reason"])}</p>']
    out += [f'<p class="degraded">DEGRADED: {_e(d)}</p>' for d in p["degraded"]]
    out.append(f'<p class="members"><b>hosts:</b> {_e(_names(hosts))}<br><b>nodes:</b> {_e(_names(nodes))}</p>')
    out += [f'<details class="path-details" id="path-{g["first"]}"{" open" if open_ else ""}>',
            (f'<summary>hop by hop: {_e(p["host"])} -&gt; {_e(p["node"])} ({_e(p["snapshot"])}): '
             f'<span class="v-{_e(p["verdict"])}">{_e(p["verdict"])}</span>'
             f'{_DEGRADED if p["degraded"] else ""}</summary>'),
            f'<p><b>endpoint:</b> {_e(e["ip"] or "?")} on {_e(e["vmk"] or "-")}: {_e(e["reason"])}</p>']
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
        # IDs here, each text once in the glossary.
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
    out += ["</details>", "</article>"]
    return out


def _names(names: list[str]) -> str:
    """Every member of a shape, in a fleet too: the list is how an admin finds their host."""
    return ", ".join(names)


def _assumption_anchor(ident: str) -> str:
    return "assumption-" + "".join(c if c.isalnum() or c == "-" else "_" for c in ident)


def _glossary(view: dict[str, Any]) -> list[str]:
    """Every assumption any path relies on, in order of first use, with its text."""
    seen = view["assumptions"]
    if not seen:
        return []
    out = ['<section id="assumptions"><h2>Assumptions</h2><dl class="assumptions">']
    out += [f'<dt id="{_assumption_anchor(i)}">{_e(i)}</dt><dd>{_e(t)}</dd>' for i, t in seen.items()]
    out.append("</dl></section>")
    return out


def report_doc(doc: dict[str, Any], extra: dict[str, Any], title: str = "nbdpath report",
               open_details: bool = False) -> str:
    """The whole page: fleet summary, paths (per pair, or per host in a fleet), findings by rule,
    one diagram and hop-by-hop per path shape. ``extra``: ``Report.render_data()``."""
    return _page(cells.doc_view(doc, extra["clusters"], extra["shape_of"]), extra, title, open_details)


def _page(view: dict[str, Any], extra: dict[str, Any], title: str, open_details: bool) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}: {_e(', '.join(view['snapshots']))}</title>", f"<style>{_CSS}</style>",
           f"<script>{_PRINT_SCRIPT}</script></head><body>",
           f"<h1>{_e(title)}</h1>",
           (f'<p class="meta">snapshots: {_e(", ".join(view["snapshots"]) or "none")}; '
           f"nbdpath output version {_e(view['version'])}; {_e(cells.summary_line(view['summary']))}</p>")]
    out += _missing(view)
    out += _summary(view, extra)
    out += _paths(view, extra)
    out += _findings(view)
    out.append(f'<section id="shapes"><h2>Path diagrams ({len(extra["shapes"])} shapes)</h2>')
    for g in extra["shapes"]:
        out += _shape_section(g, open_details)
    out.append("</section>")
    out += _glossary(view)
    out += ["</body></html>", ""]
    # Control characters as escapes: the page is safe to cat, and valid HTML.
    return terminal("\n".join(out))


def report_html(report: Report, with_hops: bool = True) -> str:
    """The page; ``with_hops=False`` (``trace --no-hops``) leaves the steps out of the shapes' details.
    ``report_doc(report.to_dict(with_hops=False), report.render_data())``, from ``Report.view``."""
    extra = report.shape_data()
    if not with_hops:
        for g in extra["shapes"]:
            g["path"].pop("hops", None)
            g["path"].pop("control", None)
    return _page(report.view(extra["shape_of"]), extra, "nbdpath report", False)


def explain_html(snapshot: str, path: Path, findings: list[Finding], snap: Any = None) -> str:
    report = Report()
    report.add(snapshot, [path], findings, snap=snap)
    return report_doc(report.to_dict(with_hops=True), report.render_data(),
                      title=f"nbdpath explain {path.host} -> {path.node}", open_details=True)
