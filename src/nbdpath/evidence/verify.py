"""Hold observations against the engine's prediction, pair by pair. Pure.

For each host x backup node path: which facts the evidence states (endpoint
the node connected to, vmk that transmitted the data, uplink that carried
it, whether the connection worked), each compared with the prediction.
Any disagreement makes the pair CONTRADICTED, naming the fact; the
endpoint and the egress vmk both agreeing make it CONFIRMED; anything less
is INCONCLUSIVE, saying which evidence would settle it.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Iterable, Optional, Sequence, Union

from ..engine.types import Path, Verdict
from ..model import Snapshot
from .esxtop import ACTIVE_MBPS, best_uplink
from .observations import (CaptureSummary, ConnectFailure, EsxtopSummary, Evidence, LogSummary, NfcFlow, Skipped,
                           to_dict)
from .pktcap import kind_of, renamed, sees_data
from .vddk import NETWORK_CODES as _NETWORK_CODES

REPORT_VERSION = 1
_FAILING = (Verdict.UNREACHABLE, Verdict.BROKEN_BY_FIREWALL)
# esxtop sees the whole host: a vmk "took part" when it sent this share of the top vmk's rate.
SIGNIFICANT_SHARE = 0.1
_NOT_HEX = re.compile(r"[^0-9a-fA-F]")
_VMK_NAME = re.compile(r"vmk\d{1,4}")


_STR_OR_NULL = {"type": ["string", "null"]}
_FACT_SCHEMA = {
    "type": "object",
    "required": ["subject", "predicted", "observed", "agrees", "source", "note"],
    "additionalProperties": False,
    "properties": {
        "subject": {"enum": ["endpoint", "connection", "ingress vmk", "egress vmk", "uplink"]},
        "predicted": _STR_OR_NULL, "observed": {"type": "string"}, "agrees": {"type": ["boolean", "null"]},
        "source": {"type": "string"}, "note": {"type": "string"},
    },
}
# The JSON contract of `nbdpath verify --format json` (version 1).
REPORT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "nbdpath verify report",
    "type": "object",
    "required": ["version", "kind", "pairs", "unmatched", "skipped"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "kind": {"const": "verify"},
        "pairs": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["host", "node", "check", "reason", "predicted_verdict", "predicted_endpoint",
                         "observed_endpoint", "predicted_egress_vmk", "observed_egress_vmk",
                         "predicted_uplinks", "observed_uplink", "facts", "settle"],
            "properties": {
                "host": {"type": "string"}, "node": {"type": "string"},
                "check": {"enum": ["CONFIRMED", "CONTRADICTED", "INCONCLUSIVE"]},
                "reason": {"type": "string"}, "predicted_verdict": {"type": "string"},
                "predicted_endpoint": _STR_OR_NULL, "observed_endpoint": _STR_OR_NULL,
                "predicted_egress_vmk": _STR_OR_NULL, "observed_egress_vmk": _STR_OR_NULL,
                "predicted_uplinks": {"type": "array", "items": {"type": "string"}},
                "observed_uplink": _STR_OR_NULL,
                "facts": {"type": "array", "items": _FACT_SCHEMA},
                "settle": {"type": "array", "items": {"type": "string"}},
            },
        }},
        "unmatched": {"type": "array", "items": {"type": "string"}},
        "carried": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["host", "kind", "interface", "share", "what", "source", "text"],
            "properties": {
                "host": {"type": "string"}, "kind": {"enum": ["uplink", "vmk"]}, "interface": {"type": "string"},
                "share": {"type": "number", "minimum": 0, "maximum": 1}, "what": {"type": "string"},
                "source": {"type": "string"}, "text": {"type": "string"},
            },
        }},
        "rates": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["file", "kind", "host", "rates"],
            "properties": {
                "file": {"type": "string"}, "kind": {"enum": ["capture", "esxtop"]}, "host": _STR_OR_NULL,
                "rates": {"type": "object", "required": ["bin_seconds", "clock", "times", "series"],
                          "properties": {"bin_seconds": {"type": "number"}, "clock": {"enum": ["utc", "file"]},
                                         "times": {"type": "array", "items": {"type": "string"}},
                                         "series": {"type": "array", "items": {
                                             "type": "object",
                                             "required": ["name", "kind", "direction", "mbps", "total_bytes"],
                                             "properties": {"mbps": {"type": "array",
                                                                     "items": {"type": "number"}}}}}}},
            },
        }},
        "skipped": {"type": "array", "items": {
            "type": "object", "required": ["file", "where", "what"], "additionalProperties": False,
            "properties": {"file": {"type": "string"}, "where": {"type": "string"}, "what": {"type": "string"}},
        }},
    },
}


class Check(str, Enum):
    CONFIRMED = "CONFIRMED"
    CONTRADICTED = "CONTRADICTED"
    INCONCLUSIVE = "INCONCLUSIVE"


# Fact subjects, in the order a reader wants them.
ENDPOINT, INGRESS, EGRESS, UPLINK, CONNECTION = "endpoint", "ingress vmk", "egress vmk", "uplink", "connection"
_ORDER = (ENDPOINT, CONNECTION, INGRESS, EGRESS, UPLINK)


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing the evidence says, next to what was predicted."""

    subject: str
    predicted: Optional[str]
    observed: str
    agrees: Optional[bool]  # None: stated, but not comparable with the prediction
    source: str  # file and where in it
    note: str = ""

    def __str__(self) -> str:
        text = f"{self.subject}: predicted {self.predicted or '-'}, observed {self.observed} ({self.source})"
        return f"{text}; {self.note}" if self.note else text


