"""Window estimates on small estates, each expectation worked out by hand from the
constants (docs/estimate.md): 1 GiB = 2**30 bytes, link speeds in 10**6 bit/s, a link
carries 94% payload, one NBD stream is 145 MB/s = 1160 Mb/s."""

import pytest
import yaml

from nbdpath.errors import UsageError
from nbdpath.estimate import Constants, estimate, with_overrides
from nbdpath.model import parse

GIB = 2 ** 30
EFF = 0.94
STREAM = 145 * 8  # Mb/s


def seconds(gib, mbps):
    return gib * GIB * 8 / (mbps * 1e6)


def estate(uplinks=(1000,), policy="failover_explicit", disks=(100, 100), version="8.0.2", job=None,
           vms_per_disk=True, node_speed=10000, power="poweredOn"):
    """One host, its vmk0 on the node's subnet (isolated from nothing, L2), one node."""
    pnics = [{"name": f"vmnic{i}", "speed_mbps": s} for i, s in enumerate(uplinks)]
    names = [p["name"] for p in pnics]
    teaming = {"policy": policy, "active": names} if policy != "failover_explicit" else \
        {"policy": policy, "active": names[:1], "standby": names[1:]}
    doc = {
        "segments": [{"name": "mgmt", "subnets": ["10.10.0.0/24"]}],
        "hosts": [{"name": "esx01", "version": version, "cluster": "c1", "management_address": "10.10.0.11",
                   "pnics": pnics,
                   "vswitches": [{"name": "vSwitch0", "uplinks": names, "teaming": teaming,
                                  "portgroups": [{"name": "Management Network"}]}],
                   "vmks": [{"device": "vmk0", "portgroup": "Management Network", "ipv4": "10.10.0.11/24",
                             "services": ["management"]}]}],
        "backup_nodes": [{"name": "proxy", "interfaces": [{"name": "eth0", "address": "10.10.0.50/24",
                                                           "speed_mbps": node_speed}]}],
        "datastores": [{"name": "ds1", "hosts": ["esx01"]}],
        "vms": [{"name": f"vm{i}", "host": "esx01", "power_state": power,
                 "disks": [{"capacity_gib": g, "datastore": "ds1"}]} for i, g in enumerate(disks)],
        "jobs": [{"name": "nightly", "nodes": ["proxy"], "clusters": ["c1"], **(job or {})}],
    }
    return parse(yaml.safe_dump(doc), "t.yaml")


def one(snap, constants=Constants()):
    [j] = estimate(snap, constants)
    return j


def test_two_disks_over_one_1gbe_uplink_share_it():
    j = one(estate(uplinks=(1000,)))
    assert j.duration_s == pytest.approx(seconds(200, 1000 * EFF))
    assert (j.bottleneck.kind, j.bottleneck.mbps) == ("uplink", pytest.approx(940))
    assert j.bytes == 200 * GIB and j.disks == 2
    assert sorted(j.vms) == ["vm0", "vm1"]


def test_on_10gbe_the_stream_binds_not_the_link():
    j = one(estate(uplinks=(10000,)))
    # Two disks side by side, each one stream at 1160 Mb/s: 100 GiB / 1160 Mb/s.
    assert j.duration_s == pytest.approx(seconds(100, STREAM))
    assert j.bottleneck.kind == "disk"
    assert one(estate(uplinks=(1000,))).duration_s / j.duration_s == pytest.approx(2 * STREAM / 940)


def test_per_node_concurrency_binds():
    j = one(estate(uplinks=(10000,), job={"concurrency": {"per_node": 1}}))
    assert j.duration_s == pytest.approx(seconds(200, STREAM))
    assert j.bottleneck.kind == "node-streams" and "proxy" in j.bottleneck.where


def test_nbdssl_costs_a_quarter_of_the_stream():
    j = one(estate(uplinks=(10000,), job={"transport": "nbdssl"}))
    assert j.duration_s == pytest.approx(seconds(100, STREAM * 0.75))
    assert j.bottleneck.mbps == pytest.approx(STREAM * 0.75)


