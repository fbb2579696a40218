"""Dry runs and results as text or as a versioned JSON object (pure)."""

from __future__ import annotations

from typing import Any

from .. import changes as ch
from ..safetext import terminal
from .journal import Entry
from .run import RunResult
from .status import Status, StepView

RESULT_VERSION = 1


def dry_run_dict(plan_file: str, server: str, views: list[StepView]) -> dict[str, Any]:
    counts = {s.value: sum(1 for v in views if v.assessment.status is s) for s in Status}
    return {
        "version": RESULT_VERSION, "kind": "apply-dry-run", "plan": plan_file, "server": server,
        "steps": [{
            "number": v.number, "host": v.change.host, "change": v.change.describe(), "op": v.change.to_dict(),
            "status": v.assessment.status.value, "reason": v.assessment.reason,
            "rollback_ops": [r.to_dict() for r in v.rollback],
            "rollback": [r.describe() for r in v.rollback] if v.rollback or v.change.reversible
            else ["none: irreversible"],
        } for v in views],
        "counts": counts,
    }


def dry_run_text(plan_file: str, server: str, views: list[StepView], executing: bool = False) -> str:
    lines = [f"about to apply {plan_file} via {server}:" if executing
             else f"dry run of {plan_file} against {server}: nothing is changed (add --execute to apply)"]
    for v in views:
        status = v.assessment.status.value.upper()
        lines.append(f"  {v.number}. [{status}] {v.change.describe()}")
        lines.append(f"       {v.assessment.reason}")
        if v.assessment.status is Status.PENDING:
            undo = "; ".join(r.describe() for r in v.rollback) or (
                "nothing to undo" if v.change.reversible else "none: irreversible")
            lines.append(f"       rollback: {undo}")
    counts = {s: sum(1 for v in views if v.assessment.status is s) for s in Status}
    lines.append(f"{counts[Status.PENDING]} pending, {counts[Status.DONE]} already done, {counts[Status.BLOCKED]} blocked")
    return terminal("\n".join(lines) + "\n")


def result_dict(kind: str, result: RunResult, journal_path: str | None) -> dict[str, Any]:
    return {
        "version": RESULT_VERSION, "kind": kind, "state": result.state, "ok": result.ok, "message": result.message,
        "journal": journal_path,
        "steps": [{"number": r.number, "host": r.change.host, "change": r.change.describe(), "op": r.change.to_dict(),
                   "result": r.result, "note": r.note} for r in result.steps],
    }


def result_text(kind: str, result: RunResult, journal_path: str | None) -> str:
    lines = [f"{kind}: {result.state}: {result.message}"]
    for r in result.steps:
        lines.append(f"  {r.number}. {r.result:<10} {r.change.describe()}" + (f"  ({r.note})" if r.note else ""))
    if journal_path:
        lines.append(f"journal: {journal_path}")
    return terminal("\n".join(lines) + "\n")


def rollback_preview_dict(journal_path: str, rows: list[tuple[Entry, list[tuple[ch.Change, str, str]]]]) -> dict:
    return {
        "version": RESULT_VERSION, "kind": "rollback-dry-run", "journal": journal_path,
        "steps": [{"number": e.number, "change": e.change.describe(), "journal_status": e.status,
                   "undo": [{"op": c.to_dict(), "change": c.describe(), "status": s, "reason": why} for c, s, why in ops]}
                  for e, ops in rows],
    }


def rollback_preview_text(journal_path: str, rows: list[tuple[Entry, list[tuple[ch.Change, str, str]]]],
                          executing: bool = False) -> str:
    lines = [f"about to undo {journal_path}:" if executing
             else f"dry run of rolling back {journal_path}: nothing is changed (add --execute to undo)"]
    if not rows:
        lines.append("  no step of this journal changed a host: nothing to undo")
    for e, ops in rows:
        lines.append(f"  step {e.number} ({e.status}): {e.change.describe()}")
        if not ops:
            lines.append("       nothing to undo" if e.change.reversible else "       no automatic undo")
        for c, s, why in ops:
            lines.append(f"       [{s.upper()}] {c.describe()}: {why}")
    return terminal("\n".join(lines) + "\n")