@dataclass(frozen=True, slots=True)
class PairCheck:
    host: str
    node: str
    check: Check
    reason: str
    predicted_verdict: str
    predicted_endpoint: Optional[str]
    observed_endpoint: Optional[str]
    predicted_egress_vmk: Optional[str]
    observed_egress_vmk: Optional[str]
    predicted_uplinks: tuple[str, ...]
    observed_uplink: Optional[str]
    facts: tuple[Fact, ...]
    settle: tuple[str, ...]  # evidence that would settle what is open


@dataclass(frozen=True, slots=True)
class Carried:
    """Which interface of a host carried the bulk of what the evidence saw it send."""

    host: str
    kind: str  # "uplink" / "vmk"
    interface: str
    share: float  # of ``what``
    what: str  # "NFC bytes host -> node captured on its uplinks", "the vmnics' transmit (esxtop)"
    source: str

    @property
    def text(self) -> str:
        return f"{self.host}: {self.interface} carried {percent(self.share)} of {self.what} ({self.source})"


def percent(share: float) -> str:
    """A share as a whole percentage that never rounds a remainder away (99.97% is not "100%")."""
    whole = round(share * 100)
    if whole == 100 and share < 1:
        return "over 99%"
    if whole == 0 and share > 0:
        return "under 1%"
    return f"{whole}%"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    pairs: tuple[PairCheck, ...]
    unmatched: tuple[str, ...]  # observations no pair of the snapshot explains
    skipped: tuple[Skipped, ...]
    carried: tuple[Carried, ...] = ()
    # Rates over time per capture / esxtop file: {"file", "kind", "host", "rates"} (MACs named after their vmk).
    rates: tuple[dict[str, Any], ...] = ()

    @property
    def contradicted(self) -> bool:
        return any(p.check is Check.CONTRADICTED for p in self.pairs)

    def to_dict(self) -> dict[str, Any]:
        def fact(f: Fact) -> dict[str, Any]:
            return {"subject": f.subject, "predicted": f.predicted, "observed": f.observed,
                    "agrees": f.agrees, "source": f.source, "note": f.note}

        return {
            "version": REPORT_VERSION,
            "kind": "verify",
            "pairs": [
                {
                    "host": p.host, "node": p.node, "check": p.check.value, "reason": p.reason,
                    "predicted_verdict": p.predicted_verdict,
                    "predicted_endpoint": p.predicted_endpoint, "observed_endpoint": p.observed_endpoint,
                    "predicted_egress_vmk": p.predicted_egress_vmk,
                    "observed_egress_vmk": p.observed_egress_vmk,
                    "predicted_uplinks": list(p.predicted_uplinks), "observed_uplink": p.observed_uplink,
                    "facts": [fact(f) for f in p.facts], "settle": list(p.settle),
                }
                for p in self.pairs
            ],
            "unmatched": list(self.unmatched),
            "carried": [{"host": c.host, "kind": c.kind, "interface": c.interface, "share": round(c.share, 4),
                         "what": c.what, "source": c.source, "text": c.text} for c in self.carried],
            "rates": list(self.rates),
            "skipped": [{"file": s.file, "where": s.where, "what": s.what} for s in self.skipped],
        }


