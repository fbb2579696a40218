"""Streaming pcap / pcapng reader for TCP 902 (NFC) flows.

Hand-rolled with :mod:`struct` rather than dpkt: it decodes only what a
verdict needs (link header, IP addresses, TCP ports, flags and lengths) and
never builds a packet object. Measured by benchmarks/evidence.py on a 1 GB
capture of 1514-byte frames (2 cores): this reader 2.25 s, a plain dpkt loop
doing the same sums 7.84 s, ``tshark -q -z conv,tcp`` 130 s
(benchmarks/README.md).

Memory is bounded: the file is read in fixed chunks and one small record
per TCP 902 connection is kept, for at most :data:`MAX_FLOWS` connections
(those that carried the most payload; a warning says how many were dropped).
A truncated or corrupt file gives the flows read so far plus a
:class:`Skipped` saying what was lost and from which byte on.
"""

from __future__ import annotations

import heapq
import struct
from collections import Counter
from operator import itemgetter
from typing import BinaryIO, Optional, Union

from .observations import CaptureInterface, CaptureSummary, NfcFlow, NFC_PORT, Notes, Rates, Skipped
from .rates import Bins, rates as _rates

CHUNK = 8 << 20
# A record claiming more than this is corrupt, not a jumbo frame.
MAX_RECORD = 1 << 20
MAX_BLOCK = 16 << 20
# Caps that keep memory flat on hostile captures. A backup opens one NFC
# connection per disk, so real captures stay far below MAX_FLOWS; the table
# may grow to twice that between prunes (amortised: one sort per MAX_FLOWS new
# connections). MACs and interfaces per connection: real ones have one or two.
MAX_FLOWS = 10_000
MAX_PER_FLOW = 8
MAX_INTERFACES = 1024
# pcapng block type -> (name, fixed part in bytes including header and trailer).
_FIXED = {1: ("interface description block", 20), 2: ("packet block", 32),
          3: ("simple packet block", 16), 6: ("enhanced packet block", 32)}

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

# Link types we decode (LINKTYPE_* numbers from tcpdump.org).
ETHERNET, RAW, RAW_BSD, RAW_OPENBSD, NULL, LOOP, SLL, SLL2, IPV4, IPV6 = (
    1, 101, 12, 14, 0, 108, 113, 276, 228, 229,
)
_VLAN_TYPES = (0x8100, 0x88A8, 0x9100)

# Flow record slots (a list per flow: faster than an object in the hot loop).
(_FIRST, _LAST, _SYN, _SYNACK, _ACK, _TH_PK, _TH_BY, _TN_PK, _TN_BY, _RST,
 _SRC_MACS, _DST_MACS, _TH_IF, _TN_IF) = range(14)


def _weight(item: tuple) -> tuple[int, int]:
    f = item[1]
    return f[_TH_BY] + f[_TN_BY], f[_TH_PK] + f[_TN_PK]


def _add_capped(seen: set, value: int) -> None:
    if value not in seen and len(seen) < MAX_PER_FLOW:
        seen.add(value)


def _count_capped(counts: dict[bytes, int], key: bytes, n: int) -> None:
    if key in counts:
        counts[key] += n
    elif len(counts) < MAX_PER_FLOW:
        counts[key] = n


def _most_first(counts: dict[bytes, int]) -> tuple[tuple[str, int], ...]:
    # Counter.most_common's order: by count, ties in the order first seen.
    return tuple((_mac(m), n) for m, n in sorted(counts.items(), key=itemgetter(1), reverse=True))


def _interface_kind(name: str) -> str:
    """A pcapng interface named like a vmk or an uplink (pktcap-uw, or attributed by the user)."""
    if name.startswith("vmk") and name[3:].isdigit():
        return "vmk"
    if name.startswith(("vmnic", "vusb")) and name.lstrip("vmnicusb").isdigit():
        return "vmnic"
    return "interface"


def is_capture(head: bytes) -> bool:
    return head[:4] in PCAP_MAGICS or head[:4] == PCAPNG_MAGIC


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _ip(b: bytes) -> str:
    if len(b) == 4:
        return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])
    import ipaddress

    return str(ipaddress.IPv6Address(b))


# Raw series while reading: (interface index, towards the host?, source MAC of data to the node or None).
_SeriesKey = tuple[int, bool, Optional[bytes]]
# Shown series: ("if", interface index, towards the host?) or ("mac", MAC).
_RateKey = Union[tuple[str, int, bool], tuple[str, bytes]]


