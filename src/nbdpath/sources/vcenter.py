"""Live discovery from vCenter or ESXi, through the vSphere client seam.

Every server is read through a :class:`~nbdpath.sources.vsphere.VsphereClient`
(pyVmomi by default, :mod:`nbdpath.sources.vsphere_fake` in tests): one
read-only session per server, read concurrently; what failed is recorded,
not fatal, while one server answered. Joining several vCenters' answers
into one snapshot is pure (:func:`merge_converted`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..errors import DiscoveryError, SessionLost, SoapFault
from ..io import gc_paused
from ..model import Snapshot, Vcenter
from .vcenter_convert import Converted, unique_names
# The connection settings live with the seam; re-exported: callers have always found them here.
from .vsphere import (  # noqa: F401
    DEFAULT_PAGE_SIZE,
    ConnectOptions,
    Credentials,
    Endpoint,
    VsphereClient,
    default_client,
    server_text,
    tls_context,
)

ProgressFn = Callable[[str, int, Optional[int]], None]  # (vcenter, hosts read, hosts listed)


@dataclass(frozen=True)
class Discovery:
    snapshot: Snapshot
    # What could not be read: "vcenter:<label>" or a host name -> reason.
    missing: dict[str, str]

    @property
    def partial(self) -> bool:
        return bool(self.missing)


def discover_one(ep: Endpoint, creds: Credentials, opts: ConnectOptions, progress: Optional[ProgressFn] = None,
                 client: Optional[VsphereClient] = None) -> Converted:
    session = (client or default_client()).connect(ep, creds, opts)
    try:
        on_page = (lambda done, total: progress(ep.label, done, total)) if progress else None
        return session.read_inventory(on_page)
    except SoapFault as exc:
        raise DiscoveryError(f"{ep.label}: retrieval failed ({server_text(exc)})") from None
    except SessionLost as exc:
        raise DiscoveryError(f"{ep.label}: retrieval stopped: {exc}") from None
    finally:
        session.close()


def discover(
    servers: list[str],
    creds: Credentials,
    opts: ConnectOptions,
    progress: Optional[ProgressFn] = None,
    warn: Callable[[str], None] = lambda msg: None,
    client: Optional[VsphereClient] = None,
) -> Discovery:
    """Read every vCenter concurrently; a vCenter or host that fails is skipped and recorded.

    Raises :class:`DiscoveryError` only when no vCenter could be read at all.
    """
    # The same server given twice is read once.
    endpoints = list({ep.label: ep for ep in (Endpoint.parse(s) for s in servers)}.values())
    results: dict[str, Converted] = {}
    failures: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=min(8, len(endpoints)) or 1) as pool:
        futures = {ep.label: pool.submit(discover_one, ep, creds, opts, progress, client) for ep in endpoints}
        for label, fut in futures.items():
            try:
                results[label] = fut.result()
            except DiscoveryError as exc:
                failures[label] = str(exc)
    if not results:
        raise DiscoveryError("; ".join(failures.values()))
    missing: dict[str, str] = {f"vcenter:{label}": reason for label, reason in failures.items()}
    for label in results:
        for name, reason in results[label].missing.items():
            missing[name] = reason
    labels = [ep.label for ep in endpoints if ep.label in results]
    with gc_paused():  # ~10^5 model objects: a collection pass over them frees nothing
        snap = merge_converted([results[label] for label in labels], labels, missing)
    for key, reason in snap.missing.items():
        warn(f"{key}: {reason}")
    return Discovery(snap, dict(snap.missing))


def merge_converted(parts: list[Converted], vcenters: list[str], missing: dict[str, str]) -> Snapshot:
    """Join several vCenters' hosts and switches into one snapshot.

    Two vCenters often both have a "DSwitch": a same-named switch with other
    settings is renamed "<name> (<vcenter>)" along with its hosts' memberships.
    """
    hosts: list[Any] = []
    dvswitches: dict[str, Any] = {}
    for part, vc in zip(parts, vcenters):
        renames: dict[str, str] = {}
        for d in part.dvswitches:
            if d.name in dvswitches and dvswitches[d.name] != d:
                renames[d.name] = f"{d.name} ({vc})"
                d = d.model_copy(update={"name": renames[d.name]})
            dvswitches[d.name] = d
        for h in part.hosts:
            if renames:
                members = tuple(m.model_copy(update={"switch": renames.get(m.switch, m.switch)}) for m in h.dvswitches)
                h = h.model_copy(update={"dvswitches": members})
            kept = next((x for x in hosts if x.name == h.name), None)
            if kept is not None:
                missing[f"{h.name} ({vc})"] = f"also listed by {kept.vcenter}; kept that one"
                continue
            hosts.append(h)
    vms, datastores = _merge_vms(parts, vcenters)
    return Snapshot(
        name="discovered",
        vcenters=tuple(
            Vcenter(name=v, version=p.vcenter_version) if p.vcenter_version else Vcenter(name=v)
            for p, v in zip(parts, vcenters)
        ),
        hosts=tuple(hosts),
        dvswitches=tuple(dvswitches.values()),
        vms=vms,
        datastores=datastores,
        missing=dict(missing),
    )


def _merge_vms(parts: list[Converted], vcenters: list[str]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Every vCenter's VMs and datastores; a name two vCenters share becomes "NAME (VCENTER)" in both.

    Each vCenter's names are already unique (vcenter_convert.unique_names);
    a renamed datastore is renamed in its own vCenter's disks too.
    """
    stores = [(d, vc) for part, vc in zip(parts, vcenters) for d in part.datastores]
    store_names = unique_names([(d.name, (vc,)) for d, vc in stores])
    renamed: dict[tuple[str, str], str] = {(vc, d.name): n for (d, vc), n in zip(stores, store_names) if n != d.name}
    datastores = tuple(d.model_copy(update={"name": n}) if n != d.name else d for (d, _), n in zip(stores, store_names))
    machines = [(v, vc) for part, vc in zip(parts, vcenters) for v in part.vms]
    vm_names = unique_names([(v.name, (vc,)) for v, vc in machines])
    vms = []
    for (v, vc), name in zip(machines, vm_names):
        update: dict[str, Any] = {"name": name} if name != v.name else {}
        if renamed and any((vc, d.datastore) in renamed for d in v.disks):
            update["disks"] = tuple(d.model_copy(update={"datastore": renamed.get((vc, d.datastore), d.datastore)})
                                    for d in v.disks)
        vms.append(v.model_copy(update=update) if update else v)
    return tuple(vms), datastores
