"""Which host serves each VM's disks, and the paths its data takes. Pure: no I/O.

A powered-on VM's disks are read through its own host. Any other read (a
powered-off or suspended VM, a template) goes through a host vCenter picks:
VDDK's guide says "the first host with read/write access" to the datastore,
"not necessarily the ESXi host where the VM resides". Which one is first is
not observable, so every host mounting the datastore read-write is a
candidate: each is traced, the worst is reported, and a VM whose candidates
disagree is flagged. The paths themselves are the engine's (engine.trace),
never walked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from ..model import Job, Snapshot, Vm
from .trace import Engine
from .types import Path, Verdict

# Worse first: a failed read, then data over management, then asymmetric, then isolated.
VERDICT_RANK = {
    Verdict.UNREACHABLE: 0, Verdict.BROKEN_BY_FIREWALL: 0, Verdict.NOT_ISOLATED: 1,
    Verdict.ASYMMETRIC: 2, Verdict.ISOLATED: 3,
}
OWN_HOST = "own-host"
DATASTORE = "datastore"

FORKLIFT_WHY = "the job names this host's transfer address (Forklift Host ipAddress, \"used for disk transfer\")"


def path_rank(p: Path) -> tuple[int, int]:
    """Sort key, worst first: verdict, then the slower bottleneck (unknown speed last)."""
    return VERDICT_RANK[p.verdict], p.outcome.bottleneck_mbps if p.outcome.bottleneck_mbps is not None else 1 << 40


def works(p: Path) -> bool:
    return VERDICT_RANK[p.verdict] > 0


def _disagree(candidates: tuple[str, ...], paths: tuple[Path, ...]) -> bool:
    """Candidate hosts whose paths differ in verdict or speed: which host vCenter picks matters."""
    if len(candidates) < 2:
        return False
    per_host: dict[str, set] = {}
    for p in paths:
        per_host.setdefault(p.host, set()).add((p.verdict, p.outcome.bottleneck_mbps))
    return len({frozenset(v) for v in per_host.values()}) > 1


@dataclass(frozen=True, slots=True)
class VmRoute:
    """One VM read by one job (or by no job: every node): its candidate hosts and paths."""

    vm: str
    job: Optional[str]
    served_by: str  # own-host / datastore
    candidates: tuple[str, ...]  # hosts that may serve its disks
    paths: tuple[Path, ...]  # every candidate x node
    reason: str
    worst: Optional[Path]
    disagree: bool

    def to_dict(self) -> dict[str, Any]:
        """``paths`` lists every candidate x node only where candidates disagree: elsewhere the
        worst says it, and the trace's own pairs hold the rest (100,000 VMs x 16 nodes would not)."""
        worst = self.worst
        disagree = self.disagree
        return {
            "vm": self.vm,
            "job": self.job,
            "served_by": self.served_by,
            "candidates": list(self.candidates),
            "reason": self.reason,
            "disagree": disagree,
            "worst": None if worst is None else {**_brief(worst), "verdict_reason": worst.outcome.verdict_reason},
            "paths": [_brief(p) for p in self.paths] if disagree else [],
        }


def _brief(p: Path) -> dict[str, Any]:
    # The pair's reasons and hops are in the trace's own paths: a VM row only points at it.
    o = p.outcome
    return {"host": p.host, "node": p.node, "endpoint": p.endpoint.ip, "egress_vmk": o.egress_vmk,
            "egress_uplinks": [u.name for u in o.egress_uplinks], "bottleneck_mbps": o.bottleneck_mbps,
            "verdict": o.verdict.value}


def disk_candidates(snap: Snapshot, datastore: str, _index: Optional[dict] = None) -> tuple[str, ...]:
    """Hosts vCenter may read a disk on ``datastore`` through (mounted read-write, accessible)."""
    stores = _index if _index is not None else {d.name: d for d in snap.datastores}
    ds = stores.get(datastore)
    return tuple(ds.hosts) if ds is not None and ds.accessible else ()


def serving(snap: Snapshot, vm: Vm, stores: Optional[dict] = None) -> tuple[str, tuple[str, ...], str]:
    """(served_by, candidate hosts, why) for ``vm``'s disks."""
    if vm.power_state == "poweredOn" and not vm.template:
        return OWN_HOST, (vm.host,), "powered on: its disks are read through its own host"
    state = "a template" if vm.template else vm.power_state
    if not vm.disks:
        return DATASTORE, (), f"{state} with no disks: nothing to read"
    stores = stores if stores is not None else {d.name: d for d in snap.datastores}
    hosts: dict[str, None] = {}
    empty = []
    for disk in vm.disks:
        found = disk_candidates(snap, disk.datastore, stores)
        if not found:
            empty.append(disk.datastore)
        hosts.update(dict.fromkeys(found))
    why = (f"{state}: vCenter reads it through \"the first host with read/write access\" to each disk's "
           f"datastore (VDDK guide), so every such host is a candidate")
    if empty:
        why += f"; no host mounts {', '.join(dict.fromkeys(empty))} read-write (or it is inaccessible)"
    return DATASTORE, tuple(hosts), why


def selected(snap: Snapshot, job: Job, index: Optional["VmIndex"] = None) -> list[Vm]:
    """The job's VMs: named, or on a listed cluster/host, in a listed folder, or carrying a
    listed tag; a selector never picks a template (a named one is taken). Snapshot order."""
    return (index or VmIndex(snap)).select(job)


