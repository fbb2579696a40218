"""Benchmark: discovery of hosts alone vs hosts + VMs + datastores, from one vcsim.

The same simulator serves both runs: hosts only is ``discover --no-vms``
(ConnectOptions(vms=False)); hosts + VMs is the default, VMs (runtime.host,
runtime.powerState, config.template, layoutEx.disk,
summary.config.numVirtualDisks), folders and datastores in the same paged
PropertyCollector retrieval, then the disks by device key
(config.hardware.device[2000]...) in a second one. Each VM lists the
simulator's default devices (IDE, PS2, PCI, SIO, keyboard, video, VMCI) plus
a SCSI controller, a NIC and its disks, as config.hardware.device does on a
real vCenter.

    python benchmarks/discover_vms.py [--hosts 1000] [--vms-per-host 20] [--repeat 3]

Target (issue 9): hosts + VMs in at most 2x the time of hosts alone.
Prints the figures; not a test. Record results in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "vcsim"))

import vcsim_launcher
from discover import fleet

from nbdpath.model import Datastore, Snapshot, VirtualDisk, Vm
from nbdpath.sources import soapxml, vcenter

CLUSTER = 16  # hosts sharing one datastore


def estate(n_hosts: int, per_host: int) -> Snapshot:
    """``fleet`` hosts, one shared datastore per 16 hosts plus a local one per host, ``per_host`` VMs each.

    Every VM has a 40 GiB system disk on the shared datastore and a data
    disk; one in ten is powered off, one in fifty is a template; 50 folders.
    """
    snap = fleet("veeam-tag-routed", n_hosts)
    names = [h.name for h in snap.hosts]
    stores = [Datastore(name=f"ds-{c:03d}", hosts=tuple(names[c * CLUSTER:(c + 1) * CLUSTER]))
              for c in range((n_hosts + CLUSTER - 1) // CLUSTER)]
    stores += [Datastore(name=f"local-{h}", hosts=(h,)) for h in names]
    vms = []
    for i, h in enumerate(names):
        shared = f"ds-{i // CLUSTER:03d}"
        for k in range(per_host):
            n = i * per_host + k
            vms.append(Vm(
                name=f"vm{n:06d}", host=h, folder=f"app{n % 50:02d}",
                power_state="poweredOff" if n % 10 == 9 else "poweredOn", template=n % 50 == 49,
                disks=(VirtualDisk(label="Hard disk 1", capacity_gib=40, datastore=shared),
                       VirtualDisk(label="Hard disk 2", capacity_gib=100 + n % 400,
                                   datastore=f"local-{h}" if n % 4 == 0 else shared)),
            ))
    return snap.model_copy(update={"vms": tuple(vms), "datastores": tuple(stores)})


def server_cpu(pid: int) -> float:
    """CPU seconds the simulator has used (utime + stime from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(sim, cafile: str, vms: bool) -> tuple[float, float, int, int, float, int]:
    """(wall s, client cpu s, hosts, vms, server cpu s, answer bytes) of one discovery in this process."""
    received = [0]
    post = soapxml.post

    def counted(mo, body):
        answer = post(mo, body)
        received[0] += len(answer)
        return answer

    soapxml.post = counted
    try:
        s0, c0, t0 = server_cpu(sim.proc.pid), time.process_time(), time.perf_counter()
        found = vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                                 vcenter.ConnectOptions(ca_file=cafile, vms=vms))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        soapxml.post = post
    assert not found.missing, found.missing
    return wall, cpu, len(found.snapshot.hosts), len(found.snapshot.vms), server_cpu(sim.proc.pid) - s0, received[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--vms-per-host", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each (median reported), alternating")
    args = ap.parse_args()

    snap = estate(args.hosts, args.vms_per_host)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        sim = vcsim_launcher.start(snap, Path(tmp))
        start_s = time.perf_counter() - t0
        hosts_only, with_vms = [], []
        try:
            run(sim, str(sim.cert), vms=True)  # warm-up: imports, pyVmomi's type tables, the first TLS session
            for _ in range(args.repeat):  # alternated, so load from other jobs hits both alike
                hosts_only.append(run(sim, str(sim.cert), vms=False))
                with_vms.append(run(sim, str(sim.cert), vms=True))
        finally:
            sim.stop()
    h_wall = statistics.median(r[0] for r in hosts_only)
    v_wall = statistics.median(r[0] for r in with_vms)
    h_cpu = statistics.median(r[1] for r in hosts_only)
    v_cpu = statistics.median(r[1] for r in with_vms)
    print(f"machine: {platform.machine()} {platform.system()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"vcsim with {args.hosts} hosts, {len(snap.vms)} VMs, {len(snap.datastores)} datastores started in {start_s:.1f} s")
    h_srv = statistics.median(r[4] for r in hosts_only)
    v_srv = statistics.median(r[4] for r in with_vms)
    print(f"{'':16} {'wall s (median)':>16} {'nbdpath cpu s':>14} {'vcsim cpu s':>12} {'answers MB':>11}  runs (wall)")
    print(f"{'hosts only':16} {h_wall:16.2f} {h_cpu:14.2f} {h_srv:12.2f} {hosts_only[0][5] / 1e6:11.1f}  "
          f"{', '.join(f'{r[0]:.2f}' for r in hosts_only)}  ({hosts_only[0][2]} hosts)")
    print(f"{'hosts + VMs':16} {v_wall:16.2f} {v_cpu:14.2f} {v_srv:12.2f} {with_vms[0][5] / 1e6:11.1f}  "
          f"{', '.join(f'{r[0]:.2f}' for r in with_vms)}  ({with_vms[0][2]} hosts, {with_vms[0][3]} VMs)")
    ratio = v_wall / h_wall
    print(f"ratio            {ratio:16.2f}x {v_cpu / h_cpu:13.2f}x {v_srv / max(h_srv, 0.01):11.2f}x  target: <= 2x (wall)")
    print("target met" if ratio <= 2 else "TARGET MISSED")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
