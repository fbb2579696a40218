"""vCenter discovery fills Netstack.route_table from what the host reports (routeTableInfo)."""

from __future__ import annotations

from pyVmomi import vim
from test_vcenter_convert import inventory, standard_host, vnic

from nbdpath.sources.vcenter_convert import convert


def entry(network, plen, gateway, device=None):
    return vim.host.IpRouteEntry(network=network, prefixLength=plen, gateway=gateway, deviceName=device)


def host_with_table(rows, ipv6_rows=(), routes=(("10.40.0.0", 24, "10.30.0.1"),), extra_stacks=()):
    vnics = [vnic("vmk0", "Mgmt", "10.10.0.11"), vnic("vmk3", "Backup", "10.30.0.11"), vnic("vmk2", "Backup", "10.30.0.12")]
    props = standard_host(vnics, [], routes=routes)
    network = props["config.network"]
    network.routeTableInfo = vim.host.IpRouteTableInfo(ipRoute=[entry(*r) for r in rows],
                                                       ipv6Route=[entry(*r) for r in ipv6_rows])
    network.netStackInstance = list(network.netStackInstance) + list(extra_stacks)
    return props


def default_stack(props):
    host = convert(inventory(h1=props)).hosts[0]
    return next(s for s in host.netstacks if s.key == "defaultTcpipStack")


def test_rows_keep_their_device_order_and_source():
    # vmk3 created before vmk2: the host's connected row for 10.30.0.0/24 names vmk3.
    rows = [("10.10.0.0", 24, "0.0.0.0", "vmk0"), ("10.30.0.0", 24, "0.0.0.0", "vmk3"),
            ("10.40.0.0", 24, "10.30.0.1", "vmk3"), ("0.0.0.0", 0, "10.10.0.1", "vmk0")]
    stack = default_stack(host_with_table(rows))
    assert [(r.network, r.gateway, r.device, r.source) for r in stack.route_table] == [
        ("10.10.0.0/24", None, "vmk0", "local"),
        ("10.30.0.0/24", None, "vmk3", "local"),
        ("10.40.0.0/24", "10.30.0.1", "vmk3", "manual"),
        ("0.0.0.0/0", "10.10.0.1", "vmk0", "default"),
    ]
    # The configured derivation is unchanged beside it.
    assert stack.gateway == "10.10.0.1"
    assert [(r.network, r.gateway) for r in stack.routes] == [("10.40.0.0/24", "10.30.0.1")]


def test_a_gateway_row_not_configured_is_unknown_not_manual():
    # Hand-written: a /32 like the ones KB 344105 shows after an ICMP redirect.
    rows = [("10.10.0.0", 24, "0.0.0.0", "vmk0"), ("8.8.8.8", 32, "10.10.0.254", "vmk0")]
    stack = default_stack(host_with_table(rows))
    assert [(r.network, r.source) for r in stack.route_table] == [("10.10.0.0/24", "local"), ("8.8.8.8/32", "unknown")]


def test_ipv6_rows_are_left_out():
    rows = [("10.10.0.0", 24, "0.0.0.0", "vmk0"), ("fd00::", 64, "::", "vmk0")]
    stack = default_stack(host_with_table(rows, ipv6_rows=[("fd01::", 64, "::", "vmk0")]))
    assert [r.network for r in stack.route_table] == ["10.10.0.0/24"]


def test_no_route_table_info_means_not_read():
    props = host_with_table([])
    props["config.network"].routeTableInfo = None
    assert default_stack(props).route_table is None
    # An empty table tells nothing either: not a table with no connected rows.
    assert default_stack(host_with_table([])).route_table is None


def test_an_unreadable_row_drops_the_whole_table_not_the_host():
    rows = [("10.10.0.0", 24, "0.0.0.0", "vmk0"), ("10.30.0.0", 24, "0.0.0.0", "vmk3"),
            ("10.50.0.0", 24, "10.10.0.1", "vmnic0")]  # not a vmk: the model refuses the device
    host = convert(inventory(h1=host_with_table(rows))).hosts[0]
    assert host.netstacks[0].route_table is None
    assert [v.device for v in host.vmks] == ["vmk0", "vmk2", "vmk3"]


def test_older_host_without_netstack_instances_reads_the_table_for_the_default_stack():
    props = host_with_table([("10.10.0.0", 24, "0.0.0.0", "vmk0"), ("10.40.0.0", 24, "10.10.0.9", "vmk0"),
                             ("0.0.0.0", 0, "10.10.0.1", "vmk0")])
    network = props["config.network"]
    network.netStackInstance = []
    network.ipRouteConfig = vim.host.IpRouteConfig(defaultGateway="10.10.0.1")
    stack = default_stack(props)
    # No configuration to compare with: a gateway row may be dynamic, so "unknown".
    assert [(r.network, r.source) for r in stack.route_table] == [
        ("10.10.0.0/24", "local"), ("10.40.0.0/24", "unknown"), ("0.0.0.0/0", "default")]
    assert [(r.network, r.gateway) for r in stack.routes] == [("10.40.0.0/24", "10.10.0.9")]


def stack_instance(key, rows):
    return vim.host.NetStackInstance(key=key, routeTableConfig=vim.host.IpRouteTableConfig(ipRoute=[
        vim.host.IpRouteOp(changeOperation="add", route=entry(*r)) for r in rows]))


def test_other_stack_gets_a_table_only_when_the_host_filled_in_its_rows():
    configured_only = stack_instance("vmotion", [("10.60.0.0", 24, "10.50.0.1")])
    host_filled = stack_instance("vSphereProvisioning", [("10.70.0.0", 24, "0.0.0.0", "vmk5"),
                                                         ("10.80.0.0", 24, "10.70.0.1", "vmk5")])
    props = host_with_table([("10.10.0.0", 24, "0.0.0.0", "vmk0")], extra_stacks=[configured_only, host_filled])
    stacks = {s.key: s for s in convert(inventory(h1=props)).hosts[0].netstacks}
    assert stacks["vmotion"].route_table is None
    assert [(r.network, r.device, r.source) for r in stacks["vSphereProvisioning"].route_table] == [
        ("10.70.0.0/24", "vmk5", "local"), ("10.80.0.0/24", "vmk5", "manual")]
