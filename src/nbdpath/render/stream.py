"""The JSON and YAML documents of trace and check, written piece by piece.

The text is exactly ``json.dumps(report.to_dict(), indent=2)`` (or ``yaml.safe_dump(...,
sort_keys=False, width=120)``), but no whole document is ever built: a 10,000-host
estate's JSON is hundreds of MB. Paths of hosts that share a network shape share one
Outcome object (engine.trace), so its part of each path is serialized once and spliced.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring_ascii as _str
from typing import Any, Callable, Iterable, Optional, TextIO

import yaml

from ..engine.types import Path, outcome_dict
from .cells import PAIR_ROWS
from .report import OUTPUT_VERSION, Report

_ONE = (str, int, float, bool, type(None))


def _enc(o: Any, nl: str) -> str:
    """``json.dumps(o, indent=2)`` continued at newline+indent ``nl``: the standard
    library's encoder is pure Python once it indents; this one does less per value."""
    t = type(o)
    if t is str:
        return _str(o)
    if t is dict:
        if not o:
            return "{}"
        inner = nl + "  "
        parts = []
        for k, v in o.items():
            if type(k) is not str:
                return _fallback(o, nl)
            parts.append(_str(k) + ": " + _enc(v, inner))
        return "{" + inner + ("," + inner).join(parts) + nl + "}"
    if t is list or t is tuple:
        if not o:
            return "[]"
        inner = nl + "  "
        return "[" + inner + ("," + inner).join([_enc(v, inner) for v in o]) + nl + "]"
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if t is int:
        return int.__repr__(o)
    if t is float and math.isfinite(o):
        return float.__repr__(o)
    return _fallback(o, nl)


def _fallback(o: Any, nl: str) -> str:
    """Anything unusual (a str or int subclass, NaN, a non-str key): the standard encoder."""
    return json.dumps(o, indent=2).replace("\n", nl)


class _Pieces:
    """Per-object text caches: outcomes, endpoints and names repeat across a fleet."""

    def __init__(self, render: Callable[[Any], str]):
        self.render = render
        self.cache: dict[int, tuple[Any, str]] = {}

    def __call__(self, obj: Any) -> str:
        hit = self.cache.get(id(obj))
        if hit is None or hit[0] is not obj:
            hit = self.cache[id(obj)] = (obj, self.render(obj))
        return hit[1]


# ---------------------------------------------------------------- JSON

_PATH_NL = "\n      "  # keys of a path: inside "paths": [ { ... } ]


def _json_members(d: dict[str, Any], nl: str) -> str:
    """The ``"key": value`` lines of ``d`` at newline+indent ``nl``, without braces."""
    return ("," + nl).join(_str(k) + ": " + _enc(v, nl) for k, v in d.items())


# Outcome fields whose text repeats across outcomes of different shapes (the assumption
# texts are half of a path's JSON): encoded once per distinct value (the Outcome's own,
# hashable, field) and spliced.
_REPEATING = {"assumptions": "assumptions", "egress_uplinks": "egress_uplinks", "degraded": "degraded"}


def _outcome_json(o: Any, seen: dict[tuple[str, Any], str]) -> str:
    parts = []
    for k, v in outcome_dict(o).items():
        field = _REPEATING.get(k)
        if field is None:
            parts.append(_str(k) + ": " + _enc(v, _PATH_NL))
            continue
        key = (k, getattr(o, field))
        text = seen.get(key)
        if text is None:
            text = seen[key] = _str(k) + ": " + _enc(v, _PATH_NL)
        parts.append(text)
    return ("," + _PATH_NL).join(parts)


def _json_paths(report: Report, with_hops: bool) -> Iterable[str]:
    # Keyed by id(): every object stays alive in the report while it is written.
    seen: dict[tuple[str, Any], str] = {}
    outcomes: dict[int, str] = {}
    nodes: dict[str, str] = {}
    last: tuple[Any, Any, str] = (None, None, "")  # a host's pairs come together: its head once
    for snap, p in report.paths:
        if last[0] is not p.endpoint or last[1] != (snap, p.host):
            last = (p.endpoint, (snap, p.host), f'{{{_PATH_NL}"snapshot": {_str(snap)},{_PATH_NL}"host": '
                    f'{_str(p.host)},{_PATH_NL}"node": ')
            ep = f',{_PATH_NL}"endpoint": {_enc(p.endpoint.to_dict(), _PATH_NL)},{_PATH_NL}'
        node = nodes.get(p.node)
        if node is None:
            node = nodes[p.node] = _str(p.node)
        o = outcomes.get(id(p.outcome))
        if o is None:
            o = outcomes[id(p.outcome)] = _outcome_json(p.outcome, seen)
        text = last[2] + node + ep + o
        if with_hops:
            text += "," + _PATH_NL + _json_members(_hops_dict(p), _PATH_NL)
        yield text + "\n    }"


def _hops_dict(p: Path) -> dict[str, Any]:
    return {"hops": [h.to_dict() for h in p.hops], "control": [c.to_dict() for c in p.control]}


