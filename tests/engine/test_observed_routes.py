"""Facts beat guesses: a routing table read from the host decides what A3 would otherwise assume."""

from __future__ import annotations

import yaml

from nbdpath import labs
from nbdpath.engine import Engine
from nbdpath.model import parse
from nbdpath.rules import check


def _same_subnet(route_table):
    doc = yaml.safe_load(labs.text("same-subnet-vmks"))
    doc["hosts"][0]["netstacks"][0]["route_table"] = route_table
    return Engine(parse(yaml.safe_dump(doc), "observed"))


def test_without_a_table_the_lowest_vmk_is_assumed():
    path = Engine(labs.load("same-subnet-vmks")).trace_pair("esx01.lab.local", "vbr01")
    assert path.outcome.egress_vmk == "vmk0" and "A3-same-subnet-first-vmk" in path.outcome.assumptions


def test_the_connected_rows_device_decides_which_vmk_sends():
    # vmk2 was created before vmk0 was re-created: the host's table names vmk2 for the shared subnet.
    engine = _same_subnet([{"network": "10.10.0.0/24", "device": "vmk2", "source": "local"},
                           {"network": "0.0.0.0/0", "gateway": "10.10.0.1", "device": "vmk2", "source": "default"}])
    path = engine.trace_pair("esx01.lab.local", "vbr01")
    assert path.outcome.egress_vmk == "vmk2"
    assert "A3-same-subnet-first-vmk" not in path.outcome.assumptions
    assert path.outcome.verdict.value == "ISOLATED"


def test_a_table_naming_the_first_vmk_confirms_the_guess_without_the_assumption():
    engine = _same_subnet([{"network": "10.10.0.0/24", "device": "vmk0", "source": "local"}])
    path = engine.trace_pair("esx01.lab.local", "vbr01")
    assert path.outcome.egress_vmk == "vmk0" and "A3-same-subnet-first-vmk" not in path.outcome.assumptions


def test_dynamic_routes_are_kept_and_flagged():
    doc = yaml.safe_load(labs.text("veeam-tag-routed"))
    doc["hosts"][0]["netstacks"][0]["route_table"] = [
        {"network": "10.10.0.0/24", "device": "vmk0", "source": "local"},
        {"network": "10.30.0.0/24", "device": "vmk2", "source": "local"},
        {"network": "10.40.0.50/32", "gateway": "10.30.0.1", "device": "vmk2", "source": "dynamic"},
    ]
    engine = Engine(parse(yaml.safe_dump(doc), "redirected"))
    path = engine.trace_pair("esx01.lab.local", "vbr-proxy02")
    assert path.outcome.egress_vmk == "vmk2" and path.outcome.reply_route_origin == "dynamic"
    assert any("ICMP redirect" in s.detail for h in path.hops for s in h.steps)
    found = [f for f in check(engine, engine.trace()) if f.rule == "NBD016"]
    assert found and found[0].host == "esx01.lab.local" and "dynamic route" in found[0].message


def test_hosts_with_and_without_a_table_do_not_share_an_outcome():
    doc = yaml.safe_load(labs.text("same-subnet-vmks"))
    twin = yaml.safe_load(yaml.safe_dump(doc["hosts"][0]))
    twin["name"] = "esx02.lab.local"
    twin["management_address"] = "10.10.0.21"
    for i, v in enumerate(twin["vmks"]):
        v["ipv4"] = f"10.10.0.{21 + i}/24"
        v.pop("mac", None)
    doc["hosts"][0]["netstacks"][0]["route_table"] = [{"network": "10.10.0.0/24", "device": "vmk0", "source": "local"}]
    doc["hosts"].append(twin)
    doc.setdefault("dns", {})["esx02.lab.local"] = "10.10.0.21"
    paths = {p.host: p for p in Engine(parse(yaml.safe_dump(doc), "twins")).trace()}
    assert "A3-same-subnet-first-vmk" not in paths["esx01.lab.local"].outcome.assumptions
    assert "A3-same-subnet-first-vmk" in paths["esx02.lab.local"].outcome.assumptions


def test_a_live_route_the_configuration_lacks_counts_as_learned():
    # vCenter's routeTableInfo has no "dynamic" mark: a gateway row absent from the configured routes is one.
    doc = yaml.safe_load(labs.text("veeam-tag-routed"))
    stack = doc["hosts"][0]["netstacks"][0]
    stack["route_table"] = [
        {"network": "10.10.0.0/24", "device": "vmk0", "source": "local"},
        {"network": "10.40.0.50/32", "gateway": "10.30.0.1", "device": "vmk2", "source": "unknown"},
    ]
    path = Engine(parse(yaml.safe_dump(doc), "live")).trace_pair("esx01.lab.local", "vbr-proxy02")
    assert (path.outcome.egress_vmk, path.outcome.reply_route_origin) == ("vmk2", "dynamic")
    # The same row, configured as a static route, is just that.
    stack["routes"] = [{"network": "10.40.0.50/32", "gateway": "10.30.0.1"}]
    path = Engine(parse(yaml.safe_dump(doc), "configured")).trace_pair("esx01.lab.local", "vbr-proxy02")
    assert (path.outcome.egress_vmk, path.outcome.reply_route_origin) == ("vmk2", "static")
