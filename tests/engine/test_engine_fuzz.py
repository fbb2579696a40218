"""Any valid snapshot can be traced, checked, planned and rendered without an exception.

Reuses the kernel lab's random-estate strategy (tests/lab/estates.py), which
covers overlapping subnets, per-vmk gateways, static routes, stateful routers,
links down and tags on other stacks; no kernel is needed here.
"""

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from nbdpath.engine import Engine, Verdict
from nbdpath.plan import plan as plan_mod
from nbdpath.render import Report, to_json
from nbdpath.render.html import report_html
from nbdpath.render.markdown import findings_markdown, paths_markdown, plan_doc
from nbdpath.rules import check

sys.path.insert(0, str(Path(__file__).parents[1] / "lab"))
from estates import estates  # noqa: E402


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates())
def test_trace_check_plan_render_never_crash(snap):
    engine = Engine(snap)
    paths = engine.trace()
    assert len(paths) == len(snap.hosts) * len(snap.backup_nodes)
    findings = check(engine, paths)
    report = Report()
    report.add("fuzz", paths, findings)
    doc = json.loads(to_json(report))
    for p, d in zip(paths, doc["paths"]):
        assert d["verdict"] == p.verdict.value
        # A working verdict names where the data leaves; a failed one says why.
        if p.verdict in (Verdict.ISOLATED, Verdict.NOT_ISOLATED, Verdict.ASYMMETRIC):
            assert p.outcome.egress_vmk and p.outcome.ingress_vmk
        else:
            assert any(not s["ok"] for h in d["hops"] for s in h["steps"]) or p.endpoint.ip is None
        # Shared outcomes must equal a fresh trace of the pair.
        alone = Engine(snap).trace_pair(p.host, p.node)
        assert alone.outcome == p.outcome
    assert "<table" in report_html(report) and "| host |" in paths_markdown(report)
    assert findings_markdown(report).startswith("#")
    plan = plan_mod.build(snap)
    assert len(plan.steps) == len({s.change for s in plan.steps})
    assert plan_doc(plan.to_dict())
