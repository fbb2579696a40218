"""The estimate's bulk aggregates against the running totals they replace (issue 9
performance): per-host sums, maxima and VM weights taken by C builtins must be the very
floats a VM-by-VM loop gives, and the critical VMs the same cut of the same order."""

import heapq
import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath.estimate import estimate
from nbdpath.estimate.window import _heaviest, _host_load
from nbdpath.model import parse

# Few distinct values, so that ties (equal disks, equal VMs) are common; and awkward floats.
SIZES = st.one_of(st.sampled_from([0.0, 1.0, 2.5, 1 << 30, 40 * (1 << 30)]),
                  st.floats(min_value=0, max_value=65536 * (1 << 30), allow_nan=False, allow_infinity=False))


def running(names, parts):
    """The VM-by-VM loop: a running total, the first VM whose disk beats the largest so far."""
    nbytes, largest, vms = 0.0, (-1.0, ""), {}
    for vm, part in zip(names, parts):
        total = 0.0
        for b in part:
            total += b
        nbytes += total
        vms[vm] = total
        if max(part) > largest[0]:
            largest = (max(part), vm)
    return nbytes, largest, vms


@settings(max_examples=150)
@given(st.lists(st.lists(SIZES, min_size=1, max_size=3), min_size=1, max_size=30))
def test_a_hosts_load_is_the_running_totals(parts):
    names = [f"vm{i}" for i in range(len(parts))]
    load = _host_load(names, [list(p) for p in parts])
    nbytes, largest, vms = running(names, parts)
    assert load.bytes == nbytes and math.copysign(1, load.bytes) == math.copysign(1, nbytes)
    assert load.largest == largest
    assert load.vms == vms and list(load.vms) == list(vms)
    assert load.disks == sum(len(p) for p in parts)


@settings(max_examples=150)
@given(st.dictionaries(st.text("abc", min_size=1, max_size=3),
                       st.one_of(SIZES, st.just(math.inf)), max_size=60),
       st.integers(min_value=0, max_value=25))
def test_the_heaviest_are_the_smallest_negated_weights(weights, n):
    assert _heaviest(weights, n) == [vm for _, vm in heapq.nsmallest(n, ((-b, vm) for vm, b in weights.items()))]


def fleet(power="poweredOn", second_ds=False):
    """Two hosts on one 1 GbE-uplink shape, two nodes; VMs of 1-2 disks."""
    def host(i):
        return {"name": f"esx0{i}", "version": "8.0.2", "cluster": "c1", "management_address": f"10.10.0.1{i}",
                "pnics": [{"name": "vmnic0", "speed_mbps": 1000}],
                "vswitches": [{"name": "vSwitch0", "uplinks": ["vmnic0"],
                               "teaming": {"policy": "failover_explicit", "active": ["vmnic0"]},
                               "portgroups": [{"name": "Management Network"}]}],
                "vmks": [{"device": "vmk0", "portgroup": "Management Network", "ipv4": f"10.10.0.1{i}/24",
                          "services": ["management"]}]}

    def node(i):
        return {"name": f"proxy{i}", "interfaces": [{"name": "eth0", "address": f"10.10.0.5{i}/24",
                                                     "speed_mbps": 10000}]}
    disks = [{"capacity_gib": 100, "datastore": "ds1"}, {"capacity_gib": 60, "datastore": "ds2" if second_ds else "ds1"}]
    return {
        "segments": [{"name": "mgmt", "subnets": ["10.10.0.0/24"]}],
        "hosts": [host(1), host(2)], "backup_nodes": [node(1), node(2)],
        "datastores": [{"name": "ds1", "hosts": ["esx01"]}, {"name": "ds2", "hosts": ["esx02"]}],
        "vms": [{"name": "a", "host": "esx01", "power_state": power, "disks": disks},
                {"name": "b", "host": "esx02", "disks": [{"capacity_gib": 10, "datastore": "ds2"}]}],
        "jobs": [{"name": "j", "nodes": ["proxy1", "proxy2"], "clusters": ["c1"]}],
    }


def test_a_hosts_uplink_carries_its_shares_to_every_node():
    [job] = estimate(parse(json.dumps(fleet()), "t"))
    up = {lim.where.split()[0]: lim for lim in job.limits if lim.kind == "uplink"}
    # Both nodes' halves of esx01's 160 GiB leave by its one uplink: the whole of it.
    assert up["esx01"].bytes == 160 * (1 << 30)
    assert job.bottleneck is not None and job.bottleneck.kind == "uplink" and "esx01" in job.bottleneck.where


def test_a_powered_off_vm_split_over_two_datastores_is_read_through_both_hosts():
    [job] = estimate(parse(json.dumps(fleet("poweredOff", second_ds=True)), "t"))
    rows = {r["name"]: r for r in job.hosts}
    # a's 100 GiB disk through esx01 (ds1's only host), its 60 GiB one through esx02 beside b's 10.
    assert rows["esx01"]["bytes"] == 100 * (1 << 30) and rows["esx01"]["disks"] == 1
    assert rows["esx02"]["bytes"] == 70 * (1 << 30) and rows["esx02"]["disks"] == 2
    assert job.vms[0] == "a"
