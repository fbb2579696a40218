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
import ipaddress
import os
import re
import socket
import ssl
import stat
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from ..errors import DiscoveryError, InputError
from ..safetext import is_safe_name, one_line
from ..model import Snapshot, Vcenter
from .soapxml import NON_DISK_DEVICES, SoapFault, XmlData, as_list, moref_id, object_contents, retrieve_pages
from .vcenter_convert import (
    CLUSTER_PROPERTIES,
    DATASTORE_PROPERTIES,
    DVPG_PROPERTIES,
    DVS_PROPERTIES,
    FOLDER_PROPERTIES,
    HOST_PROPERTIES,
    VM_PROPERTIES,
    Converted,
    Inventory,
    convert,
    unique_names,
)

DEFAULT_PAGE_SIZE = 250


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
    # VMs, their folders and datastores in the same retrieval (--no-vms: hosts and switches only).
    vms: bool = True


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    label: str  # as the user wrote it; names the vCenter in messages and the snapshot

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """``host``, ``host:port``, ``[IPv6]:port``, a bare IPv6 address or ``https://`` one of those (``/sdk`` allowed)."""
        raw = text.strip()
        if "@" in raw:  # do not echo it: the part before @ may be a password
            raise DiscoveryError("--server: expected an address without a user name or password "
                                 "(the password never goes on the command line)")
        shown = f"--server '{one_line(text)}'"
        if not raw or not is_safe_name(raw) or any(c.isspace() for c in raw):
            raise DiscoveryError(f"{shown}: expected a host name, IP or https://host[:port], "
                                 "without spaces or control characters")
        scheme, sep, rest = raw.partition("://")
        if not sep:
            scheme, rest = "https", raw
        if scheme.lower() != "https":
            raise DiscoveryError(f"{shown}: expected https:// (vCenter and ESXi answer the API over HTTPS only)")
        host, port, path = _split_server(rest)
        if path not in ("", "/", "/sdk", "/sdk/"):
            raise DiscoveryError(f"{shown}: expected no path after the address (the API is always at /sdk)")
        if host is None:
            raise DiscoveryError(f"{shown}: expected a host name, IPv4, [IPv6] or https://host[:port]")
        if port is None or not 1 <= port <= 65535:
            raise DiscoveryError(f"{shown}: expected a port from 1 to 65535")
        shown_host = f"[{host}]" if ":" in host else host
        return cls(host, port, shown_host if port == 443 else f"{shown_host}:{port}")


# One DNS label; a name is labels joined by dots (RFC 1123, plus the underscore some inventories use).
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*\.?")
_HOST_PORT = re.compile(r"(\[[^\]/]*\]|[^:/\[\]]*)(?::([^/]*))?(/.*)?", re.S)


def _split_server(rest: str) -> tuple[Optional[str], Optional[int], str]:
    """(host, port, path) of ``host[:port][/path]``, host lowercased; None for a host or port that is not one."""
    try:
        return str(ipaddress.IPv6Address(rest)), 443, ""  # a bare IPv6 address: every colon is its own
    except ValueError:
        pass
    m = _HOST_PORT.fullmatch(rest)
    if m is None:
        return None, 443, ""
    digits = m.group(2)
    port = 443 if digits is None else int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 5 else None
    host, path = m.group(1).lower(), m.group(3) or ""
    if host.startswith("["):
        try:
            return str(ipaddress.IPv6Address(host[1:-1])), port, path
        except ValueError:
            return None, port, path
    return (host if _HOST_NAME.fullmatch(host) else None), port, path


ProgressFn = Callable[[str, int, Optional[int]], None]  # (vcenter, hosts read, hosts listed)


@dataclass(frozen=True)
class Discovery:
    snapshot: Snapshot
    # What could not be read: "vcenter:<label>" or a host name -> reason.
    missing: dict[str, str]

    @property
    def partial(self) -> bool:
        return bool(self.missing)


MAX_CA_FILE = 16 * 2**20  # a system CA bundle is about 200 KiB
MAX_VERSION_LIST = 1 * 2**20  # vimServiceVersions.xml is about 2 KiB


def tls_context(opts: ConnectOptions) -> ssl.SSLContext:
    """The TLS settings of every connection; InputError naming --ca-file when it holds no CA certificate."""
    if opts.insecure:
        ctx = ssl._create_unverified_context()  # explicit --insecure only
    elif opts.ca_file:
        ctx = ssl.create_default_context(cafile=_checked_ca_file(opts.ca_file))
    else:
        ctx = ssl.create_default_context()
    ctx.sslsocket_class = type("BoundedTLSSocket", (BoundedTLSSocket,), {"exchange_s": float(opts.timeout_s)})
    return ctx


