"""The trace is data (issue 10): typed devices, directions, step details and degradations,
and a true round trip of every path of every built-in lab through JSON."""

from __future__ import annotations

import json

import pytest

from nbdpath import labs
from nbdpath.engine import Engine
from nbdpath.engine.types import (
    Degradation,
    Device,
    DeviceKind,
    Direction,
    Path,
    RouteDetail,
    StepKind,
    TeamingDetail,
)


@pytest.mark.parametrize("lab", labs.names())
def test_every_path_round_trips_through_json(lab):
    for p in Engine(labs.load(lab)).trace():
        d = json.loads(json.dumps(p.to_dict()))
        again = Path.from_dict(d)
        assert again.outcome == p.outcome, (lab, p.host, p.node)
        assert again.hops == p.hops
        assert again.endpoint == p.endpoint
        # Every outcome field is in the JSON (the docstring's promise; 8 of 19 were dropped).
        assert again.to_dict() == {k: v for k, v in d.items() if k != "control"} | {"control": []}


def test_steps_carry_typed_details_matching_their_text():
    [p] = [p for p in Engine(labs.load("veeam-tag-routed")).trace() if p.host == "esx01.lab.local"]
    reply = [h for h in p.hops if h.direction is Direction.REPLY]
    first = reply[0]
    assert first.device == Device(DeviceKind.HOST, "esx01.lab.local") and str(first.device) == "host:esx01.lab.local"
    route, teaming = first.steps[0], first.steps[1]
    assert route.kind is StepKind.ROUTE and route.data == RouteDetail("10.40.0.50", "0.0.0.0/0", "vmk0", "10.10.0.1", "default")
    assert teaming.kind is StepKind.TEAMING and isinstance(teaming.data, TeamingDetail)
    assert teaming.data.uplinks == ("vmnic0", "vmnic1") and teaming.data.vmk == "vmk0"
    assert all(s.data is not None for h in p.hops for s in h.steps)


def test_degradations_are_data_not_prefixes():
    paths = Engine(labs.load("rubrik-mixed-speed")).trace()
    kinds = {getattr(d, "kind", None) for p in paths for d in p.outcome.degraded}
    assert "slower-than-available" in kinds
    d = Degradation("uplink-down", "active uplink vmnic2 is down")
    assert d == "active uplink vmnic2 is down" and Degradation.parse(str(d)).kind == "uplink-down"
    with pytest.raises(ValueError):
        Degradation.parse("something new")
    with pytest.raises(ValueError):
        Device.parse("switch:x")
