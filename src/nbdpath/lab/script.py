"""Render a :class:`LabPlan` as the commands that build it. Pure.

The kernel shell feeds each namespace's lines to one ``ip -n NS -batch -``
(a process per namespace instead of one per command); ``--dry-run`` prints
the same lines as a shell script a reader can check or run by hand.
"""

from __future__ import annotations

from collections import defaultdict

from .plan import LabPlan

# Sysctls that exist only once conntrack is active in the namespace, so
# they are set after the iptables rules that activate it.
LATE_SYSCTL_PREFIX = "net.netfilter."


def netns_add(plan: LabPlan) -> list[str]:
    return [f"netns add {ns.name}" for ns in plan.namespaces]


def netns_del(names: list[str]) -> list[str]:
    return [f"netns del {n}" for n in names]


def switch_batch(plan: LabPlan) -> list[str]:
    """Bridges and every veth pair, created from the switch namespace."""
    lines = []
    for br in plan.bridges:
        # STP off (the default) forwards at once; no ageing surprises either.
        lines.append(f"link add {br.name} type bridge")
        lines.append(f"link set {br.name} up")
    for link in plan.links:
        lines.append(f"link add {link.peer} type veth peer name {link.ifname} netns {link.netns}")
        if link.bridge is not None:
            lines.append(f"link set {link.peer} master {link.bridge}")
        lines.append(f"link set {link.peer} up")
    return lines


def device_batches(plan: LabPlan) -> dict[str, list[str]]:
    """Per device namespace: addresses and links up in plan order, then routes and rules.

    Order matters: the kernel adds a connected route when a link comes up,
    and of two equal prefixes the first one added wins.
    """
    out: dict[str, list[str]] = defaultdict(list)
    for ns in plan.namespaces:
        if ns.role != "switch":
            out[ns.name].append("link set lo up")
    for link in plan.links:
        lines = out[link.netns]
        if link.mac:
            lines.append(f"link set dev {link.ifname} address {link.mac}")
        lines.append(f"addr add {link.address} dev {link.ifname}")
        lines.append(f"link set dev {link.ifname} up")
    for r in plan.routes:
        table = f" table {r.table}" if r.table is not None else ""
        if r.kind == "unreachable":
            out[r.netns].append(f"route add unreachable {r.destination}{table}")
        elif r.gateway is None:
            src = f" src {r.source}" if r.source else ""
            out[r.netns].append(f"route add {r.destination} dev {r.dev} scope link{src}{table}")
        else:
            out[r.netns].append(f"route add {r.destination} via {r.gateway}{table}")
    for rule in plan.rules:
        out[rule.netns].append(f"rule add from {rule.source} table {rule.table} priority {rule.priority}")
    return dict(out)


def sysctls(plan: LabPlan, late: bool) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for ns in plan.namespaces:
        items = [(k, v) for k, v in ns.sysctls if k.startswith(LATE_SYSCTL_PREFIX) == late]
        if items:
            out[ns.name] = items
    return out


def shell_script(plan: LabPlan) -> str:
    """The whole build as a shell script (for --dry-run and for docs)."""
    lines = ["#!/bin/sh", f"# nbdpath lab {plan.prefix}: remove with `nbdpath lab down`", "set -e"]
    lines += [f"ip {line}" for line in netns_add(plan)]
    for ns, items in sysctls(plan, late=False).items():
        lines.append(f"ip netns exec {ns} sysctl -q -w " + " ".join(f"{k}={v}" for k, v in items))
    lines += [f"ip -n {plan.switch_netns} {line}" for line in switch_batch(plan)]
    for ns, batch in device_batches(plan).items():
        lines += [f"ip -n {ns} {line}" for line in batch]
    for f in plan.filters:
        lines.append(f"ip netns exec {f.netns} iptables -w " + " ".join(f.args))
    for ns, items in sysctls(plan, late=True).items():
        lines.append(f"ip netns exec {ns} sysctl -q -w " + " ".join(f"{k}={v}" for k, v in items))
    for note in plan.notes:
        lines.append(f"# note: {note}")
    return "\n".join(lines) + "\n"
