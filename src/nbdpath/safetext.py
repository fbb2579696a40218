"""Untrusted text stays text.

Names come from vCenter, vm-support bundles, snapshot files and the command
line; nbdpath puts them into shell and PowerShell scripts and onto terminals.
This module says which characters a name may never hold (the snapshot model
refuses them), quotes values for each script language, and escapes what
reaches a terminal or a comment. Pure and dependency-free, so every layer
(model, plan, render, cli) can use it.
"""

from __future__ import annotations

import re
import shlex

# Characters vSphere never puts in a name and a terminal or a script acts on:
# C0, DEL and C1 controls (ESC, BEL, CR, CSI \x9b, NEL \x85 ...), the line and
# paragraph separators, and the bidirectional embeddings, overrides and isolates
# that reorder what a reader sees ("Trojan Source"). One spelling serves both
# Python's re and the Rust regex engine behind pydantic's ``pattern``.
UNSAFE_CLASS = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
SAFE_NAME_PATTERN = rf"^[^{UNSAFE_CLASS}]*$"
# Free text (descriptions, reasons) may keep tabs and line breaks.
SAFE_TEXT_PATTERN = rf"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$"

_UNSAFE = re.compile(f"[{UNSAFE_CLASS}]")
_UNSAFE_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def is_safe_name(value: str) -> bool:
    return _UNSAFE.search(value) is None


def terminal(text: str) -> str:
    """``text`` with every unsafe character written as a Python-style escape
    (``\\x1b``, ``\\u202e``); tabs and newlines are kept, they are layout."""
    if _UNSAFE_BUT_LAYOUT.search(text) is None:  # the common case: nothing to copy
        return text
    return _UNSAFE_BUT_LAYOUT.sub(_escape, text)


def one_line(text: str) -> str:
    """Like :func:`terminal`, newlines and tabs escaped too: for comments and error lines,
    where a line break would end the comment and start a command."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def sh(value: object) -> str:
    """One POSIX sh word; unchanged when it needs no quotes (``vmk2``, ``10.0.0.0/24``)."""
    return shlex.quote(str(value))


def sh_quoted(value: object) -> str:
    """One POSIX sh word, always in single quotes (where the output always quoted it)."""
    return "'" + str(value).replace("'", "'\"'\"'") + "'"


# PowerShell ends a single-quoted string at any of these; doubling one inside
# the string stands for that character itself.
_PS_QUOTES = re.compile("['\u2018\u2019\u201a\u201b]")


def ps(value: object) -> str:
    """A PowerShell single-quoted string literal: nothing inside it is expanded."""
    return "'" + _PS_QUOTES.sub(lambda m: m.group() * 2, str(value)) + "'"
