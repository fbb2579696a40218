"""The apply journal: what was done on which host, and how to undo it.

Written atomically (temp file + rename) *before* each step and after it, so
that whatever happens to the process, the file on disk names every change
that may have reached a host together with its inverse. ``nbdpath apply
--rollback JOURNAL`` reads it back. No credentials are ever written here.

A journal is trusted only as far as nbdpath wrote it: every write is sealed
(:mod:`~nbdpath.apply.seal`, HMAC-SHA256 with this user's key over the whole
content), a rollback verifies the seal, and the undo of a step is always
derived from its recorded op (:func:`~nbdpath.apply.planfile.recorded_inverse`);
the ``inverse`` field must agree with it or the journal is refused.

Format (version 2)::

    {"version": 2, "kind": "nbdpath-apply-journal",
     "plan": {"file": "plan.json", "sha256": "..."}, "server": "vc01",
     "started": "2026-11-21T09:00:00Z", "updated": "...",
     "state": "running" | "completed" | "rolled-back" | "rollback-incomplete",
     "steps": [{"number": 1, "op": {...}, "status": "planned" | "intended" | "done" | "skipped"
                | "failed" | "rolled-back", "inverse": [{...}], "removed": {...}?,
                "note": "..."}],
     "events": [{"at": "...", "message": "..."}],
     "seal": {"alg": "hmac-sha256", "key": "<key id>", "mac": "<hex>"}}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..errors import InputError, NbdpathError
from ..io import read_input, write_atomic
from .. import changes as ch
from ..safetext import one_line
from . import seal
from .docfile import (
    MAX_DOCUMENT_BYTES,
    MAX_TEXT,
    int_field,
    list_field,
    object_field,
    op_list,
    text_field,
    versioned_steps,
)
from .planfile import MAX_NAME, parse_op, recorded_inverse

JOURNAL_VERSION = 2
KIND = "nbdpath-apply-journal"
STEP_STATUSES = ("planned", "intended", "done", "skipped", "failed", "rolled-back")
STATES = ("running", "completed", "rolled-back", "rollback-incomplete")
# Steps that may have reached a host: a rollback undoes these, and only these.
TOUCHED = ("done", "intended", "failed")
MAX_STEPS = 1_000_000
_FIELDS = ("version", "kind", "plan", "server", "started", "updated", "state", "steps", "events", "seal")
_STEP_FIELDS = ("number", "op", "status", "inverse", "note", "removed")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_WHAT = "an nbdpath apply journal (JSON)"
_OLDER = ("journals of format 1 carry no seal, so nothing shows they were not edited; "
          "--rollback refuses them: undo their steps by hand (each step lists its inverse)")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_name() -> str:
    return "nbdpath-journal-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ".json"


def _record(text: str) -> str:
    """Notes and events carry messages from hosts: one line, bounded, so the journal reads back."""
    return one_line(text)[:MAX_TEXT]


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
                               "inverse": [c.to_dict() for c in self.inverse], "note": _record(self.note)}
        if self.removed is not None:
            out["removed"] = self.removed
        return out

    @property
    def undo(self) -> tuple[ch.Change, ...]:
        """What undoes this step: derived from its op, whatever the file said."""
        return recorded_inverse(self.change)


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
            "plan": {"file": _record(self.plan_file), "sha256": self.plan_sha256},
            "server": self.server,
            "started": self.started,
            "updated": self.updated or now(),
            "state": self.state,
            "steps": [e.to_dict() for e in self.entries],
            "events": [{"at": at, "message": _record(m)} for at, m in self.events],
        }


@dataclass
class JournalFile:
    """The journal on disk: every :meth:`save` replaces the file atomically."""

    path: str
    journal: Journal
    writes: int = field(default=0)
    key: bytes | None = field(default=None, repr=False)  # this user's journal key, read on the first save

    def save(self, journal: Journal) -> None:
        """Seal and write; OSError when it cannot be written, InputError when the key cannot be had."""
        if self.key is None:
            self.key = seal.load_key(create=True)
        self.journal = replace(journal, updated=now())
        write_atomic(self.path, json.dumps(seal.seal(self.journal.to_dict(), self.key), indent=2) + "\n")
        self.writes += 1


def parse_journal(text: str, source: str, key: bytes | None = None) -> Journal:
    """A journal nbdpath wrote back to data; InputError with the field path when it is not one.

    ``key`` is this user's journal key (read from its file when not given):
    the content is checked field by field first, so a defect is named
    precisely, then the seal, so an edit is refused.
    """
    data, steps = versioned_steps(text, source, _WHAT, JOURNAL_VERSION, older=_OLDER)
    object_field(data, source, "", _FIELDS)
    if data.get("kind") != KIND:
        raise InputError(source, "kind", f"{KIND!r}: a journal written by `nbdpath apply --execute`")
    plan = object_field(data.get("plan"), source, "plan", ("file", "sha256"))
    plan_file = text_field(plan.get("file", ""), source, "plan.file", empty=True)
    plan_sha = plan.get("sha256")
    if not isinstance(plan_sha, str) or not _SHA256.fullmatch(plan_sha):
        raise InputError(source, "plan.sha256", "the plan's SHA-256: 64 lowercase hex digits")
    head = {key: text_field(data.get(key), source, key, limit=64) for key in ("started", "updated")}
    if data.get("state") not in STATES:
        raise InputError(source, "state", f"one of {', '.join(STATES)}")
    entries = _entries(steps, source)
    events = tuple(_event(e, source, f"events[{i}]")
                   for i, e in enumerate(list_field(data.get("events"), source, "events")))
    journal = Journal(plan_file=plan_file, plan_sha256=plan_sha, server=_server(data.get("server"), source),
                      started=head["started"], state=data["state"], entries=entries, events=events,
                      updated=head["updated"])
    seal.verify(data, seal.load_key() if key is None else key, source)
    return journal


def _server(value: Any, source: str) -> str:
    from ..sources.vcenter import Endpoint

    text = text_field(value, source, "server", limit=MAX_NAME + 8)
    try:
        Endpoint.parse(text)
    except NbdpathError as exc:
        raise InputError(source, "server", f"a vCenter address ({exc})") from None
    return text


def _entries(steps, source: str) -> tuple[Entry, ...]:
    entries: dict[int, Entry] = {}
    for where, s in steps:
        object_field(s, source, where, _STEP_FIELDS)
        number = int_field(s.get("number"), source, f"{where}.number", 1, MAX_STEPS)
        if number in entries:
            raise InputError(source, f"{where}.number", f"a step number used once (step {number} appears twice)")
        if s.get("status") not in STEP_STATUSES:
            raise InputError(source, f"{where}.status", f"one of {', '.join(STEP_STATUSES)}")
        entry = Entry(number=number, change=parse_op(s.get("op"), source, f"{where}.op"), status=s["status"],
                      inverse=op_list(s.get("inverse", []), source, f"{where}.inverse"),
                      note=text_field(s.get("note", ""), source, f"{where}.note", empty=True),
                      removed=_removed(s, source, f"{where}.removed"))
        _check_inverse(entry, source, f"{where}.inverse")
        entries[number] = entry
    return tuple(sorted(entries.values(), key=lambda e: e.number))


def _check_inverse(entry: Entry, source: str, where: str) -> None:
    """The recorded inverse is the step's own undo, or (for a step that changed nothing yet) none."""
    derived = entry.undo
    if entry.inverse == derived or (not entry.inverse and entry.status not in TOUCHED):
        return
    expected = "; ".join(c.describe() for c in derived) or "none (the step cannot be undone)"
    found = "; ".join(c.describe() for c in entry.inverse) or "none"
    raise InputError(source, where, f"step {entry.number}'s own undo: {expected} (found {found}); refused, nothing changed")


def _removed(step: dict[str, Any], source: str, where: str) -> dict[str, Any] | None:
    from pydantic import ValidationError

    from ..model import Vmk

    if "removed" not in step:
        return None
    value = object_field(step["removed"], source, where)
    try:
        Vmk.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(source, ".".join([where, *map(str, first["loc"])]), f"a vmk's configuration ({first['msg']})") from None
    return value


def _event(value: Any, source: str, where: str) -> tuple[str, str]:
    event = object_field(value, source, where, ("at", "message"))
    return (text_field(event.get("at"), source, f"{where}.at", limit=64),
            text_field(event.get("message"), source, f"{where}.message", empty=True))


def load_journal(path: str, key: bytes | None = None) -> Journal:
    return parse_journal(read_input(path, "journal file (written by `nbdpath apply --execute`)", MAX_DOCUMENT_BYTES), path, key)
