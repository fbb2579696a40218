"""Generated scripts quote everything: hostile names run as data, never as code.

Scripts (``plan --format esxcli|govc``, the ``fix.esxcli|govc|manual`` strings of
``check``) are run by the real ``sh`` in an empty directory whose PATH holds only
fake ``esxcli``, ``govc`` and ``touch`` that record their argv: nothing may be
created, nothing else may run, and every name must arrive as one intact argument.
PowerShell output is read by a tokenizer that follows PowerShell's rules for
single-quoted strings (a doubled quote, typographic ones included, is one quote).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath import changes as kinds
from nbdpath import labs
from nbdpath.cli import main
from nbdpath.model import DEFAULT_STACK
from nbdpath.model.snapshot import normalise_stack
from nbdpath.plan import changes as ch
from nbdpath.plan import plan as plan_mod
from nbdpath.safetext import one_line, ps, sh, sh_quoted

# ---- hostile names ----------------------------------------------------------

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FRAGMENTS = ["'", '"', "\u2019", "\u2018", "\u201a", "\u201b", "''", "$(touch PWNED)", "`touch PWNED`",
             ";touch PWNED", "|touch PWNED", "&touch PWNED", "&&touch PWNED", ">PWNED", "<PWNED", " ", "*", "?",
             "~", "#", "\\", "$HOME", "${IFS}", "!", "%", "{a,b}", "[x]", "-", "=", "@", "é", "名", "\u00a0",
             "$(", ")", "}", "@{", "`", "#>", "<#", "--", "-host"]
# What a snapshot accepts: no control characters, separators or bidi overrides (those are refused at load).
_PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters=BIDI)
hostile = (st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(_PRINTABLE, min_size=1, max_size=3)),
                    min_size=1, max_size=6)
           .map("".join)
           .filter(lambda s: s == s.strip() and normalise_stack(s) == s))
# Anything a str can hold but NUL (no argv can carry it): the quoting functions take it all.
any_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)


# ---- a sandbox for sh --------------------------------------------------------

_FAKE = '#!/bin/sh\nprintf "%s\\0" {name} "$#" "$@" >> "$ARGV_LOG"\n'
# touch creates what it is given, so an injected `touch PWNED` leaves a file behind.
_TOUCH = '#!/bin/sh\nfor f do : > "$f"; done\nprintf "%s\\0" touch "$#" "$@" >> "$ARGV_LOG"\n'


# The esxcli plan's guard reads the host's addresses (read-only) when its name does not match.
PROBE = ["esxcli", "network", "ip", "interface", "ipv4", "get"]


def run_sh(script: str, hostname: str | None = None, rc: int = 0) -> list[list[str]]:
    """Run ``script`` with sh; return the argv of every esxcli/govc call but the guard's probe.
    Fails on anything else. ``hostname``: what a fake ``hostname`` prints (the host it runs on)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bin_, cwd, log = root / "bin", root / "cwd", root / "argv.log"
        bin_.mkdir()
        cwd.mkdir()
        fakes = [("esxcli", _FAKE.format(name="esxcli")), ("govc", _FAKE.format(name="govc")), ("touch", _TOUCH)]
        if hostname is not None:
            fakes.append(("hostname", '#!/bin/sh\nprintf "%s\\n" "$FAKE_HOSTNAME"\n'))
        os.symlink(shutil.which("grep") or "/bin/grep", bin_ / "grep")  # the guard's probe filters with it
        for name, text in fakes:
            (bin_ / name).write_text(text)
            (bin_ / name).chmod(0o755)
        (root / "script.sh").write_text(script)
        r = subprocess.run(["/bin/sh", str(root / "script.sh")], cwd=cwd, capture_output=True, text=True,
                           env={"PATH": str(bin_), "ARGV_LOG": str(log), "HOME": str(cwd),
                                "FAKE_HOSTNAME": hostname or ""}, timeout=60)
        assert r.returncode == rc and (r.stderr == "" or rc), (r.returncode, r.stderr, script)
        assert sorted(os.listdir(cwd)) == [], f"the script created files: {os.listdir(cwd)}\n{script}"
        calls = _calls(log.read_bytes().decode() if log.exists() else "")
    assert all(c[0] != "touch" for c in calls), (calls, script)
    return [c for c in calls if c != PROBE]


