"""The vSphere client seam: what discover and apply need of a vCenter or ESXi host.

Discover and apply talk to a :class:`VsphereClient` and the
:class:`VsphereSession` it opens, never to pyVmomi: the real client is
:class:`nbdpath.sources.vsphere_pyvmomi.PyVmomiClient` (tested against vcsim),
:class:`nbdpath.sources.vsphere_fake.FakeVsphere` keeps estates in memory
(fast tests of discover and apply, no simulator). What a session raises is
part of the seam: :class:`~nbdpath.errors.SoapFault` when the server refused a
request (the session is still good), :class:`~nbdpath.errors.SessionLost`
when the connection failed (do not ask it again), and from ``connect``
:class:`~nbdpath.errors.DiscoveryError`. Addresses, credentials and TLS
settings are checked here, before any connection.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import re
import socket
import ssl
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from ..errors import DiscoveryError, InputError
from ..safetext import is_safe_name, one_line

if TYPE_CHECKING:
    from ..changes import HostNetworkApi
    from .vcenter_convert import Converted

DEFAULT_PAGE_SIZE = 250
PageFn = Callable[[int, Optional[int]], None]  # (hosts read, hosts listed) after each page


class VsphereSession(Protocol):
    """One logged-in session with a vCenter or ESXi host."""

    label: str  # the server as the user wrote it (Endpoint.label)

    def read_inventory(self, on_page: Optional[PageFn] = None) -> Converted:
        """Every host and switch (and, with ``ConnectOptions.vms``, VM and datastore), converted;
        what the server listed but could not give is in ``missing``."""

    def read_hosts(self, names: Sequence[str]) -> Converted:
        """At least the named hosts (as the last :meth:`read_inventory` named them), with that
        read's switches; a host gone since is absent."""

    def host_network(self, name: str) -> HostNetworkApi:
        """The network configuration of a host the last read returned, to change it."""

    def close(self) -> None:
        """Log out; after a :class:`~nbdpath.errors.SessionLost` only drop the connection."""


class VsphereClient(Protocol):
    def connect(self, ep: Endpoint, creds: Credentials, opts: ConnectOptions) -> VsphereSession:
        """Log in; DiscoveryError (one line, no credentials) when that fails."""


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)  # never printed, never logged


@dataclass(frozen=True)
class ConnectOptions:
    ca_file: Optional[str] = None
    insecure: bool = False
    timeout_s: float = 60.0
    page_size: int = DEFAULT_PAGE_SIZE
    # VMs, their folders and datastores in the same retrieval (--no-vms: hosts and switches only).
    vms: bool = True


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    label: str  # as the user wrote it; names the vCenter in messages and the snapshot

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """``host``, ``host:port``, ``[IPv6]:port``, a bare IPv6 address or ``https://`` one of those (``/sdk`` allowed)."""
        raw = text.strip()
        if "@" in raw:  # do not echo it: the part before @ may be a password
            raise DiscoveryError("--server: expected an address without a user name or password "
                                 "(the password never goes on the command line)")
        shown = f"--server '{one_line(text)}'"
        if not raw or not is_safe_name(raw) or any(c.isspace() for c in raw):
            raise DiscoveryError(f"{shown}: expected a host name, IP or https://host[:port], "
                                 "without spaces or control characters")
        scheme, sep, rest = raw.partition("://")
        if not sep:
            scheme, rest = "https", raw
        if scheme.lower() != "https":
            raise DiscoveryError(f"{shown}: expected https:// (vCenter and ESXi answer the API over HTTPS only)")
        host, port, path = _split_server(rest)
        if path not in ("", "/", "/sdk", "/sdk/"):
            raise DiscoveryError(f"{shown}: expected no path after the address (the API is always at /sdk)")
        if host is None:
            raise DiscoveryError(f"{shown}: expected a host name, IPv4, [IPv6] or https://host[:port]")
        if port is None or not 1 <= port <= 65535:
            raise DiscoveryError(f"{shown}: expected a port from 1 to 65535")
        shown_host = f"[{host}]" if ":" in host else host
        return cls(host, port, shown_host if port == 443 else f"{shown_host}:{port}")


# One DNS label; a name is labels joined by dots (RFC 1123, plus the underscore some inventories use).
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*\.?")
_HOST_PORT = re.compile(r"(\[[^\]/]*\]|[^:/\[\]]*)(?::([^/]*))?(/.*)?", re.S)


def _split_server(rest: str) -> tuple[Optional[str], Optional[int], str]:
    """(host, port, path) of ``host[:port][/path]``, host lowercased; None for a host or port that is not one."""
    try:
        return str(ipaddress.IPv6Address(rest)), 443, ""  # a bare IPv6 address: every colon is its own
    except ValueError:
        pass
    m = _HOST_PORT.fullmatch(rest)
    if m is None:
        return None, 443, ""
    digits = m.group(2)
    port = 443 if digits is None else int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 5 else None
    host, path = m.group(1).lower(), m.group(3) or ""
    if host.startswith("["):
        try:
            return str(ipaddress.IPv6Address(host[1:-1])), port, path
        except ValueError:
            return None, port, path
    return (host if _HOST_NAME.fullmatch(host) else None), port, path



