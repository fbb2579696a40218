"""The JSON and YAML documents of trace and check, written piece by piece.

The text is exactly ``json.dumps(report.to_dict(), indent=2)`` (or ``yaml.safe_dump(...,
sort_keys=False, width=120)``), but no whole document is ever built: a 10,000-host
estate's JSON is hundreds of MB. Paths of hosts that share a network shape share one
Outcome object (engine.trace), so its part of each path is serialized once and spliced.
"""

from __future__ import annotations

import json
import math
import operator
import re
from itertools import islice
from json.encoder import encode_basestring_ascii as _str
from typing import Any, Callable, Iterable, Iterator, Optional, TextIO

import yaml

from ..io import fork_part
from ..changes import render as renderers
from ..engine.types import Path, outcome_dict
from ..rules.base import RULES, Finding, Rule
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
    atom = _atom(o)
    if atom is not None:
        return atom
    if t is float and math.isfinite(o):
        return float.__repr__(o)
    return _fallback(o, nl)


def _atom(o: Any) -> Optional[str]:
    """null, true, false and ints: JSON and YAML write them alike."""
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if type(o) is int:
        return int.__repr__(o)
    return None


def _fallback(o: Any, nl: str) -> str:
    """Anything unusual (a str or int subclass, NaN, a non-str key): the standard encoder."""
    return json.dumps(o, indent=2).replace("\n", nl)


# ---------------------------------------------------------------- JSON

TOP_NL = "\n  "  # a top-level key's value
ITEM_NL = "\n    "  # an item of a top-level list


def write_joined_list(fh: TextIO, key: str, parts: Iterable[Any]) -> None:
    """``,`` + newline + ``"key": [items]`` of a document made in parts: each part's section
    ``key`` holds its items, each written as ``"," + ITEM_NL + text`` (io.Sections:
    ``part.copy(key, fh, skip)``); the first item's comma is skipped, an empty list is ``[]``."""
    fh.write(f",{TOP_NL}{_str(key)}: [")
    listed = False
    for part in parts:
        listed = part.copy(key, fh, 0 if listed else 1) or listed
    fh.write(TOP_NL + "]" if listed else "]")


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


def _json_findings(report: Report, findings: Optional[Iterable[tuple[str, Finding]]] = None) -> Iterable[str]:
    """Each finding as ``_enc({"snapshot": s, **f.to_dict(snap)}, nl)``: the rule's name and
    explanation recur on every finding of the rule (20,000 at 10,000 hosts) and are encoded
    once; the fix's commands are encoded as they are rendered, with no dict between."""
    nl = "\n    "
    inner, item = nl + "  ", nl + "    "
    formats = [(_str(name) + ": ", mod) for name, mod in renderers.renderers().items()]

    def rule_texts(s: str, f: Finding, rule: Rule) -> tuple[str, str]:
        return (f'{{{inner}"snapshot": {_enc(s, inner)},{inner}"rule": {_enc(f.rule, inner)},{inner}"name": '
                f'{_enc(rule.name, inner)},{inner}"severity": {_enc(f.severity.value, inner)},{inner}"host": ',
                f',{inner}"explanation": {_enc(rule.explanation, inner)},{inner}"fix": ')

    for snap, f, texts in _with_rule_texts(report, rule_texts, findings):
        fix = f.fix
        parts = [f'"summary": {_enc(fix.summary, item)}']
        for head, mod in formats:
            parts.append(head + _enc([mod.command(c, snap) for c in fix.changes], item))
        parts.append(f'"manual": {_enc(list(fix.manual), item)}')
        yield (texts[0] + _enc(f.host, inner) + f',{inner}"nodes": {_enc(list(f.nodes), inner)},{inner}"vmk": '
               f'{_enc(f.vmk, inner)},{inner}"message": {_enc(f.message, inner)}' + texts[1]
               + "{" + item + ("," + item).join(parts) + inner + "}" + nl + "}")


def _with_rule_texts(report: Report, rule_texts: Callable[[str, Finding, Rule], tuple[str, str]],
                     findings: Optional[Iterable[tuple[str, Finding]]] = None,
                     ) -> Iterator[tuple[Any, Finding, tuple[str, str]]]:
    """Each finding with its snapshot and the texts around it that only its rule, severity
    and snapshot decide (name, explanation): made by ``rule_texts`` once per such triple,
    for the JSON and the YAML alike (20,000 findings of a few rules at 10,000 hosts)."""
    made: dict[tuple[str, str, str], tuple[str, str]] = {}
    for s, f in (report.findings if findings is None else findings):
        key = (s, f.rule, f.severity.value)
        texts = made.get(key)
        if texts is None:
            texts = made[key] = rule_texts(s, f, RULES[f.rule])
        yield report.snaps.get(s), f, texts


