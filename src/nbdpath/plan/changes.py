"""Compatibility names for :mod:`nbdpath.changes` (kinds and renderers live there)."""

from __future__ import annotations

import ipaddress

from ..changes.kinds import (  # noqa: F401  (re-exported)
    Change,
    RouteAdd,
    RouteRemove,
    TagAdd,
    TagRemove,
    VmkRemove,
    apply,
    apply_all,
    from_dict,
    inverse,
    name_list,
)
from ..changes.render import esxcli as _esxcli
from ..changes.render import govc as _govc
from ..changes.render import powercli as _powercli

esxcli_tag = _esxcli.esxcli_tag


def esxcli(change: Change) -> str:
    return _esxcli.command(change)


def powercli(change: Change) -> str:
    return _powercli.command(change)


def govc(change: Change) -> str:
    return _govc.command(change)


def netmask(prefixlen: int) -> str:
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefixlen}").netmask)