class _FlowTable:
    """Accumulates per-connection TCP 902 facts; everything else is counted."""

    def __init__(self, bin_seconds: Optional[float] = None) -> None:
        # TCP 902 payload per (interface, towards the host?, data MAC) and time bin.
        self.bins: Bins[_SeriesKey] = Bins(bin_seconds)
        self.flows: dict[tuple[bytes, int, bytes, int], list] = {}
        self.packets = 0
        self.bytes = 0
        self.other = 0
        self.undecoded = 0
        self.unknown_links: Counter[int] = Counter()
        self.dropped = 0  # connection records pruned to stay within MAX_FLOWS
        self.dropped_packets = 0

    def add(self, buf: bytes, off: int, caplen: int, linktype: int,
            ts_a: int, ts_b: int, scale: float, ifidx: int) -> None:
        self.packets += 1
        self.bytes += caplen
        end = off + caplen
        src_mac = dst_mac = None
        # -- link layer: find the IP header and the MACs where there are any
        if linktype == ETHERNET:
            if caplen < 14:
                self.undecoded += 1
                return
            etype = (buf[off + 12] << 8) | buf[off + 13]
            l3 = off + 14
            while etype in _VLAN_TYPES and l3 + 4 <= end:
                etype = (buf[l3 + 2] << 8) | buf[l3 + 3]
                l3 += 4
            dst_mac = off
            src_mac = off + 6
        elif linktype == SLL2:
            if caplen < 20:
                self.undecoded += 1
                return
            etype = (buf[off] << 8) | buf[off + 1]
            if buf[off + 11] == 6:
                src_mac = off + 12
            l3 = off + 20
        elif linktype == SLL:
            if caplen < 16:
                self.undecoded += 1
                return
            etype = (buf[off + 14] << 8) | buf[off + 15]
            if buf[off + 5] == 6 and buf[off + 4] == 0:
                src_mac = off + 6
            l3 = off + 16
        elif linktype in (RAW, RAW_BSD, RAW_OPENBSD, IPV4, IPV6):
            if caplen < 1:
                self.undecoded += 1
                return
            l3 = off
            etype = 0x0800 if buf[off] >> 4 == 4 else 0x86DD
        elif linktype in (NULL, LOOP):
            if caplen < 5:
                self.undecoded += 1
                return
            l3 = off + 4
            etype = 0x0800 if buf[l3] >> 4 == 4 else 0x86DD
        else:
            self.unknown_links[linktype] += 1
            self.undecoded += 1
            return
        # -- network layer
        if etype == 0x0800:
            if l3 + 20 > end or buf[l3] >> 4 != 4:
                self.other += 1
                return
            ihl = (buf[l3] & 15) * 4
            if buf[l3 + 9] != 6 or ((buf[l3 + 6] & 0x1F) << 8 | buf[l3 + 7]):
                self.other += 1  # not TCP, or a non-first fragment
                return
            l4 = l3 + ihl
            ip_payload = ((buf[l3 + 2] << 8) | buf[l3 + 3]) - ihl
            src_at, dst_at, alen = l3 + 12, l3 + 16, 4
        elif etype == 0x86DD:
            if l3 + 40 > end or buf[l3 + 6] != 6:
                self.other += 1  # not TCP (extension headers are not followed)
                return
            l4 = l3 + 40
            ip_payload = (buf[l3 + 4] << 8) | buf[l3 + 5]
            src_at, dst_at, alen = l3 + 8, l3 + 24, 16
        else:
            self.other += 1
            return
        if l4 + 14 > end:
            self.other += 1
            return
        sport = (buf[l4] << 8) | buf[l4 + 1]
        dport = (buf[l4 + 2] << 8) | buf[l4 + 3]
        if dport == NFC_PORT:
            to_host = True
        elif sport == NFC_PORT:
            to_host = False
        else:
            self.other += 1
            return
        # -- a TCP 902 segment: only now pay for slices and floats
        flags = buf[l4 + 13]
        payload = ip_payload - (buf[l4 + 12] >> 4) * 4
        if payload < 0:
            payload = 0
        src = buf[src_at:src_at + alen]
        dst = buf[dst_at:dst_at + alen]
        key = (dst, dport, src, sport) if to_host else (src, sport, dst, dport)
        ts = ts_a + ts_b * scale
        f = self.flows.get(key)
        if f is None:
            if len(self.flows) >= 2 * MAX_FLOWS:
                self._prune()
            # Plain dicts, not Counters: a capture of a million SYNs creates two per connection.
            f = [ts, ts, None, None, None, 0, 0, 0, 0, 0, {}, {}, set(), set()]
            self.flows[key] = f
        # pcapng from several interfaces is not in time order across them
        if ts > f[_LAST]:
            f[_LAST] = ts
        elif ts < f[_FIRST]:
            f[_FIRST] = ts
        if flags & 0x04:
            f[_RST] += 1
        mac = None
        if to_host:
            f[_TH_PK] += 1
            f[_TH_BY] += payload
            _add_capped(f[_TH_IF], ifidx)
            if flags & 0x12 == 0x02 and f[_SYN] is None:
                f[_SYN] = ts
            elif flags & 0x12 == 0x10 and f[_SYNACK] is not None and f[_ACK] is None:
                f[_ACK] = ts
            if dst_mac is not None:
                _count_capped(f[_DST_MACS], buf[dst_mac:dst_mac + 6], 1)
        else:
            f[_TN_PK] += 1
            f[_TN_BY] += payload
            _add_capped(f[_TN_IF], ifidx)
            if flags & 0x12 == 0x12 and f[_SYNACK] is None:
                f[_SYNACK] = ts
            if payload and src_mac is not None:
                mac = buf[src_mac:src_mac + 6]
                _count_capped(f[_SRC_MACS], mac, payload)
        if payload:
            # Inline fast path of Bins.add: this runs once per data segment.
            bins = self.bins
            t_us = int(ts * 1_000_000)
            i = t_us // bins.width
            if bins.lo is None or not bins.lo <= i <= bins.hi:  # type: ignore[operator]
                i = bins.index(t_us)
            series_key = (ifidx, to_host, mac)
            series = bins.sums.get(series_key)
            if series is not None:
                series[i] = series.get(i, 0) + payload
            else:
                bins.add_at(series_key, i, payload)

    def _prune(self) -> None:
        """Keep the MAX_FLOWS connections with the most payload: those are the backups."""
        keep = dict(heapq.nlargest(MAX_FLOWS, self.flows.items(), key=_weight))
        for key, f in self.flows.items():
            if key not in keep:
                self.dropped += 1
                self.dropped_packets += f[_TH_PK] + f[_TN_PK]
        self.flows = keep

    def summary(self, file: str, fmt: str, interfaces: list[CaptureInterface],
                truncated: bool, notes: Notes) -> CaptureSummary:
        names = {i.index: i.name for i in interfaces}
        skipped = list(notes.done())
        if self.unknown_links:
            kinds = ", ".join(f"{n} frame(s) of link type {t}" for t, n in sorted(self.unknown_links.items()))
            skipped.append(Skipped(file, "whole file", f"not decoded: {kinds}"))
        if len(self.flows) > MAX_FLOWS:
            self._prune()
        if self.dropped:
            skipped.append(Skipped(
                file, "whole file",
                f"more than {MAX_FLOWS} TCP 902 connections: kept the {MAX_FLOWS} that carried the most "
                f"payload; {self.dropped} connection record(s) with less ({self.dropped_packets} packets) "
                "were dropped, and a connection first seen after that may lack its first packets"))
        flows = []
        for (hip, hport, nip, nport), f in self.flows.items():
            flows.append(NfcFlow(
                host_ip=_ip(hip), host_port=hport, node_ip=_ip(nip), node_port=nport,
                first_seen=f[_FIRST], last_seen=f[_LAST],
                syn_at=f[_SYN], synack_at=f[_SYNACK], ack_at=f[_ACK],
                to_host_packets=f[_TH_PK], to_host_bytes=f[_TH_BY],
                to_node_packets=f[_TN_PK], to_node_bytes=f[_TN_BY], resets=f[_RST],
                to_node_src_macs=_most_first(f[_SRC_MACS]),
                to_host_dst_macs=_most_first(f[_DST_MACS]),
                to_host_interfaces=tuple(names.get(i, f"if{i}") for i in sorted(f[_TH_IF])),
                to_node_interfaces=tuple(names.get(i, f"if{i}") for i in sorted(f[_TN_IF])),
            ))
        flows.sort(key=lambda fl: (fl.first_seen, fl.host_ip, fl.node_ip, fl.node_port))
        rate_notes = Notes(file)
        self.bins.notes(rate_notes)
        skipped.extend(rate_notes.done())
        return CaptureSummary(
            file=file, format=fmt, interfaces=tuple(interfaces), packets=self.packets,
            bytes=self.bytes, other_packets=self.other, undecoded_packets=self.undecoded,
            flows=tuple(flows), truncated=truncated, skipped=tuple(skipped), rates=self._rates(names),
        )

    def _rates(self, names: dict[int, str]) -> Optional[Rates]:
        """Per interface and direction, and per MAC that sent data to the node: the raw keys merged."""
        merged: dict[_RateKey, dict[int, float]] = {}
        for (ifidx, to_host, mac), s in self.bins.sums.items():
            keys: tuple[_RateKey, ...] = (("if", ifidx, to_host),) + ((("mac", mac),) if mac is not None else ())
            for key in keys:
                into = merged.setdefault(key, {})
                for i, v in s.items():
                    into[i] = into.get(i, 0) + v
        named: list[tuple[_RateKey, str, str, str]] = []
        for key in sorted(merged, key=lambda k: (k[0] != "if", k[1:] if k[0] == "if" else (0, k[1]))):
            if len(key) == 3:  # ("if", index, to_host)
                name = names.get(key[1], f"if{key[1]}")
                named.append((key, name, _interface_kind(name), "to host" if key[2] else "to node"))
            else:
                named.append((key, _mac(key[1]), "mac", "to node"))
        totals = {k: int(sum(s.values())) for k, s in merged.items()}
        return _rates(self.bins.over(merged), named, average=False, clock="utc", totals=totals)