class VmIndex:
    """VMs by name, host, cluster, folder and tag: a job's selection costs its own size,
    not a pass over every VM (50 jobs x 100,000 VMs was 8 s)."""

    def __init__(self, snap: Snapshot):
        self.vms = snap.vms
        self._cluster_of = {h.name: h.cluster for h in snap.hosts}
        self._by_name: Optional[dict[str, int]] = None
        self._by: dict[str, dict[str, list[int]]] = {}  # built per kind on first use

    def _index(self, kind: str) -> dict[str, list[int]]:
        idx = self._by.get(kind)
        if idx is not None:
            return idx
        idx = {}
        if kind == "cluster":
            for host, found in self._index("host").items():
                cluster = self._cluster_of.get(host)
                if cluster:
                    idx.setdefault(cluster, []).extend(found)
        else:
            for i, vm in enumerate(self.vms):
                if vm.template:
                    continue
                if kind == "host":
                    idx.setdefault(vm.host, []).append(i)
                elif kind == "folder" and vm.folder is not None:
                    idx.setdefault(vm.folder, []).append(i)
                elif kind == "tag":
                    for t in vm.tags:
                        idx.setdefault(t, []).append(i)
        self._by[kind] = idx
        return idx

    def select(self, job: Job) -> list[Vm]:
        found: set[int] = set()
        if job.vms:
            if self._by_name is None:
                self._by_name = {v.name: i for i, v in enumerate(self.vms)}
            found.update(self._by_name[n] for n in job.vms if n in self._by_name)
        for kind, values in (("host", job.hosts), ("cluster", job.clusters), ("folder", job.folders),
                             ("tag", job.tags)):
            if values:
                idx = self._index(kind)
                for value in values:
                    found.update(idx.get(value, ()))
        return [self.vms[i] for i in sorted(found)]


class VmTracer:
    """Paths per (host, node, job address), traced once and shared by every VM and job."""

    def __init__(self, engine: Engine, paths: Optional[Iterable[Path]] = None):
        self.engine = engine
        snap = engine.snapshot
        self.stores = {d.name: d for d in snap.datastores}
        self.all_nodes = tuple(n.name for n in snap.backup_nodes)
        self.index = VmIndex(snap)
        # Default pairs come from a fleet trace (shape-shared): given, or added per job with
        # ``add``; a pair asked for beyond those is traced on its own.
        self._pairs: dict[tuple[str, str, Optional[str]], Path] = {}
        self._routes: dict[tuple, tuple] = {}
        self.add(paths or ())

    def add(self, paths: Iterable[Path]) -> None:
        for p in paths:
            self._pairs[(p.host, p.node, None)] = p

    def nodes_of(self, job: Optional[Job]) -> tuple[str, ...]:
        return job.nodes if job is not None and job.nodes else self.all_nodes

    def pair(self, host: str, node: str, job: Optional[Job] = None) -> Path:
        address = job.transfer_addresses.get(host) if job is not None else None
        key = (host, node, address)
        p = self._pairs.get(key)
        if p is None:
            p = self._pairs[key] = self.engine.trace_pair(host, node, address, record=False, why=FORKLIFT_WHY)
        return p

    def pairs(self, host: str, nodes: tuple[str, ...], job: Optional[Job] = None) -> list[Path]:
        """``pair`` of ``host`` and each of ``nodes``, in order."""
        address = job.transfer_addresses.get(host) if job is not None else None
        got = self._pairs.get
        found = [got((host, n, address)) for n in nodes]
        if not all(found):  # a pair not traced yet (paths have no __bool__: all() stays in C)
            return [self.pair(host, n, job) for n in nodes]
        return found  # type: ignore[return-value]

    def route(self, vm: Vm, job: Optional[Job] = None) -> VmRoute:
        served_by, hosts, why = serving(self.engine.snapshot, vm, self.stores)
        name = job.name if job is not None else None
        # VMs of one job on the same candidate hosts share their paths, worst and verdict on them.
        key = (name, hosts)
        got = self._routes.get(key)
        if got is None:
            nodes = self.nodes_of(job)
            paths = tuple(self.pair(h, n, job) for h in hosts for n in nodes)
            got = self._routes[key] = (paths, min(paths, key=path_rank) if paths else None, _disagree(hosts, paths))
        paths, worst, disagree = got
        return VmRoute(vm.name, name, served_by, hosts, paths, why, worst, disagree)


def vm_routes(engine: Engine, names: Iterable[str] = (), paths: Optional[Iterable[Path]] = None,
              hosts: Optional[Iterable[str]] = None) -> list[VmRoute]:
    """Every VM (or those named) once per job that reads it; a VM in no job once, to every node.
    With ``hosts`` (a trace narrowed to some hosts), only VMs one of them may serve."""
    snap = engine.snapshot
    wanted = list(dict.fromkeys(names))
    known = {v.name: v for v in snap.vms}
    for n in wanted:
        if n not in known:
            from ..errors import UsageError

            shown = ", ".join(list(known)[:20]) + (", ..." if len(known) > 20 else "")
            raise UsageError(f"no VM {n!r} in snapshot; VMs: {shown or 'none'}")
    keep = set(wanted) if wanted else None
    tracer = VmTracer(engine, paths if paths is not None else engine.trace())
    near = set(hosts) if hosts is not None else None

    def wanted_vm(vm: Vm) -> bool:
        if keep is not None:
            return vm.name in keep
        return near is None or not near.isdisjoint(serving(snap, vm, tracer.stores)[1])

    rows: list[VmRoute] = []
    in_a_job: set[str] = set()
    for job in snap.jobs:
        for vm in tracer.index.select(job):
            in_a_job.add(vm.name)
            if wanted_vm(vm):
                rows.append(tracer.route(vm, job))
    for vm in snap.vms:
        if vm.name not in in_a_job and wanted_vm(vm):
            rows.append(tracer.route(vm))
    return rows
