"""trace, check, explain (the reports), and what every command family shares: inputs, options, writing."""

from __future__ import annotations

from types import ModuleType
from typing import Callable, Optional

import click

from .. import labs as labs_mod
from ..engine import ASSUMPTIONS, Engine
from ..errors import UsageError
from ..io import keep_past_command, write_streamed
from ..model import Snapshot, load_file
from ..plan import changes as changes_mod
from ..render import Report, explain_text, findings_table, paths_table, to_json, to_yaml
from ..render import stream
from ..render.cells import PAIR_ROWS
from ..rules import Severity, check, worst
from ..result import Exit, write
from ..safetext import terminal
from . import select as select_mod

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = Exit.OK, Exit.FINDINGS, Exit.BAD_INPUT


def load_inputs(snapshot: Optional[str], lab: Optional[str]) -> list[tuple[str, Snapshot]]:
    """``--lab NAME|all`` or a snapshot path; exactly one."""
    if snapshot and lab:
        raise UsageError("give a SNAPSHOT file or --lab, not both")
    if lab:
        names = labs_mod.names() if lab == "all" else [lab]
        return [(n, labs_mod.load(n)) for n in names]
    # The console script keeps the loaded estate out of the cyclic GC's reach
    # (nbdpath.io.gc_for_one_command).
    if snapshot == "-":
        return [("<stdin>", _load_stdin())]
    if snapshot:
        return [(snapshot, load_file(snapshot))]
    raise UsageError("give a SNAPSHOT file or --lab NAME (see `nbdpath labs`; `--lab all` runs every built-in lab)")


def _load_stdin() -> Snapshot:
    """``trace -``: a snapshot piped in (e.g. from a discovery on another machine), capped like a file."""
    import sys

    from ..errors import InputError
    from ..io import decode_utf8
    from ..model import parse
    from ..model.load import MAX_SNAPSHOT_BYTES

    data = sys.stdin.buffer.read(MAX_SNAPSHOT_BYTES + 1)
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise InputError("<stdin>", "", f"a snapshot of at most {MAX_SNAPSHOT_BYTES >> 20} MiB")
    return parse(decode_utf8(data, "<stdin>"), "<stdin>")


def _format_option(f):
    return click.option("--format", "fmt", type=click.Choice(["table", "json", "yaml", "markdown", "html"]),
                        default="table", show_default=True,
                        help="Output format; json/yaml are the versioned contract, markdown/html render it.")(f)


def _output_option(f):
    return click.option("-o", "--output", type=click.Path(dir_okay=False),
                        help="Write to FILE (atomically) instead of stdout.")(f)


def _input_options(f):
    f = click.option("--lab", metavar="NAME", help="A built-in lab (see `nbdpath labs`), or `all`.")(f)
    return click.argument("snapshot", required=False, type=click.Path(dir_okay=False))(f)


def _one_input_options(f):
    """For commands that work on one snapshot (plan): --lab offers no `all`."""
    f = click.option("--lab", metavar="NAME", help="A built-in lab (see `nbdpath labs`).")(f)
    return click.argument("snapshot", required=False, type=click.Path(dir_okay=False))(f)


_emit = write  # one writer for every output (stdout, or -o atomically)


def whatif_text(change: changes_mod.Change, snap: Snapshot) -> str:
    """What `nbdpath esxcli` says of a write verb before the path changes: the change,
    the same command for esxcli and PowerCLI (values quoted), and its rollback."""
    try:
        undo = "; ".join(changes_mod.esxcli(c) for c in changes_mod.inverse(change, snap))
    except UsageError as exc:
        undo = str(exc)
    return terminal(f"what-if: {change.describe()}\n"
                    f"  esxcli:   {changes_mod.esxcli(change)}\n"
                    f"  PowerCLI: {changes_mod.powercli(change)}\n"
                    f"  rollback: {undo}\n")


def build_report(inputs: list[tuple[str, Snapshot]], selection: Optional[select_mod.Selection] = None,
                 kind: str = "trace") -> Report:
    """Trace and check every input; with a ``selection`` only its pairs (an unknown name: exit 2).
    ``kind``: the command reporting (the JSON document's ``kind``)."""
    report, check_all = traced_report(inputs, selection, kind)
    check_all()
    return report


