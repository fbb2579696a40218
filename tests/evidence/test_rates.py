"""Rates over time: streamed bins (bounded, totals kept), from captures and esxtop, in every output."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import given, settings, strategies as st

from esxtopgen import REPORT2_PORTS, report2_rates, write
from frames import nfc_session, pcap, pcapng
from nbdpath.evidence import read_evidence
from nbdpath.evidence.pcap import read_capture
from nbdpath.evidence.rates import MAX_BINS, MAX_FIXED_BINS, WIDTHS, Bins, utc_text
from nbdpath.render.rates import svg_chart
from test_cli import run


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**13), st.integers(1, 10**6)), min_size=1, max_size=200),
       st.sampled_from([None, 0.5, 7.0]))
def test_bins_stay_bounded_and_keep_every_byte(points, fixed):
    bins = Bins(fixed)
    for t, v in points:
        bins.add("k", t, v)
    assert len(bins.span()) <= (MAX_FIXED_BINS if fixed else MAX_BINS)
    assert sum(bins.sums["k"].values()) == sum(v for _, v in points)
    assert all(bins.lo <= i <= bins.hi for i in bins.sums["k"])
    # Every value sits in the bin its time falls in: widening merged whole bins only.
    if not fixed and bins.width in WIDTHS:
        assert set(bins.sums["k"]) <= {t // bins.width for t, _ in points}


def _transfer(seconds: int, per_second: int = 10):
    frames = []
    for s in range(seconds):
        frames += nfc_session(host="10.10.0.11", node="10.28.0.51", data_mac="00:50:56:6c:31:14",
                              t0=1_700_000_000.0 + s, blocks=per_second, block=1000)
    return frames


def test_capture_rates_are_binned_and_sum_to_the_flow_bytes():
    cap = read_capture(io.BytesIO(pcap(_transfer(120))), "x.pcap")
    rates = cap.rates
    assert len(rates.times) <= MAX_BINS and rates.bin_seconds in (5.0, 10.0)
    by = {(s.kind, s.name, s.direction): s for s in rates.series}
    data = by[("interface", "if0", "to node")]
    mac = by[("mac", "00:50:56:6c:31:14", "to node")]
    assert data.total_bytes == mac.total_bytes == sum(f.to_node_bytes for f in cap.flows) == 120 * 10 * 1000
    # 10 kB a second is 0.08 Mbit/s in every full bin
    assert data.mbps[1] == pytest.approx(0.08)
    assert rates.times[0] == utc_text(int(1_700_000_000 // rates.bin_seconds * rates.bin_seconds * 1e6))


def test_fixed_bin_width_and_its_cap():
    frames = _transfer(30)
    cap = read_capture(io.BytesIO(pcap(frames)), "x.pcap", bin_seconds=1)
    assert cap.rates.bin_seconds == 1 and len(cap.rates.times) == 30
    tiny = read_capture(io.BytesIO(pcap(frames)), "x.pcap", bin_seconds=0.001)
    assert len(tiny.rates.times) <= MAX_FIXED_BINS and tiny.rates.bin_seconds > 0.001
    assert any("--bin 0.001 s would need more than" in s.what for s in tiny.skipped)


def test_pcapng_rates_per_interface():
    frames = _transfer(4)
    packets = [(0 if i % 2 else 1, t, f) for i, (t, f) in enumerate(frames)]
    cap = read_capture(io.BytesIO(pcapng(["vmnic2", "vmnic3"], packets)), "two.pcapng")
    kinds = {(s.name, s.kind) for s in cap.rates.series if s.direction == "to node"}
    assert {("vmnic2", "vmnic"), ("vmnic3", "vmnic")} <= kinds


def test_esxtop_rates_follow_the_samples(tmp_path):
    path = tmp_path / "esx01.csv"
    write(path, "esx01.corp.local", REPORT2_PORTS, 60, report2_rates())
    top = read_evidence(path, bin_seconds=2)
    by = {(s.name, s.direction): s for s in top.rates.series}
    assert len(top.rates.times) == 60 and top.rates.clock == "file" and top.rates.times[0] == "11/21/2026 08:00:00"
    rate = report2_rates()
    assert list(by[("vmk4", "tx")].mbps) == [pytest.approx(round(rate("vmk4", i)[0], 2)) for i in range(60)]
    assert ("rubrik-vm.eth0", "tx") not in by  # VM ports have totals, not series
    auto = read_evidence(path)
    assert len(auto.rates.times) <= MAX_BINS
    assert sum(auto.rates.series[0].mbps) > 0


def test_svg_escapes_names_and_has_no_script():
    rates = {"bin_seconds": 1.0, "clock": "utc", "times": ["t0", "t1"],
             "series": [{"name": "<script>alert(1)</script>", "kind": "interface", "direction": "to node",
                         "mbps": [1.0, 2.0], "total_bytes": 3}]}
    svg = svg_chart(rates, 'a "title" <b>')
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&quot;title&quot;" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


@pytest.fixture
def captures(tmp_path):
    big = pcap(nfc_session(host="10.10.0.11", node="10.28.0.51", host_mac="00:50:56:6c:31:10",
                           data_mac="00:50:56:6c:31:14", blocks=93))
    small = pcap(nfc_session(host="10.10.0.11", node="10.28.0.51", host_mac="00:50:56:6c:31:10",
                             data_mac="00:50:56:6c:31:14", blocks=7))
    paths = {}
    for name, data in (("vmnic2", big), ("vmnic3", small), ("vmnic0", small), ("plain", big)):
        paths[name] = tmp_path / f"{name}.pcap"
        paths[name].write_bytes(data)
    return paths


LAB = ("verify", "--lab", "rubrik-mixed-speed")


def _pair(doc, host="esx01.corp.local", node="rubrik-node1"):
    return next(p for p in doc["pairs"] if (p["host"], p["node"]) == (host, node))


def test_verify_names_the_uplink_that_carried_the_bulk(captures):
    r = run(*LAB, "-e", str(captures["vmnic2"]), "-e", str(captures["vmnic3"]), "--dir", "1", "--format", "json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0, r.stderr
    (up,) = [f for f in _pair(doc)["facts"] if f["subject"] == "uplink"]
    assert up["agrees"] is True and up["observed"].startswith("vmnic2 carried 93% of the NFC bytes to rubrik-node1")
    texts = [c["text"] for c in doc["carried"]]
    assert any(t.startswith("esx01.corp.local: vmnic2 carried 93% of NFC bytes host -> node") for t in texts)
    assert any(t.startswith("esx01.corp.local: vmk4 carried 100%") for t in texts)
    series = {s["name"] for r_ in doc["rates"] for s in r_["rates"]["series"]}
    assert {"vmnic2", "vmnic3", "vmk4"} <= series  # the data MAC is named after its vmk


def test_bulk_on_an_unpredicted_uplink_contradicts(captures):
    r = run(*LAB, "-e", str(captures["vmnic0"]), "--dir", "1")
    assert r.returncode == 1
    assert "[DISAGREES] uplink: predicted vmnic2, vmnic3, observed vmnic0 carried 100%" in r.stdout


@pytest.mark.parametrize("how", ["name=file", "options", "file name"])
def test_capture_point_from_name_options_or_file_name(captures, tmp_path, how):
    if how == "name=file":
        args = ("-e", f"esx01.corp.local/vmnic2/dir1={captures['plain']}")
    elif how == "options":
        args = ("-e", str(captures["plain"]), "--uplink", "vmnic2", "--dir", "1", "--host", "esx01.corp.local")
    else:
        named = tmp_path / "esx01.corp.local-vmnic2-dir1.pcapng"
        named.write_bytes(captures["plain"].read_bytes())
        args = ("-e", str(named))
    r = run("evidence", "summarize", *args[1:2], *args[2:])
    assert r.returncode == 0, r.stderr
    assert "taken at: vmnic2" in r.stdout and "host: esx01.corp.local" in r.stdout
    assert "direction: --dir 1 (output of the virtual switch)" in r.stdout
    assert "host->node 94 pkts 130200 B on vmnic2" in r.stdout


def test_capture_without_context_says_how_to_give_it(captures):
    r = run("evidence", "summarize", str(captures["plain"]))
    assert "taken at: not said" in r.stdout and "-e esx01/vmnic2=FILE" in r.stdout
    r = run("evidence", "summarize", str(captures["plain"]), "--uplink", "vmnic2", "--dir", "0")
    assert "host: not named" in r.stdout
    assert "check --dir" in r.stdout  # data host -> node on an uplink's input side is suspicious


def test_uplink_capture_of_an_unknown_host_is_listed(tmp_path):
    path = tmp_path / "vmnic5.pcap"
    path.write_bytes(pcap(nfc_session(host="192.0.2.1", node="192.0.2.9")))
    r = run(*LAB, "-e", str(path), "--format", "json")
    (msg,) = [u for u in json.loads(r.stdout)["unmatched"] if "captured on vmnic5" in u]
    assert "name it with -e HOST/vmnic5=" in msg


@pytest.mark.parametrize("args,needle", [
    (("--uplink", "vmk4"), "--uplink: expected an uplink like vmnic2"),
    (("--vmk", "vmnic1"), "--vmk: expected a VMkernel adapter like vmk4"),
    (("--uplink", "vmnic1", "--vmk", "vmk1"), "--uplink and --vmk"),
])
def test_bad_capture_options_are_one_line(captures, args, needle):
    r = run("evidence", "summarize", str(captures["plain"]), *args)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_summarize_host_and_node_options(tmp_path):
    csv = tmp_path / "esxtop.csv"
    write(csv, "localhost", REPORT2_PORTS, 20, report2_rates(2, 15))
    r = run("evidence", "summarize", str(csv), "--host", "esx01.corp.local")
    assert "esxtop batch CSV from esx01.corp.local" in r.stdout
    assert re.search(r"rates over time \(Mbit/s, transmit; \d+ s bins", r.stdout)
    log = tmp_path / "vix.log"
    log.write_text("VixDiskLib_Open: [ds] a/a.vmdk: The server refused connection\n")
    r = run("evidence", "summarize", str(log), "--node", "rubrik-node2", "--format", "json")
    assert json.loads(r.stdout)["evidence"]["node"] == "rubrik-node2"
    r = run("evidence", "summarize", f"rubrik-node1={log}")
    assert "written by node: rubrik-node1" in r.stdout


def test_verify_html_and_markdown(captures):
    r = run(*LAB, "-e", str(captures["vmnic2"]), "--dir", "1", "--format", "html")
    assert r.returncode == 0 and r.stdout.startswith("<!DOCTYPE html>")
    assert r.stdout.count("<svg") == 1 and "<script" not in r.stdout and "vmnic2 carried 100%" in r.stdout
    r = run(*LAB, "-e", str(captures["vmnic2"]), "--dir", "1", "--format", "markdown")
    assert "## Which interface carried the bulk" in r.stdout and "| time | vmk4 | vmnic2 |" in r.stdout


def test_real_per_uplink_captures_name_the_uplink(uplink_captures):
    """tcpdump -Q out on each host link of a real asymmetric transfer (pktcap-uw --uplink X --dir 1)."""
    files = uplink_captures.files
    # The quiet uplink first: its 0% must not depend on the order of the files.
    r = run(*LAB, "-e", str(files["vmnic0"]), "-e", str(files["vmnic2"]), "--format", "json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0, r.stderr
    pair = _pair(doc)
    assert pair["check"] == "CONFIRMED" and pair["observed_egress_vmk"].startswith("vmk4")
    (up,) = [f for f in pair["facts"] if f["subject"] == "uplink"]
    assert up["agrees"] is True and up["observed"].startswith("vmnic2 carried 100% of the NFC bytes")
    assert "vmnic0 0 B" in up["observed"]  # a named host's uplink that sent none of it counts as 0%
    rates = next(x for x in doc["rates"] if x["file"] == str(files["vmnic2"]))["rates"]
    vmnic2 = next(s for s in rates["series"] if s["name"] == "vmnic2" and s["direction"] == "to node")
    # A loaded machine's tcpdump can drop packets (CI saw 3,971,784 of 4,194,304 bytes once): the reader
    # must count what the file holds, never more, and the file holds nearly all of it.
    assert 0.9 * uplink_captures.received <= vmnic2["total_bytes"] <= uplink_captures.received
    assert len(rates["times"]) <= 60


def test_dir_2_on_a_host_older_than_7_0_is_questioned(tmp_path, captures):
    from nbdpath import labs

    snap = tmp_path / "old.yaml"
    snap.write_text(labs.text("rubrik-mixed-speed").replace("    version: 7.0.3", "    version: 6.7.0"))
    r = run("verify", str(snap), "-e", f"esx01.corp.local/vmnic2/dir2={captures['plain']}", "--format", "json")
    notes = [u for u in json.loads(r.stdout)["unmatched"] if "--dir 2" in u]
    assert notes == [f"{captures['plain']}: --dir 2 (both directions) needs pktcap-uw of ESXi 7.0 or later, "
                     "but esx01.corp.local runs 6.7.0: check how the capture was taken"]
    r = run(*LAB, "-e", f"esx01.corp.local/vmnic2/dir2={captures['plain']}", "--format", "json")
    assert not [u for u in json.loads(r.stdout)["unmatched"] if "--dir 2" in u]


def test_markdown_cells_are_inert():
    from nbdpath.render.rates import md_cell

    cell = md_cell("a|b`c<d>\x1b[31m\u202e\nx")
    assert "|" not in cell.replace("\\|", "") and "`" not in cell and "<" not in cell
    assert "\x1b" not in cell and "\u202e" not in cell and "\n" not in cell


@pytest.mark.parametrize("share,text", [(1.0, "100%"), (0.9997, "over 99%"), (0.93, "93%"), (0.003, "under 1%"),
                                        (0.0, "0%")])
def test_shares_never_round_a_remainder_away(share, text):
    from nbdpath.evidence.verify import percent

    assert percent(share) == text


def test_vmk_capture_without_known_macs_names_the_vmk_that_carried_it(tmp_path):
    path = tmp_path / "esx01.corp.local-vmk4-dir0.pcap"
    path.write_bytes(pcap(nfc_session(host="10.10.0.11", node="10.28.0.51", host_mac="00:50:56:00:00:01",
                                      data_mac="00:50:56:00:00:02", blocks=5)))
    doc = json.loads(run(*LAB, "-e", str(path), "--format", "json").stdout)
    (c,) = [c for c in doc["carried"] if c["kind"] == "vmk"]
    assert (c["interface"], c["share"]) == ("vmk4", 1.0) and "the vmk captured on" in c["what"]
    assert _pair(doc)["observed_egress_vmk"] == "vmk4 (captured on interface vmk4)"


def test_a_bin_start_past_the_calendar_is_written_as_a_number():
    # A damaged pcapng timestamp (found by tests/hostile/test_evidence.py) lands past year 9999:
    # the bin still has a start, not an OverflowError.
    from nbdpath.evidence.rates import utc_text

    assert utc_text(0) == "1970-01-01T00:00:00Z"
    far = 300_000 * 365 * 86_400 * 1_000_000
    assert utc_text(far) == f"{far // 1_000_000} s after 1970-01-01T00:00:00Z"
    assert utc_text(-far).endswith(" s after 1970-01-01T00:00:00Z")
