"""Rules about how the reply is routed: default gateway, asymmetry, firewalls, shared subnets."""

from __future__ import annotations

from typing import Iterator, Optional

from ..engine.addr import ip_str, net_str
from ..engine.endpoint import TAGGED
from ..engine.topology import HostView, Network
from ..engine.types import Path, Verdict
from ..model import BACKUP_NFC, DEFAULT_STACK
from ..changes import Change, RouteAdd, TagAdd, VmkRemove
from .base import Finding, Fix, Severity, finding, rule

ROUTED_VIA_DEFAULT = rule(
    "NBD005", "routed-node-via-default-gateway", Severity.WARNING,
    "A routed backup node gets its data through the default gateway, not the tagged vmk",
    """The node reaches the tagged vmk through a router, so the request arrives on the tagged vmk, but the host
    picks the reply's vmk by a route lookup on the node's IP: with no better route it follows the default gateway,
    normally out of vmk0 over management links. The tag "works" yet isolates nothing (field report 1, IlDuce).
    Fix: a static route on the default stack to the node's subnet via the backup subnet's gateway, or put the node
    on the tagged vmk's subnet.""",
)
ASYM_FIREWALL = rule(
    "NBD008", "asymmetric-through-stateful-firewall", Severity.ERROR,
    "An asymmetric NBD flow crosses a stateful firewall in one direction only",
    """The request reaches one vmk through a stateful firewall while the host sends the reply out of another vmk
    that bypasses it (field report 2's routing trick). The firewall sees half a handshake and drops the
    connection: NBD backups fail. Raised only for a described firewall (a stateful router, or an entry of
    ``firewalls``); where the routed network is not described (A11), NBD012 says that a firewall would break
    the flow.""",
)
SAME_SUBNET = rule(
    "NBD009", "two-vmks-one-subnet", Severity.WARNING, "Two vmks in one subnet on one TCP/IP stack",
    """With several vmks in the same subnet on one stack, ESXi sends outbound traffic for that subnet from the
    first of them, whatever IP the peer connected to (VMware KB 2010877; unsupported in vSphere 8). A tagged vmk in
    the management subnet therefore still sends NBD data out of vmk0 (field report 1, IlDuce).""",
)
ASYMMETRIC = rule(
    "NBD012", "asymmetric-flow", Severity.INFO, "NBD data leaves a different vmk than the request arrived on",
    """The host answers out of a vmk on the node's subnet with the source IP of the vmk the node connected to
    (field report 2). It works, but any stateful device on one side breaks it, and monitoring per vmk is
    confusing. On 7.0+ tag that vmk with vSphereBackupNFC so the node connects to it directly.""",
)

REPLY_ON_NODE_SUBNET = rule(
    "NBD017", "routed-node-on-another-vmk-subnet", Severity.WARNING,
    "A backup node routed to the tagged vmk sits on another vmk's subnet, so the reply leaves that vmk",
    """The node reaches the tagged vmk through a router, but its own address is on the subnet of another vmk of the
    same stack (often management). The host picks the reply's vmk by a route lookup on the node's IP, and the
    connected route of that other vmk wins over the default gateway: the data leaves it, usually over 1 GbE
    management, while the tag looks right. Fix: a host route (/32) to the node via the tagged vmk's gateway, which
    beats the connected route by prefix length; or give the node an interface on the tagged vmk's subnet.""",
)
DYNAMIC_ROUTE = rule(
    "NBD016", "reply-on-dynamic-route", Severity.INFO, "The NBD reply follows a route ESXi learned from an ICMP redirect",
    """The host's routing table holds a dynamic host route (VMware KB 344105: a router answered with an ICMP
    redirect and ESXi added a /32 route to it). Such routes are not in esx.conf, expire after an idle hour and
    vanish on a network restart, so the path seen now is not the path of the next job. Add a static route for the
    node's subnet if this path is the one you want.""",
)


def gateway_on(network: Network, segment: Optional[str]) -> Optional[str]:
    """A router address on ``segment``: the gateway a host route should use."""
    ip = network.gateway_for(segment)
    return None if ip is None else ip_str(ip)


