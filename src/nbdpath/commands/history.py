"""``nbdpath history record|list|show|drift``: runs over time in an SQLite file.

parse -> :mod:`nbdpath.history` -> render -> exit code (drift: 1 when anything got worse).
"""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone
from typing import Any, Callable, Optional

import click

from ..errors import UsageError
from ..history import drift as drift_mod
from ..io import Forked, forks, gc_paused, in_halves, keep_past_command, write_streamed as _write_streamed
from ..history.store import HostResult, ResultEncoder, Store, default_path, snapshot_parts
from ..safetext import terminal
from ..result import Exit

EXIT_OK, EXIT_FINDINGS = Exit.OK, Exit.WORSE
# Run ids are SQLite rowids: a larger number would overflow the query, not just miss.
RUN_ID = click.IntRange(1, 2**63 - 1)


def analyse(snap: Any, within: Optional[list[str]] = None) -> dict[str, HostResult]:
    """Trace and check one snapshot: per host what a run keeps (paths, findings); ``within``:
    only these hosts (a finding concerns one host: rules.check)."""
    from ..engine import Engine
    from ..rules import check

    engine = Engine(snap)
    scope = None if within is None else set(within)
    paths = engine.trace(hosts=scope)
    findings = check(engine, paths, hosts=scope)
    by_host: dict[str, tuple[list, list]] = {h.name: ([], []) for h in snap.hosts if scope is None or h.name in scope}
    for p in paths:
        by_host.setdefault(p.host, ([], []))[0].append(p)
    for f in findings:
        by_host.setdefault(f.host, ([], []))[1].append(f)
    encoder = ResultEncoder()
    return {h: encoder.host(ps, fs) for h, (ps, fs) in by_host.items()}


# From this many hosts a forked child encodes the snapshot's parts and analyses the first
# CHILD_SHARE of the hosts while the command analyses the others: at 10,000 hosts the parts
# take ~0.35 s and the analysis ~1.3 s, so a child with the parts alone idled most of the
# time. Fresh process, 10,000 hosts: 2.12 -> 1.72 s (parts alone in the child: 2.14 -> 1.82 s);
# 1,000 hosts 0.47 -> 0.40 s (with the parts alone: 0.36 s either way, another machine).
PARTS_FORKED_FROM_HOSTS = 500
CHILD_SHARE = 0.36


def record_snapshot(store: Store, snap: Any, source: str, at: str) -> int:
    if len(snap.hosts) < PARTS_FORKED_FROM_HOSTS or not forks():
        return store.record_parts(snapshot_parts(snap.model_dump(mode="json")), analyse(snap), at=at, source=source)
    names = [h.name for h in snap.hosts]
    cut = int(len(names) * CHILD_SHARE)

    def in_child() -> bytes:
        # Read back by this process only, from an unlinked file it holds (io.Forked): not input.
        return pickle.dumps((snapshot_parts(snap.model_dump(mode="json")), analyse(snap, names[:cut])))

    with Forked(in_child) as child:
        results = analyse(snap, names[cut:])
        parts, theirs = pickle.loads(child.result())
        return store.record_parts(parts, {**theirs, **results}, at=at, source=source)


def parse_at(text: Optional[str]) -> str:
    if text is None:
        moment = datetime.now(timezone.utc)
    else:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--at: expected an ISO 8601 time like 2026-12-01T02:00:00Z, not {text[:40]!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)  # documented: a time without offset is UTC
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------ rendering


