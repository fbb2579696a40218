"""How long each job's window is, and what binds it. Pure: snapshot in, numbers out.

The model is a fluid one, each step explainable: every disk is one NFC
stream; a job's bytes are spread over its nodes evenly (backup products do
not route by speed); bytes crossing a shared limit share its speed. Each
limit then needs ``bytes through it / its speed``; the window is the longest
of those, and that limit is the bottleneck. Limits:

- ``disk``: one disk is one stream, never faster than the per-stream rate or
  the slowest link of its path;
- ``host-streams``: disks a host serves at once (job per-host concurrency,
  NFC connections, NFC memory) times the stream rate;
- ``node-streams``: the job's per-node concurrency times the stream rate;
- ``uplink``: the host's egress uplink(s) (one per flow for originating
  port / MAC hash / explicit failover, all actives for IP hash / LACP);
- ``node-nic``: the node interface the data arrives on;
- ``router``: a router or firewall with ``capacity_mbps`` on the reply path.

Work is grouped per host and per pair (the engine's paths, shared between
hosts of one shape), never per VM and path: 100,000 VMs cost one pass over
their disks plus one over host x node pairs.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from functools import reduce
from itertools import chain
from operator import add, attrgetter, itemgetter
from typing import Any, Iterable, Iterator, Optional

from ..engine.trace import Engine
from ..engine.teaming import SPREAD_OVER_UPLINKS
from ..engine.types import Path
from ..engine.vms import VmTracer, path_rank, works
from ..model import Job, Snapshot
from .constants import Constants

GIB = 1 << 30
MAX_CRITICAL_VMS = 20
_SPREAD = SPREAD_OVER_UPLINKS
_outcome = attrgetter("outcome")


# Not frozen: a frozen dataclass sets each field through object.__setattr__, 5x the cost of
# a plain one, and a 10,000-host job makes ~500 limits per job (read, never changed).
@dataclass(slots=True)
class Limit:
    kind: str
    where: str
    mbps: float  # the limit's speed (Mb/s): what the bytes through it share
    bytes: float
    seconds: float
    subject: Any = ""  # the VM (disk), host (host-streams), node (node-streams) or a shared limit's key

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "where": self.where, "mbps": round(self.mbps, 1)}


@dataclass
class JobEstimate:
    name: str
    product: str
    transport: str
    mode: str
    duration_s: float
    bytes: int
    disks: int
    bottleneck: Optional[Limit]
    hosts: list[dict[str, Any]]
    nodes: list[dict[str, Any]]
    vms: list[str]  # on the critical path, most bytes first
    unreadable: list[dict[str, str]]
    limits: list[Limit] = field(default_factory=list)  # the longest few, longest first
    warnings: list[str] = field(default_factory=list)  # e.g. a job that reads nothing, and why

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "product": self.product, "transport": self.transport, "mode": self.mode,
            "duration_s": round(self.duration_s, 1), "bytes": self.bytes, "disks": self.disks,
            "bottleneck": self.bottleneck.to_dict() if self.bottleneck else None,
            "hosts": self.hosts, "nodes": self.nodes, "vms": self.vms, "unreadable": self.unreadable,
            "limits": [{**lim.to_dict(), "seconds": round(lim.seconds, 1)} for lim in self.limits],
            "warnings": self.warnings,
        }


def _seconds(nbytes: float, mbps: float) -> float:
    return nbytes * 8 / (mbps * 1e6) if mbps > 0 else float("inf")


@dataclass(slots=True)
class _HostLoad:
    bytes: float
    parts: list[list[float]]  # per VM, the sizes of its disks this host serves
    disks: int
    largest: tuple[float, str]  # the largest disk, and the first VM with one that large
    vms: dict[str, float]  # VM -> bytes through this host


def _host_load(names: list[str], parts: list[list[float]]) -> _HostLoad:
    totals = list(map(sum, parts))
    # Added in the VMs' order, as a running total would: the same float whatever sum() does.
    nbytes = reduce(add, totals, 0.0)
    bigs = list(map(max, parts))
    big = max(bigs)
    return _HostLoad(nbytes, parts, sum(map(len, parts)), (big, names[bigs.index(big)]), dict(zip(names, totals)))


@dataclass(slots=True)
class _Acc:
    """One job's running totals while its hosts are walked."""

    shared: dict[tuple, list] = field(default_factory=dict)  # key -> [tag, where, mbps, bytes, hosts using it]
    limits: list[Limit] = field(default_factory=list)
    host_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    node_bytes: dict[str, float] = field(default_factory=dict)
    node_hosts: dict[str, list[str]] = field(default_factory=dict)
    streams: dict[tuple[str, ...], list[float]] = field(default_factory=dict)  # nodes -> seconds on one stream
    moved: float = 0.0


