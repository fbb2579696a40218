"""``nbdpath apply``: a reviewed plan made real on live hosts, or a run undone.

parse options -> read the plan (or journal) -> connect -> dry run (always)
-> only with --execute: confirm, apply step by step with a journal -> render
-> exit code 0 done / nothing to do, 1 dry run with blocked steps,
2 bad input, refused, or a failed run (rolled back).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import UsageError
from ..safetext import one_line
from ..result import Exit

EXIT_OK, EXIT_FINDINGS, EXIT_FAILED = Exit.OK, Exit.BLOCKED, Exit.APPLY_FAILED


def register(cli: click.Group) -> None:
    cli.add_command(apply_cmd)


def _emit(fmt: str, text: str, data: dict) -> None:
    click.echo(json.dumps(data, indent=2) if fmt == "json" else text, nl=fmt == "json")


def _say(message: str) -> None:
    click.echo(f"nbdpath: {one_line(message)}", err=True)


def _check_journal_path(path: str) -> None:
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(f"--journal {path}: directory {parent} does not exist")
    if Path(path).exists():
        raise UsageError(f"--journal {path}: exists already; a journal is never overwritten (choose another name)")


@click.command("apply")
@click.argument("plan", required=False)
@click.option("--server", required=True, metavar="VC", help="vCenter or ESXi address, host[:port] or https://host[:port].")
@click.option("--user", required=True, help="User name; the password comes from --password-file, "
              "$NBDPATH_PASSWORD or a prompt, never from the command line.")
@click.option("--password-file", metavar="FILE", help="File whose first line is the password.")
@click.option("--ca-file", metavar="PEM",
              help="CA certificate(s) to verify the server with (default: the system store).")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (warned about; avoid).")
@click.option("--execute", is_flag=True, help="Make the changes. Without it, apply is a dry run that changes nothing.")
@click.option("--yes", is_flag=True, help="With --execute: do not ask for confirmation (needed without a terminal).")
@click.option("--journal", "journal_path", metavar="FILE",
              help="Where --execute records each step and its inverse (default nbdpath-journal-<UTC time>.json).")
@click.option("--allow-irreversible", is_flag=True, help="Allow vmk-remove steps (nbdpath cannot undo them; they run last).")
@click.option("--rollback", "rollback_journal", metavar="JOURNAL",
              help="Undo the run this journal records (a dry run unless --execute) instead of applying a plan.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
              help="Seconds the server may take to connect, to set up TLS, and to answer each request in full.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output on stdout; json is a versioned object. Progress goes to stderr.")
def apply_cmd(plan, server, user, password_file, ca_file, insecure, execute, yes, journal_path, allow_irreversible,
              rollback_journal, timeout, fmt) -> int:
    """Apply a plan from `nbdpath plan --format json` to live hosts through vCenter.

    A DRY RUN by default: connects, reads the hosts the plan names and shows
    every step as pending, already done or blocked, with its rollback.
    --execute makes the changes, step by step: journal first, then the
    change, then a fresh read to confirm it. A failure rolls back every step
    of the run and exits 2. `--rollback JOURNAL --execute` undoes a run.
    """
    from .. import apply as ap
    from ..apply.seal import load_key
    from ..sources.vsphere import ConnectOptions, Credentials
    from .discover import _check_connection, _password

    if bool(plan) == bool(rollback_journal):
        raise UsageError("give a PLAN file to apply or --rollback JOURNAL to undo a run, not both or neither")
    if yes and not execute:
        raise UsageError("--yes only confirms --execute; a dry run needs no confirmation")
    # Inputs are read before any network traffic: a typo costs nothing.
    plan_file = ap.load_plan(plan) if plan else None
    journal = ap.load_journal(rollback_journal) if rollback_journal else None
    if journal is not None and journal_path:
        raise UsageError("--rollback updates the journal it reads; --journal does not apply")
    if execute and not yes and not sys.stdin.isatty():
        raise UsageError("--execute asks for confirmation on a terminal; without one, add --yes after reviewing the dry run")
    _check_connection([server], user, ca_file, insecure, timeout)
    key = None
    if plan_file is not None and execute:
        journal_path = journal_path or ap.default_name()
        _check_journal_path(journal_path)
        key = load_key(create=True)  # no sealed journal, no change
    if insecure:
        click.echo("nbdpath: warning: --insecure: TLS certificates are NOT verified; "
                   "anyone on the path can read the credentials and change the hosts", err=True)
    creds = Credentials(user, _password(password_file, user))
    live = ap.VcenterLive.open(server, creds, ConnectOptions(ca_file=ca_file, insecure=insecure, timeout_s=timeout))
    try:
        if journal is not None:
            return _rollback(ap, live, journal, rollback_journal, execute, yes, fmt)
        return _apply(ap, live, plan_file, execute, yes, journal_path, allow_irreversible, fmt, key)
    except ap.LiveError as exc:  # the hosts could not be read or a step failed: the apply failed, the input was fine
        click.echo(f"nbdpath: error: {one_line(str(exc))}", err=True)
        return EXIT_FAILED
    except OSError as exc:  # the journal could not be written after a step: say where, no traceback
        raise UsageError(f"journal: {exc.strerror or exc} ({getattr(exc, 'filename', '') or ''}); "
                         "check the live state with a dry run and the journal by hand") from None
    finally:
        live.close()


def _confirm(question: str, yes: bool) -> None:
    if not yes and not click.confirm(question, default=False, err=True):
        raise click.exceptions.Abort()


def _apply(ap, live, plan_file, execute: bool, yes: bool, journal_path: str | None, allow_irreversible: bool,
           fmt: str, key: bytes | None) -> int:
    from ..apply import render
    from ..apply.journal import now

    server = live.endpoint.label
    views = ap.preflight(plan_file, live, allow_irreversible)
    blocked = [v for v in views if v.assessment.status is ap.Status.BLOCKED]
    pending = [v for v in views if v.assessment.status is ap.Status.PENDING]
    if not execute:
        _emit(fmt, render.dry_run_text(plan_file.source, server, views), render.dry_run_dict(plan_file.source, server, views))
        return EXIT_FINDINGS if blocked else EXIT_OK
    if fmt == "table":  # the reviewer sees exactly what is about to happen
        click.echo(render.dry_run_text(plan_file.source, server, views, executing=True), nl=False, err=True)
    if blocked:
        raise UsageError(f"refused: nothing changed; step {blocked[0].number} is blocked ({blocked[0].assessment.reason})")
    if not pending:
        result = ap.RunResult("completed", tuple(ap.StepReport(v.number, v.change, "skipped", v.assessment.reason)
                                                 for v in views), "nothing to do: every step is already done")
        _emit(fmt, render.result_text("apply", result, None), render.result_dict("apply", result, None))
        return EXIT_OK
    _confirm(f"Apply {len(pending)} change(s) on {len({v.change.host for v in pending})} host(s) via {server}?", yes)
    journal = ap.JournalFile(journal_path, ap.Journal(plan_file.source, plan_file.sha256, server, now()), key=key)
    result = ap.execute(plan_file, live, journal, allow_irreversible, say=_say)
    if result.state == "refused":
        raise UsageError(result.message)
    _emit(fmt, render.result_text("apply", result, journal_path), render.result_dict("apply", result, journal_path))
    return EXIT_OK if result.ok else EXIT_FAILED


def _rollback(ap, live, journal, path: str, execute: bool, yes: bool, fmt: str) -> int:
    from ..apply import render
    from ..sources.vsphere import Endpoint

    if Endpoint.parse(journal.server).label != live.endpoint.label:
        raise UsageError(f"{path} records a run on {journal.server}, not {live.endpoint.label}")
    rows = ap.rollback_preview(journal, live)
    if not execute:
        _emit(fmt, render.rollback_preview_text(path, rows), render.rollback_preview_dict(path, rows))
        return EXIT_OK
    if fmt == "table":
        click.echo(render.rollback_preview_text(path, rows, executing=True), nl=False, err=True)
    if rows:
        _confirm(f"Undo {len(rows)} step(s) recorded in {path} via {live.endpoint.label}?", yes)
    journal_file = ap.JournalFile(path, journal)
    try:  # journal first: a rollback that could not record what it undid does not start
        journal_file.save(journal.with_event(f"rollback started: {len(rows)} step(s)"))
    except OSError as exc:
        raise UsageError(f"refused: nothing changed; cannot write the journal {path} ({exc.strerror or exc})") from None
    result = ap.undo(journal_file, live, say=_say)
    _emit(fmt, render.result_text("rollback", result, path), render.result_dict("rollback", result, path))
    return EXIT_OK if result.ok or result.state == "rolled-back" else EXIT_FAILED
