"""Reading a reviewed plan back (``nbdpath plan --format json``), strictly.

Pure: text in, :class:`PlanFile` out. What gets applied to live hosts is
only the machine-readable ``op`` of each step (and its ``rollback_ops`` for
display); the human fields (``change``, ``esxcli`` ...) are not trusted.
Anything malformed stops the run before a connection is opened, with the
file and the field path (``steps[2].op.vmk``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


from ..errors import InputError
from .. import changes as ch
from ..io import read_input
from .docfile import MAX_DOCUMENT_BYTES, int_field, list_field, op_list, text_field, versioned_steps

PLAN_VERSION = 1
MAX_NAME = 255  # a DNS name; vCenter inventory names are shorter still
# Fields each op must carry (beyond "op" and "host"), and its optional ones: the kinds' own.
_REQUIRED = {k.OP: k.field_names()[0] for k in ch.KINDS}
_OPTIONAL = {k.OP: k.field_names()[1] for k in ch.KINDS}
_TYPES = {k.OP: k.field_types() for k in ch.KINDS}


@dataclass(frozen=True)
class PlannedStep:
    number: int  # 1-based, as the plan text shows it
    change: ch.Change
    rollback: tuple[ch.Change, ...]  # what the plan proposed; the journal records the live inverse
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanFile:
    source: str
    sha256: str
    steps: tuple[PlannedStep, ...]

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.change.host for s in self.steps))


def parse_plan(text: str, source: str) -> PlanFile:
    """Validate a plan document; raises InputError naming the field path."""
    _, steps = versioned_steps(text, source, "a JSON plan from `nbdpath plan --format json`", PLAN_VERSION)
    out: list[PlannedStep] = []
    for where, step in steps:
        change = parse_op(step.get("op"), source, f"{where}.op")
        if "host" in step and step["host"] != change.host:  # a reviewer reads this one, the runner the op's
            raise InputError(source, f"{where}.host", f"the host of its op, {change.host!r}")
        rollback = op_list(step.get("rollback_ops", []), source, f"{where}.rollback_ops")
        _check_rollback(change, rollback, source, f"{where}.rollback_ops")
        rules = list_field(step.get("rules", []), source, f"{where}.rules")
        out.append(PlannedStep(len(out) + 1, change, rollback,
                               tuple(text_field(r, source, f"{where}.rules[{j}]") for j, r in enumerate(rules))))
    return PlanFile(source, hashlib.sha256(text.encode("utf-8")).hexdigest(), tuple(out))


def _check_rollback(change: ch.Change, rollback: tuple[ch.Change, ...], source: str, where: str) -> None:
    """What a plan shows as the rollback is nothing, or the inverse of its own op: never some other change."""
    for j, r in enumerate(rollback):
        if r.host != change.host:
            raise InputError(source, f"{where}[{j}].host", f"the step's own host {change.host!r}")
    if rollback and rollback != recorded_inverse(change):
        expected = "; ".join(c.describe() for c in recorded_inverse(change)) or "nothing (irreversible)"
        raise InputError(source, where, f"the inverse of the step's op: {expected}")


def recorded_inverse(change: ch.Change) -> tuple[ch.Change, ...]:
    """The ops that undo ``change`` once made: the opposite op on the same host and object.

    Derived from the op alone, never read from a file: a plan or a journal
    can only ever undo what it records. () for a vmk removal without a record of the vmk (irreversible).
    """
    return change.opposite()


def parse_op(op: Any, source: str, where: str) -> ch.Change:
    """One ``{"op": ..., "host": ..., ...}`` -> a Change, every field checked."""
    if not isinstance(op, dict):
        raise InputError(source, where, "an op object like {\"op\": \"tag-add\", \"host\": ..., \"vmk\": ...}")
    kind = op.get("op")
    if not isinstance(kind, str) or kind not in _REQUIRED:  # a list or dict would not even hash
        raise InputError(source, f"{where}.op", f"one of {', '.join(_REQUIRED)} (found {kind!r})")
    allowed = {"op", "host", *_REQUIRED[kind], *_OPTIONAL[kind]}
    for key in op:
        if key not in allowed:
            raise InputError(source, f"{where}.{key}", f"no such field for {kind}; expected {', '.join(sorted(allowed))}")
    types = _TYPES[kind]
    for key in ("host", *_REQUIRED[kind]):
        value = op.get(key)
        if types[key] == "text" and (not isinstance(value, str) or not value.strip()):
            raise InputError(source, f"{where}.{key}", f"a non-empty string (required for {kind})")
        if key not in op:
            raise InputError(source, f"{where}.{key}", f"{_SHAPES[types[key]]} (required for {kind})")
    for key in allowed - {"op"}:
        if key in op:
            _typed_field(op[key], types[key], source, f"{where}.{key}")
    try:
        change = ch.from_dict(op)
        change.check_values()
    except ValueError as exc:
        raise InputError(source, where, str(exc)) from None
    return change


_SHAPES = {"text": "a non-empty string", "int": "an integer", "list": "a list of strings"}


def _typed_field(value: Any, kind: str, source: str, where: str) -> None:
    """The JSON shape of one op field (its range is the change kind's to check)."""
    if kind == "int":
        int_field(value, source, where, 0, 2**31 - 1)
    elif kind == "list":
        for j, item in enumerate(list_field(value, source, where)):
            text_field(item, source, f"{where}[{j}]", limit=MAX_NAME)
    else:
        text_field(value, source, where, limit=MAX_NAME)


def load_plan(path: str) -> PlanFile:
    """Read a plan file (I/O edge of :func:`parse_plan`)."""
    return parse_plan(read_input(path, "plan file (nbdpath plan --format json > plan.json)", MAX_DOCUMENT_BYTES), path)
