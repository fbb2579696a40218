"""The plan's fleet-size paths (issue 11) say exactly what the plain ones say: the streamed JSON,
the states recorded while building, and the diff that reuses shared outcomes."""

import dataclasses
import importlib.util
import io
import json
import os
import random
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath import labs
from nbdpath.engine import Engine
from nbdpath.plan import diff as diff_mod
from nbdpath.plan import plan as plan_mod

HERE = os.path.dirname(os.path.abspath(__file__))
LABS = labs.names()


def _fleet(hosts: int):
    spec = importlib.util.spec_from_file_location("fleetgen", os.path.join(HERE, "..", "..", "benchmarks", "fleetgen.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fleetgen"] = mod
    spec.loader.exec_module(mod)
    from nbdpath.model import Snapshot

    return Snapshot.model_validate(mod.generate(hosts, 16))


def _streamed(plan, extra=None) -> str:
    buf = io.StringIO()
    plan.write_json(buf, extra)
    return buf.getvalue()


@pytest.mark.parametrize("lab", LABS)
def test_streamed_plan_json_is_the_whole_document(lab):
    plan = plan_mod.build(labs.load(lab))
    assert _streamed(plan) == json.dumps(plan.to_dict(), indent=2) + "\n"
    extra = {"windows": [{"job": "nightly \u00e9\x1b", "before": 1.5, "after": None}]}
    assert _streamed(plan, extra) == json.dumps({**plan.to_dict(), **extra}, indent=2) + "\n"


def test_streamed_plan_json_of_a_fleet_is_the_whole_document():
    plan = plan_mod.build(_fleet(30))
    assert plan.steps and plan.path_changes
    assert _streamed(plan) == json.dumps(plan.to_dict(), indent=2) + "\n"


@pytest.mark.parametrize("lab", LABS)
def test_recorded_states_are_the_replayed_ones(lab):
    plan = plan_mod.build(labs.load(lab))
    replayed = dataclasses.replace(plan, hosts=())  # no record: states() replays the steps
    assert plan.states() == replayed.states()
    assert _streamed(plan) == _streamed(replayed)


def _reference_diff(old, new):
    """What diff means, pair by pair, field by field, nothing shared."""
    def fields(p):
        o = p.outcome
        return {"endpoint": f"{p.endpoint.ip} ({p.endpoint.vmk})", "ingress_vmk": o.ingress_vmk,
                "egress_vmk": o.egress_vmk, "egress_uplinks": ", ".join(u.name for u in o.egress_uplinks) or None,
                "bottleneck_mbps": o.bottleneck_mbps, "verdict": o.verdict.value,
                "degraded": "; ".join(o.degraded) or None}

    before = {(p.host, p.node): p for p in old}
    after = {(p.host, p.node): p for p in new}
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        b, a = before.get(key), after.get(key)
        if a is None:
            out.append({"host": key[0], "node": key[1], "status": "removed", "verdict_before": b.verdict.value,
                        "verdict_after": None, "changes": []})
        elif b is None:
            out.append({"host": key[0], "node": key[1], "status": "added", "verdict_before": None,
                        "verdict_after": a.verdict.value, "changes": []})
        else:
            fb, fa = fields(b), fields(a)
            changed = [{"field": k, "before": fb[k], "after": fa[k]} for k in fb if fb[k] != fa[k]]
            if changed:
                out.append({"host": key[0], "node": key[1], "status": "changed", "verdict_before": b.verdict.value,
                            "verdict_after": a.verdict.value, "changes": changed})
    return out


@pytest.fixture(scope="module")
def fleet_traces():
    snap = _fleet(80)  # fleetgen moves the endpoint of hosts 64 and up: those changes list it
    plan = plan_mod.build(snap)
    return Engine(snap).trace(), Engine(plan.after).trace()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), drop_old=st.integers(0, 200), drop_new=st.integers(0, 200),
       twice=st.integers(0, 5), shuffle=st.booleans(), swap=st.booleans())
