"""Live discovery from vCenter or ESXi over the vSphere API (pyVmomi).

The one seam to the outside world is :func:`connect`; everything after it is
read-only. Per vCenter: one ContainerView over hosts, distributed switches,
their port groups and clusters, one PropertyCollector ``RetrievePropertiesEx``
paged with ``ContinueRetrievePropertiesEx``, ``DestroyView`` at the end. No
per-host property walks (each attribute access would be a round trip).
Conversion to the model is pure, in :mod:`nbdpath.sources.vcenter_convert`.
"""

from __future__ import annotations

import contextlib
import gc
import http.client
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional
from urllib.parse import urlsplit

from ..errors import NbdpathError
from ..model import Snapshot, Vcenter
from .soapxml import SoapFault, XmlData, as_list, invoke, moref_id
from .vcenter_convert import (
    CLUSTER_PROPERTIES,
    DVPG_PROPERTIES,
    DVS_PROPERTIES,
    HOST_PROPERTIES,
    Converted,
    Inventory,
    convert,
)

DEFAULT_PAGE_SIZE = 250


class DiscoveryError(NbdpathError):
    """A vCenter could not be read at all (unreachable, refused, cut off)."""


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)  # never printed, never logged


@dataclass(frozen=True)
class ConnectOptions:
    ca_file: Optional[str] = None
    insecure: bool = False
    timeout_s: float = 60.0
    page_size: int = DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    label: str  # as the user wrote it; names the vCenter in messages and the snapshot

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        raw = text.strip()
        parts = urlsplit(raw if "://" in raw else f"https://{raw}")
        if not parts.hostname:
            raise DiscoveryError(f"--server {text!r}: expected a host name, IP or https://host[:port]")
        try:
            port = parts.port or 443
        except ValueError:
            raise DiscoveryError(f"--server {text!r}: expected a numeric port") from None
        label = parts.hostname if port == 443 else f"{parts.hostname}:{port}"
        return cls(parts.hostname, port, label)


ProgressFn = Callable[[str, int, Optional[int]], None]  # (vcenter, hosts read, hosts listed)


@dataclass(frozen=True)
class Discovery:
    snapshot: Snapshot
    # What could not be read: "vcenter:<label>" or a host name -> reason.
    missing: dict[str, str]

    @property
    def partial(self) -> bool:
        return bool(self.missing)


def _ssl_context(opts: ConnectOptions) -> ssl.SSLContext:
    if opts.insecure:
        ctx = ssl._create_unverified_context()  # explicit --insecure only
        return ctx
    ctx = ssl.create_default_context(cafile=opts.ca_file)
    return ctx


def connect(ep: Endpoint, creds: Credentials, opts: ConnectOptions) -> Any:
    """Log in; returns a pyVmomi ServiceInstance. Maps failures to DiscoveryError."""
    from pyVim.connect import SmartConnect
    from pyVmomi import vim

    try:
        return SmartConnect(
            host=ep.host,
            port=ep.port,
            user=creds.user,
            pwd=creds.password,
            sslContext=_ssl_context(opts),
            httpConnectionTimeout=opts.timeout_s,
        )
    except vim.fault.InvalidLogin:
        raise DiscoveryError(f"{ep.label}: the user name or password was refused") from None
    except Exception as exc:
        raise DiscoveryError(f"{ep.label}: {_describe(exc, opts)}") from None


def _describe(exc: BaseException, opts: ConnectOptions) -> str:
    """One line for a low-level failure; never includes credentials."""
    cert = _find(exc, ssl.SSLCertVerificationError)
    if cert is not None:
        hint = "use --ca-file with the vCenter's CA certificate, or --insecure to skip verification"
        return f"TLS certificate not accepted ({cert.verify_message or cert.reason}); {hint}"
    if _find(exc, ssl.SSLError) is not None:
        return f"TLS handshake failed ({_find(exc, ssl.SSLError)})"
    if _find(exc, ConnectionRefusedError) is not None:
        return "connection refused (is it a vCenter/ESXi address, right port?)"
    if _find(exc, socket.timeout) is not None or _find(exc, TimeoutError) is not None:
        return f"no answer within {opts.timeout_s:g} s"
    if _find(exc, socket.gaierror) is not None:
        return f"cannot resolve the name ({_find(exc, socket.gaierror)})"
    if _find(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.IncompleteRead)):
        return "the server closed the connection"
    if _find(exc, OSError) is not None:
        err = _find(exc, OSError)
        return f"unreachable ({getattr(err, 'strerror', None) or err})"
    msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {msg}"


