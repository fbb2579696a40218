"""Reading a reviewed plan back (``nbdpath plan --format json``), strictly.

Pure: text in, :class:`PlanFile` out. What gets applied to live hosts is
only the machine-readable ``op`` of each step (and its ``rollback_ops`` for
display); the human fields (``change``, ``esxcli`` ...) are not trusted.
Anything malformed stops the run before a connection is opened, with the
file and the field path (``steps[2].op.vmk``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..plan import changes as ch

PLAN_VERSION = 1

# Fields each op must carry (beyond "op" and "host"), and their optional ones.
_REQUIRED = {
    "tag-add": ("vmk",),
    "tag-remove": ("vmk",),
    "route-add": ("network", "gateway"),
    "route-remove": ("network", "gateway"),
    "vmk-remove": ("vmk",),
}
_OPTIONAL = {"tag-add": ("tag",), "tag-remove": ("tag",), "route-add": ("netstack",), "route-remove": ("netstack",),
             "vmk-remove": ()}


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
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"column {exc.colno}", f"a JSON plan from `nbdpath plan --format json` ({exc.msg})",
                         line=exc.lineno) from None
    if not isinstance(data, dict):
        raise InputError(source, "", "a JSON object with version and steps")
    if data.get("version") != PLAN_VERSION:
        raise InputError(source, "version", f"plan format version {PLAN_VERSION} (found {data.get('version')!r})")
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise InputError(source, "steps", "a list of steps")
    out = []
    for i, step in enumerate(steps):
        where = f"steps[{i}]"
        if not isinstance(step, dict):
            raise InputError(source, where, "an object with op and rollback_ops")
        change = parse_op(step.get("op"), source, f"{where}.op")
        rollback_raw = step.get("rollback_ops", [])
        if not isinstance(rollback_raw, list):
            raise InputError(source, f"{where}.rollback_ops", "a list of ops")
        rollback = tuple(parse_op(r, source, f"{where}.rollback_ops[{j}]") for j, r in enumerate(rollback_raw))
        for j, r in enumerate(rollback):
            if r.host != change.host:
                raise InputError(source, f"{where}.rollback_ops[{j}].host", f"the step's own host {change.host!r}")
        rules = step.get("rules", [])
        out.append(PlannedStep(i + 1, change, rollback, tuple(str(r) for r in rules) if isinstance(rules, list) else ()))
    return PlanFile(source, hashlib.sha256(text.encode("utf-8")).hexdigest(), tuple(out))


def parse_op(op: Any, source: str, where: str) -> ch.Change:
    """One ``{"op": ..., "host": ..., ...}`` -> a Change, every field checked."""
    if not isinstance(op, dict):
        raise InputError(source, where, "an op object like {\"op\": \"tag-add\", \"host\": ..., \"vmk\": ...}")
    kind = op.get("op")
    if kind not in _REQUIRED:
        raise InputError(source, f"{where}.op", f"one of {', '.join(_REQUIRED)} (found {kind!r})")
    allowed = {"op", "host", *_REQUIRED[kind], *_OPTIONAL[kind]}
    for key in op:
        if key not in allowed:
            raise InputError(source, f"{where}.{key}", f"no such field for {kind}; expected {', '.join(sorted(allowed))}")
    for key in ("host", *_REQUIRED[kind]):
        value = op.get(key)
        if not isinstance(value, str) or not value.strip():
            raise InputError(source, f"{where}.{key}", f"a non-empty string (required for {kind})")
    for key in _OPTIONAL[kind]:
        if key in op and (not isinstance(op[key], str) or not op[key].strip()):
            raise InputError(source, f"{where}.{key}", "a non-empty string")
    try:
        change = ch.from_dict(op)
        _check_values(change)
    except ValueError as exc:
        raise InputError(source, where, str(exc)) from None
    return change


def _check_values(change: ch.Change) -> None:
    """The values live hosts would refuse: caught here, before any connection."""
    from ..model import Route
    from ..model.snapshot import normalise_service, normalise_stack

    vmk = change.vmk if isinstance(change, (ch.TagAdd, ch.TagRemove, ch.VmkRemove)) else None
    if vmk is not None and not (vmk.startswith("vmk") and vmk[3:].isdigit()):
        raise ValueError(f"vmk: expected a VMkernel adapter name like vmk2 (found {vmk!r})")
    if isinstance(change, (ch.TagAdd, ch.TagRemove)):
        normalise_service(change.tag)  # raises ValueError for an unknown service tag
    if isinstance(change, (ch.RouteAdd, ch.RouteRemove)):
        try:
            Route(network=change.network, gateway=change.gateway)
        except ValidationError as exc:  # keep pydantic's first message: it names the bad value
            raise ValueError(f"route {change.network} via {change.gateway}: {exc.errors()[0]['msg']}") from None
        normalise_stack(change.netstack)


def load_plan(path: str) -> PlanFile:
    """Read a plan file (I/O edge of :func:`parse_plan`)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise InputError(path, "", "an existing plan file (nbdpath plan --format json > plan.json)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"a readable UTF-8 file ({exc})") from None
    return parse_plan(text, path)
