"""The estimate document (``nbdpath estimate``) as a terminal table, Markdown or HTML.

Every renderer reads the JSON-shaped document, so what a table shows is what
the versioned contract says. Names come from snapshots: escaped for each target.
"""

from __future__ import annotations

import html
from typing import Any

from ..safetext import terminal
from . import markdown as md

_TOP_HOSTS = 10


def duration(seconds: float) -> str:
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


def size(nbytes: float) -> str:
    gib = nbytes / (1 << 30)
    return f"{gib / 1024:.2f} TiB" if gib >= 1024 else f"{gib:.1f} GiB"


def _bound(b: dict[str, Any] | None) -> str:
    return "-" if not b else f"{b['kind']}: {b['where']} ({b['mbps']:g} Mb/s)"


def table(doc: dict[str, Any]) -> str:
    if not doc["jobs"]:
        return "no jobs in the snapshot: nothing to estimate (see docs/estimate.md for the jobs section)\n"
    lines = []
    for j in doc["jobs"]:
        lines.append(f"{j['name']}  [{j.get('snapshot', '')}]  {j['product']} {j['transport']} {j['mode']}")
        lines.append(f"  window {duration(j['duration_s'])} ({j['duration_s']:g} s), {size(j['bytes'])} in "
                     f"{j['disks']} disk(s), bound by {_bound(j['bottleneck'])}")
        if j["vms"]:
            lines.append(f"  critical VMs: {', '.join(j['vms'][:8])}" + (" ..." if len(j["vms"]) > 8 else ""))
        for h in j["hosts"][:_TOP_HOSTS]:
            lines.append(f"    host {h['name']}: {duration(h['duration_s'])}, {size(h['bytes'])}, {_bound(h['bottleneck'])}")
        if len(j["hosts"]) > _TOP_HOSTS:
            lines.append(f"    ... {len(j['hosts']) - _TOP_HOSTS} more host(s)")
        for n in j["nodes"]:
            lines.append(f"    node {n['name']}: {duration(n['duration_s'])}, {size(n['bytes'])}, {_bound(n['bottleneck'])}")
        for w in j.get("warnings", ()):
            lines.append(f"  WARNING: {w}")
        for u in j["unreadable"][:5]:
            lines.append(f"  UNREADABLE {u['vm']}: {u['reason']}")
        if len(j["unreadable"]) > 5:
            lines.append(f"  ... {len(j['unreadable']) - 5} more unreadable VM(s)")
    changed = [a for a in doc["assumptions"] if a["overridden"]]
    if changed:
        lines.append("overridden: " + ", ".join(f"{a['name']}={a['value']:g}" for a in changed))
    lines.append("model: docs/estimate.md (fluid sharing; constants with --set NAME=VALUE)")
    return terminal("\n".join(lines) + "\n")


