"""Benchmark: hostile sizes for `nbdpath import esxcli` and the snapshot loader.

Generates, in a temporary directory deleted afterwards:
  - member: a ~2 MiB .tgz vm-support bundle whose `esxcli_network-nic-list.txt`
    member is 2 GiB of spaces (a decompression bomb aimed at a file we read);
  - skipped: the same bundle with the 2 GiB member under a name we ignore
    (`var/log/big.log`), so the reader has to walk past it;
  - aliases: a 12 KB YAML snapshot of nested aliases ("billion laughs");
  - merge: an 800-byte YAML of nested merge keys (`<<: [*a, *a, ...]`), which
    PyYAML before 6.0.4 expands exponentially while constructing (run with
    PYTHONPATH pointing at an older PyYAML to see it);
  - deep: JSON and YAML nested 100,000 levels deep.
Each is run as `nbdpath ...` in a child process with its address space
capped (--limit-gib, default 4) and its time (--limit-s, default 120) so a
run that would exhaust memory or never end stops instead of taking the
machine; wall time, exit code, peak RSS (os.wait4) and the last stderr line
are printed.

Run: python benchmarks/hostile_import_loader.py [--limit-gib 4] [--only member aliases ...]
Results are recorded in benchmarks/README.md ("Hostile sizes: import and loader").
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "sources"))

BUNDLE = "esx-h1-2024-05-01--10.22-1"
BIG = 2 << 30


class _Spaces(io.RawIOBase):
    """``n`` bytes of spaces without holding them: tarfile copies from it in chunks."""

    def __init__(self, n: int):
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # noqa: ANN001
        k = min(len(b), self.left)
        b[:k] = b" " * k
        self.left -= k
        return k


def make_bundle(path: Path, big_name: str, tmp: Path) -> Path:
    import esxcli_render as render

    from nbdpath import labs

    host = labs.load("veeam-tag-l2").hosts[0]
    d = render.write_host(host, tmp / "src" / BUNDLE, bundle=True)
    with tarfile.open(path, "w:gz", compresslevel=9) as tar:
        for f in sorted(d.rglob("*")):
            if f.is_file() and not (big_name.endswith("nic-list.txt") and f.name == Path(big_name).name):
                tar.add(f, arcname=f"{BUNDLE}/{f.relative_to(d)}")
        info = tarfile.TarInfo(f"{BUNDLE}/{big_name}")
        info.size = BIG
        tar.addfile(info, io.BufferedReader(_Spaces(BIG), 1 << 20))
    return path


def make_alias_bomb(path: Path, levels: int = 9, width: int = 9) -> Path:
    lines = ["x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        refs = ", ".join(f"*a{i - 1}" for _ in range(width))
        lines.append(f"x-a{i}: &a{i} [{refs}]")
    # x- keys are dropped by the loader: the bomb has to land in a real field.
    lines.append(f"description: {{bomb: *a{levels - 1}}}")
    lines.append(f"hosts: [*a{levels - 1}, *a{levels - 1}]")
    path.write_text("\n".join(lines) + "\n" + "#" * (12000 - sum(len(l) + 1 for l in lines)) + "\n")
    return path


def make_merge_bomb(path: Path, levels: int = 12) -> Path:
    lines = ["x-a0: &a0 {k0: lol, k1: lol, k2: lol, k3: lol, k4: lol, k5: lol, k6: lol, k7: lol, k8: lol}"]
    for i in range(1, levels):
        lines.append(f"x-a{i}: &a{i} {{<<: [" + ", ".join(f"*a{i - 1}" for _ in range(9)) + "]}")
    path.write_text("\n".join(lines) + "\ndescription: x\n")
    return path


def run(name: str, argv: list[str], limit: int, seconds: float) -> None:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    t = time.perf_counter()
    with tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen([sys.executable, "-m", "nbdpath", *argv], stdout=subprocess.DEVNULL,
                                stderr=err_file, preexec_fn=cap)
        timer = threading.Timer(seconds, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err_file.seek(0)
        err = err_file.read().decode(errors="replace")
    wall = time.perf_counter() - t
    rc = proc.returncode if wall < seconds else f"killed after {seconds:.0f} s"
    last = (err.strip().splitlines() or [""])[-1][:110]
    cpu = usage.ru_utime + usage.ru_stime
    print(f"| {name} | {rc} | {wall:.2f} | {cpu:.2f} | {usage.ru_maxrss // 1024} | {last} |", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit-gib", type=float, default=4.0)
    ap.add_argument("--limit-s", type=float, default=120.0)
    ap.add_argument("--only", nargs="*", default=["member", "skipped", "aliases", "merge", "deep"])
    args = ap.parse_args()
    limit = int(args.limit_gib * (1 << 30))
    import yaml

    print(f"PyYAML {yaml.__version__} (libyaml: {hasattr(yaml, 'CSafeLoader')})")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        out = str(tmp / "out.yaml")
        print("| input | exit | wall s | CPU s | peak RSS MiB | last stderr line |")
        print("|---|---:|---:|---:|---:|---|")
        if "member" in args.only:
            tgz = make_bundle(tmp / "member.tgz", "commands/esxcli_network-nic-list.txt", tmp / "m")
            run(f"2 GiB nic list member ({tgz.stat().st_size >> 10} KiB .tgz)", ["import", "esxcli", str(tgz), "-o", out], limit, args.limit_s)
        if "skipped" in args.only:
            tgz = make_bundle(tmp / "skipped.tgz", "var/log/big.log", tmp / "s")
            run(f"2 GiB ignored member ({tgz.stat().st_size >> 10} KiB .tgz)", ["import", "esxcli", str(tgz), "-o", out], limit, args.limit_s)
        if "aliases" in args.only:
            bomb = make_alias_bomb(tmp / "bomb.yaml")
            run(f"alias bomb ({bomb.stat().st_size} B YAML)", ["check", str(bomb)], limit, args.limit_s)
        if "merge" in args.only:
            bomb = make_merge_bomb(tmp / "merge.yaml")
            run(f"merge-key bomb ({bomb.stat().st_size} B YAML)", ["check", str(bomb)], limit, args.limit_s)
        if "deep" in args.only:
            (tmp / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
            run("JSON nested 100,000 deep", ["check", str(tmp / "deep.json")], limit, args.limit_s)
            (tmp / "deep.yaml").write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
            run("YAML nested 100,000 deep", ["check", str(tmp / "deep.yaml")], limit, args.limit_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
