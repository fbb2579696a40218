"""``nbdpath verify`` and ``nbdpath evidence summarize``: parse -> call -> render -> exit code."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import Optional

import click

from ..errors import InputError, UsageError
from ..safetext import one_line
from ..evidence import (
    KINDS,
    CaptureSummary,
    Check,
    EsxtopSummary,
    Evidence,
    LogSummary,
    VerifyReport,
    read_evidence,
    to_dict,
    verify,
)
from ..evidence import pktcap
from ..evidence.window import Window, parse_time
from ..render import rates as rates_render
from ..result import Exit

EXIT_OK, EXIT_FINDINGS = Exit.OK, Exit.CONTRADICTED
SUMMARY_VERSION = 1


def _snapshot(snapshot: Optional[str], lab: Optional[str]):  # -> Snapshot
    # Same inputs as trace/check (core.load_inputs), but one snapshot: evidence is of one estate.
    from .core import load_inputs

    inputs = load_inputs(snapshot, lab)
    if len(inputs) != 1:
        raise UsageError("verify one snapshot at a time (not --lab all)")
    return inputs[0][1]


def _warn(skipped) -> None:
    for s in skipped:
        click.echo(f"nbdpath: warning: {one_line(str(s))}", err=True)


def _text(lines: list[str]) -> str:
    """Evidence files name things (interfaces, disks, hosts): each line escaped, so a name
    can neither drive the terminal nor break into a line of its own."""
    return "\n".join(one_line(line) for line in lines)


def register(cli: click.Group) -> None:
    cli.add_command(verify_cmd)
    cli.add_command(evidence_group)


def _capture_options(f):
    """Where captures were taken (pktcap-uw): for every capture given without its own -e NAME."""
    f = click.option("--bin", "bin_seconds", type=click.FloatRange(min=0.001, max=86400 * 7), default=None,
                     metavar="SECONDS", help="Width of the rate bins (default: at most 60 bins over the file).")(f)
    f = click.option("--dir", "direction", type=click.IntRange(0, 2), default=None, metavar="0|1|2",
                     help="pktcap-uw --dir of the captures: 0 input (default of pktcap-uw), 1 output, 2 both.")(f)
    f = click.option("--vmk", "vmk", metavar="VMK", default=None,
                     help="The vmk every capture was taken on (pktcap-uw --vmk).")(f)
    f = click.option("--uplink", "uplink", metavar="VMNIC", default=None,
                     help="The uplink every capture was taken on (pktcap-uw --uplink).")(f)
    return f


@click.command("verify")
@click.argument("snapshot", required=False, type=click.Path(dir_okay=False))
@click.option("--lab", metavar="NAME", help="A built-in lab (see `nbdpath labs`) instead of a SNAPSHOT file.")
@click.option("--evidence", "-e", "files", multiple=True, required=True, metavar="[NAME=]FILE",
              help="A pcap/pcapng capture, esxtop batch CSV or backup/VDDK log (repeatable); "
                   "NAME= names the host of an esxtop CSV or the node of a log.")
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Read every evidence file as this kind instead of recognising it.")
@click.option("--host", "host", metavar="HOST", default=None,
              help="The host every esxtop CSV or capture given was taken on (real files often say localhost).")
@click.option("--node", "node", metavar="NODE", default=None,
              help="The backup node that wrote every log given (logs rarely name it).")
@click.option("--from", "start", metavar="TIME", default=None,
              help="Count only samples/lines at or after TIME, as the file writes it "
                   "(esxtop MM/DD/YYYY HH:MM:SS, logs ISO 8601).")
@click.option("--to", "end", metavar="TIME", default=None, help="Count only samples/lines at or before TIME.")
@_capture_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "yaml", "markdown", "html"]), default="table",
              show_default=True)
def verify_cmd(snapshot: Optional[str], lab: Optional[str], files: tuple[str, ...], kind: Optional[str],
               host: Optional[str], node: Optional[str], start: Optional[str], end: Optional[str],
               uplink: Optional[str], vmk: Optional[str], direction: Optional[int], bin_seconds: Optional[float],
               fmt: str) -> int:
    """Hold evidence against the predicted path of every host/node pair.

    SNAPSHOT is a snapshot file (or give --lab NAME). Each pair
    is CONFIRMED, CONTRADICTED (naming the fact) or INCONCLUSIVE (saying
    which evidence would settle it). Exit 1 when any pair is contradicted.
    """
    from ..engine import trace

    snap = _snapshot(snapshot, lab)
    span = window(start, end)
    options = pktcap.from_options(uplink, vmk, direction)
    evidence = [_named(read_evidence(f, kind, span, bin_seconds), name, f, host, node, options)
                for name, f in map(split_named, files)]
    report = verify(snap, trace(snap), evidence)
    _warn(report.skipped)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif fmt == "yaml":
        import yaml

        click.echo(yaml.safe_dump(report.to_dict(), sort_keys=False, width=120), nl=False)
    elif fmt in ("markdown", "html"):
        from ..render import verify as verify_render

        doc = report.to_dict()
        click.echo(verify_render.markdown(doc) if fmt == "markdown" else verify_render.html(doc))
    else:
        click.echo(render_report(report))
    return EXIT_FINDINGS if report.contradicted else EXIT_OK


def window(start: Optional[str], end: Optional[str]) -> Window:
    """``--from`` / ``--to`` as a Window; an unreadable time is a usage error naming its option."""
    bounds = []
    for option, text in (("--from", start), ("--to", end)):
        when = parse_time(text) if text is not None else None
        if text is not None and when is None:
            raise UsageError(f"{option}: expected a time as the evidence file writes it (esxtop "
                             f"'MM/DD/YYYY HH:MM:SS', logs ISO 8601 like 2026-11-21T08:14:02), not {one_line(text)!r}")
        bounds.append(when)
    if bounds[0] and bounds[1] and bounds[0] > bounds[1]:
        raise UsageError(f"--from {one_line(str(start))!r} is after --to {one_line(str(end))!r}")
    return Window(*bounds)


def split_named(value: str) -> tuple[Optional[str], str]:
    """``NAME=FILE`` -> (NAME, FILE) when the whole value is no file and FILE is one; else (None, value)."""
    name, eq, path = value.partition("=")
    if eq and name and not os.path.exists(value) and os.path.isfile(path):
        return name, path
    return None, value


def _named(ev: Evidence, name: Optional[str], path: str, host: Optional[str], node: Optional[str],
           options: pktcap.CapturePoint = pktcap.CapturePoint()) -> Evidence:
    """The evidence with the host, node or capture point the user gave in place of what the file says
    (-e NAME=FILE first, then --host / --node / --uplink / --vmk / --dir, then a capture's file name)."""
    if isinstance(ev, EsxtopSummary) and (name or host):
        return replace(ev, host=name or host)
    if isinstance(ev, LogSummary) and (name or node):
        return replace(ev, node=name or node)
    if isinstance(ev, CaptureSummary):
        own = pktcap.from_name(name) if name else None
        given = pktcap.CapturePoint(host=host, how="--host") if host else None
        point = pktcap.combine(own, options, given, pktcap.from_file_name(path))
        return pktcap.attribute(ev, point) if point != pktcap.CapturePoint() else ev
    return ev


@click.group("evidence")
def evidence_group() -> None:
    """Read evidence files on their own."""


@evidence_group.command("summarize")
@click.argument("file")
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Read the file as this kind instead of recognising it.")
@click.option("--from", "start", metavar="TIME", default=None,
              help="Count only samples/lines at or after TIME, as the file writes it "
                   "(esxtop MM/DD/YYYY HH:MM:SS, logs ISO 8601).")
@click.option("--to", "end", metavar="TIME", default=None, help="Count only samples/lines at or before TIME.")
@click.option("--host", "host", metavar="HOST", default=None,
              help="The host an esxtop CSV or a capture was taken on (real files often say localhost).")
@click.option("--node", "node", metavar="NODE", default=None, help="The backup node that wrote a log.")
@_capture_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
def summarize_cmd(file: str, kind: Optional[str], start: Optional[str], end: Optional[str], host: Optional[str],
                  node: Optional[str], uplink: Optional[str], vmk: Optional[str], direction: Optional[int],
                  bin_seconds: Optional[float], fmt: str) -> int:
    """Show what one capture, esxtop CSV or backup log says on its own.

    FILE may be NAME=FILE as for verify (the host of an esxtop CSV or a capture, the node of a log)."""
    name, path = split_named(file)
    ev = _named(read_evidence(path, kind, window(start, end), bin_seconds), name, path, host, node,
                pktcap.from_options(uplink, vmk, direction))
    _warn(ev.skipped)
    if fmt == "json":
        click.echo(json.dumps({"version": SUMMARY_VERSION, "kind": "evidence-summary",
                               "evidence": to_dict(ev)}, indent=2))
    elif fmt == "markdown":
        click.echo(_markdown_summary(ev))
    else:
        click.echo(render_summary(ev))
    return EXIT_OK


def _markdown_summary(ev: Evidence) -> str:
    """The text summary as a fenced block, and the rates over time as a table."""
    fence = "`" * 3
    body = render_summary(ev).replace(fence, "'" * 3)
    out = [f"## {rates_render.md_cell(one_line(ev.file))}", "", fence, body, fence]
    rates = getattr(ev, "rates", None)
    if rates is not None:
        out += ["", *map(one_line, rates_render.markdown_table(to_dict(rates)))]
    return "\n".join(out)


# ----------------------------------------------------------------- render


def render_report(report: VerifyReport) -> str:
    out: list[str] = []
    for p in report.pairs:
        out.append(f"{p.host} -> {p.node}: {p.check.value}  (predicted {p.predicted_verdict})")
        out.append(f"  endpoint    predicted {p.predicted_endpoint or '-'}, observed {p.observed_endpoint or '-'}")
        out.append(f"  egress vmk  predicted {p.predicted_egress_vmk or '-'}, observed {p.observed_egress_vmk or '-'}")
        out.append(f"  uplink      predicted {', '.join(p.predicted_uplinks) or '-'}, "
                   f"observed {p.observed_uplink or 'unknown'}")
        out.append(f"  why: {p.reason}")
        for f in p.facts:
            mark = {True: "agrees", False: "DISAGREES", None: "info"}[f.agrees]
            out.append(f"    [{mark}] {f}")
        for s in p.settle:
            out.append(f"  to settle: {s}")
    if report.carried:
        out.append("carried the bulk:")
        out.extend(f"  {c.text}" for c in report.carried)
    for r in report.rates:
        out.append(f"{r['file']} ({r['kind']}{', ' + r['host'] if r['host'] else ''}):")
        out.extend(rates_render.text_table(r["rates"]))
    if report.unmatched:
        out.append("not matched to the snapshot:")
        out.extend(f"  {u}" for u in report.unmatched)
    counts = {c: sum(p.check is c for p in report.pairs) for c in Check}
    out.append(", ".join(f"{n} {c.value}" for c, n in counts.items()))
    return _text(out)


def render_summary(ev: Evidence) -> str:
    if isinstance(ev, CaptureSummary):
        return _capture_text(ev)
    if isinstance(ev, EsxtopSummary):
        return _esxtop_text(ev)
    if isinstance(ev, LogSummary):
        return _log_text(ev)
    raise InputError(str(getattr(ev, "file", "?")), "", "a known evidence kind")  # pragma: no cover


def _capture_text(c: CaptureSummary) -> str:
    ifs = ", ".join(f"{i.name} (link {i.linktype})" for i in c.interfaces) or "-"
    out = [f"{c.file}: {c.format} capture, {c.packets} packets, {c.bytes} bytes, interfaces: {ifs}",
           f"  TCP 902 connections: {len(c.flows)}; other packets: {c.other_packets}; "
           f"undecoded: {c.undecoded_packets}{'; TRUNCATED' if c.truncated else ''}"]
    out += [f"  {line}" for line in pktcap.context(c)]
    for f in c.flows:
        hs = "complete" if f.handshake_complete else ("SYN only" if f.syn_at is not None else "not seen")
        rtt = f" ({(f.synack_at - f.syn_at) * 1e3:.3f} ms SYN->SYN-ACK)" if f.handshake_complete else ""  # type: ignore[operator]
        out.append(f"  {f.node_ip}:{f.node_port} -> {f.host_ip}:{f.host_port}  handshake {hs}{rtt}")
        out.append(f"    node->host {f.to_host_packets} pkts {f.to_host_bytes} B on {', '.join(f.to_host_interfaces)}; "
                   f"host->node {f.to_node_packets} pkts {f.to_node_bytes} B on {', '.join(f.to_node_interfaces)}")
        if f.to_node_src_macs:
            out.append("    data sent by MAC " + ", ".join(f"{m} ({b} B)" for m, b in f.to_node_src_macs))
        if f.to_host_dst_macs:
            out.append("    requests to MAC " + ", ".join(f"{m} ({n} pkts)" for m, n in f.to_host_dst_macs))
    out += _bulk_lines(c)
    if c.rates is not None:
        out += rates_render.text_table(to_dict(c.rates))
    return _text(out)


def _bulk_lines(c: CaptureSummary) -> list[str]:
    """Which interface and which MAC sent most of the NFC data in this one file."""
    out: list[str] = []
    if c.rates is None:
        return out
    for macs, what in ((True, "source MAC"), (False, "interface")):
        totals = [(s.name, float(s.total_bytes or 0)) for s in c.rates.series
                  if s.direction == "to node" and (s.kind == "mac") == macs]
        top = rates_render.shares(totals)
        if len(totals) > 1 and top:
            name, _amount, share = top[0]
            out.append(f"  bulk: {what} {name} carried {share:.0%} of the NFC bytes host -> node")
    return out


def _esxtop_text(e: EsxtopSummary) -> str:
    out = [f"{e.file}: esxtop batch CSV from {e.host or '?'}, {e.samples} samples "
           f"({e.first_time or '-'} .. {e.last_time or '-'})"]
    if e.transmitting_vmk:
        out.append(f"  transmitting vmk: {e.transmitting_vmk} (backup window {e.window_first} .. {e.window_last})")
    else:
        out.append("  no vmk transmitted more than 1 Mbit/s: no backup in this CSV")
    if e.uplink:
        out.append(f"  uplink: {e.uplink.vmnic} (r={e.uplink.correlation}, {e.uplink.tx_mbps_avg:.1f} Mbit/s avg)")
    elif e.transmitting_vmk:
        out.append("  uplink: unknown (no vmnic's transmit followed the vmk's closely)")
    if e.receiving_vmk:
        out.append(f"  receiving most: {e.receiving_vmk}")
    out.append("  port                                  tx avg/peak Mbit/s   rx avg/peak Mbit/s")
    for p in e.ports:
        if p.kind in ("vmk", "vmnic"):
            out.append(f"  {p.instance:<36}  {p.tx_mbps_avg:8.1f} / {p.tx_mbps_peak:8.1f}   "
                       f"{p.rx_mbps_avg:8.1f} / {p.rx_mbps_peak:8.1f}")
    others = sum(p.kind not in ("vmk", "vmnic") for p in e.ports)
    if others:
        out.append(f"  (+{others} VM and other ports)")
    if e.rates is not None:
        out += rates_render.text_table(to_dict(e.rates))
    return _text(out)


def _log_text(log: LogSummary) -> str:
    out = [f"{log.file}: backup log, {log.lines} lines ({log.encoding}), "
           f"{len(log.targets)} NFC targets, {len(log.failures)} connect failures"]
    if log.node:
        out.append(f"  written by node: {log.node} (as named on the command line)")
    for t in log.targets:
        extra = f" hostname {t.hostname}" if t.hostname else ""
        comp = f" {t.compression}" if t.compression else ""
        state = (f" FAILED ({t.error})" if t.error else " FAILED") if t.failed else ""
        state += " (URL mangled, recovered)" if t.mangled else ""
        out.append(f"  line {t.line}: {t.transport}{comp} -> {t.address}:{t.port}{extra}  {t.disk}{state}")
    for f in log.failures:
        server = f" (server {f.server})" if f.server and f.server != f.target else ""
        code = f" ({f.code})" if f.code != "connect" else ""
        if f.target and not f.network:
            out.append(f"  line {f.line}: {f.code} opening {f.target}:{f.port} (not a network failure)")
        elif f.target:
            out.append(f"  line {f.line}: could not connect to {f.target}:{f.port}{server}{code}")
        else:
            out.append(f"  line {f.line}: {f.code} failure, no NFC target before it")
    return _text(out)