def _checked_ca_file(path: str) -> str:
    """``path`` once it is a readable regular file of PEM certificates: OpenSSL itself reads any file to its end."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(path, "", f"a CA certificate file for --ca-file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, "", "a regular file of PEM CA certificates for --ca-file (not a directory or device)")
    if info.st_size > MAX_CA_FILE:
        raise InputError(path, "", f"PEM CA certificates for --ca-file, at most {MAX_CA_FILE // 2**20} MiB")
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        probe.load_verify_locations(cafile=path)
    except (ssl.SSLError, ValueError) as exc:
        raise InputError(path, "", "PEM CA certificate(s) for --ca-file (-----BEGIN CERTIFICATE-----); "
                                   f"none could be read ({getattr(exc, 'reason', None) or exc})") from None
    except OSError as exc:
        raise InputError(path, "", f"a readable CA certificate file for --ca-file ({exc.strerror or exc})") from None
    return path


class BoundedTLSSocket(ssl.SSLSocket):
    """A TLS socket whose every exchange ends by a deadline, however slowly the server answers.

    A per-read timeout alone lets a server that sends one byte a second hold a
    run for ever. Here the handshake, and each request with the whole of its
    answer, must end within ``exchange_s`` of their start: HTTP/1.1 without
    pipelining, so an exchange starts with the first write after a read.
    """

    exchange_s = 60.0
    _deadline: Optional[float] = None
    _answering = True  # the last call was a read (or nothing yet): the next write starts an exchange

    def do_handshake(self, block: bool = False) -> None:
        self._deadline = time.monotonic() + self.exchange_s
        self._bound()
        super().do_handshake(block)

    def send(self, data: Any, flags: int = 0) -> int:
        if self._answering:
            self._answering = False
            self._deadline = time.monotonic() + self.exchange_s
        self._bound()
        return super().send(data, flags)

    def read(self, len: int = 1024, buffer: Any = None) -> Any:
        self._answering = True
        self._bound()
        return super().read(len, buffer)

    def _bound(self) -> None:
        if self._deadline is None:
            return
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete answer within {self.exchange_s:g} s")
        self.settimeout(left)


def connect(ep: Endpoint, creds: Credentials, opts: ConnectOptions) -> Any:
    """Log in; returns a pyVmomi ServiceInstance. Maps failures to DiscoveryError.

    Not SmartConnect: its API version probe opens a connection with no
    timeout at all. The probe here is bounded like everything else
    (connect, TLS handshake and each exchange within ``opts.timeout_s``).
    """
    from pyVim.connect import Connect
    from pyVmomi import vim

    ctx = tls_context(opts)
    try:
        version = _api_version(ep, ctx, opts.timeout_s)
        return Connect(host=ep.host, port=ep.port, user=creds.user, pwd=creds.password, version=version,
                       sslContext=ctx, httpConnectionTimeout=opts.timeout_s)
    except vim.fault.InvalidLogin:
        raise DiscoveryError(f"{ep.label}: the user name or password was refused") from None
    except DiscoveryError:
        raise
    except Exception as exc:
        raise DiscoveryError(f"{ep.label}: {_describe(exc, opts)}") from None


def _api_version(ep: Endpoint, ctx: ssl.SSLContext, timeout_s: float) -> str:
    """The newest vim25 API version pyVmomi and the server share, as SmartConnect picks it."""
    from pyVmomi.VmomiSupport import GetServiceVersions, versionIdMap

    conn = http.client.HTTPSConnection(ep.host, ep.port, timeout=timeout_s, context=ctx)
    try:
        conn.request("GET", "/sdk/vimServiceVersions.xml")
        resp = conn.getresponse()
        body = resp.read(MAX_VERSION_LIST + 1)
    finally:
        conn.close()
    if resp.status != 200:
        raise DiscoveryError(f"{ep.label}: not a vCenter or ESXi API (GET /sdk/vimServiceVersions.xml: "
                             f"HTTP {resp.status})")
    try:
        root = ET.fromstring(body[:MAX_VERSION_LIST])
    except ET.ParseError:
        raise DiscoveryError(f"{ep.label}: not a vCenter or ESXi API (its version list is not XML)") from None
    offered = {v.text for v in root.iter("version")}
    for version in GetServiceVersions("vim25"):
        if versionIdMap.get(version) in offered:
            return version
    raise DiscoveryError(f"{ep.label}: shares no vSphere API version with this pyVmomi "
                         f"(the server offers {', '.join(sorted(o for o in offered if o)) or 'none'})")


def disconnect(si: Any, logout: bool = True) -> None:
    """End the session. ``logout=False`` after a failure: a logout would wait on the same dead server again."""
    from pyVim.connect import Disconnect

    try:
        if logout:
            Disconnect(si)
        else:
            si._stub.DropConnections()
    except Exception:  # already gone: nothing to release
        pass


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
        return f"no complete answer within {opts.timeout_s:g} s (--timeout)"
    if _find(exc, socket.gaierror) is not None:
        return f"cannot resolve the name ({_find(exc, socket.gaierror)})"
    if _find(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.IncompleteRead)):
        return "the server closed the connection"
    if _find(exc, http.client.HTTPException) is not None:  # BadStatusLine, LineTooLong, too many headers...
        return f"the answer is not HTTP ({type(_find(exc, http.client.HTTPException)).__name__})"
    if _find(exc, OSError) is not None:
        err = _find(exc, OSError)
        return f"unreachable ({getattr(err, 'strerror', None) or err})"
    msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {_server_text(msg)}"


def _server_text(text: object) -> str:
    """What a server said, as one bounded line: it may hold anything, newlines and ESC included."""
    return one_line(str(text))[:300]


def _find(exc: BaseException | None, kind: Any) -> Any:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def retrieve(si: Any, label: str, page_size: int = DEFAULT_PAGE_SIZE, on_page: Optional[Callable[[int, Optional[int]], None]] = None,
             vms: bool = True) -> Inventory:
    """One paged PropertyCollector retrieval over a ContainerView (VMs, folders and datastores in it too)."""
    from pyVmomi import vim, vmodl

    content = si.RetrieveContent()
    kinds = [vim.HostSystem, vim.DistributedVirtualSwitch, vim.dvs.DistributedVirtualPortgroup, vim.ClusterComputeResource]
    vm_specs = []
    if vms:
        kinds += [vim.VirtualMachine, vim.Datastore, vim.Folder]
        pc_ = vmodl.query.PropertyCollector
        vm_specs = [pc_.PropertySpec(type=vim.VirtualMachine, pathSet=list(VM_PROPERTIES)),
                    pc_.PropertySpec(type=vim.Datastore, pathSet=list(DATASTORE_PROPERTIES)),
                    pc_.PropertySpec(type=vim.Folder, pathSet=list(FOLDER_PROPERTIES))]
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
                *vm_specs,
            ],
            reportMissingObjectsInResults=True,
        )
        hosts: dict[str, dict[str, Any]] = {}
        dvs: dict[str, dict[str, Any]] = {}
        dvpg: dict[str, dict[str, Any]] = {}
        clusters: dict[str, dict[str, Any]] = {}
        vm_props: dict[str, dict[str, Any]] = {}
        datastores: dict[str, dict[str, Any]] = {}
        folders: dict[str, dict[str, Any]] = {}
        faults: dict[str, str] = {}
        listed: list[str] = []
        by_kind = {"HostSystem": hosts, "ClusterComputeResource": clusters, "DistributedVirtualPortgroup": dvpg,
                   "VirtualMachine": vm_props, "Datastore": datastores, "Folder": folders}

        def take(result: XmlData) -> None:
            for kind, moid, props, missing_set in object_contents(result):
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
                for missing in missing_set:
                    if kind == "HostSystem":
                        # MissingProperty.fault is a LocalizedMethodFault; its .fault names the kind.
                        fault = missing.fault.fault if isinstance(missing.fault, XmlData) else None
                        name = (fault.xsi_type if isinstance(fault, XmlData) else None) or "fault"
                        faults[moid] = f"property {missing.path} not returned ({name})"
            if on_page is not None:
                on_page(len(hosts), len(listed) or None)

        # pyVmomi serialises the requests; the (large) answers are read by soapxml.
        for result in retrieve_pages(content.propertyCollector, spec, pc.RetrieveOptions(maxObjects=page_size),
                                     drop=NON_DISK_DEVICES if vms else None):
            take(result)
    finally:
        try:
            view.DestroyView()
        except Exception:  # the connection may be gone; the first error is the one to report
            pass
    return Inventory(
        vcenter=label, hosts=hosts, dvswitches=dvs, dvportgroups=dvpg, clusters=clusters,
        listed_hosts=tuple(listed), faults=faults,
        vcenter_version=getattr(getattr(content, "about", None), "version", None),
        vms=vm_props, datastores=datastores, folders=folders,
    )


def discover_one(ep: Endpoint, creds: Credentials, opts: ConnectOptions, progress: Optional[ProgressFn] = None) -> Converted:
    from pyVmomi import vmodl

    si = connect(ep, creds, opts)
    healthy = False
    try:
        on_page = (lambda done, total: progress(ep.label, done, total)) if progress else None
        with _gc_paused():
            inv = retrieve(si, ep.label, opts.page_size, on_page, vms=opts.vms)
            converted = convert(inv)
            # Freed here by reference counting: left alive, the parsed pages (~10^6 tracked objects
            # with 20,000 VMs) would all be walked by the collector's first pass once it is back on.
            del inv
        healthy = True
    except DiscoveryError:
        raise
    except vmodl.MethodFault as exc:
        healthy = True
        raise DiscoveryError(f"{ep.label}: retrieval failed ({type(exc).__name__}: {_server_text(getattr(exc, 'msg', ''))})") from None
    except SoapFault as exc:
        healthy = True
        raise DiscoveryError(f"{ep.label}: retrieval failed ({_server_text(exc)})") from None
    except Exception as exc:
        raise DiscoveryError(f"{ep.label}: retrieval stopped: {_describe(exc, opts)}") from None
    finally:
        disconnect(si, logout=healthy)
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