@pytest.mark.parametrize("version,streams", [("5.5.0", 32), ("6.7.0", 48), ("7.0.3", 48), ("8.0.2", 50)])
def test_host_nfc_cap_by_version(version, streams):
    # 64 disks of 10 GiB, slow streams (10 MB/s = 80 Mb/s) so the host's stream count binds, not 10 GbE.
    c = with_overrides(["nbd_stream_mbyte_s=10"])
    j = one(estate(uplinks=(10000,), disks=[10] * 64, version=version, job={"concurrency": {"per_node": 100}}), c)
    assert j.bottleneck.kind == "host-streams"
    assert j.duration_s == pytest.approx(seconds(640, streams * 80))
    assert f"{streams} NFC streams" in j.bottleneck.where


def test_job_per_host_concurrency_and_forklift_default():
    c = with_overrides(["nbd_stream_mbyte_s=10"])
    big = dict(uplinks=(10000,), disks=[10] * 64)
    j = one(estate(**big, job={"concurrency": {"per_node": 100, "per_host": 8}}), c)
    assert j.duration_s == pytest.approx(seconds(640, 8 * 80)) and j.bottleneck.kind == "host-streams"
    j = one(estate(**big, job={"product": "forklift", "concurrency": {"per_node": 100}}), c)
    assert j.duration_s == pytest.approx(seconds(640, 10 * 80)) and "Forklift" in j.bottleneck.where


def test_ip_hash_spreads_flows_over_uplinks_port_id_does_not():
    spread = one(estate(uplinks=(1000, 1000), policy="loadbalance_ip"))
    pinned = one(estate(uplinks=(1000, 1000), policy="loadbalance_srcid"))
    # IP hash: 2 x 940 Mb/s for 200 GiB; each flow still on one 1 GbE uplink.
    assert spread.duration_s == pytest.approx(seconds(200, 2 * 940))
    assert pinned.duration_s == pytest.approx(seconds(200, 940))
    assert pinned.bottleneck.kind == "uplink"


def test_node_nic_binds_when_slower_than_the_host():
    j = one(estate(uplinks=(10000,), node_speed=1000))
    assert j.bottleneck.kind in ("node-nic", "uplink")  # the path's single-flow limit is the node NIC too
    assert j.duration_s == pytest.approx(seconds(200, 940))
    assert any(lim.kind == "node-nic" and lim.seconds == pytest.approx(j.duration_s) for lim in j.limits)


def test_incremental_reads_the_changed_fraction_or_changed_gib():
    j = one(estate(uplinks=(1000,), job={"mode": "incremental", "changed_fraction": 0.1}))
    assert j.bytes == int(20 * GIB) and j.duration_s == pytest.approx(seconds(20, 940))


def test_overrides_are_used_and_reported():
    c = with_overrides(["link_efficiency=1"])
    assert one(estate(), c).duration_s == pytest.approx(seconds(200, 1000))
    used = {a["name"]: a for a in c.used()}
    assert used["link_efficiency"]["overridden"] and used["link_efficiency"]["source"]
    assert not used["nbd_stream_mbyte_s"]["overridden"]


@pytest.mark.parametrize("bad,needle", [
    ("nope=1", "unknown constant"), ("nbd_stream_mbyte_s", "NAME=VALUE"), ("nbd_stream_mbyte_s=x", "a number"),
    ("nbd_stream_mbyte_s=-1", "positive"), ("nbd_stream_mbyte_s=inf", "positive"), ("nbdssl_factor=2", "fraction"),
    ("nbd_stream_mbyte_s=nan", "positive"),
])
def test_bad_overrides_are_usage_errors(bad, needle):
    with pytest.raises(UsageError, match=needle):
        with_overrides([bad])


def test_a_vm_without_a_working_path_is_unreadable_not_counted():
    snap = estate()
    doc = yaml.safe_load(yaml.safe_dump(snap.model_dump(mode="json")))
    doc["backup_nodes"][0]["interfaces"][0]["address"] = "10.99.0.50/24"  # no route to the host
    j = one(parse(yaml.safe_dump(doc), "t.yaml"))
    assert j.bytes == 0 and j.duration_s == 0 and j.disks == 0 and {u["vm"] for u in j.unreadable} == {"vm0", "vm1"}


