"""Cross-reference checks that a JSON Schema cannot express.

Each problem is reported as (field path, expected) so the loader can turn it
into an :class:`~nbdpath.errors.InputError` with a line number.
"""

from __future__ import annotations

import ipaddress
from itertools import chain
from operator import attrgetter
from typing import Iterator

from ..safetext import one_line
from .snapshot import Snapshot

Problem = tuple[tuple[str | int, ...], str]


def problems(snap: Snapshot) -> Iterator[Problem]:
    """Yield every cross-reference problem, in document order."""
    dvs_by_name = {d.name: d for d in snap.dvswitches}
    segment_names = {s.name for s in snap.segments}
    owners: dict[str, tuple[str | int, ...]] = {}

    def claim(ip_if: str | None, path: tuple[str | int, ...]) -> Iterator[Problem]:
        if ip_if is None:
            return
        ip = ip_if.split("/")[0]
        if ip in owners:
            yield path, f"a unique IP address; {ip} is already used at {_dotted(owners[ip])}"
        else:
            owners[ip] = path

    yield from _unique([h.name for h in snap.hosts], ("hosts",), "host name")
    yield from _unique([d.name for d in snap.dvswitches], ("dvswitches",), "distributed switch name")
    yield from _unique([s.name for s in snap.segments], ("segments",), "segment name")
    yield from _unique([n.name for n in snap.backup_nodes], ("backup_nodes",), "backup node name")
    yield from _unique([r.name for r in snap.routers], ("routers",), "router name")
    taken = {r.name for r in snap.routers}
    for fi, fw in enumerate(snap.firewalls):
        if fw.name in taken:
            yield ("firewalls", fi, "name"), f"a firewall name used by no other router or firewall; {fw.name!r} is taken"
        taken.add(fw.name)

    for di, vds in enumerate(snap.dvswitches):
        yield from _teaming_refs(vds.teaming, set(vds.uplink_ports), ("dvswitches", di, "teaming"), "uplink port")
        for pi, dvpg in enumerate(vds.portgroups):
            if dvpg.teaming:
                yield from _teaming_refs(
                    dvpg.teaming, set(vds.uplink_ports), ("dvswitches", di, "portgroups", pi, "teaming"), "uplink port"
                )

    # A fleet's hosts share a few configurations: once one host's references are found
    # sound, another with the same configuration only claims its addresses (the same
    # problems, in the same order, since a sound configuration yields none).
    sound: set[tuple] = set()
    for hi, host in enumerate(snap.hosts):
        shape = _host_shape(host)
        if shape in sound:
            for vi, vmk in enumerate(host.vmks):
                if vmk.ipv4 is not None:
                    yield from claim(vmk.ipv4, ("hosts", hi, "vmks", vi, "ipv4"))
            continue
        found = False
        for problem in _host_refs(host, ("hosts", hi), dvs_by_name, segment_names, claim):
            found = True
            yield problem
        if not found:
            sound.add(shape)

    for ni, node in enumerate(snap.backup_nodes):
        yield from _one_default(node.gateway, node.routes, ("backup_nodes", ni), "a node has one default route")
        for ii, iface in enumerate(node.interfaces):
            ip = ("backup_nodes", ni, "interfaces", ii)
            if iface.segment is not None and iface.segment not in segment_names:
                yield ip + ("segment",), f"a segment defined under segments ({_names(segment_names)}), not {iface.segment!r}"
            yield from claim(iface.address, ip + ("address",))
    for ri, router in enumerate(snap.routers):
        for ii, iface in enumerate(router.interfaces):
            ip = ("routers", ri, "interfaces", ii)
            if iface.segment is not None and iface.segment not in segment_names:
                yield ip + ("segment",), f"a segment defined under segments ({_names(segment_names)}), not {iface.segment!r}"
            yield from claim(iface.address, ip + ("address",))
    yield from _vm_refs(snap)
    for name, value in snap.dns.items():
        try:
            ipaddress.ip_address(value)
        except ValueError:
            yield ("dns", name), "an IP address"