def normalise_mac(mac: str) -> Optional[str]:
    digits = _NOT_HEX.sub("", mac)
    if len(digits) != 12:
        return None
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2)).lower()


def _bare_ip(value: str) -> Optional[str]:
    try:
        return str(ipaddress.ip_interface(value.strip("[]")).ip)
    except ValueError:
        return None


@dataclass
class _Index:
    """Lookups from what evidence shows (IPs, MACs, names) to snapshot objects."""

    vmk_by_ip: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    vmk_by_mac: dict[str, tuple[str, str]] = field(default_factory=dict)
    node_by_ip: dict[str, str] = field(default_factory=dict)
    host_by_alias: dict[str, str] = field(default_factory=dict)
    dns: dict[str, str] = field(default_factory=dict)  # snapshot dns, then host names -> management IP

    @classmethod
    def of(cls, snap: Snapshot) -> "_Index":
        ix = cls()
        for h in snap.hosts:
            mgmt_ip = _bare_ip(h.management_address or "")
            for alias in (h.name, h.management_address, *h.dns_names):
                if alias:
                    ix.host_by_alias[alias.lower()] = h.name
                    ix.host_by_alias.setdefault(alias.lower().split(".")[0], h.name)
                    if mgmt_ip:  # a host added by IP: its names lead there too
                        ix.dns.setdefault(alias.lower(), mgmt_ip)
            for v in h.vmks:
                if v.ipv4:
                    ix.vmk_by_ip[str(ipaddress.ip_interface(v.ipv4).ip)].append((h.name, v.device))
                mac = normalise_mac(v.mac or "")
                if mac:
                    ix.vmk_by_mac[mac] = (h.name, v.device)
        ix.dns.update({k.lower(): v for k, v in snap.dns.items()})
        for n in snap.backup_nodes:
            for i in n.interfaces:
                ix.node_by_ip[str(ipaddress.ip_interface(i.address).ip)] = n.name
        return ix

    def resolve(self, address: str) -> Optional[str]:
        """A name or IP as the backup node would resolve it (snapshot dns)."""
        return _bare_ip(address) or _bare_ip(self.dns.get(address.lower(), ""))

    def vmk_at(self, address: str) -> Optional[tuple[str, str]]:
        ip = self.resolve(address)
        hits = self.vmk_by_ip.get(ip, []) if ip else []
        return hits[0] if len(hits) == 1 else None

    def host_named(self, name: Optional[str]) -> Optional[str]:
        if not name:
            return None
        name = name.lower()
        return self.host_by_alias.get(name) or self.host_by_alias.get(name.split(".")[0])


# ------------------------------------------------------------------ facts


def _uplink_names(path: Path) -> tuple[str, ...]:
    return tuple(u.name for u in path.outcome.egress_uplinks)


def _capture_facts(cap: CaptureSummary, ix: _Index, paths: dict[tuple[str, str], Path],
                   out: dict[tuple[str, str], list[Fact]], unmatched: list[str]) -> None:
    for flow in cap.flows:
        src = f"{cap.file}: TCP {flow.node_ip}:{flow.node_port} -> {flow.host_ip}:{flow.host_port}"
        hv = ix.vmk_at(flow.host_ip)
        node = ix.node_by_ip.get(flow.node_ip)
        if hv is None or node is None:
            unmatched.append(f"{src}: {'host address' if hv is None else 'node address'} "
                             "is in no vmk / backup node interface of the snapshot")
            continue
        host, vmk = hv
        path = paths.get((host, node))
        if path is None:
            unmatched.append(f"{src}: no predicted path for {host} -> {node}")
            continue
        facts = out[(host, node)]
        facts.extend(_flow_facts(flow, vmk, host, path, ix, src))


