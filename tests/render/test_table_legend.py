"""Issue 10 review: the uplinks column's `|` and `+` get a key, and an UNREACHABLE path shows no
bottleneck (it showed `?`, which reads as "speed unknown")."""

from nbdpath import labs
from nbdpath.commands.core import build_report
from nbdpath.render import paths_table
from nbdpath.render import markdown as md


def _table(lab):
    return paths_table(build_report([(lab, labs.load(lab))]), width=200)


def test_one_of_uplinks_is_explained_only_where_used():
    text = _table("veeam-tag-routed")
    assert "vmnic0 1G | vmnic1 1G" in text
    assert "uplinks: a | b: the flow takes one of them" in text and "a + b" not in text
    assert "uplinks:" not in _table("veeam-tag-unreachable")


def test_unreachable_shows_no_bottleneck():
    [row] = [line for line in _table("veeam-tag-unreachable").splitlines() if "UNREACHABLE" in line and "vbr01" in line]
    assert row.split()[-2] == "-" and "?" not in row


def test_markdown_carries_the_same_key():
    report = build_report([("veeam-tag-routed", labs.load("veeam-tag-routed"))])
    out = md.paths_markdown(report)
    assert "uplinks: a \\| b: the flow takes one of them" in out
