"""Command line: parse args, call the library, render, exit code.

Each command family lives in ``nbdpath.commands.<module>`` and exposes
``register(group)``; this file only wires them and maps errors to exit codes.
"""

from __future__ import annotations

import importlib
import sys

import click

from .errors import NbdpathError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2

# One line per command family; each module owns its commands and tests.
_COMMAND_MODULES = [
    "core",
    "evidence",
    "lab",
    "discover",
    "apply",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nbdpath")
def cli() -> None:
    """Where will NBD backup traffic flow, over which vmk and uplink, and why."""


for _name in _COMMAND_MODULES:
    importlib.import_module(f"nbdpath.commands.{_name}").register(cli)


def main(argv: list[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="nbdpath", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return EXIT_BAD_INPUT
    except NbdpathError as exc:
        click.echo(f"nbdpath: error: {exc}", err=True)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return rv if isinstance(rv, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
