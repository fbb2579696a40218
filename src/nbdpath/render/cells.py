"""Plain-text cell values computed from the JSON contract (``Report.to_dict()``).

Markdown and HTML both render from the contract's dicts (``doc_view``, or ``Report.view``
which builds the same view from the Report at fleet size), never from Path or Finding
objects, so the formats cannot disagree. These helpers give the same words the terminal
table uses (``render/report.py``) for the same fields.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import groupby
from operator import itemgetter
from typing import Any

from ..model.snapshot import is_missing_host
from .report import _speed, uplink_cell

# Teaming policies that put one flow on ONE of the listed uplinks (A7): "a | b".
# The others (IP hash / LACP) spread flows over all of them: "a + b".

SEVERITIES = ("error", "warning", "info")
DIRECTION_TITLES = {
    "control": "vCenter",
    "forward": "request (node -> host, TCP 902)",
    "reply": "data (host -> node)",
    "verdict": "firewall",
}


def speed(mbps: int | None) -> str:
    return _speed(mbps)


def bottleneck(p: dict[str, Any]) -> str:
    """As the terminal table: nothing flows on an unreachable path, so no bottleneck."""
    return "-" if p["verdict"] == "UNREACHABLE" or not p["egress_uplinks"] else _speed(p["bottleneck_mbps"])


def legend(uplink_texts: Iterable[str]) -> str:
    from .report import _legend

    return _legend(uplink_texts).strip()


def endpoint(p: dict[str, Any]) -> str:
    e = p["endpoint"]
    return f"{e['ip'] or '?'} ({e['vmk'] or '-'})"


def uplinks(p: dict[str, Any]) -> str:
    return uplink_cell(((u["name"], u["role"], u["speed_mbps"]) for u in p["egress_uplinks"]), p["uplink_policy"])


def where(f: dict[str, Any]) -> str:
    """The host a finding is about, and the nodes it concerns."""
    return f["host"] + (f" -> {', '.join(f['nodes'])}" if f["nodes"] else "")


def by_severity(findings: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Findings grouped error, warning, info (input order kept inside a group); empty groups left out."""
    groups: dict[str, list[dict[str, Any]]] = {s: [] for s in SEVERITIES}
    for f in findings:
        groups[f["severity"]].append(f)
    return [(s, fs) for s, fs in groups.items() if fs]


