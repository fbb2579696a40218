"""One error tree for the whole library; the CLI maps it to exit code 2."""

from __future__ import annotations


class NbdpathError(Exception):
    """Base of every error nbdpath raises on purpose."""


class InputError(NbdpathError):
    """Bad input: names the file, the location and what was expected."""

    def __init__(self, file: str, location: str, expected: str, line: int | None = None):
        self.file = file
        self.location = location
        self.expected = expected
        self.line = line
        where = f"{file}"
        if line is not None:
            where += f":{line}"
        if location:
            where += f": {location}"
        super().__init__(f"{where}: {expected}")


class UsageError(NbdpathError):
    """A command was asked for something it cannot do (unknown host, lab...)."""
