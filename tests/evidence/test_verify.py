"""verify: observations held against the engine's predictions, on built-in labs and real captures."""

from __future__ import annotations

import json

import pytest

from esxtopgen import REPORT2_PORTS, report2_rates, write
from frames import nfc_session, pcap
from nbdpath import labs
from nbdpath.engine import trace
from nbdpath.evidence import Check, read_evidence, verify
from nbdpath.model import parse
from test_vddk import DATA


def _run(snap, *files):
    return {(p.host, p.node): p for p in verify(snap, trace(snap), [read_evidence(f) for f in files]).pairs}


def _report(snap, *files):
    return verify(snap, trace(snap), [read_evidence(f) for f in files])


@pytest.fixture
def esx01_log(tmp_path):
    path = tmp_path / "Agent.Rubrik.Source.app.log"
    path.write_text("2026-11-21T08:14:02.702Z| host-31| I125: NBD_ClientOpen: attempting to create connection to "
                    "SKIPZ-vpxa-nfc://[ds01] app/app.vmdk@esx01.corp.local:902!52 a1 6e 13\n")
    return path


def test_report2_confirmed_by_log_and_esxtop(tmp_path, esx01_log):
    csv = tmp_path / "esx01.csv"
    write(csv, "esx01.corp.local", REPORT2_PORTS, 60, report2_rates())
    pairs = _run(labs.load("rubrik-mixed-speed"), csv, esx01_log)
    p = pairs[("esx01.corp.local", "rubrik-node1")]
    assert p.check is Check.CONFIRMED, p.reason
    assert p.observed_endpoint == "esx01.corp.local = 10.10.0.11 (vmk0)" and p.observed_egress_vmk.startswith("vmk4 sent")
    assert p.observed_uplink.startswith("vmnic2") and p.predicted_uplinks == ("vmnic2", "vmnic3")
    assert pairs[("esx01.corp.local", "rubrik-node2")].check is Check.CONFIRMED
    other = pairs[("esx02.corp.local", "rubrik-node1")]
    assert other.check is Check.INCONCLUSIVE and other.facts == ()
    assert any("esxtop batch CSV from esx02.corp.local" in s for s in other.settle)
    assert any("vpxa-nfc://" in s for s in other.settle)


def test_capture_contradicts_egress_vmk(tmp_path):
    # esx01 sends the data from vmk0's MAC, where vmk4 was predicted.
    path = tmp_path / "mirror.pcap"
    path.write_bytes(pcap(nfc_session(host="10.10.0.11", node="10.28.0.51", host_mac="00:50:56:6c:31:10")))
    pairs = _run(labs.load("rubrik-mixed-speed"), path)
    p = pairs[("esx01.corp.local", "rubrik-node1")]
    assert p.check is Check.CONTRADICTED
    assert "egress vmk: predicted vmk4, observed vmk0 (source MAC 00:50:56:6c:31:10)" in p.reason
    assert p.observed_endpoint == "10.10.0.11 (vmk0)"
    assert pairs[("esx01.corp.local", "rubrik-node2")].check is Check.INCONCLUSIVE


def test_capture_confirms_when_data_leaves_vmk4(tmp_path):
    path = tmp_path / "mirror.pcap"
    path.write_bytes(pcap(nfc_session(host="10.10.0.11", node="10.28.0.52", host_mac="00:50:56:6c:31:10",
                                      data_mac="00:50:56:6c:31:14")))
    p = _run(labs.load("rubrik-mixed-speed"), path)[("esx01.corp.local", "rubrik-node2")]
    assert p.check is Check.CONFIRMED
    assert [f.subject for f in p.facts] == ["endpoint", "connection", "ingress vmk", "egress vmk"]
    assert all(f.agrees for f in p.facts)


def test_esxtop_from_a_host_with_an_unknown_vmk_contradicts(tmp_path):
    csv = tmp_path / "esx02.csv"
    write(csv, "esx02", REPORT2_PORTS, 60, report2_rates())  # short name; vmk4 is not in the snapshot
    p = _run(labs.load("rubrik-mixed-speed"), csv)[("esx02.corp.local", "rubrik-node1")]
    assert p.check is Check.CONTRADICTED
    assert p.reason.startswith("egress vmk: predicted vmk0, observed vmk4 sent")


def test_esxtop_cannot_blame_a_node_another_pair_explains(tmp_path):
    # gold-01: vbr-proxy-a is predicted to send from vmk2, vbr-proxy-r from vmk0. vmk2 sends.
    def rates(client, i):
        return {"vmk2": (2000.0 + i % 7, 0.1), "vmnic2": (2000.5 + i % 7, 0.1)}.get(client, (0.2, 0.2))

    csv = tmp_path / "gold01.csv"
    write(csv, "gold-01.corp.local", ["vSwitch0:1:vmk0", "vSwitch0:2:vmk2", "vSwitch0:3:vmnic0",
                                      "vSwitch0:4:vmnic2"], 30, rates)
    pairs = _run(labs.load("mixed-estate"), csv)
    a = pairs[("gold-01.corp.local", "vbr-proxy-a")]
    assert [(f.subject, f.agrees) for f in a.facts] == [("egress vmk", True), ("uplink", True)]
    r = pairs[("gold-01.corp.local", "vbr-proxy-r")]
    assert r.check is Check.INCONCLUSIVE
    (egress,) = r.facts
    assert egress.agrees is None and "another node's path explains vmk2" in egress.note