def markdown(doc: dict[str, Any]) -> str:
    out = ["# nbdpath estimate", ""]
    if not doc["jobs"]:
        out += ["No jobs in the snapshot: nothing to estimate.", ""]
    rows = [[md.text(j["name"]), md.text(duration(j["duration_s"])), md.text(size(j["bytes"])), str(j["disks"]),
             md.text(_bound(j["bottleneck"])), md.text(", ".join(j["vms"][:5]) + (" ..." if len(j["vms"]) > 5 else ""))]
            for j in doc["jobs"]]
    if rows:
        out += md.table(["job", "window", "bytes", "disks", "bound by", "critical VMs"], rows) + [""]
    for j in doc["jobs"]:
        out += [f"## {md.text(j['name'])}", "",
                f"{md.text(j['product'])}, {md.text(j['transport'])}, {md.text(j['mode'])}: "
                f"**{md.text(duration(j['duration_s']))}**, bound by {md.text(_bound(j['bottleneck']))}.", ""]
        lim = [[md.text(x["kind"]), md.text(x["where"]), f"{x['mbps']:g}", md.text(duration(x["seconds"]))]
               for x in j["limits"]]
        if lim:
            out += md.table(["limit", "where", "Mb/s", "needs"], lim) + [""]
        hosts = [[md.text(h["name"]), md.text(duration(h["duration_s"])), md.text(size(h["bytes"])),
                  md.text(_bound(h["bottleneck"]))] for h in j["hosts"][:_TOP_HOSTS]]
        if hosts:
            out += md.table(["host", "needs", "bytes", "bound by"], hosts) + [""]
        for w in j.get("warnings", ()):
            out.append(f"- **warning**: {md.text(w)}")
        for u in j["unreadable"]:
            out.append(f"- unreadable {md.text(u['vm'])}: {md.text(u['reason'])}")
        if j["unreadable"]:
            out.append("")
    out += ["## Constants", ""]
    out += md.table(["name", "value", "unit", "source"],
                    [[md.code(a["name"], True), f"{a['value']:g}" + (" (set)" if a["overridden"] else ""),
                      md.text(a["unit"]), md.text(a["source"])] for a in doc["assumptions"]])
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
.bar{background:#eee;width:100%;max-width:60em;height:1.4em;position:relative;margin:.2em 0}
.fill{height:100%;position:absolute;left:0;top:0}
.bar span{position:absolute;left:.4em;top:.1em;font-size:.85em;white-space:nowrap}
.disk{background:#9ecae1}.host-streams{background:#fdae6b}.node-streams{background:#fdd0a2}
.uplink{background:#fc9272}.node-nic{background:#a1d99b}.router{background:#bcbddc}
"""


def _bar(seconds: float, longest: float, kind: str, label: str) -> str:
    pct = 100.0 * seconds / longest if longest > 0 else 0.0
    return (f'<div class="bar"><div class="fill {html.escape(kind, quote=True)}" style="width:{pct:.1f}%"></div>'
            f"<span>{html.escape(label)}</span></div>")


def page(doc: dict[str, Any]) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', "<title>nbdpath estimate</title>",
           f"<style>{_CSS}</style></head><body>", "<h1>nbdpath estimate</h1>"]
    if not doc["jobs"]:
        out.append("<p>No jobs in the snapshot: nothing to estimate.</p>")
    longest = max((j["duration_s"] for j in doc["jobs"]), default=0.0)
    if doc["jobs"]:
        out.append("<h2>Windows</h2>")
    for j in doc["jobs"]:
        b = j["bottleneck"] or {"kind": "none", "where": "-", "mbps": 0}
        out.append(f"<p><b>{e(j['name'])}</b>: {e(duration(j['duration_s']))}, bound by {e(_bound(j['bottleneck']))}</p>")
        out.append(_bar(j["duration_s"], longest, b["kind"], f"{duration(j['duration_s'])} - {b['kind']}: {b['where']}"))
    for j in doc["jobs"]:
        out.append(f"<h2>{e(j['name'])}</h2>")
        out.append(f"<p>{e(j['product'])}, {e(j['transport'])}, {e(j['mode'])}; {e(size(j['bytes']))} in "
                   f"{j['disks']} disk(s). Each bar: how long one limit needs for the bytes through it; the longest "
                   "sets the window.</p>")
        top = j["limits"][0]["seconds"] if j["limits"] else 0.0
        for x in j["limits"]:
            out.append(_bar(x["seconds"], top, x["kind"],
                            f"{duration(x['seconds'])} - {x['kind']}: {x['where']} ({x['mbps']:g} Mb/s)"))
        if j["vms"]:
            out.append(f"<p>Critical VMs: {e(', '.join(j['vms']))}</p>")
        if j["hosts"]:
            out.append("<table><tr><th>host</th><th>needs</th><th>bytes</th><th>bound by</th></tr>")
            for h in j["hosts"][:_TOP_HOSTS]:
                out.append(f"<tr><td>{e(h['name'])}</td><td>{e(duration(h['duration_s']))}</td>"
                           f"<td>{e(size(h['bytes']))}</td><td>{e(_bound(h['bottleneck']))}</td></tr>")
            out.append("</table>")
        for w in j.get("warnings", ()):
            out.append(f"<p><b>Warning:</b> {e(w)}</p>")
        for u in j["unreadable"]:
            out.append(f"<p>Unreadable {e(u['vm'])}: {e(u['reason'])}</p>")
    out.append("<h2>Constants</h2><table><tr><th>name</th><th>value</th><th>unit</th><th>source</th></tr>")
    for a in doc["assumptions"]:
        out.append(f"<tr><td><code>{e(a['name'])}</code></td><td>{a['value']:g}{' (set)' if a['overridden'] else ''}"
                   f"</td><td>{e(a['unit'])}</td><td>{e(a['source'])}</td></tr>")
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def vm_table(rows: list[dict[str, Any]]) -> str:
    """``trace --vm``: one line per VM and job, the worst candidate's path, and every candidate when they disagree."""
    lines = []
    for r in rows:
        w = r["worst"]
        job = f" (job {r['job']})" if r["job"] else ""
        head = f"{r['vm']}{job}: {r['served_by']}, candidates {', '.join(r['candidates']) or 'none'}"
        if r["disagree"]:
            head += "  CANDIDATES DISAGREE"
        lines.append(head)
        lines.append(f"  {r['reason']}")
        if w is None:
            continue
        lines.append(f"  worst: {w['host']} -> {w['node']}: {w['verdict']} via {w['egress_vmk'] or '-'} "
                     f"{'+'.join(w['egress_uplinks']) or '-'} ({w['bottleneck_mbps'] or '?'} Mb/s)"
                     + (f": {w['verdict_reason']}" if w.get("verdict_reason") else ""))
        if r["disagree"]:
            for p in r["paths"]:
                lines.append(f"    {p['host']} -> {p['node']}: {p['verdict']} via {p['egress_vmk'] or '-'} "
                             f"({p['bottleneck_mbps'] or '?'} Mb/s)")
    return terminal("\n".join(lines) + "\n") if lines else ""


def _change(w: dict[str, Any]) -> str:
    if w["after_s"] is None:
        return f"{duration(w['before_s'])} -> (job gone)"
    return f"{duration(w['before_s'])} -> {duration(w['after_s'])}"


def windows_text(windows: list[dict[str, Any]]) -> str:
    """``plan``: each job's window before and after."""
    if not windows:
        return ""
    lines = ["job windows (nbdpath estimate, before -> after the plan):"]
    for w in windows:
        lines.append(f"  {w['job']}: {_change(w)}; bound by {_bound(w['before_bottleneck'])} -> {_bound(w['after_bottleneck'])}")
    return terminal("\n".join(lines) + "\n")


def windows_markdown(windows: list[dict[str, Any]]) -> str:
    if not windows:
        return ""
    rows = [[md.text(w["job"]), md.text(duration(w["before_s"])),
             md.text("-" if w["after_s"] is None else duration(w["after_s"])),
             md.text(_bound(w["before_bottleneck"])), md.text(_bound(w["after_bottleneck"]))] for w in windows]
    return "\n".join(["", "## Job windows", "", *md.table(["job", "before", "after", "bound before", "bound after"], rows)]) + "\n"