def _calls(log: str) -> list[list[str]]:
    fields = log.split("\0")[:-1]
    calls, i = [], 0
    while i < len(fields):
        n = int(fields[i + 1])
        calls.append([fields[i], *fields[i + 2: i + 2 + n]])
        i += 2 + n
    return calls


# ---- PowerShell single-quoted strings -----------------------------------------

PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def ps_split(line: str) -> tuple[str, list[str]]:
    """``line`` with each single-quoted literal replaced by ``L``, and the literals' values.

    PowerShell's tokenizer: any of the four quote characters opens and closes a
    literal; inside one, a quote followed by another quote stands for the second.
    """
    code, literals, i = [], [], 0
    while i < len(line):
        if line[i] not in PS_QUOTES:
            code.append(line[i])
            i += 1
            continue
        i += 1
        value = []
        while True:
            assert i < len(line), f"unterminated string literal in {line!r}"
            if line[i] in PS_QUOTES:
                if i + 1 < len(line) and line[i + 1] in PS_QUOTES:
                    value.append(line[i + 1])
                    i += 2
                    continue
                i += 1
                break
            value.append(line[i])
            i += 1
        literals.append("".join(value))
        code.append("L")
    return "".join(code), literals


_PS_SKELETONS = {
    "tag": "(Get-EsxCli -VMHost L -V2).network.ip.interface.tag.{verb}.Invoke(@{{interfacename=L; tagname=L}})",
    "route": "(Get-EsxCli -VMHost L -V2).network.ip.route.ipv4.{verb}.Invoke(@{{network=L; gateway=L{stack}}})",
    "vmk": "(Get-EsxCli -VMHost L -V2).network.ip.interface.remove.Invoke(@{{interfacename=L}})",
    "vlan": "(Get-EsxCli -VMHost L -V2).network.vswitch.standard.portgroup.set.Invoke(@{{portgroupname=L; vlanid={vlan}}})",
    "mtu": "(Get-EsxCli -VMHost L -V2).network.ip.interface.set.Invoke(@{{interfacename=L; mtu={mtu}}})",
}


def expected(change: ch.Change) -> dict[str, Any]:
    """What each language must receive for ``change``, written out by hand (not by the renderers)."""
    if isinstance(change, (ch.TagAdd, ch.TagRemove)):
        verb = "add" if isinstance(change, ch.TagAdd) else "remove"
        args = ["network", "ip", "interface", "tag", verb, "-i", change.vmk, "-t", ch.esxcli_tag(change.tag)]
        off = [] if verb == "add" else ["-enable=false"]
        return {"esxcli": args, "govc": ["host.vnic.service", "-host", change.host, *off, change.tag, change.vmk],
                "ps": (_PS_SKELETONS["tag"].format(verb=verb), [change.host, change.vmk, ch.esxcli_tag(change.tag)])}
    if isinstance(change, (ch.RouteAdd, ch.RouteRemove)):
        verb = "add" if isinstance(change, ch.RouteAdd) else "remove"
        custom = change.netstack != DEFAULT_STACK
        args = ["network", "ip", "route", "ipv4", verb, "-n", change.network, "-g", change.gateway,
                *(["-N", change.netstack] if custom else [])]
        ps_args = [change.host, change.network, change.gateway, *([change.netstack] if custom else [])]
        return {"esxcli": args, "govc": ["host.esxcli", "-host", change.host, "--", *args],
                "ps": (_PS_SKELETONS["route"].format(verb=verb, stack="; netstack=L" if custom else ""), ps_args)}
    if isinstance(change, kinds.PortgroupVlanSet):
        args = ["network", "vswitch", "standard", "portgroup", "set", "-p", change.portgroup, "-v", str(change.vlan)]
        return {"esxcli": args, "govc": ["host.esxcli", "-host", change.host, "--", *args],
                "ps": (_PS_SKELETONS["vlan"].format(vlan=change.vlan), [change.host, change.portgroup])}
    if isinstance(change, kinds.VmkMtuSet):
        args = ["network", "ip", "interface", "set", "-i", change.vmk, "-m", str(change.mtu)]
        return {"esxcli": args, "govc": ["host.esxcli", "-host", change.host, "--", *args],
                "ps": (_PS_SKELETONS["mtu"].format(mtu=change.mtu), [change.host, change.vmk])}
    assert isinstance(change, ch.VmkRemove)
    args = ["network", "ip", "interface", "remove", "-i", change.vmk]
    return {"esxcli": args, "govc": ["host.esxcli", "-host", change.host, "--", *args],
            "ps": (_PS_SKELETONS["vmk"].format(), [change.host, change.vmk])}


