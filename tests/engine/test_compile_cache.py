"""compile_host's per-configuration cache: a re-addressed view equals one compiled from scratch."""

from nbdpath import labs
from nbdpath.engine.addr import cidr, parse_cidr
from nbdpath.engine.topology import compile_host, compile_network, dvs_index


def _clones(addresses):
    """The lab's first host cloned once per (vmk0, vmk2) address pair, names esx-0, esx-1, ..."""
    snap = labs.load("veeam-tag-l2")
    base = snap.hosts[0]
    hosts = []
    for i, (a0, a2) in enumerate(addresses):
        vmks = tuple(v.model_copy(update={"ipv4": a0 if v.device == "vmk0" else a2}) for v in base.vmks)
        hosts.append(base.model_copy(update={"name": f"esx-{i}", "vmks": vmks}))
    return snap.model_copy(update={"hosts": tuple(hosts)})


def _fresh_and_cached(snap):
    network, dvs, cache = compile_network(snap), dvs_index(snap), {}
    for host in snap.hosts:
        yield compile_host(host, snap, network, dvs, None), compile_host(host, snap, network, dvs, cache)


def test_reused_views_equal_fresh_ones_address_by_address():
    addresses = [("10.10.0.21/24", "10.30.0.21/24"), ("10.10.0.22/24", "10.30.0.22/24"),
                 ("10.10.0.23/25", "10.30.0.23/24"), ("10.10.1.24/24", "10.30.0.24/24")]
    views = list(_fresh_and_cached(_clones(addresses)))
    for (fresh, cached), (a0, a2) in zip(views, addresses):
        assert cached == fresh
        assert cached.ifaces["vmk0"].ip == cidr(a0)[0] and cached.ifaces["vmk2"].ip == cidr(a2)[0]
        assert cached.device == fresh.device and all(i.device == fresh.device for i in cached.ifaces.values())
    # Same configuration and subnets: the second host shares the first one's tables.
    assert views[1][1].tables is views[0][1].tables
    # Another prefix length or subnet is another configuration, compiled on its own.
    assert views[2][1].ifaces["vmk0"].prefixlen == 25 and views[2][1].tables is not views[0][1].tables
    assert views[3][1].ifaces["vmk0"].network != views[0][1].ifaces["vmk0"].network


def test_cidr_is_parse_cidr_without_the_cache():
    for text in ("10.0.0.11/24", "192.168.7.200/30", "10.1.2.3", "0.0.0.0/0", "255.255.255.255/32"):
        assert cidr(text) == parse_cidr(text)


def test_hosts_apart_by_their_nics_macs_share_a_view_but_keep_their_own_nics():
    snap = labs.load("veeam-tag-l2")
    base = snap.hosts[0]
    hosts = []
    for i in range(3):
        pnics = tuple(p.model_copy(update={"mac": f"00:1b:21:00:0{i}:{k:02x}"}) for k, p in enumerate(base.pnics))
        hosts.append(base.model_copy(update={"name": f"esx-{i}", "pnics": pnics}))
    # The third also has a NIC down: another configuration, MACs or not.
    hosts[2] = hosts[2].model_copy(update={"pnics": (hosts[2].pnics[0].model_copy(update={"link_up": False}),
                                                     *hosts[2].pnics[1:])})
    views = list(_fresh_and_cached(snap.model_copy(update={"hosts": tuple(hosts)})))
    for (fresh, cached), host in zip(views, hosts):
        assert cached == fresh
        assert [p.mac for p in cached.pnics.values()] == [p.mac for p in host.pnics]
    assert views[1][1].uplinks is views[0][1].uplinks and views[1][1].config is views[0][1].config
    assert views[2][1].config is not views[0][1].config


def test_a_cluster_between_two_of_another_configuration_gets_its_own_view_back():
    # compile_host compares with the previous host first: A, B, A must not leave the second A with B's.
    addresses = [("10.10.0.21/24", "10.30.0.21/24"), ("10.10.1.22/24", "10.30.0.22/24"),
                 ("10.10.0.23/24", "10.30.0.23/24"), ("10.10.1.24/24", "10.30.0.24/24")]
    views = [cached for fresh, cached in _fresh_and_cached(_clones(addresses))]
    assert [v.ifaces["vmk0"].network for v in views] == [cidr(a0)[2] for a0, _ in addresses]
    assert views[2].tables is views[0].tables and views[3].tables is views[1].tables
    assert views[0].tables is not views[1].tables


def test_hosts_of_one_subnet_on_two_described_narrower_segments_each_get_their_own():
    # Two /25 segments in the vmks' /24: the first host's segment must not be copied to the second.
    from nbdpath.model import Segment

    snap = _clones([("10.10.0.21/24", "10.30.0.5/24"), ("10.10.0.22/24", "10.30.0.200/24")])
    snap = snap.model_copy(update={"segments": snap.segments + (
        Segment(name="backup-low", vlan=31, subnets=("10.30.0.0/25",)),
        Segment(name="backup-high", vlan=32, subnets=("10.30.0.128/25",)))})
    views = list(_fresh_and_cached(snap))
    assert [cached.ifaces["vmk2"].segment for _, cached in views] == ["backup-low", "backup-high"]
    assert all(cached == fresh for fresh, cached in views)