def _counts(summary: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    verdicts: dict[str, int] = {}
    severities: dict[str, int] = {}
    for bucket in summary.get("pairs", {}).values():
        for v, n in bucket.items():
            verdicts[v] = verdicts.get(v, 0) + n
    for bucket in summary.get("findings", {}).values():
        for key, n in bucket.items():
            sev = key.partition("|")[2]
            severities[sev] = severities.get(sev, 0) + n
    return verdicts, severities


def _kv(d: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(d.items())) or "-"


def run_dict(info: Any) -> dict[str, Any]:
    verdicts, severities = _counts(info.summary)
    return {"id": info.id, "at": info.at, "source": info.source, "name": info.name,
            "hosts": info.summary.get("hosts", 0), "pairs": sum(verdicts.values()),
            "verdicts": verdicts, "findings": severities}


def list_table(runs: list[Any]) -> str:
    lines = [f"{'run':>5}  {'at':20}  {'hosts':>6}  {'pairs':>7}  {'source':20}  verdicts / findings"]
    for info in runs:
        d = run_dict(info)
        lines.append(f"{d['id']:>5}  {d['at']:20}  {d['hosts']:>6}  {d['pairs']:>7}  {d['source'][:20]:20}  "
                     f"{_kv(d['verdicts'])} / {_kv(d['findings'])}")
    return terminal("\n".join(lines) + "\n")


def show_table(info: Any) -> str:
    d = run_dict(info)
    lines = [f"run {d['id']} at {d['at']} source {d['source']} snapshot {d['name']}",
             f"  hosts {d['hosts']}, pairs {d['pairs']}",
             f"  verdicts: {_kv(d['verdicts'])}", f"  findings: {_kv(d['findings'])}", "  per cluster:"]
    for cluster, bucket in sorted(info.summary.get("pairs", {}).items()):
        lines.append(f"    {cluster or '(none)'}: {_kv(bucket)}")
    return terminal("\n".join(lines) + "\n")


def _path_text(v: Optional[dict]) -> str:
    if v is None:
        return "(absent)"
    return f"{v['verdict']} egress {v['egress'] or '-'} bottleneck {v['bottleneck'] or '-'}"


def drift_table(a: Any, b: Any, d: drift_mod.Drift) -> str:
    sections, facts = drift_table_sections(d), _drift_facts(d)
    return _drift_head(a, b, facts) + "".join(sections[name] for name in _DRIFT_SECTIONS) + _drift_tail(facts)


# A drift's table and JSON in sections, one per list of changes (the table's hosts in the order
# the drift first names them: configuration changes, then paths, then findings): what two
# parts of the hosts (write_drift) join; their counts are a drift's facts.
_DRIFT_SECTIONS = ("config", "paths", "findings")


def drift_table_sections(d: drift_mod.Drift) -> dict[str, str]:
    """Each host's lines, grouped by host once (a scan of every change per host took 23 s for
    a whole-fleet drift of 10,000 hosts), in the section of the list that first names it."""
    config: dict[str, list[str]] = {}
    paths: dict[str, list[str]] = {}
    findings: dict[str, list[str]] = {}
    for c in d.config:
        config.setdefault(c.host, []).append(f"  config: {c.describe()}")
    for p in d.paths:
        paths.setdefault(p.host, []).append(
            f"  path -> {p.node}: {_path_text(p.before)} -> {_path_text(p.after)}{'  (worse)' if p.worse else ''}")
    for f in d.findings:
        findings.setdefault(f.host, []).append(
            f"  finding {f.status}: {f.finding['rule']} {f.finding['severity']} "
            f"{f.finding.get('vmk') or ''} {f.finding['message']}{'  (worse)' if f.worse else ''}")
    out: dict[str, list[str]] = {name: [] for name in _DRIFT_SECTIONS}
    seen: set[str] = set()
    for name, first in zip(_DRIFT_SECTIONS, (config, paths, findings)):
        for host in first:
            if host in seen:
                continue
            seen.add(host)
            out[name] += [f"host {host}", *config.get(host, ()), *paths.get(host, ()), *findings.get(host, ())]
    return {name: terminal("".join(line + "\n" for line in lines)) for name, lines in out.items()}


def _drift_facts(d: drift_mod.Drift) -> dict[str, Any]:
    return {"config": len(d.config), "paths": len(d.paths), "findings": len(d.findings), "worse": d.worse}


def _drift_head(a: Any, b: Any, facts: dict[str, Any]) -> str:
    head = terminal(f"drift from run {a.id} ({a.at}) to run {b.id} ({b.at})\n")
    return head + ("" if facts["config"] or facts["paths"] or facts["findings"] else "no changes\n")


def _drift_tail(facts: dict[str, Any]) -> str:
    return "result: worse\n" if facts["worse"] else "result: not worse\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus(info: Any, d: Optional[drift_mod.Drift | dict[str, Any]] = None) -> str:
    """A node_exporter textfile: the state of one run, and with ``d`` the drift that led to it
    (or its counts: ``config``, ``paths``, ``findings``, ``worse``)."""
    facts = _drift_facts(d) if isinstance(d, drift_mod.Drift) else d
    out = ["# HELP nbdpath_pairs Host -> backup node pairs by verdict and cluster in the run.",
           "# TYPE nbdpath_pairs gauge"]
    for cluster, bucket in sorted(info.summary.get("pairs", {}).items()):
        out += [f'nbdpath_pairs{{verdict="{_label(v)}",cluster="{_label(cluster)}"}} {n}' for v, n in sorted(bucket.items())]
    out += ["# HELP nbdpath_findings Findings by rule, severity and cluster in the run.",
            "# TYPE nbdpath_findings gauge"]
    for cluster, bucket in sorted(info.summary.get("findings", {}).items()):
        for key, n in sorted(bucket.items()):
            rule, _, sev = key.partition("|")
            out.append(f'nbdpath_findings{{rule="{_label(rule)}",severity="{_label(sev)}",cluster="{_label(cluster)}"}} {n}')
    out += ["# HELP nbdpath_run_timestamp_seconds When the run was recorded.", "# TYPE nbdpath_run_timestamp_seconds gauge",
            f"nbdpath_run_timestamp_seconds {int(datetime.fromisoformat(info.at.replace('Z', '+00:00')).timestamp())}"]
    if facts is not None:
        out += ["# HELP nbdpath_drift_changes Changes since the previous run, by kind.", "# TYPE nbdpath_drift_changes gauge",
                f'nbdpath_drift_changes{{kind="config"}} {facts["config"]}',
                f'nbdpath_drift_changes{{kind="path"}} {facts["paths"]}',
                f'nbdpath_drift_changes{{kind="finding"}} {facts["findings"]}',
                "# HELP nbdpath_drift_worse 1 when a pair got a worse verdict or an error finding is new.",
                "# TYPE nbdpath_drift_worse gauge", f"nbdpath_drift_worse {int(facts['worse'])}"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------ drift between stored runs


Changed = list[tuple[str, Optional[tuple[bytes, bytes]], Optional[tuple[bytes, bytes]]]]


def changed_hosts(store: Store, a: int, b: int) -> Changed:
    """Each host whose part or results hash differs between runs ``a`` and ``b``, with its
    (part, results) keys in each (None: not in that run), hosts of ``a`` first."""
    ha = {h: (part, res) for h, _, part, res in store.hosts(a)}
    hb = {h: (part, res) for h, _, part, res in store.hosts(b)}
    return [(host, ha.get(host), hb.get(host)) for host in list(ha) + [h for h in hb if h not in ha]
            if ha.get(host) != hb.get(host)]


def _stored(store: Store, changed: Changed) -> dict[bytes, bytes]:
    return store.stored(k for _, x, y in changed for keys in (x, y) if keys is not None for k in keys)


def drift_between(store: Store, a: int, b: int) -> drift_mod.Drift:
    """Only hosts whose part or results hash differs are decoded: an unchanged night costs one query per run."""
    changed = changed_hosts(store, a, b)
    return _drift_of(store, changed, _stored(store, changed))


def _drift_of(store: Store, changed: Changed, stored: dict[bytes, bytes]) -> drift_mod.Drift:
    sa: dict[str, drift_mod.HostState] = {}
    sb: dict[str, drift_mod.HostState] = {}
    for host, x, y in changed:
        if x is not None:
            sa[host] = (store.decoded(x[0], stored[x[0]]), store.decoded(x[1], stored[x[1]]))
        if y is not None:
            sb[host] = (store.decoded(y[0], stored[y[0]]), store.decoded(y[1], stored[y[1]]))
    return drift_mod.compare(sa, sb)


# From this many changed hosts a drift is made in two halves of them at once, the first by a
# forked child (io.Sections): decoding and comparing a host's stored JSON is ~0.2 ms, and a
# whole-fleet change of 10,000 hosts decodes 32,000 blobs. The blobs are read here first (the
# child opens no database); the text is the one of one process (tested).
DRIFT_HALVES_FROM_HOSTS = 500


def _drift_work(store: Store, changed: Changed, stored: dict[bytes, bytes], fmt: str) -> Callable[[Any, Any], None]:
    from ..render.stream import ITEM_NL, _enc

    def work(out: Any, _first: Any) -> None:
        d = _drift_of(store, changed, stored)
        keep_past_command(d)  # freeing 10^6 objects as the work returns: io.keep_past_command
        if fmt == "table":
            for name, text in drift_table_sections(d).items():
                out.write(text)
                out.end(name)
        elif fmt == "json":
            sep = "," + ITEM_NL
            for name, items in (("config", map(drift_mod.config_item, d.config)),
                                ("paths", map(drift_mod.path_item, d.paths)),
                                ("findings", map(drift_mod.finding_item, d.findings))):
                for item in items:
                    out.write(sep + _enc(item, ITEM_NL))
                out.end(name)
        out.say("facts", _drift_facts(d))
    return work


def write_drift(store: Store, a: Any, b: Any, fmt: str, output: Optional[str]) -> bool:
    """``history drift`` from run ``a`` to run ``b`` in ``fmt`` onto ``output``; whether it got worse."""
    from ..render.stream import write_joined_list

    changed = changed_hosts(store, a.id, b.id)
    stored = _stored(store, changed)
    halves = len(changed) >= DRIFT_HALVES_FROM_HOSTS and forks()
    cut = len(changed) // 2 if halves else 0
    with in_halves(_drift_work(store, changed[:cut], stored, fmt), _drift_work(store, changed[cut:], stored, fmt),
                   output, fork=halves) as parts:
        first, rest = (p.get("facts") for p in parts)
        facts = {k: first[k] + rest[k] for k in _DRIFT_SECTIONS}
        facts["worse"] = first["worse"] or rest["worse"]
        if fmt == "prometheus":
            _emit(prometheus(b, facts), output)
        elif fmt == "json":
            from ..render.stream import _enc

            def fill(fh: Any) -> None:
                fh.write('{\n  "version": 1,\n  "kind": "history-drift",\n  "from": ' + _enc(run_dict(a), "\n  ")
                         + ',\n  "to": ' + _enc(run_dict(b), "\n  ") + ',\n  "worse": '
                         + ("true" if facts["worse"] else "false"))
                for name in _DRIFT_SECTIONS:
                    write_joined_list(fh, name, parts)
                fh.write("\n}\n")
            _write_streamed(fill, output)
        else:
            def fill(fh: Any) -> None:
                fh.write(_drift_head(a, b, facts))
                for name in _DRIFT_SECTIONS:
                    for part in parts:
                        part.copy(name, fh)
                fh.write(_drift_tail(facts))
            _write_streamed(fill, output)
    return bool(facts["worse"])


def _open(db: Optional[str], create: bool = False) -> Store:
    return Store(db or default_path(), create=create)


def _emit(text: str, output: Optional[str]) -> None:
    from .core import _emit as emit

    emit(text, output)


def register(cli: click.Group) -> None:
    db_option = click.option("--db", type=click.Path(), metavar="PATH",
                             help="History database (default: $XDG_CONFIG_HOME/nbdpath/history.sqlite).")
    out_option = click.option("-o", "--output", type=click.Path(dir_okay=False),
                              help="Write to FILE (atomically) instead of stdout.")

    @cli.group()
    def history() -> None:
        """Record runs in a local database, list them, and show what drifted between two."""

    @history.command()
    @click.argument("snapshot", type=click.Path(dir_okay=False))
    @click.option("--source", default="", help="Where the snapshot came from (free text, e.g. 'nightly discover').")
    @click.option("--at", "at", metavar="ISO8601", help="Time of the run (default now; no offset means UTC).")
    @db_option
    def record(snapshot, source, at, db):
        """Trace and check SNAPSHOT and store it, its paths and findings as a new run."""
        from .core import load_inputs

        when = parse_at(at)
        [(_, snap)] = load_inputs(snapshot, None)
        keep_past_command(snap)
        with _open(db, create=True) as store:
            run = record_snapshot(store, snap, source or snapshot, when)
        click.echo(f"recorded run {run} at {when}")
        return EXIT_OK

    @history.command(name="list")
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
    @db_option
    def list_cmd(fmt, db):
        """Every run: id, time, source, hosts, pairs, verdict counts, findings by severity."""
        with _open(db) as store:
            runs = store.runs()
        if fmt == "json":
            _emit(json.dumps({"version": 1, "kind": "history-list", "runs": [run_dict(r) for r in runs]}, indent=2) + "\n", None)
        else:
            _emit(list_table(runs), None)
        return EXIT_OK

    @history.command()
    @click.argument("run", type=RUN_ID)
    @click.option("--format", "fmt", type=click.Choice(["table", "json", "prometheus"]), default="table", show_default=True)
    @db_option
    @out_option
    def show(run, fmt, db, output):
        """One run's summary; --format prometheus writes a node_exporter textfile."""
        with _open(db) as store:
            info = store.run(run)
        if fmt == "json":
            text = json.dumps({"version": 1, "kind": "history-show", **run_dict(info), "clusters": info.summary}, indent=2) + "\n"
        elif fmt == "prometheus":
            text = prometheus(info)
        else:
            text = show_table(info)
        _emit(text, output)
        return EXIT_OK

    @history.command()
    @click.argument("run_a", type=RUN_ID, required=False)
    @click.argument("run_b", type=RUN_ID, required=False)
    @click.option("--format", "fmt", type=click.Choice(["table", "json", "prometheus"]), default="table", show_default=True)
    @db_option
    @out_option
    def drift(run_a, run_b, fmt, db, output):
        """Configuration changes next to the path changes they caused between two runs
        (default: the last two); exit 1 when anything got worse."""
        # ~10^6 acyclic objects decoded from a whole-fleet drift's blobs: passes over them doubled it.
        with _open(db) as store, gc_paused():
            a, b = _pick(store, run_a, run_b)
            worse = write_drift(store, a, b, fmt, output)
        return EXIT_FINDINGS if worse else EXIT_OK


def _pick(store: Store, run_a: Optional[int], run_b: Optional[int]) -> tuple[Any, Any]:
    if run_a is not None and run_b is not None:
        return store.run(run_a), store.run(run_b)
    runs = store.runs()
    if run_a is not None:
        # One run given: drift from it to the latest.
        if not runs:
            raise UsageError(f"{store.path}: no runs recorded")
        return store.run(run_a), runs[-1]
    if len(runs) < 2:
        raise UsageError(f"{store.path}: drift needs two runs, the database has {len(runs)}")
    return runs[-2], runs[-1]
