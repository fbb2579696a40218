"""Time the shareable reports (Markdown, HTML) against the JSON contract they render from.

python benchmarks/render_reports.py [--hosts 100 1000 5000]

For each size a fleet from fleetgen (16 backup nodes, so pairs = 16 x hosts)
is traced and checked once (not timed); then each renderer runs on the same
Report. JSON (``to_json``, with hops) is the peer: Markdown and HTML both
start from ``Report.to_dict()``, so the ratio shows what the rendering itself
adds. Prints wall and CPU seconds and the output size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import fleetgen

from nbdpath.commands.core import build_report
from nbdpath.model import parse
from nbdpath.render import html as html_render
from nbdpath.render import markdown, to_json

RENDERERS = {
    "json (peer)": lambda r: to_json(r, with_hops=True),
    "trace markdown": markdown.paths_markdown,
    "check markdown": markdown.findings_markdown,
    "html": html_render.report_html,
    "html --no-hops": lambda r: html_render.report_html(r, with_hops=False),
}


def measure(n_hosts: int) -> list[dict]:
    import json

    snap = parse(json.dumps(fleetgen.generate(n_hosts)), f"fleet-{n_hosts}")
    report = build_report([(f"fleet-{n_hosts}", snap)])
    report.to_dict(with_hops=True)  # hops are walked lazily, once: not on the first renderer's clock
    rows = []
    for name, fn in RENDERERS.items():
        t0, c0 = time.perf_counter(), time.process_time()
        text = fn(report)
        rows.append({"hosts": n_hosts, "pairs": len(report.paths), "findings": len(report.findings),
                     "format": name, "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                     "mib": len(text.encode()) / 2**20})
    peer = rows[0]["wall"]
    for r in rows:
        r["ratio"] = r["wall"] / peer if peer else float("nan")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, nargs="*", default=[100, 1000, 5000])
    args = ap.parse_args()
    print("| hosts | pairs | findings | format | wall s | CPU s | MiB | x json |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    for n in args.hosts:
        for r in measure(n):
            print(f"| {r['hosts']} | {r['pairs']} | {r['findings']} | {r['format']} | {r['wall']:.2f} | "
                  f"{r['cpu']:.2f} | {r['mib']:.1f} | {r['ratio']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
