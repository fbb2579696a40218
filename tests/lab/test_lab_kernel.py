"""Real namespaces, real TCP 902 streams: the kernel against the engine."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dpkt
import pytest

from nbdpath import engine, labs
from nbdpath.lab import kernel, script
from nbdpath.lab.kernel import Lab, LabError, Limits, existing_netns, run_streams
from nbdpath.lab.plan import NETNS_RE
from nbdpath.lab.run import plan_for, run

from lab_helpers import needs_kernel, report2

pytestmark = [pytest.mark.lab, needs_kernel]

FAST = Limits(nbytes=1 << 20, connect_timeout=1.0, idle_timeout=1.0, total_timeout=10.0)
REPO = Path(__file__).resolve().parents[2]


def lab_namespaces(prefix: str | None = None) -> list[str]:
    return [n for n in existing_netns() if NETNS_RE.match(n) and (prefix is None or n.startswith(prefix + "-"))]


def assert_gone(prefix: str) -> None:
    assert lab_namespaces(prefix) == []
    assert not (kernel.OWNER_DIR / f"{prefix}.pid").exists()


@pytest.mark.parametrize("name", labs.names())
def test_builtin_lab_kernel_agrees_with_engine(name):
    snap = labs.load(name)
    result = run(snap, engine.trace(snap), FAST)
    bad = [f"{c.prediction.host} -> {c.prediction.node}: {p}" for c in result.checks for p in c.problems]
    assert bad == []
    assert result.checks, "a built-in lab has at least one pair"
    assert any(c.observation.attempted for c in result.checks)
    assert_gone(result.prefix)


def test_half_handshake_through_stateful_firewall_fails():
    # Same estate twice: the forward path crosses `core`, the reply does not.
    paths = lambda s: [engine.trace_pair(s, "esx01", "rubrik1")]  # noqa: E731
    stateless = run(report2(stateful=False), paths(report2(stateful=False)), FAST)
    stateful = run(report2(stateful=True), paths(report2(stateful=True)), FAST)
    ok, broken = stateless.checks[0], stateful.checks[0]
    assert ok.observation.completed and ok.observation.egress_vmk == "vmk4"
    # The node saw the SYN/ACK (sent straight back on vmk4), so connect()
    # returned; its ACK died in the firewall and no data ever came.
    assert broken.observation.connected and broken.observation.bytes_received == 0
    assert broken.observation.egress_vmk == "vmk4"
    assert broken.prediction.verdict == "BROKEN_BY_FIREWALL" and broken.agree
    assert ok.prediction.completes and ok.agree


def test_firewall_counts_invalid_drops():
    snap = report2(stateful=True)
    plan = plan_for(snap, [engine.trace_pair(snap, "esx01", "rubrik1")])
    with Lab(plan):
        run_streams(plan, FAST)
        out = subprocess.run(["ip", "netns", "exec", plan.netns_of("router", "core"), "iptables", "-vxnL", "FORWARD"],
                             capture_output=True, text=True, check=True).stdout
    drop = next(line for line in out.splitlines() if "INVALID" in line)
    assert int(drop.split()[0]) >= 1, out


def test_connected_routes_follow_vmk_order_like_esxi():
    snap = labs.load("same-subnet-vmks")
    plan = plan_for(snap, engine.trace(snap))
    with Lab(plan):
        hns = plan.netns_of("host", snap.hosts[0].name)
        routes = subprocess.run(["ip", "-n", hns, "route", "show", "proto", "kernel"], capture_output=True, text=True, check=True).stdout
    first = routes.splitlines()[0]
    vmks = sorted((v for v in snap.hosts[0].vmks if v.ipv4), key=lambda v: v.number)
    assert f"dev {vmks[0].device} " in first


def test_cleanup_after_failure_midway(monkeypatch):
    snap = report2()
    plan = plan_for(snap, engine.trace(snap))
    real = script.device_batches

    def broken(p):
        out = real(p)
        out[p.netns_of("node", "rubrik1")].append("route add 10.200.0.0/16 via 10.250.0.1")  # no such gateway
        return out

    monkeypatch.setattr(script, "device_batches", broken)
    with pytest.raises(LabError, match="configuring .*-n0 failed"):
        with Lab(plan):
            pytest.fail("the lab must not come up")
    assert_gone(plan.prefix)


def test_cleanup_after_error_while_streaming():
    snap = report2()
    plan = plan_for(snap, engine.trace(snap))
    with pytest.raises(RuntimeError, match="boom"):
        with Lab(plan):
            assert len(lab_namespaces(plan.prefix)) == len(plan.namespaces)
            raise RuntimeError("boom")
    assert_gone(plan.prefix)


def test_two_runs_at_once_do_not_collide():
    snap = labs.load("veeam-tag-routed")
    paths = engine.trace(snap)
    results = []

    def one():
        results.append(run(snap, paths, FAST))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0].prefix != results[1].prefix
    assert all(r.agree for r in results)


def test_pcaps_per_host_interface_show_the_egress_vmk(tmp_path):
    snap = report2()
    paths = [engine.trace_pair(snap, "esx01", "rubrik1")]
    result = run(snap, paths, FAST, keep_pcaps=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["esx01-vmk0.pcap", "esx01-vmk4.pcap"]

    def tcp_from_902(name):
        frames = []
        with open(tmp_path / name, "rb") as f:
            for _, buf in dpkt.pcap.Reader(f):
                eth = dpkt.ethernet.Ethernet(buf)
                if isinstance(eth.data, dpkt.ip.IP) and isinstance(eth.data.data, dpkt.tcp.TCP) and eth.data.data.sport == 902:
                    frames.append(eth)
        return frames

    # Report 2: the node connected to vmk0's IP, yet the data leaves vmk4
    # with vmk0's source IP.
    out4 = tcp_from_902("esx01-vmk4.pcap")
    assert out4 and {bytes(e.data.src) for e in out4} == {bytes([10, 10, 0, 11])}
    assert tcp_from_902("esx01-vmk0.pcap") == []
    assert result.checks[0].observation.egress_vmk == "vmk4"


def test_vmk_mac_from_snapshot_is_on_the_wire(tmp_path):
    snap = labs.load("veeam-tag-routed")
    host = snap.hosts[0]
    vmk0 = next(v for v in host.vmks if v.device == "vmk0")
    if not vmk0.mac:
        pytest.skip("lab has no vmk0 MAC")  # pragma: no cover - depends on the lab file
    run(snap, [engine.trace_pair(snap, host.name, snap.backup_nodes[0].name)], FAST, keep_pcaps=tmp_path)
    with open(tmp_path / f"{host.name}-vmk0.pcap", "rb") as f:
        srcs = {dpkt.ethernet.Ethernet(buf).src for _, buf in dpkt.pcap.Reader(f)}
    assert bytes.fromhex(vmk0.mac.replace(":", "")) in srcs


# ------------------------------------------------------------ interruption

def _start_cli(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """Start a lab run with captures that stalls (firewall lab, long idle timeout); return it and its prefix."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbdpath", "lab", "run", "lab:trick-through-firewall", "--bytes", "1MiB",
         "--idle-timeout", "30", "--timeout", "60", "--keep-pcaps", str(tmp_path / "pcaps")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        # The run's owner file names its prefix (other tests may run labs meanwhile).
        mine = [f.stem for f in kernel.OWNER_DIR.glob("nbl*.pid") if _read(f) == str(proc.pid)]
        if mine and _tcpdumps_in(mine[0]):
            time.sleep(0.5)  # the captures start last: let it reach the streams
            return proc, mine[0]
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"lab run did not come up: {proc.communicate()}")


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:  # another run just removed its owner file
        return ""


