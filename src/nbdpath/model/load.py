"""Parse and validate snapshot text. Pure: takes text, returns a Snapshot.

File reading lives in :func:`load_file`, the one I/O edge of this package.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import InputError
from .snapshot import Snapshot
from .validate import _dotted, problems

try:  # libyaml is ~10x faster; fall back to the pure-Python parser.
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the build of PyYAML
    _Loader = yaml.SafeLoader


def parse(text: str, source: str = "<snapshot>") -> Snapshot:
    # Loading builds ~10 objects per vmk; pausing the cyclic GC saves ~30% on big estates.
    gc_was = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, source)
    finally:
        if gc_was:
            gc.enable()


def _parse(text: str, source: str) -> Snapshot:
    """Parse YAML or JSON text into a validated :class:`Snapshot`.

    Raises :class:`InputError` naming ``source``, the field path, the line
    (where the text allows) and what was expected.
    """
    stripped = text.lstrip()
    data: Any
    if stripped.startswith("{"):
        try:
            # JSON goes straight to pydantic's Rust parser: the fleet path.
            snap = Snapshot.model_validate_json(text)
        except ValidationError as exc:
            raise _from_validation(exc, text, source) from None
        except ValueError as exc:  # pragma: no cover - model_validate_json wraps these
            raise InputError(source, "", f"valid JSON ({exc})") from None
    else:
        try:
            data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise InputError(source, "", f"valid YAML ({problem})", line) from None
        if not isinstance(data, dict):
            got = "an empty document" if data is None else f"a {type(data).__name__}"
            raise InputError(source, "", f"a snapshot mapping (hosts, backup_nodes, ...) at the top level, not {got}", 1)
        # Top-level "x-" keys hold YAML anchors for reuse (as in docker-compose).
        data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
        try:
            snap = Snapshot.model_validate(data)
        except ValidationError as exc:
            raise _from_validation(exc, text, source) from None
    for path, expected in problems(snap):
        raise InputError(source, _dotted(path), expected, _line_of(text, path))
    return snap


def load_file(path: str | Path) -> Snapshot:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(p), "", "an existing snapshot file (YAML or JSON)") from None
    except UnicodeDecodeError as exc:
        raise InputError(str(p), f"byte {exc.start}", "UTF-8 text") from None
    except OSError as exc:
        raise InputError(str(p), "", f"a readable file ({exc.strerror})") from None
    return parse(text, str(p))


def dump(snap: Snapshot, fmt: str = "yaml") -> str:
    data = snap.model_dump(mode="json", exclude_defaults=True)
    data = {"version": snap.version, **data}
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _from_validation(exc: ValidationError, text: str, source: str) -> InputError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        msg = f"no field {loc[-1]!r} here (unknown field)"
    elif err["type"] == "missing":
        msg = "this required field"
    elif err["type"] == "json_invalid":
        return InputError(source, "", f"valid JSON ({err.get('ctx', {}).get('error', msg)})")
    more = len(exc.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    # pydantic puts tagged-union/literal details in ctx; the message already says them.
    return InputError(source, _dotted(loc), msg, _line_of(text, loc))


def _line_of(text: str, path: tuple[str | int, ...]) -> int | None:
    """Best-effort 1-based line of ``path`` (JSON is YAML enough for this)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    line = None
    for key in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == str(key):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    else:
        if node is not None:
            line = node.start_mark.line + 1 if line is None else line
    return line
