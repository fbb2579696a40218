"""Hostile evidence files: crashes, super-linear regexes and unbounded sizes (issue 8).

Each bad file ends in one clear exit-2 line naming it, or in the documented
partial answer (a summary plus ``nbdpath: warning: FILE: WHERE: WHAT`` lines);
never a traceback, a hang, or work / memory that grows faster than the file.
"""

from __future__ import annotations

import errno
import io
import os
import re
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evidence"))
from esxtopgen import REPORT2_PORTS, q, report2_rates, write  # noqa: E402
from frames import _block, nfc_session, pcap, pcapng, tcp_frame, SYN, ACK  # noqa: E402

from nbdpath.cli import main  # noqa: E402
from nbdpath.evidence import CaptureSummary, EsxtopSummary, read_evidence  # noqa: E402
from nbdpath.evidence import esxtop, pcap as pcap_reader, vddk  # noqa: E402
from nbdpath.evidence.observations import MAX_NOTES  # noqa: E402

_SETTINGS = settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
_SHB = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def _idb(linktype: int, name: str = "") -> bytes:
    opts = (struct.pack("<HH", 2, len(name)) + name.encode() + bytes(-len(name) % 4)) if name else b""
    return _block(1, struct.pack("<HHI", linktype, 0, 262144) + opts)


