"""An Ansible playbook on community.vmware, run from a control node against vCenter.

Tags go through ``vmware_vmkernel``, which manages a vmk as a whole: a flag left
out defaults to false and *deselects* that service, so every task carries the
vmk's switch, port group, addresses, stack, MTU and every ``enable_*`` flag as
they stand before the step, with only the one tag changed. community.vmware has
no static-route module: routes are manual steps, clearly marked, with the
esxcli command to run. A new vmk, an address or an MTU go through
``vmware_vmkernel`` the same way (the vmk restated with the one value changed);
a standard port group's VLAN through ``vmware_portgroup``.

Every value taken from the estate is tagged ``!unsafe``: Ansible templates plain
strings, so a port group named ``{{ lookup('pipe', ...) }}`` would otherwise run.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

from ...errors import UsageError
from ...model import DEFAULT_STACK, Host, Snapshot, Vmk
from ...model.snapshot import normalise_service
from ..kinds import NO_IPV4, Change, Ipv4Set, PortgroupVlanSet, TagAdd, TagRemove, VmkAdd, VmkMtuSet, VmkRemove, Workspace
from . import esxcli

NAME = "ansible"
ORDER = 40
TITLE = "Ansible playbook (community.vmware), run with ansible-playbook against vCenter"
READS_STATE = True  # script() restates vmks from each step's state (ScriptStep.state)

MODULE = "community.vmware.vmware_vmkernel"
PORTGROUP_MODULE = "community.vmware.vmware_portgroup"
# vCenter service (NicType) -> vmware_vmkernel option. Services the module has no
# option for (vsanWitness, ptp, nvme*) are left as they are by the module.
FLAGS = {
    "management": "enable_mgmt", "vmotion": "enable_vmotion", "vsan": "enable_vsan",
    "faultToleranceLogging": "enable_ft", "vSphereProvisioning": "enable_provisioning",
    "vSphereReplication": "enable_replication", "vSphereReplicationNFC": "enable_replication_nfc",
    "vSphereBackupNFC": "enable_backup_nfc",
}
# The module's tcpip_stack choices, by nbdpath's netstack key.
STACKS = {DEFAULT_STACK: "default", "vmotion": "vmotion", "vSphereProvisioning": "provisioning"}


class Unsafe(str):
    """A string Ansible must not template."""


def _scalar(v: Any) -> str:
    t = type(v)  # the exact types first: 144,000 scalars in a 10,000-host check's fixes
    if t is Unsafe:
        return "!unsafe '" + v.replace("'", "''") + "'"
    if t is str:
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    # Single-quoted YAML holds any printable text with ' doubled; snapshot names carry
    # no control characters (refused at load), so one line is always one scalar.
    text = "'" + str(v).replace("'", "''") + "'"
    return "!unsafe " + text if isinstance(v, Unsafe) else text


def _emit(v: Any, indent: int, out: list[str]) -> None:
    """Block YAML for the few shapes a playbook has (dicts, lists, scalars).

    Written by hand, not yaml.dump: ``fix.ansible`` is rendered for every finding,
    and PyYAML's emitter took ~90 us a task (0.9 s for 10,000 findings)."""
    pad = " " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            t = type(x)
            # Plain text first, without a call: most values of a task are (with the dash written into
            # the item's first line below: the 28,000 tasks of a 10,000-host plan's JSON 0.82 -> 0.45 s).
            if t is Unsafe:
                out.append(pad + k + ": !unsafe '" + x.replace("'", "''") + "'")
            elif t is str:
                out.append(pad + k + ": '" + x.replace("'", "''") + "'")
            elif not (t is dict or t is list or isinstance(x, _NESTED)):
                out.append(f"{pad}{k}: {_scalar(x)}")
            elif x:
                out.append(f"{pad}{k}:")
                _emit(x, indent + 2, out)
            else:
                out.append(f"{pad}{k}: {'{}' if isinstance(x, dict) else '[]'}")
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, _NESTED) and x:
                first = len(out)
                _emit(x, indent + 2, out)
                out[first] = pad + "- " + out[first][indent + 2:]
            else:
                out.append(f"{pad}- {_scalar(x)}")
    else:
        out.append(pad + _scalar(v))


