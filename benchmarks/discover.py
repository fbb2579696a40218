"""Benchmark: discovering 1,000 hosts from vcsim, nbdpath's way vs the naive way.

nbdpath: one ContainerView + one paged PropertyCollector retrieval.
Naive (what common scripts do): iterate the hosts of a view, read
``host.config.network`` and call ``QueryNetConfig("vSphereBackupNFC")`` per
host, each attribute access a round trip.

    python benchmarks/discover.py [--hosts 1000] [--lab veeam-tag-routed]

Prints the figures; not a test (no timed assertions anywhere in tests/).
Record results in benchmarks/README-discover.md with the machine.
"""

from __future__ import annotations

import argparse
import ipaddress
import platform
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "vcsim"))

import vcsim_launcher

from nbdpath import labs
from nbdpath.model import Snapshot
from nbdpath.sources import vcenter


def fleet(template_lab: str, count: int) -> Snapshot:
    """``count`` distinct hosts cloned from the first host of a lab: own names, IPs and MACs."""
    lab = labs.load(template_lab)
    base = lab.hosts[0]
    hosts = []
    for i in range(count):
        vmks = []
        for v in base.vmks:
            iface = ipaddress.IPv4Interface(v.ipv4)
            # Unique addresses: the lab's a.b.c.d/24 becomes a.b.X.Y/16, X.Y from the index.
            a, b = str(iface.ip).split(".")[:2]
            ip = f"{a}.{b}.{i // 250}.{i % 250 + 2}/16"
            mac = f"00:50:56:{i >> 8 & 0xff:02x}:{i & 0xff:02x}:{v.number:02x}"
            vmks.append(v.model_copy(update={"ipv4": ip, "mac": mac}))
        hosts.append(base.model_copy(update={"name": f"esx{i:04d}.bench.local", "management_address": f"esx{i:04d}.bench.local",
                                             "vmks": tuple(vmks)}))
    return Snapshot(name="bench", hosts=tuple(hosts), dvswitches=lab.dvswitches)


def naive(sim, cafile: str) -> tuple[float, int, int]:
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim

    t0 = time.perf_counter()
    host, port = sim.server.removeprefix("https://").split(":")
    si = SmartConnect(host=host, port=int(port), user=sim.user, pwd=sim.password,
                      sslContext=ssl.create_default_context(cafile=cafile))
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
    hosts = tagged = 0
    for h in view.view:
        net = h.config.network
        info = h.configManager.virtualNicManager.QueryNetConfig("vSphereBackupNFC")
        hosts += 1
        # What such scripts then do: match selected vnics against the host's vmks.
        tagged += sum(1 for v in net.vnic if any(k.endswith("." + v.key) for k in info.selectedVnic or ()))
    view.DestroyView()
    Disconnect(si)
    return time.perf_counter() - t0, hosts, tagged


def ours(sim, cafile: str) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    found = vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                             vcenter.ConnectOptions(ca_file=cafile))
    elapsed = time.perf_counter() - t0
    return elapsed, len(found.snapshot.hosts), sum(len(h.vmks) for h in found.snapshot.hosts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--lab", default="veeam-tag-routed")
    ap.add_argument("--repeat", type=int, default=3, help="runs of nbdpath's discovery (median reported)")
    args = ap.parse_args()

    snap = fleet(args.lab, args.hosts)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        sim = vcsim_launcher.start(snap, Path(tmp))
        start_s = time.perf_counter() - t0
        try:
            cafile = str(sim.cert)
            runs = [ours(sim, cafile) for _ in range(args.repeat)]
            naive_s, naive_hosts, naive_tagged = naive(sim, cafile)
        finally:
            sim.stop()
    ours_s = statistics.median(r[0] for r in runs)
    print(f"machine: {platform.machine()} {platform.system()}, python {platform.python_version()}")
    print(f"vcsim with {args.hosts} hosts (from lab {args.lab}) started in {start_s:.1f} s")
    print(f"nbdpath discover : {ours_s:6.2f} s  (median of {args.repeat}: {', '.join(f'{r[0]:.2f}' for r in runs)}), "
          f"{runs[0][1]} hosts, {runs[0][2]} vmks")
    print(f"naive per-host   : {naive_s:6.2f} s  ({naive_hosts} hosts, {naive_tagged} tagged vmks: "
          "host.config.network + QueryNetConfig each)")
    print(f"speed-up         : {naive_s / ours_s:6.1f}x   target: <= 5 s and >= 10x")
    ok = ours_s <= 5 and naive_s / ours_s >= 10
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