@dataclass(frozen=True, slots=True)
class _Profile:
    """What a host's paths to a job's nodes contribute to the limits, the same for every
    host whose paths share their outcomes (one shape): worked out once per shape."""

    reachable: tuple[str, ...]  # the nodes with a working path, in the job's order
    rate: float  # one stream's speed (Mb/s): the stream rate or the slowest path's ceiling
    # The host's own uplinks its paths leave by, first use first: (name, how they are shared,
    # Mb/s, how many of the paths use it); each path's share of the host's bytes crosses it.
    uplinks: tuple[tuple[str, str, float, int], ...]
    # Per reachable node, the limits shared with other hosts it crosses, each (key, where,
    # Mb/s): its NIC, then its routers.
    legs: tuple[tuple[str, tuple[tuple[tuple, str, float], ...]], ...]


class _ServingHosts(dict):
    """Datastore -> the host serving its disks for one job, worked out on first use."""

    def __init__(self, est: "Estimator", job: Job):
        super().__init__()
        self.est, self.job = est, job

    def __missing__(self, datastore: str) -> Optional[str]:
        got = self[datastore] = self.est._serving_host(self.job, datastore)
        return got


class Estimator:
    """Estimates jobs of one snapshot; paths and per-pair work shared between jobs."""

    def __init__(self, snap: Snapshot, constants: Constants = Constants(), engine: Optional[Engine] = None,
                 paths: Optional[Iterable[Path]] = None):
        self.snap = snap
        self.c = constants
        # The estimate reads each pair's traced outcome only, never its alternatives (the other
        # reading of each assumption, which trace and check report): not computing them saves
        # a re-trace per shape and assumption (0.4 s of a 10,000-host estimate, measured).
        self.engine = engine or Engine(snap, alternatives=False)
        self.tracer = VmTracer(self.engine, paths)
        self._shapes: dict[tuple[int, str], tuple] = {}
        self._profiles: dict[tuple, _Profile] = {}
        self._versions = {h.name: h.version_tuple for h in snap.hosts}
        self._selected: dict[str, list] = {}
        self._streams_cap: dict[tuple[str, tuple[int, ...]], tuple[int, str]] = {}

    def selected(self, job: Job) -> list:
        got = self._selected.get(job.name)
        if got is None:
            got = self._selected[job.name] = self.tracer.index.select(job)
        return got

    def prepare(self, jobs: Iterable[Job]) -> None:
        """Trace only the pairs the jobs read (their hosts x their nodes), shape-shared: a
        fleet of 10,000 hosts x 16 nodes whose jobs use 4 nodes each traces a quarter of it."""
        groups: dict[tuple[str, ...], set[str]] = {}
        stores = self.tracer.stores
        for job in jobs:
            hosts: set[str] = set()
            datastores: set[str] = set()
            for vm in self.selected(job):
                if vm.power_state == "poweredOn" and not vm.template:
                    hosts.add(vm.host)
                    continue
                for d in vm.disks:
                    datastores.add(d.datastore)
            for name in datastores:  # each once, not once per disk on it
                ds = stores.get(name)
                if ds is not None and ds.accessible:
                    hosts.update(ds.hosts)
            hosts.difference_update(job.transfer_addresses)  # traced to the job's own address instead
            groups.setdefault(self.tracer.nodes_of(job), set()).update(hosts)
        for nodes, hosts in groups.items():
            if nodes and hosts:
                self.tracer.add(self.engine.trace(hosts, nodes))

    def _profile(self, job: Job, pairs: list[Path]) -> _Profile:
        # Keyed by the outcomes themselves (kept alive by the tracer's pairs), in the job's node
        # order: hosts of one shape share them, so 10,000 hosts cost a few hundred profiles.
        key = (job.name, *map(id, map(_outcome, pairs)))
        got = self._profiles.get(key)
        if got is None:
            got = self._profiles[key] = self._new_profile(job, [p for p in pairs if works(p)])
        return got

    def _new_profile(self, job: Job, ok: list[Path]) -> _Profile:
        shapes = []
        for p in ok:
            shape = self._shapes.get((id(p.outcome), p.node))
            if shape is None:
                shape = self._shapes[(id(p.outcome), p.node)] = self._shape(p)
            shapes.append(shape)
        rate = min(self.c.stream_mbps(job.transport), min((sh[0] for sh in shapes), default=float("inf")))
        uplinks: dict[str, list] = {}
        for _, up, _, _ in shapes:
            if up is not None:
                uplinks.setdefault(up[0], [up[0], up[1], up[2], 0])[3] += 1
        legs = tuple((p.node, ((nic,) if nic is not None else ()) + routers)
                     for p, (_, _, nic, routers) in zip(ok, shapes))
        return _Profile(tuple(p.node for p in ok), rate, tuple(map(tuple, uplinks.values())), legs)

    def _shape(self, p: Path) -> tuple:
        eff = self.c.link_efficiency
        o = p.outcome
        single = o.bottleneck_mbps * eff if o.bottleneck_mbps else float("inf")
        up = None
        speeds = [u.speed_mbps for u in o.egress_uplinks if u.speed_mbps]
        if speeds:
            spread = o.uplink_policy in _SPREAD
            how = "flows spread" if spread else "one uplink carries them"
            up = ("+".join(u.name for u in o.egress_uplinks), f"{how}: {o.uplink_policy}",
                  (sum(speeds) if spread else min(speeds)) * eff)
        nic = None
        nd = self.engine.network.nodes.get(p.node)
        iface = nd.ifaces.get(o.node_interface) if nd is not None and o.node_interface else None
        if iface is not None and iface.speed_mbps:
            nic = (("n", p.node, iface.name), f"{p.node} {iface.name}", iface.speed_mbps * eff)
        routers = []
        for r in dict.fromkeys(o.reply_devices):
            dev = self.engine.network.routers.get(r)
            cap = getattr(dev, "capacity_mbps", None)
            if cap:
                routers.append((("r", r), f"{getattr(dev, 'kind', 'router')} {r}", cap * eff))
        return single, up, nic, tuple(routers)

    def _host_streams(self, job: Job, host: str) -> tuple[int, str]:
        # Per job and ESXi version, not per host: 10,000 hosts run a handful of versions.
        key = (job.name, self._versions[host])
        got = self._streams_cap.get(key)
        if got is None:
            got = self._streams_cap[key] = self._streams_for(job, key[1])
        return got

    def _streams_for(self, job: Job, version: tuple[int, ...]) -> tuple[int, str]:
        nfc = self.c.nfc_streams(version)
        cap, why = nfc, f"{nfc} NFC streams (ESXi {'.'.join(map(str, version))} NFC memory / connections)"
        own = job.concurrency.per_host
        if own is None and job.product == "forklift":
            own = int(self.c.forklift_nfc_per_host)
            if own < cap:
                return own, f"{own} NFC connections (Forklift/MTV default per host)"
        if own is not None and own < cap:
            return own, f"{own} disks at once (job per-host concurrency)"
        return cap, why

    def _serving_host(self, job: Job, datastore: str) -> Optional[str]:
        """For a disk not read through its VM's host: the worst candidate (which
        host vCenter picks first is not observable; the estimate assumes the worst)."""
        ds = self.tracer.stores.get(datastore)
        hosts = ds.hosts if ds is not None and ds.accessible else ()
        nodes = self.tracer.nodes_of(job)
        best = None
        best_rank = None
        for h in hosts:
            rank = min(map(path_rank, self.tracer.pairs(h, nodes, job)), default=None)
            if rank is not None and (best_rank is None or rank < best_rank):
                best, best_rank = h, rank
        return best

    def _through_datastores(self, vm: Any, sizes: list[float], serving: "_ServingHosts",
                            unreadable: list) -> Iterable[tuple[str, list[float]]]:
        """A VM not read through its own host: its disks' bytes per serving host; a VM with a
        disk no host can serve goes to ``unreadable`` whole (a job reads a VM or fails it)."""
        hosts = [serving[d.datastore] for d in vm.disks]
        first = hosts[0]
        if first is not None and hosts.count(first) == len(hosts):
            return ((first, sizes),)  # the usual VM: its disks on one datastore, or one host serving them
        gone = next((d.datastore for d, h in zip(vm.disks, hosts) if h is None), None)
        if gone is not None:
            unreadable.append({"vm": vm.name, "reason": f"no host mounts datastore {gone} read-write "
                                                        "(or it is inaccessible)"})
            return ()
        by_host: dict[str, list[float]] = {}
        for h, b in zip(hosts, sizes):
            by_host.setdefault(h or "", []).append(b)  # every h is a host here (checked above)
        return by_host.items()

    def job(self, job: Job) -> JobEstimate:
        unreadable: list[dict[str, str]] = []
        acc = _Acc()
        loads = self._loads(job, unreadable)
        for h, load in loads.items():
            self._host(job, h, load, acc, unreadable)
        nics = self._shared(acc)
        node_rows = self._nodes(job, acc, nics)
        hosts_out = []
        for row in acc.host_rows.values():
            lim = row.pop("_limit")
            hosts_out.append({**row, "duration_s": round(lim.seconds, 1), "bottleneck": lim.to_dict()})
        hosts_out.sort(key=lambda r: (-r["duration_s"], r["name"]))
        limits = sorted(acc.limits, key=lambda lim: (-lim.seconds, lim.kind, lim.where))
        top = limits[0] if limits else None
        critical = self._critical(limits, acc.shared, {h: load.vms for h, load in loads.items()}, acc.node_hosts)
        disks = sum(r["disks"] for r in hosts_out)
        return JobEstimate(
            job.name, job.product, job.transport, job.mode, top.seconds if top else 0.0, int(acc.moved),
            disks, top, hosts_out, node_rows, critical, unreadable, limits[:8],
            [] if disks or unreadable else [self._reads_nothing(job)])

    def _reads_nothing(self, job: Job) -> str:
        """Why a job reads no disk: a window of 0 s must not pass for a fast one."""
        why = ("its VMs have no disks" if self.selected(job)
               else "no VM (templates aside) matches its vms, clusters, hosts, folders or tags")
        if job.tags and not any(v.tags for v in self.snap.vms):
            why += ("; no VM of the snapshot carries a tag: discover reads them from vCenter's Automation API "
                    "(the snapshot's missing says why when it could not), or give them under vms[].tags")
        return f"reads nothing: {why}"

    def _loads(self, job: Job, unreadable: list) -> dict[str, "_HostLoad"]:
        """What each serving host sends for the job, hosts in the order the VMs first reach them."""
        # One pass that only sorts each VM's disk sizes under its serving host (a list append,
        # no per-VM objects); the sums and maxima are then taken per host by C builtins.
        by_host: dict[str, tuple[list[str], list[list[float]]]] = {}
        get = by_host.get
        serving = _ServingHosts(self, job)
        full = job.mode == "full"
        frac = job.changed_fraction
        for vm in self.selected(job):
            disks = vm.disks
            if not disks:
                continue
            if full:
                sizes = [d.capacity_gib * GIB for d in disks]
            else:
                sizes = [(d.changed_gib if d.changed_gib is not None else d.capacity_gib * frac) * GIB for d in disks]
            # A powered-on VM is read through its own host; any other through its datastores' hosts.
            served = (((vm.host, sizes),) if vm.power_state == "poweredOn" and not vm.template
                      else self._through_datastores(vm, sizes, serving, unreadable))
            for h, part in served:
                got = get(h)
                if got is None:
                    got = by_host[h] = ([], [])
                got[0].append(vm.name)
                got[1].append(part)
        return {h: _host_load(names, parts) for h, (names, parts) in by_host.items()}

    def _host(self, job: Job, h: str, load: "_HostLoad", acc: "_Acc", unreadable: list) -> None:
        """One host's own limits, and its share of the links, node NICs and routers it uses."""
        pairs = self.tracer.pairs(h, self.tracer.nodes_of(job), job)
        prof = self._profile(job, pairs)
        reachable = prof.reachable
        if not reachable:
            why = min(pairs, key=path_rank).outcome.verdict_reason if pairs else "the job has no backup node"
            unreadable.extend({"vm": v, "reason": f"{h}: {why}"} for v in load.vms)
            return
        nbytes = load.bytes
        acc.moved += nbytes
        share = nbytes / len(reachable)
        rate = prof.rate
        largest, big_vm = load.largest
        disks = load.disks
        k, why = self._host_streams(job, h)
        if disks < k:
            k, why = disks, f"its {disks} disk(s) at once (cap: {why})"
        disk = Limit("disk", f"{big_vm} on {h} (one stream)", rate, largest, _seconds(largest, rate), big_vm)
        streams = Limit("host-streams", f"{h}: {why}", k * rate, nbytes, _seconds(nbytes, k * rate), h)
        per_byte = _seconds(1.0, rate)
        waves = acc.streams.get(reachable)
        if waves is None:
            waves = acc.streams[reachable] = []
        waves.extend(map(per_byte.__mul__, chain.from_iterable(load.parts)))
        node_bytes, node_hosts, shared = acc.node_bytes, acc.node_hosts, acc.shared
        for name, how, mbps, paths in prof.uplinks:
            # The host's own: no other host adds to it. Added path by path, as the shares cross it.
            shared[("u", h, name)] = ["u", f"{h} {name} ({how})", mbps, reduce(add, [share] * paths, 0.0), [h] * paths]
        for node, crossed in prof.legs:
            node_bytes[node] = node_bytes.get(node, 0.0) + share
            node_hosts.setdefault(node, []).append(h)
            for key, where, mbps in crossed:
                slot = shared.get(key)
                if slot is None:
                    slot = shared[key] = [key[0], where, mbps, 0.0, []]
                slot[3] += share
                slot[4].append(h)
        acc.limits += (disk, streams)
        acc.host_rows[h] = {"name": h, "bytes": int(nbytes), "disks": disks, "nodes": list(reachable),
                            "_limit": streams if streams.seconds > disk.seconds else disk}

    def _shared(self, acc: "_Acc") -> dict[tuple, Limit]:
        """Uplinks, node NICs and routers as limits; an uplink is its host's limit too. Returns the NICs."""
        kinds = {"u": "uplink", "n": "node-nic", "r": "router"}
        nics: dict[tuple, Limit] = {}
        for key, (tag, where, mbps, nbytes, hosts) in acc.shared.items():
            lim = Limit(kinds[tag], where, mbps, nbytes, _seconds(nbytes, mbps), key)
            acc.limits.append(lim)
            if tag == "n":
                nics[key] = lim
            elif tag == "u" and lim.seconds > acc.host_rows[hosts[0]]["_limit"].seconds:
                acc.host_rows[hosts[0]]["_limit"] = lim
        return nics

    def _nodes(self, job: Job, acc: "_Acc", nics: dict[tuple, Limit]) -> list[dict[str, Any]]:
        """Each node's schedule of whole disks (waves) as a limit, and the node's row."""
        rows = []
        k = job.concurrency.per_node
        waves = _waves(acc.streams, k)
        stream = self.c.stream_mbps(job.transport)
        for n in self.tracer.nodes_of(job):
            if n not in acc.node_bytes:
                continue
            makespan, count = waves.get(n, (0.0, 0))
            why = f"{k} disks at once (job per-node concurrency), the next when a slot frees, largest first"
            if count <= k:
                why = f"its {count} disk(s) at once (cap: {k}, job per-node concurrency)"
            lim = Limit("node-streams", f"{n}: {why}", min(k, max(count, 1)) * stream, acc.node_bytes[n], makespan, n)
            acc.limits.append(lim)
            nic = max((s for key, s in nics.items() if key[1] == n), key=lambda s: s.seconds, default=None)
            best = lim if nic is None or lim.seconds >= nic.seconds else nic
            rows.append({"name": n, "bytes": int(acc.node_bytes[n]), "duration_s": round(best.seconds, 1),
                         "bottleneck": best.to_dict()})
        return rows

    def _critical(self, limits: list[Limit], shared: dict, host_vms: dict, node_hosts: dict) -> list[str]:
        """The VMs whose bytes go through the binding limit (every limit tied with it), most first."""
        if not limits:
            return []
        longest = limits[0].seconds
        hosts: list[str] = []
        disks: list[str] = []
        for lim in limits:
            if lim.seconds < longest * (1 - 1e-9):
                break
            if lim.kind == "disk":
                disks.append(lim.subject)
            elif lim.kind == "host-streams":
                hosts.append(lim.subject)
            elif lim.kind == "node-streams":
                hosts += node_hosts.get(lim.subject, [])
            else:
                hosts += shared[lim.subject][4]
        weights: dict[str, float] = {}
        for h in dict.fromkeys(hosts):
            vms = host_vms.get(h)
            if not vms:
                continue
            if weights.keys().isdisjoint(vms):
                weights.update(vms)  # the usual host: VMs no other host serves (0.0 + b is b)
                continue
            for vm, b in vms.items():
                weights[vm] = weights.get(vm, 0.0) + b
        for vm in disks:  # a single disk's VM leads: nothing else shortens that limit
            weights[vm] = float("inf")
        return _heaviest(weights, MAX_CRITICAL_VMS)


