"""Evidence as it comes from the wild: one test per sample in data/wild (provenance in its README)."""

from __future__ import annotations

from pathlib import Path

from nbdpath.commands.evidence import render_summary
from nbdpath.evidence import read_evidence

WILD = Path(__file__).parent / "data" / "wild"


def test_esxtop_without_network_columns_names_its_host():
    top = read_evidence(WILD / "esxtop-vdisk-no-network.csv")
    assert top.host == "esx01.example.com" and top.samples == 2 and top.ports == ()
    assert "from esx01.example.com, 2 samples" in render_summary(top)
    assert any("network panel was excluded" in s.what or "no 'Network Port'" in s.what for s in top.skipped)
