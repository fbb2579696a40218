"""Benchmark: the commands as users run them, on a generated fleet (benchmarks/fleetgen.py).

Each command and format runs in a fresh process on the snapshot file on disk, with its output
written to a file (``-o``, or stdout redirected for commands without it), timed by
``/usr/bin/time -f "%e %U %S %M"`` (wall seconds, user + system CPU seconds, peak KiB). The engine-only figure (load + trace +
check in one process, as benchmarks/trace_fleet.py measures it) runs in the same session beside
them, so a shared machine's load shows in both.

    python benchmarks/commands.py --hosts 1000 10000
    python benchmarks/commands.py --hosts 10000 --pythonpath /tmp/before/src   # older code
    python benchmarks/commands.py --hosts 10000 --pythonpath /tmp/before/src --pythonpath - --repeat 3
    python benchmarks/commands.py --only "trace json" "check table"
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_S, TARGET_MIB, TARGET_RATIO = 3.0, 1024, 1.5

# name -> arguments after `nbdpath` (FILE: the snapshot, OUT: the output file or None for stdout)
COMMANDS = {
    "trace table": ["trace", "FILE", "-o", "OUT"],
    "trace json": ["trace", "FILE", "--format", "json", "-o", "OUT"],
    "trace yaml": ["trace", "FILE", "--format", "yaml", "-o", "OUT"],
    "trace markdown": ["trace", "FILE", "--format", "markdown", "-o", "OUT"],
    "trace html": ["trace", "FILE", "--format", "html", "-o", "OUT"],
    "check table": ["check", "FILE", "--fail-on", "never", "-o", "OUT"],
    "check json": ["check", "FILE", "--fail-on", "never", "--format", "json", "-o", "OUT"],
    "check yaml": ["check", "FILE", "--fail-on", "never", "--format", "yaml", "-o", "OUT"],
    "check markdown": ["check", "FILE", "--fail-on", "never", "--format", "markdown", "-o", "OUT"],
    "check html": ["check", "FILE", "--fail-on", "never", "--format", "html", "-o", "OUT"],
    "plan text": ["plan", "FILE"],
    "plan json": ["plan", "FILE", "--format", "json"],
    "plan markdown": ["plan", "FILE", "--format", "markdown"],
    "plan esxcli": ["plan", "FILE", "--format", "esxcli"],
    "plan ansible": ["plan", "FILE", "--format", "ansible"],
    "plan powercli": ["plan", "FILE", "--format", "powercli"],
    # What an admin runs more often than a whole-fleet plan: one cluster's fixes (fleetgen's c0:
    # 16 hosts, 32 changes).
    "plan json --cluster c0": ["plan", "FILE", "--cluster", "c0", "--format", "json"],
    "estimate json": ["estimate", "FILE", "--format", "json"],
    # A night's record into a database that holds the night before (DB: one per tree, seeded by
    # an unmeasured first record of the same fleet), as cron runs it.
    "history record": ["history", "record", "FILE", "--db", "DB"],
    # AFTER: the fleet after its whole plan (plan --save-snapshot, unmeasured): 8,000 of 10,000
    # hosts changed, 96,000 pairs. DRIFTDB: a database of the fleet's record, then AFTER's.
    "diff table": ["diff", "FILE", "AFTER", "-o", "OUT"],
    "diff json": ["diff", "FILE", "AFTER", "--format", "json", "-o", "OUT"],
    "diff yaml": ["diff", "FILE", "AFTER", "--format", "yaml", "-o", "OUT"],
    "history drift": ["history", "drift", "--db", "DRIFTDB", "-o", "OUT"],
    "history drift json": ["history", "drift", "--db", "DRIFTDB", "--format", "json", "-o", "OUT"],
}

ENGINE = """
import sys
try:  # as the console script runs (nbdpath.cli.run); older trees lack it
    from nbdpath.io import gc_for_one_command
    gc_for_one_command()
except ImportError:
    pass
