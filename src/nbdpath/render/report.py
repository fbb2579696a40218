"""The versioned JSON contract and its text renderings.

JSON: one object ``{"version", "kind", "tool", "snapshots", "paths", "findings", "missing", "summary"}``;
``kind`` is the command that wrote it (trace, check, explain).
Bump OUTPUT_VERSION on any incompatible change; tests/render pins the shape.
"""

from __future__ import annotations

import json
from collections import Counter
from operator import attrgetter, itemgetter
from dataclasses import dataclass, field
from io import StringIO
from typing import Any, Iterable

import yaml
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..engine.assumptions import expand
from ..engine.teaming import ONE_UPLINK_PER_FLOW
from ..engine.types import Path, Verdict
from ..model import BACKUP_NFC
from ..model.snapshot import is_missing_host
from ..rules import RULES, Finding
from ..safetext import terminal

OUTPUT_VERSION = 1

_PATH, _OUTCOME = itemgetter(1), attrgetter("outcome")

@dataclass
class Report:
    """Paths and findings of one or more snapshots (``--lab all``)."""

    snapshots: list[str] = field(default_factory=list)
    paths: list[tuple[str, Path]] = field(default_factory=list)
    findings: list[tuple[str, Finding]] = field(default_factory=list)
    missing: list[tuple[str, str, str]] = field(default_factory=list)  # (snapshot, host, why)
    # snapshot name -> Snapshot (as traced, filters applied): clusters and what the diagrams draw.
    snaps: dict[str, Any] = field(default_factory=dict)
    kind: str = "trace"  # the command that reports: trace, check, explain

    def add(self, snapshot: str, paths: Iterable[Path], findings: Iterable[Finding],
            missing: dict[str, str] | None = None, snap: Any = None) -> None:
        """``missing``: hosts a partial discovery could not read (Snapshot.missing);
        ``snap``: the Snapshot itself, for the cluster matrix and the path diagrams."""
        self.missing.extend((snapshot, h, why) for h, why in (missing or {}).items())
        if snap is not None:
            self.snaps[snapshot] = snap
        self.snapshots.append(snapshot)
        self.paths.extend((snapshot, p) for p in paths)
        self.add_findings(snapshot, findings)

    def add_findings(self, snapshot: str, findings: Iterable[Finding]) -> None:
        """A snapshot's findings, after its paths (``add``): each snapshot's, in order."""
        self.findings.extend((snapshot, f) for f in findings)

    def summary(self) -> dict[str, Any]:
        # map() with C getters: a generator over 160,000 pairs cost ~1 s of a fleet run (profiled).
        # Counted by identity: hosts of one shape share Outcome objects (and hashing one is costly).
        outs = list(map(_OUTCOME, map(_PATH, self.paths)))
        by_id = dict(zip(map(id, outs), outs))
        verdicts: Counter = Counter()
        degraded = 0
        for key, n in Counter(map(id, outs)).items():
            o = by_id[key]
            verdicts[o.verdict] += n
            degraded += n if o.degraded else 0
        sev = Counter(f.severity.value for _, f in self.findings)
        hosts_missing = sum(1 for _, key, _ in self.missing if is_missing_host(key))
        return {
            "pairs": len(self.paths),
            "verdicts": {v.value: verdicts.get(v, 0) for v in Verdict},
            "degraded": degraded,
            "findings": {s: sev.get(s, 0) for s in ("error", "warning", "info")},
            "missing_hosts": hosts_missing,
            "missing_items": len(self.missing) - hosts_missing,
        }

    def to_dict(self, with_hops: bool = True) -> dict[str, Any]:
        return {
            "version": OUTPUT_VERSION,
            "kind": self.kind,
            "tool": "nbdpath",
            "snapshots": self.snapshots,
            "paths": [{"snapshot": s, **p.to_dict(with_hops)} for s, p in self.paths],
            "findings": [{"snapshot": s, **f.to_dict(self.snaps.get(s))} for s, f in self.findings],
            "missing": [{"snapshot": s, "host": h, "reason": why} for s, h, why in self.missing],
            "summary": self.summary(),
        }


    def shapes(self) -> list[dict[str, Any]]:
        """Pairs grouped by path shape, in order of first pair: what the path does
        (endpoint, vmks, uplinks, routers each way, bottleneck, verdict), not whose
        addresses it uses. Hosts of one configuration share Outcome objects
        (engine.trace), so the key is built once per distinct outcome."""
        return self._shapes()[0]

    def _shapes(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The shapes, and each path's shape id."""
        # Per outcome object its group, so a shape's (long) key is hashed once per outcome, not per pair.
        of_outcome: dict[int, tuple[dict[str, Any], dict, dict]] = {}
        groups: dict[tuple, dict[str, Any]] = {}
        shape_of: list[int] = []
        for i, (snap, p) in enumerate(self.paths):
            hit = of_outcome.get(id(p.outcome))
            if hit is None:
                key = (snap, *_shape_key(p.outcome))
                g = groups.get(key)
                if g is None:
                    g = groups[key] = {"id": len(groups) + 1, "snapshot": snap, "first": i, "pairs": 0,
                                       "hosts": {}, "nodes": {}}
                hit = of_outcome[id(p.outcome)] = (g, g["hosts"], g["nodes"])
            g, hosts, nodes = hit
            g["pairs"] += 1
            hosts[p.host] = None
            nodes[p.node] = None
            shape_of.append(g["id"])
        out = list(groups.values())
        for g in out:
            g["hosts"], g["nodes"] = list(g["hosts"]), list(g["nodes"])
        return out, shape_of

    def render_data(self) -> dict[str, Any]:
        """What the HTML and Markdown reports add to the JSON contract: each path's
        cluster and shape, and per shape its first pair (with hops) and diagram."""
        return {**self.shape_data(), "clusters": self.clusters()}

    def shape_data(self) -> dict[str, Any]:
        """``render_data()`` but the clusters: the shapes with their diagrams, each path's shape."""
        shapes, shape_of = self._shapes()
        for g in shapes:
            snap, p = self.paths[g["first"]]
            g["path"] = {"snapshot": snap, **p.to_dict(with_hops=True)}
            g["diagram"] = diagram(p, self.snaps.get(snap), len(g["hosts"]), len(g["nodes"]))
        return {"shapes": shapes, "shape_of": shape_of}

    def view(self, shape_of: list[int] | None = None) -> dict[str, Any]:
        """``cells.doc_view(self.to_dict(with_hops=False), self.clusters(), shape_of)``, built
        from what paths share: host tallies from one pass over the pairs, assumptions per
        distinct outcome, path dicts only up to PAIR_ROWS pairs, and fixes rendered only
        for the findings the reports show with their commands (the rest keep their summary)."""
        from . import cells

        return {"snapshots": self.snapshots, "version": OUTPUT_VERSION, "summary": self.summary(),
                "missing": [{"snapshot": s, "host": h, "reason": why} for s, h, why in self.missing],
                "findings": self._shown_findings(cells.FULL_FINDINGS, cells.FIX_EXAMPLES),
                "pairs": ([{"snapshot": s, **p.to_dict(with_hops=False)} for s, p in self.paths]
                          if len(self.paths) <= cells.PAIR_ROWS else None),
                "pair_count": len(self.paths), "assumptions": self._assumptions(),
                "hosts": cells.host_tallies(self._tally_rows(shape_of))}

    def _tally_rows(self, shape_of: list[int] | None) -> Iterable[tuple[str, str, str, str, int]]:
        for i, ((snapshot, p), cluster) in enumerate(zip(self.paths, self.clusters())):
            yield snapshot, p.host, cluster, p.outcome.verdict.value, shape_of[i] if shape_of is not None else 0

    def _assumptions(self) -> dict[str, str]:
        seen: dict[str, str] = {}
        outcomes: set[int] = set()
        for _, p in self.paths:
            if id(p.outcome) not in outcomes:  # hosts of one shape share their outcome
                outcomes.add(id(p.outcome))
                for a in expand(p.outcome.assumptions):
                    seen.setdefault(a["id"], a["text"])
        return seen

    def _shown_findings(self, full_up_to: int, examples: int) -> list[dict[str, Any]]:
        """The findings' dicts; above ``full_up_to`` findings the reports show the commands of
        the first ``examples`` per severity and rule only, so the others' are not rendered."""
        full = len(self.findings) <= full_up_to
        shown: Counter = Counter()
        out = []
        for s, f in self.findings:
            key = (f.severity, f.rule)
            shown[key] += 1
            if full or shown[key] <= examples:
                out.append({"snapshot": s, **f.to_dict(self.snaps.get(s))})
                continue
            # Finding.to_dict but the fix's commands (tests/render: the same page as from the contract).
            out.append({"snapshot": s, "rule": f.rule, "name": RULES[f.rule].name, "severity": f.severity.value,
                        "host": f.host, "nodes": list(f.nodes), "vmk": f.vmk, "message": f.message,
                        "explanation": RULES[f.rule].explanation,
                        "fix": {"summary": f.fix.summary, "manual": list(f.fix.manual)}})
        return out

    def clusters(self) -> list[str]:
        """Each path's cluster, as the reports label it (``snapshot: cluster`` with several snapshots)."""
        by_snap = {name: {h.name: h.cluster for h in snap.hosts} for name, snap in self.snaps.items()}
        multi = len(self.snapshots) > 1
        out = []
        last: tuple[str, str] | None = None
        label = ""
        for snapshot, p in self.paths:
            if (snapshot, p.host) != last:  # a host's pairs come together: one label per host
                last = (snapshot, p.host)
                cluster = by_snap.get(snapshot, {}).get(p.host) or "(no cluster)"
                label = f"{snapshot}: {cluster}" if multi else cluster
            out.append(label)
        return out


def _shape_key(o: Any) -> tuple:
    return (o.endpoint_kind, o.endpoint_vmk, o.management_vmk, o.ingress_vmk, o.egress_vmk,
            tuple((u.name, u.speed_mbps, u.link_up, u.role) for u in o.egress_uplinks), o.uplink_policy,
            o.bottleneck_mbps, o.verdict, o.forward_devices, o.reply_devices, o.firewalls_one_way,
            o.reply_route_origin, o.node_interface, o.degraded, o.robust, o.unmodelled_legs, o.assumptions)


def _device_info(snap: Any, name: str) -> dict[str, Any]:
    """A router or firewall on the way, as the diagram draws it."""
    for r in getattr(snap, "routers", ()):
        if r.name == name:
            return {"name": name, "kind": r.kind, "stateful": r.stateful, "capacity_mbps": r.capacity_mbps}
    for f in getattr(snap, "firewalls", ()):
        if f.name == name:
            return {"name": name, "kind": "firewall", "stateful": f.stateful, "capacity_mbps": f.capacity_mbps}
    return {"name": name, "kind": "router", "stateful": False, "capacity_mbps": None}


def diagram(p: Path, snap: Any, hosts: int = 1, nodes: int = 1) -> dict[str, Any]:
    """Everything render/svg.py draws for one shape, from its first pair."""
    o = p.outcome
    host = next((h for h in getattr(snap, "hosts", ()) if h.name == p.host), None)
    node = next((n for n in getattr(snap, "backup_nodes", ()) if n.name == p.node), None)
    nic = next((i for i in node.interfaces if i.name == o.node_interface), None) if node else None
    if nic is None and node is not None and node.interfaces:
        nic = node.interfaces[0]
    mgmt = {o.management_vmk} | {v.device for v in (host.vmks if host else ()) if "management" in v.services}
    vmks = [{"device": v.device, "address": v.ipv4 or "-", "portgroup": v.portgroup, "netstack": v.netstack,
             "backup_tag": BACKUP_NFC in v.services, "management": v.device in mgmt}
            for v in (host.vmks if host else ()) if v.enabled]
    egress = {u.name: u for u in o.egress_uplinks}
    pnics = [{"name": n.name, "speed_mbps": n.speed_mbps, "link_up": n.link_up,
              "role": egress[n.name].role if n.name in egress else None}
             for n in (host.pnics if host else ())]
    pnics += [{"name": u.name, "speed_mbps": u.speed_mbps, "link_up": u.link_up, "role": u.role}
              for u in o.egress_uplinks if not any(n["name"] == u.name for n in pnics)]
    info = {d: _device_info(snap, d) for d in (*o.forward_devices, *o.reply_devices)}
    return {
        "verdict": o.verdict.value, "robust": o.robust, "degraded": bool(o.degraded),
        "host": p.host, "other_hosts": hosts - 1, "node": p.node, "other_nodes": nodes - 1,
        "node_interface": nic.name if nic else None, "node_address": nic.address if nic else o.node_ip,
        "node_speed_mbps": nic.speed_mbps if nic else None,
        "endpoint_ip": p.endpoint.ip, "endpoint_vmk": o.endpoint_vmk, "ingress_vmk": o.ingress_vmk,
        "egress_vmk": o.egress_vmk, "vmks": vmks, "uplinks": pnics, "uplink_policy": o.uplink_policy,
        "forward": [info[d] for d in o.forward_devices], "reply": [info[d] for d in o.reply_devices],
        "one_way": list(o.firewalls_one_way), "unmodelled": list(o.unmodelled_legs),
        "bottleneck_mbps": o.bottleneck_mbps, "bottleneck_at": _bottleneck_at(o, nic, info),
        "reply_route_origin": o.reply_route_origin,
    }


def _bottleneck_at(o: Any, nic: Any, info: dict[str, dict[str, Any]]) -> list[str]:
    """Which drawn elements run at the bottleneck speed: uplink names, "node", router names."""
    b = o.bottleneck_mbps
    if b is None:
        return []
    at = [u.name for u in o.egress_uplinks if u.speed_mbps == b]
    if nic is not None and nic.speed_mbps == b:
        at.append("node")
    at += [d for d in o.reply_devices if info[d]["capacity_mbps"] == b]
    return at


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


def _width(console: Console) -> int:
    # rich's Console.width reads the environment and asks the terminal each time: 4 of 8 s of a
    # 10,000-host findings table (92,000 lines). A render's width does not change mid-way.
    width = console.__dict__.get("_nbdpath_width")
    if width is None:
        width = console.__dict__["_nbdpath_width"] = console.width
    return width


def _say(console: Console, line: str) -> None:
    text = terminal(line)
    # A short printable ASCII line prints as itself: rich's wrapping machinery per line
    # was 7 of 10 s of a 1,000-host findings table.
    if text.isascii() and text.isprintable() and len(text) < _width(console) and not text.endswith(" "):
        console.file.write(text + "\n")
        return
    console.print(Text(text))


def uplink_cell(ups: Iterable[tuple[str, str, int | None]], policy: str | None) -> str:
    """The uplinks column, once for both table forms: ``a | b`` one of them carries the flow, ``a + b``
    flows spread over them (see UPLINK_LEGEND); a standby uplink says so."""
    parts = [f"{name}{'' if role == 'active' else '(' + role + ')'} {_speed(mbps)}" for name, role, mbps in ups]
    if not parts:
        return "-"
    return (" | " if policy in ONE_UPLINK_PER_FLOW else " + ").join(parts)


def uplinks_text(p: Path) -> str:
    return uplink_cell(((u.name, u.role, u.speed_mbps) for u in p.outcome.egress_uplinks), p.outcome.uplink_policy)


def _bottleneck(o: Any) -> str:
    """Nothing flows on an unreachable path: no bottleneck to show (``?`` would read as unknown speed)."""
    return "-" if o.verdict is Verdict.UNREACHABLE or not o.egress_uplinks else _speed(o.bottleneck_mbps)


UPLINK_LEGEND = {" | ": "a | b: the flow takes one of them (originating port, MAC hash, load-based teaming)",
                 " + ": "a + b: flows spread over them (IP hash, LACP)"}


def _legend(texts: Iterable[str]) -> str:
    """The key to the uplinks column's separators that the table uses, or ''."""
    used = [text for sep, text in UPLINK_LEGEND.items() if any(sep in t for t in texts)]
    return "  uplinks: " + "; ".join(used) if used else ""


def _speed(mbps: int | None) -> str:
    if mbps is None:
        return "?"
    return f"{mbps // 1000}G" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps}M"