def _json_list(items: Iterable[str], out: TextIO) -> None:
    """A top-level list member's value, each item already encoded at its indent."""
    first = True
    for item in items:
        out.write(("[\n    " if first else ",\n    ") + item)
        first = False
    out.write("[]" if first else "\n  ]")


def write_json(report: Report, with_hops: bool, out: TextIO, vms: Optional[list[dict]] = None) -> None:
    """``json.dumps(report.to_dict(with_hops) (+ "vms"), indent=2) + "\\n"``, streamed to ``out``."""
    nl = "\n    "
    out.write(f'{{\n  "version": {OUTPUT_VERSION},\n  "kind": {_str(report.kind)},\n  "tool": "nbdpath",\n'
              f'  "snapshots": {_enc(report.snapshots, chr(10) + "  ")},\n  "paths": ')
    _json_list(_json_paths(report, with_hops), out)
    out.write(',\n  "findings": ')
    _json_list((_enc({"snapshot": s, **f.to_dict(report.snaps.get(s))}, nl) for s, f in report.findings), out)
    out.write(',\n  "missing": ')
    _json_list((_enc({"snapshot": s, "host": h, "reason": why}, nl) for s, h, why in report.missing), out)
    out.write(f',\n  "summary": {_enc(report.summary(), chr(10) + "  ")}')
    if vms is not None:
        out.write(',\n  "vms": ')
        _json_list((_enc(r, nl) for r in vms), out)
    out.write("\n}\n")


# ---------------------------------------------------------------- YAML


def _yaml_at(d: dict[str, Any], indent: int) -> str:
    """``d``'s block mapping as it reads ``indent`` columns in: dumped at the top with the
    line width narrowed by as much (folding counts columns), every line shifted."""
    text = yaml.safe_dump(d, sort_keys=False, width=120 - indent)
    pad = " " * indent
    return "".join(pad + line for line in text.splitlines(keepends=True))


def _yaml_item(d: dict[str, Any]) -> str:
    """A mapping as an item of a top-level list (``- key: ...``)."""
    return "- " + _yaml_at(d, 2)[2:]


def _yaml_paths(report: Report, with_hops: bool) -> Iterable[str]:
    outcome = _Pieces(lambda o: _yaml_at(outcome_dict(o), 2))
    node = _Pieces(lambda n: _yaml_at({"node": n}, 2))
    endpoint = _Pieces(lambda e: _yaml_at({"endpoint": e.to_dict()}, 2))
    snapshot = _Pieces(lambda s: _yaml_item({"snapshot": s}))
    last_host: tuple[str, str] = ("", "")
    for snap, p in report.paths:
        if last_host[0] != p.host:  # a host's pairs come together: one dump per host
            last_host = (p.host, _yaml_at({"host": p.host}, 2))
        text = snapshot(snap) + last_host[1] + node(p.node) + endpoint(p.endpoint) + outcome(p.outcome)
        if with_hops:
            text += _yaml_at(_hops_dict(p), 2)
        yield text


def _yaml_list(key: str, items: Iterable[str], out: TextIO) -> None:
    first = True
    for item in items:
        if first:
            out.write(f"{key}:\n")
            first = False
        out.write(item)
    if first:
        out.write(f"{key}: []\n")


def write_yaml(report: Report, with_hops: bool, out: TextIO, vms: Optional[list[dict]] = None) -> None:
    """``yaml.safe_dump(report.to_dict(with_hops) (+ "vms"), sort_keys=False, width=120)``, streamed."""
    out.write(yaml.safe_dump({"version": OUTPUT_VERSION, "kind": report.kind, "tool": "nbdpath",
                              "snapshots": report.snapshots}, sort_keys=False, width=120))
    _yaml_list("paths", _yaml_paths(report, with_hops), out)
    _yaml_list("findings", (_yaml_item({"snapshot": s, **f.to_dict(report.snaps.get(s))})
                            for s, f in report.findings), out)
    _yaml_list("missing", (_yaml_item({"snapshot": s, "host": h, "reason": why})
                           for s, h, why in report.missing), out)
    out.write(yaml.safe_dump({"summary": report.summary()}, sort_keys=False, width=120))
    if vms is not None:
        _yaml_list("vms", (_yaml_item(r) for r in vms), out)


def write(fmt: str, report: Report, with_hops: bool, out: TextIO, vms: Optional[list[dict]] = None) -> None:
    (write_json if fmt == "json" else write_yaml)(report, with_hops, out, vms)


def with_hops(asked: Optional[bool], pairs: int, fmt: str) -> bool:
    """``--hops``/``--no-hops``, or by default hops up to PAIR_ROWS pairs: each pair's hops
    quote its host's addresses, so a fleet's are walked and written pair by pair (about
    10 KB each, 1.7 GB for 160,000 pairs); above, they are left out, and stderr says so."""
    if asked is not None:
        return asked
    if pairs <= PAIR_ROWS:
        return True
    if fmt in ("json", "yaml", "html"):
        import click

        click.echo(f"nbdpath: note: {pairs:,} pairs: hops left out of the {fmt} (a fleet run); "
                   "--hops writes them for every pair", err=True)
    return False