def _host_refs(host, hp: tuple[str | int, ...], dvs_by_name: dict, segment_names: set[str], claim) -> Iterator[Problem]:
    """One host's references (pnics, switches, port groups, stacks, segments) and its vmk addresses."""
    pnics = {p.name for p in host.pnics}
    yield from _unique([p.name for p in host.pnics], hp + ("pnics",), "pnic name")
    yield from _unique([v.device for v in host.vmks], hp + ("vmks",), "vmk device")
    yield from _unique([n.key for n in host.netstacks], hp + ("netstacks",), "netstack key")
    for ki, stack in enumerate(host.netstacks):
        yield from _one_default(stack.gateway, stack.routes, hp + ("netstacks", ki),
                                "ESXi keeps one default gateway per netstack")
    used_by: dict[str, str] = {}
    pg_names: dict[str, str] = {}
    for si, vs in enumerate(host.vswitches):
        sp = hp + ("vswitches", si)
        for ui, up in enumerate(vs.uplinks):
            yield from _uplink(sp + ("uplinks", ui), up, pnics, used_by, vs.name)
        yield from _teaming_refs(vs.teaming, set(vs.uplinks), sp + ("teaming",), "uplink of this switch")
        for pi, pg in enumerate(vs.portgroups):
            if pg.name in pg_names:
                yield sp + ("portgroups", pi, "name"), f"a unique port group name; {pg.name!r} is also on {pg_names[pg.name]}"
            pg_names[pg.name] = vs.name
            if pg.teaming:
                yield from _teaming_refs(pg.teaming, set(vs.uplinks), sp + ("portgroups", pi, "teaming"), "uplink of this switch")
    for mi, member in enumerate(host.dvswitches):
        mp = hp + ("dvswitches", mi)
        dvs = dvs_by_name.get(member.switch)
        if dvs is None:
            yield mp + ("switch",), f"a distributed switch defined under dvswitches ({_names(dvs_by_name)}), not {member.switch!r}"
            continue
        for port, vmnic in member.uplinks.items():
            if port not in dvs.uplink_ports:
                yield mp + ("uplinks", port), f"an uplink port of {dvs.name} ({_names(dvs.uplink_ports)})"
            yield from _uplink(mp + ("uplinks", port), vmnic, pnics, used_by, dvs.name)
        for dvpg in dvs.portgroups:
            if dvpg.name in pg_names:
                yield mp + ("switch",), f"port group names unique on the host; {dvpg.name!r} is on {pg_names[dvpg.name]} and {dvs.name}"
            pg_names[dvpg.name] = dvs.name
    stacks = {n.key for n in host.netstacks}
    for vi, vmk in enumerate(host.vmks):
        vp = hp + ("vmks", vi)
        if vmk.portgroup not in pg_names:
            yield vp + ("portgroup",), f"a port group on this host's switches ({_names(pg_names)}), not {vmk.portgroup!r}"
        if vmk.netstack not in stacks:
            yield vp + ("netstack",), f"a netstack listed under this host's netstacks ({_names(stacks)}), not {vmk.netstack!r}"
        if vmk.segment is not None and vmk.segment not in segment_names:
            yield vp + ("segment",), f"a segment defined under segments ({_names(segment_names)}), not {vmk.segment!r}"
        yield from claim(vmk.ipv4, vp + ("ipv4",))



def _uplink(path: tuple[str | int, ...], vmnic: str, pnics: set[str], used_by: dict[str, str],
            switch: str) -> Iterator[Problem]:
    """A switch uplink: a pnic of this host, on no other switch (then recorded as on ``switch``)."""
    if vmnic not in pnics:
        yield path, f"a pnic of this host ({_names(pnics)}), not {vmnic!r}"
    elif vmnic in used_by:
        yield path, f"{vmnic} to be on one switch only; it is already on {used_by[vmnic]}"
    else:
        used_by[vmnic] = switch

def _host_shape(host) -> tuple:
    """Everything _host_refs checks but the vmk addresses (segments and switches outside
    the host are the snapshot's, the same for every host)."""
    return (tuple([p.name for p in host.pnics]), host.vswitches,
            tuple([(m.switch, tuple(m.uplinks.items())) for m in host.dvswitches]),
            tuple([(n.key, n.gateway, n.routes) for n in host.netstacks]),
            tuple([(v.device, v.portgroup, v.netstack, v.segment) for v in host.vmks]))


