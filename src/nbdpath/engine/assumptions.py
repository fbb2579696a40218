"""Named assumptions: every non-obvious behaviour the engine relies on.

Paths list the IDs they used; output expands them to this text. IDs are
stable: tests, docs and users refer to them.
"""

from __future__ import annotations

ASSUMPTIONS: dict[str, str] = {
    "A1-reply-route-lookup": (
        "The host picks the reply's egress vmk by a route lookup on the node's IP in the endpoint vmk's "
        "netstack (longest prefix, then connected, static, default); the reply keeps the endpoint's source IP. "
        "Seen in field report 2 and reproduced on a Linux kernel."
    ),
    "A2-no-rpf": (
        "Hosts and backup nodes accept packets on any interface and send replies by route lookup "
        "(no reverse-path filtering), as ESXi does."
    ),
    "A3-same-subnet-first-vmk": (
        "With several vmks in one subnet on one netstack, outbound traffic uses the lowest-numbered one "
        "(VMware KB 2010877: the first created), whatever IP the node connected to."
    ),
    "A4-multi-tag-first": (
        "Several vmks carry vSphereBackupNFC; vCenter is assumed to return the lowest-numbered one. "
        "VMware does not document which."
    ),
    "A5-vmk-gateway": (
        "A per-vmk gateway override (6.5+) is not in the stack's routing table: only services that name the vmk "
        "as their outgoing interface (vMotion, FT logging, vSAN) use it, so NFC replies follow the routing table "
        "(VMware vSphere Networking guide, 'Override the default gateway of a VMkernel adapter'). Unverified for "
        "NFC: the other reading (it steers all traffic sourced from the vmk's IP) is traced as an alternative."
    ),
    "A6-mgmt-dns": (
        "The host was added to vCenter by a name that is not in the snapshot's dns map; it is assumed to "
        "resolve, on the backup node, to the management vmk's IP."
    ),
    "A7-uplink-unpredictable": (
        "Originating-port, MAC-hash and load-based teaming put a flow on one of several active uplinks, and "
        "which one is not predictable; the bottleneck assumes the slowest of them."
    ),
    "A8-l2-by-subnet": (
        "A vmk or interface without an explicit segment sits on the segment whose subnet holds its address "
        "(with no segment described for the subnet, on one implicit segment per subnet), and the physical "
        "switches carry that segment's VLAN to the host's uplinks."
    ),
    "A9-stateful-firewall": (
        "A stateful firewall drops a TCP connection whose packets it sees in only one direction "
        "(half a handshake is INVALID)."
    ),
    "A10-node-source": (
        "The backup node connects from the address of the interface its own route lookup picks for the "
        "endpoint; its product network preference (e.g. Veeam Preferred Networks) does not change that."
    ),
    "A11-unmodelled-routing": (
        "Between subnets the snapshot describes no router for, a routed network is assumed to deliver in both "
        "directions, from the gateways the hosts and nodes name to the interface that holds the address, with no "
        "stateful firewall and unknown capacity. If it does not route between these subnets the pair is "
        "UNREACHABLE; if a stateful firewall sits on only one direction of an asymmetric flow, the flow breaks. "
        "Describe routers or firewalls in the snapshot to replace this assumption."
    ),
}


def expand(ids: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"id": i, "text": ASSUMPTIONS[i]} for i in ids]
