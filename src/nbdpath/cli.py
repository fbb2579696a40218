"""Command line: parse args, call the library, render, exit code.

Each command family lives in ``nbdpath.commands.<module>`` and exposes
``register(group)``; this file only wires them and maps errors to exit codes.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
import traceback

import click

from .errors import NbdpathError
from .io import forget_kept, gc_for_one_command
from .result import Exit
from .safetext import one_line

# Not bad input but a defect of ours (70) is kept apart from 2 so scripts can tell: see nbdpath.result.
EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL = Exit.OK, Exit.FINDINGS, Exit.BAD_INPUT, Exit.INTERNAL

# Which module registers each top-level command: a command imports only its own module (every
# module at once cost ~0.3 s of each run's start, measured with -X importtime). The mapping is
# pinned against what the modules register by tests/cli/test_lazy_commands.py.
_COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "trace": ("core",), "check": ("core",), "explain": ("core",),
    "labs": ("catalog",), "rules": ("catalog",), "schema": ("catalog",),
    "plan": ("whatif",), "esxcli": ("whatif",), "diff": ("whatif",),
    "evidence": ("evidence",), "verify": ("evidence",),
    "lab": ("lab",),
    "discover": ("discover",), "import": ("discover", "forklift", "node"),  # forklift and node add subcommands
    "probe": ("node",),
    "apply": ("apply",),
    "history": ("history",),
    "estimate": ("estimate",),
}


class _LazyGroup(click.Group):
    """The top-level group: a command's module is imported when the command is looked up."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: set[str] = set()

    def _load(self, module: str) -> None:
        if module not in self._loaded:
            self._loaded.add(module)
            importlib.import_module(f"nbdpath.commands.{module}").register(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for module in _COMMAND_MODULES.get(cmd_name, ()):
            self._load(module)
        return super().get_command(ctx, cmd_name)

    def all_commands(self) -> dict[str, click.Command]:
        """Every command, each module imported (help, docs and contract tests)."""
        for modules in _COMMAND_MODULES.values():
            for module in modules:
                self._load(module)
        return dict(self.commands)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nbdpath")
def cli() -> None:
    """Where will NBD backup traffic flow, over which vmk and uplink, and why."""


def main(argv: list[str] | None = None) -> int:
    forget_kept()
    try:
        rv = cli.main(args=argv, prog_name="nbdpath", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return Exit.INTERRUPTED
    except click.ClickException as exc:
        click.echo(f"nbdpath: error: {_click_message(exc)}", err=True)
        return EXIT_BAD_INPUT
    except NbdpathError as exc:
        # Messages echo file names and values from the command line: escaped, one line.
        click.echo(f"nbdpath: error: {one_line(str(exc))}", err=True)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return Exit.INTERRUPTED
    except BrokenPipeError:
        # `nbdpath trace ... | head`: the reader left; nothing more to say.
        _silence_stdout()
        return EXIT_OK
    except RecursionError:
        # Input nested deeper than any real snapshot or plan; readers cap depth,
        # this is the last line of defence for the ones that do not.
        click.echo("nbdpath: error: input nested too deeply (refused)", err=True)
        return EXIT_BAD_INPUT
    except MemoryError:
        click.echo("nbdpath: error: input too large for available memory (refused)", err=True)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - a defect must still end in one line, not a traceback
        if os.environ.get("NBDPATH_DEBUG"):
            traceback.print_exc()
        click.echo(f"nbdpath: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
                   "(a bug; NBDPATH_DEBUG=1 shows the traceback)", err=True)
        return EXIT_INTERNAL
    return rv if isinstance(rv, int) else EXIT_OK


def _click_message(exc: click.ClickException) -> str:
    """Click's usage errors are four lines (usage, hint, blank, error); ours are one."""
    msg = _one_line(exc.format_message(), limit=500)
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        sub = ctx.command_path.partition(" ")[2]
        msg = f"{sub + ': ' if sub else ''}{msg} (see '{ctx.command_path} --help')"
    return msg


def _one_line(text: str, limit: int = 200) -> str:
    """Escaped and cut: defects and click's messages may quote anything."""
    return one_line(text[:limit])


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def run() -> None:
    """The console script: ``main()``, then leave without tearing the heap down.

    Freeing a 10,000-host estate object by object at interpreter exit took ~0.9 s of
    every fleet command (measured); by now the command has written and closed its
    output, so flush the standard streams, run the atexit handlers and exit. With a
    thread still running (none of ours outlive a command) the normal exit joins it.
    The GC policy of a one-shot process is :func:`nbdpath.io.gc_for_one_command`.
    """
    gc_for_one_command()
    rc = main()
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        _silence_stdout()
    try:
        sys.stderr.flush()
    except (ValueError, OSError):
        pass
    if threading.active_count() > 1:
        sys.exit(rc)
    atexit._run_exitfuncs()
    os._exit(rc)


if __name__ == "__main__":  # pragma: no cover
    run()
