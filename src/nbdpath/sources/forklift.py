"""Forklift / Migration Toolkit for Virtualization resources -> nbdpath jobs. Pure: text in, data out.

Reads ``forklift.konveyor.io`` Host and Plan resources (as ``oc get -o yaml``
prints them, one per document, or in a ``List``). Field meanings follow the
v1beta1 API types (kubev2v/forklift ``pkg/apis/forklift/v1beta1``):

- Host ``spec``: ``id`` (the host's managed object id in the provider, e.g.
  ``host-21``) or ``name``; ``ipAddress``, the "IP address used for disk
  transfer"; ``provider`` and ``secret`` object references.
- Plan ``spec``: ``provider.source`` / ``provider.destination``, ``vms``
  (each an ``id`` or a ``name``), ``map``, ``targetNamespace``, ``warm``,
  ``transferNetwork``.

A Plan becomes one job (product ``forklift``): its VMs, and for each Host of
its source provider the host -> ipAddress pair in ``transfer_addresses``
(the address the migration connects to instead of the one vCenter hands
out). Ids become names through a snapshot (Host.moref / Vm.moref) when one
is given; every choice is returned as a note.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Optional

import yaml

from ..errors import InputError
from ..model import Job, Snapshot
from ..model.load import _ALIAS, _ANCHOR, _Loader, _check_aliases, _yaml_error
from ..safetext import is_safe_name, one_line

API_GROUP = "forklift.konveyor.io"
MAX_FORKLIFT_FILE = 16 * 2**20  # `oc get plans,hosts -o yaml` of a large estate is a few MiB
# Forklift kinds that say nothing about hosts, VMs or addresses: read past, named in a note.
OTHER_KINDS = frozenset({"Provider", "NetworkMap", "StorageMap", "Migration", "Hook", "ForkliftController"})
_LISTS = {"List", "HostList", "PlanList"}


@dataclass(frozen=True)
class Ref:
    name: str
    namespace: Optional[str]


@dataclass(frozen=True)
class HostResource:
    name: str  # the resource's own metadata.name
    namespace: Optional[str]
    host_id: Optional[str]  # spec.id: the host's moref in the provider
    host_name: Optional[str]  # spec.name: the host's inventory name
    ip: str
    provider: Ref
    where: str  # FILE:LINE of the resource


@dataclass(frozen=True)
class PlanResource:
    name: str
    namespace: Optional[str]
    source: Ref
    vms: tuple[tuple[Optional[str], Optional[str]], ...]  # (id, name) per entry
    warm: bool
    transfer_network: Optional[str]
    where: str


@dataclass
class Resources:
    hosts: list[HostResource] = field(default_factory=list)
    plans: list[PlanResource] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # other Forklift kind -> count

    def count(self) -> int:
        return len(self.hosts) + len(self.plans) + sum(self.skipped.values())


def parse(text: str, source: str, into: Optional[Resources] = None) -> Resources:
    """Every Host and Plan of one file; anything else is an InputError naming the line and what was expected."""
    out = into if into is not None else Resources()
    before = out.count()
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if isinstance(node, yaml.CollectionNode) and _ANCHOR.search(text) and _ALIAS.search(text):
                _check_aliases(node, source)
            data = loader.construct_document(node)
            if data is None:
                continue  # an empty document between two '---'
            _resource(data, node, source, out, ())
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, source) from None
    except RecursionError:
        raise InputError(source, "", "YAML nested less deeply (refused)") from None
    finally:
        loader.dispose()
    if out.count() == before:
        raise InputError(source, "", "Forklift resources (Host, Plan, or a List of them); this file holds none", 1)
    return out


class _Doc:
    """One resource with the YAML node it came from, to name lines in errors."""

    def __init__(self, data: Any, node: yaml.Node, source: str, path: tuple[Any, ...]):
        self.data, self.node, self.source, self.path = data, node, source, path

    def line(self, *path: Any) -> int:
        node = self.node
        for key in path:
            child = _child(node, key)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1

    def fail(self, path: tuple[Any, ...], expected: str) -> InputError:
        where = ".".join(str(p) for p in self.path + path)
        return InputError(self.source, where, expected, self.line(*path))

    def get(self, *path: Any) -> Any:
        value = self.data
        for key in path:
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
                value = value[key]
            else:
                return None
        return value

    def text(self, path: tuple[Any, ...], what: str, required: bool = True) -> Optional[str]:
        value = self.get(*path)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            raise self.fail(path, f"{what} (a non-empty string)")
        text = str(value).strip()
        if not is_safe_name(text) or len(text) > 512:
            raise self.fail(path, f"{what} without control characters, at most 512 characters")
        return text


def _child(node: yaml.Node, key: Any) -> Optional[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key]
    return None


def _resource(data: Any, node: yaml.Node, source: str, out: Resources, path: tuple[Any, ...]) -> None:
    doc = _Doc(data, node, source, path)
    if not isinstance(data, dict):
        raise doc.fail((), f"a Kubernetes resource (a mapping with apiVersion and kind), not a {type(data).__name__}")
    raw_kind = data.get("kind")
    kind = raw_kind if isinstance(raw_kind, str) else None  # a list or mapping there is no kind either
    api = data.get("apiVersion")
    if kind in _LISTS:
        items = data.get("items")
        if not isinstance(items, list):
            raise doc.fail(("items",), f"the items of a {kind} (a list of Host or Plan resources)")
        for i, item in enumerate(items):
            _resource(item, _child(_child(node, "items") or node, i) or node, source, out, path + ("items", i))
        return
    if not isinstance(api, str) or api.partition("/")[0] != API_GROUP:
        shown = one_line(str(api))[:80] if api is not None else "none"
        raise doc.fail(("apiVersion",), f"a Forklift resource (apiVersion {API_GROUP}/v1beta1), not apiVersion {shown}")
    if kind == "Host":
        out.hosts.append(_host(doc))
    elif kind == "Plan":
        out.plans.append(_plan(doc))
    elif kind in OTHER_KINDS:
        out.skipped[kind] = out.skipped.get(kind, 0) + 1
    else:
        shown = one_line(str(raw_kind))[:80] if raw_kind is not None else "none"
        raise doc.fail(("kind",), f"kind Host or Plan (or List, or a Forklift kind read past: "
                                  f"{', '.join(sorted(OTHER_KINDS))}), not {shown}")


def _meta(doc: _Doc) -> tuple[str, Optional[str]]:
    if not isinstance(doc.get("metadata"), dict):
        raise doc.fail(("metadata",), "metadata with a name")
    return doc.text(("metadata", "name"), "metadata.name") or "", doc.text(("metadata", "namespace"), "metadata.namespace", False)


def _ref(doc: _Doc, path: tuple[Any, ...], what: str, namespace: Optional[str]) -> Ref:
    if not isinstance(doc.get(*path), dict):
        raise doc.fail(path, f"{what}: an object reference with a name (and a namespace)")
    name = doc.text(path + ("name",), f"{what} name") or ""
    # A reference without a namespace is to the resource's own namespace.
    return Ref(name, doc.text(path + ("namespace",), f"{what} namespace", False) or namespace)


def _host(doc: _Doc) -> HostResource:
    name, namespace = _meta(doc)
    if not isinstance(doc.get("spec"), dict):
        raise doc.fail(("spec",), "a Host spec with id (or name), ipAddress and provider")
    host_id = doc.text(("spec", "id"), "spec.id (the host's managed object id)", False)
    host_name = doc.text(("spec", "name"), "spec.name (the host's inventory name)", False)
    if host_id is None and host_name is None:
        raise doc.fail(("spec",), "spec.id (the host's managed object id, e.g. host-21) or spec.name")
    ip = doc.text(("spec", "ipAddress"), "spec.ipAddress (the IP address used for disk transfer)") or ""
    try:
        ip = str(ipaddress.ip_address(ip))
    except ValueError:
        raise doc.fail(("spec", "ipAddress"), f"an IPv4 or IPv6 address (the IP used for disk transfer), not {ip!r}") from None
    provider = _ref(doc, ("spec", "provider"), "spec.provider", namespace)
    return HostResource(name, namespace, host_id, host_name, ip, provider, f"{doc.source}:{doc.line()}")


def _plan(doc: _Doc) -> PlanResource:
    name, namespace = _meta(doc)
    if not isinstance(doc.get("spec"), dict):
        raise doc.fail(("spec",), "a Plan spec with provider.source and vms")
    source = _ref(doc, ("spec", "provider", "source"), "spec.provider.source", namespace)
    entries = doc.get("spec", "vms")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise doc.fail(("spec", "vms"), "a list of VMs, each with an id or a name")
    vms = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise doc.fail(("spec", "vms", i), "a VM with an id (e.g. vm-1630) or a name")
        vm_id = doc.text(("spec", "vms", i, "id"), "a VM id", False)
        vm_name = doc.text(("spec", "vms", i, "name"), "a VM name", False)
        if vm_id is None and vm_name is None:
            raise doc.fail(("spec", "vms", i), "a VM with an id (e.g. vm-1630) or a name")
        vms.append((vm_id, vm_name))
    warm = doc.get("spec", "warm")
    if warm is not None and not isinstance(warm, bool):
        raise doc.fail(("spec", "warm"), "true or false")
    network = None
    if doc.get("spec", "transferNetwork") is not None:
        net = _ref(doc, ("spec", "transferNetwork"), "spec.transferNetwork", namespace)
        network = f"{net.namespace}/{net.name}" if net.namespace else net.name
    return PlanResource(name, namespace, source, tuple(vms), bool(warm), network, f"{doc.source}:{doc.line()}")


# ---- resources -> jobs ----


@dataclass
class Built:
    jobs: list[Job]
    notes: list[str]


def build(res: Resources, snap: Optional[Snapshot] = None, node: Optional[str] = None) -> Built:
    """One job per Plan; ids resolved through ``snap`` when given (else kept, with a note)."""
    from .vcenter_convert import unique_names

    notes: list[str] = []
    if not res.plans:
        notes.append("no Plan among the files: no job written (Host resources alone say which address, not which VMs)")
    for kind, count in sorted(res.skipped.items()):
        notes.append(f"{count} {kind} resource(s) read past (they name no host, VM or address)")
    if node is None:
        notes.append("no --node: the jobs have no backup node (with Forklift the OpenShift worker running the "
                     "transfer is the node; give --node NAME)")
    if snap is None:
        notes.append("no --snapshot: host and VM ids are kept as written (give --snapshot FILE to turn them into names)")
    names = unique_names([(p.name, (p.namespace or "default",)) for p in res.plans])
    jobs = []
    for plan, job_name in zip(res.plans, names):
        addresses = _addresses(plan, res.hosts, snap, notes)
        vms = _vms(plan, snap, notes)
        if plan.transfer_network:
            notes.append(f"{plan.where}: plan {plan.name} transfers over network {plan.transfer_network}: the node's "
                         "address is its interface on that network; describe the node with it")
        if plan.warm:
            notes.append(f"{plan.where}: plan {plan.name} is warm: its first copy is full, which is what the job models")
        jobs.append(Job(name=job_name, product="forklift", nodes=(node,) if node else (), vms=tuple(vms),
                        transfer_addresses=addresses))
    return Built(jobs, notes)


def _addresses(plan: PlanResource, hosts: list[HostResource], snap: Optional[Snapshot], notes: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    mine = [h for h in hosts if h.provider == plan.source]
    if hosts and not mine:
        notes.append(f"{plan.where}: no Host resource of provider {plan.source.name}: plan {plan.name} connects "
                     "where vCenter says")
    for h in mine:
        name = _host_name(h, snap, notes)
        if name is None:
            continue
        if name in out and out[name] != h.ip:
            notes.append(f"{h.where}: host {name} has two Host resources ({out[name]}, {h.ip}); the first is kept")
            continue
        out[name] = h.ip
    return out


def _host_name(h: HostResource, snap: Optional[Snapshot], notes: list[str]) -> Optional[str]:
    ref = h.host_id or h.host_name or ""
    if snap is None:
        return ref
    if h.host_id is not None:
        found = [x.name for x in snap.hosts if x.moref == h.host_id]
    else:
        found = [x.name for x in snap.hosts if h.host_name in (x.name, x.management_address)]
    if len(found) == 1:
        return found[0]
    why = "several hosts (one per vCenter?)" if found else "no host"
    notes.append(f"{h.where}: Host {h.name} ({ref}) matches {why} of the snapshot; its address is left out")
    return None


def _vms(plan: PlanResource, snap: Optional[Snapshot], notes: list[str]) -> list[str]:
    if snap is None:
        return [vm_id or (vm_name or "").rsplit("/", 1)[-1] for vm_id, vm_name in plan.vms]
    by_moref: dict[str, list[str]] = {}
    for v in snap.vms:
        if v.moref:
            by_moref.setdefault(v.moref, []).append(v.name)
    names = {v.name for v in snap.vms}
    out: list[str] = []
    missing = []
    for vm_id, vm_name in plan.vms:
        found = by_moref.get(vm_id or "", [])
        if len(found) != 1 and vm_name is not None:
            # Forklift accepts a path (/dc/vm/folder/web01): the VM's own name is its last part.
            last = vm_name.rsplit("/", 1)[-1]
            found = [last] if last in names else []
        if len(found) == 1:
            if found[0] not in out:
                out.append(found[0])
        else:
            missing.append(vm_id or vm_name or "?")
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        notes.append(f"{plan.where}: plan {plan.name}: {len(missing)} VM(s) not in the snapshot, left out: {shown}")
    return out