def _main(capsys, *args: str) -> tuple[int, str, str]:
    """The command line in this process: exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _summarize(capsys, *args: str) -> tuple[int, str, str]:
    return _main(capsys, "evidence", "summarize", *args)


def _one_error_line(err: str, name: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"nbdpath: error: {name}: "), err
    assert "Traceback" not in err and "internal error" not in err
    return lines[0]


def _only_warnings(err: str, name: str) -> list[str]:
    lines = err.strip().splitlines()
    assert all(line.startswith(f"nbdpath: warning: {name}: ") for line in lines), err
    return lines


# ------------------------------------------------------------ pcapng blocks


def _good_pcapng() -> bytes:
    return pcapng(["eth0"], [(0, ts, f) for ts, f in nfc_session()])


@pytest.mark.parametrize("code,name", [(6, "enhanced packet block"), (2, "packet block")])
@pytest.mark.parametrize("length", [12, 16, 20, 28])
def test_short_packet_block_at_the_end_is_a_warning(tmp_path, capsys, code, name, length):
    body = bytes(length - 12)
    path = tmp_path / "short.pcapng"
    path.write_bytes(_good_pcapng() + struct.pack("<II", code, length) + body + struct.pack("<I", length))
    rc, out, err = _summarize(capsys, str(path))
    assert rc == 0
    (warning,) = _only_warnings(err, str(path))
    assert f"{name} of {length} bytes is shorter than its 32-byte fixed part" in warning
    assert "TCP 902 connections: 1" in out  # what came before is kept


@pytest.mark.parametrize("linktype", [101, 228, 229, 12, 14, 0, 1])
@pytest.mark.parametrize("length,orig", [(12, 0), (16, 0), (16, 1500), (20, 4000)])
def test_simple_packet_block_on_any_link_type(tmp_path, capsys, linktype, length, orig):
    path = tmp_path / "spb.pcapng"
    body = struct.pack("<I", orig) + bytes(max(0, length - 16)) if length >= 16 else b""
    path.write_bytes(_SHB + _idb(linktype) + struct.pack("<II", 3, length) + body + struct.pack("<I", length))
    rc, out, err = _summarize(capsys, str(path))
    assert rc == 0
    cap = read_evidence(path)
    assert cap.bytes >= 0 and cap.flows == ()
    if length < 16:
        (warning,) = _only_warnings(err, str(path))
        assert "simple packet block of 12 bytes is shorter" in warning and cap.packets == 0
    else:
        assert err == "" and cap.packets == 1 and cap.undecoded_packets + cap.other_packets == 1


def test_simple_packet_block_on_raw_ip_is_decoded():
    frame = tcp_frame("00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.50", "10.0.0.11", 40000, 902, SYN)
    ip = frame[14:]
    data = _SHB + _idb(101) + _block(3, struct.pack("<I", len(ip)) + ip)
    cap = pcap_reader.read_capture(io.BytesIO(data), "raw.pcapng")
    (flow,) = cap.flows
    assert (flow.node_ip, flow.host_ip, flow.syn_at) == ("10.0.0.50", "10.0.0.11", 0.0)


@pytest.mark.parametrize("length", [0xFFFFFFF0, 0x7FFFFFFC, 16 << 20, (16 << 20) + 4, 13])
def test_huge_or_odd_block_length(tmp_path, capsys, length):
    path = tmp_path / "huge.pcapng"
    path.write_bytes(_good_pcapng() + struct.pack("<II", 6, length) + bytes(64))
    rc, out, err = _summarize(capsys, str(path))
    assert rc == 0 and "TRUNCATED" in out
    (warning,) = _only_warnings(err, str(path))
    assert re.search(r": byte \d+: ", warning)


def test_interface_option_running_past_its_block():
    idb = _block(1, struct.pack("<HHI", 1, 0, 262144) + struct.pack("<HH", 9, 200))
    cap = pcap_reader.read_capture(io.BytesIO(_SHB + idb), "opt.pcapng")
    assert [i.name for i in cap.interfaces] == ["if0"]


# --------------------------------------------- files that are not files at all


def _run(*args: str) -> subprocess.CompletedProcess:
    # A subprocess with a timeout: a reader that blocks on a FIFO fails the test instead of hanging it.
    return subprocess.run([sys.executable, "-m", "nbdpath", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("kind", [None, "capture", "esxtop", "log"])
def test_fifo_is_refused_without_blocking(tmp_path, kind):
    fifo = tmp_path / "capture.pcap"
    os.mkfifo(fifo)
    r = _run("evidence", "summarize", str(fifo), *(["--kind", kind] if kind else []))
    assert r.returncode == 2
    assert "not a FIFO" in _one_error_line(r.stderr, str(fifo))


def test_fifo_in_verify_is_refused(tmp_path):
    fifo = tmp_path / "esx01.csv"
    os.mkfifo(fifo)
    r = _run("verify", "--lab", "rubrik-mixed-speed", "-e", str(fifo))
    assert r.returncode == 2 and "not a FIFO" in _one_error_line(r.stderr, str(fifo)) and r.stdout == ""


def _socket_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.log"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    return path


@pytest.mark.parametrize("what,needle", [
    ("directory", "not a directory"),
    ("/dev/null", "not a character device"),
    ("/dev/zero", "not a character device"),
    ("socket", "not a socket"),
    ("/proc/self/mem", "read failed: Input/output error"),
    ("missing", "an existing file"),
])
@pytest.mark.parametrize("kind", [None, "capture", "esxtop", "log"])
def test_special_and_unreadable_files_are_one_line(tmp_path, capsys, what, needle, kind):
    path = {"directory": str(tmp_path), "socket": None, "missing": str(tmp_path / "none.pcap")}.get(what, what)
    if path is None:
        path = str(_socket_file(tmp_path))
    if not os.path.exists(path) and what != "missing":
        pytest.skip(f"{what} does not exist here")
    rc, out, err = _summarize(capsys, path, *(["--kind", kind] if kind else []))
    assert rc == 2 and out == ""
    assert needle in _one_error_line(err, path)


def test_read_error_midway_is_one_line(tmp_path, monkeypatch, capsys):
    import nbdpath.evidence.files as files

    def fails_after_a_while(stream, name):
        stream.read(10)
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    path = tmp_path / "big.log"
    path.write_text("vpxa-nfc://d@h:902\n" * 1000)
    monkeypatch.setattr(files, "read_log", fails_after_a_while)
    rc, out, err = _summarize(capsys, str(path))
    assert rc == 2 and out == ""
    assert "read failed: Input/output error" in _one_error_line(err, str(path))


# ----------------------------------------------------- text that is not text


def test_esxtop_not_utf8_and_nul_bytes(tmp_path, capsys):
    path = tmp_path / "esx.csv"
    write(path, "esx01", REPORT2_PORTS, 30, report2_rates())
    data = path.read_bytes().replace(b"esx01", b"esx\xe9\x0001", 1)
    lines = data.split(b"\r\n")
    lines[4] = lines[4].replace(b'"', b'"\x00', 3)
    lines[6] = b"\x00" * 500
    path.write_bytes(b"\r\n".join(lines))
    rc, out, err = _summarize(capsys, str(path))
    assert rc == 0
    warnings = _only_warnings(err, str(path))
    assert any("not valid UTF-8" in w for w in warnings) and any("line 7: row has" in w for w in warnings)
    top = read_evidence(path)
    assert isinstance(top, EsxtopSummary) and top.transmitting_vmk == "vmk4"


@pytest.mark.parametrize("data", [
    b"\x00" * 5000 + b"\nvpxa-nfc://[ds] a/a.vmdk@10.0.0.1:902\x00\x00\n",
    bytes(range(256)) * 40,
    b"\xff\xfe" + "vpxa-nfc://d@h:902\n".encode("utf-16-le") + b"\x00",  # odd UTF-16 tail
    b"\xff\xfe" + b"\x00\xd8\x41\x00\n\x00",  # a lone surrogate
    "vpxa-nfc://d@h:902\n".encode("utf-32"),
    b"\xfe\xff" + b"\xd8",
    "caf\u00e9 vpxa-nfc://d@h:902\n".encode("latin-1"),
])
def test_log_in_any_encoding_or_none(tmp_path, capsys, data):
    path = tmp_path / "x.log"
    path.write_bytes(data)
    rc, out, err = _summarize(capsys, str(path), "--kind", "log")
    assert rc == 0 and out.startswith(f"{path}: backup log")
    _only_warnings(err, str(path))
    rc, out, err = _summarize(capsys, str(path), "--kind", "log", "--format", "json")
    assert rc == 0


def test_utf32_log_is_read():
    log = vddk.read_log(io.BytesIO("vpxa-nfc://[ds] a.vmdk@10.0.0.1:902\n".encode("utf-32")), "u32.log")
    assert log.encoding == "utf-32" and [t.address for t in log.targets] == ["10.0.0.1"]


# ------------------------------------- generated damage to real small captures


def _seeds() -> list[bytes]:
    session = nfc_session(data_mac="00:50:56:6c:00:04")
    raw = [(ts, f[14:]) for ts, f in session]
    spb = b"".join(_block(3, struct.pack("<I", len(f)) + f) for _, f in raw)
    return [
        pcap(session), pcap(session, nano=True, big=True), pcap(raw, linktype=101),
        pcapng(["vmk0", "vmk4"], [(i % 2, ts, f) for i, (ts, f) in enumerate(session)], tsresol=9),
        _SHB + _idb(228, "raw0") + spb,
    ]


_SEED_FILES = _seeds()


def _boundaries(data: bytes) -> list[int]:
    """Offsets where a pcapng block ends (the whole file's blocks are well formed)."""
    out, pos = [], 0
    while pos < len(data):
        pos += struct.unpack_from("<I", data, pos + 4)[0]
        out.append(pos)
    return out


@st.composite
def _damaged_capture(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(_SEED_FILES)))
    if draw(st.booleans()):  # a header claiming a huge or odd length
        at = draw(st.integers(0, len(data)))
        length = draw(st.sampled_from([13, 0xFFFFFFFC, 1 << 20, 16 << 20]))
        data[at:at] = struct.pack("<II", draw(st.sampled_from([2, 3, 6])), length)
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    return bytes(data[:draw(st.integers(0, len(data)))])


