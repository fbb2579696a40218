"""Observations: what one evidence file says, as typed frozen data.

Parsers (pcap, esxtop, vddk) turn bytes into these objects; verification
only reads them. Every summary carries the warnings of what was skipped and
where, so partial input gives a partial, honest answer instead of an error.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Optional, Union

NFC_PORT = 902
# Warnings of one kind listed per file; the rest are counted in one line, so a
# file damaged everywhere gives a short stderr and a bounded ``skipped``.
MAX_NOTES = 5


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something a parser could not read: where, and what was lost."""

    file: str
    where: str  # "byte 1234", "line 17", "column 40"
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.what}"


class Notes:
    """The warnings of one file: the first few of each kind, then a count of the rest."""

    def __init__(self, file: str, limit: int = MAX_NOTES) -> None:
        self.file = file
        self.limit = limit
        self._items: list[Skipped] = []
        self._counts: Counter[str] = Counter()

    def add(self, kind: str, where: str, what: str) -> None:
        """``kind`` is a fixed label ("rows skipped"): never text taken from the file."""
        self._counts[kind] += 1
        if self._counts[kind] <= self.limit:
            self._items.append(Skipped(self.file, where, what))

    def count(self, kind: str) -> int:
        return self._counts[kind]

    def done(self) -> tuple[Skipped, ...]:
        extra = [Skipped(self.file, "whole file", f"{n} {kind} in all (first {self.limit} listed)")
                 for kind, n in self._counts.items() if n > self.limit]
        return tuple(self._items + extra)


# ------------------------------------------------------------ rates over time


@dataclass(frozen=True, slots=True)
class RateSeries:
    """One interface's (or MAC's, or port's) rate in each time bin, Mbit/s."""

    name: str  # "vmnic2", "vmk4", a MAC, a pcapng interface name
    kind: str  # "vmk" / "vmnic" / "mac" / "interface"
    direction: str  # captures: "to node" / "to host" (TCP 902 payload); esxtop: "tx" / "rx"
    mbps: tuple[float, ...]
    total_bytes: Optional[int] = None  # captures: payload bytes in the series


@dataclass(frozen=True, slots=True)
class Rates:
    """Rates over time of one file: bins of ``bin_seconds`` starting at each of ``times``."""

    bin_seconds: float
    clock: str  # "utc" (captures) / "file" (esxtop: the host's clock as the CSV writes it)
    times: tuple[str, ...]
    series: tuple[RateSeries, ...]


# ---------------------------------------------------------------- captures


@dataclass(frozen=True, slots=True)
class NfcFlow:
    """One TCP connection to port 902 seen in a capture.

    "host" is the port-902 side (the ESXi endpoint the node connected to),
    "node" the other side. Bytes are TCP payload bytes. The heavy direction
    of an NBD read is host -> node, so ``to_node_src_macs`` names the MACs
    that transmitted the backup data: each vmk has its own MAC.
    """

    host_ip: str
    host_port: int
    node_ip: str
    node_port: int
    first_seen: float
    last_seen: float
    syn_at: Optional[float]  # node's SYN
    synack_at: Optional[float]  # host's SYN-ACK
    ack_at: Optional[float]  # node's first ACK after the SYN-ACK
    to_host_packets: int
    to_host_bytes: int
    to_node_packets: int
    to_node_bytes: int
    resets: int
    # (mac, payload bytes) of packets host -> node carrying data, most first.
    to_node_src_macs: tuple[tuple[str, int], ...]
    # (mac, packets) destination MACs of node -> host packets, most first.
    to_host_dst_macs: tuple[tuple[str, int], ...]
    # pcapng interface names (or "if<N>") each direction was seen on.
    to_host_interfaces: tuple[str, ...]
    to_node_interfaces: tuple[str, ...]

    @property
    def handshake_complete(self) -> bool:
        return self.syn_at is not None and self.synack_at is not None

    @property
    def carries_data(self) -> bool:
        return self.to_node_bytes > 0

    @property
    def data_mac(self) -> Optional[str]:
        return self.to_node_src_macs[0][0] if self.to_node_src_macs else None


@dataclass(frozen=True, slots=True)
class CaptureInterface:
    index: int
    name: str
    linktype: int


