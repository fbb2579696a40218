"""Captures taken on the host (pktcap-uw): on which uplink or vmk, in which direction, of which host.

A pcap holds none of this (pktcap-uw writes no host name, no ESXi version and,
in a plain pcap, no interface name), so it comes from the user (``-e
esx01/vmnic2=FILE``, ``--uplink`` / ``--vmk`` / ``--dir``, ``--host``) or from a
conventional file name (``vmnic2.pcap``, ``esx01-vmk4-dir1.pcapng``).

pktcap-uw's ``--dir`` is relative to the virtual switch (vSphere Networking,
"capture points"): 0 / input (the default) is what enters the switch, 1 /
output what leaves it, 2 both (ESXi 7.0 and later). So on an uplink the
NFC data host -> node is on ``--dir 1`` (UplinkSnd side), on a vmk on
``--dir 0`` (PortInput: what the vmk sends).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Optional

from ..errors import UsageError
from ..safetext import one_line
from .observations import CaptureSummary, RateSeries

_IFACE = re.compile(r"vmk\d{1,4}|vmnic\d{1,4}|vusb\d{1,4}")
_IN_NAME = re.compile(r"(?:^|[-_.])(vmk\d{1,4}|vmnic\d{1,4}|vusb\d{1,4})(?=$|[-_.])")
_DIR_TOKEN = re.compile(r"(?:^|[-_.])(dir[012]|rx|tx|in|out|input|output|both|inout)(?=$|[-_.])", re.I)
_EXTENSIONS = (".pcapng", ".pcap", ".cap", ".pkt")
DIRECTIONS = {0: "input", 1: "output", 2: "input and output"}
# Words as the interface itself sees them: an uplink transmits to the wire (--dir 1), a vmk into the switch (--dir 0).
_WORDS = {"in": 0, "input": 0, "out": 1, "output": 1, "both": 2, "inout": 2}


@dataclass(frozen=True, slots=True)
class CapturePoint:
    host: Optional[str] = None
    attached: Optional[str] = None  # vmnicN / vmkN
    direction: Optional[int] = None
    how: str = ""


def kind_of(iface: Optional[str]) -> Optional[str]:
    if not iface:
        return None
    return "vmk" if iface.startswith("vmk") else "vmnic"


def _direction(token: str, iface: Optional[str]) -> int:
    token = token.lower()
    if token.startswith("dir"):
        return int(token[3])
    if token in ("tx", "rx"):
        sends = token == "tx"
        return (0 if sends else 1) if kind_of(iface) == "vmk" else (1 if sends else 0)
    return _WORDS[token]


def from_file_name(path: str) -> Optional[CapturePoint]:
    """``[HOST-]IFACE[-dirN].pcap[ng]``: the point a conventionally named capture was taken at."""
    stem = os.path.basename(path)
    for ext in _EXTENSIONS:
        if stem.lower().endswith(ext):
            stem = stem[:-len(ext)]
            break
    m = _IN_NAME.search(stem)
    if m is None:
        return None
    iface = m[1]
    host = stem[:m.start()].strip("-_.") or None
    d = _DIR_TOKEN.search(stem, m.end())
    return CapturePoint(host, iface, _direction(d[1], iface) if d else None, "file name")


def from_name(name: str) -> CapturePoint:
    """``-e NAME=FILE`` for a capture: ``IFACE``, ``HOST/IFACE``, ``HOST/IFACE/dirN`` or just ``HOST``."""
    host = iface = None
    direction = None
    for part in name.split("/"):
        if _IFACE.fullmatch(part):
            iface = part
        elif re.fullmatch(r"dir[012]", part, re.I):
            direction = int(part[3])
        elif part and host is None:
            host = part
        else:
            raise UsageError(f"-e {one_line(name)}=FILE: expected [HOST/]IFACE[/dirN] for a capture "
                             "(e.g. esx01/vmnic2/dir1)")
    return CapturePoint(host, iface, direction, "-e NAME=FILE")


def from_options(uplink: Optional[str], vmk: Optional[str], direction: Optional[int]) -> CapturePoint:
    if uplink and vmk:
        raise UsageError("--uplink and --vmk: a capture is taken on one of them; name each file with -e IFACE=FILE")
    if uplink and not re.fullmatch(r"vmnic\d{1,4}|vusb\d{1,4}", uplink):
        raise UsageError(f"--uplink: expected an uplink like vmnic2, not {one_line(uplink)!r}")
    if vmk and not re.fullmatch(r"vmk\d{1,4}", vmk):
        raise UsageError(f"--vmk: expected a VMkernel adapter like vmk4, not {one_line(vmk)!r}")
    how = "--uplink" if uplink else "--vmk" if vmk else "--dir" if direction is not None else ""
    return CapturePoint(None, uplink or vmk, direction, how)


def combine(*points: Optional[CapturePoint]) -> CapturePoint:
    """The first point that says each thing wins (-e NAME, then options, then the file name)."""
    host = attached = direction = None
    how = []
    for p in points:
        if p is None:
            continue
        took = False
        if host is None and p.host:
            host, took = p.host, True
        if attached is None and p.attached:
            attached, took = p.attached, True
        if direction is None and p.direction is not None:
            direction, took = p.direction, True
        if took and p.how:
            how.append(p.how)
    return CapturePoint(host, attached, direction, ", ".join(how))


def attribute(cap: CaptureSummary, point: CapturePoint) -> CaptureSummary:
    """The capture as taken at ``point``: a single interface takes the attached name."""
    cap = replace(cap, host=point.host or cap.host, attached=point.attached or cap.attached,
                  direction=point.direction if point.direction is not None else cap.direction,
                  attributed_by=point.how or cap.attributed_by)
    if not point.attached or len(cap.interfaces) != 1:
        return cap
    old, new = cap.interfaces[0].name, point.attached
    ren = (lambda names: tuple(new if n == old else n for n in names))
    flows = tuple(replace(f, to_host_interfaces=ren(f.to_host_interfaces), to_node_interfaces=ren(f.to_node_interfaces))
                  for f in cap.flows)
    rates = cap.rates
    if rates is not None:
        kind = kind_of(new) or "interface"
        rates = replace(rates, series=tuple(
            replace(s, name=new, kind=kind) if s.kind != "mac" and s.name == old else s for s in rates.series))
    return replace(cap, interfaces=(replace(cap.interfaces[0], name=new),), flows=flows, rates=rates)


def sees_data(cap: CaptureSummary) -> Optional[bool]:
    """Whether the capture's point and direction can see NFC data host -> node (None: not said)."""
    kind = kind_of(cap.attached)
    if kind is None or cap.direction is None:
        return None
    return cap.direction in ((1, 2) if kind == "vmnic" else (0, 2))