_FIXED_PART = {1: 20, 2: 32, 3: 16, 6: 32}  # pcapng block type -> bytes before any option or packet data


@st.composite
def _small_block(draw) -> tuple[bytes, bool]:
    """A well-framed small block between two blocks or last (framing alone passes it), and whether
    it is too short for its type."""
    seed = draw(st.sampled_from([s for s in _SEED_FILES if s[:4] == b"\x0a\x0d\x0d\x0a"]))
    at = draw(st.sampled_from(_boundaries(seed)))
    length = draw(st.sampled_from([12, 16, 20, 24, 28]))
    btype = draw(st.sampled_from(sorted(_FIXED_PART)))
    block = struct.pack("<II", btype, length) + bytes(length - 12) + struct.pack("<I", length)
    data = seed[:at] + block + seed[at:]
    return (data[:at + length] if draw(st.booleans()) else data), length < _FIXED_PART[btype]


def _never_traceback(tmp_path, capsys, data: bytes) -> CaptureSummary | None:
    path = tmp_path / "damaged.pcapng"
    path.write_bytes(data)
    rc, out, err = _summarize(capsys, str(path), "--kind", "capture")
    if rc == 2:  # the magic itself was damaged: not a capture
        assert "a pcap or pcapng file" in _one_error_line(err, str(path))
        return None
    assert rc == 0
    _only_warnings(err, str(path))
    cap = read_evidence(path, "capture")
    assert isinstance(cap, CaptureSummary) and cap.bytes >= 0 and len(cap.skipped) <= 8 * (MAX_NOTES + 1)
    assert all(f.to_node_bytes >= 0 and f.to_host_bytes >= 0 for f in cap.flows)
    return cap


