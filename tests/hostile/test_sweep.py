"""Every file-reading command x every class of bad file: one clear line, never a traceback or a hang.

The cases run in one subprocess (sweep_worker.py) under a 1.5 GiB address-space
cap and a 20 s alarm each; this module holds what each outcome must be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nbdpath import labs

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import sweep_worker  # noqa: E402

# Evidence readers take any text as a (possibly unrelated) log: a warning and
# exit 0 is their answer for text without NFC lines. Things that are not
# readable regular files are refused by every reader.
_NOT_A_FILE = {"fifo", "directory", "dev-zero", "proc-mem", "missing"}
_LOG_READERS = {"evidence", "evidence-log", "verify-evidence", "verify-html"}


def _cases() -> list[str]:
    tmp = Path("/nonexistent")
    files = ["empty", "binary", "latin1", "nul", "deep-json", "deep-json-obj", "deep-yaml", "deep-flow-yaml",
             "alias-bomb", "json-list", "json-number", "json-string", "wrong-types", "version-float", "version-bool",
             "long-line", "control-chars", "utf16-bom", "gzip-garbage", "fifo", "directory", "symlink-out", "missing",
             "dev-zero", "proc-mem"]
    cmds = sweep_worker.commands(tmp, tmp, tmp, tmp, tmp)
    return [f"{c}:{f}" for f in files for c in cmds]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    work = tmp_path_factory.mktemp("sweep") / "work"
    work.mkdir()
    good = work / "good.yaml"
    good.write_text(labs.text("veeam-tag-routed"))
    proc = subprocess.run([sys.executable, str(HERE / "sweep_worker.py"), str(work), str(good)],
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {r["case"]: r for r in rows}


@pytest.mark.parametrize("case", _cases())
def test_bad_file_gets_one_clear_line(results, case):
    cmd, fname = case.split(":")
    r = results[case]
    err = r["stderr"]
    assert r["rc"] != "hang", f"{case}: hung for {sweep_worker.CASE_SECONDS} s"
    assert isinstance(r["rc"], int), f"{case}: {r['rc']}"
    assert "Traceback" not in err and "internal error" not in err, f"{case}: {err[-600:]}"
    assert "SECRET-MARKER" not in err + r["stdout"], f"{case}: echoed a file it should not have read"
    # The backstop's messages name no file: a reader must refuse before it.
    assert "too large for available memory" not in err and "nested too deeply (refused)" not in err, f"{case}: {err}"
    if cmd in _LOG_READERS and fname not in _NOT_A_FILE:
        assert r["rc"] in (0, 1, 2), f"{case}: rc {r['rc']}"
        if r["rc"] == 2:
            assert len(err.strip().splitlines()) == 1, f"{case}: {err}"
        return
    if fname == "symlink-out" and cmd not in {"import-esxcli"}:
        # A file named on the command line is the user's choice, links included;
        # import refuses links because it walks directories others packed.
        return
    assert r["rc"] == 2, f"{case}: exit {r['rc']} ({err[-400:]!r})"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{case}: {len(lines)} lines: {err[-600:]!r}"
    assert lines[0].startswith("nbdpath: error: "), f"{case}: {lines[0]!r}"
    assert not r["output_written"], f"{case}: wrote an output file although it failed"
