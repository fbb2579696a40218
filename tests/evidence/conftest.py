"""Real captures made once per test session in throw-away network namespaces."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import netns  # noqa: E402


def _need_lab() -> None:
    reason = netns.can_run()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def symmetric_capture(tmp_path_factory) -> netns.Transfer:
    _need_lab()
    with netns.symmetric(tmp_path_factory.mktemp("sym")) as t:
        return t


@pytest.fixture(scope="session")
def asymmetric_pcapng(tmp_path_factory) -> netns.Transfer:
    _need_lab()
    if shutil.which("dumpcap") is None:
        pytest.skip("needs dumpcap (tshark's capture tool) to write a multi-interface pcapng")
    with netns.asymmetric(tmp_path_factory.mktemp("asym")) as t:
        return t


@pytest.fixture(scope="session")
def asymmetric_any(tmp_path_factory) -> netns.Transfer:
    _need_lab()
    with netns.asymmetric(tmp_path_factory.mktemp("asym-any"), tool="tcpdump") as t:
        return t


@pytest.fixture(scope="session")
def uplink_captures(tmp_path_factory) -> netns.UplinkCaptures:
    _need_lab()
    with netns.per_uplink(tmp_path_factory.mktemp("uplinks")) as t:
        return t
