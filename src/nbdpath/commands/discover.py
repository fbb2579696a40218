"""``nbdpath discover`` (live vCenter/ESXi) and ``nbdpath import esxcli`` (saved text).

Each command: parse options -> call nbdpath.sources -> write the snapshot
atomically -> print a summary (table or versioned JSON) -> exit code
0 complete, 1 partial (the file lists what is missing), 2 bad input / nothing read.
"""

from __future__ import annotations

import json
import math
import os
import select
import stat
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import click

from ..errors import InputError, UsageError
from ..model import Snapshot
from ..safetext import is_safe_name, one_line
from ..result import Exit

EXIT_OK, EXIT_PARTIAL = Exit.OK, Exit.PARTIAL
MAX_MERGE_FILE = 16 * 2**20  # hand-written YAML; a FIFO or /dev/zero is refused, not read for ever
MAX_PASSWORD_FILE = 64 * 2**10
PASSWORD_WAIT_S = 10.0  # for a pipe's writer (`pass`, `op read`) to produce the password
RESULT_VERSION = 1
PASSWORD_ENV = "NBDPATH_PASSWORD"


def register(cli: click.Group) -> None:
    cli.add_command(discover_cmd)
    cli.add_command(import_group)


def _merge_options(f: Callable) -> Callable:
    f = click.option("--dns", "dns", multiple=True, metavar="NAME=IP",
                     help="How the backup nodes resolve a host name (repeatable).")(f)
    f = click.option("--node", "nodes", multiple=True, metavar="NAME=ADDR/LEN[@GW]",
                     help="A backup node, e.g. proxy01=10.40.0.50/24@10.40.0.1; several interfaces comma-separated "
                          "or by repeating the name (repeatable).")(f)
    f = click.option("--merge", "merge_file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Hand-written YAML with backup_nodes, routers, segments and dns (see docs/discover.md).")(f)
    return f


def _common_output(f: Callable) -> Callable:
    f = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
                     help="Summary format on stdout.")(f)
    f = click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), metavar="FILE",
                     help="Snapshot to write (.json for JSON, YAML otherwise); written atomically.")(f)
    return f


def _apply_merge(snap: Snapshot, merge_file: Optional[str], nodes: tuple[str, ...], dns: tuple[str, ...],
                 before_discovery: bool = False) -> Snapshot:
    from ..io import read_input
    from ..sources.extra import merge, parse_dns_flag, parse_merge, parse_node_flags

    extra = None
    source = "<flags>"
    if merge_file:
        source = merge_file
        text = read_input(merge_file, "merge file (YAML)", MAX_MERGE_FILE)
        extra = parse_merge(text, merge_file)
    return merge(
        snap, extra, source,
        nodes=parse_node_flags(nodes),
        dns=dict(parse_dns_flag(d) for d in dns),
        before_discovery=before_discovery,
    )


def _finish(snap: Snapshot, output: str, fmt: str, kind: str, sources: list[str]) -> int:
    from ..sources.output import write_snapshot

    if snap.missing:
        note = f"PARTIAL: {len(snap.missing)} item(s) could not be read; see 'missing'."
        snap = snap.model_copy(update={"description": f"{note} {snap.description}".strip()})
    path = write_snapshot(snap, output)
    result = {
        "version": RESULT_VERSION,
        "kind": kind,
        "output": str(path),
        "sources": sources,
        "hosts": len(snap.hosts),
        "dvswitches": len(snap.dvswitches),
        "backup_nodes": len(snap.backup_nodes),
        "vms": len(snap.vms),
        "datastores": len(snap.datastores),
        "partial": bool(snap.missing),
        "missing": dict(snap.missing),
    }
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        state = "PARTIAL" if snap.missing else "complete"
        vms = f", {len(snap.vms)} VM(s), {len(snap.datastores)} datastore(s)" if snap.vms or snap.datastores else ""
        click.echo(f"wrote {path}: {len(snap.hosts)} host(s), {len(snap.dvswitches)} distributed switch(es), "
                   f"{len(snap.backup_nodes)} backup node(s){vms} ({state})")
        for key, reason in sorted(snap.missing.items()):
            click.echo(f"  missing  {one_line(key)}: {one_line(reason)}")
    return EXIT_PARTIAL if snap.missing else EXIT_OK