def _json_list(items: Iterable[str], out: TextIO) -> None:
    """A top-level list member's value, each item already encoded at its indent."""
    out.write("[]" if not _json_items(items, out, True) else "\n  ]")


def _json_items(items: Iterable[str], out: TextIO, first: bool) -> bool:
    """The items of a top-level list, the first opening it if ``first``; whether any was written."""
    wrote = False
    for item in items:
        out.write(("[\n    " if first else ",\n    ") + item)
        first, wrote = False, True
    return wrote


# From this many findings a split document's findings are written half by a forked child
# (io.fork_part) once the check has made them: at 10,000 hosts 20,000 findings take 0.40 s
# (JSON) and 0.54 s (YAML) to write, after the 0.36 s check, in the command's own process.
SHARED_FINDINGS_FROM = 5_000


def _shared_findings(report: Report, out: TextIO, head: Callable[[Iterable[tuple[str, Finding]], TextIO], None],
                     tail: Callable[[Iterable[tuple[str, Finding]], TextIO], None]) -> bool:
    """The first half of the findings by a forked child (``head``: the list's key, opening and
    items), the rest here (``tail``: the items that follow); False if not shared (too few, or
    no split running): the caller writes them all."""
    n = len(report.findings)
    if n < SHARED_FINDINGS_FROM:
        return False
    half = n // 2
    if not fork_part(lambda o: head(islice(report.findings, half), o)):
        return False
    tail(islice(report.findings, half, None), out)
    return True


def write_json(report: Report, with_hops: bool, out: TextIO, vms: Optional[list[dict]] = None) -> None:
    """``json.dumps(report.to_dict(with_hops) (+ "vms"), indent=2) + "\\n"``, streamed to ``out``."""
    _json_head_and_paths(report, with_hops, out)
    _json_rest(report, out, vms)


def _json_head_and_paths(report: Report, with_hops: bool, out: TextIO) -> None:
    out.write(f'{{\n  "version": {OUTPUT_VERSION},\n  "kind": {_str(report.kind)},\n  "tool": "nbdpath",\n'
              f'  "snapshots": {_enc(report.snapshots, chr(10) + "  ")},\n  "paths": ')
    _json_list(_json_paths(report, with_hops), out)


def _json_rest(report: Report, out: TextIO, vms: Optional[list[dict]]) -> None:
    nl = "\n    "

    def head(findings: Iterable[tuple[str, Finding]], o: TextIO) -> None:
        o.write(',\n  "findings": ')
        _json_items(_json_findings(report, findings), o, True)

    def tail(findings: Iterable[tuple[str, Finding]], o: TextIO) -> None:
        _json_items(_json_findings(report, findings), o, False)
        o.write("\n  ]")

    if not _shared_findings(report, out, head, tail):
        out.write(',\n  "findings": ')
        _json_list(_json_findings(report), out)
    out.write(',\n  "missing": ')
    _json_list((_enc({"snapshot": s, "host": h, "reason": why}, nl) for s, h, why in report.missing), out)
    out.write(f',\n  "summary": {_enc(report.summary(), chr(10) + "  ")}')
    if vms is not None:
        out.write(',\n  "vms": ')
        _json_list((_enc(r, nl) for r in vms), out)
    out.write("\n}\n")


# ---------------------------------------------------------------- YAML
#
# PyYAML's emitter is pure Python and analyses every scalar character by character:
# 135 s for a 10,000-host document. The block writer below writes the same text itself
# for what the documents hold (mappings with identifier keys, lists, ints, booleans,
# null, printable ASCII text on one line), following Emitter.analyze_scalar /
# choose_scalar_style / write_plain / write_single_quoted; any other member (a float,
# non-ASCII or multi-line text, an odd key) is dumped by PyYAML itself (_yaml_at), so
# the document stays byte for byte ``yaml.safe_dump(..., sort_keys=False, width=120)``.

_WIDTH = 120
_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()  # SafeDumper's: which plain text reads back as a str
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SPACE_RUNS = re.compile(r"( +)")
_FIRST = frozenset(_RESOLVER.yaml_implicit_resolvers)
_KEYS: dict[str, bool] = {}
_TEXTS: dict[tuple[str, int, int], str] = {}