def paths_table(report: Report, width: int | None = None) -> str:
    from .cells import PAIR_ROWS  # cells imports this module

    if len(report.paths) > PAIR_ROWS:
        return _shapes_table(report, width)
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
                o.egress_vmk or "-", uplinks_text(p), _bottleneck(o), verdict,
            )))
        console.print(table)
        legend = _legend(uplinks_text(p) for s, p in report.paths if s == snap)
        if legend:
            _say(console, legend)
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


def _shapes_table(report: Report, width: int | None = None) -> str:
    """A fleet's paths: one row per path shape (what the path does, not whose addresses it
    uses) with its pairs, hosts and nodes, worst verdict first; 160,000 rows help nobody."""
    from .cells import PAIR_ROWS, VERDICT_RANK
    console, buf = _console(width)
    shapes = report.shapes()
    _say(console, f"{len(report.paths):,} pairs in {len(shapes)} path shapes: one row per shape "
                  f"(above {PAIR_ROWS:,} pairs; --host NAME or --format json for each pair)")
    table = Table(title=_cell("NBD path shapes: " + ", ".join(report.snapshots)), title_justify="left",
                  show_lines=False, box=box.SIMPLE_HEAD)
    for col in ("shape", "pairs", "hosts", "nodes", "endpoint", "in", "out", "uplinks", "bottleneck", "verdict"):
        table.add_column(col, overflow="fold")
    ordered = sorted(shapes, key=lambda g: (VERDICT_RANK[report.paths[g["first"]][1].verdict.value], g["id"]))
    for g in ordered:
        p = report.paths[g["first"]][1]
        o = p.outcome
        verdict = o.verdict.value + ("?" if not o.robust else "") + (" DEGRADED" if o.degraded else "")
        hosts, nodes = g["hosts"], g["nodes"]
        table.add_row(*map(_cell, (
            str(g["id"]), f"{g['pairs']:,}", _some(hosts), _some(nodes), f"{o.endpoint_kind} ({o.endpoint_vmk or '-'})",
            o.ingress_vmk or "-", o.egress_vmk or "-", uplinks_text(p), _bottleneck(o), verdict,
        )))
    console.print(table)
    legend = _legend(uplinks_text(report.paths[g["first"]][1]) for g in ordered)
    if legend:
        _say(console, legend)
    for g in ordered:
        o = report.paths[g["first"]][1].outcome
        if o.degraded:
            _say(console, f"  shape {g['id']} ({g['pairs']:,} pairs): DEGRADED: {'; '.join(o.degraded)}")
        for a in o.alternatives:
            if a.verdict is not None:
                _say(console, f"  shape {g['id']} ({g['pairs']:,} pairs): {o.verdict.value}? {a}")
    _print_summary(console, report)
    return terminal(buf.getvalue())


