"""Markdown for tickets: GitHub tables and fenced fix scripts.

Pure functions from the JSON contract (``Report.to_dict()``, ``Plan.to_dict()``; a fleet's
reports from ``Report.view``, the same content without a dict per pair) to text, so
Markdown says exactly what ``--format json`` says. Every value
from a snapshot is escaped: a name holding ``|`` cannot break a table row,
one holding ``<script>`` or ``*`` cannot become markup, and control characters
are written as escapes (``\\x1b``) so the file is safe to ``cat``.
"""

from __future__ import annotations

import json

import re
from collections.abc import Iterable
from typing import Any

from ..engine.types import Path
from ..rules import Finding
from ..safetext import terminal
from . import cells
from .report import Report

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones
# that can start markup inline or, for "|", end a GitHub table cell. ">" is
# left alone: it only quotes at a line start, and "host -> node" stays readable.
_SPECIAL = re.compile(r"([\\`*\[\]<&|~])")
# "_" only makes emphasis at a word edge; inside names (vmk_data) it stays readable.
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BACKTICKS = re.compile(r"`+")
_ANY_SPECIAL = re.compile(r"[\\`*\[\]<&|~_]")
_SEVERITY_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Info"}


def text(value: Any) -> str:
    """Inline text from a snapshot or finding: escaped, on one line."""
    s = " ".join(str(value).split())
    if _ANY_SPECIAL.search(s) is None:  # most texts: one scan instead of two substitutions (41,000 at 10k hosts)
        return s
    return _EDGE_UNDERSCORE.sub(r"\\_", _SPECIAL.sub(r"\\\1", s))