class _Slow(Exception):
    """A value the block writer leaves to PyYAML."""


def _yaml_at(d: dict[str, Any], indent: int) -> str:
    """``d``'s block mapping as it reads ``indent`` columns in: dumped at the top with the
    line width narrowed by as much (folding counts columns), every line shifted but the
    empty ones (a quoted scalar's line breaks)."""
    text = yaml.safe_dump(d, sort_keys=False, width=_WIDTH - indent)
    pad = " " * indent
    return "".join(line if line == "\n" else pad + line for line in text.splitlines(keepends=True))


def _reads_as_str(s: str) -> bool:
    # The resolver's patterns are filed by first character (digits, y/n/t/f/o, ~, ...).
    return s[0] not in _FIRST or _RESOLVER.resolve(yaml.ScalarNode, s, (True, False)) == _STR_TAG


def _plain_ok(s: str) -> bool:
    """Whether PyYAML writes printable one-line ASCII ``s`` plain in block context: no
    indicator where YAML would read one, and read back as a string, not a number or bool."""
    if s[0] == " " or s[-1] == " " or s[0] in "#,[]{}&*!|>'\"%@`" or s.startswith(("---", "...")):
        return False
    if s[0] in "?:-" and (len(s) == 1 or s[1] == " "):
        return False
    if ": " in s or s[-1] == ":" or " #" in s:
        return False
    return _reads_as_str(s)


def _fold(text: str, col: int, indent: int, protect_ends: bool) -> str:
    """Long text broken at single spaces once past the width, continued at ``indent``.
    ``protect_ends``: single-quoted text never breaks at a leading or trailing space."""
    if col + len(text) <= _WIDTH:  # no space can be past the width
        return text
    if "  " not in text:
        return _fold_single(text, col, indent, protect_ends)
    parts = _SPACE_RUNS.split(text)  # words at even places, runs of spaces at odd ones
    last = len(parts) - 2
    out = []
    for i, part in enumerate(parts):
        if i % 2 and part == " " and col > _WIDTH and not (protect_ends and ((i == 1 and not parts[0])
                                                                           or (i == last and not parts[-1]))):
            out.append("\n" + " " * indent)
            col = indent
            continue
        out.append(part)
        col += len(part)
    return "".join(out)


def _fold_single(text: str, col: int, indent: int, protect_ends: bool) -> str:
    """:func:`_fold` of text whose spaces stand alone: each line ends at the first space
    past the width, found by str.find."""
    out = []
    base = 0
    last = len(text) - 1
    while True:
        cut = text.find(" ", max(base, base + _WIDTH - col + 1))
        if protect_ends and cut == 0:
            cut = text.find(" ", 1)
        if cut < 0 or (protect_ends and cut == last):
            break
        out.append(text[base:cut] + "\n" + " " * indent)
        base, col = cut + 1, indent
    out.append(text[base:])
    return "".join(out)


def _scalar(v: Any, col: int, indent: int) -> str:
    """``v`` as PyYAML writes it from column ``col`` (after ``key: `` or ``- ``)."""
    t = type(v)
    if t is str:
        key = (v, col, indent)
        text = _TEXTS.get(key)
        if text is None:
            if len(_TEXTS) > 50_000:  # rule texts, names and summaries repeat; messages do not
                _TEXTS.clear()
            text = _TEXTS[key] = _text(v, col, indent)
        return text
    atom = _atom(v)
    if atom is None:
        raise _Slow
    return atom


def _text(v: str, col: int, indent: int) -> str:
    if not v:
        return "''"
    if v.isascii() and v.isprintable():
        if _plain_ok(v):
            return _fold(v, col, indent, False)
        return "'" + _fold(v.replace("'", "''"), col + 1, indent, True) + "'"
    if _MULTILINE_QUOTED.fullmatch(v) and " \n" not in v and "\n " not in v:
        raise _Slow  # single-quoted over several lines: rare, left to PyYAML
    return _double_quoted(v, col + 1, indent)


# Emitter.ESCAPE_REPLACEMENTS; anything else outside printable ASCII is \xXX, \uXXXX or \UXXXXXXXX.
_ESCAPES = {"\0": "0", "\x07": "a", "\x08": "b", "\t": "t", "\n": "n", "\x0b": "v", "\x0c": "f", "\r": "r",
            "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P"}
_ESCAPED = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')  # all but printable ASCII, " and \\
# Printable ASCII with line breaks but no space beside one: PyYAML single-quotes it.
_MULTILINE_QUOTED = re.compile(r"[\x20-\x7e\n]*")