def _flow_facts(flow: NfcFlow, vmk: str, host: str, path: Path, ix: _Index, src: str) -> list[Fact]:
    o = path.outcome
    facts = [Fact(ENDPOINT, _endpoint_text(path), f"{flow.host_ip} ({vmk})",
                  path.endpoint.ip == flow.host_ip if path.endpoint.ip else None, src)]
    failing = o.verdict in _FAILING
    if flow.carries_data:
        facts.append(Fact(CONNECTION, o.verdict.value, "data flowed host -> node",
                          not failing, src, "so the connection worked"))
    elif flow.syn_at is not None and flow.synack_at is None:
        facts.append(Fact(CONNECTION, o.verdict.value, "SYN without SYN-ACK",
                          True if failing else None, src,
                          "" if failing else "the capture may not see the reply path"))
    # Which vmk sent the data: its MAC, or a pktcap-uw interface named after it.
    data_vmk, how = None, ""
    if flow.data_mac:
        owner = ix.vmk_by_mac.get(flow.data_mac)
        if owner and owner[0] == host:
            data_vmk, how = owner[1], f"source MAC {flow.data_mac}"
        elif flow.carries_data:
            facts.append(Fact(EGRESS, o.egress_vmk, f"source MAC {flow.data_mac}", None, src,
                              "not the MAC of a vmk of this host (a router's, if captured beyond the first hop)"))
    named = [i for i in flow.to_node_interfaces if _VMK_NAME.fullmatch(i)]
    if data_vmk is None and len(named) == 1 and flow.carries_data:
        data_vmk, how = named[0], f"captured on interface {named[0]}"
    if data_vmk:
        facts.append(Fact(EGRESS, o.egress_vmk, f"{data_vmk} ({how})", data_vmk == o.egress_vmk, src))
    if flow.to_host_dst_macs:
        mac = flow.to_host_dst_macs[0][0]
        owner = ix.vmk_by_mac.get(mac)
        if owner and owner[0] == host:
            facts.append(Fact(INGRESS, o.ingress_vmk, f"{owner[1]} (destination MAC {mac})",
                              owner[1] == o.ingress_vmk if o.ingress_vmk else None, src))
    return facts


def _endpoint_text(path: Path) -> Optional[str]:
    e = path.endpoint
    if e.ip is None:
        return None
    return f"{e.ip} ({e.vmk})" if e.vmk else e.ip


def _esxtop_facts(top: EsxtopSummary, ix: _Index, by_host: dict[str, list[Path]],
                  out: dict[tuple[str, str], list[Fact]], unmatched: list[str]) -> None:
    host = ix.host_named(top.host)
    if host is None or host not in by_host:
        # Real CSVs often say "localhost": tell the user how to name the host instead.
        example = next(iter(by_host), "HOST")
        unmatched.append(f"{top.file}: esxtop host {top.host!r} is not in the snapshot; "
                         f"name it with -e {example}={top.file} or --host {example}")
        return
    ports = {p.client: p for p in top.ports}
    if not top.transmitting_vmk:
        return  # nothing sent: the CSV does not cover a backup
    top_rate = ports[top.transmitting_vmk].tx_mbps_avg
    window = f"{top.window_first} .. {top.window_last}"
    src = f"{top.file}: esxtop {top.host}, {top.samples} samples, backup window {window}"
    explains = {p.outcome.egress_vmk for p in by_host[host]}
    for path in by_host[host]:
        o = path.outcome
        facts = out[(host, path.node)]
        pred = o.egress_vmk
        sent = ports.get(pred) if pred else None
        took_part = sent is not None and sent.tx_mbps_peak > ACTIVE_MBPS and \
            sent.tx_mbps_avg >= SIGNIFICANT_SHARE * top_rate
        if pred is None:
            facts.append(Fact(EGRESS, None, f"{top.transmitting_vmk} sent most ({top_rate:.1f} Mbit/s avg)",
                              None, src))
        elif took_part:
            facts.append(Fact(EGRESS, pred, f"{pred} sent {sent.tx_mbps_avg:.1f} Mbit/s avg "  # type: ignore[union-attr]
                              f"(top: {top.transmitting_vmk})", True, src))
        else:
            rate = f"{pred}: {sent.tx_mbps_avg:.1f} Mbit/s" if sent else f"{pred}: no port in the CSV"
            # esxtop does not say for which node a vmk sent. When another pair of this host is
            # predicted to send from the top vmk, this node may simply not have run in the window.
            explained = top.transmitting_vmk in explains
            facts.append(Fact(EGRESS, pred, f"{top.transmitting_vmk} sent {top_rate:.1f} Mbit/s avg",
                              None if explained else False, src,
                              f"{rate}; another node's path explains {top.transmitting_vmk}" if explained else rate))
        # The uplink speaks for this pair only through its own egress vmk.
        up = best_uplink(top.uplink_matches, ports, pred) if took_part and pred else None
        if up is not None:
            predicted = _uplink_names(path)
            facts.append(Fact(UPLINK, ", ".join(predicted) or None,
                              f"{up.vmnic} (transmit follows {pred}, r={up.correlation})",
                              (up.vmnic in predicted) if predicted else None, src))
        if top.receiving_vmk:
            facts.append(Fact(INGRESS, o.ingress_vmk, f"{top.receiving_vmk} received most", None, src,
                              "esxtop cannot tell backup replies from other received traffic"))


