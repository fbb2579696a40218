"""esxcli (the what-if of one command), plan (every fix, its what-if and its scripts), diff."""

from __future__ import annotations

import os
from typing import Callable

import click

from ..changes import render as change_renderers
from ..engine import Engine
from ..errors import UsageError
from ..io import forks, gc_paused, in_halves, keep_past_command, write_streamed
from ..model import dump, load_file
from ..plan import changes as changes_mod
from ..plan import diff as diff_mod
from ..plan import esxcli as esxcli_mod
from ..render import markdown as md_render
from ..result import Exit
from ..rules import RULES, Severity
from ..safetext import terminal
from . import select as select_mod
from .core import EXIT_BAD_INPUT, EXIT_OK, _emit, _one_input_options, _output_option, load_inputs, whatif_text


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False,
                               "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def esxcli(args):
    """Run an esxcli-shaped command against a snapshot copy (what-if).

    \b
    nbdpath esxcli SNAPSHOT --host H network ip interface tag add -i vmk2 -t vSphereBackupNFC
    nbdpath esxcli --lab veeam-tag-routed --host esx01.lab.local \\
        network ip route ipv4 add -n 10.40.0.0/24 -g 10.30.0.1 -o fixed.yaml
    Options (anywhere): --host H (required), --lab NAME, -o/--output FILE.
    Read verbs print what esxcli would; write verbs show what the change does
    to every path, and write the changed snapshot with -o.
    """
    argv = list(args)
    if argv in (["-h"], ["--help"]) or not argv:
        click.echo(click.get_current_context().get_help())
        return EXIT_OK if argv else EXIT_BAD_INPUT
    own: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        key = {"--host": "host", "--lab": "lab", "-o": "output", "--output": "output"}.get(a.split("=")[0])
        if key:
            if "=" in a:
                own[key] = a.split("=", 1)[1]
            elif i + 1 < len(argv):
                own[key] = argv[i + 1]
                i += 1
            else:
                raise UsageError(f"option {a} needs a value")
        else:
            rest.append(a)
        i += 1
    host, lab, output = own.get("host"), own.get("lab"), own.get("output")
    if not host:
        raise UsageError("esxcli needs --host H (the host the command runs on)")
    if lab == "all":
        raise UsageError("esxcli runs on one host of one snapshot: give a SNAPSHOT file or --lab NAME, not --lab all")
    snapshot = None
    if not lab:
        # `network ...` first means the snapshot was left out, not a file named "network".
        if not rest or (rest[0] in ("esxcli", "network") and not os.path.exists(rest[0])):
            raise UsageError("give a SNAPSHOT file or --lab NAME, then the esxcli command")
        snapshot, rest = rest[0], rest[1:]
    argv = rest
    [(name, snap)] = load_inputs(snapshot, lab)
    result = esxcli_mod.parse(argv, snap, host)
    if isinstance(result, esxcli_mod.Query):
        _emit(result.render())
        return EXIT_OK
    new = changes_mod.apply(snap, result)
    changed = diff_mod.diff(Engine(snap).trace(), Engine(new).trace())
    _emit(whatif_text(result, snap))
    _emit(diff_mod.render(changed))
    if snap.jobs:  # each job's window before and after (issue 9)
        from ..estimate import compare
        from ..render import estimate as est_render

        _emit(est_render.windows_text(compare(snap, new)).replace("after the plan", "after this change"))
    if output:
        _emit(dump(new, "json" if output.endswith(".json") else "yaml"), output)
        click.echo(terminal(f"wrote {output}"))
    else:
        click.echo("(snapshot not written; add -o FILE to save the changed copy)")
    return EXIT_OK

@click.command(name="plan")
@_one_input_options
@click.option("--severity", type=click.Choice(["error", "warning", "info"]), default="warning", show_default=True,
              help="Take fixes of findings at or above this severity.")
@click.option("--rule", "rules_", multiple=True, metavar="ID", help="Only fixes of these rules (repeatable).")
@select_mod.options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", *change_renderers.names()]),
              default="text", show_default=True,
              help="text: plan + what-if; markdown: the same for a ticket; the others: a script to run, "
                   "rollback in comments.")
