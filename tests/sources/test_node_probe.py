"""``nbdpath probe`` run inside a network namespace that stands in for the backup node,
against a TCP 902 listener in another namespace (the host), over veth pairs."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.commands.node import parse_route_get

_counter = itertools.count()

# Accepts on every address of its namespace, closes at once, and prints who was contacted.
LISTENER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 902)); s.listen(16)
print("ready", flush=True)
while True:
    c, peer = s.accept()
    print(c.getsockname()[0], peer[0], len(c.recv(16)), flush=True)  # 0 bytes: the probe sends nothing
    c.close()
"""


def _sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True)


def _need_root() -> None:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 for network namespaces")
    probe = f"nbdp-{os.getpid()}-probe"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        pytest.skip("cannot create network namespaces here")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


@pytest.fixture
def estate(tmp_path):
    """veeam-tag-l2 in namespaces: the node (eth0 10.10.0.50, eth1 10.30.0.50) and esx01 (10.10.0.11,
    10.30.0.11, plus 10.99.0.1, an address the snapshot does not have). esx02 is absent: no answer."""
    _need_root()
    tag = f"{os.getpid()}-{next(_counter)}"
    node, host = f"nbdp-{tag}-node", f"nbdp-{tag}-host"
    etc = Path("/etc/netns") / node
    listener = None
    try:
        _sh("ip", "netns", "add", node)
        _sh("ip", "netns", "add", host)
        for n, (ndev, hdev, nip, hip) in enumerate([("eth0", "h0", "10.10.0.50/24", "10.10.0.11/24"),
                                                     ("eth1", "h1", "10.30.0.50/24", "10.30.0.11/24")]):
            _sh("ip", "link", "add", ndev, "netns", node, "type", "veth", "peer", "name", hdev, "netns", host)
            _sh("ip", "-n", node, "addr", "add", nip, "dev", ndev)
            _sh("ip", "-n", host, "addr", "add", hip, "dev", hdev)
            _sh("ip", "-n", node, "link", "set", ndev, "up")
            _sh("ip", "-n", host, "link", "set", hdev, "up")
        _sh("ip", "-n", host, "addr", "add", "10.99.0.1/24", "dev", "h0")
        _sh("ip", "-n", node, "route", "add", "10.99.0.0/24", "dev", "eth0")  # reachable, were it ever tried
        for ns in (node, host):
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
        # `ip netns exec` mounts /etc/netns/NODE/hosts over /etc/hosts: the node's own resolver.
        etc.mkdir(parents=True)
        (etc / "hosts").write_text("10.99.0.1 esx01.lab.local\n10.10.0.12 esx02.lab.local\n")
        listener = subprocess.Popen(["ip", "netns", "exec", host, sys.executable, "-c", LISTENER],
                                    stdout=subprocess.PIPE, text=True)
        assert listener.stdout.readline().strip() == "ready"
        snap = tmp_path / "estate.yaml"
        snap.write_text(labs.text("veeam-tag-l2"))
        yield node, snap, listener
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        shutil.rmtree(etc, ignore_errors=True)
        for ns in (node, host):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _probe(node: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", node, sys.executable, "-m", "nbdpath", "probe", *args],
                          capture_output=True, text=True, timeout=120)


def _contacted(listener) -> list[str]:
    listener.kill()
    out, _ = listener.communicate()
    return [line for line in out.splitlines() if line]