def hop_groups(hops: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Consecutive hops of one direction under one title, as ``explain`` prints them."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for h in hops:
        title = DIRECTION_TITLES.get(h["direction"], h["direction"])
        if not out or out[-1][0] != title:
            out.append((title, []))
        out[-1][1].append(h)
    return out


def summary_line(summary: dict[str, Any]) -> str:
    verdicts = ", ".join(f"{k} {v}" for k, v in summary["verdicts"].items() if v)
    f = summary["findings"]
    line = (f"{summary['pairs']} pairs: {verdicts or 'none'}; degraded {summary['degraded']}; "
            f"findings: {f['error']} error, {f['warning']} warning, {f['info']} info")
    not_read = [f"{n} {what}" for n, what in ((summary.get("missing_hosts", 0), "host(s)"),
                                              (summary.get("missing_items", 0), "VM, datastore or tag item(s)")) if n]
    return line + (f"; PARTIAL: {' and '.join(not_read)} not read" if not_read else "")


# The reports list at most this many of a partial discovery's entries (all are in the JSON's `missing`).
MISSING_ROWS = 100


def missing_rows(view: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The entries of ``missing`` the reports list, hosts first, and how many more there are."""
    entries = sorted(view["missing"], key=lambda m: not is_missing_host(m["host"]))
    return entries[:MISSING_ROWS], max(0, len(entries) - MISSING_ROWS)


# Worst first: a failing backup before a working one on the wrong link.
VERDICT_RANK = {"UNREACHABLE": 0, "BROKEN_BY_FIREWALL": 1, "NOT_ISOLATED": 2, "ASYMMETRIC": 3, "ISOLATED": 4}
WORST_HOSTS = 10
# Above this many pairs the paths section has one row per host, not per pair (file size).
PAIR_ROWS = 2000
# Above this many findings each rule shows its first FIX_EXAMPLES findings' commands, the rest one line each.
FULL_FINDINGS = 200
FIX_EXAMPLES = 3


def doc_view(doc: dict[str, Any], clusters: list[str] | None = None,
             shape_of: list[int] | None = None) -> dict[str, Any]:
    """What the Markdown and HTML reports show, from the JSON contract (``Report.view`` builds
    the same from the Report, without 160,000 path dicts): the document's snapshots, version,
    summary and findings; its pairs (None above PAIR_ROWS: the reports then show hosts); one
    tally per host; every assumption any path relies on (id -> text, in order of first use).
    ``clusters`` / ``shape_of``: each path's (``Report.render_data()``)."""
    paths = doc["paths"]
    clusters = clusters if clusters is not None else ["-"] * len(paths)
    shape_of = shape_of if shape_of is not None else [0] * len(paths)
    assumptions: dict[str, str] = {}
    for p in paths:
        for a in p["assumptions"]:
            assumptions.setdefault(a["id"], a["text"])
    return {"snapshots": doc["snapshots"], "version": doc["version"], "summary": doc["summary"],
            "missing": doc["missing"],
            "findings": doc["findings"], "pairs": paths if len(paths) <= PAIR_ROWS else None,
            "pair_count": len(paths), "assumptions": assumptions,
            "hosts": host_tallies((p["snapshot"], p["host"], c, p["verdict"], k)
                                  for p, c, k in zip(paths, clusters, shape_of))}


def host_tallies(pairs: Iterable[tuple[str, str, str, str, int]]) -> list[dict[str, Any]]:
    """One tally per host, in order of first pair, from each pair's (snapshot, host, cluster,
    verdict, shape): its cluster, pairs per verdict, the shapes they take. The fleet summary and
    the hosts table count these, not the pairs."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    # A host's pairs come together: counted per run of them with C iterators (160,000 pairs at 10k hosts).
    for key, group in groupby(pairs, key=_HOST_OF):
        run = list(group)
        r = rows.get(key)
        if r is None:
            r = rows[key] = {"snapshot": key[0], "host": key[1], "cluster": run[0][2], "verdicts": {}, "shapes": {}}
        counts = r["verdicts"]
        for verdict, n in Counter(map(_VERDICT_OF, run)).items():
            counts[verdict] = counts.get(verdict, 0) + n
        r["shapes"].update(dict.fromkeys(map(_SHAPE_OF, run)))
    return list(rows.values())


_HOST_OF, _VERDICT_OF, _SHAPE_OF = itemgetter(0, 1), itemgetter(3), itemgetter(4)


def verdict_matrix(hosts: list[dict[str, Any]]) -> tuple[list[str], list[tuple[str, dict[str, int], int]]]:
    """Verdicts (worst first) and per cluster (in order of first pair): pairs per verdict, hosts."""
    verdicts = sorted(VERDICT_RANK, key=VERDICT_RANK.__getitem__)
    counts: dict[str, dict[str, int]] = {}
    hosts_in: dict[str, int] = {}
    for h in hosts:
        c = h["cluster"]
        row = counts.get(c)
        if row is None:
            row = counts[c] = dict.fromkeys(verdicts, 0)
            hosts_in[c] = 0
        for v, n in h["verdicts"].items():
            row[v] += n
        hosts_in[c] += 1
    return verdicts, [(c, row, hosts_in[c]) for c, row in counts.items()]


def by_rule(findings: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Findings grouped by rule, worst severity first, then rule ID."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault(f["rule"], []).append(f)
    return sorted(groups.items(), key=lambda kv: (SEVERITIES.index(kv[1][0]["severity"]), kv[0]))


def worst_hosts(hosts: list[dict[str, Any]], findings: list[dict[str, Any]],
                limit: int = WORST_HOSTS) -> list[dict[str, Any]]:
    """Hosts by worst verdict, then pairs not isolated, then error and warning findings."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for h in hosts:
        counts = h["verdicts"]
        rows[(h["snapshot"], h["host"])] = {
            "host": h["host"], "cluster": h["cluster"], "verdict": min(counts, key=VERDICT_RANK.__getitem__),
            "bad_pairs": sum(counts.values()) - counts.get("ISOLATED", 0), "error": 0, "warning": 0}
    for f in findings:
        row = rows.get((f["snapshot"], f["host"]))
        if row is not None and f["severity"] in ("error", "warning"):
            row[f["severity"]] += 1
    ranked = sorted(rows.values(), key=lambda h: (VERDICT_RANK[h["verdict"]], -h["bad_pairs"], -h["error"],
                                                  -h["warning"]))
    return [h for h in ranked if h["verdict"] != "ISOLATED" or h["error"] or h["warning"]][:limit]


def host_rows(hosts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per host: its cluster, pairs per verdict (worst first) and the shapes its pairs take."""
    return [{"host": h["host"], "cluster": h["cluster"],
             "verdicts": dict(sorted(h["verdicts"].items(), key=lambda kv: VERDICT_RANK[kv[0]])),
             "shapes": list(h["shapes"])} for h in hosts]
