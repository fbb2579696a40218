"""Plain-text cell values computed from the JSON contract (``Report.to_dict()``).

Markdown and HTML both render from the contract dict, never from Path or
Finding objects, so the three formats cannot disagree. These helpers give the
same words the terminal table uses (``render/report.py``) for the same fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .report import _speed

# Teaming policies that put one flow on ONE of the listed uplinks (A7): "a | b".
# The others (IP hash / LACP) spread flows over all of them: "a + b".
_ONE_OF = frozenset({"loadbalance_srcid", "loadbalance_srcmac", "loadbalance_loadbased"})

SEVERITIES = ("error", "warning", "info")
DIRECTION_TITLES = {
    "control": "vCenter",
    "forward": "request (node -> host, TCP 902)",
    "reply": "data (host -> node)",
    "verdict": "firewall",
}


def speed(mbps: int | None) -> str:
    return _speed(mbps)


def endpoint(p: dict[str, Any]) -> str:
    e = p["endpoint"]
    return f"{e['ip'] or '?'} ({e['vmk'] or '-'})"


def uplinks(p: dict[str, Any]) -> str:
    ups = p["egress_uplinks"]
    if not ups:
        return "-"
    sep = " | " if p["uplink_policy"] in _ONE_OF else " + "
    return sep.join(f"{u['name']}{'' if u['role'] == 'active' else '(' + u['role'] + ')'} {speed(u['speed_mbps'])}"
                    for u in ups)


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