def _escape(ch: str) -> str:
    e = _ESCAPES.get(ch)
    if e is not None:
        return "\\" + e
    o = ord(ch)
    return f"\\x{o:02X}" if o <= 0xFF else f"\\u{o:04X}" if o <= 0xFFFF else f"\\U{o:08X}"


def _escape_match(m: re.Match) -> str:
    return _escape(m.group())


def _escaped(text: str) -> str:
    if text.isascii():  # the usual case (a fix's Ansible task): only breaks, quotes, backslashes
        quick = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        if quick.isprintable():
            return quick
    return _ESCAPED.sub(_escape_match, text)


# How long an escape is in the written text, by the character after its backslash.
_ESCAPE_LEN = {"x": 4, "u": 6, "U": 10}


def _double_quoted(text: str, col: int, indent: int) -> str:
    """Emitter.write_double_quoted from column ``col`` (after the opening quote): past the width
    it breaks (``\\`` at the end of the line) at the first place it checks: a space (the line
    ends before it), an escape once written or the character after one (the line ends after
    the escape); never at the first or the last character."""
    escaped = _escaped(text)
    n = len(escaped)
    if col + n <= _WIDTH:
        return '"' + escaped + '"'
    out = []
    base = 0
    esc = escaped.find("\\")  # the next escape not yet passed; every backslash starts one
    done = 0  # the last place a line ended: PyYAML checks each place once (lines indented past the width)
    while True:
        past = max(_WIDTH - col + base, done)  # a check at an offset beyond this is past the width
        check, esc = _escape_check(escaped, esc, past)
        space = escaped.find(" ", past + 1, n - 1)
        if space < 0 and check < 0:
            break
        if check < 0 or 0 <= space <= check:
            cut = done = space
        else:
            done, cut = check, _escape_end(escaped, esc)
        out.append(escaped[base:cut] + "\\\n" + " " * indent)
        base, col = cut, indent
        if escaped[base] == " ":  # a space that starts a line is escaped
            out.append("\\")
            col += 1
    out.append(escaped[base:])
    return '"' + "".join(out) + '"'


def _escape_end(escaped: str, esc: int) -> int:
    return esc + _ESCAPE_LEN.get(escaped[esc + 1], 2)


def _escape_check(escaped: str, esc: int, past: int) -> tuple[int, int]:
    """The first check at an escape beyond offset ``past`` (-1: none) and that escape's start.
    An escape is checked once written (at its last character), unless it is the text's first
    or last character, and at the character after it, unless that is another escape or the
    text's last character; the line then ends after the escape."""
    n = len(escaped)
    if 0 <= esc < past - 10:  # an escape is at most 10 long: one that starts before ends by past
        esc = _escape_from(escaped, esc, past - 10)
    while esc >= 0:
        end = _escape_end(escaped, esc)
        if end - 1 > past and esc > 0 and end < n:
            return end - 1, esc
        if end > past and end < n - 1 and escaped[end] != "\\":
            return end, esc
        esc = escaped.find("\\", end)
    return -1, esc


def _escape_from(escaped: str, esc: int, at: int) -> int:
    """The first escape that starts at or after ``at`` (or the ``\\\\`` that ``at`` splits),
    from ``esc``, the start of an earlier one. A backslash starts an escape unless it is
    the second of a pair: even backslashes before it in its run (counted back to ``esc``)."""
    q = escaped.find("\\", at)
    if q < 0:
        return -1
    k = q
    while k > esc and escaped[k - 1] == "\\":
        k -= 1
    return q - 1 if (q - k) % 2 else q


def _key(k: Any) -> str:
    ok = _KEYS.get(k) if type(k) is str else False
    if ok is None:
        ok = _KEYS[k] = bool(_KEY.match(k)) and len(k) < 100 and _reads_as_str(k)
    if not ok:
        raise _Slow
    return k


def _member(k: Any, v: Any, ind: int) -> str:
    """``key: value`` at indent ``ind`` (its lines after the first indented; the first unpadded)."""
    key = _key(k)
    t = type(v)
    if t is dict:
        return key + (": {}\n" if not v else ":\n" + _members(v, ind + 2))
    if t is list or t is tuple:
        return key + (": []\n" if not v else ":\n" + _seq(v, ind))  # PyYAML: no indent under a key
    return key + ": " + _scalar(v, ind + len(key) + 2, ind + 2) + "\n"


