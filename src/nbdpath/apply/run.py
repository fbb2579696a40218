"""Making a plan real, one confirmed step at a time, and undoing it.

The runner only talks to a :class:`~nbdpath.apply.live.Live` and a
:class:`~nbdpath.apply.journal.JournalFile`; every decision (skip, apply,
refuse) is :func:`~nbdpath.apply.status.assess` on freshly read state.

Safety properties (docs/apply.md):
- a plan with a blocked step is refused before anything changes;
- before a step touches a host, the journal on disk names it and its inverse;
- after each step the state is read again and must show the change;
- any failure rolls back every step this run made, newest first;
- steps whose live state already matches are skipped (re-runs are harmless);
- irreversible steps (vmk removal) run last, after every reversible one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from ..model import Snapshot
from .. import changes as ch
from .journal import TOUCHED, Entry, Journal, JournalFile, now
from .live import Live, LiveError
from .planfile import PlanFile, PlannedStep, recorded_inverse
from .status import Status, StepView, assess, assess_plan, find_host

Say = Callable[[str], None]
StepHook = Callable[[int, ch.Change], None]


@dataclass(frozen=True)
class StepReport:
    number: int
    change: ch.Change
    result: str  # applied | skipped | failed | rolled back | not run | kept (irreversible)
    note: str = ""


@dataclass(frozen=True)
class RunResult:
    state: str  # completed | rolled-back | rollback-incomplete | refused | nothing to undo
    steps: tuple[StepReport, ...]
    message: str

    @property
    def ok(self) -> bool:
        return self.state in ("completed", "nothing to undo")


def preflight(plan: PlanFile, live: Live, allow_irreversible: bool = False) -> list[StepView]:
    """The dry run: every step's status on the live state; changes nothing."""
    return assess_plan(plan.steps, live.read(), allow_irreversible)


def run_order(steps: Iterable[PlannedStep]) -> list[PlannedStep]:
    """Plan order, except that irreversible steps go last: everything before them can still be undone."""
    steps = list(steps)
    return [s for s in steps if s.change.reversible] + [s for s in steps if not s.change.reversible]


def execute(plan: PlanFile, live: Live, journal: JournalFile, allow_irreversible: bool = False,
            say: Say = lambda m: None, before_step: StepHook | None = None) -> RunResult:
    """Apply the plan; on any failure undo what this run did and say so."""
    views = preflight(plan, live, allow_irreversible)
    blocked = [v for v in views if v.assessment.status is Status.BLOCKED]
    if blocked:
        first = blocked[0]
        return RunResult("refused", tuple(StepReport(v.number, v.change, "not run", v.assessment.reason) for v in views),
                         f"nothing changed: step {first.number} is blocked ({first.assessment.reason})")
    planned = tuple(Entry(s.number, s.change, "planned") for s in plan.steps)
    try:
        journal.save(replace(journal.journal, entries=planned).with_event(f"apply started: {len(plan.steps)} step(s)"))
    except OSError as exc:  # no journal, no change
        return RunResult("refused", tuple(StepReport(v.number, v.change, "not run") for v in views),
                         f"nothing changed: cannot write the journal {journal.path} ({exc.strerror or exc})")
    reports: dict[int, StepReport] = {s.number: StepReport(s.number, s.change, "not run") for s in plan.steps}
    failure: str | None = None
    for step in run_order(plan.steps):
        label = f"step {step.number}: {step.change.describe()}"
        try:
            if before_step is not None:
                before_step(step.number, step.change)
            reports[step.number] = _run_step(step, live, journal, allow_irreversible)
            say(f"{label}: {reports[step.number].result} ({reports[step.number].note})")
        except (Exception, KeyboardInterrupt) as exc:  # whatever stops a step, the run is undone
            why = str(exc) if isinstance(exc, (LiveError, OSError)) else (f"{type(exc).__name__}: {exc}".rstrip(": "))
            failure = f"{label} failed: {why}"
            current = journal.journal.entry(step.number)
            if current is not None and current.status == "intended":
                journal.save(journal.journal.with_entry(replace(current, status="failed", note=why)))
            reports[step.number] = StepReport(step.number, step.change, "failed", why)
            say(failure)
            break
    if failure is None:
        journal.save(replace(journal.journal, state="completed").with_event("apply completed"))
        return RunResult("completed", tuple(reports[n] for n in sorted(reports)), "plan applied")
    say("rolling back every step this run made, newest first")
    undone = undo(journal, live, say)
    for r in undone.steps:
        if r.number in reports and reports[r.number].result != "failed":
            reports[r.number] = r
    final = undone.state if undone.state != "nothing to undo" else "rolled-back"
    message = f"{failure}; " + ("every change of this run was rolled back" if final == "rolled-back"
                                else f"ROLLBACK INCOMPLETE: {undone.message}")
    return RunResult(final, tuple(reports[n] for n in sorted(reports)), message)