def _check_output(output: str) -> None:
    """Fail before any work when the snapshot could not be written anyway."""
    parent = Path(output).parent
    if not parent.is_dir():
        raise UsageError(f"-o {output}: directory {parent} does not exist")
    if Path(output).is_dir():
        raise UsageError(f"-o {output}: is a directory; expected a file name")


def _password(password_file: Optional[str], user: str) -> str:
    """--password-file, else NBDPATH_PASSWORD, else a prompt on a terminal. Never an argument."""
    if password_file:
        return _password_from(password_file)
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return _checked_password(env, lambda expected: UsageError(f"${PASSWORD_ENV}: expected {expected}"))
    if sys.stdin.isatty():
        prompt = f"Password for {one_line(user)}"
        return _checked_password(click.prompt(prompt, hide_input=True, err=True),
                                 lambda expected: UsageError(f"the password typed: expected {expected}"))
    raise UsageError(f"no password: set {PASSWORD_ENV}, use --password-file, or run on a terminal to be prompted")


def _password_from(path: str) -> str:
    """The first line of ``path``; no message ever quotes any of it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(path, "", f"a readable password file ({exc.strerror or exc})") from None
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise InputError(path, "", "a password file, not a directory")
        data = _first_line(fd, path)
    finally:
        os.close(fd)
    first = data.split(b"\n", 1)[0].removesuffix(b"\r")
    if len(first) > MAX_PASSWORD_FILE // 2:
        raise InputError(path, "line 1", "a password on the first line (this one is too long to be one)")
    try:
        password = first.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(path, "line 1", "a password in UTF-8 text (it is not)") from None
    if not password:
        raise InputError(path, "line 1", "the password on the first line (nothing came from it)")
    return _checked_password(password, lambda expected: InputError(path, "line 1", expected))


def _first_line(fd: int, path: str) -> bytes:
    """Bytes up to the first newline, at most MAX_PASSWORD_FILE of them, within PASSWORD_WAIT_S.

    A pipe is fine (``--password-file <(pass show vc01)``) and is waited for,
    boundedly; a FIFO nobody writes to reads as empty, ``/dev/zero`` ends at
    the size cap, so nothing here waits or grows for ever.
    """
    deadline = time.monotonic() + PASSWORD_WAIT_S
    data = b""
    while b"\n" not in data and len(data) <= MAX_PASSWORD_FILE:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:  # a pipe whose writer has not written yet
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise InputError(path, "", f"a password within {PASSWORD_WAIT_S:g} s (nothing came from it)") from None
            continue
        except OSError as exc:
            raise InputError(path, "", f"a readable password file ({exc.strerror or exc})") from None
        if not chunk:
            break
        data += chunk
    return data


def _checked_password(password: str, refuse: Callable[[str], Exception]) -> str:
    """A password a SOAP login can carry; the refusal never quotes it."""
    if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in password):
        raise refuse("a password without control characters (a SOAP login cannot carry them)")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:  # from an environment variable that was not UTF-8
        raise refuse("a password in UTF-8 text (it is not)") from None
    return password


def _check_connection(servers: list[str], user: str, ca_file: Optional[str], insecure: bool, timeout: float) -> None:
    """Addresses, user, --timeout and --ca-file checked before the password is asked for or a connection opened."""
    from ..sources.vsphere import ConnectOptions, Endpoint, tls_context

    for server in servers:
        Endpoint.parse(server)
    if not user.strip() or not is_safe_name(user) or not user.isprintable():
        raise UsageError(f"--user '{one_line(user)}': expected a user name without control characters")
    if not math.isfinite(timeout):  # click's FloatRange lets nan through
        raise UsageError(f"--timeout {timeout}: expected seconds from 1 to 3600")
    tls_context(ConnectOptions(ca_file=ca_file, insecure=insecure, timeout_s=timeout))


class _Progress:
    """A rich progress bar on a terminal (stderr); silent otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._bar: Optional[Any] = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def __call__(self, vcenter: str, done: int, total: Optional[int]) -> None:
        if self._bar is None:
            return
        if vcenter not in self._tasks:
            self._tasks[vcenter] = self._bar.add_task(f"{vcenter} hosts", total=total)
        self._bar.update(self._tasks[vcenter], completed=done, total=total)


