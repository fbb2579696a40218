"""The one result contract of every command: named exit codes, the JSON envelope and the emitter.

Every ``--format json`` document is ``{"version": N, "kind": KIND, ...}``, KIND
being the command (``trace``, ``history-drift``, ``import-node``...), so a tool
reading nbdpath output can always tell what it holds and which shape to expect.
Modelled on pipx's ``result.py``: commands build a :class:`Result`, one function writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Mapping, Optional

import click


class Exit(IntEnum):
    """Exit codes, in one place. 1 always means "look at this" and never "it failed"."""

    OK = 0
    # Something needs the admin's attention: findings at --fail-on, a run that got worse
    # (history drift), evidence that contradicts the prediction, a blocked plan step,
    # a discovery that read only part of the estate.
    ATTENTION = 1
    FINDINGS = 1
    WORSE = 1
    CONTRADICTED = 1
    PARTIAL = 1
    BLOCKED = 1
    # Bad input (file, option, name): one line naming file, location and what was expected.
    BAD_INPUT = 2
    # A change failed on a live host (apply / rollback): kept apart from bad input so a
    # script can tell "nothing was tried" from "the host refused".
    APPLY_FAILED = 3
    # A defect of nbdpath's own, not the input's (EX_SOFTWARE).
    INTERNAL = 70
    INTERRUPTED = 130


def envelope(kind: str, data: Mapping[str, Any], version: int = 1) -> dict[str, Any]:
    """``{"version", "kind", **data}``; ``data`` may not carry either key itself."""
    clash = {"version", "kind"} & set(data)
    if clash:
        raise ValueError(f"result data may not set {sorted(clash)}")
    return {"version": version, "kind": kind, **data}


@dataclass(frozen=True)
class Result:
    """What a command produced: its JSON body, its text rendering and its exit code."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    exit_code: Exit = Exit.OK
    version: int = 1
    text: Optional[str] = None  # the table / text form (already escaped for the terminal)

    def document(self) -> dict[str, Any]:
        return envelope(self.kind, self.data, self.version)


def write(text: str, output: Optional[str] = None) -> None:
    """Write to stdout, or atomically to ``output`` (never a half-written file)."""
    if not output:
        click.echo(text, nl=False)
        return
    from .errors import UsageError
    from .io import write_atomic

    try:
        write_atomic(output, text)
    except OSError as exc:  # missing directory, no permission: a usage error, not a traceback
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


def render(result: Result, fmt: str) -> str:
    import json

    if fmt == "json":
        return json.dumps(result.document(), indent=2) + "\n"
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(result.document(), sort_keys=False, width=120)
    if result.text is None:
        raise ValueError(f"{result.kind} has no {fmt} form")
    return result.text if result.text.endswith("\n") else result.text + "\n"


def emit(result: Result, fmt: str = "table", output: Optional[str] = None) -> int:
    """The one emitter: render ``result`` as ``fmt``, write it, return its exit code."""
    write(render(result, fmt), output)
    return int(result.exit_code)


__all__ = ["Exit", "Result", "emit", "envelope", "render", "write"]