def test_damaged_captures_never_traceback(tmp_path, capsys):
    tried = 0

    @_SETTINGS
    @given(_damaged_capture())
    def run(data):
        nonlocal tried
        tried += 1
        _never_traceback(tmp_path, capsys, data)

    run()
    assert tried >= 50


def test_short_blocks_anywhere_are_skipped_with_a_warning(tmp_path, capsys):
    @_SETTINGS
    @given(_small_block())
    def run(case):
        data, short = case
        cap = _never_traceback(tmp_path, capsys, data)
        assert any("shorter than its" in s.what for s in cap.skipped) == short

    run()


def test_every_cut_of_a_small_pcapng_is_partial_not_fatal():
    data = _SEED_FILES[3]
    whole = pcap_reader.read_capture(io.BytesIO(data), "x")
    for cut in range(4, len(data)):
        cap = pcap_reader.read_capture(io.BytesIO(data[:cut]), "x")
        assert cap.packets <= whole.packets
        assert cap.truncated == (cut not in _boundaries(data)), cut


# -------------------------------------------------------------- caps: pcap


def _syn(i: int, sport: int = 40000) -> bytes:
    node = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    return tcp_frame("00:50:56:aa:00:50", "00:50:56:6c:00:02", node, "10.200.0.11", sport, 902, SYN)


def _data(i: int, blocks: int) -> list[tuple[float, bytes]]:
    node = f"10.250.{i >> 8}.{i & 255}"
    return [(1.0, tcp_frame("00:50:56:6c:00:04", "00:50:56:aa:00:50", "10.200.0.11", node, 902, 41000, ACK, 1000))
            for _ in range(blocks)]


def test_flow_cap_keeps_the_connections_that_carried_data(monkeypatch):
    monkeypatch.setattr(pcap_reader, "MAX_FLOWS", 40)
    tried = 0

    @_SETTINGS
    @given(st.integers(41, 300), st.lists(st.tuples(st.integers(0, 300), st.integers(1, 5)), max_size=10))
    def run(light, heavy_at):
        nonlocal tried
        tried += 1
        frames = [(1.0, _syn(i)) for i in range(light)]
        for k, (at, blocks) in enumerate(sorted(heavy_at, reverse=True)):
            frames[at:at] = _data(k, blocks)  # each data flow's packets in one run
        cap = pcap_reader.read_capture(io.BytesIO(pcap(frames)), "many.pcap")
        assert len(cap.flows) == 40  # never more, whatever the capture holds
        kept = {f.node_ip: f.to_node_bytes for f in cap.flows if f.to_node_bytes}
        assert kept == {f"10.250.0.{k}": 1000 * b for k, (_, b) in enumerate(sorted(heavy_at, reverse=True))}
        (note,) = [s for s in cap.skipped if "TCP 902 connections" in s.what]
        assert f"kept the 40 that carried the most payload; {light + len(heavy_at) - 40} " in note.what

    run()
    assert tried >= 50


def test_flow_cap_at_its_real_size():
    n = pcap_reader.MAX_FLOWS + 500
    cap = pcap_reader.read_capture(io.BytesIO(pcap([(1.0, _syn(i)) for i in range(n)] + _data(0, 3))), "x")
    assert len(cap.flows) == pcap_reader.MAX_FLOWS
    assert any(f.to_node_bytes == 3000 for f in cap.flows)