def _log_node(log: LogSummary, nodes: Sequence[str], unmatched: list[str]) -> tuple[Optional[str], bool]:
    """The node the user said wrote the log (None when not said), and whether it is usable."""
    if log.node is None:
        return None, True
    found = next((n for n in nodes if n.lower() == log.node.lower()), None)
    if found is None:
        unmatched.append(f"{log.file}: node {log.node!r} is not a backup node of the snapshot "
                         f"(nodes: {', '.join(nodes) or 'none'})")
        return None, False
    return found, True


def _log_facts(log: LogSummary, ix: _Index, by_host: dict[str, list[Path]], nodes: Sequence[str],
               out: dict[tuple[str, str], list[Fact]], unmatched: list[str]) -> None:
    node, usable = _log_node(log, nodes, unmatched)
    if not usable:
        return
    single_node = node is not None or len(nodes) == 1
    for_node = (lambda paths: [p for p in paths if p.node == node]) if node else (lambda paths: paths)
    for t in log.targets:
        src = f"{log.file}: line {t.line}"
        owner = ix.vmk_at(t.address)
        host = owner[0] if owner else ix.host_named(t.hostname) or ix.host_named(t.address)
        if host is None or host not in by_host:
            unmatched.append(f"{src}: NFC target {t.address} is no host or vmk of the snapshot")
            continue
        ip = ix.resolve(t.address)
        shown = t.address if ip in (None, t.address) else f"{t.address} = {ip}"
        shown += f" ({owner[1]})" if owner else ""
        for path in for_node(by_host[host]):
            agrees = (ip == path.endpoint.ip) if ip and path.endpoint.ip else None
            note = "" if ip else f"{t.address} does not resolve in the snapshot's dns"
            out[(host, path.node)].append(Fact(ENDPOINT, _endpoint_text(path), shown, agrees, src, note))
    failed_opens = [ConnectFailure(t.line, t.time, t.address, t.address, t.port, t.error or "", code=t.error or "")
                    for t in log.targets if t.failed and t.error in _NETWORK_CODES]
    for f in (*log.failures, *failed_opens):
        src = f"{log.file}: line {f.line}"
        if not f.target:
            unmatched.append(f"{src}: {f.code} failure, and no NFC target before it in the log to say where to")
            continue
        server = f.server or f.target
        owner = ix.vmk_at(server)
        host = owner[0] if owner else ix.host_named(f.target) or ix.host_named(server)
        if host is None or host not in by_host:
            unmatched.append(f"{src}: failed connection to {server} is no host or vmk of the snapshot")
            continue
        ip = ix.resolve(server)
        what = f"could not connect to {server}:{f.port}" + (f" ({f.code})" if f.code != "connect" else "")
        for path in for_node(by_host[host]):
            out[(host, path.node)].append(_failure_fact(f, what, ip, path, single_node, src))


