"""Strict reading of the JSON documents apply takes (plans, journals).

Both are ``{"version": N, "steps": [{...}, ...]}`` objects; every defect
becomes an InputError naming the file and the field path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..errors import InputError


def read_text(path: str, expected: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        raise InputError(path, "", expected) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"a readable UTF-8 file ({exc})") from None


def versioned_steps(text: str, source: str, what: str, version: int) -> tuple[dict[str, Any], Iterator[tuple[str, dict]]]:
    """The decoded object, and its steps as (field path, step object), each checked to be an object."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"column {exc.colno}", f"{what} ({exc.msg})", line=exc.lineno) from None
    if not isinstance(data, dict):
        raise InputError(source, "", f"{what}: a JSON object with version and steps")
    if data.get("version") != version:
        raise InputError(source, "version", f"format version {version} (found {data.get('version')!r})")
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise InputError(source, "steps", "a list of steps")

    def each() -> Iterator[tuple[str, dict]]:
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                raise InputError(source, f"steps[{i}]", "an object")
            yield f"steps[{i}]", step

    return data, each()


def op_list(value: Any, source: str, where: str) -> tuple:
    """A list of ops (a step's rollback or inverse)."""
    from .planfile import parse_op

    if not isinstance(value, list):
        raise InputError(source, where, "a list of ops")
    return tuple(parse_op(op, source, f"{where}[{j}]") for j, op in enumerate(value))
