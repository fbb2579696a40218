"""Names vSphere never produces are refused at load; nothing reaches a terminal raw.

Every string of a snapshot (names, references, addresses, mapping keys) is tried
with control characters (C0, DEL, C1 with CSI \\x9b), line separators and bidi
overrides: one exit-2 line naming the file, the line and the field path. Text
given on the command line (host and node names, options, file names) is escaped
wherever it is echoed, and every text renderer escapes even names the loader
would refuse.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.commands.core import build_report, whatif_text
from nbdpath.engine import ASSUMPTIONS, Engine
from nbdpath.errors import InputError
from nbdpath.model.load import parse
from nbdpath.plan import changes as ch
from nbdpath.plan import diff as diff_mod
from nbdpath.plan import esxcli as esxcli_mod
from nbdpath.plan import plan as plan_mod
from nbdpath.render import explain_text, findings_table, paths_table
from nbdpath.render import html as html_render
from nbdpath.render import markdown as md_render
from nbdpath.rules import Severity, check

UNSAFE = ([chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)]
          + ["\u2028", "\u2029"] + [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)])
LAYOUT = {"\n", "\t"}
unsafe_char = st.sampled_from(UNSAFE)


def raw_unsafe(text: str, layout_ok: bool = True) -> set[str]:
    return {c for c in text if c in UNSAFE and not (layout_ok and c in LAYOUT)}


# ---- every string of a snapshot is refused with a control character -------------

def _leaves(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, bool]]:
    """(path, is_key) of every string in a snapshot document."""
    if isinstance(node, str):
        yield path, False
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, path + (i,))
    elif isinstance(node, dict):
        free_keys = path[-1:] in (("dns",), ("missing",), ("uplinks",))  # user-named keys, not field names
        for k, v in node.items():
            if free_keys:
                yield path + (k,), True
            yield from _leaves(v, path + (k,))


def _estate() -> dict:
    """mixed-estate (a VDS, teaming, routes, segments) with dns and missing filled in: every kind of string."""
    doc = {k: v for k, v in yaml.safe_load(labs.text("mixed-estate")).items() if not k.startswith("x-")}
    doc["dns"] = {"gold-01.corp.local": "10.10.0.21"}
    doc["missing"] = {"gold-09.corp.local": "could not read: permission denied"}
    doc["description"] = "free text\nover lines"
    doc["hosts"][0]["vmks"][0]["segment"] = "mgmt"
    doc["backup_nodes"][0]["interfaces"][0]["segment"] = "proxies"
    return doc


ESTATE = _estate()
LEAVES = list(_leaves(ESTATE))


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _set(doc: Any, path: tuple, value: str, is_key: bool) -> None:
    for p in path[:-1]:
        doc = doc[p]
    if is_key:
        doc[value] = doc.pop(path[-1])
    else:
        doc[path[-1]] = value


def test_the_estate_holds_every_kind_of_string():
    fields = {p[-1] for p, is_key in LEAVES if not is_key and isinstance(p[-1], str)}
    assert {"name", "portgroup", "netstack", "switch", "key", "network", "gateway", "mac", "segment",
            "vcenter", "cluster", "management_address", "description", "ipv4", "address", "version"} <= fields
    assert len(LEAVES) > 300
    parse(json.dumps(ESTATE), "estate.json")  # and it loads as it is


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(LEAVES), unsafe_char, st.integers(0, 40), st.sampled_from(["json", "yaml"]))
def test_an_unsafe_character_anywhere_is_refused_naming_the_field(leaf, char, at, fmt):
    path, is_key = leaf
    if (path == ("description",) or (path[0] == "missing" and not is_key)) and char in LAYOUT:
        return  # free text (the two Text fields) keeps its tabs and line breaks (covered below)
    doc = json.loads(json.dumps(ESTATE))
    old = path[-1] if is_key else _get(doc, path)
    at = min(at, len(old))
    _set(doc, path, old[:at] + char + old[at:], is_key)
    text = json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=False)
    with pytest.raises(InputError) as err:
        parse(text, f"estate.{fmt}")
    where = _dotted(path[:-1] if is_key else path)
    # "services" is checked as a whole list (tags are normalised first); every other field by itself.
    assert err.value.location.startswith(where if path[-2:-1] != ("services",) else _dotted(path[:-1]))
    assert err.value.line is not None
    assert not raw_unsafe(str(err.value), layout_ok=False)


def _get(doc: Any, path: tuple) -> str:
    for p in path:
        doc = doc[p]
    return doc


def test_free_text_keeps_layout_but_not_escapes():
    doc = dict(ESTATE, description="one\ttwo\nthree")
    assert parse(json.dumps(doc), "e.json").description == "one\ttwo\nthree"
    with pytest.raises(InputError, match="description"):
        parse(json.dumps(dict(ESTATE, description="red \x1b[31m")), "e.json")
    # A missing host's reason is free text too: the layout stays, an escape does not.
    doc = dict(ESTATE, missing={"gold-09.corp.local": "could not read:\tpermission\ndenied"})
    assert parse(json.dumps(doc), "e.json").missing == {"gold-09.corp.local": "could not read:\tpermission\ndenied"}
    with pytest.raises(InputError, match="missing"):
        parse(json.dumps(dict(ESTATE, missing={"gold-09.corp.local": "red \x1b[31m"})), "e.json")


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbdpath", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["esx\x1b]0;owned\x07", "esx01\ntouch PWNED", "esx\u202eelif", "esx\x9b31m",
                                  "esx\u2028x", "esx\x00", "esx01\r", "\x7fesx"])
def test_cli_refuses_a_control_character_in_a_host_name(tmp_path, name):
    doc = yaml.safe_load(labs.text("veeam-tag-l2"))
    doc["hosts"][1]["name"] = name
    f = tmp_path / "estate.yaml"
    f.write_text(yaml.safe_dump(doc))  # PyYAML writes control characters as "\e", "\x9B", ... escapes
    line = next(i for i, text in enumerate(f.read_text().splitlines(), 1) if "esx" in text and "esx01.lab.local" not in text
                and "name:" in text)
    rc, _, err = cli("check", str(f))
    assert rc == 2 and err.startswith(f"nbdpath: error: {f}:{line}: hosts[1].name: text without control characters")
    assert len(err.splitlines()) == 1 and not raw_unsafe(err.rstrip("\n"), layout_ok=False)


@pytest.mark.parametrize("device", ["vmk²", "vmk٣", "vmk2;reboot", "vmk2\n", "vmk", "vmk-1", "VMK2", "vmk123456"])
def test_vmk_device_is_vmk_and_ascii_digits(tmp_path, device):
    doc = yaml.safe_load(labs.text("veeam-tag-l2"))
    doc["hosts"][0]["vmks"][1]["device"] = device
    f = tmp_path / "estate.json"
    f.write_text(json.dumps(doc))
    rc, _, err = cli("check", str(f))
    assert rc == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"nbdpath: error: {f}:1: hosts[0].vmks[1].device: a vmk device name: vmk and a number")


def test_as_users_run_it(tmp_path):
    doc = yaml.safe_load(labs.text("veeam-tag-l2"))
    doc["hosts"][0]["name"] = "esx01'$(touch PWNED)'\x1b[2J"
    f = tmp_path / "estate.yaml"
    f.write_text(yaml.safe_dump(doc))
    r = run("plan", str(f), "--format", "govc")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"nbdpath: error: {f}:") and "hosts[0].name: text without control characters" in r.stderr
    assert not (tmp_path / "PWNED").exists()


# ---- what reaches a terminal ------------------------------------------------------

L2 = ("--lab", "veeam-tag-l2")
ON = ("esxcli", *L2, "--host", "esx01.lab.local")
COMMAND_LINES = [
    lambda x: ("explain", x, "vbr-proxy01", *L2),
    lambda x: ("explain", "esx01.lab.local", x, *L2),
    lambda x: ("explain", "esx01.lab.local", "vbr-proxy01", x),
    lambda x: ("trace", "--lab", x),
    lambda x: ("check", x),
    lambda x: ("check", *L2, "-o", f"/nonexistent/{x}"),
    lambda x: ("plan", *L2, "--rule", x),
    lambda x: ("plan", *L2, "--host", x, "--format", "text"),
    lambda x: ("diff", x, x),
    lambda x: ("esxcli", *L2, "--host", x, "network", "ip", "interface", "list"),
    lambda x: (*ON, "network", "ip", "interface", x),
    lambda x: (*ON, "network", "ip", "interface", "tag", "add", "-i", x, "-t", "vmotion"),
    lambda x: (*ON, "network", "ip", "interface", "tag", "add", "-i", "vmk2", "-t", x),
    lambda x: (*ON, "network", "ip", "interface", "tag", "get", "-i", x),
    lambda x: (*ON, "network", "ip", "route", "ipv4", "add", "-n", x, "-g", "10.0.0.1"),
    lambda x: (*ON, "network", "ip", "route", "ipv4", "add", "-n", "10.40.0.0/24", "-g", x),
    lambda x: (*ON, "network", "ip", "route", "ipv4", "add", "-n", "10.40.0.0/24", "-g", "10.20.0.1", "-N", x),
    lambda x: (*ON, "network", "ip", "route", "ipv4", "list", "-N", x),
    lambda x: (*ON, "network", "ip", "route", "ipv4", "list", x, "1"),
]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(COMMAND_LINES),
       st.lists(st.one_of(unsafe_char, st.text(min_size=1, max_size=3)), min_size=1, max_size=5).map("".join)
       .filter(lambda s: raw_unsafe(s, layout_ok=False) and "\x00" not in s))
def test_command_line_text_is_escaped_wherever_it_is_echoed(command, value):
    rc, out, err = cli(*command(value))
    assert not raw_unsafe(out), (command(value), out)
    assert not raw_unsafe(err.rstrip("\n"), layout_ok=False), (command(value), err)
    assert rc == 0 or (rc == 2 and len(err.splitlines()) == 1), (rc, err)


def _unloadable_names() -> Any:
    """trick-through-firewall (findings, a failing step, a plan) renamed past the loader: defence in depth."""
    snap = labs.load("trick-through-firewall")
    evil = "\x1b]0;owned\x07\x9b31m\u202e"
    hosts = tuple(h.model_copy(update={"name": h.name + evil}) for h in snap.hosts)
    nodes = tuple(n.model_copy(update={"name": n.name + evil}) for n in snap.backup_nodes)
    return snap.model_copy(update={"hosts": hosts, "backup_nodes": nodes, "missing": {"gone" + evil: "why" + evil}})


def test_every_text_renderer_escapes_names_the_loader_would_refuse():
    snap = _unloadable_names()
    engine = Engine(snap)
    paths = engine.trace()
    report = build_report([("snap\x1b[2J", snap)])
    host, node = snap.hosts[0].name, snap.backup_nodes[0].name
    path = engine.trace_pair(host, node)
    findings = check(engine, [path])
    plan = plan_mod.build(snap, Severity.INFO)
    assert plan.steps and findings and report.findings
    change = ch.TagAdd(host, "vmk4")
    outputs = {
        "paths_table": paths_table(report), "findings_table": findings_table(report),
        "explain": explain_text("snap\x1b", path, findings, ASSUMPTIONS),
        "md paths": md_render.paths_markdown(report), "md findings": md_render.findings_markdown(report),
        "md explain": md_render.explain_markdown("s\x1b", path, findings), "md plan": md_render.plan_doc(plan.to_dict()),
        "html": html_render.report_html(report), "html explain": html_render.explain_html("s\x1b", path, findings),
        "plan text": plan_mod.render_text(plan),
        **{f"plan {k}": plan_mod.render_script(plan, k) for k in ("esxcli", "powercli", "govc")},
        "what-if": whatif_text(change, snap),
        "diff": diff_mod.render(diff_mod.diff(paths, Engine(ch.apply(snap, change)).trace())),
        "interface list": esxcli_mod.interface_list(snap.hosts[0]),
    }
    for what, text in outputs.items():
        assert host.split("\x1b")[0] in text or what == "interface list", what
        assert not raw_unsafe(text), (what, raw_unsafe(text))
    assert "\\x1b]0;owned\\x07\\x9b31m\\u202e" in outputs["findings_table"]
