"""The imperative shell: build a planned lab in the kernel, stream, tear down.

Everything that touches the system lives here: ``ip`` / ``iptables`` /
``tcpdump`` subprocesses, setns(2) via :mod:`nbdpath.lab.netns`, sockets,
signals. The decisions were made in :mod:`nbdpath.lab.plan`.

Cleanup is the contract: :class:`Lab` is a context manager whose exit kills
every capture it started and deletes every namespace of its run (which
takes the bridges and veths with them), on success, error, timeout or
Ctrl-C. ``nbdpath lab down`` finds what a killed run left by its prefix.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from ..errors import NbdpathError, UsageError
from . import netns, script
from .compare import Counters, Observation
from .plan import NETNS_RE, NFC_PORT, LabPlan, Stream

OWNER_DIR = Path("/run/nbdpath-lab")  # <prefix>.pid: which process owns a run


class LabError(NbdpathError):
    """The kernel refused a step of building or running the lab."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of every stream: bytes, and how long each phase may take."""

    nbytes: int = 8 * 1024 * 1024
    connect_timeout: float = 2.0  # a lab answers in milliseconds or never
    idle_timeout: float = 2.0  # no byte for this long: the stream is stalled
    total_timeout: float = 10.0


# ---------------------------------------------------------------- preflight

def missing_requirements(
    need_tcpdump: bool,
    need_iptables: bool,
    euid: Optional[int] = None,
    which: Optional[Callable[[str], Optional[str]]] = None,
) -> list[str]:
    """What this machine lacks to run the lab, in words a user can act on."""
    which = which or shutil.which
    missing = []
    if (os.geteuid() if euid is None else euid) != 0:
        missing.append("root privileges (run as root: network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)")
    if which("ip") is None:
        missing.append("ip (install iproute2)")
    if need_iptables and which("iptables") is None:
        missing.append("iptables (install iptables; the snapshot has a stateful router)")
    if need_tcpdump and which("tcpdump") is None:
        missing.append("tcpdump (install tcpdump; --keep-pcaps asks for captures)")
    return missing


def require(need_tcpdump: bool, need_iptables: bool) -> None:
    missing = missing_requirements(need_tcpdump, need_iptables)
    if missing:
        raise UsageError("nbdpath lab cannot run here; missing: " + "; ".join(missing))


def new_prefix() -> str:
    return "nbl" + secrets.token_hex(3)[:5]


# ---------------------------------------------------------------- commands

def _run(argv: Sequence[str], stdin: Optional[str] = None, what: str = "") -> str:
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise LabError(f"{what or argv[0]} failed: {' | '.join(detail[-3:]) or f'exit {proc.returncode}'}")
    return proc.stdout


def _batch(ns: Optional[str], lines: list[str], what: str) -> None:
    if not lines:
        return
    argv = ["ip"] + (["-n", ns] if ns else []) + ["-batch", "-"]
    _run(argv, "\n".join(lines) + "\n", what)


def existing_netns() -> list[str]:
    out = _run(["ip", "netns", "list"], what="ip netns list")
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _netns_pids(name: str) -> list[int]:
    proc = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, timeout=30, check=False)
    return [int(p) for p in proc.stdout.split() if p.isdigit()]