_NESTED = (dict, list)


def _u(value: str) -> Unsafe:
    return Unsafe(value)


def _switch(host: Host, snap: Snapshot, portgroup: str) -> Optional[tuple[str, str]]:
    for vs in host.vswitches:
        if any(pg.name == portgroup for pg in vs.portgroups):
            return "vswitch_name", vs.name
    for member in host.dvswitches:
        dvs = next((d for d in snap.dvswitches if d.name == member.switch), None)
        if dvs and any(pg.name == portgroup for pg in dvs.portgroups):
            return "dvswitch_name", dvs.name
    return None


def _manual(change: Change, why: str) -> dict[str, Any]:
    return {
        "name": _u(f"MANUAL STEP on {change.host}: {change.describe()} ({why})"),
        "ansible.builtin.debug": {"msg": _u(f"Run in the ESXi shell of {change.host}: {esxcli.command(change)}")},
        "tags": ["manual"],
    }


# esxi_hostname is the host's vCenter inventory name, the one it was added with (management_address,
# which discovery fills from the inventory), not its configured hostname: hosts added by IP are found
# by their IP only.
def _vmk_task(change: Change, snap: Snapshot, vmk: Vmk, host: Host, services: set[str], state: str) -> dict[str, Any]:
    switch = _switch(host, snap, vmk.portgroup)
    if switch is None:
        return _manual(change, f"port group {vmk.portgroup} is on no switch in the snapshot")
    args: dict[str, Any] = {"esxi_hostname": _u(host.management_address or host.name), switch[0]: _u(switch[1]),
                            "portgroup_name": _u(vmk.portgroup), "device": _u(vmk.device), "state": state}
    if state == "present":
        stack = STACKS.get(vmk.netstack)
        if stack is None:
            return _manual(change, f"{vmk.device} is on the {vmk.netstack} stack, which {MODULE} cannot manage")
        if vmk.ipv4 is None:
            return _manual(change, f"{vmk.device} has no IPv4 address in the snapshot to restate")
        ip, mask = esxcli.address_and_netmask(vmk.ipv4)
        network: dict[str, Any] = {"type": "static", "ip_address": ip, "subnet_mask": mask, "tcpip_stack": stack}
        if vmk.gateway:
            network["default_gateway"] = vmk.gateway
        args.update(network=network, mtu=vmk.mtu)
        args.update({flag: svc in services for svc, flag in FLAGS.items()})
    return {"name": _u(change.describe()), MODULE: args}


_by_name: list[Any] = [None, {}]  # the last snapshot asked about, and its hosts by name


def _host(snap: Snapshot, name: str) -> Optional[Host]:
    """``snap``'s (first) host called ``name``: the JSON of a 10,000-host check renders
    20,000 fixes against one snapshot, and a scan per fix made it quadratic (190 s)."""
    hosts = snap.hosts
    if len(hosts) == 1:  # a plan step's state (one host): no index to build
        return hosts[0] if hosts[0].name == name else None
    if _by_name[0] is not snap:
        _by_name[:] = [snap, {h.name: h for h in reversed(hosts)}]
    return _by_name[1].get(name)


