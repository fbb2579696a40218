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


class RemoteError(NbdpathError):
    """A server (vCenter, ESXi) could not be read, or refused or failed a request."""


class DiscoveryError(RemoteError):
    """A vCenter could not be read at all (unreachable, refused, cut off)."""


class SoapFault(RemoteError):
    """The server answered with a fault: ``kind`` names its type (``InvalidArgument``...), then its message."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}" if message else kind)


class SessionLost(RemoteError):
    """The connection failed mid-session (cut, timed out, not HTTP): the server cannot be asked again."""


class LiveError(RemoteError):
    """One change could not be made or the live state not read: an apply failure, not bad input."""