def test_powered_off_vm_on_an_unmounted_datastore_is_unreadable():
    snap = estate(power="poweredOff")
    doc = yaml.safe_load(yaml.safe_dump(snap.model_dump(mode="json")))
    doc["datastores"][0]["accessible"] = False
    j = one(parse(yaml.safe_dump(doc), "t.yaml"))
    assert j.bytes == 0 and "read-write" in j.unreadable[0]["reason"]


def test_unknown_job_is_a_usage_error():
    with pytest.raises(UsageError, match="no job 'ghost'"):
        estimate(estate(), jobs=["ghost"])


# Properties of the model on generated one-host estates (hypothesis; derandomized under CI).
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ESTATES = st.fixed_dictionaries({
    "uplinks": st.lists(st.sampled_from([1000, 10000, 25000]), min_size=1, max_size=3).map(tuple),
    "policy": st.sampled_from(["failover_explicit", "loadbalance_srcid", "loadbalance_ip", "lacp"]),
    "disks": st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=12),
    "version": st.sampled_from(["5.5.0", "6.7.0", "7.0.3", "8.0.2"]),
    "node_speed": st.sampled_from([1000, 10000, 25000]),
    "job": st.fixed_dictionaries({"concurrency": st.fixed_dictionaries({"per_node": st.integers(1, 16)}),
                                  "transport": st.sampled_from(["nbd", "nbdssl"])}),
})


@settings(max_examples=60, deadline=None)
@given(_ESTATES)
def test_the_window_is_the_longest_limit_and_no_disk_beats_one_stream(kw):
    j = one(estate(**kw))
    stream = STREAM * (0.75 if kw["job"]["transport"] == "nbdssl" else 1)
    assert j.duration_s == pytest.approx(max(lim.seconds for lim in j.limits))
    assert j.duration_s >= seconds(max(kw["disks"]), stream) * (1 - 1e-9)
    # Nothing moves faster than the node's NIC.
    assert j.duration_s >= seconds(sum(kw["disks"]), kw["node_speed"] * EFF) * (1 - 1e-9)


@settings(max_examples=60, deadline=None)
@given(_ESTATES)
def test_twice_the_bytes_take_twice_as_long(kw):
    j = one(estate(**kw))
    double = one(estate(**{**kw, "disks": [2 * d for d in kw["disks"]]}))
    assert double.duration_s == pytest.approx(2 * j.duration_s)
    assert double.bottleneck.kind == j.bottleneck.kind


@settings(max_examples=60, deadline=None)
@given(_ESTATES)
def test_faster_links_never_lengthen_the_window(kw):
    j = one(estate(**kw))
    faster = one(estate(**{**kw, "uplinks": tuple(2 * u for u in kw["uplinks"]), "node_speed": 2 * kw["node_speed"]}))
    assert faster.duration_s <= j.duration_s * (1 + 1e-9)


@pytest.mark.parametrize("value,needle", [(float("inf"), "finite"), (float("nan"), "finite"), (1e9, "less than or equal")])
def test_disk_sizes_that_would_make_the_window_infinite_are_refused_at_load(value, needle):
    from nbdpath.errors import InputError

    doc = yaml.safe_load(yaml.safe_dump(estate().model_dump(mode="json")))
    doc["vms"][0]["disks"][0]["capacity_gib"] = value
    with pytest.raises(InputError, match=needle):
        parse(yaml.safe_dump(doc), "t.yaml")


def test_a_node_reads_in_waves_when_disks_outnumber_its_slots():
    # 5 disks of 100 GiB, 4 at once on 10 GbE: four in parallel, then the fifth alone, each at one stream.
    j = one(estate(uplinks=(10000,), disks=[100] * 5))
    assert j.bottleneck.kind == "node-streams" and "largest first" in j.bottleneck.where
    assert j.duration_s == pytest.approx(2 * seconds(100, STREAM))


def test_waves_pack_small_disks_beside_a_large_one():
    # 300 + 3 x 100 GiB on 2 slots: the 300 on one, the three 100s one after the other on the other.
    j = one(estate(uplinks=(10000,), disks=[300, 100, 100, 100], job={"concurrency": {"per_node": 2}}))
    assert j.duration_s == pytest.approx(seconds(300, STREAM))
    j = one(estate(uplinks=(10000,), disks=[300, 100, 100, 100, 100], job={"concurrency": {"per_node": 2}}))
    assert j.duration_s == pytest.approx(seconds(400, STREAM))


