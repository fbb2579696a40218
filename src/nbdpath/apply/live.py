"""The one seam to live hosts: read their state, make one change.

:class:`Live` is what the runner talks to. :class:`VcenterLive` is the real
one, over the vSphere client seam discovery uses too (pyVmomi, or the
in-memory :mod:`nbdpath.sources.vsphere_fake`);
:class:`SnapshotLive` keeps the state in memory (unit tests, rehearsals).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from .. import changes as ch
from ..errors import LiveError, RemoteError, SessionLost, SoapFault
from ..model import Snapshot
from ..sources.vsphere import (
    ConnectOptions,
    Credentials,
    Endpoint,
    VsphereClient,
    VsphereSession,
    default_client,
    describe,
)


class Live(Protocol):
    def read(self, hosts: Iterable[str] | None = None) -> Snapshot:
        """The current state: of every host the server lists, or at least of ``hosts``."""

    def perform(self, change: ch.Change) -> None:
        """Make one change; raises LiveError when the host refuses it or is unreachable."""


class SnapshotLive:
    """A live estate kept in memory: the same semantics as a host, no network."""

    def __init__(self, snap: Snapshot):
        self.state = snap

    def read(self, hosts: Iterable[str] | None = None) -> Snapshot:
        return self.state

    def perform(self, change: ch.Change) -> None:
        try:
            self.state = ch.apply(self.state, change)
        except Exception as exc:
            raise LiveError(str(exc)) from None


class VcenterLive:
    """A vCenter (or ESXi) session through the vSphere client seam. Connect with :meth:`open`; close with :meth:`close`."""

    def __init__(self, session: VsphereSession, endpoint: Endpoint, opts: ConnectOptions):
        self.session = session
        self.endpoint = endpoint
        self.opts = opts
        self._read_once = False

    @classmethod
    def open(cls, server: str, creds: Credentials, opts: ConnectOptions,
             client: VsphereClient | None = None) -> VcenterLive:
        ep = Endpoint.parse(server)
        return cls((client or default_client()).connect(ep, creds, opts), ep, opts)

    def close(self) -> None:
        self.session.close()

    def read(self, hosts: Iterable[str] | None = None) -> Snapshot:
        """The hosts' state as discovery converts it.

        Without ``hosts`` (or before the first read): the whole inventory.
        With ``hosts``: those hosts (the session reads only them when it can;
        on 1,000 hosts that makes a step cost tenths of a second rather than
        seconds, docs/apply.md); one asked for and gone is missing, "vanished".
        """
        names = list(hosts) if hosts is not None and self._read_once else None
        try:
            converted = self.session.read_inventory() if names is None else self.session.read_hosts(names)
        except RemoteError as exc:
            raise LiveError(f"{self.endpoint.label}: reading the hosts failed: {self._describe(exc)}") from None
        self._read_once = True
        return self._snapshot(converted, names or [])

    def _snapshot(self, converted: Any, asked: list[str]) -> Snapshot:
        missing = dict(converted.missing)
        found = {h.name for h in converted.hosts}
        for name in asked:
            if name not in found and name not in missing:
                missing[name] = "vanished from the inventory"
        return Snapshot(name="live", hosts=converted.hosts, dvswitches=converted.dvswitches, missing=missing)

    def perform(self, change: ch.Change) -> None:
        try:
            api = self.session.host_network(change.host)
        except SoapFault:
            raise LiveError(f"host {change.host} is not in {self.endpoint.label}'s inventory") from None
        try:
            change.perform(api)
        except LiveError:
            raise
        except Exception as exc:
            raise LiveError(f"{change.host}: {change.describe()} failed: {self._describe(exc)}") from None

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, SoapFault):
            if exc.kind == "ManagedObjectNotFound":
                return "the host vanished from the inventory"
            return f"{exc.kind}: {exc.message or 'refused'}"
        if isinstance(exc, SessionLost):
            return str(exc)
        return describe(exc, self.opts.timeout_s)
