"""Give the lab's emulated uplinks the snapshot's speeds, and time concurrent streams over them.

The lab plugs every vmk straight into its segment's bridge: a veth, as fast
as the machine. ``uplink_shapes`` finds, per vmk, the uplink(s) its port
group's teaming sends on (the engine's own choice, :func:`teaming.choose`)
and their speed, as the estimate counts it: the slowest one for originating
port / MAC hash / explicit failover, the sum for IP hash / LACP. ``apply``
puts a token bucket (``tc ... tbf``) of that rate on the vmk's egress, so a
host's replies leave at the uplink's speed; ``transfer`` then runs several
NFC-like streams of one host at once and times them, like a job's window.

tbf counts Ethernet frames as the kernel sends them (header included;
preamble, inter-frame gap and FCS not), so a TCP flow at MTU 1500 carries
1448 payload bytes per 1514 counted: ``TBF_EFFICIENCY``, the estimate's
``link_efficiency`` for a shaped lab link.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from dataclasses import dataclass
from typing import Optional, Sequence

from ..engine import teaming, trace_pair
from ..model import Snapshot
from .kernel import Lab, Limits, _fetch, _run, _serve, _Sockets, missing_requirements, require
from .plan import NFC_PORT, LabPlan
from .run import plan_for

TBF_EFFICIENCY = 1448 / 1514  # TCP payload with timestamps per Ethernet frame tbf counts
_SPREAD = teaming.SPREAD_OVER_UPLINKS
SO_MAX_PACING_RATE = getattr(socket, "SO_MAX_PACING_RATE", 47)  # Linux value; Python 3.11 lacks the name


@dataclass(frozen=True, slots=True)
class Shape:
    netns: str
    ifname: str
    mbps: float  # 10^6 bit/s on the wire
    label: str  # what it stands for: "esx01 vmk0 -> vmnic0"


def uplink_shapes(snap: Snapshot, plan: LabPlan) -> list[Shape]:
    """One shape per emulated host vmk whose uplinks have a known speed."""
    dvs = {d.name: d for d in snap.dvswitches}
    links = {(l.netns, l.label): l for l in plan.links}
    out = []
    for host in snap.hosts:
        ns = plan.netns_of("host", host.name)
        groups = teaming.portgroups(host, snap, dvs)
        pnics = {p.name: p for p in host.pnics}
        for vmk in host.vmks:
            link = links.get((ns, vmk.device))
            pg = groups.get(vmk.portgroup)
            if link is None or pg is None:
                continue
            ups = teaming.choose(pg, pnics).uplinks
            speeds = [u.speed_mbps for u in ups if u.speed_mbps]
            if not speeds:
                continue
            mbps = sum(speeds) if pg.policy in _SPREAD else min(speeds)
            out.append(Shape(ns, link.ifname, float(mbps), f"{host.name} {vmk.device} -> {'+'.join(u.name for u in ups)}"))
    return out


def tc_args(shape: Shape) -> list[str]:
    """The ``tc`` command that shapes one link's egress.

    The bucket holds 2 ms of traffic (at least a few full frames): enough
    that timer slack does not starve the link, little enough that a burst
    does not shorten a seconds-long transfer noticeably.
    """
    rate_bytes = shape.mbps * 1e6 / 8
    burst = max(int(rate_bytes * 0.002), 4 * 1514)
    return ["tc", "-n", shape.netns, "qdisc", "replace", "dev", shape.ifname, "root", "tbf",
            "rate", f"{shape.mbps:g}mbit", "burst", str(burst), "latency", "50ms"]


def apply(shapes: Sequence[Shape]) -> None:
    """Shape every link; the lab's teardown removes them with their namespaces."""
    for s in shapes:
        _run(tc_args(s), what=f"tc on {s.label}")


@dataclass(frozen=True, slots=True)
class Transfer:
    seconds: float  # from the first connect to the last stream's end: the window
    streams: int
    nbytes: int  # asked per stream
    received: tuple[int, ...]
    errors: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.errors and all(r == self.nbytes for r in self.received)


def transfer(plan: LabPlan, host: str, node: str, endpoint_ip: str, streams: int, limits: Limits,
             stream_mbyte_s: Optional[float] = None) -> Transfer:
    """``streams`` streams of ``limits.nbytes`` each from ``host`` to ``node``, all at once.

    ``stream_mbyte_s`` paces each stream (SO_MAX_PACING_RATE, TCP's own
    pacing) like NBD's one outstanding read per disk caps a stream.
    """
    sockets = _Sockets()
    listener = sockets.new(plan.netns_of("host", host))
    clients = [sockets.new(plan.netns_of("node", node)) for _ in range(streams)]
    server_errors: list[str] = []
    servers: list[threading.Thread] = []
    results: list[Optional[tuple]] = [None] * streams
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if stream_mbyte_s:
            # Accepted sockets inherit the listener's cap.
            listener.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, int(stream_mbyte_s * 1e6))
        listener.bind(("0.0.0.0", NFC_PORT))
        listener.listen(streams + 4)
        # Each server thread accepts one connection of the shared listener.
        servers = [threading.Thread(target=_serve, args=(listener, limits, sockets, server_errors), daemon=True)
                   for _ in range(streams)]

        def fetch(i: int) -> None:
            results[i] = _fetch(clients[i], endpoint_ip, limits)

        fetchers = [threading.Thread(target=fetch, args=(i,), daemon=True) for i in range(streams)]
        for t in servers:
            t.start()
        t0 = time.monotonic()
        for t in fetchers:
            t.start()
        for t in fetchers:
            t.join(limits.total_timeout + limits.connect_timeout + 1.0)
        seconds = time.monotonic() - t0
    finally:
        sockets.abort()
        for s in (listener, *clients):
            sockets.close(s)
    for t in servers:
        t.join(limits.total_timeout)
    errors = [r[3] for r in results if r is not None and r[3]] + server_errors
    errors += ["a stream did not finish" for r in results if r is None]
    return Transfer(seconds, streams, limits.nbytes, tuple(r[1] if r else 0 for r in results), tuple(errors))


def missing() -> list[str]:
    """What this machine lacks to run a shaped lab."""
    out = missing_requirements(need_tcpdump=False, need_iptables=False)
    if shutil.which("tc") is None:
        out.append("tc (install iproute2)")
    return out


def replay(snap: Snapshot, host: str, node: str, streams: int, nbytes: int,
           stream_mbyte_s: Optional[float] = None, timeout: float = 60.0) -> Transfer:
    """Build the lab for one host -> node pair, shape its uplinks, run ``streams`` at once, tear down."""
    path = trace_pair(snap, host, node)
    if path.endpoint.ip is None:
        raise ValueError(f"{host} -> {node}: no endpoint address to connect to")
    the_plan = plan_for(snap, [path])
    require(need_tcpdump=False, need_iptables=bool(the_plan.filters))
    limits = Limits(nbytes=nbytes, connect_timeout=2.0, idle_timeout=5.0, total_timeout=timeout)
    with Lab(the_plan):
        apply(uplink_shapes(snap, the_plan))
        return transfer(the_plan, host, node, path.endpoint.ip, streams, limits, stream_mbyte_s)
