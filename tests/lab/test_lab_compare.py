"""Predicted vs observed: the rules that decide agreement."""

from __future__ import annotations

from nbdpath.engine.types import Verdict
from nbdpath.lab.compare import Counters, Observation, Prediction, compare, prediction
from nbdpath import engine, labs

MiB = 1 << 20


def obs(received=MiB, counters=(), connected=True, attempted=True, error=None):
    return Observation("h", "n", "10.0.0.5", attempted, connected, MiB, received, tuple(counters), error=error)


def pred(egress="vmk2", completes=True, verdict="ISOLATED"):
    return Prediction("h", "n", "10.0.0.5", egress, completes, verdict)


DATA_ON_VMK2 = (Counters("vmk0", 42, 9000, 1, 150), Counters("vmk2", MiB + 5000, 84, 40, 2))


def test_observed_egress_is_the_interface_that_sent_most():
    assert obs(counters=DATA_ON_VMK2).egress_vmk == "vmk2"


def test_arp_alone_is_not_egress():
    # 42-byte frames only: ARP replies, no TCP at all.
    o = obs(received=0, counters=(Counters("vmk0", 84, 0, 2, 2), Counters("vmk2", 0, 0, 0, 0)), connected=False)
    assert o.egress_vmk is None
    # One SYN/ACK (74 bytes) beside an ARP reply on another vmk wins.
    o = obs(received=0, counters=(Counters("vmk0", 42, 60, 1, 1), Counters("vmk4", 116, 60, 2, 1)))
    assert o.egress_vmk == "vmk4"


def test_agreement_on_egress_and_completion():
    c = compare(pred(), obs(counters=DATA_ON_VMK2))
    assert c.agree and c.problems == () and c.compared_egress


def test_wrong_egress_is_a_disagreement():
    c = compare(pred(egress="vmk0", verdict="NOT_ISOLATED"), obs(counters=DATA_ON_VMK2))
    assert not c.agree
    assert c.problems == ("egress vmk: engine says vmk0; kernel sent the data on vmk2",)


def test_completion_mismatch_is_a_disagreement():
    c = compare(pred(egress=None, completes=False, verdict="UNREACHABLE"), obs(counters=DATA_ON_VMK2))
    assert not c.agree and c.problems[0].startswith("completion: engine says the stream does not complete (UNREACHABLE)")
    partial = obs(received=MiB - 1, counters=DATA_ON_VMK2, error="no data for 1s")
    c = compare(pred(), partial)
    assert not c.agree and "received 1048575 of 1048576 bytes (no data for 1s)" in c.problems[0]


def test_egress_not_compared_when_the_host_sent_no_tcp():
    nothing = obs(received=0, connected=False, counters=(Counters("vmk0", 0, 0, 0, 0),))
    c = compare(pred(egress="vmk0", completes=False, verdict="UNREACHABLE"), nothing)
    assert c.agree and not c.compared_egress


def test_broken_flow_still_compares_where_the_handshake_reply_went():
    syn_ack_on_vmk0 = obs(received=0, counters=(Counters("vmk0", 148, 0, 2, 0), Counters("vmk4", 0, 200, 0, 3)))
    c = compare(pred(egress="vmk4", completes=False, verdict="BROKEN_BY_FIREWALL"), syn_ack_on_vmk0)
    assert not c.agree and c.problems == ("egress vmk: engine says vmk4; kernel sent the data on vmk0",)


def test_pairs_not_run_do_not_disagree():
    c = compare(pred(), obs(attempted=False, received=0))
    assert c.agree and not c.compared_egress


def test_prediction_reads_the_engine_path():
    path = engine.trace_pair(labs.load("trick-through-firewall"), "esx01.corp.local", "rubrik-node1")
    p = prediction(path)
    assert path.outcome.verdict is Verdict.BROKEN_BY_FIREWALL
    assert (p.endpoint_ip, p.egress_vmk, p.completes, p.verdict) == ("10.10.0.11", "vmk4", False, "BROKEN_BY_FIREWALL")


def test_check_to_dict_carries_both_sides():
    d = compare(pred(), obs(counters=DATA_ON_VMK2)).to_dict()
    assert d["predicted"]["egress_vmk"] == "vmk2" and d["observed"]["egress_vmk"] == "vmk2"
    assert d["observed"]["interfaces"][1] == {"interface": "vmk2", "tx_bytes": MiB + 5000, "rx_bytes": 84,
                                              "tx_packets": 40, "rx_packets": 2}