def test_probe_in_namespaces_predicted_vs_observed(estate):
    node, snap, listener = estate
    r = _probe(node, str(snap), "--format", "json", "--timeout", "1")
    assert r.returncode == 1, r.stderr  # esx02's endpoint does not answer
    doc = json.loads(r.stdout)
    assert doc["kind"] == "probe" and doc["node"] == "vbr-proxy01"
    rows = {row["host"]: row for row in doc["results"]}
    ep1 = rows["esx01.lab.local"]["endpoint"]
    assert ep1["address"] == "10.30.0.11" and ep1["reachable"] is True
    assert (ep1["interface"], ep1["kernel_source"], ep1["source"]) == ("eth1", "10.30.0.50", "10.30.0.50")
    assert ep1["predicted_interface"] == "eth1" and ep1["as_predicted"] is True
    mg1 = rows["esx01.lab.local"]["management"]
    assert mg1["address"] == "10.10.0.11" and mg1["reachable"] is True and mg1["interface"] == "eth0"
    ep2 = rows["esx02.lab.local"]["endpoint"]
    assert ep2["address"] == "10.30.0.12" and ep2["reachable"] is False and ep2["as_predicted"] is False
    assert ep2["interface"] == "eth1"  # the kernel would still send it there
    # the node's resolver: esx02 as the snapshot has it; esx01 somewhere else, which is said and not contacted
    assert rows["esx02.lab.local"]["name_resolves_to"]["address"] == "10.10.0.12"
    assert rows["esx02.lab.local"]["resolved_in_snapshot"] is True
    assert rows["esx01.lab.local"]["name_resolves_to"]["address"] == "10.99.0.1"
    assert rows["esx01.lab.local"]["resolved_in_snapshot"] is False
    seen = _contacted(listener)
    assert sorted(line.split()[0] for line in seen) == ["10.10.0.11", "10.30.0.11"], seen
    assert all(line.split()[2] == "0" for line in seen)  # nothing was sent


def test_probe_table_and_bounds(estate):
    node, snap, listener = estate
    started = time.monotonic()
    r = _probe(node, str(snap), "--timeout", "0.5", "--max-hosts", "1")
    assert r.returncode == 0, r.stderr  # only esx01, whose endpoint answers as predicted
    assert "1 host(s) probed: endpoint as predicted 1, not 0; 1 not probed (--max-hosts)" in r.stdout
    assert "connected from 10.30.0.50" in r.stdout
    assert "10.99.0.1 (not this host's in the snapshot: not contacted)" in r.stdout
    assert "esx02" not in r.stdout
    assert time.monotonic() - started < 60  # a guard against a hang, not a speed claim


def test_probe_usage_errors(tmp_path, capsys):
    snap = tmp_path / "s.yaml"
    snap.write_text(labs.text("veeam-tag-l2"))
    assert main(["probe", str(snap), "--node", "nope"]) == 2
    assert "--node nope: no such backup node" in capsys.readouterr().err
    assert main(["probe", str(snap), "--timeout", "0"]) == 2
    assert main(["probe", str(tmp_path / "missing.yaml")]) == 2
    many = tmp_path / "m.yaml"
    many.write_text(labs.text("rubrik-mixed-speed"))
    assert main(["probe", str(many)]) == 2  # two nodes: which one is this machine?
    assert "say which one this is with --node" in capsys.readouterr().err


@pytest.mark.parametrize("data, expected", [
    (b'[{"dst":"10.30.0.11","dev":"eth1","prefsrc":"10.30.0.50","flags":[],"uid":0,"cache":[]}]',
     {"interface": "eth1", "kernel_source": "10.30.0.50", "gateway": None}),
    (b'[{"dst":"10.50.1.1","gateway":"10.40.0.2","dev":"v0","prefsrc":"10.40.0.50"}]',
     {"interface": "v0", "kernel_source": "10.40.0.50", "gateway": "10.40.0.2"}),
    (b'[{"dev":"eth\\u001b[2J","prefsrc":7}]', {"interface": None, "kernel_source": None, "gateway": None}),
    (b"not json", {"route_error": "ip route get printed something that is not its JSON"}),
    (b"\xff\xfe", {"route_error": "ip route get printed something that is not its JSON"}),
    (b"[]", {"route_error": "ip route get printed no route"}),
    (b"{}", {"route_error": "ip route get printed no route"}),
])
def test_route_get_output_is_checked(data, expected):
    assert parse_route_get(data) == expected


def test_a_hanging_resolver_is_left_behind_boundedly(monkeypatch):
    import socket
    import threading

    from nbdpath.commands import node as cmd

    never = threading.Event()
    calls = []

    def hang(*args, **kwargs):
        calls.append(args[0])
        never.wait(30)
        raise OSError("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    monkeypatch.setattr(cmd, "_resolver_hung", [0])
    try:
        got = [cmd._resolve(f"esx{i}.lab.local", 0.05) for i in range(5)]
    finally:
        never.set()
    assert [g["error"].split(":")[0] for g in got] == ["no answer within 0.05 s"] * 3 + ["not tried"] * 2
    assert len(calls) == 3  # no more threads than the cap
