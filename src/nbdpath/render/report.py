"""The versioned JSON contract and its text renderings.

JSON: one object ``{"version", "tool", "snapshots", "paths", "findings", "summary"}``.
Bump OUTPUT_VERSION on any incompatible change; tests/render pins the shape.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from io import StringIO
from typing import Any, Iterable

import yaml
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..engine.types import Path, Verdict
from ..rules import RULES, Finding
from ..safetext import terminal

OUTPUT_VERSION = 1

@dataclass
class Report:
    """Paths and findings of one or more snapshots (``--lab all``)."""

    snapshots: list[str] = field(default_factory=list)
    paths: list[tuple[str, Path]] = field(default_factory=list)
    findings: list[tuple[str, Finding]] = field(default_factory=list)
    missing: list[tuple[str, str, str]] = field(default_factory=list)  # (snapshot, host, why)
    # snapshot -> host name -> Host: what the diagrams draw (vmk addresses, pnics) and the cluster matrix.
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, snapshot: str, paths: Iterable[Path], findings: Iterable[Finding],
            missing: dict[str, str] | None = None, hosts: Iterable[Any] = ()) -> None:
        """``missing``: hosts a partial discovery could not read (Snapshot.missing);
        ``hosts``: the snapshot's Host models, for clusters and diagrams."""
        self.missing.extend((snapshot, h, why) for h, why in (missing or {}).items())
        self.hosts.setdefault(snapshot, {}).update((h.name, h) for h in hosts)
        self.snapshots.append(snapshot)
        self.paths.extend((snapshot, p) for p in paths)
        self.findings.extend((snapshot, f) for f in findings)

    def summary(self) -> dict[str, Any]:
        verdicts = Counter(p.verdict.value for _, p in self.paths)
        sev = Counter(f.severity.value for _, f in self.findings)
        return {
            "pairs": len(self.paths),
            "verdicts": {v.value: verdicts.get(v.value, 0) for v in Verdict},
            "degraded": sum(1 for _, p in self.paths if p.outcome.degraded),
            "findings": {s: sev.get(s, 0) for s in ("error", "warning", "info")},
            "missing_hosts": len(self.missing),
        }

    def to_dict(self, with_hops: bool = True) -> dict[str, Any]:
        return {
            "version": OUTPUT_VERSION,
            "tool": "nbdpath",
            "snapshots": self.snapshots,
            "paths": [{"snapshot": s, **p.to_dict(with_hops)} for s, p in self.paths],
            "findings": [{"snapshot": s, **f.to_dict()} for s, f in self.findings],
            "missing": [{"snapshot": s, "host": h, "reason": why} for s, h, why in self.missing],
            "summary": self.summary(),
        }


def to_json(report: Report, with_hops: bool = True) -> str:
    return json.dumps(report.to_dict(with_hops), indent=2) + "\n"


def to_yaml(report: Report, with_hops: bool = True) -> str:
    return yaml.safe_dump(report.to_dict(with_hops), sort_keys=False, width=120)


def _console(width: int | None = None) -> tuple[Console, StringIO]:
    buf = StringIO()
    # No markup and no :emoji: codes: names are printed as they are, never interpreted.
    return Console(file=buf, width=width or 400, force_terminal=False, color_system=None, highlight=False,
                   markup=False, emoji=False), buf


def _cell(value: str) -> Text:
    """A table cell or line: plain text (a host named "[bold]" stays that), control characters
    escaped before rich sees them (it would drop some, keep ESC)."""
    return Text(terminal(value))


def _say(console: Console, line: str) -> None:
    console.print(_cell(line))


def uplinks_text(p: Path) -> str:
    ups = p.outcome.egress_uplinks
    if not ups:
        return "-"
    sep = " | " if p.outcome.uplink_policy in ("loadbalance_srcid", "loadbalance_srcmac", "loadbalance_loadbased") else " + "
    return sep.join(f"{u.name}{'' if u.role == 'active' else '(' + u.role + ')'} {_speed(u.speed_mbps)}" for u in ups)


def _speed(mbps: int | None) -> str:
    if mbps is None:
        return "?"
    return f"{mbps // 1000}G" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps}M"


def paths_table(report: Report, width: int | None = None) -> str:
    console, buf = _console(width)
    multi = len(report.snapshots) > 1
    for snap in report.snapshots:
        table = Table(title=_cell(f"NBD paths: {snap}"), title_justify="left", show_lines=False, box=box.SIMPLE_HEAD)
        for col in ("host", "node", "endpoint", "in", "out", "uplinks", "bottleneck", "verdict"):
            table.add_column(col, overflow="fold")
        for s, p in report.paths:
            if s != snap:
                continue
            o = p.outcome
            verdict = o.verdict.value + ("?" if not o.robust else "") + (" DEGRADED" if o.degraded else "")
            table.add_row(*map(_cell, (
                p.host, p.node, f"{p.endpoint.ip or '?'} ({p.endpoint.vmk or '-'})", o.ingress_vmk or "-",
                o.egress_vmk or "-", uplinks_text(p), _speed(o.bottleneck_mbps), verdict,
            )))
        console.print(table)
        if not multi:
            for s, p in report.paths:
                if p.outcome.degraded:
                    _say(console, f"  {p.host} -> {p.node}: DEGRADED: {'; '.join(p.outcome.degraded)}")
            for s, p in report.paths:
                for a in p.outcome.alternatives:
                    if a.verdict is not None:
                        _say(console, f"  {p.host} -> {p.node}: {p.outcome.verdict.value}? {a}")
    _print_summary(console, report)
    return terminal(buf.getvalue())


