"""The apply journal: what was done on which host, and how to undo it.

Written atomically (temp file + rename) *before* each step and after it, so
that whatever happens to the process, the file on disk names every change
that may have reached a host together with its inverse. ``nbdpath apply
--rollback JOURNAL`` reads it back. No credentials are ever written here.

Format (version 1)::

    {"version": 1, "kind": "nbdpath-apply-journal",
     "plan": {"file": "plan.json", "sha256": "..."}, "server": "vc01",
     "started": "2026-11-21T09:00:00Z", "updated": "...",
     "state": "running" | "completed" | "rolled-back" | "rollback-incomplete",
     "steps": [{"number": 1, "op": {...}, "status": "planned" | "intended" | "done" | "skipped"
                | "failed" | "rolled-back", "inverse": [{...}], "removed": {...}?,
                "note": "..."}],
     "events": [{"at": "...", "message": "..."}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..errors import InputError
from ..io import write_atomic
from ..plan import changes as ch
from .docfile import op_list, read_text, versioned_steps
from .planfile import parse_op

JOURNAL_VERSION = 1
KIND = "nbdpath-apply-journal"
STEP_STATUSES = ("planned", "intended", "done", "skipped", "failed", "rolled-back")
STATES = ("running", "completed", "rolled-back", "rollback-incomplete")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_name() -> str:
    return "nbdpath-journal-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ".json"


@dataclass(frozen=True)
class Entry:
    number: int
    change: ch.Change
    status: str
    inverse: tuple[ch.Change, ...] = ()
    note: str = ""
    removed: dict[str, Any] | None = None  # a removed vmk's configuration, to recreate it by hand

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"number": self.number, "op": self.change.to_dict(), "status": self.status,
                               "inverse": [c.to_dict() for c in self.inverse], "note": self.note}
        if self.removed is not None:
            out["removed"] = self.removed
        return out


@dataclass(frozen=True)
class Journal:
    plan_file: str
    plan_sha256: str
    server: str
    started: str
    state: str = "running"
    entries: tuple[Entry, ...] = ()
    events: tuple[tuple[str, str], ...] = ()
    updated: str = ""

    def with_entry(self, entry: Entry) -> Journal:
        kept = tuple(e for e in self.entries if e.number != entry.number)
        return replace(self, entries=tuple(sorted(kept + (entry,), key=lambda e: e.number)))

    def entry(self, number: int) -> Entry | None:
        return next((e for e in self.entries if e.number == number), None)

    def with_event(self, message: str) -> Journal:
        return replace(self, events=self.events + ((now(), message),))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": JOURNAL_VERSION,
            "kind": KIND,
            "plan": {"file": self.plan_file, "sha256": self.plan_sha256},
            "server": self.server,
            "started": self.started,
            "updated": self.updated or now(),
            "state": self.state,
            "steps": [e.to_dict() for e in self.entries],
            "events": [{"at": at, "message": m} for at, m in self.events],
        }


@dataclass
class JournalFile:
    """The journal on disk: every :meth:`save` replaces the file atomically."""

    path: str
    journal: Journal
    writes: int = field(default=0)

    def save(self, journal: Journal) -> None:
        self.journal = replace(journal, updated=now())
        write_atomic(self.path, json.dumps(self.journal.to_dict(), indent=2) + "\n")
        self.writes += 1


def parse_journal(text: str, source: str) -> Journal:
    """A journal file back to data; InputError with the field path when it is not one."""
    data, steps = versioned_steps(text, source, "an nbdpath apply journal (JSON)", JOURNAL_VERSION)
    if data.get("kind") != KIND:
        raise InputError(source, "kind", f"{KIND!r}: a journal written by `nbdpath apply --execute`")
    plan: dict[str, Any] = data["plan"] if isinstance(data.get("plan"), dict) else {}
    for key in ("server", "started", "state"):
        if not isinstance(data.get(key), str):
            raise InputError(source, key, "a string")
    if data["state"] not in STATES:
        raise InputError(source, "state", f"one of {', '.join(STATES)}")
    entries = []
    for where, s in steps:
        if not isinstance(s.get("number"), int):
            raise InputError(source, f"{where}.number", "an integer")
        if s.get("status") not in STEP_STATUSES:
            raise InputError(source, f"{where}.status", f"one of {', '.join(STEP_STATUSES)}")
        entries.append(Entry(
            number=s["number"], change=parse_op(s.get("op"), source, f"{where}.op"), status=s["status"],
            inverse=op_list(s.get("inverse", []), source, f"{where}.inverse"),
            note=str(s.get("note", "")), removed=s.get("removed") if isinstance(s.get("removed"), dict) else None,
        ))
    events = tuple((str(e.get("at", "")), str(e.get("message", ""))) for e in data.get("events", []) if isinstance(e, dict))
    return Journal(plan_file=str(plan.get("file", "")), plan_sha256=str(plan.get("sha256", "")), server=data["server"],
                   started=data["started"], state=data["state"], entries=tuple(entries), events=events,
                   updated=str(data.get("updated", "")))


def load_journal(path: str) -> Journal:
    return parse_journal(read_text(path, "an existing journal file (written by `nbdpath apply --execute`)"), path)