def test_diff_is_the_pair_by_pair_comparison(fleet_traces, seed, drop_old, drop_new, twice, shuffle, swap):
    old, new = fleet_traces if not swap else fleet_traces[::-1]
    rng = random.Random(seed)
    old = [p for p in old if rng.randrange(len(old)) >= drop_old]
    new = [p for p in new if rng.randrange(len(new)) >= drop_new] + rng.sample(new, twice)
    if shuffle:
        rng.shuffle(new)
    got = diff_mod.diff(old, new)
    assert [c.to_dict() for c in got] == _reference_diff(old, new)
    # The text and JSON of the changes, whose field lines are made once per distinct change.
    assert "".join(diff_mod.json_items(got, "\n  ")) == "".join(json.dumps(c.to_dict(), indent=2).replace("\n", "\n  ")
                                                              for c in got)
    uncached = "".join(diff_mod.render([c]).rsplit("\n", 2)[0] + "\n" for c in got)
    assert diff_mod.render(got) == (uncached + f"{len(got)} path(s) changed\n" if got else "no path changes\n")


def test_diff_of_a_trace_with_itself_is_empty_and_of_the_plan_lists_every_changed_pair(fleet_traces):
    old, new = fleet_traces
    assert diff_mod.diff(old, old) == []
    assert [c.to_dict() for c in diff_mod.diff(old, new)] == _reference_diff(old, new)
    assert diff_mod.diff(old, new)


def _whole_whatif(snap, plan):
    """The plan's what-if done the plain way: every host traced and checked again."""
    from nbdpath.rules import check

    before_engine, after_engine = Engine(snap), Engine(plan.after)
    before_paths, after_paths = before_engine.trace(), after_engine.trace()
    key = plan_mod._key
    before, after = check(before_engine, before_paths), check(after_engine, after_paths)
    return ([c.to_dict() for c in diff_mod.diff(before_paths, after_paths)],
            {key(f) for f in before} - {key(f) for f in after}, {key(f) for f in after} - {key(f) for f in before})


@pytest.mark.parametrize("lab", LABS)
def test_a_plan_for_some_hosts_retraces_them_and_says_what_a_whole_retrace_says(lab):
    snap = labs.load(lab)
    names = [h.name for h in snap.hosts]
    for hosts in ([], names[:1], names[1::2]):
        plan = plan_mod.build(snap, hosts=hosts)
        paths, resolved, introduced = _whole_whatif(snap, plan)
        assert [c.to_dict() for c in plan.path_changes] == paths
        assert {plan_mod._key(f) for f in plan.resolved} == resolved
        assert {plan_mod._key(f) for f in plan.introduced} == introduced


def test_a_fleet_plan_for_one_host_changes_only_that_hosts_paths():
    snap = _fleet(80)
    plan = plan_mod.build(snap, hosts=["esx00070"])
    assert plan.steps and {s.change.host for s in plan.steps} == {"esx00070"}
    paths, resolved, introduced = _whole_whatif(snap, plan)
    assert [c.to_dict() for c in plan.path_changes] == paths
    assert {c["host"] for c in paths} == {"esx00070"}
    assert {plan_mod._key(f) for f in plan.resolved} == resolved and resolved


@pytest.mark.parametrize("lab", ["mixed-estate", "nightly-window", "rubrik-mixed-speed"])
def test_retraced_paths_are_a_whole_trace_of_the_state_after(lab):
    from nbdpath.engine.types import outcome_dict

    snap = labs.load(lab)
    for hosts in ([], [h.name for h in snap.hosts][::2]):
        plan = plan_mod.build(snap, hosts=hosts)
        touched = {s.change.host for s in plan.steps}
        got = plan_mod._retrace(Engine(snap).trace(), Engine(plan.after), touched)
        whole = Engine(plan.after).trace()
        assert [(p.host, p.node, p.endpoint, outcome_dict(p.outcome)) for p in got] == \
            [(p.host, p.node, p.endpoint, outcome_dict(p.outcome)) for p in whole]


def _full_check_keys(snap):
    from nbdpath.rules import check

    engine = Engine(snap)
    return [plan_mod._key(f) for f in check(engine, engine.trace())], check(engine, engine.trace())


@pytest.mark.parametrize("lab", LABS)
def test_re_checking_only_the_changed_hosts_finds_what_a_whole_check_finds(lab):
    snap = labs.load(lab)
    for hosts in ([], [snap.hosts[0].name]):  # every host, and a plan for one host
        plan = plan_mod.build(snap, hosts=hosts)
        before = plan_mod.check(Engine(snap), Engine(snap).trace())
        keys_after, after = _full_check_keys(plan.after)
        keys_before = {plan_mod._key(f) for f in before}
        assert list(plan.resolved) == [f for f in before if plan_mod._key(f) not in set(keys_after)]
        assert list(plan.introduced) == [f for f in after if plan_mod._key(f) not in keys_before]