def traced_report(inputs: list[tuple[str, Snapshot]], selection: Optional[select_mod.Selection] = None,
                  kind: str = "trace") -> tuple[Report, Callable[[], None]]:
    """:func:`build_report` with its paths traced now and its findings added when the function
    returned is called (once; a second call adds nothing). A fleet's JSON or YAML writes its
    paths from a forked child meanwhile (io.write_atomic_split): the check (0.4 s at 10,000
    hosts) then runs beside the paths' writing instead of before it."""
    selection = selection or select_mod.Selection()
    selection.check_known(s for _, s in inputs)
    report = Report(kind=kind)
    traced = []
    for name, snap in inputs:
        if selection and not selection.applies_to(snap):
            continue
        engine = selection.engine(snap)
        paths = selection.pairs(engine.trace())
        report.add(name, paths, (), engine.snapshot.missing, snap=engine.snapshot)
        traced.append((name, engine, paths))

    def check_all() -> None:
        for name, engine, paths in traced:
            report.add_findings(name, check(engine, paths))
        traced.clear()

    return report, check_all


# The report renderers and the VM rows load only for the formats that use them: together
# ~0.1 s of imports in every table run (python -X importtime).
def _markdown() -> ModuleType:
    from ..render import markdown

    return markdown


def _html() -> ModuleType:
    from ..render import html

    return html


def _vm_rows(inputs: list[tuple[str, Snapshot]], report: Report, vms: tuple[str, ...]) -> Optional[list[dict]]:
    from ..io import gc_paused
    from .estimate import vm_rows

    with gc_paused():  # 100,000 VMs' rows, acyclic: the GC's passes over them were ~0.4 s of 1.0 s
        return vm_rows(inputs, report, vms)


@click.command()
@_input_options
@_format_option
@click.option("--hops/--no-hops", "hops", default=None,
              help=f"Hops (and control flows) in json/yaml/html; default: with hops up to {PAIR_ROWS:,} pairs, "
                   "without above (fleet runs; docs/reports.md).")
@click.option("--vm", "vms", multiple=True, metavar="NAME",
              help="Which host serves this VM's disks, over which path (repeatable; table/json/yaml).")
@select_mod.options
@_output_option
def trace(snapshot, lab, fmt, hops, vms, clusters, hosts, nodes, output):
    """Trace every ESXi host -> backup node pair: endpoint, vmks, uplinks, verdict."""
    if vms and fmt in ("markdown", "html"):
        raise UsageError("trace --vm writes table, json or yaml; markdown and html reports show the pairs")
    inputs = load_inputs(snapshot, lab)
    report, check_all = traced_report(inputs, select_mod.Selection(clusters, hosts, nodes))
    rows = _vm_rows(inputs, report, tuple(vms)) if vms or fmt in ("json", "yaml") else None
    keep_past_command(inputs, report, rows)
    with_hops = stream.with_hops(hops, len(report.paths), fmt)
    if fmt in ("json", "yaml"):
        write_streamed(lambda fh: (check_all(), stream.write(fmt, report, with_hops, fh, rows)), output,
                       stream.halves(fmt, report, with_hops, rows, check_all))
        return EXIT_OK
    check_all()
    if vms and fmt == "table":
        from ..render.estimate import vm_table

        _emit(vm_table(rows or []), output)
    elif fmt == "markdown":
        _emit(_markdown().paths_markdown(report), output)
    elif fmt == "html":
        _emit(_html().report_html(report, with_hops), output)
    else:
        _emit(paths_table(report), output)
    return EXIT_OK

@click.command(name="check")
@_input_options
@_format_option
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default="error",
              show_default=True, help="Exit 1 when a finding is at or above this severity.")
