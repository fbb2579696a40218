"""``nbdpath lab run|verify|down``: replay a snapshot on Linux namespaces.

parse -> call :mod:`nbdpath.lab` -> render -> exit code. Needs root,
iproute2, and (when the snapshot or options ask for them) iptables and
tcpdump; without them the library raises one UsageError (exit 2).
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import click

from ..errors import UsageError
from ..io import excerpt
from ..result import Exit

if TYPE_CHECKING:  # for the annotation only: this module imports the model on use, as _load_all does
    from ..model import Snapshot

EXIT_OK, EXIT_FINDINGS = Exit.OK, Exit.ATTENTION
MAX_BYTES = 1 << 30  # every stream is bounded; a GiB is plenty for a lab
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 10**6, "mb": 10**6, "mib": 1 << 20,
          "g": 10**9, "gb": 10**9, "gib": 1 << 30}


def parse_size(text: str) -> int:
    """``8MiB``, ``512KiB``, ``1000``... -> bytes, from 1 to MAX_BYTES; click.BadParameter otherwise."""
    # Stripped first: "\s*" on both sides of a fullmatch backtracks quadratically on long blank runs.
    m = re.fullmatch(r"([0-9]{1,12}) ?([A-Za-z]{0,3})", text.strip(), re.ASCII) if len(text) <= 64 else None
    if not m or m.group(2).lower() not in _UNITS:
        raise click.BadParameter(f"expected a size like 8MiB, 512KiB or 1048576 (1 byte to 1GiB), not {excerpt(text)}")
    n = int(m.group(1)) * _UNITS[m.group(2).lower()]
    if not 1 <= n <= MAX_BYTES:
        raise click.BadParameter(f"expected between 1 byte and 1GiB, not {excerpt(text)}")
    return n


class _Size(click.ParamType):
    """--bytes checked while the options are parsed, so the error names the option (and --dry-run checks it too)."""

    name = "SIZE"

    def convert(self, value, param, ctx):  # noqa: ANN001 - click's signature
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


def _load_all(snapshot: Optional[str], lab: Optional[str]) -> list[tuple[str, Snapshot]]:
    """SNAPSHOT (a file, or lab:NAME) or --lab NAME|all, as for trace and check."""
    from .core import load_inputs

    if snapshot and snapshot.startswith("lab:") and not Path(snapshot).exists() and not lab:
        lab = snapshot[len("lab:"):]
        snapshot = None
    return load_inputs(snapshot, lab)


def _load(snapshot: Optional[str], lab: Optional[str] = None):
    inputs = _load_all(snapshot, lab)
    if len(inputs) != 1:
        raise UsageError("this needs one snapshot: a SNAPSHOT file or --lab NAME")
    return inputs[0][1]


def _paths(snap, pairs: tuple[str, ...]):
    from .. import engine

    paths = engine.trace(snap)
    if not pairs:
        return paths
    wanted = []
    for text in pairs:
        host, sep, node = text.partition(":")
        if not sep:
            raise UsageError(f"--pair expects HOST:NODE, not {text!r}")
        hit = [p for p in paths if p.host == host and p.node == node]
        if not hit:
            raise UsageError(f"--pair {text}: no such host/node pair; hosts: {', '.join(h.name for h in snap.hosts)}; "
                             f"nodes: {', '.join(n.name for n in snap.backup_nodes)}")
        wanted += hit
    return wanted


def _sigterm_as_interrupt() -> None:
    # A killed run must clean up like a Ctrl-C'd one.
    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _common(f):
    options = [
        click.argument("snapshot", required=False),
        click.option("--lab", metavar="NAME", help="A built-in lab (or `all`) instead of SNAPSHOT."),
        click.option("--pair", "pairs", multiple=True, metavar="HOST:NODE", help="Only these pairs (repeatable)."),
        click.option("--bytes", "size", type=_Size(), default="8MiB", show_default=True,
                     help="Bytes each host streams back: 1 byte to 1GiB, e.g. 64KiB, 8MiB, 1000000."),
        click.option("--connect-timeout", default=2.0, show_default=True, type=click.FloatRange(0.05, 60),
                     help="Seconds the node waits for the TCP handshake."),
        click.option("--idle-timeout", default=2.0, show_default=True, type=click.FloatRange(0.05, 60),
                     help="Seconds without data before a stream counts as stalled."),
        click.option("--timeout", "total_timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 600),
                     help="Seconds a stream may take in all."),
        click.option("--keep-pcaps", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Capture every host interface with tcpdump and keep the pcaps in DIR."),
        click.option("--snaplen", default=128, show_default=True, type=click.IntRange(64, 262144),
                     help="Bytes captured per packet with --keep-pcaps."),
        click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
                     help="A table, or the versioned JSON object ({\"version\": 1, \"kind\": \"lab-run\", ...})."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _run(snapshot, lab, pairs, size, connect_timeout, idle_timeout, total_timeout, keep_pcaps, snaplen):
    """Run every selected snapshot in turn; [(name, result)]."""
    from ..lab.kernel import Limits
    from ..lab.run import run

    nbytes = size  # already a byte count: see _Size
    inputs = _load_all(snapshot, lab)
    selected = [(name, snap, _paths(snap, pairs)) for name, snap in inputs]
    _sigterm_as_interrupt()
    limits = Limits(nbytes, connect_timeout, idle_timeout, total_timeout)
    results = []
    for name, snap, paths in selected:
        # Several labs: one pcap folder each, so interface names cannot collide.
        pcaps = keep_pcaps / name if keep_pcaps is not None and len(selected) > 1 else keep_pcaps
        results.append((name, run(snap, paths, limits, pcaps, snaplen=snaplen)))
    return results


def _emit(results, fmt: str, text, kind: str = "lab-run") -> None:
    if fmt == "json":
        if len(results) == 1:
            click.echo(json.dumps({**results[0][1].to_dict(), "kind": kind}, indent=2))
        else:
            click.echo(json.dumps({"version": 1, "kind": kind,
                                   "runs": [{"snapshot": n, **{k: v for k, v in r.to_dict().items()
                                                               if k not in ("version", "kind")}} for n, r in results]},
                                  indent=2))
        return
    for i, (name, result) in enumerate(results):
        if len(results) > 1:
            click.echo(("\n" if i else "") + f"== {name}")
        click.echo(text(result))


@click.group("lab")
def lab_group() -> None:
    """Replay a snapshot on Linux network namespaces and check the engine.

    One namespace per ESXi host (default TCP/IP stack only), backup node and
    router, one bridge per segment; each node connects to the endpoint the
    engine says vCenter returns, on TCP 902, and the host streams data back.
    Needs root, iproute2, iptables (stateful routers) and tcpdump (--keep-pcaps).
    """


@lab_group.command("run")
@_common
@click.option("--dry-run", is_flag=True, help="Print the commands that would build the lab, and stop (no root needed).")
def run_cmd(snapshot, lab, pairs, size, connect_timeout, idle_timeout, total_timeout, keep_pcaps, snaplen, fmt, dry_run) -> int:
    """Stream every host/node pair of SNAPSHOT (a file, lab:NAME, or --lab NAME|all) and show what the kernel did.

    Per pair: connected or not, bytes received, bytes and packets sent and
    received on each host interface (kernel counters), and so the observed
    egress vmk. Exit 0 when the run completed, whatever it observed.
    """
    if dry_run:
        from ..lab.run import plan_for
        from ..lab.script import shell_script

        snap = _load(snapshot, lab)
        click.echo(shell_script(plan_for(snap, _paths(snap, pairs))), nl=False)
        return EXIT_OK
    from ..lab.report import run_text

    _emit(_run(snapshot, lab, pairs, size, connect_timeout, idle_timeout, total_timeout, keep_pcaps, snaplen), fmt, run_text)
    return EXIT_OK


@lab_group.command("verify")
@_common
def verify_cmd(snapshot, lab, pairs, size, connect_timeout, idle_timeout, total_timeout, keep_pcaps, snaplen, fmt) -> int:
    """Predicted vs observed egress vmk and completion, per pair; exit 1 on any disagreement."""
    from ..lab.report import verify_text

    results = _run(snapshot, lab, pairs, size, connect_timeout, idle_timeout, total_timeout, keep_pcaps, snaplen)
    _emit(results, fmt, verify_text, "lab-verify")
    return EXIT_OK if all(r.agree for _, r in results) else EXIT_FINDINGS


@lab_group.command("down")
@click.option("--all", "include_live", is_flag=True,
              help="Also remove labs whose owning process is still running.")
def down_cmd(include_live: bool) -> int:
    """Remove what crashed or killed lab runs left behind (namespaces, their links and processes)."""
    from ..lab.kernel import down, missing_requirements

    missing = missing_requirements(need_tcpdump=False, need_iptables=False)
    if missing:
        raise UsageError("nbdpath lab down cannot run here; missing: " + "; ".join(missing))
    removed = down(include_live)
    if removed:
        click.echo(f"removed {len(removed)} namespace(s): {', '.join(removed)}")
    else:
        click.echo("nothing to remove")
    return EXIT_OK


def register(cli: click.Group) -> None:
    cli.add_command(lab_group)


__all__ = ["parse_size", "register"]
