"""esxtop batch CSV: attribution to a vmk and (by correlation) a vmnic; damage; fuzz; memory."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esxtopgen import REPORT2_PORTS, q, report2_rates, write
from nbdpath.evidence import EsxtopSummary, read_evidence
from nbdpath.evidence.esxtop import read_esxtop


@pytest.fixture
def report2_csv(tmp_path):
    path = tmp_path / "esxtop.csv"
    write(path, "esx01.corp.local", REPORT2_PORTS, 60, report2_rates())
    return path


def test_report2_attribution(report2_csv):
    top = read_evidence(report2_csv)
    assert isinstance(top, EsxtopSummary)
    assert top.host == "esx01.corp.local" and top.samples == 60 and top.skipped == ()
    assert top.transmitting_vmk == "vmk4" and top.receiving_vmk == "vmk0"
    assert (top.window_first, top.window_last) == ("11/21/2026 08:00:20", "11/21/2026 08:01:20")
    assert top.uplink is not None and top.uplink.vmnic == "vmnic2" and top.uplink.correlation > 0.99
    ports = {p.client: p for p in top.ports}
    assert ports["vmk4"].tx_mbps_peak == pytest.approx(max(report2_rates()("vmk4", i)[0] for i in range(60)))
    assert ports["vmk4"].tx_mbps_avg == pytest.approx(sum(report2_rates()("vmk4", i)[0] for i in range(60)) / 60)
    assert ports["2101234:rubrik-vm.eth0"].kind == "vm" and ports["vmnic3"].kind == "vmnic"


def test_no_backup_in_csv(tmp_path):
    path = tmp_path / "idle.csv"
    write(path, "esx01", REPORT2_PORTS, 20, report2_rates(start=999, end=999))
    top = read_evidence(path)
    assert top.transmitting_vmk is None and top.uplink is None


def test_uplink_unknown_when_no_vmnic_follows(tmp_path):
    base = report2_rates()

    def rates(client, i):  # vmnic2 now carries something else entirely
        return (50.0, 0.0) if client == "vmnic2" else base(client, i)

    path = tmp_path / "x.csv"
    write(path, "esx01", REPORT2_PORTS, 60, rates)
    top = read_evidence(path)
    assert top.transmitting_vmk == "vmk4" and top.uplink is None


def test_missing_column_is_reported(tmp_path):
    path = tmp_path / "missing.csv"
    drop = frozenset({"\\\\esx01\\Network Port(vSwitch0:33554438:vmk4)\\MBits Received/sec"})
    write(path, "esx01", REPORT2_PORTS, 30, report2_rates(), drop=drop)
    top = read_evidence(path)
    assert top.transmitting_vmk == "vmk4"
    (note,) = top.skipped
    assert note.where == "line 1" and "vSwitch0:33554438:vmk4" in note.what and "MBits Received/sec" in note.what


def test_bad_rows_are_skipped_with_line_numbers(report2_csv):
    lines = report2_csv.read_bytes().split(b"\r\n")
    lines[5] = lines[5][: len(lines[5]) // 2]  # a row cut short
    col = lines[0].split(b'","').index(b"\\\\esx01.corp.local\\Network Port(vSwitch0:33554438:vmk4)"
                                       b"\\MBits Transmitted/sec")
    cells = lines[7].split(b'","')
    cells[col] = b"n/a"  # a network value that is not a number
    lines[7] = b'","'.join(cells)
    other = lines[8].split(b'","')
    other[1] = b"n/a"  # not a network column: not read, row kept
    lines[8] = b'","'.join(other)
    report2_csv.write_bytes(b"\r\n".join(lines))
    top = read_evidence(report2_csv)
    assert top.samples == 58
    assert [s.where for s in top.skipped] == ["line 6", "line 8"]


def test_quoted_commas_in_vm_names(tmp_path):
    ports = REPORT2_PORTS + ['vSwitch0:33554441:2101235:db, "prod".eth0']
    path = tmp_path / "commas.csv"
    write(path, "esx01", ports, 30, report2_rates())
    top = read_evidence(path)
    assert top.samples == 30 and top.transmitting_vmk == "vmk4"
    assert any(p.client == '2101235:db, "prod".eth0' for p in top.ports)


def test_no_network_columns(tmp_path):
    path = tmp_path / "cpu.csv"
    path.write_text(",".join(q(c) for c in ["(PDH-CSV 4.0) (UTC)(0)", "\\\\h\\Memory\\Kernel MBytes"]) + "\n"
                    + ",".join(q(c) for c in ["11/21/2026 08:00:00", "1.0"]) + "\n")
    top = read_evidence(path)
    assert top.ports == () and top.samples == 1 and "no 'Network Port'" in top.skipped[0].what


def test_memory_does_not_grow_with_rows(tmp_path):
    peaks = []
    for rows in (60, 600):
        path = tmp_path / f"{rows}.csv"
        write(path, "esx01", REPORT2_PORTS * 4, rows, report2_rates())
        tracemalloc.start()
        with open(path, "rb") as f:
            read_esxtop(f, str(path))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 1.5, peaks


def test_fuzz_esxtop_reader():
    tried = 0
    head = (",".join(q(c) for c in ["(PDH-CSV 4.0) (UTC)(0)",
                                   "\\\\h\\Network Port(vSwitch0:1:vmk0)\\MBits Transmitted/sec",
                                   "\\\\h\\Network Port(vSwitch0:1:vmk0)\\MBits Received/sec",
                                   "\\\\h\\Network Port(vSwitch0:2:vmnic0)\\MBits Transmitted/sec"]) + "\n").encode()
    cell = st.one_of(st.from_regex(r'"-?[0-9]{1,4}(\.[0-9]{1,2})?"', fullmatch=True),
                     st.text(max_size=6).map(lambda t: q(t)), st.text(max_size=6))
    line = st.lists(cell, max_size=6).map(lambda cs: ",".join(cs).encode("utf-8", "replace"))
    body = st.lists(line, max_size=12).map(lambda ls: b"\n".join(ls))

    @settings(max_examples=500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(body.map(lambda b: head + b), st.binary(max_size=300).map(lambda b: head[:40] + b)))
    def run(data):
        nonlocal tried
        tried += 1
        result = read_esxtop(io.BytesIO(data), "fuzz.csv")
        assert isinstance(result, EsxtopSummary)
        assert all(p.samples <= result.samples for p in result.ports)

    run()
    print(f"esxtop fuzz: {tried} inputs, 0 crashes")
    assert tried >= 250


@pytest.mark.parametrize("ending", [b"\r", b"\r\n"])
def test_cr_only_and_crlf_line_ends_read_like_lf(report2_csv, tmp_path, ending):
    # Files saved by some Windows tools end lines in CR alone: same samples, same attribution.
    lf = read_evidence(report2_csv)
    other = tmp_path / "other.csv"
    other.write_bytes(report2_csv.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", ending))
    top = read_evidence(other)
    assert isinstance(top, EsxtopSummary)
    assert (top.samples, top.transmitting_vmk, top.receiving_vmk) == (lf.samples, lf.transmitting_vmk, lf.receiving_vmk) == (60, "vmk4", "vmk0")
    assert top.uplink is not None and top.uplink.vmnic == lf.uplink.vmnic
    assert not any("network panel" in str(n) for n in getattr(top, "notes", ()))


def test_cr_only_reader_keeps_byte_positions_for_the_second_pass():
    from nbdpath.evidence.esxtop import _CrLines

    raw = io.BytesIO(b"a,b\rc,d\r\re")
    s = _CrLines(raw)
    assert s.readline(100) == b"a,b\n" and s.tell() == 4
    assert s.readline(100) == b"c,d\n" and s.readline(100) == b"\n" and s.readline(100) == b"e"
    assert s.readline(100) == b""
    s.seek(4)
    assert s.readline(2) == b"c," and s.readline(100) == b"d\n"
