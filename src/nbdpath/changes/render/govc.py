"""govc against vCenter: host.vnic.service for tags, host.esxcli for the rest."""

from __future__ import annotations

from typing import Optional, Sequence

from ...model import Snapshot
from ...safetext import sh, sh_quoted
from ..kinds import Change, TagAdd, TagRemove
from . import esxcli
from ._script import commented_script

NAME = "govc"
ORDER = 30
TITLE = "govc, with GOVC_URL/GOVC_USERNAME/GOVC_PASSWORD set"


def command(change: Change, snap: Optional[Snapshot] = None) -> str:
    host = sh_quoted(change.host)
    if isinstance(change, (TagAdd, TagRemove)):
        sign = "" if isinstance(change, TagAdd) else " -enable=false"
        return f"govc host.vnic.service -host {host}{sign} {sh(change.tag)} {sh(change.vmk)}"
    return " && ".join(f"govc host.esxcli -host {host} -- {part[len('esxcli '):]}" for part in esxcli.parts(change))


def script(steps: Sequence, snap: Snapshot) -> str:
    return commented_script(["#!/bin/sh", "# nbdpath plan (govc). Set GOVC_URL/GOVC_USERNAME/GOVC_PASSWORD first.",
                             "set -e"], steps, command)
