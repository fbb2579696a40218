"""Real TCP 902 transfers between Linux network namespaces, captured for tests.

A namespace stands in for the ESXi host (a server on port 902 streams data
back, like NFC), another for the backup node (the client). Names are unique
per run and everything is removed in a ``finally``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

_counter = itertools.count()

SERVER = r"""
import socket, sys
ip, size = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((ip, 902)); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
c.recv(64)                      # the node's request
block = b"N" * 65536
sent = 0
while sent < size:
    c.sendall(block[: size - sent]); sent += min(len(block), size - sent)
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
"""

CLIENT = r"""
import socket, sys
host, src = sys.argv[1], sys.argv[2]
c = socket.create_connection((host, 902), timeout=20, source_address=(src, 0))
c.sendall(b"OPEN disk")
n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    n += len(b)
c.close(); print(n)
"""


def can_run() -> str:
    """Why the namespace tests cannot run here, or "" when they can."""
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    for tool in ("ip", "tcpdump"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    probe = f"nbdv-{os.getpid()}-probe"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:  # root in a container without CAP_SYS_ADMIN
        return f"cannot create network namespaces here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ""


def _sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True)


def _ns(ns: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *args]


def _mac(ns: str, dev: str) -> str:
    out = subprocess.run(_ns(ns, "cat", f"/sys/class/net/{dev}/address"), check=True,
                         capture_output=True, text=True).stdout
    return out.strip()


@dataclass(frozen=True)
class Transfer:
    capture: Path
    host_ip: str
    node_ip: str
    macs: dict[str, str]  # host-side device -> MAC
    received: int


@contextmanager
def _lab() -> Iterator[tuple[str, str, str]]:
    tag = f"{os.getpid()}-{next(_counter)}"
    host, node = f"nbdv-{tag}-host", f"nbdv-{tag}-node"
    short = f"nv{os.getpid() % 100000}{next(_counter)}"[:12]
    try:
        _sh("ip", "netns", "add", host)
        _sh("ip", "netns", "add", node)
        yield host, node, short
    finally:
        for ns in (host, node):
            subprocess.run(["ip", "netns", "pids", ns], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _link(host: str, node: str, hdev: str, ndev: str, hip: str, nip: str) -> None:
    _sh("ip", "link", "add", hdev, "netns", host, "type", "veth", "peer", "name", ndev, "netns", node)
    _sh(*_ns(host, "ip", "addr", "add", hip, "dev", hdev))
    _sh(*_ns(node, "ip", "addr", "add", nip, "dev", ndev))
    _sh(*_ns(host, "ip", "link", "set", hdev, "up"))
    _sh(*_ns(node, "ip", "link", "set", ndev, "up"))


def _wait_line(proc: subprocess.Popen, word: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if word in line:
            return
        if not line and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited before {word!r}")
    raise RuntimeError(f"no {word!r} from {proc.args}")


def _packet_sockets(pid: int) -> int:
    """How many packet sockets process ``pid`` holds (one per interface a capture has open)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    with open(f"/proc/{pid}/net/packet") as fh:
        return sum(1 for line in fh.readlines()[1:] if line.split()[-1] in inodes)