def read_capture(stream: BinaryIO, file: str, bin_seconds: Optional[float] = None) -> Optional[CaptureSummary]:
    """Read a pcap or pcapng stream; None when it is neither. ``bin_seconds`` fixes the rate bins."""
    head = stream.read(4)
    if head in PCAP_MAGICS:
        return _read_pcap(stream, head, file, _FlowTable(bin_seconds))
    if head == PCAPNG_MAGIC:
        return _read_pcapng(stream, head, file, _FlowTable(bin_seconds))
    return None


def _read_pcap(stream: BinaryIO, magic: bytes, file: str, table: _FlowTable) -> CaptureSummary:
    endian, scale = PCAP_MAGICS[magic]
    notes = Notes(file)
    rest = stream.read(20)
    if len(rest) < 20:
        notes.add("truncated", "byte 4", "file ends inside the 24-byte pcap header; nothing read")
        return table.summary(file, "pcap", [], True, notes)
    _vmaj, _vmin, _zone, _sigfigs, snaplen, linktype = struct.unpack(endian + "HHiIII", rest)
    linktype &= 0x0FFFFFFF  # the upper bits carry FCS flags
    interfaces = [CaptureInterface(0, "if0", linktype)]
    limit = max(snaplen, 65535) if snaplen <= MAX_RECORD else MAX_RECORD
    rec = struct.Struct(endian + "IIII")
    unpack_from, add = rec.unpack_from, table.add
    buf = b""
    pos = 0
    base = 24  # file offset of buf[0]
    truncated = False
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        if pos < len(buf):
            buf = buf[pos:] + chunk
        else:
            buf = chunk
        base += pos
        pos = 0
        n = len(buf)
        while pos + 16 <= n:
            sec, frac, caplen, _orig = unpack_from(buf, pos)
            if caplen > limit:
                where = base + pos
                notes.add("corrupt", f"byte {where}",
                          f"record header claims {caplen} bytes (snaplen {snaplen}): corrupt; "
                          f"the rest of the file from here was skipped")
                return table.summary(file, "pcap", interfaces, True, notes)
            end = pos + 16 + caplen
            if end > n:
                break
            add(buf, pos + 16, caplen, linktype, sec, frac, scale, 0)
            pos = end
    if pos < len(buf):
        truncated = True
        notes.add("truncated", f"byte {base + pos}",
                  f"file ends inside a packet record ({len(buf) - pos} bytes of a partial record skipped)")
    return table.summary(file, "pcap", interfaces, truncated, notes)