def _tcpdumps_in(prefix: str) -> list[int]:
    """tcpdump processes living in the run's namespaces."""
    pids = []
    for ns in lab_namespaces(prefix):
        out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
        for pid in out.split():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "tcpdump":
                    pids.append(int(pid))
            except OSError:
                pass
    return pids


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_nothing(tmp_path, sig):
    proc, prefix = _start_cli(tmp_path)
    assert _tcpdumps_in(prefix)
    captures = _tcpdumps_in(prefix)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert_gone(prefix)
    assert [p for p in captures if Path(f"/proc/{p}").exists()] == []
    # No half-written captures: an interrupted run keeps none.
    assert list((tmp_path / "pcaps").iterdir()) == []


def test_down_removes_leftovers_of_a_killed_run(tmp_path):
    proc, prefix = _start_cli(tmp_path)
    proc.kill()  # SIGKILL: no cleanup possible
    proc.communicate(timeout=10)
    assert lab_namespaces(prefix), "a killed run leaves its namespaces"
    captures = _tcpdumps_in(prefix)
    assert captures, "and its captures"
    done = subprocess.run([sys.executable, "-m", "nbdpath", "lab", "down"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert prefix in done.stdout
    assert_gone(prefix)
    assert [p for p in captures if Path(f"/proc/{p}").exists()] == []


def test_down_spares_a_live_run():
    snap = report2()
    plan = plan_for(snap, engine.trace(snap))
    with Lab(plan):
        kernel.down()
        assert len(lab_namespaces(plan.prefix)) == len(plan.namespaces)
    assert_gone(plan.prefix)


def test_cli_verify_json_on_a_lab(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "nbdpath", "lab", "verify", "lab:veeam-tag-routed", "--bytes", "256KiB", "--format", "json"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    import json

    doc = json.loads(done.stdout)
    assert doc["kind"] in ("lab-run", "lab-verify") and doc["agree"] is True
    assert {(p["host"], p["observed"]["egress_vmk"]) for p in doc["pairs"]} == {
        (p.host, p.outcome.egress_vmk) for p in engine.trace(labs.load("veeam-tag-routed"))
    }
    assert all(p["observed"]["bytes_received"] == 256 * 1024 for p in doc["pairs"])


def test_fleet_of_20_hosts_and_4_nodes_agrees():
    from estates import fleet

    snap = fleet(20, 4)
    result = run(snap, engine.trace(snap), Limits(nbytes=1 << 20, connect_timeout=2.0, idle_timeout=1.0))
    assert len(result.checks) == 80
    assert [p for c in result.checks for p in c.problems] == []
    # Every shape is there: isolated, via vmk0, the trick, and the firewall break.
    assert {c.prediction.verdict for c in result.checks} == {"ISOLATED", "NOT_ISOLATED", "ASYMMETRIC", "BROKEN_BY_FIREWALL"}
    assert_gone(result.prefix)


@pytest.mark.parametrize("name", labs.names())
def test_lab_captures_confirm_the_engine_through_the_evidence_reader(tmp_path, name):
    # The lab's pcaps are real evidence: `nbdpath verify` must confirm every
    # pair that ran, from captures alone (vmk MACs come from the snapshot).
    from nbdpath.evidence import read_evidence, verify
    from nbdpath.evidence.verify import Check as EvidenceCheck

    snap = labs.load(name)
    paths = engine.trace(snap)
    result = run(snap, paths, FAST, keep_pcaps=tmp_path)
    report = verify(snap, paths, [read_evidence(str(f), None) for f in sorted(tmp_path.glob("*.pcap"))])
    assert not report.contradicted, [p.reason for p in report.pairs if p.check is EvidenceCheck.CONTRADICTED]
    # Every pair whose TCP reached the host is on a capture, so it must be
    # confirmed (frames beyond ARP's 42 bytes each carried TCP).
    seen = {(c.prediction.host, c.prediction.node) for c in result.checks
            if any(k.rx_bytes > 42 * k.rx_packets for k in c.observation.interfaces)}
    confirmed = {(p.host, p.node) for p in report.pairs if p.check is EvidenceCheck.CONFIRMED}
    assert seen <= confirmed


def test_nothing_is_added_to_the_root_namespace():
    import json
    import re

    snap = labs.load("mixed-estate")
    plan = plan_for(snap, engine.trace(snap))
    root_before = {l["ifname"] for l in json.loads(subprocess.run(["ip", "-j", "link", "show"], capture_output=True,
                                                                     text=True, check=True).stdout)}
    with Lab(plan):
        listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
        ours = {int(m.group(2)) for m in re.finditer(r"^(\S+) \(id: (\d+)\)", listing, re.M)
                if m.group(1).startswith(plan.prefix + "-")}
        root = json.loads(subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout)
    # No root interface leads into a lab namespace, and none of the lab's names appears in root.
    assert [l["ifname"] for l in root if l.get("link_netnsid") in ours] == []
    names = {l.peer for l in plan.links} | {b.name for b in plan.bridges}
    assert {l["ifname"] for l in root} & names <= root_before
