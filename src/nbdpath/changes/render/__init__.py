"""Renderer registry: every way nbdpath writes a change as commands.

A renderer is one module in this package with

- ``NAME`` (the ``--format`` value and the key in JSON ``fix`` / plan steps),
- ``ORDER`` (where it is listed), ``TITLE`` (one line for help and reports),
- ``command(change, snap) -> str``: one change, as the user would type it;
  ``snap`` is the state before the change (a renderer that needs no context ignores it),
- ``script(steps, snap) -> str``: a whole plan, ``steps`` being
  :class:`ScriptStep` in order and ``snap`` the state before the first;
- optionally ``READS_STATE = True``: ``script`` reads each step's ``state`` (callers that
  recorded it pass it, the others leave it None).

Every consumer (plan formats, ``fix`` in JSON, plan steps, reports) iterates
:func:`renderers`, so adding a format is adding one module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Optional, Sequence

from ...model import Snapshot
from ..kinds import Change


@dataclass(frozen=True)
class ScriptStep:
    change: Change
    reasons: tuple[str, ...]
    rollback: tuple[Change, ...]
    # The step's host as it stands before it (a one-host snapshot), when the caller recorded it:
    # a renderer that restates a vmk reads it instead of replaying the plan.
    state: Optional[Snapshot] = None


@lru_cache(maxsize=1)
def renderers() -> dict[str, ModuleType]:
    """Name -> renderer module, in ORDER."""
    mods = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)
            if not m.name.startswith("_")]
    return {m.NAME: m for m in sorted(mods, key=lambda m: (m.ORDER, m.NAME))}


def names() -> tuple[str, ...]:
    return tuple(renderers())


def get(name: str) -> ModuleType:
    return renderers()[name]


def command(name: str, change: Change, snap: Optional[Snapshot] = None) -> str:
    return get(name).command(change, snap)


def script(name: str, steps: Sequence[ScriptStep], snap: Snapshot) -> str:
    return get(name).script(steps, snap)