def _heaviest(weights: dict[str, float], n: int) -> list[str]:
    """The ``n`` heaviest, heaviest first, a tie by name: ``sorted`` of (-weight, name), cut at
    ``n``. Only those at least as heavy as the n-th weight can be among them, found by
    sorting the bare floats in C (a node's limit can cover 100,000 VMs)."""
    if n <= 0:
        return []
    if len(weights) > n:
        cut = sorted(weights.values(), reverse=True)[n - 1]
        ranked = [(-b, vm) for vm, b in weights.items() if b >= cut]
    else:
        ranked = [(-b, vm) for vm, b in weights.items()]
    ranked.sort()
    return [vm for _, vm in ranked[:n]]


def _waves(streams: dict[tuple[str, ...], list[float]], slots: int) -> dict[str, tuple[float, int]]:
    """Node -> (when its last disk ends, disks it reads): every node runs ``slots`` disks at
    once and starts the next, largest first, on the node (of those reaching its host) whose
    slot frees first. Largest first is the kindest order; a product's own order is later.
    ``streams``: each disk's seconds on one stream, by the nodes that reach its host."""
    if len(streams) == 1:
        [(nodes, seconds)] = streams.items()
        return _waves_one_choice(nodes, seconds, slots)
    free: dict[str, list[float]] = {}  # node -> a heap of when each slot frees
    choices: dict[tuple[str, ...], list[list[float]]] = {}
    count: dict[int, int] = {}
    first = itemgetter(0)
    for disk_s, nodes in sorted(((s, nodes) for nodes, ss in streams.items() for s in ss), reverse=True):
        heaps = choices.get(nodes)
        if heaps is None:
            heaps = choices[nodes] = [free.setdefault(n, [0.0] * slots) for n in nodes]
        heap: list[float] = heaps[0] if len(heaps) == 1 else min(heaps, key=first)
        heapq.heapreplace(heap, heap[0] + disk_s)
        count[id(heap)] = count.get(id(heap), 0) + 1
    return {n: (max(heap), count.get(id(heap), 0)) for n, heap in free.items()}