@select_mod.options
@_output_option
def check_cmd(snapshot, lab, fmt, fail_on, clusters, hosts, nodes, output):
    """Check for the known NBD pitfalls; each finding with its fix (esxcli, PowerCLI, govc)."""
    report, check_all = traced_report(load_inputs(snapshot, lab), select_mod.Selection(clusters, hosts, nodes),
                                      kind="check")
    keep_past_command(report)
    if fmt in ("json", "yaml"):
        write_streamed(lambda fh: (check_all(), stream.write(fmt, report, False, fh)), output,
                       stream.halves(fmt, report, False, None, check_all))
    else:
        check_all()
        if fmt == "markdown":
            _emit(_markdown().findings_markdown(report), output)
        elif fmt == "html":
            _emit(_html().report_html(report), output)
        else:
            _emit(findings_table(report), output)
    w = worst(f for _, f in report.findings)
    if fail_on != "never" and w is not None and w.rank >= Severity(fail_on).rank:
        return EXIT_FINDINGS
    return EXIT_OK

@click.command()
@click.argument("host", required=False)
@click.argument("node", required=False)
@click.argument("snapshot_arg", metavar="[SNAPSHOT]", required=False, type=click.Path(dir_okay=False))
@click.option("--snapshot", "snapshot", type=click.Path(dir_okay=False), help="Snapshot file (or give it as SNAPSHOT).")
@click.option("--lab", metavar="NAME", help="A built-in lab.")
@select_mod.options
@_format_option
@_output_option
def explain(host, node, snapshot_arg, snapshot, lab, clusters, hosts, nodes, fmt, output):
    """One path, hop by hop, each step with its reason, and the assumptions it relies on.

    HOST NODE name the pair; or select pairs with --host/--node/--cluster (at most 50).
    """
    if lab == "all":
        raise UsageError("explain needs one snapshot: SNAPSHOT or --lab NAME")
    if host and not node:
        raise UsageError("explain needs HOST and NODE, or --host/--node/--cluster")
    if snapshot_arg and snapshot:
        raise UsageError("give the snapshot once: as SNAPSHOT or with --snapshot")
    [(name, snap)] = load_inputs(snapshot_arg or snapshot, lab)
    keep_past_command(snap)
    if host is None:
        if not (clusters or hosts or nodes):
            raise UsageError("explain needs HOST and NODE, or --host/--node/--cluster")
        paths, findings = _explain_selection(snap, select_mod.Selection(clusters, hosts, nodes))
    else:
        engine = Engine(snap)
        path = engine.trace_pair(host, node)
        paths = [path]
        findings = [f for f in check(engine, [path]) if f.host == host and (not f.nodes or node in f.nodes)]
    if len(paths) == 1 and fmt in ("table", "markdown", "html"):
        render = {"table": lambda: explain_text(name, paths[0], findings, ASSUMPTIONS),
                  "markdown": lambda: _markdown().explain_markdown(name, paths[0], findings),
                  "html": lambda: _html().explain_html(name, paths[0], findings, snap)}[fmt]
        _emit(render(), output)
    elif fmt == "table":
        _emit("\n".join(explain_text(name, p, [f for f in findings if f.host == p.host
                                                and (not f.nodes or p.node in f.nodes)], ASSUMPTIONS)
                        for p in paths), output)
    elif fmt == "markdown":
        _emit("\n".join(_markdown().explain_markdown(name, p, [f for f in findings if f.host == p.host
                                                             and (not f.nodes or p.node in f.nodes)])
                        for p in paths), output)
    else:
        report = Report(kind="explain")
        report.add(name, paths, findings, snap=snap)
        if fmt == "html":
            _emit(_html().report_doc(report.to_dict(with_hops=True), report.render_data(),
                                         title="nbdpath explain", open_details=True), output)
        else:
            _emit(to_json(report) if fmt == "json" else to_yaml(report), output)
    return EXIT_OK

def _explain_selection(snap: Snapshot, selection: select_mod.Selection) -> tuple[list, list]:
    selection.check_known([snap])
    engine = selection.engine(snap)
    paths = selection.pairs(engine.trace())
    if len(paths) > 50:
        raise UsageError(f"{len(paths)} pairs selected; explain shows at most 50: narrow with --host/--node")
    return paths, check(engine, paths)


def register(cli: click.Group) -> None:
    for command in (trace, check_cmd, explain):
        cli.add_command(command)