# The node schedule (estimate.window._waves): its one-choice fast path (every disk may go to
# the same nodes, the usual job) and its general path against a plain scan of every slot.
from nbdpath.estimate.window import _waves  # noqa: E402


def _slot_scan(streams: list[tuple[float, tuple[str, ...]]], slots: int) -> dict[str, tuple[float, int]]:
    """Largest disk first onto the slot that frees first among its nodes (earlier node, then
    earlier slot, on a tie): the rule _waves documents, without heaps."""
    free: dict[str, list[float]] = {}
    count: dict[str, int] = {}
    for seconds, nodes in sorted(streams, reverse=True):
        for n in nodes:
            free.setdefault(n, [0.0] * slots)
        node, slot = min(((n, i) for n in nodes for i in range(slots)), key=lambda ns: free[ns[0]][ns[1]])
        free[node][slot] += seconds
        count[node] = count.get(node, 0) + 1
    return {n: (max(ends), count.get(n, 0)) for n, ends in free.items()}


_NODE_SETS = st.sampled_from([("a",), ("a", "b"), ("b", "a"), ("a", "b", "c"), ("c",)])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50).map(float), _NODE_SETS), max_size=40), st.integers(1, 4),
       st.booleans())
def test_waves_follow_the_slot_rule(streams, slots, one_choice):
    # Whole seconds: ties between equal disks and equally free slots are frequent, so the tie rules count.
    if one_choice and streams:
        streams = [(s, streams[0][1]) for s, _ in streams]
    grouped: dict[tuple[str, ...], list[float]] = {}
    for s, nodes in streams:
        grouped.setdefault(nodes, []).append(s)
    assert _waves(grouped, slots) == _slot_scan(streams, slots)


from nbdpath import labs  # noqa: E402
from nbdpath.engine import Engine  # noqa: E402


@pytest.mark.parametrize("lab", [n for n in labs.names() if labs.load(n).jobs])
def test_the_estimate_does_not_depend_on_the_assumptions_alternatives(lab):
    # The estimator's own engine skips the alternatives (the other reading of each assumption);
    # an engine that computes them must give the same windows, limits and VMs.
    snap = labs.load(lab)
    with_alternatives = [e.to_dict() for e in estimate(snap, engine=Engine(snap, alternatives=True))]
    assert with_alternatives and [e.to_dict() for e in estimate(snap)] == with_alternatives


# ---------------------------------------------------------------- a job that reads nothing says why


def _nightly(**job):
    snap = labs.load("nightly-window")
    return snap.model_copy(update={"jobs": (snap.jobs[0].model_copy(update=job),)})


def test_a_job_whose_tags_no_discovered_vm_carries_warns_that_discovery_reads_no_tags():
    [est] = estimate(_nightly(clusters=(), tags=("gold",)))
    assert est.disks == 0 and est.duration_s == 0
    [warning] = est.warnings
    assert warning.startswith("reads nothing: no VM") and "Automation API" in warning
    assert est.to_dict()["warnings"] == [warning]


def test_a_job_of_vms_without_disks_says_so_and_a_working_job_warns_of_nothing():
    snap = labs.load("nightly-window")
    bare = snap.model_copy(update={"vms": tuple(v.model_copy(update={"disks": ()}) for v in snap.vms)})
    [est] = estimate(bare)
    assert est.warnings == ["reads nothing: its VMs have no disks"]
    [ok] = estimate(snap)
    assert ok.disks > 0 and ok.warnings == [] and ok.to_dict()["warnings"] == []


def test_the_warning_reaches_the_table_markdown_and_html(capsys, tmp_path):
    from nbdpath.cli import main
    from nbdpath.model import dump

    path = tmp_path / "s.yaml"
    path.write_text(dump(_nightly(clusters=(), tags=("gold",))))
    for fmt, mark in (("table", "WARNING: reads nothing"), ("markdown", "**warning**: reads nothing"),
                      ("html", "<b>Warning:</b> reads nothing")):
        assert main(["estimate", str(path), "--format", fmt]) == 0
        assert mark in capsys.readouterr().out, fmt