def _tsresol(value: int) -> float:
    return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0 ** -value


class _Section:
    """Interfaces of the current pcapng section (ids are per section) and of the file."""

    def __init__(self) -> None:
        self.interfaces: list[CaptureInterface] = []  # the whole file's, global index order
        self.local: list[tuple[int, int, float]] = []  # this section's: global index, linktype, scale
        self.endian = "<"


def _read_pcapng(stream: BinaryIO, magic: bytes, file: str, table: _FlowTable) -> CaptureSummary:
    notes = Notes(file)
    sec = _Section()
    buf = magic
    pos = 0
    base = 0
    eof = False
    while not eof:
        chunk = stream.read(CHUNK)
        if not chunk:
            eof = True
        buf = buf[pos:] + chunk if pos < len(buf) else chunk
        base += pos
        pos = 0
        n = len(buf)
        while pos + 12 <= n:
            end = _block_end(buf, pos, n, base, sec, notes)
            if end is None:
                return table.summary(file, "pcapng", sec.interfaces, True, notes)
            if end > n:
                break
            _block(buf, pos, end - pos, base, sec, table, notes)
            pos = end
    truncated = pos < len(buf)
    if truncated:
        notes.add("truncated", f"byte {base + pos}",
                  f"file ends inside a block ({len(buf) - pos} bytes of a partial block skipped)")
    return table.summary(file, "pcapng", sec.interfaces, truncated, notes)


