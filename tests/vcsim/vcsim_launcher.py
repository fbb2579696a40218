"""Build and run the project's vcsim launcher (tests/vcsim/main.go).

Used by the vcsim tests and by benchmarks/discover.py. The binary is built
from Debian's govmomi in GOPATH mode and cached as tests/vcsim/vcsim-bin,
rebuilt when main.go is newer. It is git-ignored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Optional

HERE = Path(__file__).resolve().parent
BINARY = HERE / "vcsim-bin"
GOPATH = "/usr/share/gocode"
GOVMOMI = Path(GOPATH) / "src/github.com/vmware/govmomi/simulator"
USER = "administrator@vsphere.local"


class Unavailable(Exception):
    """Go or govmomi is not installed: the vcsim tests skip with this reason."""


def build() -> Path:
    """Return the launcher binary, building it if missing or older than main.go."""
    source = HERE / "main.go"
    if BINARY.exists() and BINARY.stat().st_mtime >= source.stat().st_mtime:
        return BINARY
    go = shutil.which("go")
    if go is None:
        raise Unavailable("Go is not installed (apt-get install golang-go golang-github-vmware-govmomi-dev)")
    if not GOVMOMI.is_dir():
        raise Unavailable(f"govmomi sources not found at {GOVMOMI} (apt-get install golang-github-vmware-govmomi-dev)")
    env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOFLAGS="")
    env.setdefault("GOCACHE", str(Path(tempfile.gettempdir()) / "nbdpath-gocache"))
    # Built outside the tree, then moved in: an interrupted build leaves no stray file here.
    with tempfile.TemporaryDirectory(prefix="nbdpath-vcsim-") as out:
        tmp = Path(out) / "vcsim-bin"
        proc = subprocess.run([go, "build", "-o", str(tmp), "."], cwd=HERE, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building the vcsim launcher failed:\n{proc.stderr}")
        shutil.move(str(tmp), str(BINARY))
    return BINARY


def snapshot_json(snap) -> str:
    """The launcher reads the model with defaults included."""
    return snap.model_dump_json()


@dataclass
class Vcsim:
    proc: subprocess.Popen
    url: str
    cert: Path
    password: str
    user: str = USER

    @property
    def server(self) -> str:
        return self.url.removesuffix("/sdk")

    def command(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                stream.close()


def start(snap, workdir: Path, password: str = "s3cret-pass", disconnected: tuple[str, ...] = (),
          max_page: Optional[int] = None, stderr: Optional[IO] = None, esx: bool = False,
          mounts: tuple[str, ...] = (), no_layout: tuple[str, ...] = (), cpu_profile: Optional[Path] = None) -> Vcsim:
    """Start a simulator loaded with ``snap``; stop it with :meth:`Vcsim.stop`.

    ``snap`` is a Snapshot, or its JSON as a str (for what a Snapshot cannot
    hold, e.g. two VMs of one name in two folders). ``esx=True`` serves one
    host as ESXi's hostd does (no vCenter inventory). ``mounts``: extra
    datastore mounts "DS@HOST@readOnly" or "DS@HOST@unmounted". ``no_layout``: VMs
    served without layoutEx (as vCenter serves a VM whose files it cannot read).
    ``cpu_profile``: the simulator's Go CPU profile goes there (written on
    ``command("quit")``, not on :meth:`Vcsim.stop`).
    """
    binary = build()
    workdir.mkdir(parents=True, exist_ok=True)
    spath = workdir / "estate.json"
    spath.write_text(snap if isinstance(snap, str) else snapshot_json(snap), encoding="utf-8")
    cert = workdir / "vcsim.pem"
    args = [str(binary), "-snapshot", str(spath), "-cert-out", str(cert), "-user", USER]
    if disconnected:
        args += ["-disconnected", ",".join(disconnected)]
    if max_page:
        args += ["-max-page", str(max_page)]
    if esx:
        args.append("-esx")
    if mounts:
        args += ["-mounts", ",".join(mounts)]
    if no_layout:
        args += ["-no-layout", ",".join(no_layout)]
    if cpu_profile is not None:
        args += ["-cpuprofile", str(cpu_profile)]
    proc = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr if stderr is not None else subprocess.PIPE,
        text=True, env=dict(os.environ, VCSIM_PASSWORD=password),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read() if proc.stderr else ""
        proc.wait()
        raise RuntimeError(f"vcsim launcher exited: {err}")
    info = json.loads(line)
    return Vcsim(proc, info["url"], Path(info["cert"]), password)