@click.command("discover")
@click.option("--server", "servers", multiple=True, required=True, metavar="VC",
              help="vCenter or ESXi address, host[:port] or https://host[:port] (repeatable; read concurrently).")
@click.option("--user", required=True, help="User name; the password comes from --password-file, "
              f"${PASSWORD_ENV} or a prompt, never from the command line.")
@click.option("--password-file", metavar="FILE", help="File whose first line is the password.")
@click.option("--ca-file", metavar="PEM",
              help="CA certificate(s) to verify the servers with (default: the system store).")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (warned about; avoid).")
@click.option("--page-size", type=click.IntRange(1, 10000), default=250, show_default=True,
              help="Objects per PropertyCollector page.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
              help="Seconds a server may take to connect, to set up TLS, and to answer each request in full.")
@click.option("--no-vms", is_flag=True,
              help="Hosts and switches only: skip VMs, their disks and datastores (what estimate and trace --vm need).")
@_merge_options
@_common_output
def discover_cmd(servers, user, password_file, ca_file, insecure, page_size, timeout, no_vms, merge_file, nodes, dns,
                 output, fmt) -> int:
    """Read hosts, switches, vmks, routes, service tags, VMs and datastores from vCenter/ESXi into a snapshot.

    Read-only: one paged PropertyCollector retrieval per server, VMs (host,
    power state, template, disks) and datastores (read-write mounts) in the
    same one; VM names shared by several VMs become "NAME (FOLDER)", or
    "NAME (VCENTER/MOREF)" where the folder does not tell them apart. Disconnected
    or failing hosts (and unreachable servers, when another one answered) are
    reported, skipped and listed under 'missing' in the snapshot; the exit
    code is then 1. Nothing readable at all: exit 2 and no file.
    """
    from ..sources.vcenter import ConnectOptions, Credentials, discover

    if insecure:
        click.echo("nbdpath: warning: --insecure: TLS certificates are NOT verified; "
                   "anyone on the path can read the credentials", err=True)
    # Output and merge input are checked before any network traffic: a typo costs nothing.
    _check_output(output)
    if merge_file or nodes or dns:
        _apply_merge(Snapshot(), merge_file, nodes, dns, before_discovery=True)
    _check_connection(list(servers), user, ca_file, insecure, timeout)
    creds = Credentials(user, _password(password_file, user))
    opts = ConnectOptions(ca_file=ca_file, insecure=insecure, timeout_s=timeout, page_size=page_size, vms=not no_vms)
    warn = lambda msg: click.echo(f"nbdpath: warning: {one_line(msg)}; skipped", err=True)
    with _Progress(sys.stderr.isatty()) as progress:
        found = discover(list(servers), creds, opts, progress=progress, warn=warn)
    snap = _apply_merge(found.snapshot, merge_file, nodes, dns)
    return _finish(snap, output, fmt, "discover", [v.name for v in found.snapshot.vcenters])


@click.group("import")
def import_group() -> None:
    """Build a snapshot from saved command output instead of a live connection."""


@import_group.command("esxcli")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--host", "host_names", multiple=True, metavar="NAME",
              help="Host name for each PATH in order (default: from the vm-support bundle or directory name).")
@click.option("--esxi-version", metavar="X.Y.Z",
              help="ESXi version when the files do not include 'vmware -vl' output.")
@_merge_options
@_common_output
def import_esxcli_cmd(paths, host_names, esxi_version, merge_file, nodes, dns, output, fmt) -> int:
    """Read saved esxcli outputs: a directory of files, a vm-support bundle directory or .tgz.

    One PATH per host. File names follow the command (e.g.
    network_ip_interface_list.txt; see docs/discover.md for all names,
    including vm-support's commands/esxcli_network_*.txt). An unknown
    layout stops with the file and line.
    """
    from ..sources.esxcli import import_hosts

    if host_names and len(host_names) != len(paths):
        raise UsageError(f"--host given {len(host_names)} time(s) for {len(paths)} path(s); give one per path or none")
    _check_output(output)
    snap = import_hosts(list(paths), list(host_names) or None, esxi_version)
    snap = _apply_merge(snap, merge_file, nodes, dns)
    return _finish(snap, output, fmt, "import-esxcli", list(paths))