def _block_end(buf: bytes, pos: int, n: int, base: int, sec: _Section, notes: Notes) -> Optional[int]:
    """Where the block at ``pos`` ends (may be past ``n``: read more); None when corrupt."""
    if buf[pos:pos + 4] == PCAPNG_MAGIC:  # section header: byte order first
        bom = buf[pos + 8:pos + 12]
        if bom == b"\x4d\x3c\x2b\x1a":
            sec.endian = "<"
        elif bom == b"\x1a\x2b\x3c\x4d":
            sec.endian = ">"
        else:
            notes.add("corrupt", f"byte {base + pos}", "section header with an unknown byte-order magic: "
                      "corrupt; the rest of the file was skipped")
            return None
    (blen,) = struct.unpack_from(sec.endian + "I", buf, pos + 4)
    if blen < 12 or blen % 4 or blen > MAX_BLOCK:
        notes.add("corrupt", f"byte {base + pos}",
                  f"block claims a length of {blen} bytes: corrupt; the rest of the file was skipped")
        return None
    end = pos + blen
    if end <= n:
        (trailer,) = struct.unpack_from(sec.endian + "I", buf, end - 4)
        if trailer != blen:
            notes.add("corrupt", f"byte {base + pos}", f"block length {blen} does not match its trailer "
                      f"{trailer}: corrupt; the rest of the file was skipped")
            return None
    return end


def _block(buf: bytes, pos: int, blen: int, base: int, sec: _Section, table: _FlowTable, notes: Notes) -> None:
    """Decode one whole, well-framed block."""
    endian = sec.endian
    (code,) = struct.unpack_from(endian + "I", buf, pos)
    if code == 0x0A0D0D0A:
        sec.local = []
        return
    fixed = _FIXED.get(code)
    if fixed is None:
        return  # name resolution, statistics, custom blocks: nothing for us
    name, need = fixed
    if blen < need:
        notes.add("short blocks", f"byte {base + pos}",
                  f"{name} of {blen} bytes is shorter than its {need}-byte fixed part; skipped")
        return
    if code == 1:
        _interface(buf, pos, blen, sec, notes, base)
        return
    if code == 3:  # simple packet block: interface 0, no time
        if not sec.local:
            notes.add("unknown interface", f"byte {base + pos}",
                      "simple packet block before any interface description; skipped")
            return
        (orig,) = struct.unpack_from(endian + "I", buf, pos + 8)
        gidx, link, scale = sec.local[0]
        table.add(buf, pos + 12, min(orig, blen - 16), link, 0, 0, scale, gidx)
        return
    if code == 6:  # enhanced packet block
        ifid, hi, lo, caplen, _orig = struct.unpack_from(endian + "IIIII", buf, pos + 8)
    else:  # obsolete packet block
        ifid, _drops, hi, lo, caplen, _orig = struct.unpack_from(endian + "HHIIII", buf, pos + 8)
    if ifid >= len(sec.local) or caplen > blen - 32:
        notes.add("unknown interface", f"byte {base + pos}",
                  f"packet block for unknown interface {ifid} or bad length; skipped")
        return
    gidx, link, scale = sec.local[ifid]
    table.add(buf, pos + 28, caplen, link, 0, (hi << 32) | lo, scale, gidx)


def _interface(buf: bytes, pos: int, blen: int, sec: _Section, notes: Notes, base: int) -> None:
    """Parse an interface description block; keeps its if_name."""
    gidx = len(sec.interfaces)
    if gidx >= MAX_INTERFACES:
        notes.add("interfaces", f"byte {base + pos}",
                  f"more than {MAX_INTERFACES} interfaces: this one and its packets are skipped")
        return
    (link,) = struct.unpack_from(sec.endian + "H", buf, pos + 8)
    name = f"if{gidx}"
    scale = 1e-6
    opt = pos + 16
    end = pos + blen - 4
    while opt + 4 <= end:
        code, olen = struct.unpack_from(sec.endian + "HH", buf, opt)
        if code == 0:
            break
        value = buf[opt + 4:min(opt + 4 + olen, end)]
        if code == 2 and value:
            name = value.rstrip(b"\0").decode("utf-8", "replace")
        elif code == 9 and value:
            scale = _tsresol(value[0])
        opt += 4 + ((olen + 3) & ~3)
    sec.interfaces.append(CaptureInterface(gidx, name, link))
    sec.local.append((gidx, link, scale))