def code(value: Any, in_table: bool = False) -> str:
    """An inline code span; its fence is longer than any backtick run inside."""
    s = " ".join(str(value).split())
    ticks = "`" * (max((len(m) for m in _BACKTICKS.findall(s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    span = f"{ticks}{pad}{s}{pad}{ticks}"
    # GitHub splits table rows on "|" before it reads code spans: escape it there too.
    return span.replace("|", "\\|") if in_table else span


def fence(lines: Iterable[str], lang: str) -> list[str]:
    """A fenced block; PowerCLI's backtick escapes cannot close it early."""
    body = list(lines)
    longest = max((len(m) for line in body for m in _BACKTICKS.findall(line)), default=0)
    marker = "`" * max(3, longest + 1)
    return [f"{marker}{lang}", *body, marker]


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    """A GitHub table; cells must already be escaped (``text`` / ``code(in_table=True)``)."""
    head = list(header)
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _verdict(p: dict[str, Any]) -> str:
    return (code(p["verdict"], in_table=True) + ("?" if not p.get("robust", True) else "")
            + (" **DEGRADED**" if p["degraded"] else ""))


def _alternative(a: dict[str, Any]) -> str:
    said = ", ".join(f"{k} {v}" for k, v in a.items() if k not in ("assumption", "if_not"))
    return f"- if not **{text(a['assumption'])}** ({text(a['if_not'])}): {text(said)}"


def _summary(view: dict[str, Any]) -> list[str]:
    return [(f"**snapshots:** {', '.join(text(s) for s in view['snapshots']) or 'none'} "
            f"(nbdpath output version {view['version']})"), "",
            f"**summary:** {text(cells.summary_line(view['summary']))}", "", *_missing(view)]


def _missing(view: dict[str, Any]) -> list[str]:
    """A partial discovery's entries: hosts not traced (their pairs are absent from every table)."""
    rows, more = cells.missing_rows(view)
    if not rows:
        return []
    multi = len(view["snapshots"]) > 1
    out = ["## Not read (partial discovery)", "",
           "These hosts are not traced, and these VMs, datastores or tags are left out of estimates:", ""]
    out += table(("snapshot", "not read", "why") if multi else ("not read", "why"),
                 (([text(m["snapshot"])] if multi else []) + [text(m["host"]), text(m["reason"])] for m in rows))
    if more:
        out += ["", f"... and {more} more (all in the JSON's `missing`)."]
    return out + [""]


def _fleet(view: dict[str, Any]) -> list[str]:
    """The fleet summary the HTML report opens with: verdicts by cluster, findings by rule, worst hosts."""
    verdicts, rows = cells.verdict_matrix(view["hosts"])
    out = ["## Verdicts by cluster", ""]
    out += table(["cluster", *verdicts, "hosts"],
                 ([text(c), *(str(counts[v]) for v in verdicts), str(n)] for c, counts, n in rows))
    groups = cells.by_rule(view["findings"])
    if groups:
        out += ["", "## Findings by rule", ""]
        out += table(("rule", "severity", "findings", "hosts", "fix"), (
            [f"{text(r)} {code(fs[0]['name'], in_table=True)}", text(fs[0]["severity"]), str(len(fs)),
             str(len({(f["snapshot"], f["host"]) for f in fs})), text(fs[0]["fix"]["summary"])] for r, fs in groups))
    worst = cells.worst_hosts(view["hosts"], view["findings"])
    if worst:
        out += ["", "## Worst hosts", ""]
        out += table(("host", "cluster", "worst verdict", "pairs not isolated", "errors", "warnings"), (
            [text(w["host"]), text(w["cluster"]), code(w["verdict"], in_table=True), str(w["bad_pairs"]),
             str(w["error"]), str(w["warning"])] for w in worst))
    return out + [""]


def paths_doc(doc: dict[str, Any], clusters: list[str] | None = None) -> str:
    """The paths of every snapshot as GitHub tables (one row per host in a fleet), with the reasons
    for DEGRADED; ``clusters``: each path's cluster (``Report.render_data()``)."""
    return _paths_text(cells.doc_view(doc, clusters))


def _paths_text(view: dict[str, Any]) -> str:
    out = ["# nbdpath: NBD paths", "", *_summary(view), *_fleet(view)]
    if view["pairs"] is None:
        return terminal("\n".join(out + _hosts(view)))
    for snap in view["snapshots"]:
        paths = [p for p in view["pairs"] if p["snapshot"] == snap]
        out += [f"## Paths: {text(snap)}", ""]
        out += table(
            ("host", "node", "endpoint", "in", "out", "uplinks", "bottleneck", "verdict"),
            ([text(p["host"]), text(p["node"]), text(cells.endpoint(p)), text(p["ingress_vmk"] or "-"),
              text(p["egress_vmk"] or "-"), text(cells.uplinks(p)), text(cells.bottleneck(p)),
              _verdict(p)] for p in paths),
        )
        key = cells.legend(cells.uplinks(p) for p in paths)
        if key:
            out += ["", text(key)]
        degraded = [p for p in paths if p["degraded"]]
        if degraded:
            out += ["", "DEGRADED:", ""]
            out += [f"- {text(p['host'])} -> {text(p['node'])}: {text('; '.join(p['degraded']))}" for p in degraded]
        out.append("")
    return terminal("\n".join(out))


def _hosts(view: dict[str, Any]) -> list[str]:
    out = ["## Hosts", "", f"{view['pair_count']} pairs, one row per host.", ""]
    out += table(("host", "cluster", "verdicts"), (
        [text(r["host"]), text(r["cluster"]), text(", ".join(f"{v} {n}" for v, n in r["verdicts"].items()))]
        for r in cells.host_rows(view["hosts"])))
    return out + [""]


def _finding(f: dict[str, Any], multi: bool) -> list[str]:
    snap = f" ({text(f['snapshot'])})" if multi else ""
    out = [f"#### {text(f['rule'])} {code(f['name'])}: {text(cells.where(f))}{snap}", "", text(f["message"]), "",
           f"**Fix:** {text(f['fix']['summary'])}", ""]
    fix = f["fix"]
    if fix["esxcli"]:
        out += [f"esxcli, on {text(f['host'])}:", "", *fence(fix["esxcli"], "sh"), ""]
    if fix["powercli"]:
        out += ["PowerCLI:", "", *fence(fix["powercli"], "powershell"), ""]
    if fix["manual"]:
        out += [f"- {text(step)}" for step in fix["manual"]] + [""]
    return out


def _findings(findings: list[dict[str, Any]], multi: bool, level: str = "##") -> list[str]:
    if not findings:
        return [f"{level} Findings", "", "No findings.", ""]
    out = [f"{level} Findings", ""]
    full = len(findings) <= cells.FULL_FINDINGS
    for severity, group in cells.by_severity(findings):
        out += [f"{level}# {_SEVERITY_TITLES[severity]} ({len(group)})", ""]
        for rule, fs in cells.by_rule(group):
            shown = fs if full else fs[:cells.FIX_EXAMPLES]
            for f in shown:
                out += _finding(f, multi)
            rest = fs[len(shown):]
            if rest:
                out += [f"{len(rest)} more {text(rule)} findings; every command: "
                        f"{code(f'nbdpath plan SNAPSHOT --rule {rule} --format esxcli')}", ""]
                out += [f"- {text(cells.where(f))}: {text(f['message'])}" for f in rest] + [""]
    return out


def findings_doc(doc: dict[str, Any], clusters: list[str] | None = None) -> str:
    """The fleet summary, then every finding, grouped error / warning / info and by rule, each with
    its fix as sh and powershell blocks (in a fleet the first few of a rule; the rest one line each)."""
    return _findings_text(cells.doc_view(doc, clusters))


def _findings_text(view: dict[str, Any]) -> str:
    out = ["# nbdpath: NBD findings", "", *_summary(view), *_fleet(view)]
    out += _findings(view["findings"], len(view["snapshots"]) > 1)
    return terminal("\n".join(out))


def explain_doc(doc: dict[str, Any]) -> str:
    """One pair of a one-path contract dict: hops with every step's reason, assumptions, findings."""
    [p] = doc["paths"]
    e = p["endpoint"]
    out = [f"# {text(p['host'])} -> {text(p['node'])} ({text(p['snapshot'])})", "",
           f"- **verdict:** {code(p['verdict'])}{' **DEGRADED**' if p['degraded'] else ''}: {text(p['verdict_reason'])}",
           f"- **endpoint:** {text(e['ip'] or '?')} on {text(e['vmk'] or '-')}: {text(e['reason'])}",
           (f"- **in:** {text(p['ingress_vmk'] or '-')}, **out:** {text(p['egress_vmk'] or '-')}, "
           f"**uplinks:** {text(cells.uplinks(p))}, **bottleneck:** {text(cells.speed(p['bottleneck_mbps']))}")]
    out += [f"- **degraded:** {text(d)}" for d in p["degraded"]]
    out += ["", "## Hops", ""]
    for title, hops in cells.hop_groups(p.get("hops", [])):
        out += [f"### {text(title)}", ""]
        out += table(("device", "step", "detail", "ok"),
                     ([text(h["device"]), text(s["kind"]), text(s["detail"]), "yes" if s["ok"] else "**FAIL**"]
                      for h in hops for s in h["steps"]))
        out.append("")
    out += ["## Assumptions", ""]
    out += [f"- **{text(a['id'])}**: {text(a['text'])}" for a in p["assumptions"]] or ["None."]
    out.append("")
    if p.get("control"):
        out += ["## Control path (beside the data; isolating NBD does not move it)", ""]
        out += table(["flow", "from", "to", "reachable", "via", "why"], (
            [text(c["flow"]), text(c["src"]), text(f"{c['dst'] or '?'}:{c['port']}"),
             {True: "yes", False: "**NO**", None: "unknown"}[c["reachable"]], text(c["via"] or "-"), text(c["reason"])]
            for c in p["control"]))
        out.append("")
    if p.get("alternatives"):
        out += ["## If an assumption does not hold", ""]
        out += [_alternative(a) for a in p["alternatives"]]
        out.append("")
    out += _findings(doc["findings"], False)
    return terminal("\n".join(out))


def plan_doc(plan: dict[str, Any]) -> str:
    """``Plan.to_dict()``: per host the changes, their esxcli / PowerCLI and rollback; then the what-if."""
    return _plan_lines(plan["steps"], [_change_row(c) for c in plan["path_changes"]], plan["resolved"],
                       plan["introduced"])


def plan_markdown(plan: Any) -> str:
    """``plan_doc(plan.to_dict())`` from the Plan itself: only the two formats shown are rendered (the
    whole document renders four and their rollbacks: 18 s and 544 MiB at 10,000 hosts), and above
    PAIR_ROWS path changes the what-if table has one row per distinct change, counted."""
    steps = list(plan.step_dicts(("esxcli", "powercli")))
    grouped = len(plan.path_changes) > cells.PAIR_ROWS
    rows = _grouped_changes(plan.path_changes) if grouped else [_change_row(c.to_dict()) for c in plan.path_changes]
    tail = plan.tail()
    return _plan_lines(steps, rows, tail["resolved"], tail["introduced"], grouped)


# A plan's Markdown made in parts of the hosts (commands/whatif.py): each part's sections (its
# hosts' steps, its findings resolved and introduced) and facts (counts, its path changes'
# groups), joined in document order by plan_markdown_joined.
MARKDOWN_SECTIONS = ("steps", "resolved", "introduced")


def plan_markdown_part(plan: Any, first: int = 1) -> tuple[dict[str, str], dict[str, Any]]:
    """The sections of :data:`MARKDOWN_SECTIONS` of ``plan`` (a part of the hosts' plan), its steps
    numbered from ``first``, and the facts the joined document needs of it (JSON data)."""
    steps = list(plan.step_dicts(("esxcli", "powercli")))
    tail = plan.tail()
    groups = [[json.dumps(key, default=str), row, pairs, hosts] for key, row, pairs, hosts in _groups(plan.path_changes)]
    facts = {"steps": len(steps), "paths": len(plan.path_changes), "resolved": len(tail["resolved"]),
             "introduced": len(tail["introduced"]), "groups": groups,
             # Every change's row only while the whole could still be listed pair by pair.
             "rows": [_change_row(c.to_dict()) for c in plan.path_changes] if len(plan.path_changes) <= cells.PAIR_ROWS
             else None}
    sections = {"steps": _steps_md(steps, first), "resolved": _resolved_md(tail["resolved"]),
                "introduced": _introduced_md(tail["introduced"])}
    return {k: terminal(v) for k, v in sections.items()}, facts


def plan_markdown_joined(fh: Any, facts: list[dict[str, Any]], parts: Iterable[Any]) -> None:
    """:func:`plan_markdown` of a plan made in ``parts`` (``part.copy(name, fh)``: io.Sections),
    in host order, with their ``facts`` (:func:`plan_markdown_part`)."""
    parts = list(parts)
    count = {k: sum(f[k] for f in facts) for k in ("steps", "paths", "resolved", "introduced")}
    if not count["steps"]:
        fh.write(_NOTHING)
        return
    fh.write(_head_md(count["steps"]))
    for part in parts:
        part.copy("steps", fh)
    grouped = count["paths"] > cells.PAIR_ROWS
    if grouped:
        merged: dict[str, list[Any]] = {}
        for f in facts:  # the parts' hosts are apart: their counts add up
            for key, row, pairs, hosts in f["groups"]:
                hit = merged.get(key)
                if hit is None:
                    merged[key] = [row, pairs, hosts]
                else:
                    hit[1] += pairs
                    hit[2] += hosts
        rows = [_group_row(row, pairs, hosts) for row, pairs, hosts in merged.values()]
    else:
        rows = [row for f in facts for row in f["rows"]]
    fh.write(terminal(_paths_md(rows, grouped)) + _findings_head_md(count["resolved"], count["introduced"]))
    for name in ("resolved", "introduced"):
        for part in parts:
            part.copy(name, fh)


def _change_row(c: dict[str, Any]) -> list[str]:
    return [text(c["host"]), text(c["node"]), text(c["status"]), text(c["verdict_before"] or "-"),
            text(c["verdict_after"] or "-"),
            text("; ".join(f"{x['field']}: {x['before']} -> {x['after']}" for x in c["changes"]
                           if x["field"] != "verdict") or "-")]


def _groups(changes: Iterable[Any]) -> list[tuple[tuple, list[str], int, int]]:
    """The distinct (status, verdicts, field changes) of ``changes`` in order: each with its first
    change's row, its pairs and its hosts."""
    groups: dict[tuple, list[Any]] = {}
    for c in changes:
        key = (c.status, c.verdict_before, c.verdict_after, c.changes)
        hit = groups.get(key)
        if hit is None:
            groups[key] = [c, 1, {c.host}]
        else:
            hit[1] += 1
            hit[2].add(c.host)
    return [(key, _change_row(first.to_dict()), pairs, len(hosts)) for key, (first, pairs, hosts) in groups.items()]


def _group_row(row: list[str], pairs: int, hosts: int) -> list[str]:
    row = list(row)
    more = hosts - 1
    row[0] += f" and {more:,} more host{'s' if more > 1 else ''}" if more else ""
    row[1] += f" ({pairs:,} pairs)" if pairs > 1 else ""
    return row


def _grouped_changes(changes: Iterable[Any]) -> list[list[str]]:
    """One row per distinct (status, verdicts, field changes): a fleet's 100,000 path changes are a
    few shapes; the hosts column counts them and names the first."""
    return [_group_row(row, pairs, hosts) for _, row, pairs, hosts in _groups(changes)]


_NOTHING = "# nbdpath plan\n\nNothing to change: no finding at this severity proposes a host change.\n"


def _plan_lines(steps: list[dict[str, Any]], change_rows: list[list[str]], resolved: list[dict[str, Any]],
                introduced: list[dict[str, Any]], grouped: bool = False) -> str:
    if not steps:
        return _NOTHING
    return terminal(_head_md(len(steps)) + _steps_md(steps, 1) + _paths_md(change_rows, grouped)
                    + _findings_head_md(len(resolved), len(introduced)) + _resolved_md(resolved)
                    + _introduced_md(introduced))


def _head_md(steps: int) -> str:
    return f"# nbdpath plan: {steps} change(s)\n\n"


def _steps_md(steps: list[dict[str, Any]], first: int) -> str:
    out: list[str] = []
    hosts: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for i, s in enumerate(steps, first):
        hosts.setdefault(s["host"], []).append((i, s))
    for host, numbered in hosts.items():
        out += [f"## {text(host)}", ""]
        out += table(("#", "change", "rules"),
                     ([str(i), text(s["change"]), text(", ".join(s["rules"]))] for i, s in numbered))
        out += ["", f"esxcli, on {text(host)}:", "", *fence([s["esxcli"] for _, s in numbered], "sh"), ""]
        out += ["PowerCLI:", "", *fence([s["powercli"] for _, s in numbered], "powershell"), ""]
        # Undo in reverse order; a step with no automatic rollback says so where it would stand.
        undo = [c for i, s in reversed(numbered)
                for c in (s["rollback"]["esxcli"] or [f"# step {i}: no automatic rollback (recreate by hand)"])]
        out += ["Rollback (esxcli):", "", *fence(undo, "sh"), ""]
    return "".join(line + "\n" for line in out)


def _paths_md(change_rows: list[list[str]], grouped: bool) -> str:
    out = ["## What the plan does to the paths", ""]
    if grouped:
        out += ["One row per distinct change (a fleet's path changes repeat per cluster); the JSON lists every pair.", ""]
    if change_rows:
        out += table(("host", "node", "status", "verdict before", "verdict after", "changes"), change_rows)
    else:
        out.append("No path changes.")
    return "".join(line + "\n" for line in out) + "\n"


def _findings_head_md(resolved: int, introduced: int) -> str:
    return f"## Findings: {resolved} resolved, {introduced} introduced\n\n"


def _resolved_md(resolved: list[dict[str, Any]]) -> str:
    return "".join(f"- resolved {text(f['rule'])} {text(f['host'])}: {text(f['message'])}\n" for f in resolved)


def _introduced_md(introduced: list[dict[str, Any]]) -> str:
    return "".join(f"- **NEW** {text(f['rule'])} {text(f['host'])}: {text(f['message'])}\n" for f in introduced)


def paths_markdown(report: Report) -> str:
    """``paths_doc(report.to_dict(with_hops=False), report.clusters())``, from ``Report.view``."""
    return _paths_text(report.view())


def findings_markdown(report: Report) -> str:
    """``findings_doc(report.to_dict(with_hops=False), report.clusters())``, from ``Report.view``."""
    return _findings_text(report.view())


def explain_markdown(snapshot: str, path: Path, findings: list[Finding]) -> str:
    report = Report()
    report.add(snapshot, [path], findings)
    return explain_doc(report.to_dict(with_hops=True))