def test_macs_and_interfaces_per_flow_are_capped():
    frames = [(1.0, tcp_frame(f"00:50:56:00:{i >> 8:02x}:{i & 255:02x}", "00:50:56:aa:00:50", "10.0.0.11",
                               "10.0.0.50", 902, 40000, ACK, 10)) for i in range(300)]
    (flow,) = pcap_reader.read_capture(io.BytesIO(pcap(frames)), "x").flows
    assert len(flow.to_node_src_macs) == pcap_reader.MAX_PER_FLOW and flow.to_node_bytes == 3000
    names = [f"if{i}" for i in range(pcap_reader.MAX_INTERFACES + 20)]
    packets = [(i, 1.0, f) for i, (_, f) in enumerate(frames)]
    cap = pcap_reader.read_capture(io.BytesIO(pcapng(names, packets)), "x")
    assert len(cap.interfaces) == pcap_reader.MAX_INTERFACES
    (flow,) = cap.flows
    assert len(flow.to_node_interfaces) == pcap_reader.MAX_PER_FLOW
    assert any(f"more than {pcap_reader.MAX_INTERFACES} interfaces" in s.what for s in cap.skipped)


def test_notes_per_file_are_bounded():
    bad = struct.pack("<III", 6, 12, 12) * 5000
    cap = pcap_reader.read_capture(io.BytesIO(_good_pcapng() + bad), "x")
    assert len(cap.skipped) == MAX_NOTES + 1
    assert cap.skipped[-1].what == f"5000 short blocks in all (first {MAX_NOTES} listed)"


# ------------------------------------------------------------ caps: esxtop


def _ports_csv(path: Path, clients: list[str], rows: int, rate) -> None:
    header = ["(PDH-CSV 4.0) (UTC)(0)"]
    for k, c in enumerate(clients):
        for counter in ("MBits Transmitted/sec", "MBits Received/sec"):
            header.append(f"\\\\esx01\\Network Port(vSwitch0:{1000 + k}:{c})\\{counter}")
    with open(path, "w", newline="") as f:
        f.write(",".join(q(c) for c in header) + "\r\n")
        for r in range(rows):
            cells = [f"08:00:{r:02d}"] + [f"{v:.2f}" for c in clients for v in (rate(c, r), 0.5)]
            f.write(",".join(q(c) for c in cells) + "\r\n")


def test_port_cap(tmp_path):
    path = tmp_path / "ports.csv"
    clients = [f"{i}:vm{i}.eth0" for i in range(esxtop.MAX_PORTS + 7)]
    _ports_csv(path, clients, 3, lambda c, r: 1.0)
    top = read_evidence(path)
    assert len(top.ports) == esxtop.MAX_PORTS and top.samples == 3
    assert any(f"more than {esxtop.MAX_PORTS} Network Ports" in s.what and "14 more column" in s.what
               for s in top.skipped)


def test_correlation_cap_keeps_the_busiest(tmp_path):
    n = esxtop.MAX_CORRELATED + 8
    clients = [f"vmk{i}" for i in range(n)] + [f"vmnic{i}" for i in range(n)]

    def rate(client: str, r: int) -> float:
        # The last vmk and vmnic in the header carry the backup, in step.
        if client in (f"vmk{n - 1}", f"vmnic{n - 1}"):
            return 1000.0 + (r * 37 % 11) * 50
        return (r * 13 % 7) / 10

    path = tmp_path / "many.csv"
    _ports_csv(path, clients, 20, rate)
    top = read_evidence(path)
    assert len(top.uplink_matches) == esxtop.MAX_CORRELATED ** 2
    assert top.transmitting_vmk == f"vmk{n - 1}" and top.uplink.vmnic == f"vmnic{n - 1}"
    assert any(f"more than {esxtop.MAX_CORRELATED} vmks or vmnics" in s.what for s in top.skipped)


