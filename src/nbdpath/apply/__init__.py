"""Make a reviewed plan real on live hosts: dry run, confirmed steps, journal, rollback.

Public face; the code lives in small modules: ``planfile`` (reading a plan),
``status`` (step status on a live state, pure), ``live`` (the vCenter seam),
``journal`` (the undo record on disk), ``seal`` (its HMAC under a per-user key),
``run`` (the runner) and ``render``.
"""

from .journal import Journal, JournalFile, default_name, load_journal, parse_journal
from .live import Live, LiveError, SnapshotLive, VcenterLive
from .planfile import PlanFile, PlannedStep, load_plan, parse_plan
from .run import RunResult, StepReport, execute, preflight, rollback_preview, undo
from .status import Assessment, Status, StepView, assess, assess_plan

__all__ = [
    "Assessment", "Journal", "JournalFile", "Live", "LiveError", "PlanFile", "PlannedStep", "RunResult",
    "SnapshotLive", "Status", "StepReport", "StepView", "VcenterLive", "assess", "assess_plan", "default_name",
    "execute", "load_journal", "load_plan", "parse_journal", "parse_plan", "preflight", "rollback_preview", "undo",
]
