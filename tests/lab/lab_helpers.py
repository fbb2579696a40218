"""Shared helpers for the lab tests: small snapshots and the root/tool gate."""

from __future__ import annotations

import os
import textwrap

import pytest

from nbdpath.lab.kernel import missing_requirements
from nbdpath.model import parse

_MISSING = missing_requirements(need_tcpdump=True, need_iptables=True)

# Tests that build namespaces are marked `lab` and skipped, with the reason,
# only where the machine cannot run them; under CI (root, the tools installed by
# scripts/test.sh) they run, so a missing facility fails instead of passing silently.
needs_kernel = pytest.mark.skipif(bool(_MISSING) and not os.environ.get("CI"), reason="lab needs " + "; ".join(_MISSING))


def snap(text: str):
    return parse(textwrap.dedent(text), "<test>")


# Field report 2's shape: management on vmk0, a vmk on the backup node's
# subnet, node routed to vmk0 through `core`.
REPORT2 = """
name: report2
segments:
  - {name: mgmt, vlan: 10, subnets: [10.10.0.0/24]}
  - {name: rubrik, vlan: 28, subnets: [10.28.0.0/24]}
routers:
  - name: core
    stateful: STATEFUL
    interfaces:
      - {name: eth0, address: 10.10.0.1/24}
      - {name: eth1, address: 10.28.0.1/24}
hosts:
  - name: esx01
    management_address: 10.10.0.11
    pnics: [{name: vmnic0, speed_mbps: 1000}, {name: vmnic1, speed_mbps: 10000}]
    vswitches:
      - name: vSwitch0
        uplinks: [vmnic0, vmnic1]
        portgroups: [{name: Management}, {name: RUBRIK}]
    netstacks: [{key: defaultTcpipStack, gateway: 10.10.0.1}]
    vmks:
      - {device: vmk0, portgroup: Management, ipv4: 10.10.0.11/24, services: [management], mac: "00:50:56:aa:00:01"}
      - {device: vmk4, portgroup: RUBRIK, ipv4: 10.28.0.11/24}
backup_nodes:
  - name: rubrik1
    interfaces: [{name: eth0, address: 10.28.0.50/24}]
    gateway: 10.28.0.1
"""


def report2(stateful: bool = False):
    return snap(REPORT2.replace("STATEFUL", "true" if stateful else "false"))
