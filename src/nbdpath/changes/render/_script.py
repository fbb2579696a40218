"""The layout the shell-like plan scripts share (esxcli, govc, PowerCLI): a head, then per host a
section with each step's rollback in a comment above its command. Private: not a renderer."""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from ...safetext import one_line


def commented_script(head: Iterable[str], steps: Sequence, command: Callable, tail: Iterable[str] = (),
                     opening: Callable[[str], Iterable[str]] = lambda host: (), closing: Iterable[str] = ()) -> str:
    """``opening(host)`` and ``closing`` wrap each host's section (the esxcli script's guard)."""
    out = list(head)
    closing = list(closing)
    host = None
    for s in steps:
        if s.change.host != host:
            if host is not None:
                out += closing
            host = s.change.host
            out += ["", f"# --- {host}", *opening(host)]
        out.append(f"# {s.change.describe()} ({', '.join(s.reasons)}); rollback: "
                   + ("; ".join(command(r) for r in s.rollback) or "by hand"))
        out.append(command(s.change))
    if host is not None:
        out += closing
    out += tail
    # One line each, escaped: a comment runs to the end of its line and nothing in it
    # may end that line; commands quote every value, and stay inert on a terminal too.
    return "\n".join(map(one_line, out)) + "\n"
