"""Run every file-reading command on every class of bad file, in one process.

Run by test_sweep.py as a subprocess: one interpreter start for a few hundred
cases instead of one each, under an address-space cap (so "bounded memory" is
a fact, not a hope) and an alarm per case (so a hang is a failure, not a stuck
suite). Prints one JSON object per case: its id, exit code, stderr, and
whether an output file appeared.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys
from pathlib import Path

CASE_SECONDS = 20
MEMORY_CAP = 1536 * 1024 * 1024


class Hang(BaseException):
    """BaseException so no ``except Exception`` in the code under test swallows it."""


def _alarm(signum, frame):
    raise Hang()


def bad_files(d: Path) -> dict[str, Path]:
    """One file (or thing that is not a file) per class of bad input."""
    out: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        p = d / name
        p.write_bytes(data)
        out[name] = p

    put("empty", b"")
    put("binary", bytes(range(256)) * 64)
    put("latin1", "name: caf\xe9\nhosts: []\n".encode("latin-1"))
    put("nul", b"version: 1\nname: a\x00b\nhosts: []\n")
    put("deep-json", b"[" * 100_000)
    put("deep-json-obj", b'{"a":' * 50_000)
    put("deep-yaml", b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 2000)))
    put("deep-flow-yaml", b"[" * 100_000)
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev = f"*a{i - 1}"
        bomb.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    put("alias-bomb", ("\n".join(bomb) + "\n").encode())
    put("json-list", b"[1, 2, 3]")
    put("json-number", b"42")
    put("json-string", b'"hello"')
    put("wrong-types", b'{"version": 1, "hosts": 5, "backup_nodes": "x"}')
    put("version-float", b'{"version": 1.0, "hosts": []}')
    put("version-bool", b'{"version": true, "hosts": []}')
    put("long-line", b"# " + b"x" * (8 * 1024 * 1024) + b"\n")
    put("control-chars", b"version: 1\nname: \"a\\x1b[2Jb\"\nhosts: []\n")
    put("utf16-bom", "version: 1\nhosts: []\n".encode("utf-16"))
    put("gzip-garbage", b"\x1f\x8b\x08\x00" + b"\xff" * 64)
    fifo = d / "fifo"
    os.mkfifo(fifo)
    out["fifo"] = fifo
    sub = d / "a-directory"
    sub.mkdir()
    out["directory"] = sub
    secret = d.parent / "outside-secret.txt"
    secret.write_text("SECRET-MARKER-1234 do not echo\n")
    link = d / "symlink-out"
    link.symlink_to(secret)
    out["symlink-out"] = link
    out["missing"] = d / "does-not-exist.yaml"
    out["dev-zero"] = Path("/dev/zero")
    out["proc-mem"] = Path("/proc/self/mem")
    return out


def commands(bad: Path, good: Path, evidence: Path, work: Path, pw: Path) -> dict[str, list[str]]:
    """Every command that reads a user-named file, with ``bad`` in that place."""
    out = str(work / "out.file")
    srv = ["--server", "127.0.0.1:9", "--user", "u", "--password-file", str(pw), "--timeout", "1"]
    return {
        "trace": ["trace", str(bad)],
        "trace-json": ["trace", str(bad), "--format", "json", "-o", out],
        "check-html": ["check", str(bad), "--format", "html", "-o", out],
        "explain": ["explain", "h", "n", str(bad)],
        "plan-govc": ["plan", str(bad), "--format", "govc"],
        "estimate-html": ["estimate", str(bad), "--format", "html", "-o", out],
        "diff-old": ["diff", str(bad), str(good)],
        "esxcli": ["esxcli", str(bad), "--host", "h", "network", "ip", "interface", "list"],
        "verify-evidence": ["verify", str(good), "-e", str(bad)],
        "verify-snapshot": ["verify", str(bad), "-e", str(evidence)],
        "evidence": ["evidence", "summarize", str(bad)],
        "verify-html": ["verify", str(good), "-e", f"esx01/vmnic2/dir1={bad}", "--bin", "5", "--format", "html"],
        "evidence-pktcap": ["evidence", "summarize", str(bad), "--kind", "capture", "--vmk", "vmk4", "--dir", "0",
                            "--format", "markdown"],
        "evidence-capture": ["verify", str(good), "--kind", "capture", "-e", str(bad)],
        "evidence-esxtop": ["verify", str(good), "--kind", "esxtop", "-e", str(bad)],
        "evidence-log": ["verify", str(good), "--kind", "log", "-e", str(bad)],
        "import-esxcli": ["import", "esxcli", str(bad), "-o", out],
        "import-node": ["import", "node", "--name", "proxy01", "--addr", str(bad), "-o", out],
        "import-forklift": ["import", "forklift", str(bad), "-o", out],
        "import-forklift-snapshot": ["import", "forklift", str(bad), "--snapshot", str(bad), "-o", out],
        "probe": ["probe", str(bad), "--timeout", "1"],
        "apply-plan": ["apply", str(bad), *srv],
        "apply-rollback": ["apply", "--rollback", str(bad), *srv],
        "apply-password": ["apply", str(good), "--server", "127.0.0.1:9", "--user", "u", "--password-file", str(bad),
                           "--timeout", "1"],
        "apply-ca": ["apply", str(good), *srv, "--ca-file", str(bad)],
        "discover-merge": ["discover", *srv, "--merge", str(bad), "-o", out],
        "discover-password": ["discover", "--server", "127.0.0.1:9", "--user", "u", "--password-file", str(bad),
                              "--timeout", "1", "-o", out],
    }


def main() -> int:
    work = Path(sys.argv[1])
    good = Path(sys.argv[2])
    only = set(sys.argv[3:])
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    signal.signal(signal.SIGALRM, _alarm)
    from nbdpath import cli as cli_mod

    inputs = work / "inputs"
    inputs.mkdir()
    pw = work / "pw"
    pw.write_text("secret-password\n")
    evidence = work / "good.log"
    evidence.write_text("2024-05-01T10:00:00.000Z In(05) vmx NBD_ClientOpen: attempting to create connection to "
                        "vpxa-nfc://[datastore1] vm/vm.vmdk@10.30.0.11:902\n")
    files = bad_files(inputs)
    for fname, bad in files.items():
        for cname, argv in commands(bad, good, evidence, work, pw).items():
            case = f"{cname}:{fname}"
            if only and case not in only:
                continue
            outfile = work / "out.file"
            with contextlib.suppress(FileNotFoundError):
                outfile.unlink()
            err, std = io.StringIO(), io.StringIO()
            signal.alarm(CASE_SECONDS)
            try:
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
                    rc = cli_mod.main(argv)
            except Hang:
                rc = "hang"
            except SystemExit as exc:
                rc = exc.code
            except BaseException as exc:  # noqa: BLE001 - reported, not raised
                rc = f"raised {type(exc).__name__}: {exc}"[:300]
            finally:
                signal.alarm(0)
            print(json.dumps({"case": case, "rc": rc, "stderr": err.getvalue()[-2000:],
                              "stdout": std.getvalue()[-500:], "output_written": outfile.exists()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