def _failure_fact(f: ConnectFailure, what: str, ip: Optional[str], path: Path, single_node: bool,
                  src: str) -> Fact:
    """A failed connect speaks against a prediction of reachable only when it went to the predicted
    endpoint, was a network failure, and came from this pair's node."""
    failing = path.outcome.verdict in _FAILING
    elsewhere = ip is not None and path.endpoint.ip is not None and ip != path.endpoint.ip
    if not f.network:
        agrees, note = None, f"{f.code} need not be a network failure"
    elif failing:
        agrees, note = True, ""
    elif elsewhere:
        agrees, note = None, f"not the predicted endpoint {path.endpoint.ip}"
    elif single_node:
        # The log does not say which node wrote it: with one node (or one the user named) it is that one.
        agrees, note = False, ""
    else:
        agrees, note = None, "the log does not name the node; several nodes in the snapshot (say it with --node)"
    return Fact(CONNECTION, path.outcome.verdict.value, what, agrees, src, note)


# ---------------------------------------------------------------- verdict


def _collapse(facts: list[Fact]) -> list[Fact]:
    """One fact per distinct statement: fifty disks through one vmk say one thing fifty times."""
    seen: dict[tuple, list[Fact]] = {}
    for f in facts:
        seen.setdefault((f.subject, f.predicted, f.observed, f.agrees, f.note), []).append(f)
    out = []
    for same in seen.values():
        first = same[0]
        if len(same) > 1:
            first = replace(first, source=f"{first.source} (+{len(same) - 1} more)")
        out.append(first)
    return sorted(out, key=lambda f: _ORDER.index(f.subject))


def _judge(path: Path, facts: list[Fact]) -> PairCheck:
    o = path.outcome
    facts = _collapse(facts)
    bad = [f for f in facts if f.agrees is False]
    good = {f.subject for f in facts if f.agrees is True}
    settle: list[str] = []
    failing = o.verdict in _FAILING
    if bad:
        check, reason = Check.CONTRADICTED, "; ".join(str(f) for f in bad)
    elif failing:
        if CONNECTION in good:
            check, reason = Check.CONFIRMED, f"the connection failed as predicted ({o.verdict.value})"
        else:
            check, reason = Check.INCONCLUSIVE, f"predicted {o.verdict.value}, but no evidence of the connection"
            settle.append(f"the backup log of {path.node} showing the connect failure to "
                          f"{path.endpoint.ip or path.host}:902, or a capture on {path.node} "
                          "showing SYNs without a reply")
    elif ENDPOINT in good and EGRESS in good:
        check, reason = Check.CONFIRMED, "endpoint and egress vmk as predicted"
    else:
        check = Check.INCONCLUSIVE
        missing = [s for s in (ENDPOINT, EGRESS) if s not in good]
        reason = "no evidence of the " + " and the ".join(missing)
        if ENDPOINT in missing:
            settle.append(f"a backup/VDDK log of a disk on {path.host} (Veeam Agent.<job>.Source.<disk>.log "
                          f"or vixDiskLib log) with its vpxa-nfc:// target, or a capture of {path.node}'s "
                          "TCP 902 connection")
        if EGRESS in missing:
            settle.append(f"an esxtop batch CSV from {path.host} during the backup (esxtop -b -d 2 -n N), or a "
                          f"capture on the host side (port mirror or pktcap-uw on {o.egress_vmk or 'the vmks'}) "
                          f"showing the source MAC of data packets to {o.node_ip or path.node}")
    observed = {s: next((f.observed for f in facts if f.subject == s and f.agrees is not None), None)
                for s in (ENDPOINT, EGRESS, UPLINK)}
    return PairCheck(
        host=path.host, node=path.node, check=check, reason=reason, predicted_verdict=o.verdict.value,
        predicted_endpoint=_endpoint_text(path), observed_endpoint=observed[ENDPOINT],
        predicted_egress_vmk=o.egress_vmk, observed_egress_vmk=observed[EGRESS],
        predicted_uplinks=_uplink_names(path), observed_uplink=observed[UPLINK],
        facts=tuple(facts), settle=tuple(settle),
    )


