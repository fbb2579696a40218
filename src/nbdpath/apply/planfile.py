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

from pydantic import ValidationError

from ..errors import InputError
from ..plan import changes as ch
from .docfile import op_list, read_text, versioned_steps

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
    _, steps = versioned_steps(text, source, "a JSON plan from `nbdpath plan --format json`", PLAN_VERSION)
    out: list[PlannedStep] = []
    for where, step in steps:
        change = parse_op(step.get("op"), source, f"{where}.op")
        rollback = op_list(step.get("rollback_ops", []), source, f"{where}.rollback_ops")
        for j, r in enumerate(rollback):
            if r.host != change.host:
                raise InputError(source, f"{where}.rollback_ops[{j}].host", f"the step's own host {change.host!r}")
        rules = step.get("rules", [])
        out.append(PlannedStep(len(out) + 1, change, rollback, tuple(str(r) for r in rules) if isinstance(rules, list) else ()))
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
    return parse_plan(read_text(path, "an existing plan file (nbdpath plan --format json > plan.json)"), path)