def test_long_esxtop_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(esxtop, "MAX_LINE", 4096)
    path = tmp_path / "long.csv"
    write(path, "esx01", REPORT2_PORTS[:3], 10, report2_rates())
    lines = path.read_bytes().split(b"\r\n")
    lines[3] = lines[3][:-1] + b"0" * 10000 + b'"'
    path.write_bytes(b"\r\n".join(lines))
    top = read_evidence(path)
    assert top.samples == 9
    assert [s.where for s in top.skipped] == ["line 4"] and "longer than" in top.skipped[0].what
    path.write_bytes(b'"(PDH-CSV 4.0)' + b"x" * 10000 + b"\r\n" + b"\r\n".join(lines[1:]))
    top = read_evidence(path, "esxtop")
    assert top.ports == () and top.samples == 0 and "header longer than" in top.skipped[0].what


# ---------------------------------------------------------------- caps: logs


def test_target_and_failure_caps(tmp_path):
    n = vddk.MAX_TARGETS + 50
    path = tmp_path / "many.log"
    with open(path, "w") as f:
        for i in range(n):
            f.write(f"vpxa-nfc://[ds] vm/vm.vmdk@10.1.{i >> 8 & 255}.{i & 255}:902\n")
        for i in range(vddk.MAX_TARGETS + 30):  # only repeats of kept ones
            f.write("vpxa-nfc://[ds] vm/vm.vmdk@10.1.0.0:902\n")
        for i in range(vddk.MAX_FAILURES + 5):
            f.write(f"CnxOpenTCPSocket: Cannot connect to server 10.9.{i >> 8 & 255}.{i & 255}:902\n")
    log = read_evidence(path)
    assert len(log.targets) == vddk.MAX_TARGETS and len(log.failures) == vddk.MAX_FAILURES
    texts = [s.what for s in log.skipped]
    assert f"more than {vddk.MAX_TARGETS} NFC targets: the first {vddk.MAX_TARGETS} are kept; " \
           f"{50 + vddk.MAX_TARGETS + 30} later one(s) were not, 50 of them unlike every one kept" \
           in texts
    assert any(t.startswith(f"more than {vddk.MAX_FAILURES} connect failures") for t in texts)


def test_long_log_line_is_cut_counted_and_numbering_holds(tmp_path):
    path = tmp_path / "long.log"
    head = "vpxa-nfc://[ds] a/a.vmdk@10.0.0.1:902 "
    tail = " vpxa-nfc://[ds] b/b.vmdk@10.0.0.2:902"
    path.write_text("first\n" + head + "\u00e9" * vddk.MAX_LINE + tail + "\nvpxa-nfc://[ds] c/c.vmdk@10.0.0.3:902\n")
    log = read_evidence(path)
    assert [(t.line, t.address) for t in log.targets] == [(2, "10.0.0.1"), (3, "10.0.0.3")]
    assert log.lines == 3
    (note,) = log.skipped  # the cut inside a two-byte character is not "undecodable"
    assert note.where == "line 2" and f"longer than {vddk.MAX_LINE} bytes" in note.what


def test_long_utf16_line(tmp_path):
    path = tmp_path / "long16.log"
    text = "vpxa-nfc://d@10.0.0.1:902 " + "x" * (vddk.MAX_LINE + 10) + "\nvpxa-nfc://d@10.0.0.2:902\n"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    log = read_evidence(path)
    assert [(t.line, t.address) for t in log.targets] == [(1, "10.0.0.1"), (2, "10.0.0.2")]
    assert "longer than" in log.skipped[0].what and "characters" in log.skipped[0].what


# ------------------------------------------------------ linear regular expressions


def _patterns():
    for module in (vddk, esxtop, pcap_reader, sys.modules["nbdpath.evidence.verify"]):
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                yield f"{module.__name__}.{name}", value


def _unbounded(pattern: re.Pattern) -> list[str]:
    """Repetitions without an upper bound in ``pattern`` (the raw material of backtracking blow-ups)."""
    from re import _constants as c, _parser as p  # type: ignore[attr-defined]

    found = []

    def walk(items):
        for op, av in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                lo, hi, sub = av
                if hi == c.MAXREPEAT:
                    found.append(f"{op} {lo}..inf")
                walk(sub)
            elif op in (c.SUBPATTERN, c.ATOMIC_GROUP):
                walk(av[-1])
            elif op == c.BRANCH:
                for branch in av[1]:
                    walk(branch)
            elif op in (c.ASSERT, c.ASSERT_NOT):
                walk(av[1])

    walk(p.parse(pattern.pattern, pattern.flags))
    return found