def _vm_refs(snap: Snapshot) -> Iterator[Problem]:
    """VMs, datastores and jobs name hosts, datastores, nodes and VMs that must exist."""
    hosts = {h.name for h in snap.hosts}
    clusters = {h.cluster for h in snap.hosts if h.cluster}
    stores = {d.name for d in snap.datastores}
    nodes = {n.name for n in snap.backup_nodes}
    vm_names = {v.name for v in snap.vms}
    # 100,000 VMs: whole-list set checks in C first; the per-item walk (which names the
    # first offender's path) runs only when one of them fails.
    if len(vm_names) < len(snap.vms):
        yield from _unique([v.name for v in snap.vms], ("vms",), "VM name")
    yield from _unique([d.name for d in snap.datastores], ("datastores",), "datastore name")
    yield from _unique([j.name for j in snap.jobs], ("jobs",), "job name")
    for di, ds in enumerate(snap.datastores):
        for hi, h in enumerate(ds.hosts):
            if h not in hosts:
                yield ("datastores", di, "hosts", hi), f"a host defined under hosts, not {h!r}"
    refs_ok = hosts.issuperset(map(attrgetter("host"), snap.vms)) and stores.issuperset(
        map(attrgetter("datastore"), chain.from_iterable(map(attrgetter("disks"), snap.vms))))
    for vi, vm in enumerate(() if refs_ok else snap.vms):
        if vm.host not in hosts:
            yield ("vms", vi, "host"), f"a host defined under hosts, not {vm.host!r}"
        for ki, disk in enumerate(vm.disks):
            if disk.datastore not in stores:
                yield ("vms", vi, "disks", ki, "datastore"), (
                    f"a datastore defined under datastores ({_names(stores)}), not {disk.datastore!r}")
    for ji, job in enumerate(snap.jobs):
        jp: tuple[str | int, ...] = ("jobs", ji)
        for field, known, what in (("nodes", nodes, "a backup node defined under backup_nodes"),
                                   ("vms", vm_names, "a VM defined under vms"),
                                   ("clusters", clusters, "a cluster some host belongs to"),
                                   ("hosts", hosts, "a host defined under hosts")):
            for i, ref in enumerate(getattr(job, field)):
                if ref not in known:
                    yield jp + (field, i), f"{what} ({_names(known)}), not {ref!r}"
        for h in job.transfer_addresses:
            if h not in hosts:
                yield jp + ("transfer_addresses", h), f"a host defined under hosts, not {h!r}"


def _one_default(gateway, routes, path: tuple[str | int, ...], why: str) -> Iterator[Problem]:
    """A ``gateway`` is the default route: a static default beside it contradicts it.

    Refused rather than resolved, since the engine and the kernel lab would
    each have to guess which one the device really uses."""
    defaults = [ri for ri, r in enumerate(routes) if r.network in ("0.0.0.0/0", "::/0") and ":" not in r.network]
    if gateway and defaults:
        yield path + ("routes", defaults[0], "network"), (
            f"no default route beside gateway {gateway} ({why}): keep one of them")
    elif len(defaults) > 1:
        yield path + ("routes", defaults[1], "network"), f"one default route, not several ({why})"


def _teaming_refs(teaming, allowed: set[str], path: tuple[str | int, ...], what: str) -> Iterator[Problem]:
    for role in ("active", "standby", "unused"):
        for i, up in enumerate(getattr(teaming, role) or ()):
            if up not in allowed:
                yield path + (role, i), f"an {what} ({_names(allowed)}), not {up!r}"


def _unique(names: list[str], path: tuple[str | int, ...], what: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            yield path + (i, "name" if what != "vmk device" else "device"), f"a unique {what}; {n!r} appears twice"
        seen.add(n)


def _names(items) -> str:
    items = sorted(items)
    return ", ".join(items) if items else "none defined"


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        # A path can hold a refused mapping key: it is echoed escaped, never raw.
        out += f"[{p}]" if isinstance(p, int) else (f".{one_line(p)}" if out else one_line(str(p)))
    return out
