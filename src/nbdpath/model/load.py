"""Parse and validate snapshot text. Pure: takes text, returns a Snapshot.

File reading lives in :func:`load_file`, the one I/O edge of this package.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Optional

import yaml
from pydantic import ValidationError

from ..errors import InputError
from ..io import gc_paused, read_input
from ..safetext import one_line
from .snapshot import Snapshot
from .validate import _dotted, problems

try:  # libyaml is ~10x faster; fall back to the pure-Python parser.
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the build of PyYAML
    _Loader = yaml.SafeLoader

MAX_SNAPSHOT_BYTES = 512 << 20  # a 50,000-host snapshot is ~45 MB of JSON
# YAML aliases may add at most this many nodes, or as many as the document
# has of its own if more: anchors for reuse pass, a "billion laughs" does not.
MAX_ALIAS_NODES = 1_000_000
# Where an anchor or an alias can start: the usual snapshot has neither and skips the count.
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[^\s\[\]{},]", re.MULTILINE)
_ALIAS = re.compile(r"(?:^|[\s\[{,])\*[^\s\[\]{},]", re.MULTILINE)


def parse(text: str, source: str = "<snapshot>", deferred: Optional[Callable[[tuple], bool]] = None) -> Snapshot:
    """Parse YAML or JSON text into a validated :class:`Snapshot`.

    Raises :class:`InputError` naming ``source``, the field path, the line
    (where the text allows) and what was expected. ``deferred``: cross-reference
    problems (by field path) the caller checks later, on a whole snapshot (a merge
    file's jobs name VMs and clusters that discovery brings).
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
        except RecursionError:  # pragma: no cover - the JSON parser stops at depth 200 first
            raise InputError(source, "", "JSON nested less deeply (refused)") from None
    else:
        data = load_yaml(text, source)
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
        if deferred is None or not deferred(path):
            raise InputError(source, _dotted(path), expected, _line_of(text, path))
    return snap


def load_yaml(text: str, source: str) -> Any:
    """One YAML document -> plain data; errors (and alias bombs) name ``source`` and the line."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if isinstance(node, yaml.CollectionNode) and _ANCHOR.search(text) and _ALIAS.search(text):
            _check_aliases(node, source)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, source) from None
    except RecursionError:
        raise InputError(source, "", "YAML nested less deeply (refused)") from None
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.YAMLError, text: str, source: str) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None)
    if isinstance(exc, yaml.reader.ReaderError):
        # A forbidden character (NUL, ESC...): libyaml gives its byte offset, not its line.
        line = text.encode("utf-8", "surrogatepass")[: exc.position].count(b"\n") + 1
        problem = f"character {exc.character!r} is not allowed in YAML" if isinstance(exc.character, str) else exc.reason
    return InputError(source, "", f"valid YAML ({one_line(str(problem or exc))[:200]})", line)


def _check_aliases(root: yaml.Node, source: str) -> None:
    """Refuse a document whose aliases expand it past the cap, or that contains itself.

    Aliases share nodes, so the composed graph stays small; what grows is
    every consumer that walks it as a tree (validation, dumping). Counted on
    the graph, each collection once (an aliased scalar adds one node, and
    there are no more of those than '*'s in the text): linear in the text.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    own = extra = 0
    uses: list[tuple[int, yaml.Node]] = []  # (nodes added so far, the aliased node) per alias use
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if type(item) is tuple:  # leaving a collection: its children are sized
            node, scalars, colls = item
            on_path.discard(id(node))
            size[id(node)] = 1 + scalars + sum([size[id(c)] for c in colls])
            continue
        key = id(item)
        if key in size:
            extra += size[key]
            uses.append((extra, item))
            continue
        if key in on_path:
            raise InputError(source, "", "a YAML document without recursive aliases (an alias inside its own anchor)",
                             item.start_mark.line + 1)
        on_path.add(key)
        children = [n for pair in item.value for n in pair] if type(item) is yaml.MappingNode else item.value
        colls = [c for c in children if type(c) is not yaml.ScalarNode]
        own += 1 + len(children) - len(colls)
        stack.append((item, len(children) - len(colls), colls))
        stack.extend(reversed(colls))
    cap = max(MAX_ALIAS_NODES, own)
    if extra > cap:
        node = next(n for added, n in uses if added > cap)
        raise InputError(source, "", f"YAML aliases adding at most {cap:,} nodes (they add {extra:,}: an alias bomb?); "
                         "this anchor is where the cap was crossed", node.start_mark.line + 1)


def load_file(path: str | Path) -> Snapshot:
    """Read and parse a snapshot file: a regular file of at most MAX_SNAPSHOT_BYTES, in UTF-8."""
    shown = one_line(str(path))
    text = read_input(path, "snapshot file", MAX_SNAPSHOT_BYTES, shown=shown)
    with gc_paused():  # loading builds ~10 objects per vmk: ~30% faster on big estates
        return parse(text, shown)


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
        detail = str(err.get("ctx", {}).get("error", msg))
        at = re.search(r"at line (\d+) column \d+", detail)
        return InputError(source, "", f"valid JSON ({one_line(detail)[:200]})", int(at[1]) if at else None)
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
