"""Backup / VDDK logs: NFC targets, compression, nfcip, failures, encodings, fuzz."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbdpath.evidence import LogSummary, read_evidence
from nbdpath.evidence.vddk import parse_line, read_log

DATA = Path(__file__).parent / "data"


def test_vixdisklib_log():
    log = read_evidence(DATA / "vixDiskLib-nbd.log")
    assert isinstance(log, LogSummary) and log.encoding == "utf-8" and log.skipped == ()
    got = [(t.line, t.transport, t.compression, t.address, t.hostname, t.disk, t.failed) for t in log.targets]
    assert got == [
        (3, "nbd", "SKIPZ", "10.30.0.101", "gold-01.corp.local", "[ds-gold-01] app01/app01.vmdk", False),
        (4, "nbd", None, "10.30.0.101", "gold-01.corp.local", "[ds-gold-01] app01/app01.vmdk", False),
        (5, "nbdssl", None, "legacy-01.corp.local", None, "[ds-legacy] db01/db01_1.vmdk", False),
        (6, "nbd", "FASTLZ", "10.10.0.122", None, "[ds-gold-02] web01/web01.vmdk", False),
        (11, "nbd", None, "10.30.0.103", "gold-03.corp.local", "[ds-gold-03] app03/app03.vmdk", True),
    ]
    assert log.targets[0].time == "2026-11-21T08:14:02.702Z" and log.targets[0].port == 902
    assert [(f.line, f.target, f.server) for f in log.failures] == [
        (7, "10.30.0.103", "10.30.0.103"), (10, "gold-03.corp.local", "10.30.0.103")]


def test_veeam_agent_log():
    log = read_evidence(DATA / "Agent.Backup-Gold.Source.app01.vmdk.log")
    assert [(t.address, t.hostname, t.time) for t in log.targets] == [
        ("10.30.0.101", "10.10.0.101", "21.11.2026 08:14:02")] * 2
    assert [(f.target, f.server, f.time) for f in log.failures] == [
        ("10.30.0.104", "10.30.0.104", "2026-11-21 08:20:55,964"),
        ("10.10.0.104", "10.30.0.104", "2026-11-21 08:20:55,964")]


def test_utf16_log_with_bom(tmp_path):
    text = (DATA / "Agent.Backup-Gold.Source.app01.vmdk.log").read_text(encoding="utf-8")
    for codec, bom in (("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)):
        path = tmp_path / f"{codec}.log"
        path.write_bytes(bom + text.replace("\n", "\r\n").encode(codec))
        log = read_evidence(path)
        assert log.encoding == "utf-16" and len(log.targets) == 2 and len(log.failures) == 2
        assert log.targets[0].line == 2


def test_utf16_without_bom(tmp_path):
    path = tmp_path / "nobom.log"
    path.write_bytes((DATA / "vixDiskLib-nbd.log").read_text().encode("utf-16-le"))
    log = read_evidence(path)
    assert log.encoding == "utf-16-le" and len(log.targets) == 5


def test_undecodable_bytes_are_replaced_and_reported(tmp_path):
    raw = (DATA / "vixDiskLib-nbd.log").read_bytes().split(b"\n")
    raw[2] = raw[2].replace(b"app01/", b"app\xe901/")  # Latin-1 in a UTF-8 file
    path = tmp_path / "latin1.log"
    path.write_bytes(b"\n".join(raw))
    log = read_evidence(path)
    assert log.targets[0].disk == "[ds-gold-01] app\ufffd01/app01.vmdk"
    (note,) = log.skipped
    assert note.where == "line 3" and "U+FFFD" in note.what


def test_log_without_nfc_lines_says_so(tmp_path):
    path = tmp_path / "other.log"
    path.write_text("nothing to see\nhere\n")
    log = read_evidence(path)
    assert log.targets == () and "no NFC target" in log.skipped[0].what and log.lines == 2


def test_fuzz_log_reader():
    tried = 0
    seed_lines = (DATA / "vixDiskLib-nbd.log").read_bytes().splitlines()

    @st.composite
    def mangled(draw):
        line = bytearray(draw(st.sampled_from(seed_lines)))
        for _ in range(draw(st.integers(0, 6))):
            i = draw(st.integers(0, len(line) - 1))
            line[i] = draw(st.integers(0, 255))
        return bytes(line)

    @settings(max_examples=500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.one_of(mangled(), st.binary(max_size=80)), max_size=8).map(b"\n".join))
    def run(data):
        nonlocal tried
        tried += 1
        log = read_log(io.BytesIO(data), "fuzz.log")
        assert all(t.port <= 99999 for t in log.targets)
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            parse_line(n, line)

    run()
    print(f"log fuzz: {tried} inputs, 0 crashes")
    assert tried >= 250


def test_veeam_timestamps_with_a_one_digit_hour():
    # Veeam agent logs write "[08.04.2020 8:26:46.680]": the hour has no leading zero.
    line = ("[08.04.2020 8:26:46.680] <  7564> vdl| NBD_ClientOpen: attempting to create connection to "
            "vpxa-nfc://[ds1] vm/vm.vmdk@10.30.0.11:902")
    [target], _ = parse_line(1, line)
    assert target.time == "08.04.2020 8:26:46.680" and target.address == "10.30.0.11"
    [target], _ = parse_line(1, line.replace(" 8:26", " 18:26"))
    assert target.time == "08.04.2020 18:26:46.680"
