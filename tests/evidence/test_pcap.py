"""pcap / pcapng reader: real tcpdump/dumpcap captures, hand-built frames, damage, fuzz."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frames import ACK, SYN, nfc_session, pcap, pcapng, tcp_frame
from nbdpath.evidence import CaptureSummary, read_evidence
from nbdpath.evidence.pcap import is_capture, read_capture


def _read(data: bytes) -> CaptureSummary:
    result = read_capture(io.BytesIO(data), "mem.pcap")
    assert result is not None
    return result


def _tshark_payload(path: Path) -> dict[bool, int]:
    """Payload bytes per direction (True: to port 902) as tshark counts them."""
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "tcp.port == 902", "-T", "fields",
                          "-e", "tcp.dstport", "-e", "tcp.len"], check=True, capture_output=True, text=True).stdout
    totals = {True: 0, False: 0}
    for line in out.splitlines():
        dport, length = line.split("\t")
        totals[dport == "902"] += int(length)
    return totals


# ------------------------------------------------------------ real captures


@pytest.mark.lab
def test_symmetric_tcpdump_pcap(symmetric_capture):
    cap = read_evidence(symmetric_capture.capture)
    assert cap.format == "pcap" and not cap.truncated and cap.skipped == ()
    (flow,) = cap.flows
    assert (flow.host_ip, flow.host_port, flow.node_ip) == ("10.91.0.1", 902, "10.91.0.2")
    assert flow.syn_at <= flow.synack_at <= flow.ack_at
    assert flow.to_host_bytes == len(b"OPEN disk")
    assert flow.to_node_bytes > 1 << 20  # most of the 4 MiB (the kernel may drop some from the capture)
    assert flow.data_mac == symmetric_capture.macs["vmk0"]
    assert abs(flow.first_seen - time.time()) < 3600  # microsecond pcap timestamps decoded


@pytest.mark.lab
def test_byte_counts_match_tshark(symmetric_capture, asymmetric_any):
    if shutil.which("tshark") is None:
        pytest.skip("needs tshark as the reference")
    for t in (symmetric_capture, asymmetric_any):
        (flow,) = read_evidence(t.capture).flows
        ref = _tshark_payload(t.capture)
        assert (flow.to_host_bytes, flow.to_node_bytes) == (ref[True], ref[False])


@pytest.mark.lab
def test_asymmetric_pcapng_keeps_interface_names(asymmetric_pcapng):
    t = asymmetric_pcapng
    cap = read_evidence(t.capture)
    assert cap.format == "pcapng"
    names = {i.name for i in cap.interfaces}
    vmk_of = {name: t.macs[name] for name in names}
    assert sorted(vmk_of.values()) == ["vmk0", "vmk4"]
    (flow,) = cap.flows
    # The request arrives on "vmk0"'s link, the data leaves by "vmk4"'s.
    assert [vmk_of[i] for i in flow.to_host_interfaces] == ["vmk0"]
    assert [vmk_of[i] for i in flow.to_node_interfaces] == ["vmk4"]
    assert flow.data_mac == t.macs["vmk4"]
    assert flow.to_host_dst_macs[0][0] == t.macs["vmk0"]
    assert flow.handshake_complete and flow.first_seen <= flow.syn_at
    if shutil.which("tshark"):
        ref = _tshark_payload(t.capture)
        assert (flow.to_host_bytes, flow.to_node_bytes) == (ref[True], ref[False])


@pytest.mark.lab
def test_asymmetric_any_cooked_nanosecond(asymmetric_any):
    cap = read_evidence(asymmetric_any.capture)
    assert [i.linktype for i in cap.interfaces] == [276]  # LINKTYPE_LINUX_SLL2
    (flow,) = cap.flows
    assert flow.data_mac == asymmetric_any.macs["vmk4"]
    assert abs(flow.first_seen - time.time()) < 3600  # nanosecond magic scaled right
    assert flow.synack_at - flow.syn_at < 1.0


@pytest.mark.lab
@pytest.mark.parametrize("which", ["symmetric_capture", "asymmetric_pcapng"])
def test_truncated_real_capture_gives_partial_result(which, request, tmp_path):
    t = request.getfixturevalue(which)
    data = t.capture.read_bytes()
    whole = read_evidence(t.capture).flows[0]
    cut = tmp_path / ("cut" + t.capture.suffix)
    cut.write_bytes(data[: len(data) * 2 // 3 + 7])
    cap = read_evidence(cut)
    assert cap.truncated
    (note,) = cap.skipped
    assert note.where.startswith("byte ") and "partial" in note.what
    (flow,) = cap.flows
    assert (flow.host_ip, flow.node_ip, flow.node_port) == (whole.host_ip, whole.node_ip, whole.node_port)
    assert 0 < flow.to_node_packets + flow.to_host_packets < whole.to_node_packets + whole.to_host_packets
    assert flow.to_node_bytes <= whole.to_node_bytes


# ------------------------------------------------------------- hand-built


def test_handshake_bytes_and_macs_from_frames():
    cap = _read(pcap(nfc_session(data_mac="00:50:56:6c:00:04", blocks=3, block=1000)))
    (flow,) = cap.flows
    assert (flow.syn_at, flow.synack_at, flow.ack_at) == (1700000000.0, 1700000000.001, 1700000000.002)
    assert (flow.to_host_packets, flow.to_host_bytes, flow.to_node_packets, flow.to_node_bytes) == (3, 10, 4, 3000)
    assert flow.to_node_src_macs == (("00:50:56:6c:00:04", 3000),)
    assert flow.to_host_dst_macs == (("00:50:56:6c:00:02", 3),)


@pytest.mark.parametrize("nano,big", [(False, False), (True, False), (False, True), (True, True)])
def test_pcap_variants(nano, big):
    (flow,) = _read(pcap(nfc_session(t0=1700000000.5), nano=nano, big=big)).flows
    assert flow.syn_at == pytest.approx(1700000000.5, abs=1e-6)
    assert flow.to_node_bytes == 4 * 1400


def test_vlan_ipv6_and_other_traffic():
    frames = nfc_session(vlan=28) + nfc_session(host="fd00::11", node="fd00::50", t0=1700000100.0)
    frames.append((1700000200.0, tcp_frame("00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1",
                                           "10.0.0.2", 443, 50000, ACK, 100)))
    cap = _read(pcap(frames))
    assert [(f.host_ip, f.to_node_bytes) for f in cap.flows] == [("10.0.0.11", 5600), ("fd00::11", 5600)]
    assert cap.other_packets == 1


def test_pcapng_names_and_resolution():
    frames = nfc_session(t0=1700000000.25)
    packets = [(0 if i % 2 == 0 else 1, ts, f) for i, (ts, f) in enumerate(frames)]
    cap = _read(pcapng(["vmk0", "vmk4"], packets, tsresol=9))
    assert [i.name for i in cap.interfaces] == ["vmk0", "vmk4"]
    (flow,) = cap.flows
    assert flow.syn_at == pytest.approx(1700000000.25, abs=1e-6)
    assert set(flow.to_node_interfaces) == {"vmk0", "vmk4"}


def test_corrupt_record_header_stops_with_offset():
    good = pcap(nfc_session())
    first = 24 + 16 + len(nfc_session()[0][1])
    damaged = bytearray(good)
    damaged[first + 8:first + 12] = (0x7FFFFFFF).to_bytes(4, "little")
    cap = _read(bytes(damaged))
    assert cap.truncated and cap.packets == 1
    assert cap.skipped[0].where == f"byte {first}" and "corrupt" in cap.skipped[0].what


def test_pcapng_bad_block_length():
    data = bytearray(pcapng(["eth0"], [(0, 1.0, f) for _, f in nfc_session()]))
    data[-4:] = b"\xfc\xff\x00\x00"  # last block's trailer no longer matches
    cap = _read(bytes(data))
    assert cap.truncated and "trailer" in cap.skipped[0].what


def test_header_only_and_not_a_capture(tmp_path):
    assert read_capture(io.BytesIO(b"hello world"), "x") is None
    cap = _read(pcap([])[:10])
    assert cap.truncated and cap.flows == ()


def test_unknown_link_type_is_reported():
    cap = _read(pcap(nfc_session(), linktype=147))
    assert cap.flows == () and cap.undecoded_packets == len(nfc_session())
    assert "link type 147" in cap.skipped[0].what


# -------------------------------------------------------------------- fuzz

_SEEDS = [pcap(nfc_session()), pcap(nfc_session(), nano=True, big=True),
          pcapng(["a", "b"], [(i % 2, ts, f) for i, (ts, f) in enumerate(nfc_session())])]


@st.composite
def _damaged(draw):
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) + draw(st.binary(max_size=64))


def test_fuzz_capture_reader():
    tried = 0

    @settings(max_examples=600, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(_damaged(), st.binary(max_size=512).map(lambda b: b"\xd4\xc3\xb2\xa1" + b),
                     st.binary(max_size=512).map(lambda b: b"\x0a\x0d\x0d\x0a" + b)))
    def run(data):
        nonlocal tried
        tried += 1
        result = read_capture(io.BytesIO(data), "fuzz")
        if not is_capture(data[:4]):
            assert result is None
            return
        assert isinstance(result, CaptureSummary)
        assert all(f.to_node_bytes >= 0 and f.to_host_bytes >= 0 for f in result.flows)

    run()
    print(f"capture fuzz: {tried} inputs, 0 crashes")
    assert tried >= 300


def test_memory_does_not_grow_with_capture_size(tmp_path, monkeypatch):
    import tracemalloc

    from nbdpath.evidence import pcap as reader

    monkeypatch.setattr(reader, "CHUNK", 1 << 20)  # small chunks: small files span many
    one = pcap(nfc_session(blocks=60, block=1400))
    header, records = one[:24], one[24:]
    peaks = []
    for copies in (30, 120):  # ~2.7 MB and ~11 MB
        path = tmp_path / f"{copies}.pcap"
        path.write_bytes(header + records * copies)
        tracemalloc.start()
        cap = read_evidence(path)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert cap.packets == copies * 64
    assert peaks[1] < peaks[0] * 1.2 and peaks[1] < 4 * reader.CHUNK, peaks
