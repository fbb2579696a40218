"""``--cluster``, ``--host``, ``--node``: which pairs a command traces and reports.

The engine is compiled over the whole snapshot (implied gateways, segment
owners and firewalls come from every host), then asked about the selected
hosts only, so a filtered pair reads exactly as it does in the full report;
only the selected hosts are traced, and only pairs with a selected node are
kept before the rules run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import click

from ..engine import Engine
from ..engine.types import Path
from ..errors import UsageError
from ..model import Snapshot

_SHOWN = 10  # names listed in an "unknown X" message before "... and N more"


def options(f):
    """The three repeatable filter options, as ``clusters``, ``hosts``, ``nodes``."""
    f = click.option("--node", "nodes", multiple=True, metavar="N",
                     help="Only pairs with this backup node (repeatable).")(f)
    f = click.option("--host", "hosts", multiple=True, metavar="H", help="Only this ESXi host (repeatable).")(f)
    return click.option("--cluster", "clusters", multiple=True, metavar="C",
                        help="Only hosts of this cluster (repeatable).")(f)


def listing(names: Iterable[str]) -> str:
    """Names for a one-line message: the first few, then how many more."""
    names = list(dict.fromkeys(names))
    if not names:
        return "none"
    head = ", ".join(names[:_SHOWN])
    return head + (f" ... and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


@dataclass(frozen=True)
class Selection:
    clusters: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.clusters or self.hosts or self.nodes)

    def check_known(self, snaps: Iterable[Snapshot]) -> None:
        """Exit 2 on the first name no snapshot holds, listing the ones that exist."""
        snaps = list(snaps)
        known = {
            "cluster": [h.cluster for s in snaps for h in s.hosts if h.cluster],
            "host": [h.name for s in snaps for h in s.hosts],
            "backup node": [n.name for s in snaps for n in s.backup_nodes],
        }
        for kind, asked in (("cluster", self.clusters), ("host", self.hosts), ("backup node", self.nodes)):
            have = set(known[kind])
            for name in asked:
                if name not in have:
                    plural = "clusters" if kind == "cluster" else f"{kind}s"
                    raise UsageError(f"no {kind} {name!r} in the snapshot; {plural}: {listing(known[kind])}")

    def host_names(self, snap: Snapshot) -> list[str]:
        """The selected hosts of ``snap`` in snapshot order (all of them with no host or cluster filter)."""
        hosts, clusters = set(self.hosts), set(self.clusters)
        return [h.name for h in snap.hosts
                if (not hosts and not clusters) or h.name in hosts or (h.cluster is not None and h.cluster in clusters)]

    def narrow(self, snap: Snapshot) -> Snapshot:
        """``snap`` with only the selected hosts (and their missing entries) left for the engine to walk."""
        if not (self.hosts or self.clusters):
            return snap
        keep = set(self.host_names(snap))
        return snap.model_copy(update={
            "hosts": tuple(h for h in snap.hosts if h.name in keep),
            "missing": {h: why for h, why in snap.missing.items() if h in self.hosts},
        })

    def engine(self, snap: Snapshot) -> Engine:
        """An engine compiled over all of ``snap`` that traces the selected hosts only."""
        engine = Engine(snap)
        engine.snapshot = self.narrow(snap)
        return engine

    def pairs(self, paths: Iterable[Path]) -> list[Path]:
        nodes = set(self.nodes)
        return [p for p in paths if p.node in nodes] if nodes else list(paths)

    def applies_to(self, snap: Snapshot) -> bool:
        """Whether ``snap`` (of ``--lab all``) has any selected pair."""
        nodes = {n.name for n in snap.backup_nodes}
        return bool(self.host_names(snap)) and (not self.nodes or bool(nodes & set(self.nodes)))
