"""estimate: how long each job's backup or migration window is, and what binds it."""

from __future__ import annotations

import json
from typing import Any, Optional

import click
import yaml

from ..engine import Engine
from ..estimate import Constants, estimate, with_overrides
from ..io import gc_paused, keep_past_command
from ..model import Snapshot
from ..render import estimate as render
from ..render import stream
from ..render.report import OUTPUT_VERSION
from .core import _emit, _format_option, _input_options, _output_option, load_inputs

MODEL_NOTES = (
    "fluid model: a limit's bytes share its speed; the window is the longest any limit needs (docs/estimate.md)",
    "each disk is one NFC stream; a job's bytes are spread evenly over its nodes with a working path",
    "a disk not read through its own host goes through the worst host mounting its datastore read-write",
    "jobs are estimated one at a time: two jobs on the same hosts or nodes at once are not modelled",
)


def document(inputs: list[tuple[str, Snapshot]], jobs: tuple[str, ...] = (), constants: Constants = Constants(),
             engines: Optional[dict[str, Engine]] = None) -> dict[str, Any]:
    """The versioned ``estimate`` document for one or more snapshots."""
    out = []
    for name, snap in inputs:
        if jobs and len(inputs) > 1 and not any(j.name in jobs for j in snap.jobs):
            continue  # --lab all --job X: the labs that have X
        engine = (engines or {}).get(name)
        for est in estimate(snap, constants, jobs, engine=engine):
            out.append({"snapshot": name, **est.to_dict()})
    if jobs and len(inputs) > 1 and not out:
        from ..errors import UsageError

        raise UsageError(f"no job {jobs[0]!r} in any of the snapshots")
    return {"version": OUTPUT_VERSION, "kind": "estimate", "snapshots": [n for n, _ in inputs], "jobs": out,
            "assumptions": constants.used(), "notes": list(MODEL_NOTES)}


def vm_rows(inputs: list[tuple[str, Snapshot]], report: Any, names: tuple[str, ...] = ()) -> Optional[list[dict]]:
    """Per-VM rows for ``trace`` (which host serves each VM's disks, over which path); None
    when no snapshot has VMs and none was asked for, so such output stays as it was."""
    if not names and not any(s.vms for _, s in inputs):
        return None
    from ..engine.vms import vm_routes

    rows = []
    for name, snap in inputs:
        if names and len(inputs) > 1 and not any(v.name in names for v in snap.vms):
            continue  # --lab all --vm X: the labs that have X
        if name not in report.snapshots:
            continue  # a selection that leaves this snapshot out
        paths = [p for s, p in report.paths if s == name]
        # A trace narrowed with --host/--cluster: the VMs those hosts may serve.
        hosts = {p.host for p in paths}
        narrowed = bool(paths) and len(hosts) < len(snap.hosts)
        rows += [{"snapshot": name, **r.to_dict()}
                 for r in vm_routes(Engine(snap), names, paths, hosts if narrowed else None)]
    if names and not rows:
        from ..errors import UsageError

        raise UsageError(f"no VM {names[0]!r} in any of the snapshots")
    return rows


def with_vms(doc: dict[str, Any], rows: Optional[list[dict]], fmt: str) -> str:
    """``trace``'s json/yaml document with its ``vms`` rows."""
    if rows is not None:
        doc["vms"] = rows
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n"
    return yaml.safe_dump(doc, sort_keys=False, width=120)


def _rendered(doc: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        # Exactly json.dumps(doc, indent=2), without the standard library's pure-Python
        # indenting encoder (0.28 -> 0.13 s for 50 jobs of 10,000 hosts, measured).
        return stream._enc(doc, "\n") + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(doc, sort_keys=False, width=120)
    if fmt == "markdown":
        return render.markdown(doc)
    if fmt == "html":
        return render.page(doc)
    return render.table(doc)


def register(cli: click.Group) -> None:
    @cli.command(name="estimate")
    @_input_options
    @click.option("--job", "jobs", multiple=True, metavar="NAME", help="Only this job (repeatable).")
    @click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                  help="Override a constant, e.g. --set nbd_stream_mbyte_s=120 (names: docs/estimate.md).")
    @_format_option
    @_output_option
    def estimate_cmd(snapshot, lab, jobs, sets, fmt, output):
        """How long each job's window is, what binds it per host and node, and the VMs on its critical path."""
        constants = with_overrides(sets)
        # One pause from load to output: the GC would otherwise re-walk the loaded snapshot
        # (~10^6 objects) the moment the load's own pause ends, before it is frozen, and
        # then every young generation of per-disk tuples (0.8 s CPU at 100k VMs, measured).
        with gc_paused():
            inputs = load_inputs(snapshot, lab)
            keep_past_command(inputs)  # freed at exit, not as this returns
            _emit(_rendered(document(inputs, tuple(jobs), constants), fmt), output)
        return 0