def test_every_evidence_regex_has_bounded_repetition():
    patterns = dict(_patterns())
    assert {"nbdpath.evidence.vddk._NFC", "nbdpath.evidence.vddk._TARGET", "nbdpath.evidence.vddk._COULDNT",
            "nbdpath.evidence.vddk._SOCKET", "nbdpath.evidence.vddk._TIME"} <= set(patterns)
    assert {name: _unbounded(p) for name, p in patterns.items() if _unbounded(p)} == {}
    assert _unbounded(re.compile(r"a\S+?b"))  # the check itself can fail


# Every keyword and URL piece the log reader knows, to be repeated into adversarial lines.
_PIECES = [
    "vpxa-nfc://", "vpxa-nfcssl://", "ha-nfc://", "ha-nfcssl://", "SKIPZ-", "FASTLZ-", "ZLIB-", "LZ4-",
    "SKIPZ-vpxa-nfc://", "@", "@h", "@{", "{nfcip:", "}", ":902", ":", "9", " ", "\t", "[ds] a/a.vmdk",
    "Couldn't connect to ", "Couldn't connect to h:902 ", "Failed to connect to server ", "Failed to open disk",
    "CnxOpenTCPSocket: Timed out connecting to server ", "CnxOpenTCPSocket: Cannot connect to server h:9",
    "2026-11-21T08:14:02.", "21.11.2026 08:14:02", "nfc", "connect", "\r",
]


class _Counting:
    """A compiled pattern that counts how often it is asked for work."""

    def __init__(self, pattern: re.Pattern, counter: list[int]) -> None:
        self._pattern = pattern
        self._counter = counter

    def __getattr__(self, name):
        method = getattr(self._pattern, name)

        def counted(*args, **kwargs):
            self._counter[0] += 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def regex_calls(monkeypatch) -> list[int]:
    counter = [0]
    for name in ("_NFC", "_HEAD", "_TARGET", "_COULDNT", "_SOCKET", "_FAILED_OPEN", "_TIME"):
        monkeypatch.setattr(vddk, name, _Counting(getattr(vddk, name), counter))
    return counter


@pytest.mark.parametrize("piece", _PIECES + ["vpxa-nfc://@" + "a" * 600, "vpxa-nfc://" + "@{" * 300])
def test_regex_calls_per_log_line_are_bounded(regex_calls, piece):
    for repeats in (1, 10, 100, 1000, 9000):
        line = piece * repeats
        regex_calls[0] = 0
        vddk.parse_line(1, line)
        # One scan per pattern per line, plus per "nfc://" one look at the 12 characters before it
        # and per distinct "@" one anchored target match (both of bounded length).
        assert regex_calls[0] <= 5 + line.count("nfc") + line.count("@"), (piece, repeats)


def test_regex_calls_on_generated_adversarial_lines(regex_calls):
    @_SETTINGS
    @given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6), st.integers(1, 3000))
    def run(pieces, repeats):
        line = "".join(pieces) * repeats
        regex_calls[0] = 0
        vddk.parse_line(1, line)
        assert regex_calls[0] <= 5 + line.count("nfc") + line.count("@")

    run()


def test_audit_line_finishes_under_the_line_cap(tmp_path):
    # The audit's lines: 'vpxa-nfc://' x 9,000 (10 s before) and x 90,000 (over 120 s), read as files.
    for repeats in (9000, 90000):
        path = tmp_path / f"{repeats}.log"
        path.write_text("vpxa-nfc://" * repeats + "vpxa-nfc://[ds] a.vmdk@10.0.0.1:902\n")
        log = read_evidence(path)
        assert log.lines == 1
        if len("vpxa-nfc://") * (repeats + 1) < vddk.MAX_LINE:
            assert [t.address for t in log.targets] == ["10.0.0.1"]
        else:
            assert "longer than" in log.skipped[0].what