def _waves_one_choice(nodes: tuple[str, ...], seconds: list[float], slots: int) -> dict[str, tuple[float, int]]:
    """``_waves`` when every disk may go to the same nodes (the usual job): one heap of
    (when a slot frees, node index) holds every slot, so picking the first-freeing slot,
    earlier node on a tie, is one heap operation on floats sorted in C (200,000 disks:
    0.6 -> 0.2 s). Same schedule, same sums."""
    if not seconds:
        return {}
    seconds = sorted(seconds, reverse=True)
    if len(nodes) == 1:
        heap = [0.0] * slots
        for s in seconds:
            heapq.heapreplace(heap, heap[0] + s)
        return {nodes[0]: (max(heap), len(seconds))}
    slots_heap = [(0.0, i) for i in range(len(nodes)) for _ in range(slots)]
    count = [0] * len(nodes)
    for s in seconds:
        t, i = slots_heap[0]
        heapq.heapreplace(slots_heap, (t + s, i))
        count[i] += 1
    ends = [0.0] * len(nodes)
    for t, i in slots_heap:
        if t > ends[i]:
            ends[i] = t
    return {n: (ends[i], count[i]) for i, n in enumerate(nodes)}


def estimate(snap: Snapshot, constants: Constants = Constants(), jobs: Iterable[str] = (),
             engine: Optional[Engine] = None, paths: Optional[Iterable[Path]] = None) -> list[JobEstimate]:
    """Every job of ``snap`` (or those named), in snapshot order."""
    wanted = list(dict.fromkeys(jobs))
    known = [j.name for j in snap.jobs]
    for name in wanted:
        if name not in known:
            from ..errors import UsageError

            raise UsageError(f"no job {name!r} in snapshot; jobs: {', '.join(known) or 'none'}")
    est = Estimator(snap, constants, engine, paths)
    keep = set(wanted)
    chosen = [j for j in snap.jobs if not keep or j.name in keep]
    if paths is None:
        est.prepare(chosen)
    return [est.job(j) for j in chosen]


def compare(before: Snapshot, after: Snapshot, constants: Constants = Constants(),
            before_paths: Optional[Iterable[Path]] = None, after_paths: Optional[Iterable[Path]] = None
            ) -> list[dict[str, Any]]:
    """Each job's window before and after a change (``plan``, the esxcli what-if); ``before_paths``,
    ``after_paths``: every pair of each, traced already (the plan's own: two fleet traces fewer)."""
    if not before.jobs:
        return []
    old = {e.name: e for e in estimate(before, constants, paths=before_paths)}
    new = {e.name: e for e in estimate(after, constants, paths=after_paths)} if after.jobs else {}
    out = []
    for name, b in old.items():
        a = new.get(name)
        out.append({
            "job": name, "before_s": round(b.duration_s, 1), "after_s": None if a is None else round(a.duration_s, 1),
            "before_bottleneck": b.bottleneck.to_dict() if b.bottleneck else None,
            "after_bottleneck": a.bottleneck.to_dict() if a is not None and a.bottleneck else None,
        })
    return out