def test_a_plan_for_some_hosts_of_a_fleet_re_checks_only_them(monkeypatch):
    snap = _fleet(64)
    chosen = [h.name for h in snap.hosts[:5]]
    checked = []
    real = plan_mod.check
    monkeypatch.setattr(plan_mod, "check", lambda engine, paths, hosts=None: checked.append(hosts) or real(engine, paths, hosts))
    plan = plan_mod.build(snap, hosts=chosen)
    assert plan.steps and {s.change.host for s in plan.steps} <= set(chosen)
    assert checked[0] is None and checked[1] == {s.change.host for s in plan.steps}
    # ...and what it finds after is what checking the whole snapshot finds.
    keys_after, after = _full_check_keys(plan.after)
    before = real(Engine(snap), Engine(snap).trace())
    assert list(plan.resolved) == [f for f in before if plan_mod._key(f) not in set(keys_after)]
    assert list(plan.introduced) == [f for f in after if plan_mod._key(f) not in {plan_mod._key(f) for f in before}]


def test_diff_by_rows_says_what_the_pair_by_pair_comparison_says_for_rows_made_otherwise(fleet_traces):
    # Rows whose pairs do not share one endpoint object, a host listed in two runs, a row with a
    # node twice: each must give the reference's answer (the row cache must not stand in for them).
    from nbdpath.engine.types import Endpoint

    old, new = fleet_traces
    own = [dataclasses.replace(p, endpoint=Endpoint(p.endpoint.ip, p.endpoint.vmk, p.endpoint.reason))
           if i % 3 == 0 else p for i, p in enumerate(new)]
    assert [c.to_dict() for c in diff_mod.diff(old, own)] == _reference_diff(old, own)
    rows = len(old) // 80
    split_old = old[rows:2 * rows] + old[:rows] + old[2 * rows:]
    split_new = new[rows:2 * rows] + new[:rows] + new[2 * rows:]
    moved = split_old[:rows // 2] + split_old[rows:] + split_old[rows // 2:rows]
    moved_new = split_new[:rows // 2] + split_new[rows:] + split_new[rows // 2:rows]
    assert [c.to_dict() for c in diff_mod.diff(moved, moved_new)] == _reference_diff(moved, moved_new)
    twice_old, twice_new = old[:rows] + [old[0]] + old[rows:], new[:rows] + [new[0]] + new[rows:]
    assert [c.to_dict() for c in diff_mod.diff(twice_old, twice_new)] == _reference_diff(twice_old, twice_new)


def test_json_items_of_changes_sharing_their_field_changes_name_each_host():
    a = diff_mod.PathChange("esx1", "n1", "changed", (("verdict", "A", "B"),), "A", "B")
    b = diff_mod.PathChange("esx2", "n1", "changed", a.changes, "A", "B")
    c = diff_mod.PathChange("esx3", "n2", "changed", a.changes, "A", "B")
    got = list(diff_mod.json_items([a, b, c], "\n  "))
    assert got == [json.dumps(x.to_dict(), indent=2).replace("\n", "\n  ") for x in (a, b, c)]


@pytest.mark.parametrize("lab", LABS + ["fleet"])
def test_the_playbook_from_the_recorded_states_is_the_replayed_one(lab):
    from nbdpath.changes import render as registry

    snap = _fleet(40) if lab == "fleet" else labs.load(lab)
    plan = plan_mod.build(snap)
    replayed = registry.script("ansible", [registry.ScriptStep(s.change, s.reasons, s.rollback) for s in plan.steps],
                               snap)
    assert plan_mod.render_script(plan, "ansible") == replayed


def test_streamed_plan_json_keeps_a_callers_member_where_the_merge_places_it():
    plan = plan_mod.build(_fleet(20))
    extra = {"introduced": ["replaced"], "windows": []}
    assert _streamed(plan, extra) == json.dumps({**plan.to_dict(), **extra}, indent=2) + "\n"


def test_a_path_change_made_by_rows_is_the_constructed_one():
    fields = ("esx1", "node-a", "changed", (("verdict", "A", "B"),), "A", "B")
    made, built = diff_mod._new_change(*fields), diff_mod.PathChange(*fields)
    assert made == built and hash(made) == hash(built) and made.to_dict() == built.to_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.host = "esx2"
