"""Time the shareable reports (Markdown, HTML) against the JSON contract they render from.

python benchmarks/render_reports.py [--hosts 100 1000 5000]
python benchmarks/render_reports.py --cli [--hosts 1000 10000] [--before SRC_DIR]

``--cli`` measures the commands as users run them instead: ``nbdpath check FILE
--format html -o OUT`` (and markdown) in a fresh process on a fleetgen file on
disk, wall and peak RSS from ``/usr/bin/time -f "%e %M"``, and the file size.
With ``--before SRC_DIR`` (e.g. the ``src`` of a ``git worktree`` of an older
commit) the same commands run with that source on PYTHONPATH too, side by side.

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


CLI_FORMATS = ("html", "markdown")


def run_cli(src: str, fleet: Path, fmt: str, out: Path) -> tuple[float, float, float]:
    """(wall s, peak RSS MiB, output MB) of one fresh ``nbdpath check`` with ``src`` first on sys.path."""
    import os
    import subprocess
    import tempfile

    env = {**os.environ, "PYTHONPATH": src}
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", t.name, sys.executable, "-m", "nbdpath", "check",
                        str(fleet), "--format", fmt, "-o", str(out)], env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, kib = t.read().split()[-2:]
    size = out.stat().st_size / 1e6 if out.exists() else float("nan")
    out.unlink(missing_ok=True)
    return float(wall), int(kib) / 1024, size


def cli(hosts: list[int], before: str | None) -> None:
    import tempfile

    after = str(Path(__file__).parents[1] / "src")
    versions = [("before", before)] if before else []
    versions.append(("after", after))
    print("| hosts | format | " + " | ".join(f"{v} wall s | {v} peak MiB | {v} MB" for v, _ in versions) + " |")
    print("|---:|---|" + "---:|" * (3 * len(versions)))
    with tempfile.TemporaryDirectory() as tmp:
        for n in hosts:
            fleet = Path(tmp) / f"fleet-{n}.json"
            fleetgen.write(str(fleet), n)
            for fmt in CLI_FORMATS:
                cells = []
                for _, src in versions:
                    wall, mib, mb = run_cli(src, fleet, fmt, Path(tmp) / f"out.{fmt}")
                    cells.append(f"{wall:.2f} | {mib:.0f} | {mb:.2f}")
                print(f"| {n} | {fmt} | " + " | ".join(cells) + " |", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, nargs="*", default=None)
    ap.add_argument("--cli", action="store_true", help="fresh-process commands on a file, not renderers in-process")
    ap.add_argument("--before", metavar="SRC_DIR", help="with --cli: also run this source tree (PYTHONPATH)")
    args = ap.parse_args()
    if args.cli:
        cli(args.hosts or [1000, 10000], args.before)
        return 0
    args.hosts = args.hosts or [100, 1000, 5000]
    print("| hosts | pairs | findings | format | wall s | CPU s | MiB | x json |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    for n in args.hosts:
        for r in measure(n):
            print(f"| {r['hosts']} | {r['pairs']} | {r['findings']} | {r['format']} | {r['wall']:.2f} | "
                  f"{r['cpu']:.2f} | {r['mib']:.1f} | {r['ratio']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
