"""Disagreements the lab found between the engine and a Linux kernel.

Each case was a real engine bug found by the lab; the engine is fixed and
these pin the kernel's behaviour and the engine's agreement with it.
"""

from __future__ import annotations

import pytest

from nbdpath import engine
from nbdpath.lab.kernel import Limits
from nbdpath.lab.run import run

from lab_helpers import needs_kernel, snap

pytestmark = [pytest.mark.lab, needs_kernel]

LIMITS = Limits(nbytes=64 * 1024, connect_timeout=1.0, idle_timeout=1.0)

# vmk0 has a /16 that also covers vmk1's /24; the default gateway is on
# vmk1's /24. A kernel resolves a gateway by longest prefix (vmk1); the
# engine takes the first connected route holding it in vmk order (vmk0),
# then finds nothing answering ARP for the gateway on vmk0's segment.
OVERLAPPING_GATEWAY = """
name: overlap-gateway
segments:
  - {name: a, subnets: [10.0.0.0/24]}
  - {name: b, subnets: [10.0.1.0/24]}
  - {name: c, subnets: [10.9.0.0/24]}
routers:
  - name: r
    interfaces:
      - {name: eth0, address: 10.0.1.1/24}
      - {name: eth1, address: 10.9.0.1/24}
hosts:
  - name: esx
    management_address: 10.0.0.5
    pnics: [{name: vmnic0}]
    vswitches: [{name: vs, uplinks: [vmnic0], portgroups: [{name: pg}]}]
    netstacks: [{key: defaultTcpipStack, gateway: 10.0.1.1}]
    vmks:
      - {device: vmk0, portgroup: pg, ipv4: 10.0.0.5/16, services: [management]}
      - {device: vmk1, portgroup: pg, ipv4: 10.0.1.5/24, services: [vSphereBackupNFC]}
backup_nodes:
  - name: n
    interfaces: [{name: eth0, address: 10.9.0.50/24}]
    gateway: 10.9.0.1
"""


def test_kernel_resolves_gateway_by_longest_connected_prefix():
    s = snap(OVERLAPPING_GATEWAY)
    check = run(s, engine.trace(s), LIMITS).checks[0]
    assert check.observation.completed and check.observation.egress_vmk == "vmk1"


def test_engine_resolves_gateway_by_longest_connected_prefix():
    s = snap(OVERLAPPING_GATEWAY)
    path = engine.trace(s)[0]
    # vmk1 shares vmnic0 with management, so "completes" is all that is claimed.
    assert path.outcome.egress_vmk == "vmk1"
    assert path.verdict.value not in ("UNREACHABLE", "BROKEN_BY_FIREWALL")