MAX_CA_FILE = 16 * 2**20  # a system CA bundle is about 200 KiB


def tls_context(opts: ConnectOptions) -> ssl.SSLContext:
    """The TLS settings of every connection; InputError naming --ca-file when it holds no CA certificate."""
    if opts.insecure:
        ctx = ssl._create_unverified_context()  # explicit --insecure only
    elif opts.ca_file:
        ctx = ssl.create_default_context(cafile=_checked_ca_file(opts.ca_file))
    else:
        ctx = ssl.create_default_context()
    ctx.sslsocket_class = type("BoundedTLSSocket", (BoundedTLSSocket,), {"exchange_s": float(opts.timeout_s)})
    return ctx


def _checked_ca_file(path: str) -> str:
    """``path`` once it is a readable regular file of PEM certificates: OpenSSL itself reads any file to its end."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(path, "", f"a CA certificate file for --ca-file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, "", "a regular file of PEM CA certificates for --ca-file (not a directory or device)")
    if info.st_size > MAX_CA_FILE:
        raise InputError(path, "", f"PEM CA certificates for --ca-file, at most {MAX_CA_FILE // 2**20} MiB")
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        probe.load_verify_locations(cafile=path)
    except (ssl.SSLError, ValueError) as exc:
        raise InputError(path, "", "PEM CA certificate(s) for --ca-file (-----BEGIN CERTIFICATE-----); "
                                   f"none could be read ({getattr(exc, 'reason', None) or exc})") from None
    except OSError as exc:
        raise InputError(path, "", f"a readable CA certificate file for --ca-file ({exc.strerror or exc})") from None
    return path


class BoundedTLSSocket(ssl.SSLSocket):
    """A TLS socket whose every exchange ends by a deadline, however slowly the server answers.

    A per-read timeout alone lets a server that sends one byte a second hold a
    run for ever. Here the handshake, and each request with the whole of its
    answer, must end within ``exchange_s`` of their start: HTTP/1.1 without
    pipelining, so an exchange starts with the first write after a read.
    """

    exchange_s = 60.0
    _deadline: Optional[float] = None
    _answering = True  # the last call was a read (or nothing yet): the next write starts an exchange

    def do_handshake(self, block: bool = False) -> None:
        self._deadline = time.monotonic() + self.exchange_s
        self._bound()
        super().do_handshake(block)

    def send(self, data: Any, flags: int = 0) -> int:
        if self._answering:
            self._answering = False
            self._deadline = time.monotonic() + self.exchange_s
        self._bound()
        return super().send(data, flags)

    def read(self, len: int = 1024, buffer: Any = None) -> Any:
        self._answering = True
        self._bound()
        return super().read(len, buffer)

    def _bound(self) -> None:
        if self._deadline is None:
            return
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete answer within {self.exchange_s:g} s")
        self.settimeout(left)



def describe(exc: BaseException, timeout_s: float) -> str:
    """One line for a low-level failure; never includes credentials."""
    cert = _find(exc, ssl.SSLCertVerificationError)
    if cert is not None:
        hint = "use --ca-file with the vCenter's CA certificate, or --insecure to skip verification"
        return f"TLS certificate not accepted ({cert.verify_message or cert.reason}); {hint}"
    if _find(exc, ssl.SSLError) is not None:
        return f"TLS handshake failed ({_find(exc, ssl.SSLError)})"
    if _find(exc, ConnectionRefusedError) is not None:
        return "connection refused (is it a vCenter/ESXi address, right port?)"
    if _find(exc, socket.timeout) is not None or _find(exc, TimeoutError) is not None:
        return f"no complete answer within {timeout_s:g} s (--timeout)"
    if _find(exc, socket.gaierror) is not None:
        return f"cannot resolve the name ({_find(exc, socket.gaierror)})"
    if _find(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.IncompleteRead)):
        return "the server closed the connection"
    if _find(exc, http.client.HTTPException) is not None:  # BadStatusLine, LineTooLong, too many headers...
        return f"the answer is not HTTP ({type(_find(exc, http.client.HTTPException)).__name__})"
    if _find(exc, OSError) is not None:
        err = _find(exc, OSError)
        return f"unreachable ({getattr(err, 'strerror', None) or err})"
    msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {server_text(msg)}"


def server_text(text: object) -> str:
    """What a server said, as one bounded line: it may hold anything, newlines and ESC included."""
    return one_line(str(text))[:300]


def _find(exc: BaseException | None, kind: Any) -> Any:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None




def default_client() -> VsphereClient:
    """The real client, over pyVmomi (imported only when a server is actually asked)."""
    from .vsphere_pyvmomi import PyVmomiClient

    return PyVmomiClient()
