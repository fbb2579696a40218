"""Two nights of veeam-tag-routed: the second adds the static route that isolates esx01 -> vbr-proxy02."""

import json

import pytest
import yaml

from nbdpath import labs

LAB = "veeam-tag-routed"
ROUTE = {"network": "10.40.0.0/24", "gateway": "10.30.0.1"}


def lab_doc() -> dict:
    return yaml.safe_load(labs.text(LAB))


def routed_doc() -> dict:
    doc = lab_doc()
    doc["hosts"][0]["netstacks"][0]["routes"] = [ROUTE]
    return doc


@pytest.fixture
def snapshots(tmp_path):
    """(before.json, after.json): after has the route."""
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(json.dumps(lab_doc()))
    after.write_text(json.dumps(routed_doc()))
    return str(before), str(after)