def _find(exc: BaseException | None, kind: Any) -> Any:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def retrieve(si: Any, label: str, page_size: int = DEFAULT_PAGE_SIZE, on_page: Optional[Callable[[int, Optional[int]], None]] = None) -> Inventory:
    """One paged PropertyCollector retrieval over a ContainerView."""
    from pyVmomi import vim, vmodl

    content = si.RetrieveContent()
    kinds = [vim.HostSystem, vim.DistributedVirtualSwitch, vim.dvs.DistributedVirtualPortgroup, vim.ClusterComputeResource]
    view = content.viewManager.CreateContainerView(content.rootFolder, kinds, True)
    try:
        pc = vmodl.query.PropertyCollector
        spec = pc.FilterSpec(
            objectSet=[
                pc.ObjectSpec(
                    obj=view,
                    skip=False,  # its own "view" lists every host, to notice one vanishing
                    selectSet=[pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)],
                )
            ],
            propSet=[
                pc.PropertySpec(type=vim.view.ContainerView, pathSet=["view"]),
                pc.PropertySpec(type=vim.HostSystem, pathSet=list(HOST_PROPERTIES)),
                pc.PropertySpec(type=vim.DistributedVirtualSwitch, pathSet=list(DVS_PROPERTIES)),
                pc.PropertySpec(type=vim.dvs.DistributedVirtualPortgroup, pathSet=list(DVPG_PROPERTIES)),
                pc.PropertySpec(type=vim.ClusterComputeResource, pathSet=list(CLUSTER_PROPERTIES)),
            ],
            reportMissingObjectsInResults=True,
        )
        collector = content.propertyCollector
        hosts: dict[str, dict[str, Any]] = {}
        dvs: dict[str, dict[str, Any]] = {}
        dvpg: dict[str, dict[str, Any]] = {}
        clusters: dict[str, dict[str, Any]] = {}
        faults: dict[str, str] = {}
        listed: list[str] = []
        by_kind = {"HostSystem": hosts, "ClusterComputeResource": clusters, "DistributedVirtualPortgroup": dvpg}

        def take(result: XmlData) -> Optional[str]:
            for oc in as_list(result.objects):
                kind, moid = oc.obj.mo_type, moref_id(oc.obj) or ""
                props = {p.name: p.val for p in as_list(oc.propSet)}
                if kind == "ContainerView":
                    refs = props.get("view")
                    refs = as_list(refs.ManagedObjectReference) if isinstance(refs, XmlData) else []
                    listed.extend(moref_id(r) or "" for r in refs if r.mo_type == "HostSystem")
                    continue
                target = by_kind.get(kind)
                if target is None and kind and "DistributedVirtualSwitch" in kind:
                    target = dvs
                if target is None:
                    continue
                target[moid] = props
                for missing in as_list(oc.missingSet):
                    if kind == "HostSystem":
                        # MissingProperty.fault is a LocalizedMethodFault; its .fault names the kind.
                        fault = missing.fault.fault if isinstance(missing.fault, XmlData) else None
                        name = (fault.xsi_type if isinstance(fault, XmlData) else None) or "fault"
                        faults[moid] = f"property {missing.path} not returned ({name})"
            if on_page is not None:
                on_page(len(hosts), len(listed) or None)
            return result.token or None

        # pyVmomi serialises the request; the (large) answer is read by soapxml.
        token = take(invoke(collector, "RetrievePropertiesEx", [spec], pc.RetrieveOptions(maxObjects=page_size)))
        while token:
            token = take(invoke(collector, "ContinueRetrievePropertiesEx", token))
    finally:
        try:
            view.DestroyView()
        except Exception:  # the connection may be gone; the first error is the one to report
            pass
    return Inventory(
        vcenter=label, hosts=hosts, dvswitches=dvs, dvportgroups=dvpg, clusters=clusters,
        listed_hosts=tuple(listed), faults=faults,
        vcenter_version=getattr(getattr(content, "about", None), "version", None),
    )


def discover_one(ep: Endpoint, creds: Credentials, opts: ConnectOptions, progress: Optional[ProgressFn] = None) -> Converted:
    from pyVim.connect import Disconnect
    from pyVmomi import vmodl

    si = connect(ep, creds, opts)
    try:
        on_page = (lambda done, total: progress(ep.label, done, total)) if progress else None
        with _gc_paused():
            inv = retrieve(si, ep.label, opts.page_size, on_page)
            converted = convert(inv)
    except DiscoveryError:
        raise
    except vmodl.MethodFault as exc:
        raise DiscoveryError(f"{ep.label}: retrieval failed ({type(exc).__name__}: {getattr(exc, 'msg', '')})") from None
    except SoapFault as exc:
        raise DiscoveryError(f"{ep.label}: retrieval failed ({exc})") from None
    except Exception as exc:
        raise DiscoveryError(f"{ep.label}: retrieval stopped: {_describe(exc, opts)}") from None
    finally:
        try:
            Disconnect(si)
        except Exception:
            pass
    return converted


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building ~10^6 short-lived tree nodes.

    Reading 1,000 hosts creates ~550k XML elements that hold no cycles; the
    collector's full passes over them tripled the parse time in measurements
    (0.03 s -> 0.2-0.6 s per page). Reference counting still frees them.
    """
    global _gc_pausers
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled[0] = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            # Several vCenters are read in threads: the last one out restores it.
            if _gc_pausers == 0 and _gc_was_enabled[0]:
                gc.enable()


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = [True]


def discover(
    servers: list[str],
    creds: Credentials,
    opts: ConnectOptions,
    progress: Optional[ProgressFn] = None,
    warn: Callable[[str], None] = lambda msg: None,
) -> Discovery:
    """Read every vCenter concurrently; a vCenter or host that fails is skipped and recorded.

    Raises :class:`DiscoveryError` only when no vCenter could be read at all.
    """
    # The same server given twice is read once.
    endpoints = list({ep.label: ep for ep in (Endpoint.parse(s) for s in servers)}.values())
    results: dict[str, Converted] = {}
    failures: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=min(8, len(endpoints)) or 1) as pool:
        futures = {ep.label: pool.submit(discover_one, ep, creds, opts, progress) for ep in endpoints}
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
    return Snapshot(
        name="discovered",
        vcenters=tuple(
            Vcenter(name=v, version=p.vcenter_version) if p.vcenter_version else Vcenter(name=v)
            for p, v in zip(parts, vcenters)
        ),
        hosts=tuple(hosts),
        dvswitches=tuple(dvswitches.values()),
        missing=dict(missing),
    )