def task(change: Change, snap: Optional[Snapshot]) -> dict[str, Any]:
    """One task making ``change`` on ``snap`` (the state before it)."""
    if snap is None:
        return _manual(change, "no snapshot to restate the vmk from")
    host = _host(snap, change.host)
    if host is not None and isinstance(change, VmkAdd):
        new = Vmk(device=change.vmk, portgroup=change.portgroup, ipv4=change.ipv4, netstack=change.netstack,
                  mtu=change.mtu, services=change.services)
        return _vmk_task(change, snap, new, host, set(new.services), "present")
    if host is not None and isinstance(change, PortgroupVlanSet):
        return _vlan_task(change, host)
    target = change.target_vmk
    vmk = next((v for v in host.vmks if v.device == target), None) if host and target is not None else None
    if host is None or (change.target_vmk and vmk is None):
        return _manual(change, "the host or vmk is not in the snapshot")
    if isinstance(change, (TagAdd, TagRemove)):
        assert vmk is not None
        services = set(vmk.services)
        tag = normalise_service(change.tag)
        if tag not in FLAGS:
            return _manual(change, f"{MODULE} has no option for {tag}")
        services = services | {tag} if isinstance(change, TagAdd) else services - {tag}
        return _vmk_task(change, snap, vmk, host, services, "present")
    if isinstance(change, VmkRemove):
        assert vmk is not None
        return _vmk_task(change, snap, vmk, host, set(), "absent")
    if isinstance(change, Ipv4Set):
        assert vmk is not None
        if change.ipv4 == NO_IPV4:
            return _manual(change, f"{MODULE} cannot leave a vmk without an address")
        return _vmk_task(change, snap, vmk.model_copy(update={"ipv4": change.ipv4}), host, set(vmk.services), "present")
    if isinstance(change, VmkMtuSet):
        assert vmk is not None
        return _vmk_task(change, snap, vmk.model_copy(update={"mtu": change.mtu}), host, set(vmk.services), "present")
    return _manual(change, "community.vmware has no static-route module")


def _vlan_task(change: PortgroupVlanSet, host: Host) -> dict[str, Any]:
    vs = next((vs for vs in host.vswitches if any(pg.name == change.portgroup for pg in vs.portgroups)), None)
    if vs is None:
        return _manual(change, f"{change.portgroup} is no standard port group of the host; a distributed one's VLAN "
                               "is set on its switch in vCenter")
    # Only the VLAN is given: the module keeps the port group's security, teaming and shaping as they are.
    return {"name": _u(change.describe()), PORTGROUP_MODULE: {
        "hosts": [_u(host.management_address or host.name)], "switch": _u(vs.name),
        "portgroup": _u(change.portgroup), "vlan_id": change.vlan, "state": "present"}}


def _dump(data: Any) -> str:
    out: list[str] = []
    _emit(data, 0, out)
    return "\n".join(out) + "\n"


def command(change: Change, snap: Optional[Snapshot] = None) -> str:
    return _dump([task(change, snap)])


def _states(steps: Sequence, snap: Snapshot) -> Iterator[Snapshot]:
    """Each step's host before it: as recorded by the plan (replaying 14,000 steps was ~0.5 s of
    a 10,000-host playbook), or the steps replayed on ``snap``."""
    if all(getattr(s, "state", None) is not None for s in steps):
        yield from (s.state for s in steps)
        return
    # One workspace for the whole plan: a snapshot copied per step made a 10,000-host plan
    # quadratic (1,000 hosts 1.9 s, 2,000 hosts 6.1 s CPU, measured).
    ws = Workspace(snap)
    for s in steps:
        yield ws.view(s.change.host)
        try:
            ws.apply(s.change)
        except UsageError:  # the plan skips what the what-if refused; later steps see the state without it
            pass


_DEFAULTS = {
    "hostname": "{{ vcenter_hostname }}",
    "username": "{{ vcenter_username }}",
    "password": "{{ vcenter_password }}",
    "port": "{{ vcenter_port | default(443) }}",
    "validate_certs": "{{ vcenter_validate_certs | default(true) }}",
}


def script(steps: Sequence, snap: Snapshot) -> str:
    tasks = []
    for s, state in zip(steps, _states(steps, snap)):
        t = task(s.change, state)
        t["tags"] = sorted(set(t.get("tags", [])) | {"nbdpath"})
        tasks.append(t)
    play = [{"name": "nbdpath plan", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/community.vmware.vmware": _DEFAULTS}, "tasks": tasks}]
    head = ("# nbdpath plan (Ansible, community.vmware).\n"
            "# Run: ansible-playbook plan.yml -e @vcenter.yml, where vcenter.yml (ansible-vault it) sets\n"
            "# vcenter_hostname, vcenter_username and vcenter_password; nothing secret is in this file.\n"
            "# Tasks named MANUAL STEP only print what to run by hand (community.vmware has no module for it).\n")
    return head + _dump(play)