def _run_step(step: PlannedStep, live: Live, journal: JournalFile, allow_irreversible: bool) -> StepReport:
    """Fresh read -> skip, or journal the inverse, change, read again and confirm. Raises on any failure."""
    state = live.read([step.change.host])
    a = assess(step.change, state, allow_irreversible)
    if a.status is Status.DONE:
        journal.save(journal.journal.with_entry(Entry(step.number, step.change, "skipped", note=a.reason)))
        return StepReport(step.number, step.change, "skipped", a.reason)
    if a.status is Status.BLOCKED:  # the state moved since the dry run
        raise LiveError(a.reason)
    # The undo is derived from the op, as a rollback derives it again: the two can never disagree.
    entry = Entry(step.number, step.change, "intended", recorded_inverse(step.change),
                  note=f"started {now()}", removed=_removed_vmk(step.change, state))
    journal.save(journal.journal.with_entry(entry))  # on disk before the host is touched
    live.perform(step.change)
    after = assess(step.change, live.read([step.change.host]), allow_irreversible)
    if after.status is not Status.DONE:
        raise LiveError(f"the host accepted it but the change is not visible ({after.reason})")
    journal.save(journal.journal.with_entry(replace(entry, status="done", note=f"confirmed {now()}")))
    return StepReport(step.number, step.change, "applied", "confirmed by a fresh read")


def _removed_vmk(change: ch.Change, state: Snapshot) -> dict | None:
    """A vmk about to be removed, recorded in full so that an admin can recreate it."""
    if change.reversible:
        return None
    host = find_host(state, change.host)
    vmk = next((v for v in host.vmks if v.device == change.target_vmk), None) if host else None
    return vmk.model_dump(mode="json") if vmk else None


def undo(journal: JournalFile, live: Live, say: Say = lambda m: None) -> RunResult:
    """Undo every journaled step that may have reached a host, newest first (idempotent)."""
    reports = []
    problems = []
    touched = [e for e in journal.journal.entries if e.status in TOUCHED]
    if not touched:
        journal.save(journal.journal.with_event("rollback: nothing to undo"))
        return RunResult("nothing to undo", (), "no step of this journal changed a host")
    for entry in sorted(touched, key=lambda e: e.number, reverse=True):
        label = f"step {entry.number}: {entry.change.describe()}"
        if not entry.change.reversible and entry.status == "done":
            problems.append(f"{label} cannot be undone (recreate the vmk from the journal's 'removed')")
            reports.append(StepReport(entry.number, entry.change, "kept (irreversible)", problems[-1]))
            say(problems[-1])
            continue
        try:
            for inv in entry.undo:
                a = assess(inv, live.read([inv.host]), restoring=True)
                if a.status is Status.DONE:
                    continue  # this inverse's effect is already there (the step never took hold)
                if a.status is Status.BLOCKED:
                    raise LiveError(a.reason)
                live.perform(inv)
                check = assess(inv, live.read([inv.host]), restoring=True)
                if check.status is not Status.DONE:
                    raise LiveError(f"{inv.describe()} is not visible after it was made ({check.reason})")
            journal.save(journal.journal.with_entry(replace(entry, status="rolled-back", note=f"rolled back {now()}")))
            reports.append(StepReport(entry.number, entry.change, "rolled back",
                                      "; ".join(i.describe() for i in entry.undo) or "nothing to undo"))
            say(f"{label}: rolled back")
        except Exception as exc:  # one step that cannot be undone must not stop the others
            problems.append(f"{label}: {exc}")
            reports.append(StepReport(entry.number, entry.change, "failed", f"rollback failed: {exc}"))
            say(f"{label}: rollback FAILED: {exc}")
    state = "rollback-incomplete" if problems else "rolled-back"
    message = "; ".join(problems) if problems else "every step rolled back"
    journal.save(replace(journal.journal, state=state).with_event(f"rollback: {message}"))
    return RunResult(state, tuple(sorted(reports, key=lambda r: r.number)), message)


def rollback_preview(journal: Journal, live: Live) -> list[tuple[Entry, list[tuple[ch.Change, str, str]]]]:
    """A dry run of ``--rollback``: each journaled step, its inverse ops and their status now."""
    state = live.read()
    out = []
    for entry in sorted(journal.entries, key=lambda e: e.number, reverse=True):
        if entry.status not in TOUCHED:
            continue
        rows = []
        for inv in entry.undo:
            a = assess(inv, state, restoring=True)
            rows.append((inv, a.status.value, a.reason))
            if a.status is Status.PENDING:
                state = ch.apply(state, inv, restoring=True)
        out.append((entry, rows))
    return out