def findings_table(report: Report, width: int | None = None) -> str:
    console, buf = _console(width)
    for snap in report.snapshots:
        rows = [f for s, f in report.findings if s == snap]
        verdicts = Counter(p.verdict.value for s, p in report.paths if s == snap)
        _say(console, f"{snap}: " + ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items())))
        if not rows:
            _say(console, "  no findings")
        for f in rows:
            where = f.host + (f" -> {', '.join(f.nodes)}" if f.nodes else "")
            _say(console, f"  {f.severity.value.upper():7} {f.rule} {RULES[f.rule].name}  [{where}]")
            _say(console, f"          {f.message}")
            _say(console, f"          fix: {f.fix.summary}")
            d = f.fix.to_dict()
            for cmd in d["esxcli"]:
                _say(console, f"            $ {cmd}")
            for cmd in d["powercli"]:
                _say(console, f"            PS> {cmd}")
            for step in d["manual"]:
                _say(console, f"            - {step}")
        _say(console, "")
    _print_summary(console, report)
    return terminal(buf.getvalue())


def explain_text(snapshot: str, p: Path, findings: list[Finding], assumptions_text: dict[str, str]) -> str:
    o = p.outcome
    lines = [f"{p.host} -> {p.node}  ({snapshot})", ""]
    lines.append(f"endpoint : {p.endpoint.ip or '?'} on {p.endpoint.vmk or '-'}")
    lines.append(f"           {p.endpoint.reason}")
    lines.append("")
    current = None
    for hop in p.hops:
        if hop.direction != current:
            current = hop.direction
            title = {"control": "vCenter", "forward": "request (node -> host, TCP 902)",
                     "reply": "data (host -> node)", "verdict": "firewall"}.get(hop.direction, hop.direction)
            lines.append(f"-- {title}")
        lines.append(f"  {hop.device}")
        for step in hop.steps:
            mark = "  " if step.ok else "!!"
            lines.append(f"    {mark} {step.kind.value:8} {step.detail}")
    if p.control:
        lines.append("-- control (beside the data; isolating NBD does not move it)")
        for c in p.control:
            state = {True: "reachable", False: "UNREACHABLE", None: "unknown"}[c.reachable]
            lines.append(f"  {'  ' if c.reachable is not False else '!!'} {c.flow:15} {c.src} -> {c.dst or '?'}:{c.port}"
                         f" {state}{' via ' + c.via if c.via else ''}: {c.reason}")
    lines.append("")
    lines.append(f"verdict  : {o.verdict.value}" + (" DEGRADED" if o.degraded else ""))
    lines.append(f"           {o.verdict_reason}")
    lines.append(f"ingress  : {o.ingress_vmk or '-'}    egress: {o.egress_vmk or '-'}    uplinks: {uplinks_text(p)}")
    lines.append(f"bottleneck: {o.bottleneck_mbps if o.bottleneck_mbps is not None else '?'} Mb/s")
    for d in o.degraded:
        lines.append(f"degraded : {d}")
    if o.assumptions:
        lines.append("assumptions:")
        for a in o.assumptions:
            lines.append(f"  {a}: {assumptions_text[a]}")
    if o.alternatives:
        lines.append("if an assumption does not hold" + ("" if o.robust else " (the verdict is not robust)") + ":")
        for alt in o.alternatives:
            lines.append(f"  {alt}")
    if findings:
        lines.append("findings:")
        for f in findings:
            lines.append(f"  {f.severity.value.upper()} {f.rule} {f.message}")
            lines.append(f"    fix: {f.fix.summary}")
            for cmd in f.fix.to_dict()["esxcli"]:
                lines.append(f"      $ {cmd}")
    return terminal("\n".join(lines) + "\n")


def _print_summary(console: Console, report: Report) -> None:
    if report.missing:
        _say(console, f"PARTIAL: {len(report.missing)} host(s) could not be read and are not traced:")
        for snap, host, why in report.missing:
            _say(console, f"  {host}: {why}" + (f" ({snap})" if len(report.snapshots) > 1 else ""))
    s = report.summary()
    verdicts = ", ".join(f"{k} {v}" for k, v in s["verdicts"].items() if v)
    f = s["findings"]
    _say(console, f"{s['pairs']} pairs: {verdicts or 'none'}; degraded {s['degraded']}; "
                  f"findings: {f['error']} error, {f['warning']} warning, {f['info']} info")