# ---- the quoting functions ------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=4))
def test_sh_words_reach_the_command_intact(values):
    script = f"esxcli {' '.join(sh(v) for v in values)}\ngovc {' '.join(sh_quoted(v) for v in values)}\n"
    assert run_sh(script) == [["esxcli", *values], ["govc", *values]]


@settings(max_examples=150, deadline=None)
@given(any_text)
def test_powershell_literal_decodes_to_the_value(value):
    code, literals = ps_split(f"Get-VMHost -Name {ps(value)} -V2")
    assert code == "Get-VMHost -Name L -V2" and literals == [value]


@st.composite
def changes(draw) -> ch.Change:
    kind = draw(st.sampled_from([ch.TagAdd, ch.TagRemove, ch.RouteAdd, ch.RouteRemove, ch.VmkRemove,
                                 kinds.PortgroupVlanSet, kinds.VmkMtuSet]))
    host, vmk, tag, net, gw, stack = (draw(any_text) for _ in range(6))
    if kind is kinds.PortgroupVlanSet:  # the port group's name is the text here; VLANs are ints
        return kind(host, draw(any_text), draw(st.integers(0, 4095)), draw(st.integers(0, 4095)))
    if kind is kinds.VmkMtuSet:
        return kind(host, vmk, draw(st.integers(1280, 9000)), draw(st.integers(1280, 9000)))
    if kind in (ch.TagAdd, ch.TagRemove):
        return kind(host, vmk, tag)
    if kind in (ch.RouteAdd, ch.RouteRemove):
        return kind(host, net, gw, draw(st.sampled_from([DEFAULT_STACK, stack])))
    return kind(host, vmk)


@settings(max_examples=150, deadline=None)
@given(changes())
def test_every_field_of_every_change_is_quoted(change):
    """Whatever the fields hold (the renderers also serve plan files and the command line)."""
    want = expected(change)
    assert run_sh(f"{ch.esxcli(change)}\n{ch.govc(change)}\n") == [["esxcli", *want["esxcli"]], ["govc", *want["govc"]]]
    assert ps_split(ch.powercli(change)) == want["ps"]