@click.option("--save-snapshot", type=click.Path(dir_okay=False), help="Write the snapshot as it would be after the plan.")
@_output_option
def plan_cmd(snapshot, lab, severity, rules_, clusters, hosts, nodes, fmt, save_snapshot, output):
    """Collect the fixes the findings propose into one plan and show, before anything
    is touched, what it does to every path and finding; render it as a script."""
    from ..plan import plan as plan_mod

    if lab == "all":
        raise UsageError("plan works on one snapshot: give --lab NAME (see `nbdpath labs`), not --lab all")
    inputs = load_inputs(snapshot, lab)
    if len(inputs) != 1:
        raise UsageError("plan needs one snapshot: a SNAPSHOT file or --lab NAME")
    [(_, snap)] = inputs
    unknown = [r for r in rules_ if r not in RULES]
    if unknown:
        raise UsageError(f"unknown rule {unknown[0]}; see `nbdpath rules`")
    selection = select_mod.Selection(clusters, hosts, nodes)
    selection.check_known([snap])
    chosen = selection.host_names(snap) if (hosts or clusters) else ()
    # Only the chosen hosts are traced and checked: a finding concerns one host.
    scope = list(chosen) if chosen else [h.name for h in snap.hosts]
    options = (Severity(severity), rules_, chosen, nodes)
    with gc_paused():  # ~10^6 acyclic objects (steps, paths, findings): passes over them cost seconds
        keep_past_command(inputs)
        if fmt in ("text", "json", "markdown") and not save_snapshot and not snap.jobs and len(scope) >= HALVES_FROM_HOSTS \
                and forks():
            _write_plan_in_halves(snap, options, scope, fmt, output)
            return Exit.OK
        proposal = plan_mod.propose(snap, *options, within=chosen or None)
        keep_past_command(proposal)
        _write_plan(proposal, snap, fmt, save_snapshot, output, whole=not chosen)
    return Exit.OK


# From this many hosts a plan's text or JSON is made in two halves of the hosts at once, the
# first by a forked child (io.Sections): each half traces, checks, proposes and assesses its
# own hosts and writes its sections, which are then joined. Measured (fresh process, output
# to a file): 10,000 hosts plan json 2.40 -> 1.9-2.0 s, text 2.53 -> 1.65 s; 1,000 hosts
# 0.46 -> 0.40 and 0.47 -> 0.36 s; 300 hosts 0.30 -> 0.27 s.
HALVES_FROM_HOSTS = 300


def _write_plan_in_halves(snap, options, scope: list[str], fmt: str, output) -> None:
    """The plan's text, JSON or Markdown, the same bytes as :func:`_write_plan` writes (not with jobs,
    whose windows need the whole plan's after-state, nor with --save-snapshot)."""
    from ..plan import plan as plan_mod

    cut = len(scope) // 2

    def half(hosts: list[str]) -> Callable:
        def work(out, first):
            proposal = plan_mod.propose(snap, *options, within=hosts)
            out.say("steps", len(proposal.steps))
            plan = plan_mod.assess(proposal)
            keep_past_command(proposal, plan)
            # The second half's steps are numbered on from the first's, which the child says once it
            # has proposed: asked only now, so that this half's own work is not held up for it.
            first_step = 1 if first is None or fmt == "json" else first.get("steps") + 1
            if fmt == "json":
                plan_mod.write_json_sections(plan, out)
            elif fmt == "markdown":
                sections, facts = md_render.plan_markdown_part(plan, first_step)
                for name in md_render.MARKDOWN_SECTIONS:
                    out.write(sections[name])
                    out.end(name)
                out.say("facts", facts)
            else:
                plan_mod.write_text_sections(plan, out, first_step)
            out.say("counts", plan_mod.text_counts(plan))
        return work

    with in_halves(half(scope[:cut]), half(scope[cut:]), output) as halves:
        first, rest = halves
        if fmt == "json":
            write_streamed(lambda fh: plan_mod.write_json_joined(fh, halves), output)
        elif fmt == "markdown":
            facts = [first.get("facts"), rest.get("facts")]
            write_streamed(lambda fh: md_render.plan_markdown_joined(fh, facts, halves), output)
        else:
            counts = {k: first.get("counts")[k] + rest.get("counts")[k] for k in rest.get("counts")}
            write_streamed(lambda fh: plan_mod.write_text_joined(fh, counts, halves), output)


# From this many steps a plan's JSON writes its steps from a forked child while the what-if
# runs here (io.write_atomic_split): ~0.6 s each at 10,000 hosts (14,000 steps); at 1,000
# hosts (1,400 steps) 0.43 -> 0.39 s.
HALVES_FROM_STEPS = 1_000


