"""Render a lab run as text tables. Pure (JSON is ``LabRun.to_dict``)."""

from __future__ import annotations

from .run import LabRun


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _mib(n: int) -> str:
    return f"{n / 1048576:.2f} MiB" if n >= 1048576 else f"{n} B"


def verify_text(run: LabRun) -> str:
    """Per pair: predicted vs observed egress vmk and completion."""
    rows = []
    for c in run.checks:
        p, o = c.prediction, c.observation
        if not o.attempted:
            observed_egress, observed_done, mark = "-", f"not run: {o.skip_reason}", "skip"
        else:
            observed_egress = o.egress_vmk or "none"
            observed_done = "yes" if o.completed else f"no ({o.error or 'incomplete'})"
            mark = "ok" if c.agree else "DISAGREE"
        rows.append([
            p.host, p.node, p.endpoint_ip or "-", p.egress_vmk or "none", observed_egress,
            "yes" if p.completes else f"no ({p.verdict})", observed_done, mark,
        ])
    out = [f"lab {run.snapshot} (run {run.prefix}): engine vs Linux kernel, {_mib(run.limits.nbytes)} per stream"]
    out += _table(["host", "node", "endpoint", "egress predicted", "egress observed",
                   "completes predicted", "completes observed", "result"], rows)
    bad = [c for c in run.checks if not c.agree]
    for c in bad:
        for problem in c.problems:
            out.append(f"  {c.prediction.host} -> {c.prediction.node}: {problem}")
    out.append(_summary(run))
    return "\n".join(out)


def run_text(run: LabRun) -> str:
    """Per pair: what the kernel did, interface by interface."""
    out = [f"lab {run.snapshot} (run {run.prefix})"]
    for c in run.checks:
        p, o = c.prediction, c.observation
        out.append("")
        out.append(f"{p.host} -> {p.node}: endpoint {p.endpoint_ip or 'none'}")
        if not o.attempted:
            out.append(f"  not run: {o.skip_reason}")
            continue
        state = "completed" if o.completed else ("connected, incomplete" if o.connected else "no connection")
        out.append(
            f"  {state}: {_mib(o.bytes_received)} of {_mib(o.bytes_expected)} in {o.seconds:.2f}s"
            + (f" from {o.node_ip}" if o.node_ip else "")
            + (f" ({o.error})" if o.error else "")
        )
        rows = [[k.interface, str(k.tx_bytes), str(k.tx_packets), str(k.rx_bytes), str(k.rx_packets),
                 ("<- egress" if k.interface == o.egress_vmk else "")] for k in o.interfaces]
        out += ["  " + line for line in _table(["vmk", "tx bytes", "tx pkts", "rx bytes", "rx pkts", ""], rows)]
        out.append(f"  predicted: {p.verdict}, egress {p.egress_vmk or 'none'}; " + ("agrees" if c.agree else "; ".join(c.problems)))
    if run.pcaps:
        out.append("")
        out.append(f"captures kept in {run.pcaps}")
    out.append("")
    out.append(_summary(run))
    return "\n".join(out)


def _summary(run: LabRun) -> str:
    ran = [c for c in run.checks if c.observation.attempted]
    bad = sum(1 for c in ran if not c.agree)
    t = run.timings
    lines = [(f"{len(ran)} pair(s) streamed, {bad} disagreement(s); up {t.get('up', 0):.2f}s, "
              f"streams {t.get('streams', 0):.2f}s, down {t.get('down', 0):.2f}s")]
    lines += [f"note: {n}" for n in run.notes]
    lines.append("emulated: the default TCP/IP stack of each host (see docs/lab.md)")
    return "\n".join(lines)