def _some(names: list[str]) -> str:
    """A count and the first name: "1,024 (esx00000, ...)"."""
    return names[0] if len(names) == 1 else f"{len(names):,} ({names[0]}, ...)"


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
            # Only the two formats the table shows (Fix.to_dict renders every one, Ansible too).
            for cmd in _commands(f, "esxcli"):
                _say(console, f"            $ {cmd}")
            for cmd in _commands(f, "powercli"):
                _say(console, f"            PS> {cmd}")
            for step in f.fix.manual:
                _say(console, f"            - {step}")
        _say(console, "")
    _print_summary(console, report)
    return terminal(buf.getvalue())


def _commands(f: Finding, fmt: str) -> list[str]:
    from ..changes import render as renderers

    r = renderers.renderers()[fmt]
    return [r.command(c, None) for c in f.fix.changes]


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
    hosts = [m for m in report.missing if is_missing_host(m[1])]
    items = [m for m in report.missing if not is_missing_host(m[1])]
    for entries, head in ((hosts, "host(s) could not be read and are not traced"),
                          (items, "VM, datastore or tag item(s) could not be read (estimates leave them out)")):
        if entries:
            _say(console, f"PARTIAL: {len(entries)} {head}:")
            for snap, key, why in entries:
                _say(console, f"  {key}: {why}" + (f" ({snap})" if len(report.snapshots) > 1 else ""))
    s = report.summary()
    verdicts = ", ".join(f"{k} {v}" for k, v in s["verdicts"].items() if v)
    f = s["findings"]
    _say(console, f"{s['pairs']} pairs: {verdicts or 'none'}; degraded {s['degraded']}; "
                  f"findings: {f['error']} error, {f['warning']} warning, {f['info']} info")