def verify(snapshot: Snapshot, paths: Sequence[Path], evidence: Iterable[Evidence]) -> VerifyReport:
    """Compare every path's prediction with what the evidence observed."""
    ix = _Index.of(snapshot)
    by_pair = {(p.host, p.node): p for p in paths}
    by_host: dict[str, list[Path]] = defaultdict(list)
    for p in paths:
        by_host[p.host].append(p)
    nodes = [n.name for n in snapshot.backup_nodes]
    facts: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    unmatched: list[str] = []
    skipped: list[Skipped] = []
    for ev in evidence:
        skipped.extend(ev.skipped)
        if isinstance(ev, CaptureSummary):
            _capture_facts(ev, ix, by_pair, facts, unmatched)
        elif isinstance(ev, EsxtopSummary):
            _esxtop_facts(ev, ix, by_host, facts, unmatched)
        elif isinstance(ev, LogSummary):
            _log_facts(ev, ix, by_host, nodes, facts, unmatched)
        else:  # pragma: no cover - the Evidence union is closed
            raise TypeError(f"unknown evidence {type(ev).__name__}")
    evidence = list(evidence)
    captures = [ev for ev in evidence if isinstance(ev, CaptureSummary)]
    _uplink_capture_facts(captures, ix, by_pair, facts, unmatched)
    unmatched.extend(_version_notes(captures, ix, snapshot))
    carried = _carried(evidence, ix, by_host)
    pairs = tuple(_judge(p, facts[(p.host, p.node)]) for p in paths)
    return VerifyReport(pairs, tuple(unmatched), tuple(skipped), tuple(carried), tuple(_rates(evidence, ix)))


# ------------------------------------------------- uplinks, bulk and rates