def _kill(pids: Sequence[int], grace: float = 1.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            try:
                os.kill(pid, sig)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(p) for p in alive):
            time.sleep(0.02)
        pids = [p for p in alive if _alive(p)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def remove_netns(names: Sequence[str]) -> None:
    """Kill whatever runs in the namespaces, then delete them (veths and bridges go too)."""
    if not names:
        return
    pids = sorted({p for n in names for p in _netns_pids(n) if p != os.getpid()})
    _kill(pids)
    present = set(existing_netns())
    _batch(None, script.netns_del([n for n in names if n in present]), "deleting namespaces")


def leftovers(include_live: bool = False) -> dict[str, list[str]]:
    """Lab namespaces on this machine by run prefix; live runs only if asked."""
    runs: dict[str, list[str]] = {}
    for name in existing_netns():
        m = NETNS_RE.match(name)
        if m:
            runs.setdefault(m.group(1), []).append(name)
    if not include_live:
        runs = {p: ns for p, ns in runs.items() if not _owner_alive(p)}
    return runs


def _owner_alive(prefix: str) -> bool:
    try:
        pid = int((OWNER_DIR / f"{prefix}.pid").read_text().strip())
    except (OSError, ValueError):
        return False
    return _alive(pid)


def down(include_live: bool = False) -> list[str]:
    """Remove leftover lab namespaces (and their processes); return what was removed."""
    removed = []
    for prefix, names in sorted(leftovers(include_live).items()):
        remove_netns(names)
        (OWNER_DIR / f"{prefix}.pid").unlink(missing_ok=True)
        removed += names
    return removed


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while cleaning up, so a second Ctrl-C cannot cut it short.

    The handlers are swapped rather than the signals masked: a process
    signal may be delivered to any thread, and Python runs handlers in the
    main thread whichever one received it. A signal that arrived is raised
    as KeyboardInterrupt once the cleanup is done.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    old = {s: signal.signal(s, lambda signum, frame: got.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if got:
            raise KeyboardInterrupt


# ---------------------------------------------------------------- the lab

class Lab:
    """A planned lab, live in the kernel between ``__enter__`` and ``__exit__``."""

    def __init__(self, plan: LabPlan, workers: int = 4):
        self.plan = plan
        self.workers = workers
        self.captures: list[_Capture] = []
        self.timings: dict[str, float] = {}

    def __enter__(self) -> "Lab":
        t0 = time.monotonic()
        try:
            self._up()
        except BaseException:
            self.close(keep_pcaps=None)
            raise
        self.timings["up"] = time.monotonic() - t0
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(keep_pcaps=None if exc_type else self._pcap_dir)

    _pcap_dir: Optional[Path] = None

    def _up(self) -> None:
        plan = self.plan
        OWNER_DIR.mkdir(parents=True, exist_ok=True)
        (OWNER_DIR / f"{plan.prefix}.pid").write_text(f"{os.getpid()}\n")
        _batch(None, script.netns_add(plan), "creating namespaces")
        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(_apply_sysctls, script.sysctls(plan, late=False).items()))
        _batch(plan.switch_netns, script.switch_batch(plan), "building bridges and links")
        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(lambda item: _batch(item[0], item[1], f"configuring {item[0]}"), script.device_batches(plan).items()))
        for f in plan.filters:
            _run(["ip", "netns", "exec", f.netns, "iptables", "-w", *f.args], what=f"iptables in {f.netns}")
        for item in script.sysctls(plan, late=True).items():
            _apply_sysctls(item, optional=True)
        _wait_ready(plan)

    def start_captures(self, directory: Path, snaplen: int = 128) -> None:
        """One tcpdump per host interface, written to a temp name until the run ends well."""
        self._pcap_dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        labels = {(l.netns, l.ifname): l.label for l in self.plan.links}
        hosts = {ns.name: ns.device for ns in self.plan.namespaces if ns.role == "host"}
        for link in self.plan.links:
            if link.netns in hosts:
                final = directory / f"{_safe(hosts[link.netns])}-{_safe(labels[(link.netns, link.ifname)])}.pcap"
                self.captures.append(_Capture.start(link.netns, link.ifname, final, snaplen))
        for cap in self.captures:
            cap.wait_listening()

    def close(self, keep_pcaps: Optional[Path]) -> None:
        with signals_deferred():
            if self.captures and keep_pcaps is not None:
                time.sleep(0.2)  # let the last frames reach tcpdump before it is stopped
            for cap in self.captures:
                cap.stop(keep=keep_pcaps is not None)
            self.captures = []
            t0 = time.monotonic()
            mine = [ns.name for ns in self.plan.namespaces]
            try:
                remove_netns(mine)
            finally:
                (OWNER_DIR / f"{self.plan.prefix}.pid").unlink(missing_ok=True)
            self.timings["down"] = time.monotonic() - t0


def _wait_ready(plan: LabPlan, timeout: float = 15.0) -> None:
    """Wait until the kernel has really brought every link and bridge port up.

    Carrier changes are applied by the kernel's linkwatch worker, later and
    asynchronously: until then a veth has the "noop" qdisc (it drops every
    frame) and a bridge port does not forward. On a busy machine that can
    take long enough to make the first SYN vanish, so streams start only
    when each link is UP with a real qdisc and each bridge port forwards.
    """
    want: dict[str, set[str]] = {}
    bridged = {l.peer for l in plan.links if l.bridge is not None}
    for l in plan.links:
        want.setdefault(l.netns, set()).add(l.ifname)
        want.setdefault(plan.switch_netns, set()).add(l.peer)
    deadline = time.monotonic() + timeout
    pending = dict(want)
    while True:
        with ThreadPoolExecutor(4) as pool:
            states = dict(zip(pending, pool.map(_link_states, pending), strict=True))
        late = []
        for ns, names in list(pending.items()):
            ready = {n for n, (oper, qdisc, port) in states[ns].items()
                     if oper == "UP" and qdisc != "noop"
                     and (ns != plan.switch_netns or n not in bridged or port == "forwarding")}
            if names <= ready:
                del pending[ns]
            late += [f"{ns}:{n}" for n in sorted(names - ready)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise LabError(f"links not up after {timeout:g}s: {', '.join(late[:6])}")
        time.sleep(0.02)


def _link_states(ns: str) -> dict[str, tuple[str, str, Optional[str]]]:
    out = json.loads(_run(["ip", "-j", "-d", "-n", ns, "link", "show"], what=f"ip link show in {ns}") or "[]")
    return {
        l["ifname"]: (l.get("operstate", ""), l.get("qdisc", ""), l.get("linkinfo", {}).get("info_slave_data", {}).get("state"))
        for l in out
    }


def _apply_sysctls(item: tuple[str, list[tuple[str, str]]], optional: bool = False) -> None:
    ns, items = item
    with netns.inside(ns):
        for key, value in items:
            try:
                netns.write_sysctl(key, value)
            except FileNotFoundError:
                if not optional:
                    raise LabError(f"sysctl {key} does not exist in this kernel (namespace {ns})") from None


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


@dataclass
class _Capture:
    proc: subprocess.Popen
    temp: Path
    final: Path

    @classmethod
    def start(cls, ns: str, ifname: str, final: Path, snaplen: int) -> "_Capture":
        temp = final.with_name(f".{final.name}.part")
        # -Z root: keep the privileges to write where we were asked to;
        # --immediate-mode: no packets waiting in a ring block when we stop it;
        # own session: the terminal's Ctrl-C reaches us, and we stop it.
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "tcpdump", "-i", ifname, "-n", "-U", "--immediate-mode", "-Z", "root",
             "-s", str(snaplen), "-w", str(temp)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return cls(proc, temp, final)

    def wait_listening(self, timeout: float = 10.0) -> None:
        # tcpdump says "listening on <if>" once the socket is bound.
        assert self.proc.stderr is not None
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            seen.append(line.strip())
            if "listening on" in line:
                return
        raise LabError(f"tcpdump did not start: {' | '.join(seen[-2:]) or 'no output'}")

    def stop(self, keep: bool) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # tcpdump flushes and closes the file
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            keep = False
        if self.proc.stderr:
            self.proc.stderr.close()
        if keep and self.temp.exists():
            os.replace(self.temp, self.final)
        else:
            self.temp.unlink(missing_ok=True)


# ---------------------------------------------------------------- streams

class _Sockets:
    """Every open socket of a run, so an abort can wake blocked threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.aborted = threading.Event()

    def new(self, ns: str) -> socket.socket:
        with netns.inside(ns):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with self.lock:
            self.open.add(s)
        return s

    def close(self, s: socket.socket) -> None:
        with self.lock:
            self.open.discard(s)
        s.close()

    def abort(self) -> None:
        self.aborted.set()
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)  # wakes accept()/recv() in other threads
                except OSError:
                    pass


def run_streams(plan: LabPlan, limits: Limits, workers: int = 32) -> list[Observation]:
    """Stream every planned pair; pairs of one host run one after another.

    A host's counters can only say which interface carried *one* stream, so
    a host never streams to two nodes at once; different hosts run in
    parallel.
    """
    by_host: dict[str, list[tuple[int, Stream]]] = {}
    for i, s in enumerate(plan.streams):
        by_host.setdefault(s.host_netns, []).append((i, s))
    sockets = _Sockets()
    results: dict[int, Observation] = {}

    def host_worker(streams: list[tuple[int, Stream]]) -> None:
        for i, s in streams:
            if sockets.aborted.is_set():
                return
            results[i] = _one_stream(s, limits, sockets)

    pool = ThreadPoolExecutor(max(1, min(workers, len(by_host))))
    try:
        futures = [pool.submit(host_worker, ss) for ss in by_host.values()]
        for f in futures:
            f.result()
    except BaseException:
        sockets.abort()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[i] for i in range(len(plan.streams))]


def _one_stream(s: Stream, limits: Limits, sockets: _Sockets) -> Observation:
    if s.skip_reason or s.endpoint_ip is None:
        return Observation(s.host, s.node, s.endpoint_ip, False, False, limits.nbytes, 0, (), skip_reason=s.skip_reason)
    t0 = time.monotonic()
    listener = sockets.new(s.host_netns)
    client = sockets.new(s.node_netns)
    server_error: list[str] = []
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", NFC_PORT))  # like ESXi's NFC service: every address
        listener.listen(8)
        with netns.inside(s.host_netns):
            before = netns.read_dev_counters()
        server = threading.Thread(target=_serve, args=(listener, limits, sockets, server_error), daemon=True)
        server.start()
        connected, received, node_ip, error = _fetch(client, s.endpoint_ip, limits)
        # Give up on the server when the client has: close the listener (a
        # handshake half-done stays unaccepted, and its retransmissions must
        # not leak into the next pair's counters).
        sockets.close(client)
        try:
            listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        server.join(timeout=limits.total_timeout)
        with netns.inside(s.host_netns):
            after = netns.read_dev_counters()
    finally:
        sockets.close(listener)
        sockets.close(client)
    counters = tuple(_delta(name, before, after) for name in s.host_interfaces)
    if error is None and server_error:
        error = server_error[0]
    return Observation(
        s.host, s.node, s.endpoint_ip, True, connected, limits.nbytes, received, counters, node_ip, error,
        time.monotonic() - t0,
    )


def _delta(name: str, before: dict, after: dict) -> Counters:
    b = before.get(name, (0, 0, 0, 0))
    a = after.get(name, b)
    return Counters(name, a[2] - b[2], a[0] - b[0], a[3] - b[3], a[1] - b[1])


_CHUNK = b"\xa5" * 65536  # payload content is irrelevant; its size is not


def _serve(listener: socket.socket, limits: Limits, sockets: _Sockets, errors: list[str]) -> None:
    listener.settimeout(limits.connect_timeout + 1.0)
    try:
        conn, _ = listener.accept()
    except OSError:
        return  # never accepted: the client reports why
    with conn:
        conn.settimeout(limits.idle_timeout)
        deadline = time.monotonic() + limits.total_timeout
        left = limits.nbytes
        try:
            while left > 0 and time.monotonic() < deadline and not sockets.aborted.is_set():
                n = conn.send(_CHUNK[: min(left, len(_CHUNK))])
                left -= n
            conn.shutdown(socket.SHUT_WR)
        except OSError as exc:
            errors.append(f"host side: {exc.strerror or exc}")


def _fetch(client: socket.socket, ip: str, limits: Limits) -> tuple[bool, int, Optional[str], Optional[str]]:
    client.settimeout(limits.connect_timeout)
    try:
        client.connect((ip, NFC_PORT))
    except socket.timeout:
        return False, 0, None, f"connect to {ip}:{NFC_PORT} timed out after {limits.connect_timeout:g}s"
    except OSError as exc:
        return False, 0, None, f"connect to {ip}:{NFC_PORT}: {exc.strerror or exc}"
    node_ip = client.getsockname()[0]
    client.settimeout(limits.idle_timeout)
    deadline = time.monotonic() + limits.total_timeout
    received = 0
    error = None
    try:
        while True:
            if time.monotonic() > deadline:
                error = f"stream time limit {limits.total_timeout:g}s reached"
                break
            data = client.recv(262144)
            if not data:
                break
            received += len(data)
            if received > limits.nbytes:
                error = "more bytes than asked for"
                break
    except socket.timeout:
        error = f"no data for {limits.idle_timeout:g}s"
    except OSError as exc:
        error = exc.strerror or str(exc)
    return True, received, node_ip, error
