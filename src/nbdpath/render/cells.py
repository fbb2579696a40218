"""Plain-text cell values computed from the JSON contract (``Report.to_dict()``).

Markdown and HTML both render from the contract dict, never from Path or
Finding objects, so the three formats cannot disagree. These helpers give the
same words the terminal table uses (``render/report.py``) for the same fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
    return (f"{summary['pairs']} pairs: {verdicts or 'none'}; degraded {summary['degraded']}; "
            f"findings: {f['error']} error, {f['warning']} warning, {f['info']} info")


# Worst first: a failing backup before a working one on the wrong link.
VERDICT_RANK = {"UNREACHABLE": 0, "BROKEN_BY_FIREWALL": 1, "NOT_ISOLATED": 2, "ASYMMETRIC": 3, "ISOLATED": 4}
WORST_HOSTS = 10
# Above this many pairs the paths section has one row per host, not per pair (file size).
PAIR_ROWS = 2000
# Above this many findings each rule shows its first FIX_EXAMPLES findings' commands, the rest one line each.
FULL_FINDINGS = 200
FIX_EXAMPLES = 3


def verdict_matrix(paths: list[dict[str, Any]], clusters: list[str]) -> tuple[list[str], list[tuple[str, dict[str, int], int]]]:
    """Verdicts (worst first) and per cluster (in order of first pair): pairs per verdict, hosts."""
    verdicts = sorted(VERDICT_RANK, key=VERDICT_RANK.__getitem__)
    counts: dict[str, dict[str, int]] = {}
    hosts: dict[str, set[tuple[str, str]]] = {}
    for p, c in zip(paths, clusters):
        row = counts.get(c)
        if row is None:
            row = counts[c] = dict.fromkeys(verdicts, 0)
            hosts[c] = set()
        row[p["verdict"]] += 1
        hosts[c].add((p["snapshot"], p["host"]))
    return verdicts, [(c, row, len(hosts[c])) for c, row in counts.items()]


def by_rule(findings: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Findings grouped by rule, worst severity first, then rule ID."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault(f["rule"], []).append(f)
    return sorted(groups.items(), key=lambda kv: (SEVERITIES.index(kv[1][0]["severity"]), kv[0]))


def worst_hosts(paths: list[dict[str, Any]], findings: list[dict[str, Any]], clusters: list[str],
                limit: int = WORST_HOSTS) -> list[dict[str, Any]]:
    """Hosts by worst verdict, then pairs not isolated, then error and warning findings."""
    hosts: dict[tuple[str, str], dict[str, Any]] = {}
    for p, c in zip(paths, clusters):
        h = hosts.get((p["snapshot"], p["host"]))
        if h is None:
            h = hosts[(p["snapshot"], p["host"])] = {"host": p["host"], "cluster": c, "verdict": p["verdict"],
                                                    "bad_pairs": 0, "error": 0, "warning": 0}
        if VERDICT_RANK[p["verdict"]] < VERDICT_RANK[h["verdict"]]:
            h["verdict"] = p["verdict"]
        h["bad_pairs"] += p["verdict"] != "ISOLATED"
    for f in findings:
        h = hosts.get((f["snapshot"], f["host"]))
        if h is not None and f["severity"] in ("error", "warning"):
            h[f["severity"]] += 1
    ranked = sorted(hosts.values(), key=lambda h: (VERDICT_RANK[h["verdict"]], -h["bad_pairs"], -h["error"],
                                                   -h["warning"]))
    return [h for h in ranked if h["verdict"] != "ISOLATED" or h["error"] or h["warning"]][:limit]


def host_rows(paths: list[dict[str, Any]], clusters: list[str], shape_of: list[int]) -> list[dict[str, Any]]:
    """One row per host: its cluster, pairs per verdict (worst first) and the shapes its pairs take."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for p, c, k in zip(paths, clusters, shape_of):
        r = rows.get((p["snapshot"], p["host"]))
        if r is None:
            r = rows[(p["snapshot"], p["host"])] = {"host": p["host"], "cluster": c, "verdicts": {}, "shapes": {}}
        r["verdicts"][p["verdict"]] = r["verdicts"].get(p["verdict"], 0) + 1
        r["shapes"][k] = None
    for r in rows.values():
        r["verdicts"] = dict(sorted(r["verdicts"].items(), key=lambda kv: VERDICT_RANK[kv[0]]))
        r["shapes"] = list(r["shapes"])
    return list(rows.values())
