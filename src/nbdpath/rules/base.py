"""Findings, fixes and the rule registry. Rule IDs are stable."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional

from ..changes import Change
from ..changes import render as renderers
from ..model import Snapshot


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    title: str
    explanation: str


@dataclass(frozen=True)
class Fix:
    summary: str
    changes: tuple[Change, ...] = ()
    manual: tuple[str, ...] = ()  # steps outside the host: node, network, cabling

    def to_dict(self, snap: Optional[Snapshot] = None) -> dict[str, Any]:
        """The fix in every registered format; ``snap`` (the state it applies to) lets a
        renderer that restates a whole vmk (Ansible) do so."""
        out: dict[str, Any] = {"summary": self.summary}
        for name, r in renderers.renderers().items():
            out[name] = [r.command(c, snap) for c in self.changes]
        out["manual"] = list(self.manual)
        return out


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    host: str
    message: str
    fix: Fix
    nodes: tuple[str, ...] = ()  # the backup nodes it concerns; () for host-wide findings
    vmk: Optional[str] = None

    def to_dict(self, snap: Optional[Snapshot] = None) -> dict[str, Any]:
        r = RULES[self.rule]
        return {
            "rule": self.rule,
            "name": r.name,
            "severity": self.severity.value,
            "host": self.host,
            "nodes": list(self.nodes),
            "vmk": self.vmk,
            "message": self.message,
            "explanation": r.explanation,
            "fix": self.fix.to_dict(snap),
        }


RULES: dict[str, Rule] = {}


def rule(id: str, name: str, severity: Severity, title: str, explanation: str) -> Rule:
    r = Rule(id, name, severity, title, " ".join(explanation.split()))
    if id in RULES:
        raise ValueError(f"duplicate rule id {id}")
    RULES[id] = r
    return r


def finding(r: Rule, host: str, message: str, fix: Fix, node: Optional[str] = None, vmk: Optional[str] = None) -> Finding:
    return Finding(r.id, r.severity, host, message, fix, (node,) if node else (), vmk)


@dataclass
class Context:
    """What rules read: the compiled engine and its paths, grouped by host."""

    engine: Any
    paths_by_host: dict[str, list] = field(default_factory=dict)