def data_bytes(cap: CaptureSummary) -> int:
    return sum(f.to_node_bytes for f in cap.flows)


def context(cap: CaptureSummary) -> list[str]:
    """What a reader must know about where the capture was taken, and what it cannot show."""
    if not cap.attached and cap.direction is None and not cap.host:
        return ["taken at: not said (a port mirror or the node's tcpdump is read as is; for a pktcap-uw "
                "capture name the point: -e esx01/vmnic2=FILE, --uplink/--vmk/--dir, or a file name "
                "like esx01-vmnic2-dir1.pcap)"]
    out = []
    where = cap.attached or "an interface not named"
    how = f" (from {cap.attributed_by})" if cap.attributed_by else ""
    out.append(f"taken at: {where}{how}")
    out.append(f"host: {cap.host}" if cap.host else
               "host: not named (the capture holds no host name: -e HOST/IFACE=FILE or --host; verify also "
               "finds it from the vmk addresses of the TCP 902 connections)")
    if cap.direction is None:
        out.append("direction: not said (pktcap-uw captures --dir 0, input, unless told otherwise; "
                   "--dir 2 needs ESXi 7.0 or later)")
    else:
        out.append(f"direction: --dir {cap.direction} ({DIRECTIONS[cap.direction]} of the virtual switch)")
    sees = sees_data(cap)
    moved = data_bytes(cap)
    kind = kind_of(cap.attached)
    if sees is False and moved == 0:
        need = "--dir 1" if kind == "vmnic" else "--dir 0"
        out.append(f"this direction cannot show the NFC data host -> node (on {'an uplink' if kind == 'vmnic' else 'a vmk'} "
                   f"it leaves on {need}, or --dir 2 on ESXi 7.0+): the capture neither shows nor excludes it")
    elif sees is False and moved:
        out.append("the capture holds data host -> node although this direction should not show it: "
                   "check --dir (0 input, 1 output of the virtual switch)")
    if len(cap.interfaces) > 1 and cap.attached:
        out.append(f"{len(cap.interfaces)} interfaces in the file: {cap.attached} applies to the file as a whole")
    return out


def renamed(series: tuple[RateSeries, ...], names: dict[str, str]) -> tuple[RateSeries, ...]:
    """MAC series named after the vmk that owns the MAC, where the snapshot knows it."""
    return tuple(replace(s, name=names[s.name], kind="vmk") if s.kind == "mac" and s.name in names else s
                 for s in series)
