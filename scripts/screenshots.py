"""PNG screenshots of each built-in lab's HTML report, for review by eye.

.venv/bin/python scripts/screenshots.py [OUT_DIR] [--lab NAME ...] [--width 1280]

For each lab: OUT_DIR/LAB.html (``nbdpath check --format html``), OUT_DIR/LAB-report.png
(the page from the top: summary, paths, findings) and OUT_DIR/LAB-diagrams.png (the page's
path diagrams section alone, so every diagram is in the picture however long the page).
Needs headless Chromium (Debian package ``chromium``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from nbdpath import labs
from nbdpath.cli import main as nbdpath

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--no-first-run"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("screenshots: no chromium on PATH (apt-get install chromium)")


def shoot(browser: str, page: Path, png: Path, width: int, height: int, profile: Path) -> None:
    run = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                          f"--window-size={width},{height}", page.as_uri()], capture_output=True, text=True, timeout=120)
    if run.returncode != 0 or not png.exists():
        sys.exit(f"screenshots: chromium failed on {page}: {run.stderr.strip()[-500:]}")


def diagrams_page(report: str) -> tuple[str, int]:
    """The report's head (its styles) and its diagrams section alone; a height that fits them."""
    head = report.split("<body>", 1)[0]
    section = report.split('<section id="shapes">', 1)[1].split("</section>", 1)[0]
    heights = [int(float(h)) for h in
               (part.split('"', 1)[0] for part in section.split('class="diagram" role="img" viewBox="0 0 860 ')[1:])]
    # Each shape: its diagram plus its heading, verdict, members and folded details.
    return f'{head}<body><section id="shapes">{section}</section></body></html>', sum(h + 280 for h in heights) + 80


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default="screenshots")
    ap.add_argument("--lab", action="append", help="only these labs (repeatable); default every built-in lab")
    ap.add_argument("--width", type=int, default=1280)
    args = ap.parse_args(argv)
    browser = chromium()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for lab in args.lab or labs.names():
            html = out / f"{lab}.html"
            if nbdpath(["check", "--lab", lab, "--fail-on", "never", "--format", "html", "-o", str(html)]) != 0:
                return 2
            shoot(browser, html, out / f"{lab}-report.png", args.width, 2400, Path(tmp) / "p")
            page, height = diagrams_page(html.read_text())
            only = Path(tmp) / f"{lab}-diagrams.html"
            only.write_text(page)
            shoot(browser, only, out / f"{lab}-diagrams.png", args.width, min(height, 16000), Path(tmp) / "p")
            print(f"{out / lab}-report.png  {out / lab}-diagrams.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