@dataclass(frozen=True, slots=True)
class CaptureSummary:
    kind = "capture"
    file: str
    format: str  # "pcap" / "pcapng"
    interfaces: tuple[CaptureInterface, ...]
    packets: int
    bytes: int  # captured frame bytes
    other_packets: int  # packets not on TCP 902 (other flows, ARP, ...)
    undecoded_packets: int  # frames too short or of an unknown link type
    flows: tuple[NfcFlow, ...]
    truncated: bool
    skipped: tuple[Skipped, ...]
    rates: Optional[Rates] = None
    # Where the capture was taken, as the user or the file name says (pktcap-uw --uplink/--vmk,
    # --dir): the capture holds no host name and no ESXi version of its own.
    host: Optional[str] = None
    attached: Optional[str] = None  # "vmnic2" / "vmk4"
    direction: Optional[int] = None  # pktcap-uw --dir: 0 input, 1 output, 2 both
    attributed_by: str = ""  # "file name" / "-e NAME=FILE" / "--uplink" ...


# ----------------------------------------------------------------- esxtop


@dataclass(frozen=True, slots=True)
class PortRates:
    """One esxtop Network Port over the window: Mbit/s averages and peaks."""

    instance: str  # "vSwitch0:33554436:vmk0" as in the header
    portset: str
    port_id: str
    client: str  # vmk0, vmnic1, or a VM's "world:name"
    kind: str  # "vmk" / "vmnic" / "vm" / "other"
    samples: int
    tx_mbps_avg: float
    tx_mbps_peak: float
    rx_mbps_avg: float
    rx_mbps_peak: float


@dataclass(frozen=True, slots=True)
class UplinkMatch:
    """How closely an uplink's transmit followed a vmk's over time."""

    vmk: str
    vmnic: str
    correlation: Optional[float]  # Pearson r; None when either series is flat
    tx_mbps_avg: float


@dataclass(frozen=True, slots=True)
class EsxtopSummary:
    kind = "esxtop"
    file: str
    host: Optional[str]  # from the "\\host\" prefix of the header cells
    samples: int
    first_time: Optional[str]
    last_time: Optional[str]
    ports: tuple[PortRates, ...]
    transmitting_vmk: Optional[str]  # the vmk that sent most in the window
    # The backup window: first and last sample in which that vmk sent > 1 Mbit/s.
    window_first: Optional[str]
    window_last: Optional[str]
    receiving_vmk: Optional[str]
    uplink: Optional[UplinkMatch]  # best correlated vmnic for transmitting_vmk
    uplink_matches: tuple[UplinkMatch, ...]
    skipped: tuple[Skipped, ...]
    rates: Optional[Rates] = None


# ------------------------------------------------------------ backup logs


@dataclass(frozen=True, slots=True)
class NfcTarget:
    """A disk the backup opened over NFC, and the address it used."""

    line: int
    time: Optional[str]
    url: str
    disk: str  # "[ds] vm/vm.vmdk"
    scheme: str  # "vpxa-nfc" (NBD) / "vpxa-nfcssl" (NBDSSL) / "ha-nfc"
    transport: str  # "nbd" / "nbdssl"
    compression: Optional[str]  # "SKIPZ" / "FASTLZ" / "ZLIB"
    address: str  # where TCP went: nfcip when given, else the host part
    hostname: Optional[str]  # the "hostname:" of {nfcip:..,hostname:..}
    port: int
    failed: bool  # the same line reports the open failed
    error: Optional[str] = None  # the NBD_ERR_* code the line gives, if any
    mangled: bool = False  # recovered from a URL a Markdown renderer or mail client rewrote


@dataclass(frozen=True, slots=True)
class ConnectFailure:
    line: int
    time: Optional[str]
    target: str  # what the library was asked to connect to
    server: Optional[str]  # what it really tried ("Failed to connect to server X")
    port: int
    message: str
    # What failed: "connect" (the TCP connection), an NBD_ERR_* code, "refused", "authd read".
    code: str = "connect"
    network: bool = True  # a failure of the network path (a bad password or a locked disk is not)


@dataclass(frozen=True, slots=True)
class LogSummary:
    kind = "log"
    file: str
    encoding: str
    lines: int
    targets: tuple[NfcTarget, ...]
    failures: tuple[ConnectFailure, ...]
    skipped: tuple[Skipped, ...]
    node: Optional[str] = None  # the backup node that wrote it, as the user named it (logs name none)


Evidence = Union[CaptureSummary, EsxtopSummary, LogSummary]


def to_dict(obj: Any) -> dict[str, Any]:
    """A JSON-ready dict of any observation (dataclasses all the way down)."""
    d = asdict(obj)
    kind = getattr(obj, "kind", None)
    if kind is not None:
        d = {"kind": kind, **d}
    return d