def _transfer(host: str, node: str, host_ip: str, node_ip: str, size: int,
              capture_cmd: list[str], ready_word: str, interfaces: int = 1) -> int:
    cap = subprocess.Popen(capture_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    server = None
    try:
        _wait_line(cap, ready_word)
        # dumpcap announces itself before every interface is open: under load its second
        # interface opened after the SYN had passed (a flaky handshake). Wait for each socket.
        deadline = time.monotonic() + 10
        while _packet_sockets(cap.pid) < interfaces and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        server = subprocess.Popen(_ns(host, sys.executable, "-c", SERVER, host_ip, str(size)),
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        out = subprocess.run(_ns(node, sys.executable, "-c", CLIENT, host_ip, node_ip),
                             check=True, capture_output=True, text=True, timeout=60).stdout
        server.wait(timeout=20)
        time.sleep(0.5)  # let the capture write the last FIN/ACKs
        return int(out)
    finally:
        for proc in (server, cap):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@contextmanager
def symmetric(tmp: Path, size: int = 4 << 20) -> Iterator[Transfer]:
    """Node and host on one subnet; tcpdump on the node writes a pcap."""
    with _lab() as (host, node, short):
        _link(host, node, f"{short}h", f"{short}n", "10.91.0.1/24", "10.91.0.2/24")
        out = tmp / "symmetric.pcap"
        cmd = _ns(node, "tcpdump", "-U", "-n", "-B", "8192", "-i", f"{short}n", "-w", str(out), "tcp")
        got = _transfer(host, node, "10.91.0.1", "10.91.0.2", size, cmd, "listening on")
        yield Transfer(out, "10.91.0.1", "10.91.0.2", {"vmk0": _mac(host, f"{short}h")}, got)


@contextmanager
def asymmetric(tmp: Path, tool: str = "dumpcap", size: int = 4 << 20) -> Iterator[Transfer]:
    """Request in on one host interface, reply out by another (report 2's trick).

    The host has 10.92.1.1 on link A (its "vmk0") and 10.92.2.1 on link B
    (its "vmk4"). The node, 10.92.2.2 on link B, connects to 10.92.1.1 over
    link A (it also holds 10.92.1.2 there, standing in for a router); the
    host's reply to 10.92.2.2 follows its connected route out of link B.
    Reverse-path filtering is off on both sides, as on ESXi. The capture
    runs in the host namespace on both links: ``dumpcap`` writes a pcapng
    with two named interfaces; ``tcpdump -i any --nano`` a nanosecond pcap of
    Linux "cooked" (SLL2) frames (Debian's tcpdump 4.99 cannot write pcapng).
    """
    with _lab() as (host, node, short):
        ha, na, hb, nb = f"{short}a", f"{short}x", f"{short}b", f"{short}y"
        _link(host, node, ha, na, "10.92.1.1/24", "10.92.1.2/24")
        _link(host, node, hb, nb, "10.92.2.1/24", "10.92.2.2/24")
        for ns in (host, node):
            for key in ("all", "default"):
                _sh(*_ns(ns, "sysctl", "-qw", f"net.ipv4.conf.{key}.rp_filter=0"))
        for ns, dev in ((host, ha), (host, hb), (node, na), (node, nb)):
            _sh(*_ns(ns, "sysctl", "-qw", f"net.ipv4.conf.{dev}.rp_filter=0"))
        out = tmp / ("asymmetric.pcapng" if tool == "dumpcap" else "asymmetric-any.pcap")
        if tool == "dumpcap":
            cmd = _ns(host, "dumpcap", "-q", "-B", "32", "-i", ha, "-i", hb, "-f", "tcp port 902", "-w", str(out))
            ready = "Capturing on"
        else:
            cmd = _ns(host, "tcpdump", "-U", "-n", "-B", "8192", "-i", "any", "--nano", "-w", str(out), "tcp port 902")
            ready = "listening on"
        got = _transfer(host, node, "10.92.1.1", "10.92.2.2", size, cmd, ready, 2 if tool == "dumpcap" else 1)
        yield Transfer(out, "10.92.1.1", "10.92.2.2",
                       {"vmk0": _mac(host, ha), "vmk4": _mac(host, hb), ha: "vmk0", hb: "vmk4"}, got)


@dataclass(frozen=True)
class UplinkCaptures:
    files: dict[str, Path]  # uplink -> its own capture (tcpdump -Q out, like pktcap-uw --uplink X --dir 1)
    received: int


def _tcpdump_out(ns: str, dev: str, out: Path) -> subprocess.Popen:
    proc = subprocess.Popen(_ns(ns, "tcpdump", "-U", "-n", "-B", "8192", "-Q", "out", "-i", dev, "-w", str(out),
                                "tcp port 902"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_line(proc, "listening on")
    return proc


@contextmanager
def per_uplink(tmp: Path, size: int = 4 << 20) -> Iterator[UplinkCaptures]:
    """Field report 2 in the addresses of the built-in lab ``rubrik-mixed-speed`` (esx01 -> rubrik-node1),
    one capture per host link, each of what the link sends (pktcap-uw ``--uplink vmnicN --dir 1``).

    Link A carries esx01's vmk0 (10.10.0.11, MAC of the lab's vmk0) and stands in for uplink
    vmnic0, link B its vmk4 (10.28.0.20) and vmnic2. rubrik-node1 (10.28.0.51 on link B) connects
    to 10.10.0.11 over link A (10.10.0.51 there stands in for the router); the host's data
    leaves by link B. Files are named ``esx01.corp.local-vmnicN-dir1.pcap``."""
    with _lab() as (host, node, short):
        ha, na, hb, nb = f"{short}a", f"{short}x", f"{short}b", f"{short}y"
        _link(host, node, ha, na, "10.10.0.11/24", "10.10.0.51/24")
        _link(host, node, hb, nb, "10.28.0.20/24", "10.28.0.51/24")
        _sh(*_ns(host, "ip", "link", "set", ha, "address", "00:50:56:6c:31:10"))
        _sh(*_ns(host, "ip", "link", "set", hb, "address", "00:50:56:6c:31:14"))
        for ns in (host, node):
            for key in ("all", "default"):
                _sh(*_ns(ns, "sysctl", "-qw", f"net.ipv4.conf.{key}.rp_filter=0"))
        for ns, dev in ((host, ha), (host, hb), (node, na), (node, nb)):
            _sh(*_ns(ns, "sysctl", "-qw", f"net.ipv4.conf.{dev}.rp_filter=0"))
        files = {up: tmp / f"esx01.corp.local-{up}-dir1.pcap" for up in ("vmnic0", "vmnic2")}
        caps = [_tcpdump_out(host, ha, files["vmnic0"]), _tcpdump_out(host, hb, files["vmnic2"])]
        server = None
        try:
            time.sleep(0.3)
            server = subprocess.Popen(_ns(host, sys.executable, "-c", SERVER, "10.10.0.11", str(size)),
                                      stdout=subprocess.PIPE, text=True)
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            out = subprocess.run(_ns(node, sys.executable, "-c", CLIENT, "10.10.0.11", "10.28.0.51"),
                                 check=True, capture_output=True, text=True, timeout=60).stdout
            server.wait(timeout=20)
            time.sleep(0.5)
        finally:
            for proc in (server, *caps):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
        yield UplinkCaptures(files, int(out))