@settings(max_examples=100, deadline=None)
@given(changes(), st.sampled_from(["esxcli", "govc", "powercli"]))
def test_plan_comments_cannot_end_their_line(change, kind):
    """Even a name the loader refuses (newline, CR, U+2028) stays inside its comment."""
    step = plan_mod.Step(change, ("NBD005",), (change,))
    plan = plan_mod.Plan((step,), (), (), (), labs.load("veeam-tag-l2"))
    lines = plan_mod.render_script(plan, kind).split("\n")
    commands = [line for line in lines if line.startswith({"powercli": "(Get-EsxCli "}.get(kind, kind + " "))]
    assert len(commands) == 1
    assert all(c not in "".join(lines) for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    if kind != "powercli":
        # The printed script shows control characters as escapes, inside the quotes (the guard's too).
        assert run_sh("\n".join(lines), hostname=one_line(change.host)) == [[kind, *map(one_line, expected(change)[kind])]]


# ---- hostile estates, end to end -------------------------------------------------

def _rename_estate(doc: dict, name: str) -> tuple[dict, dict[str, dict[str, str]]]:
    """Every host, switch, port group, pnic, custom netstack, node, router and segment renamed
    to ``name`` + a number (the very first to ``name`` itself). Returns old -> new name by kind."""
    new: dict[str, dict[str, str]] = {k: {} for k in ("host", "switch", "pg", "pnic", "stack", "node", "router",
                                                         "segment", "dvs")}
    fresh = iter(range(10**6))

    def give(kind: str, old: str) -> str:
        n = next(fresh)
        return new[kind].setdefault(old, name if n == 0 else f"{name}{n}")

    for h in doc.get("hosts", []):
        give("host", h["name"])
        for p in h.get("pnics", []):
            give("pnic", p["name"])
        for vs in h.get("vswitches", []):
            give("switch", vs["name"])
            for pg in vs.get("portgroups", []):
                give("pg", pg["name"])
        for ns in h.get("netstacks", []):
            if normalise_stack(ns["key"]) == ns["key"] and ns["key"] not in ("vmotion", "vSphereProvisioning", DEFAULT_STACK):
                give("stack", ns["key"])
    for d in doc.get("dvswitches", []):
        give("dvs", d["name"])
        for pg in d.get("portgroups", []):
            give("pg", pg["name"])
    for kind, key in (("node", "backup_nodes"), ("router", "routers"), ("segment", "segments")):
        for item in doc.get(key, []):
            give(kind, item["name"])

    def ren(kind: str, value: str) -> str:
        return new[kind].get(value, value)

    def teaming(t: dict | None, kind: str) -> None:
        for role in ("active", "standby", "unused"):
            if t and t.get(role):
                t[role] = [ren(kind, u) for u in t[role]]

    for h in doc.get("hosts", []):
        h["name"] = ren("host", h["name"])
        for p in h.get("pnics", []):
            p["name"] = ren("pnic", p["name"])
        for vs in h.get("vswitches", []):
            vs["name"] = ren("switch", vs["name"])
            vs["uplinks"] = [ren("pnic", u) for u in vs.get("uplinks", [])]
            teaming(vs.get("teaming"), "pnic")
            for pg in vs.get("portgroups", []):
                pg["name"] = ren("pg", pg["name"])
                teaming(pg.get("teaming"), "pnic")
        for m in h.get("dvswitches", []):
            m["switch"] = ren("dvs", m["switch"])
            m["uplinks"] = {port: ren("pnic", nic) for port, nic in m.get("uplinks", {}).items()}
        for ns in h.get("netstacks", []):
            ns["key"] = ren("stack", ns["key"])
        for v in h.get("vmks", []):
            v["portgroup"] = ren("pg", v["portgroup"])
            if "netstack" in v:
                v["netstack"] = ren("stack", v["netstack"])
            if v.get("segment"):
                v["segment"] = ren("segment", v["segment"])
    for d in doc.get("dvswitches", []):
        d["name"] = ren("dvs", d["name"])
        for pg in d.get("portgroups", []):
            pg["name"] = ren("pg", pg["name"])
    for kind, key in (("node", "backup_nodes"), ("router", "routers"), ("segment", "segments")):
        for item in doc.get(key, []):
            item["name"] = ren(kind, item["name"])
            for iface in item.get("interfaces", []):
                if iface.get("segment"):
                    iface["segment"] = ren("segment", iface["segment"])
    doc["dns"] = {ren("host", k): v for k, v in doc.get("dns", {}).items()}
    return doc, new


def _every_fix_template_fires(doc: dict) -> dict:
    """tag-wrong-stack plus a VLAN and an MTU mismatch and a dead uplink: every manual esxcli line."""
    h = doc["hosts"][0]
    h["vmks"][1].update(mtu=9000, segment="backup")
    h["vswitches"][1]["portgroups"][0]["vlan"] = 31
    h["pnics"].append({"name": "vmnic9", "speed_mbps": 1000, "link_up": False})
    h["vswitches"][1]["uplinks"].append("vmnic9")
    return doc


def _estate(lab: str, name: str, tweak=None) -> tuple[str, dict[str, dict[str, str]]]:
    doc = {k: v for k, v in yaml.safe_load(labs.text(lab)).items() if not k.startswith("x-")}  # YAML anchors
    doc = tweak(doc) if tweak else doc
    doc, names = _rename_estate(doc, name)
    return json.dumps(doc), names


def cli(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(list(args))
    assert rc in (0, 1) and err.getvalue() == "", (rc, err.getvalue())
    return out.getvalue()


def _with_file(text: str, *args: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "estate.json")
        Path(path).write_text(text)
        return cli(args[0], path, *args[1:])


# Labs whose plans hold every kind of step: routes (mixed-estate), tag add, tag remove.
PLAN_LABS = ["mixed-estate", "rubrik-mixed-speed", "esxi67-no-tag"]


@settings(max_examples=40, deadline=None)
@given(hostile, st.sampled_from(PLAN_LABS))
def test_plan_scripts_of_a_hostile_estate_run_nothing(name, lab):
    text, new = _estate(lab, name)
    clean = json.loads(cli("plan", "--lab", lab, "--severity", "info", "--format", "json"))["steps"]
    # The renamed estate plans the same changes, on the renamed hosts.
    steps = [ch.from_dict({**s["op"], "host": new["host"][s["op"]["host"]]}) for s in clean]
    assert steps and [ch.from_dict(s["op"]) for s in json.loads(_with_file(text, "plan", "--severity", "info", "--format", "json"))["steps"]] == steps

    # The esxcli script runs, on each host, that host's section only; on no host of the plan, nothing.
    esx = _with_file(text, "plan", "--severity", "info", "--format", "esxcli")
    for host in dict.fromkeys(c.host for c in steps):
        assert run_sh(esx, hostname=host) == [["esxcli", *expected(c)["esxcli"]] for c in steps if c.host == host]
    assert run_sh(esx, hostname="not-a-planned-host", rc=1) == []
    assert run_sh(_with_file(text, "plan", "--severity", "info", "--format", "govc")) == [["govc", *expected(c)["govc"]] for c in steps]
    script = _with_file(text, "plan", "--severity", "info", "--format", "powercli").split("\n")
    commands = [line for line in script if line.startswith("(Get-EsxCli ")]
    assert [ps_split(line) for line in commands] == [expected(c)["ps"] for c in steps]


@settings(max_examples=40, deadline=None)
@given(hostile)
def test_check_fixes_of_a_hostile_estate_run_nothing(name):
    text, new = _estate("tag-wrong-stack", name, _every_fix_template_fires)
    fixes = [f["fix"] for f in json.loads(_with_file(text, "check", "--format", "json"))["findings"]]
    host, = new["host"].values()
    # The host changes, in finding order: the tag off vmk2 (NBD001: on its custom netstack; the vmk
    # itself cannot be recreated under its name here, so that part is words), the port group's VLAN
    # (NBD013) and vmk2's MTU (NBD014).
    pg, nic = new["pg"]["Backup"], new["pnic"]["vmnic9"]
    changes = [ch.TagRemove(host, "vmk2"), kinds.PortgroupVlanSet(host, pg, 30, 31), kinds.VmkMtuSet(host, "vmk2", 1500, 9000)]
    want = [expected(c) for c in changes]
    assert run_sh("\n".join(c for fix in fixes for c in fix["esxcli"] + fix["govc"]) + "\n") == [
        cmd for w in want for cmd in (["esxcli", *w["esxcli"]], ["govc", *w["govc"]])]
    assert [ps_split(line) for fix in fixes for line in fix["powercli"]] == [w["ps"] for w in want]

    # Manual steps hold no esxcli commands any more, but a diagnostic one quoted for sh after "check ...: ".
    checks = [m.split(": ", 1)[1] for fix in fixes for m in fix["manual"] if m.startswith("check ")]
    assert run_sh("\n".join(checks) + "\n") == [["esxcli", "network", "nic", "get", "-n", nic]]
    assert not [m for fix in fixes for m in fix["manual"] if m.startswith("esxcli ")]