# The URL pattern before issue 8 (quadratic on "vpxa-nfc://" x N): an oracle for short lines.
_OLD_URL = re.compile(
    r"(?:(?P<comp>SKIPZ|FASTLZ|ZLIB|LZ4)-)?"
    r"(?P<scheme>vpxa-nfcssl|vpxa-nfc|ha-nfcssl|ha-nfc)://"
    r"(?P<disk>[^@\r\n]*?)@"
    r"(?P<target>\{[^}\r\n]*\}|[^\s:'\"()!]+):(?P<port>\d{1,5})"
)
_OLD_COLUMN = re.compile(r"^\\\\(?P<host>[^\\]*)\\Network Port\((?P<inst>.*)\)\\(?P<counter>.+)$")


def test_url_walk_finds_what_the_old_regex_found():
    tried = 0

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text("ab@{}:9 .\r", max_size=4)), max_size=12))
    def run(pieces):
        nonlocal tried
        tried += 1
        line = "".join(pieces)
        targets, _ = vddk.parse_line(1, line)
        old = [(m.group(0), m["comp"], m["scheme"], m["disk"].strip(), m["port"]) for m in _OLD_URL.finditer(line)]
        assert [(t.url, t.compression, t.scheme, t.disk, str(t.port)) for t in targets] == old

    run()
    assert tried >= 100


def test_column_parser_agrees_with_the_old_regex():
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(["\\", "\\\\", "Network Port(", ")", ")\\", "h", "vmk0", ":", "(", "x"]),
                    max_size=10))
    def run(parts):
        cell = "".join(parts)
        m = _OLD_COLUMN.match(cell)
        assert esxtop.parse_column(cell) == ((m["host"], m["inst"], m["counter"]) if m else None)

    run()
    long_cell = "\\\\h\\Network Port(" + ")\\" * 200_000  # linear string searches, not backtracking
    m = _OLD_COLUMN.match(long_cell)
    assert esxtop.parse_column(long_cell) == (m["host"], m["inst"], m["counter"]) == ("h", ")\\" * 199_998, ")\\")


# ------------------------------------------------------- names reach the terminal escaped


_HOSTILE_NAMES = st.text(st.sampled_from(["a", "\x1b", "[", "]", "0", ";", "\x07", "\x9b", "\x85", "\u2028", "\u202e",
                                          "\r", "\t", "\x00"]), min_size=1, max_size=12)


def _assert_inert(text: str, lines: int | None = None) -> None:
    """No character that drives a terminal or reorders text; as many lines as were written."""
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text), repr(text)
    if lines is not None:
        assert len(text.rstrip("\n").split("\n")) == lines, repr(text)


def test_names_from_evidence_are_escaped_on_the_terminal(tmp_path, capsys):
    @_SETTINGS
    @given(_HOSTILE_NAMES, _HOSTILE_NAMES)
    def run(ifname, host):
        cap = tmp_path / "n.pcapng"
        cap.write_bytes(_SHB + _idb(1, ifname) + b"".join(
            _block(6, struct.pack("<IIIII", 0, 0, 0, len(f), len(f)) + f) for _, f in nfc_session(blocks=1)))
        rc, out, err = _summarize(capsys, str(cap))
        assert rc == 0 and err == ""
        # header, counts, "taken at", the flow's line, bytes, data MAC, request MAC, rates caption, header, one bin
        _assert_inert(out, 10)
        log = tmp_path / "n.log"
        disk = host.replace("\r", "")  # a URL's disk never spans a line break
        log.write_bytes(f"vpxa-nfc://[ds] {disk}/x.vmdk@{{nfcip:z{disk}z}}:902\n".encode())
        rc, out, err = _summarize(capsys, str(log))
        assert rc == 0
        _assert_inert(out, 2)
        rc, out, err = _main(capsys, "verify", "--lab", "rubrik-mixed-speed", "-e", str(log))
        assert rc == 0 and err == ""
        _assert_inert(out)
        (unmatched,) = [line for line in out.split("\n") if "is no host or vmk of the snapshot" in line]
        assert unmatched.startswith(f"  {log}: line 1: NFC target z")

    run()
