"""Where Go is missing the vcsim tests skip, and say why (no Go needed for this test)."""

from __future__ import annotations

import pytest
import vcsim_launcher


def test_without_go_the_reason_names_the_packages(monkeypatch, tmp_path):
    monkeypatch.setattr(vcsim_launcher, "BINARY", tmp_path / "vcsim-bin")
    monkeypatch.setattr(vcsim_launcher.shutil, "which", lambda name: None)
    with pytest.raises(vcsim_launcher.Unavailable) as e:
        vcsim_launcher.build()
    assert "golang-go" in str(e.value) and "golang-github-vmware-govmomi-dev" in str(e.value)


def test_without_govmomi_sources_the_reason_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(vcsim_launcher, "BINARY", tmp_path / "vcsim-bin")
    monkeypatch.setattr(vcsim_launcher.shutil, "which", lambda name: "/usr/bin/go")
    monkeypatch.setattr(vcsim_launcher, "GOVMOMI", tmp_path / "no-govmomi")
    with pytest.raises(vcsim_launcher.Unavailable) as e:
        vcsim_launcher.build()
    assert "govmomi sources not found" in str(e.value)