def _member_at(k: Any, v: Any, ind: int) -> str:
    try:
        return " " * ind + _member(k, v, ind)
    except _Slow:
        return _yaml_at({k: v}, ind)


def _members(d: dict[str, Any], ind: int) -> str:
    """A mapping's members at indent ``ind``, every line padded."""
    return "".join([_member_at(k, v, ind) for k, v in d.items()])


def _seq(items: Iterable[Any], ind: int) -> str:
    """A block sequence with its ``- `` at column ``ind``."""
    pad = " " * ind
    out = []
    for v in items:
        t = type(v)
        if t is dict:
            out.append(pad + "- " + (_members(v, ind + 2)[ind + 2:] if v else "{}\n"))
        elif t is list or t is tuple:
            out.append(pad + "- " + (_seq(v, ind + 2)[ind + 2:] if v else "[]\n"))
        else:
            out.append(pad + "- " + _scalar(v, ind + 2, ind + 2) + "\n")
    return "".join(out)


def yaml_text(d: dict[str, Any]) -> str:
    """``yaml.safe_dump(d, sort_keys=False, width=120)`` of a mapping, written by the block writer."""
    return _members(d, 0) if d else "{}\n"


def _yaml_item(d: dict[str, Any]) -> str:
    """A mapping as an item of a top-level list (``- key: ...``)."""
    return "- " + (_members(d, 2)[2:] if d else "{}\n")


