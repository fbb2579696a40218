"""A verdict that rests on an unverified assumption is marked, with its other reading, in every format."""

import json

from nbdpath import cli as cli_mod


def run(capsys, *argv):
    rc = cli_mod.main(list(argv))
    return rc, capsys.readouterr().out


def test_table_marks_the_verdict_and_prints_the_alternative(capsys):
    rc, out = run(capsys, "trace", "--lab", "uncertain-gateway")
    assert rc == 0
    assert "NOT_ISOLATED?" in out
    assert "if not A5-vmk-gateway" in out and "verdict ISOLATED" in out


def test_robust_lab_has_no_mark(capsys):
    rc, out = run(capsys, "trace", "--lab", "veeam-tag-routed")
    assert rc == 1 or rc == 0
    assert "ISOLATED?" not in out and "if not " not in out


def test_explain_markdown_and_html_carry_the_alternative(capsys):
    _, text = run(capsys, "explain", "esx01.lab.local", "vbr-proxy03", "--lab", "uncertain-gateway")
    assert "the verdict is not robust" in text and "egress_vmk vmk2" in text
    _, md = run(capsys, "explain", "esx01.lab.local", "vbr-proxy03", "--lab", "uncertain-gateway", "--format", "markdown")
    assert "## If an assumption does not hold" in md and "**A5-vmk-gateway**" in md
    _, html = run(capsys, "trace", "--lab", "uncertain-gateway", "--format", "html")
    assert 'class="unsure"' in html and 'class="alternative"' in html


def test_json_alternative_matches_a_trace_under_the_other_reading(capsys):
    from nbdpath import labs
    from nbdpath.engine.semantics import ALTERNATIVES
    from nbdpath.engine.trace import Engine, trace_host_node

    _, out = run(capsys, "trace", "--lab", "uncertain-gateway", "--format", "json")
    [alt] = json.loads(out)["paths"][0]["alternatives"]
    engine = Engine(labs.load("uncertain-gateway"))
    hv = engine.host_view("esx01.lab.local")
    other = trace_host_node(engine.network, hv, engine.endpoint("esx01.lab.local"), engine.node("vbr-proxy03"),
                            record=False, sem=ALTERNATIVES["A5-vmk-gateway"][1])[0]
    assert (alt["egress_vmk"], alt["verdict"]) == (other.egress_vmk, other.verdict.value)


def test_findings_on_a_path_that_is_not_robust_say_what_they_rest_on(capsys):
    rc, out = run(capsys, "check", "--lab", "uncertain-gateway", "--format", "json")
    doc = json.loads(out)
    nbd005 = [f for f in doc["findings"] if f["rule"] == "NBD005"]
    assert nbd005 and "this rests on A5-vmk-gateway" in nbd005[0]["message"]