def _write_plan(proposal, snap, fmt: str, save_snapshot, output, whole: bool = False) -> None:
    from ..estimate import compare
    from ..plan import plan as plan_mod

    # Both files or neither: the snapshot after the plan is built before anything is written.
    after = dump(proposal.after, "json" if save_snapshot.endswith(".json") else "yaml") if save_snapshot else None

    def assessed():
        plan = plan_mod.assess(proposal)
        keep_past_command(plan)
        return plan

    def windows_of(plan) -> list:
        """Each job's window before and after (issue 9); only when the snapshot has jobs. A plan
        of every host estimates them from its own paths before and after (100,000 VMs on 10,000
        hosts: two fleet traces fewer), made once the JSON's steps are being written."""
        if not snap.jobs:
            return []
        if whole and plan.after_paths:
            return compare(snap, proposal.after, before_paths=proposal.before_paths, after_paths=plan.after_paths)
        return compare(snap, proposal.after)

    if fmt == "json":
        def rest(fh):
            plan = assessed()
            windows = windows_of(plan)
            plan.write_json_rest(fh, {"windows": windows} if windows else None)

        def steps(fh):
            plan_mod.write_json_steps(proposal, fh)

        write_streamed(lambda fh: (steps(fh), rest(fh)), output,
                       (steps, rest) if len(proposal.steps) >= HALVES_FROM_STEPS else None)
    elif fmt in ("text", "markdown"):
        plan = assessed()
        _emit(_plan_text(plan, fmt, windows_of(plan)), output)
    else:  # a script: the steps and their rollback, no what-if
        _emit(plan_mod.render_script(proposal, fmt), output)
    if after is not None:
        _emit(after, save_snapshot)


def _plan_text(plan, fmt: str, windows: list) -> str:
    from ..plan import plan as plan_mod
    from ..render import estimate as est_render

    if fmt == "text":
        return plan_mod.render_text(plan) + est_render.windows_text(windows)
    return md_render.plan_markdown(plan) + est_render.windows_markdown(windows)

@click.command(name="diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
@_output_option
def diff_cmd(old, new, fmt, output):
    """List every pair whose path or verdict differs between two snapshots (exit 1 if any)."""
    before, after = load_file(old), load_file(new)
    with gc_paused():  # ~10^6 acyclic objects: two fleets' paths
        keep_past_command(before, after)
        changed = _write_diff(before, after, fmt, output)
    return Exit.ATTENTION if changed else Exit.OK


# From this many hosts a diff of two snapshots of the same hosts and nodes is made in two halves
# of the hosts at once (io.Sections), as a plan is, and written item by item. 10,000 hosts,
# 96,000 changed pairs (fresh process, -o): table 3.7 -> 2.0 s; JSON 7.5 s / 1.06 GiB -> 2.05 s /
# 400 MiB; YAML 74 s / 1.8 GiB -> 1.8 s / 360 MiB (benchmarks/README.md).
DIFF_HALVES_FROM_HOSTS = 300


def _write_diff(before, after, fmt: str, output) -> int:
    """``diff`` of two snapshots in ``fmt`` onto ``output``; how many pairs changed. The text
    is ``diff.render`` (table) or the ``diff`` result's JSON or YAML, item by item."""
    from ..render.stream import ITEM_NL, write_joined_list, yaml_text

    names = [h.name for h in before.hosts]
    same = names == [h.name for h in after.hosts] and \
        [n.name for n in before.backup_nodes] == [n.name for n in after.backup_nodes]
    # Other hosts or nodes: pairs added or removed are listed after the others, so one part.
    halves = same and len(names) >= DIFF_HALVES_FROM_HOSTS and forks()
    cut = len(names) // 2 if halves else 0

    def part(hosts) -> Callable:
        def work(out, _first):
            scope = None if hosts is None else set(hosts)
            # No hosts (the first part of a diff made whole): no engines compiled for it.
            changes = diff_mod.diff(Engine(before).trace(hosts=scope), Engine(after).trace(hosts=scope)) \
                if scope is None or scope else []
            keep_past_command(changes)
            if fmt == "json":
                out.write("".join("," + ITEM_NL + text for text in diff_mod.json_items(changes, ITEM_NL)))
            elif fmt == "yaml":
                out.write("".join(diff_mod.yaml_items(changes)))
            else:
                out.write(terminal("".join(line + "\n" for line in diff_mod.change_lines(changes))))
            out.end("changes")
            out.say("count", len(changes))
        return work

    with in_halves(part(names[:cut] if halves else []), part(names[cut:] if halves else None), output,
                   fork=halves) as parts:
        count = sum(p.get("count") for p in parts)

        def fill(fh) -> None:
            if fmt == "json":
                fh.write('{\n  "version": 1,\n  "kind": "diff"')
                write_joined_list(fh, "changes", parts)
                fh.write("\n}\n")
                return
            if fmt == "yaml":
                fh.write(yaml_text({"version": 1, "kind": "diff"}) + ("changes:\n" if count else "changes: []\n"))
            for p in parts:
                p.copy("changes", fh)
            if fmt == "table":
                fh.write(f"{count} path(s) changed\n" if count else "no path changes\n")
        write_streamed(fill, output)
    return count


def register(cli: click.Group) -> None:
    for command in (esxcli, plan_cmd, diff_cmd):
        cli.add_command(command)
