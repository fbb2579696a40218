"""Loading and validating snapshots: every bad input names file, field, line and expectation."""

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath import labs
from nbdpath.errors import InputError
from nbdpath.model import dump, json_schema, load_file, parse

BASE = labs.text("veeam-tag-l2")


def _mutate(fn):
    data = yaml.safe_load(BASE)
    fn(data)
    return yaml.safe_dump(data, sort_keys=False)


def test_every_lab_loads_and_round_trips_through_yaml_and_json():
    for name in labs.names():
        snap = labs.load(name)
        assert snap.hosts and snap.backup_nodes, name
        for fmt in ("yaml", "json"):
            again = parse(dump(snap, fmt), f"{name}.{fmt}")
            assert again == snap, (name, fmt)


def test_invalid_yaml_names_line():
    with pytest.raises(InputError) as exc:
        parse("hosts:\n  - name: a\n   bad: [\n", "x.yaml")
    assert exc.value.file == "x.yaml"
    assert exc.value.line is not None and exc.value.line >= 2
    assert "valid YAML" in exc.value.expected


def test_invalid_json():
    with pytest.raises(InputError) as exc:
        parse('{"hosts": [}', "x.json")
    assert "valid JSON" in str(exc.value)


@pytest.mark.parametrize(
    "mutation, location, expected",
    [
        (lambda d: d["hosts"][0]["vmks"][1].__setitem__("portgroup", "Nope"), "hosts[0].vmks[1].portgroup", "port group"),
        (lambda d: d["hosts"][0]["vswitches"][0]["uplinks"].append("vmnic9"), "hosts[0].vswitches[0].uplinks[2]", "pnic of this host"),
        (lambda d: d["hosts"][0]["vmks"][1].__setitem__("netstack", "backupStack"), "hosts[0].vmks[1].netstack", "netstack listed"),
        (lambda d: d["hosts"][1]["vmks"][1].__setitem__("ipv4", "10.30.0.11/24"), "hosts[1].vmks[1].ipv4", "unique IP"),
        (lambda d: d["segments"][0].__setitem__("subnets", ["10.10.0.1/24"]), "segments[0].subnets", "CIDR"),
        (lambda d: d["hosts"][0]["vswitches"][1]["teaming"].__setitem__("unused", ["vmnic2"]), "hosts[0].vswitches[1].teaming", "both active and unused"),
        (lambda d: d["hosts"][0]["vmks"][0].__setitem__("segment", "nowhere"), "hosts[0].vmks[0].segment", "segment defined"),
        (lambda d: d["hosts"][0].__setitem__("colour", "blue"), "hosts[0].colour", "unknown field"),
        (lambda d: d["hosts"][0]["vmks"][0].__setitem__("services", ["teleport"]), "hosts[0].vmks[0].services", "unknown service tag"),
        (lambda d: d["hosts"][0]["vmks"][0].__setitem__("ipv4", "10.10.0.11"), "hosts[0].vmks[0].ipv4", "prefix length"),
    ],
)
def test_bad_input_is_located(mutation, location, expected):
    text = _mutate(mutation)
    with pytest.raises(InputError) as exc:
        parse(text, "estate.yaml")
    err = exc.value
    assert err.file == "estate.yaml"
    assert err.location == location, str(err)
    assert expected in err.expected, str(err)
    assert err.line is not None
    # The line really points at the field (or its parent) in the text.
    leaf = location.split(".")[-1].split("[")[0]
    assert leaf in text.splitlines()[err.line - 1] or err.line > 1


def test_missing_file_and_non_utf8(tmp_path):
    with pytest.raises(InputError, match="existing snapshot file"):
        load_file(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(InputError, match="UTF-8"):
        load_file(bad)


def test_esxcli_spellings_are_normalised():
    text = _mutate(lambda d: d["hosts"][0]["vmks"][0].__setitem__("services", ["Management", "VMotion"]))
    snap = parse(text)
    assert snap.hosts[0].vmks[0].services == ("management", "vmotion")


def test_schema_validates_every_lab():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    for name in labs.names():
        data = json.loads(dump(labs.load(name), "json"))
        jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"hosts": [{"name": 3}]}, schema)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5000) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["name", "hosts", "vmks", "device", "ipv4", "portgroup", "pnics", "segments", "subnets", "routers",
         "interfaces", "address", "backup_nodes", "teaming", "active", "vswitches", "uplinks", "netstacks"]), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_fuzz_loader_only_raises_input_error(value):
    text = json.dumps(value) if isinstance(value, dict) else yaml.safe_dump(value)
    try:
        parse(text, "fuzz")
    except InputError as err:
        assert str(err).startswith("fuzz")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated_lab_fields(data):
    doc = yaml.safe_load(BASE)
    host = doc["hosts"][data.draw(st.integers(0, 1))]
    vmk = host["vmks"][data.draw(st.integers(0, 1))]
    field = data.draw(st.sampled_from(["ipv4", "portgroup", "netstack", "services", "gateway", "device", "mtu"]))
    vmk[field] = data.draw(st.one_of(st.text(max_size=20), st.integers(-1, 99999), st.lists(st.text(max_size=8), max_size=3)))
    try:
        parse(yaml.safe_dump(doc), "m.yaml")
    except InputError as err:
        assert err.location.startswith("hosts[") or err.location == ""
