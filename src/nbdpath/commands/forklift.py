"""``nbdpath import forklift``: Forklift / MTV Host and Plan resources -> snapshot jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import click

from ..errors import InputError, UsageError
from ..model import Snapshot
from ..safetext import is_safe_name, one_line

RESULT_VERSION = 1


def register(cli: click.Group) -> None:
    from .discover import import_group

    import_group.add_command(import_forklift_cmd)


@click.command("forklift")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--snapshot", "snapshot_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Snapshot whose hosts and VMs (moref ids) name the resources' ids; the jobs are merged into it.")
@click.option("--node", metavar="NAME",
              help="The backup node of every job: the OpenShift worker running the transfer "
                   "(a backup node of --snapshot when one is given).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write here (.json for JSON, YAML otherwise; atomically) and print a summary; default: stdout.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="With -o: the summary's format. Without: json writes the snapshot as JSON instead of YAML.")
def import_forklift_cmd(files, snapshot_file, node, output, fmt) -> int:
    """Read Forklift / Migration Toolkit for Virtualization Host and Plan YAML into jobs.

    One job per Plan (product forklift): its VMs, and for each Host resource of
    its source provider the host -> spec.ipAddress ("used for disk transfer"),
    which the migration connects to instead of the address vCenter hands out.
    With --snapshot, ids (host-21, vm-1630) become the snapshot's names and the
    result is that snapshot with the jobs added (same-named jobs replaced);
    without it, a fragment with the ids as written. Notes go to stderr.
    """
    from ..io import read_input
    from ..model import dump, load_file
    from ..model.validate import _dotted, problems
    from ..sources import forklift as src
    from ..sources.output import write_snapshot
    from .discover import _check_output

    if node is not None and (not node.strip() or not is_safe_name(node) or len(node) > 256):
        raise UsageError(f"--node '{one_line(node[:80])}': expected a node name without control characters")
    if output:
        _check_output(output)  # before any file is read: a typo costs nothing
    snap = load_file(snapshot_file) if snapshot_file else None
    if snap is not None and node is not None and node not in {n.name for n in snap.backup_nodes}:
        known = ", ".join(sorted(n.name for n in snap.backup_nodes)[:10]) or "none"
        raise UsageError(f"--node {one_line(node)}: not a backup node of {one_line(snapshot_file)} (it has: {known})")
    res = src.Resources()
    for path in files:
        shown = one_line(path)
        src.parse(read_input(path, "Forklift YAML file", src.MAX_FORKLIFT_FILE, shown=shown), shown, res)
    built = src.build(res, snap, node.strip() if node else None)
    result, replaced = _result(snap, built.jobs)
    if snap is not None:
        for path, expected in problems(result):
            raise InputError(one_line(snapshot_file), _dotted(path), f"{expected} (after adding the Forklift jobs)")
    for note in built.notes + [f"job {one_line(j)} replaced the snapshot's job of that name" for j in replaced]:
        click.echo(f"nbdpath: warning: {one_line(note)}", err=True)
    if not output:
        click.echo(dump(result, "json" if fmt == "json" else "yaml"), nl=False)
        return 0
    written = write_snapshot(result, output)
    _summary(written, result, built, list(files), fmt)
    return 0


def _result(snap: Optional[Snapshot], jobs: list) -> tuple[Snapshot, list[str]]:
    """The snapshot with ``jobs`` added (a same-named job replaced), or a fragment of the jobs alone."""
    if snap is None:
        return Snapshot(name="forklift", description="Jobs from Forklift Plan and Host resources "
                                                      "(nbdpath import forklift); ids not resolved.", jobs=tuple(jobs)), []
    new = {j.name for j in jobs}
    replaced = sorted(j.name for j in snap.jobs if j.name in new)
    kept = tuple(j for j in snap.jobs if j.name not in new)
    return snap.model_copy(update={"jobs": kept + tuple(jobs)}), replaced


def _summary(path: Path, result: Snapshot, built, sources: list[str], fmt: str) -> None:
    jobs = [{"name": j.name, "vms": len(j.vms), "nodes": list(j.nodes), "transfer_addresses": dict(j.transfer_addresses)}
            for j in built.jobs]
    if fmt == "json":
        click.echo(json.dumps({"version": RESULT_VERSION, "kind": "import-forklift", "output": str(path),
                               "sources": sources, "jobs": jobs, "notes": built.notes}, indent=2))
        return
    click.echo(f"wrote {one_line(str(path))}: {len(jobs)} Forklift job(s), {len(result.jobs)} job(s) in all")
    for j in jobs:
        click.echo(f"  job {one_line(j['name'])}: {j['vms']} VM(s), {len(j['transfer_addresses'])} transfer address(es), "
                   f"node {one_line(', '.join(j['nodes']) or 'none')}")