class _OutcomeTexts:
    """Each key of outcome_dict names the Outcome attribute it is made from (robust: a
    property), and the 12,000 outcomes of a 10,000-host fleet hold 551 distinct members:
    a member's text is keyed by that attribute's value (and its type: True == 1) and
    written once."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, Any, Any], str] = {}
        self.names: tuple[str, ...] = ()
        self.values: Optional[Callable[[Any], tuple[Any, ...]]] = None  # the attributes, in C

    def text(self, o: Any) -> str:
        if self.values is not None:
            seen = self.seen
            try:
                return "".join([seen[(k, type(v), v)] for k, v in zip(self.names, self.values(o))])
            except (KeyError, TypeError, AttributeError):  # a new member, or one not keyed by value
                pass
        d = outcome_dict(o)
        self.names = tuple(d)
        self.values = operator.attrgetter(*self.names) if len(d) > 1 else None
        parts = []
        for k, v in d.items():
            text = _member_at(k, v, 2)
            try:
                a = getattr(o, k)
                self.seen[(k, type(a), a)] = text
            except (TypeError, AttributeError):
                pass
            parts.append(text)
        return "".join(parts)


def _yaml_paths(report: Report, with_hops: bool) -> Iterable[str]:
    # Keyed by id(), as the JSON: every object stays alive in the report while it is written.
    texts = _OutcomeTexts()
    outcomes: dict[int, str] = {}
    nodes: dict[str, str] = {}
    last: tuple[Any, Any, str] = (None, None, "")  # a host's pairs come together: its head once
    for snap, p in report.paths:
        if last[0] is not p.endpoint or last[1] != (snap, p.host):
            last = (p.endpoint, (snap, p.host), _yaml_item({"snapshot": snap}) + _member_at("host", p.host, 2))
            ep = _member_at("endpoint", p.endpoint.to_dict(), 2)
        node = nodes.get(p.node)
        if node is None:
            node = nodes[p.node] = _member_at("node", p.node, 2)
        o = outcomes.get(id(p.outcome))
        if o is None:
            o = outcomes[id(p.outcome)] = texts.text(p.outcome)
        text = last[2] + node + ep + o
        if with_hops:
            text += _members(_hops_dict(p), 2)
        yield text


def _yaml_findings(report: Report, findings: Optional[Iterable[tuple[str, Finding]]] = None) -> Iterable[str]:
    """Each finding as ``_yaml_item({"snapshot": s, **f.to_dict(snap)})``: the rule's name and
    explanation recur on every finding of the rule and are written once; the fix's commands
    are written as they are rendered, with no dict between."""
    seen: dict[tuple[str, Any], str] = {}
    formats = [(name, mod, _member_at(name, [], 4)) for name, mod in renderers.renderers().items()]

    def rule_texts(s: str, f: Finding, rule: Rule) -> tuple[str, str]:
        return (_yaml_item({"snapshot": s, "rule": f.rule, "name": rule.name, "severity": f.severity.value}),
                _member_at("explanation", rule.explanation, 2) + "  fix:\n")

    for snap, f, texts in _with_rule_texts(report, rule_texts, findings):
        fix = f.fix
        parts = [texts[0], _seen_member(seen, "host", f.host, 2), _seen_member(seen, "nodes", f.nodes, 2),
                 _seen_member(seen, "vmk", f.vmk, 2), _seen_member(seen, "message", f.message, 2), texts[1],
                 _seen_member(seen, "summary", fix.summary, 4)]
        changes = fix.changes
        for name, mod, empty in formats:
            parts.append(_texts_member(name, [mod.command(c, snap) for c in changes], 4) if changes else empty)
        parts.append(_seen_member(seen, "manual", fix.manual, 4))
        yield "".join(parts)


def _texts_member(k: str, texts: list[Any], ind: int) -> str:
    """:func:`_member_at` of ``k: texts``, a list of text seen once (a fix's commands name
    their host): written without the cache of texts that repeat."""
    pad = " " * ind
    try:
        out = [pad + _key(k) + ":\n"]
        for t in texts:
            if type(t) is not str:
                return _member_at(k, texts, ind)
            out.append(pad + "- " + _text(t, ind + 2, ind + 2) + "\n")
    except _Slow:
        return _yaml_at({k: texts}, ind)
    return "".join(out) if texts else _member_at(k, texts, ind)


def _seen_member(seen: dict[tuple[str, Any], str], k: str, v: Any, ind: int) -> str:
    """:func:`_member_at` of ``k: v`` (a tuple as its list), once per value while ``seen``
    holds it: a finding's host, message and fix summary repeat across its rule's findings."""
    key = (k, v)
    text = seen.get(key)
    if text is None:
        if len(seen) > 20_000:
            seen.clear()
        text = seen[key] = _member_at(k, list(v) if type(v) is tuple else v, ind)
    return text


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
    _yaml_head_and_paths(report, with_hops, out)
    _yaml_rest(report, out, vms)


def _yaml_head_and_paths(report: Report, with_hops: bool, out: TextIO) -> None:
    out.write(yaml_text({"version": OUTPUT_VERSION, "kind": report.kind, "tool": "nbdpath",
                         "snapshots": report.snapshots}))
    _yaml_list("paths", _yaml_paths(report, with_hops), out)


def _yaml_rest(report: Report, out: TextIO, vms: Optional[list[dict]]) -> None:
    def head(findings: Iterable[tuple[str, Finding]], o: TextIO) -> None:
        _yaml_list("findings", _yaml_findings(report, findings), o)

    def tail(findings: Iterable[tuple[str, Finding]], o: TextIO) -> None:
        for item in _yaml_findings(report, findings):
            o.write(item)

    if not _shared_findings(report, out, head, tail):
        _yaml_list("findings", _yaml_findings(report), out)
    _yaml_list("missing", (_yaml_item({"snapshot": s, "host": h, "reason": why})
                           for s, h, why in report.missing), out)
    out.write(yaml_text({"summary": report.summary()}))
    if vms is not None:
        _yaml_list("vms", (_yaml_item(r) for r in vms), out)


def write(fmt: str, report: Report, with_hops: bool, out: TextIO, vms: Optional[list[dict]] = None) -> None:
    (write_json if fmt == "json" else write_yaml)(report, with_hops, out, vms)


# Below this many pairs a document is written in one process: at 4,000 pairs (250 hosts) the
# halves saved nothing measurable, at 16,000 (1,000 hosts) 0.04 of 0.39 s (benchmarks/README.md).
HALVES_FROM_PAIRS = 10_000


def halves(fmt: str, report: Report, with_hops: bool, vms: Optional[list[dict]] = None,
           before_rest: Optional[Callable[[], None]] = None,
           ) -> Optional[tuple[Callable[[TextIO], None], Callable[[TextIO], None]]]:
    """:func:`write` as two independent halves for :func:`nbdpath.io.write_atomic_split`
    (the head and paths; the findings and the rest), for a document large enough to be
    worth two processes; None for a small one, or a format without halves.
    ``before_rest``: run as the rest begins, where the rest is written (the check that
    adds the report's findings: commands.core.traced_report)."""
    if fmt not in ("json", "yaml") or len(report.paths) < HALVES_FROM_PAIRS:
        return None
    first, rest = ((_yaml_head_and_paths, _yaml_rest) if fmt == "yaml" else (_json_head_and_paths, _json_rest))

    def write_rest(out: TextIO) -> None:
        if before_rest is not None:
            before_rest()
        rest(report, out, vms)

    return (lambda out: first(report, with_hops, out)), write_rest


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