def test_unreachable_confirmed_by_failure_and_contradicted_by_data(tmp_path):
    snap = labs.load("veeam-tag-unreachable")
    log = tmp_path / "vix.log"
    log.write_text("2026-11-21 08:20:55,964.964 INFO: Logger.cpp: ...: NBD_ClientOpen: Couldn't connect to "
                   "esx01.lab.local:902 Failed to connect to server 10.99.0.11:902\n")
    (p,) = _run(snap, log).values()
    assert p.check is Check.CONFIRMED and p.reason == "the connection failed as predicted (UNREACHABLE)"
    cap = tmp_path / "ok.pcap"
    cap.write_bytes(pcap(nfc_session(host="10.99.0.11", node="10.10.0.50", host_mac="00:50:56:6c:21:12")))
    (p,) = _run(snap, cap).values()
    assert p.check is Check.CONTRADICTED and "connection: predicted UNREACHABLE" in p.reason
    (p,) = _run(snap).values()
    assert p.check is Check.INCONCLUSIVE and "connect failure to 10.99.0.11:902" in p.settle[0]


def test_mixed_estate_log_endpoints():
    report = _report(labs.load("mixed-estate"), DATA / "vixDiskLib-nbd.log")
    pairs = {(p.host, p.node): p for p in report.pairs}
    gold = pairs[("gold-01.corp.local", "vbr-proxy-a")]
    (endpoint,) = [f for f in gold.facts if f.subject == "endpoint"]  # lines 3 and 4 say the same
    assert endpoint.agrees and endpoint.source.endswith("vixDiskLib-nbd.log: line 3 (+1 more)")
    legacy = pairs[("legacy-01.corp.local", "commvault-ma1")]  # named by host name, no dns entry
    assert [(f.observed, f.agrees) for f in legacy.facts] == [("legacy-01.corp.local = 10.10.0.121 (vmk0)", True)]
    # Four nodes: the log cannot say whose connection to gold-03 failed.
    failure = [f for f in pairs[("gold-03.corp.local", "vbr-proxy-a")].facts if f.subject == "connection"]
    assert failure and all(f.agrees is None and "does not name the node" in f.note for f in failure)
    assert {p.check for p in report.pairs} == {Check.INCONCLUSIVE}
    assert report.unmatched == ()


def test_unmatched_flows_and_json(tmp_path):
    path = tmp_path / "stray.pcap"
    path.write_bytes(pcap(nfc_session(host="192.0.2.1", node="10.28.0.51")))
    report = _report(labs.load("rubrik-mixed-speed"), path)
    assert len(report.unmatched) == 1 and "192.0.2.1:902: host address" in report.unmatched[0]
    d = json.loads(json.dumps(report.to_dict()))
    assert d["version"] == 1 and d["kind"] == "verify" and len(d["pairs"]) == 4
    assert {p["check"] for p in d["pairs"]} == {"INCONCLUSIVE"}


# ----------------------------------------------------- real kernel captures

NETNS_SNAPSHOT = """
version: 1
name: netns-report2
segments:
  - {{name: mgmt, subnets: [10.92.1.0/24]}}
  - {{name: data, subnets: [10.92.2.0/24]}}
routers:
  - name: core
    interfaces: [{{name: a, address: 10.92.1.2/24}}, {{name: b, address: 10.92.2.254/24}}]
hosts:
  - name: nshost
    version: 7.0.3
    management_address: 10.92.1.1
    pnics: [{{name: vmnic0, speed_mbps: 1000}}, {{name: vmnic2, speed_mbps: 10000}}]
    vswitches:
      - name: vSwitch0
        uplinks: [vmnic0, vmnic2]
        portgroups:
          - {{name: Management Network, teaming: {{active: [vmnic0], unused: [vmnic2]}}}}
          - {{name: DATA, teaming: {{active: [vmnic2], unused: [vmnic0]}}}}
    netstacks: [{{key: defaultTcpipStack, gateway: 10.92.1.2}}]
    vmks:
      - {{device: vmk0, portgroup: Management Network, ipv4: 10.92.1.1/24, mac: "{vmk0}", services: [management]}}
      - {{device: vmk4, portgroup: DATA, ipv4: 10.92.2.1/24, mac: "{vmk4}"{vmk4_services}}}
backup_nodes:
  - name: nsnode
    gateway: 10.92.2.254
    interfaces: [{{name: eth0, address: 10.92.2.2/24, speed_mbps: 10000}}]
"""


def _netns_snapshot(macs, tagged=False):
    return parse(NETNS_SNAPSHOT.format(vmk0=macs["vmk0"], vmk4=macs["vmk4"],
                                       vmk4_services=", services: [vSphereBackupNFC]" if tagged else ""))


@pytest.mark.lab
@pytest.mark.parametrize("which", ["asymmetric_pcapng", "asymmetric_any"])
def test_real_asymmetric_flow_confirms_report2(which, request):
    t = request.getfixturevalue(which)
    snap = _netns_snapshot(t.macs)
    (path,) = trace(snap)
    assert (path.outcome.ingress_vmk, path.outcome.egress_vmk) == ("vmk0", "vmk4")  # the engine's prediction
    (p,) = verify(snap, [path], [read_evidence(t.capture)]).pairs
    assert p.check is Check.CONFIRMED, p.reason
    assert p.observed_endpoint == "10.92.1.1 (vmk0)"
    assert p.observed_egress_vmk == f"vmk4 (source MAC {t.macs['vmk4']})"


@pytest.mark.lab
def test_real_flow_contradicts_a_tag_that_was_not_used(asymmetric_pcapng):
    snap = _netns_snapshot(asymmetric_pcapng.macs, tagged=True)
    (p,) = verify(snap, trace(snap), [read_evidence(asymmetric_pcapng.capture)]).pairs
    assert p.predicted_endpoint == "10.92.2.1 (vmk4)"
    assert p.check is Check.CONTRADICTED
    assert p.reason.startswith("endpoint: predicted 10.92.2.1 (vmk4), observed 10.92.1.1 (vmk0)")
