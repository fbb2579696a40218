"""Snapshot models compare and hash by their fields (the engine keys caches by them)."""

from nbdpath.labs import text
from nbdpath.model import parse
from nbdpath.model.snapshot import _Model


def _first_host():
    return parse(text("veeam-tag-l2")).hosts[0]  # parsed afresh: labs.load caches


def test_equal_values_are_equal_and_hash_alike():
    a, b = _first_host(), _first_host()
    assert a is not b and a == b and hash(a) == hash(b)
    assert a.vswitches == b.vswitches and hash(a.vswitches) == hash(b.vswitches)


def test_a_changed_field_makes_a_different_value():
    a = _first_host()
    other = a.model_copy(update={"name": a.name + "-x"})
    assert other != a
    vmk = a.vmks[0]
    assert vmk.model_copy(update={"services": ()}) != vmk or not vmk.services


def test_different_model_types_never_compare_equal():
    a = _first_host()
    assert a != a.vmks[0]
    assert (a == "esx01") is False
    assert all(type(c).__eq__ is _Model.__eq__ for c in (a, a.vmks[0]))
