"""The estimate's constants: each named, with its value, unit and public source.

Every one can be overridden (``nbdpath estimate --set NAME=VALUE``); the
output lists the values it used under ``assumptions``. docs/estimate.md is
the long form of the sources below.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Iterable

from ..errors import UsageError


@dataclass(frozen=True)
class Constant:
    name: str
    value: float
    unit: str
    source: str


_TABLE = (
    Constant("nbd_stream_mbyte_s", 145.0, "MB/s per disk stream",
             "public measurements of one NBD stream: ~142-145 MB/s (KubeVirt CDI issue #3752, vCenter and ESXi), "
             "~140-150 MB/s (Xen Orchestra); NBD has one outstanding read per stream, so the stream, not the link, "
             "binds a single disk on 10 GbE"),
    Constant("nbdssl_factor", 0.75, "fraction of NBD per stream",
             "NBDSSL encrypts every block: VMware KB 307001 and an AWS whitepaper put the cost at 20-30% (0.75: the middle)"),
    Constant("nfc_max_disks_per_host", 50.0, "disks at once per host",
             "VMware advises at most ~50 concurrent NFC connections (disks) per ESXi host; vCenter itself "
             "caps NFC through it at 52 connections (VDDK programming guide, NFC session limits)"),
    Constant("nfc_memory_mb_5x", 32.0, "MB per host, ESXi 5.x",
             "VDDK programming guide, NFC session limits: the sum of all NFC connection buffers to an ESXi 5.x host "
             "cannot exceed 32 MB"),
    Constant("nfc_memory_mb_6x", 48.0, "MB per host, ESXi 6.x-7.0",
             "VDDK programming guide, NFC session limits (6.x, 7.0): 48 MB by default; \"with 1MB buffers per I/O stream, "
             "48 requests can be concurrent\""),
    Constant("nfc_memory_mb_8x", 96.0, "MB per host, ESXi 8.0+",
             "VDDK 8 documentation: \"hostd NFC memory limit is 96MB\""),
    Constant("nfc_buffer_mb_per_stream", 1.0, "MB per disk stream",
             "VDDK programming guide: \"1MB buffers per I/O stream\""),
    Constant("forklift_nfc_per_host", 10.0, "disks at once per host (Forklift/MTV)",
             "Migration Toolkit for Virtualization documentation: at most 10 parallel NFC connections per host unless "
             "the host's NFC memory is raised; applies when the job has no per-host concurrency of its own"),
    Constant("link_efficiency", 0.94, "payload fraction of a link's speed",
             "TCP over Ethernet at MTU 1500: 1448 payload bytes per 1538 bytes on the wire (headers, preamble, "
             "inter-frame gap) = 94%"),
)
DEFAULTS = {c.name: c for c in _TABLE}


@dataclass(frozen=True)
class Constants:
    nbd_stream_mbyte_s: float = DEFAULTS["nbd_stream_mbyte_s"].value
    nbdssl_factor: float = DEFAULTS["nbdssl_factor"].value
    nfc_max_disks_per_host: float = DEFAULTS["nfc_max_disks_per_host"].value
    nfc_memory_mb_5x: float = DEFAULTS["nfc_memory_mb_5x"].value
    nfc_memory_mb_6x: float = DEFAULTS["nfc_memory_mb_6x"].value
    nfc_memory_mb_8x: float = DEFAULTS["nfc_memory_mb_8x"].value
    nfc_buffer_mb_per_stream: float = DEFAULTS["nfc_buffer_mb_per_stream"].value
    forklift_nfc_per_host: float = DEFAULTS["forklift_nfc_per_host"].value
    link_efficiency: float = DEFAULTS["link_efficiency"].value

    def stream_mbps(self, transport: str) -> float:
        """One disk stream's rate in Mb/s (the unit of link speeds)."""
        rate = self.nbd_stream_mbyte_s * 8
        return rate * self.nbdssl_factor if transport == "nbdssl" else rate

    def nfc_streams(self, version: tuple[int, ...]) -> int:
        """Disks one host serves at once: the NFC memory over one buffer each, and ~50."""
        if version < (6,):
            mem = self.nfc_memory_mb_5x
        elif version < (8,):
            mem = self.nfc_memory_mb_6x
        else:
            mem = self.nfc_memory_mb_8x
        return max(1, int(min(mem / self.nfc_buffer_mb_per_stream, self.nfc_max_disks_per_host)))

    def used(self) -> list[dict]:
        """Every constant as used, with unit and source (the output's ``assumptions``)."""
        out = []
        for f in fields(self):
            c = DEFAULTS[f.name]
            value = getattr(self, f.name)
            out.append({"name": f.name, "value": value, "unit": c.unit, "source": c.source,
                        "overridden": value != c.value})
        return out


_FRACTIONS = {"nbdssl_factor", "link_efficiency"}


def with_overrides(pairs: Iterable[str], base: Constants = Constants()) -> Constants:
    """``NAME=VALUE`` strings (``--set``) applied to ``base``; a bad one is a usage error."""
    changes: dict[str, float] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep:
            raise UsageError(f"--set {pair!r}: expected NAME=VALUE, e.g. nbd_stream_mbyte_s=120")
        if name not in DEFAULTS:
            raise UsageError(f"--set: unknown constant {name!r}; expected one of {', '.join(DEFAULTS)}")
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"--set {name}: expected a number, not {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise UsageError(f"--set {name}: expected a positive finite number, not {text!r}")
        if name in _FRACTIONS and value > 1:
            raise UsageError(f"--set {name}: expected a fraction in (0, 1], not {text!r}")
        changes[name] = value
    return replace(base, **changes)
