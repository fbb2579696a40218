"""The model's IPv4 fast paths answer as ipaddress does: Host.gateway_on_link (ESXi's on-link rule) and
v4_address_and_prefix and network_text (what the renderers and change kinds restate)."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath.model.snapshot import Host, Netstack, Vmk, network_text, v4_address_and_prefix

v4 = st.integers(0, 2**32 - 1).map(lambda i: str(ipaddress.IPv4Address(i)))
cidr = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)).map(
    lambda t: f"{ipaddress.IPv4Address(t[0])}/{t[1]}")


def _reference(host: Host, netstack: str, gateway: str) -> bool:
    gw = ipaddress.ip_address(gateway)
    return any(v.enabled and v.ipv4 and v.netstack == netstack and gw in ipaddress.ip_interface(v.ipv4).network
               for v in host.vmks)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(cidr, st.booleans(), st.sampled_from(["defaultTcpipStack", "vmotion"])), min_size=1,
                max_size=4), st.one_of(v4, st.just("fe80::1")), st.integers(-2, 2))
def test_the_fast_path_agrees_with_ipaddress(vmks, gateway, nudge):
    # Gateways next to a vmk's own address or its subnet's edges are the cases that matter.
    if nudge and ":" not in gateway:
        base = ipaddress.ip_interface(vmks[0][0])
        edge = int(base.network.network_address if nudge < 0 else base.network.broadcast_address) + nudge
        gateway = str(ipaddress.IPv4Address(edge % 2**32))
    host = Host(name="esx01", management_address="10.0.0.1",
                netstacks=[Netstack(key="defaultTcpipStack"), Netstack(key="vmotion")],
                vmks=[Vmk(device=f"vmk{i}", portgroup="pg", ipv4=c, enabled=on, netstack=ns)
                      for i, (c, on, ns) in enumerate(vmks)])
    for ns in ("defaultTcpipStack", "vmotion"):
        assert host.gateway_on_link(ns, gateway) == _reference(host, ns, gateway)


@settings(max_examples=150)
@given(st.ip_addresses(v=4), st.integers(0, 32))
def test_the_address_and_prefix_of_a_plain_interface_are_ipaddress_s(address, prefixlen):
    text = f"{address}/{prefixlen}"
    iface = ipaddress.IPv4Interface(text)
    assert v4_address_and_prefix(text) == (str(iface.ip), iface.network.prefixlen)


def test_an_interface_in_another_form_goes_through_ipaddress():
    assert v4_address_and_prefix("10.0.0.11/255.255.255.0") == ("10.0.0.11", 24)
    with pytest.raises(ValueError):
        v4_address_and_prefix("fe80::1/64")


@settings(max_examples=150)
@given(cidr)
def test_a_network_is_written_as_ipaddress_writes_it(text):
    assert network_text(text) == str(ipaddress.ip_network(text, strict=False))


def test_a_network_in_another_form_goes_through_ipaddress():
    assert network_text("10.0.0.0/255.255.255.0") == "10.0.0.0/24"
    assert network_text("2001:db8::/32") == "2001:db8::/32"
