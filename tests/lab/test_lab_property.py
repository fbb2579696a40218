"""Property: on random small estates, the engine and a Linux kernel agree.

Each example builds its own namespaces, streams every pair and tears
down; a disagreement prints the snapshot YAML and what the kernel did, so
it can be filed against the engine or documented as a Linux-vs-ESXi
difference (then excluded in estates.py with the reason).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from nbdpath import engine
from nbdpath.lab.kernel import Limits
from nbdpath.lab.run import run
from nbdpath.model import dump

from estates import estates
from lab_helpers import needs_kernel

pytestmark = [pytest.mark.lab, needs_kernel]

# Small streams and short timeouts: a lab answers in milliseconds or never.
LIMITS = Limits(nbytes=64 * 1024, connect_timeout=0.5, idle_timeout=0.5, total_timeout=5.0)
EXAMPLES = int(os.environ.get("NBDPATH_LAB_EXAMPLES", "200"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(estates())
def test_engine_and_kernel_agree(snap):
    result = run(snap, engine.trace(snap), LIMITS, workers=8)
    bad = [c for c in result.checks if not c.agree]
    if bad:
        lines = [dump(snap, "yaml")]
        for c in bad:
            o = c.observation
            lines.append(f"{c.prediction.host} -> {c.prediction.node}: {'; '.join(c.problems)}")
            lines.append(f"  kernel: connected={o.connected} bytes={o.bytes_received} node_ip={o.node_ip} error={o.error} "
                         + ", ".join(f"{k.interface} tx={k.tx_bytes}/{k.tx_packets} rx={k.rx_bytes}/{k.rx_packets}" for k in o.interfaces))
        pytest.fail("\n".join(lines))