def node_subnet(network: Network, path: Path) -> Optional[str]:
    node = network.nodes.get(path.node)
    iface = node.ifaces.get(path.outcome.node_interface or "") if node else None
    return net_str(iface.network, iface.prefixlen) if iface else None


def path_rules(path: Path, hv: HostView, network: Network) -> Iterator[Finding]:
    o = path.outcome
    if (o.verdict is Verdict.NOT_ISOLATED and o.endpoint_kind == TAGGED and o.ingress_vmk != o.egress_vmk
            and o.reply_route_origin in ("default", "vmk-gateway")):
        ingress = hv.ifaces.get(o.ingress_vmk or "")
        gw = gateway_on(network, ingress.segment if ingress else None)
        subnet = node_subnet(network, path)
        stack = next((n for n in hv.host.netstacks if n.key == hv.stack_of.get(o.ingress_vmk or "")), None)
        exists = stack is not None and any(r.network == subnet and r.gateway == gw for r in stack.routes)
        changes: tuple[Change, ...] = (RouteAdd(path.host, subnet, gw),) if gw and subnet and not exists else ()
        yield finding(
            ROUTED_VIA_DEFAULT, path.host,
            f"nodes in {subnet} reach {o.ingress_vmk} through a router, and the reply follows the default gateway: "
            f"{o.verdict_reason}",
            Fix(
                f"Add a route to {subnet} via {gw or 'the gateway of ' + str(o.ingress_vmk) + ' subnet'} on {DEFAULT_STACK}, "
                f"or give the node an interface on {o.ingress_vmk}'s subnet.",
                changes,
            ),
            node=path.node, vmk=o.egress_vmk,
        )
    if (o.endpoint_kind == TAGGED and o.ingress_vmk != o.egress_vmk and o.reply_route_origin == "connected"
            and o.verdict in (Verdict.NOT_ISOLATED, Verdict.ASYMMETRIC)):
        yield from _reply_on_node_subnet(path, hv, network)
    if o.verdict is Verdict.BROKEN_BY_FIREWALL:
        fw = ", ".join(o.firewalls_one_way)
        changes = ()
        if hv.host.has_backup_tag and o.egress_vmk and hv.stack_of.get(o.egress_vmk) == DEFAULT_STACK:
            summary = (f"Tag {o.egress_vmk} with {BACKUP_NFC} so the node connects to it directly and the flow "
                       f"becomes symmetric, bypassing {fw}; or remove {o.egress_vmk}.")
            changes = (TagAdd(path.host, o.egress_vmk),)
        else:
            summary = f"Remove {o.egress_vmk} (the flow then returns through {fw}), or upgrade to 7.0+ and tag it."
            changes = (_removal(hv, o.egress_vmk),) if o.egress_vmk else ()
        yield finding(
            ASYM_FIREWALL, path.host,
            f"request in on {o.ingress_vmk} through {fw}, data out on {o.egress_vmk} around it: {o.verdict_reason}",
            Fix(summary, changes, (f"or let {fw} carry both directions (route the node's subnet through it)",)),
            node=path.node, vmk=o.egress_vmk,
        )
    if o.reply_route_origin == "dynamic":
        yield finding(
            DYNAMIC_ROUTE, path.host,
            f"the reply to {path.node} leaves {o.egress_vmk} on a dynamic route (ICMP redirect); when it expires the "
            "host falls back to its configured routes",
            Fix(f"Add a static route for {node_subnet(network, path)} on {hv.host.name} if {o.egress_vmk} is the "
                "intended way back, or fix the router that redirects.", ()),
            node=path.node, vmk=o.egress_vmk,
        )
    if o.verdict is Verdict.ASYMMETRIC:
        changes = ()
        if hv.host.has_backup_tag and o.egress_vmk and hv.stack_of.get(o.egress_vmk) == DEFAULT_STACK:
            changes = (TagAdd(path.host, o.egress_vmk),)
        text = o.verdict_reason
        if "A11-unmodelled-routing" in o.assumptions:
            text += ("; no firewall is described on the routed part of this path: if a stateful one sits between "
                     f"{path.node} and {o.ingress_vmk}, this asymmetric flow breaks (NBD008)")
        yield finding(
            ASYMMETRIC, path.host, text,
            Fix(f"Tag {o.egress_vmk} with {BACKUP_NFC} (7.0+) so requests and data share it.", changes),
            node=path.node, vmk=o.egress_vmk,
        )


