"""Strict reading of the JSON documents apply takes (plans, journals).

Both are ``{"version": N, "steps": [{...}, ...]}`` objects; every defect
becomes an InputError naming the file and the field path. These files may
come from anyone (a shared folder, a ticket), so the reader bounds what it
reads: a regular file of at most :data:`MAX_DOCUMENT_BYTES`, nesting no
deeper than the interpreter can parse, no duplicate keys, no NaN, integers
that are integers (``1``, not ``1.0`` or ``true``), strings without control
characters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..errors import InputError
from ..safetext import is_safe_name

# A 10,000-step plan is about 10 MiB; past this cap a file is not one nbdpath wrote.
MAX_DOCUMENT_BYTES = 64 * 2**20
MAX_TEXT = 4096  # characters in one string field (host names are at most 255)


class _Refused(ValueError):
    """Raised from inside the JSON parser's hooks; becomes an InputError."""


def parse_json(text: str, source: str, what: str) -> Any:
    """Decode strictly; every refusal is an InputError on ``source``."""
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"column {exc.colno}", f"{what} ({exc.msg})", line=exc.lineno) from None
    except RecursionError:
        # The C decoder stops at the interpreter's recursion limit (~1,000 levels);
        # nbdpath's documents nest 5 deep.
        raise InputError(source, "", f"{what}: nesting too deep to read (nbdpath writes 5 levels)") from None
    except _Refused as exc:
        raise InputError(source, "", f"{what}: {exc}") from None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # json keeps the last of two equal keys; a reviewer may have read the first
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"each key once per object ({key!r} appears twice)")
            seen.add(key)
    return out


def _constant(name: str) -> Any:
    raise _Refused(f"numbers only, not {name}")


def _int(digits: str) -> int:
    # Python refuses to convert > 4,300 digits with a ValueError; no field needs more than 20.
    if len(digits.lstrip("-")) > 20:
        raise _Refused(f"integers of at most 20 digits (found one of {len(digits)})")
    return int(digits)


def versioned_steps(text: str, source: str, what: str, version: int,
                    older: str = "") -> tuple[dict[str, Any], Iterator[tuple[str, dict]]]:
    """The decoded object, and its steps as (field path, step object), each checked to be an object.

    ``older``: what to say of a document in an earlier format version.
    """
    data = parse_json(text, source, what)
    if not isinstance(data, dict):
        raise InputError(source, "", f"{what}: a JSON object with version and steps")
    found = data.get("version")
    if type(found) is not int or found != version:  # 1.0 and true compare equal to 1
        why = f": {older}" if older and type(found) is int and 0 < found < version else ""
        raise InputError(source, "version", f"format version {version} (found {_shown(found)}){why}")
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise InputError(source, "steps", "a list of steps")

    def each() -> Iterator[tuple[str, dict]]:
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                raise InputError(source, f"steps[{i}]", "an object")
            yield f"steps[{i}]", step

    return data, each()


def text_field(value: Any, source: str, where: str, empty: bool = False, limit: int = MAX_TEXT) -> str:
    """A string a terminal can show as it is: no control characters, bidi overrides or line separators."""
    if not isinstance(value, str):
        raise InputError(source, where, f"a string (found {_json_type(value)})")
    if not empty and not value.strip():
        raise InputError(source, where, "a non-empty string")
    if len(value) > limit:
        raise InputError(source, where, f"a string of at most {limit} characters (found {len(value)})")
    if not is_safe_name(value):
        raise InputError(source, where, "text without control characters, line separators or bidirectional overrides")
    return value


def int_field(value: Any, source: str, where: str, low: int, high: int) -> int:
    if type(value) is not int:  # bool is an int subclass: true is not a number here
        raise InputError(source, where, f"an integer (found {_json_type(value)})")
    if not low <= value <= high:
        raise InputError(source, where, f"an integer from {low} to {high} (found {value})")
    return value


def object_field(value: Any, source: str, where: str, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    """An object, with only the ``allowed`` keys when given."""
    if not isinstance(value, dict):
        raise InputError(source, where, f"an object (found {_json_type(value)})")
    if allowed is not None:
        for key in value:
            if key not in allowed:
                raise InputError(source, f"{where}.{key}" if where else key,
                                 f"no such field; expected {', '.join(allowed)}")
    return value


def list_field(value: Any, source: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(source, where, f"a list (found {_json_type(value)})")
    return value


def _shown(value: Any) -> str:
    """A found value as JSON spells it (true, 1.0, "1"), or its type when it is not a scalar."""
    if isinstance(value, (list, dict)):
        return _json_type(value)
    return json.dumps(value)[:60]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return {int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def op_list(value: Any, source: str, where: str) -> tuple:
    """A list of ops (a step's rollback or inverse)."""
    from .planfile import parse_op

    if not isinstance(value, list):
        raise InputError(source, where, "a list of ops")
    return tuple(parse_op(op, source, f"{where}[{j}]") for j, op in enumerate(value))
