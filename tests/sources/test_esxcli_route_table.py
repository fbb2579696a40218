"""esxcli import fills Netstack.route_table from route ipv4 list / esxcfg-route -l, every row kept."""

from __future__ import annotations

import ipaddress

import esxcli_render as render
import pytest
from test_esxcli import needs_seeds, seed_lines

from nbdpath import labs
from nbdpath.errors import InputError
from nbdpath.sources import esxcli
from nbdpath.sources.esxcli import Text


def rows(table):
    return [(r.network, r.gateway, r.device, r.source) for r in table.table]


@needs_seeds
def test_seed_route_list_rows_with_their_devices():
    table = esxcli.routes(Text("r", "\n".join(seed_lines("## esxcli network ip route ipv4 list", 4))))
    assert rows(table) == [("0.0.0.0/0", "192.168.5.1", "vmk0", "default"),
                           ("192.168.5.0/24", None, "vmk0", "local")]


@needs_seeds
def test_seed_esxcfg_route_local_subnet_is_a_connected_row():
    table = esxcli.routes(Text("r", "\n".join(seed_lines("## companion esxcfg-route -l", 4))))
    assert rows(table) == [("172.26.64.0/26", None, "vmk0", "local"),
                           ("0.0.0.0/0", "172.26.64.1", "vmk0", "default")]


def test_kb_344105_esxcfg_route_redirect_rows_are_kept_as_unknown():
    # The esxcfg-route -l output of VMware KB 344105 (re-typed from the article, dashes line dropped
    # as this parser's samples have none): the /32 rows were learned from ICMP redirects, and
    # nothing in this output says so.
    text = ("VMkernel Routes:\n"
            "Network          Netmask          Gateway          Interface\n"
            "8.8.8.8          255.255.255.255  10.27.47.254     vmk0\n"
            "10.26.162.185    255.255.255.255  10.27.47.254     vmk0\n"
            "10.27.32.0       255.255.240.0    Local Subnet     vmk0\n"
            "default          0.0.0.0          10.27.32.21      vmk0\n")
    table = esxcli.routes(Text("r", text))
    assert rows(table) == [("8.8.8.8/32", "10.27.47.254", "vmk0", "unknown"),
                           ("10.26.162.185/32", "10.27.47.254", "vmk0", "unknown"),
                           ("10.27.32.0/20", None, "vmk0", "local"),
                           ("0.0.0.0/0", "10.27.32.21", "vmk0", "default")]
    assert table.gateway == "10.27.32.21"


def test_hand_written_sources_manual_dhcp_and_an_unverified_dynamic_word():
    # HAND-WRITTEN, not captured from a host: the word esxcli prints for a redirect-learned
    # route is not shown in KB 344105's text, so "DYNAMIC" here stands for any unverified value.
    text = render.table(["Network", "Netmask", "Gateway", "Interface", "Source"], [
        ["default", "0.0.0.0", "10.10.0.1", "vmk0", "DHCP"],
        ["10.10.0.0", "255.255.255.0", "0.0.0.0", "vmk0", "MANUAL"],
        ["10.30.0.0", "255.255.255.0", "0.0.0.0", "vmk3", "MANUAL"],
        ["10.30.0.0", "255.255.255.0", "0.0.0.0", "vmk2", "MANUAL"],
        ["10.40.0.0", "255.255.255.0", "10.30.0.1", "vmk3", "MANUAL"],
        ["10.99.0.7", "255.255.255.255", "10.10.0.254", "vmk0", "DYNAMIC"],
    ])
    table = esxcli.routes(Text("r", text))
    assert rows(table) == [("0.0.0.0/0", "10.10.0.1", "vmk0", "dhcp"),
                           ("10.10.0.0/24", None, "vmk0", "local"),
                           ("10.30.0.0/24", None, "vmk3", "local"),
                           ("10.30.0.0/24", None, "vmk2", "local"),
                           ("10.40.0.0/24", "10.30.0.1", "vmk3", "manual"),
                           ("10.99.0.7/32", "10.10.0.254", "vmk0", "unknown")]
    # The configured derivation is as before.
    assert table.gateway == "10.10.0.1"
    assert [(r.network, r.gateway) for r in table.routes] == [("10.40.0.0/24", "10.30.0.1"), ("10.99.0.7/32", "10.10.0.254")]


def test_a_row_on_no_vmk_is_an_error_at_its_line():
    text = render.table(["Network", "Netmask", "Gateway", "Interface", "Source"], [
        ["10.10.0.0", "255.255.255.0", "0.0.0.0", "vmk0", "MANUAL"],
        ["10.20.0.0", "255.255.255.0", "0.0.0.0", "vmnic\x1b0", "MANUAL"],
    ])
    with pytest.raises(InputError) as err:
        esxcli.routes(Text("r", text))
    assert err.value.line == 4
    assert "\x1b" not in str(err.value)


def test_import_puts_the_table_on_its_netstack(tmp_path):
    lab = labs.load("veeam-tag-routed")
    host = lab.hosts[1]
    d = render.write_host(host, tmp_path / "h")
    (h,) = esxcli.import_hosts([str(d)], [host.name]).hosts
    (stack,) = h.netstacks
    connected = {r.network: r.device for r in stack.route_table if r.source == "local"}
    assert connected == {str(ipaddress.ip_interface(v.ipv4).network): v.device for v in host.vmks}
    assert ("0.0.0.0/0", stack.gateway) in [(r.network, r.gateway) for r in stack.route_table]
    assert stack.routes == host.netstacks[0].routes