from nbdpath.commands.core import load_inputs
from nbdpath.engine import Engine
from nbdpath.rules import check
[(_, snap)] = load_inputs(sys.argv[1], None)
engine = Engine(snap)
check(engine, engine.trace())
# As the console script does (nbdpath.cli.run): no heap teardown, so both sides leave alike.
import os
os._exit(0)
"""


def timed(argv: list[str], env: dict[str, str], stdout_to: str | None, timeout: float) -> dict:
    """Wall seconds and peak MiB of ``argv`` in a fresh process, or why it has none."""
    cmd = ["/usr/bin/time", "-f", "%e %U %S %M", *argv]
    out = open(stdout_to, "w") if stdout_to else subprocess.DEVNULL
    # Its own process group: on timeout the command is stopped too, not only /usr/bin/time.
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"wall_s": None, "peak_mib": None, "note": f"> {timeout:.0f} s (stopped)"}
    finally:
        if stdout_to:
            out.close()
    last = err.strip().splitlines()[-1] if err.strip() else ""
    try:
        wall, user, system, kib = last.split()
    except ValueError:
        return {"wall_s": None, "peak_mib": None, "note": f"failed: {err.strip()[-200:]}"}
    if proc.returncode not in (0, 1):  # 1: findings; anything else did not do the job
        return {"wall_s": None, "peak_mib": None, "note": f"failed (exit {proc.returncode}): {err.strip()[-200:]}"}
    return {"wall_s": float(wall), "cpu_s": float(user) + float(system), "peak_mib": int(kib) / 1024,
            "rc": proc.returncode}


def size_of(path: str) -> int:
    return os.path.getsize(path) if os.path.exists(path) else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--pythonpath", action="append",
                    help="run this source tree (PYTHONPATH), e.g. a git worktree's src; repeat it to compare trees, "
                         "interleaved run by run (\"-\": this tree)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each command per tree; medians are reported")
    ap.add_argument("--only", nargs="*", help="command names (see COMMANDS)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--dir", help="where fleets and outputs go (default: a temporary folder)")
    args = ap.parse_args()
    trees = [None if t in (None, "-") else t for t in (args.pythonpath or [None])]
    names = args.only or list(COMMANDS)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}; runs per tree: {args.repeat} (medians), interleaved")
    nbdpath = [sys.executable, "-m", "nbdpath"]
    envs = []
    for t in trees:
        env = dict(os.environ)
        if t:
            env["PYTHONPATH"] = t
        envs.append(env)
        # As an installed package runs (pip writes the bytecode at install): with
        # PYTHONDONTWRITEBYTECODE set, as on some machines, each run would compile every
        # module of a source tree again (~0.05-0.1 s, on both sides of the ratio).
        subprocess.run([sys.executable, "-c", "import compileall, nbdpath, os; "
                        "compileall.compile_dir(os.path.dirname(nbdpath.__file__), quiet=1)"],
                       env=env, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        where = args.dir or tmp
        for n in args.hosts:
            fleet = os.path.join(where, f"fleet-{n}.json")
            if not os.path.exists(fleet):
                sys.path.insert(0, HERE)
                import fleetgen

                fleetgen.write(fleet, n)
            engine = _runs(args.repeat, envs, lambda env: timed([sys.executable, "-c", ENGINE, fleet], env, None,
                                                                args.timeout))
            after = os.path.join(where, f"fleet-{n}-after.json")
            if not os.path.exists(after) and any({"AFTER", "DRIFTDB"} & set(COMMANDS[x]) for x in names):
                subprocess.run(nbdpath + ["plan", fleet, "--format", "esxcli", "--save-snapshot", after,
                                          "-o", os.devnull], check=True)
            rows = {}
            for name in names:
                out = os.path.join(where, f"out-{n}-{name.replace(' ', '-')}")
                argv = [fleet if a == "FILE" else out if a == "OUT" else after if a == "AFTER" else a
                        for a in COMMANDS[name]]

                def one(env: dict, argv=argv, out=out, name=name) -> dict:
                    if "DB" in argv:
                        db = os.path.join(where, f"history-{n}-{envs.index(env)}.sqlite")
                        argv = [db if a == "DB" else a for a in argv]
                        if not os.path.exists(db):
                            timed(nbdpath + argv, env, os.devnull, args.timeout)
                    if "DRIFTDB" in argv:
                        db = os.path.join(where, f"drift-{n}-{envs.index(env)}.sqlite")
                        argv = [db if a == "DRIFTDB" else a for a in argv]
                        if not os.path.exists(db):
                            for snap, at in ((fleet, "2026-12-01T02:00:00Z"), (after, "2026-12-02T02:00:00Z")):
                                subprocess.run(nbdpath + ["history", "record", snap, "--db", db, "--at", at],
                                               env=env, check=True, stdout=subprocess.DEVNULL)
                    r = timed(nbdpath + argv, env, None if "OUT" in COMMANDS[name] else out, args.timeout)
                    r["out_mb"] = size_of(out) / 1e6
                    if os.path.exists(out):
                        os.unlink(out)
                    return r

                rows[name] = _runs(args.repeat, envs, one)
            for ti, tree in enumerate(trees):
                e = engine[ti]
                print(f"\ncode: {tree or 'this tree'}; load average now {os.getloadavg()[0]:.1f}\n"
                      f"{n} hosts x 16 nodes; engine only (load + trace + check): "
                      f"{e['wall_s']} s wall, {e.get('cpu_s') or 0:.2f} s CPU, {e['peak_mib'] or 0:.0f} MiB")
                print("| command | hosts | wall s | CPU s | peak MiB | x engine (wall) | x engine (CPU) | output MB |\n"
                      "|---|---:|---:|---:|---:|---:|---:|---:|")
                for name in names:
                    r = rows[name][ti]
                    if r["wall_s"] is None:
                        print(f"| {name} | {n} | {r['note']} | | | | | |", flush=True)
                        continue
                    ratio = r["wall_s"] / e["wall_s"] if e["wall_s"] else float("nan")
                    cpu_ratio = r["cpu_s"] / e["cpu_s"] if e.get("cpu_s") else float("nan")
                    print(f"| {name} | {n} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['peak_mib']:.0f} | {ratio:.2f} | "
                          f"{cpu_ratio:.2f} | {r.get('out_mb', 0):.1f} |", flush=True)
    print(f"\ntargets at 10,000 hosts: <= {TARGET_S} s, <= {TARGET_MIB} MiB, <= {TARGET_RATIO}x the engine-only figure")
    return 0


def _runs(repeat: int, envs: list[dict], run) -> list[dict]:
    """``run(env)`` ``repeat`` times per tree, the trees taking turns (a shared machine's load then
    falls on all of them alike); per tree the run of median CPU time, or the first failure."""
    results: list[list[dict]] = [[] for _ in envs]
    for _ in range(repeat):
        for i, env in enumerate(envs):
            results[i].append(run(env))
    picked = []
    for rs in results:
        failed = [r for r in rs if r["wall_s"] is None]
        if failed:
            picked.append(failed[0])
            continue
        rs = sorted(rs, key=lambda r: r["cpu_s"] or 0)
        med = dict(rs[len(rs) // 2])
        med["wall_s"] = sorted(r["wall_s"] for r in rs)[len(rs) // 2]
        picked.append(med)
    return picked


if __name__ == "__main__":
    sys.exit(main())