def _size(n: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def _capture_host(cap: CaptureSummary, ix: _Index) -> Optional[str]:
    return ix.host_named(cap.host) if cap.host else None


def _uplink_capture_facts(caps: list[CaptureSummary], ix: _Index, paths: dict[tuple[str, str], Path],
                          out: dict[tuple[str, str], list[Fact]], unmatched: list[str]) -> None:
    """Captures taken on uplinks (pktcap-uw --uplink, one per uplink): which one carried a pair's data."""
    per_pair: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    files: dict[tuple[str, str], set[str]] = defaultdict(set)
    quiet: list[tuple[str, str, str]] = []
    for cap in caps:
        if kind_of(cap.attached) != "vmnic":
            continue
        uplink = cap.attached or ""
        named = _capture_host(cap, ix)
        seen = False
        for flow in cap.flows:
            hv, node = ix.vmk_at(flow.host_ip), ix.node_by_ip.get(flow.node_ip)
            if hv is None or node is None or (named and hv[0] != named):
                continue
            seen = True
            counts = per_pair[(hv[0], node)]
            counts[uplink] = counts.get(uplink, 0) + flow.to_node_bytes
            files[(hv[0], node)].add(cap.file)
        if named and sees_data(cap) is not False:
            quiet.append((named, uplink, cap.file))
        if not seen and not named:
            unmatched.append(f"{cap.file}: captured on {uplink}: no TCP 902 connection of a snapshot host "
                             f"and no host named, so it cannot count for or against an uplink; name it with "
                             f"-e HOST/{uplink}={cap.file} or --host HOST")
        elif cap.host and not named:
            unmatched.append(f"{cap.file}: host {cap.host!r} (from {cap.attributed_by or 'the file'}) is not in the "
                             "snapshot; the connections' own addresses were used")
    for host, uplink, file in quiet:
        # A capture of this host's uplink that saw none of a pair's data still counts: 0% for it.
        for pair, counts in per_pair.items():
            if pair[0] == host:
                counts.setdefault(uplink, 0)
                files[pair].add(file)
    for pair, counts in per_pair.items():
        path = paths.get(pair)
        total = sum(counts.values())
        if path is None or total == 0:
            continue
        bulk, moved = max(counts.items(), key=lambda kv: kv[1])
        predicted = _uplink_names(path)
        detail = ", ".join(f"{u} {_size(v)}" for u, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        out[pair].append(Fact(UPLINK, ", ".join(predicted) or None,
                              f"{bulk} carried {percent(moved / total)} of the NFC bytes to {pair[1]} "
                              f"captured on uplinks ({detail})",
                              (bulk in predicted) if predicted else None, "; ".join(sorted(files[pair]))))


def _version_notes(caps: list[CaptureSummary], ix: _Index, snapshot: Snapshot) -> list[str]:
    """A capture holds no ESXi version: hold what it claims (--dir 2) against the snapshot's."""
    versions = {h.name: h for h in snapshot.hosts}
    out = []
    for cap in caps:
        if cap.direction != 2:
            continue
        hosts = {ix.host_named(cap.host)} if cap.host else {hv[0] for f in cap.flows if (hv := ix.vmk_at(f.host_ip))}
        for name in sorted(h for h in hosts if h):
            host = versions.get(name)
            if host is not None and host.version_tuple < (7, 0):
                out.append(f"{cap.file}: --dir 2 (both directions) needs pktcap-uw of ESXi 7.0 or later, but "
                           f"{name} runs {host.version}: check how the capture was taken")
    return out


_CarriedKey = Union[tuple[str, str], tuple[str, str, str]]


def _carried(evidence: list[Evidence], ix: _Index, by_host: dict[str, list[Path]]) -> list[Carried]:
    """Per host, the uplink and the vmk that carried the bulk, from captures and esxtop."""
    # (host, "uplink" | "vmk"), with a third item "esxtop" when measured there (not in NFC bytes).
    amounts: dict[_CarriedKey, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    sources: dict[_CarriedKey, set[str]] = defaultdict(set)
    for ev in evidence:
        if isinstance(ev, CaptureSummary):
            for flow in ev.flows:
                hv = ix.vmk_at(flow.host_ip)
                if hv is None or not flow.to_node_bytes:
                    continue
                host = hv[0]
                if kind_of(ev.attached) == "vmnic":
                    amounts[(host, "uplink")][ev.attached or ""] += flow.to_node_bytes
                    sources[(host, "uplink")].add(ev.file)
                by_mac = False
                for mac, n in flow.to_node_src_macs:
                    owner = ix.vmk_by_mac.get(mac)
                    if owner and owner[0] == host:
                        amounts[(host, "vmk")][owner[1]] += n
                        sources[(host, "vmk")].add(ev.file)
                        by_mac = True
                if not by_mac and kind_of(ev.attached) == "vmk":  # MACs unknown: the vmk it was captured on
                    amounts[(host, "vmk")][ev.attached or ""] += flow.to_node_bytes
                    sources[(host, "vmk")].add(ev.file)
        elif isinstance(ev, EsxtopSummary):
            named = ix.host_named(ev.host)
            if named is None or named not in by_host:
                continue
            for p in ev.ports:
                if p.kind in ("vmk", "vmnic") and p.tx_mbps_avg > 0:
                    key: _CarriedKey = (named, "uplink" if p.kind == "vmnic" else "vmk", "esxtop")
                    amounts[key][p.client] += p.tx_mbps_avg
                    sources[key].add(ev.file)
    out = []
    for key, by_iface in amounts.items():
        total = sum(by_iface.values())
        if total <= 0:
            continue
        iface, amount = max(by_iface.items(), key=lambda kv: kv[1])
        esxtop = len(key) == 3
        kind = key[1]
        what = (f"the {'vmnics' if kind == 'uplink' else 'vmks'}' transmit in esxtop" if esxtop else
                "NFC bytes host -> node captured on its uplinks" if kind == "uplink" else
                "NFC bytes host -> node (by source MAC, or the vmk captured on)")
        out.append(Carried(key[0], kind, iface, amount / total, what, ", ".join(sorted(sources[key]))))
    return sorted(out, key=lambda c: (c.host, c.kind, c.what))


def _rates(evidence: list[Evidence], ix: _Index) -> list[dict[str, Any]]:
    by_mac = {mac: vmk for mac, (_host, vmk) in ix.vmk_by_mac.items()}
    out = []
    for ev in evidence:
        if isinstance(ev, (CaptureSummary, EsxtopSummary)) and ev.rates is not None:
            rates = ev.rates
            if isinstance(ev, CaptureSummary):
                rates = replace(rates, series=renamed(rates.series, by_mac))
            out.append({"file": ev.file, "kind": ev.kind, "host": ev.host, "rates": to_dict(rates)})
    return out