def _reply_on_node_subnet(path: Path, hv: HostView, network: Network) -> Iterator[Finding]:
    o = path.outcome
    ingress = hv.ifaces.get(o.ingress_vmk or "")
    node = network.nodes.get(path.node)
    iface = node.ifaces.get(o.node_interface or "") if node else None
    if ingress is None or iface is None:
        return
    # Routed to the ingress vmk (not on its subnet) yet on the egress vmk's: the connected route answers.
    if iface.network == ingress.network and iface.prefixlen == ingress.prefixlen:
        return
    gw = gateway_on(network, ingress.segment)
    host_route = f"{iface.ip_text}/32"
    stack = next((n for n in hv.host.netstacks if n.key == hv.stack_of.get(o.ingress_vmk or "")), None)
    exists = stack is not None and any(r.network == host_route for r in stack.routes)
    changes: tuple[Change, ...] = ()
    if gw and stack is not None and not exists:
        changes = (RouteAdd(path.host, host_route, gw, stack.key),)
    yield finding(
        REPLY_ON_NODE_SUBNET, path.host,
        f"{path.node} ({iface.ip_text}) reaches {o.ingress_vmk} through a router but is on {o.egress_vmk}'s subnet: "
        f"the connected route sends the data out of {o.egress_vmk}",
        Fix(
            f"Route {host_route} via {gw or 'the gateway of ' + str(o.ingress_vmk) + ' subnet'} so the reply leaves "
            f"{o.ingress_vmk} (a /32 beats the connected /{iface.prefixlen}); or give {path.node} an interface on "
            f"{o.ingress_vmk}'s subnet. The host's other traffic to that node (e.g. on {o.egress_vmk}'s address) "
            "then also leaves through the router: check that it forwards it (no strict uRPF).",
            changes,
        ),
        node=path.node, vmk=o.egress_vmk,
    )


def _removal(hv: HostView, dev: str) -> VmkRemove:
    """Recorded as the vmk stands, so that it can be undone (a vmk-add of the same) where it can be recreated."""
    vmk = next((v for v in hv.host.vmks if v.device == dev), None)
    pg = hv.pgs.get(vmk.portgroup) if vmk else None
    return VmkRemove.of(hv.host, dev, pg.switch if pg is not None and pg.distributed else None)


def host_rules(hv: HostView) -> Iterator[Finding]:
    groups: dict[tuple, list[str]] = {}
    for dev, iface in hv.ifaces.items():
        groups.setdefault((hv.stack_of[dev], iface.network, iface.prefixlen), []).append(dev)
    for (stack, net, plen), devs in groups.items():
        if len(devs) < 2:
            continue
        later = devs[1:]
        tagged = [d for d in devs if any(v.device == d and BACKUP_NFC in v.services for v in hv.host.vmks)]
        extra = f"; {', '.join(tagged)} carries {BACKUP_NFC}, yet its data leaves {devs[0]}" if tagged and tagged[0] != devs[0] else ""
        yield finding(
            SAME_SUBNET, hv.host.name,
            f"{', '.join(devs)} share {net_str(net, plen)} on {stack}; outbound uses {devs[0]}{extra}",
            Fix(
                f"Move {', '.join(later)} to a subnet of its own (and VLAN), with the backup node on that subnet or routed to it.",
                # The new address is the admin's to choose: no change nbdpath could run, so words, not a template.
                (), tuple(f"choose an address for {d} in a subnet of its own (and that subnet's VLAN on its port group); "
                          "`nbdpath esxcli` previews the change" for d in later),
            ),
            vmk=later[0],
        )
