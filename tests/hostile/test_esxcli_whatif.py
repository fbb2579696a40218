"""`nbdpath esxcli` what-ifs with bad values: one exit-2 line naming what is wrong, never a traceback.

Each listed case was a traceback (or a wrong message) before; the generated
test puts arbitrary text in every option of every verb.
"""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath.cli import main

LAB = ("--lab", "veeam-tag-routed")
ON = ("esxcli", *LAB, "--host", "esx01.lab.local")
ROUTE = (*ON, "network", "ip", "route", "ipv4")
TAG = (*ON, "network", "ip", "interface", "tag")


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


CASES = [
    ((*ROUTE, "add", "-n", "10.40.0.1/24", "-g", "10.30.0.1"), "option -n: expected an IPv4 network", "host bits set; the network is 10.40.0.0/24"),
    ((*ROUTE, "add", "-n", "300.0.0.0/8", "-g", "10.30.0.1"), "option -n: expected an IPv4 network", "'300.0.0.0/8'"),
    ((*ROUTE, "add", "-n", "abc", "-g", "10.30.0.1"), "option -n: expected an IPv4 network", "'abc'"),
    ((*ROUTE, "add", "-n", "10.0.0.0/33", "-g", "10.30.0.1"), "option -n: expected an IPv4 network", "'10.0.0.0/33'"),
    ((*ROUTE, "add", "-n", "10.0.0.0/", "-g", "10.30.0.1"), "option -n: expected an IPv4 network", "'10.0.0.0/'"),
    ((*ROUTE, "add", "-n", "fd00:40::/64", "-g", "10.30.0.1"), "option -n: expected an IPv4 network", "IPv6"),
    ((*ROUTE, "remove", "-n", "::/0", "-g", "fd00::1"), "option -n: expected an IPv4 network", "IPv6"),
    ((*ROUTE, "add", "-n", "10.40.0.0/24", "-g", "abc"), "option -g: expected an IPv4 gateway address", "'abc'"),
    ((*ROUTE, "add", "-n", "10.40.0.0/24", "-g", "10.30.0.1 -g 10.10.0.1"), "option -g", "'10.30.0.1 -g 10.10.0.1'"),
    ((*ROUTE, "add", "-n", "10.40.0.0/24", "-g", "fd00::1"), "option -g: expected an IPv4 gateway address", "fd00::1"),
    ((*ROUTE, "add", "-n", "10.40.0.0/24", "-g", "10.30.0.1", "-N", ""), "option -N: expected a netstack name", "''"),
    ((*ROUTE, "add", "-n", "10.40.0.0/24"), "missing required option -g", ""),
    ((*ROUTE, "add", "-n", "10.40.0.0/24", "-g"), "option -g needs a value", ""),
    ((*ROUTE, "remove", "-n", "10.99.0.0/24", "-g", "10.30.0.1"), "esx01.lab.local: no route 10.99.0.0/24 via 10.30.0.1", ""),
    ((*ROUTE, "list", "-N", "nope"), "no netstack nope on esx01.lab.local", ""),
    (("esxcli", "--lab", "all", "--host", "esx01.lab.local", "network", "ip", "interface", "list"),
     "esxcli runs on one host of one snapshot", "not --lab all"),
    (("esxcli", "--lab", "nope", "--host", "esx01.lab.local", "network", "ip", "interface", "list"), "no built-in lab 'nope'", ""),
    (("esxcli", *LAB, "--host", "esx09", "network", "ip", "interface", "list"), "no host 'esx09'", "esx01.lab.local"),
    (("esxcli", *LAB, "network", "ip", "interface", "list"), "esxcli needs --host", ""),
    (("esxcli", "--host", "esx01", "network", "ip", "interface", "list"), "give a SNAPSHOT file or --lab NAME", ""),
    (("esxcli", *LAB, "--host"), "option --host needs a value", ""),
    ((*TAG, "add", "-i", "vmk2", "-t", "Bogus"), "option -t: unknown service tag 'Bogus'", "vSphereBackupNFC"),
    ((*TAG, "add", "-i", "vmk9", "-t", "vSphereBackupNFC"), "no vmk9 on esx01.lab.local", "vmk0, vmk2"),
    ((*TAG, "add", "-i", "vmk²", "-t", "vSphereBackupNFC"), "option -i: expected a vmk device like vmk2", ""),
    ((*TAG, "add", "-i", "vmk2;reboot", "-t", "vSphereBackupNFC"), "option -i: expected a vmk device", "'vmk2;reboot'"),
    ((*TAG, "remove", "-i", "vmk0", "-t", "vmotion"), "esx01.lab.local: vmk0 does not carry vmotion", ""),
    ((*TAG, "get", "-i", "vmk9"), "no vmk9 on esx01.lab.local", ""),
    ((*TAG, "get"), "missing required option -i", ""),
    ((*ON, "network", "ip", "interface", "remove", "-i", "vmk9"), "no vmk9 on esx01.lab.local", ""),
    ((*ON, "network", "ip", "interface", "ipv4", "get", "-i", "vmk9"), "no vmk9 on esx01.lab.local", ""),
    ((*ON, "network", "ip", "interface", "ipv4", "get", "-i", "2"), "option -i: expected a vmk device", ""),
    ((*ON, "network", "ip", "interface", "list", "-i", "vmk0"), "unexpected argument '-i'", ""),
    ((*ON, "network", "firewall", "ruleset", "list"), "unsupported esxcli command", ""),
    ((*ON, "network", "ip", "interface", "tag", "add", "--interface-name=vmk2", "--tagname"), "needs a value", ""),
    ((*ROUTE, "add", "-n", "10.40.0.0/24", "-g", "10.30.0.1", "-o", "/nonexistent/dir/x.yaml"), "cannot write /nonexistent/dir/x.yaml", ""),
]


@pytest.mark.parametrize("argv, says, also", CASES, ids=[" ".join(c[0][5:]) or " ".join(c[0]) for c in CASES])
def test_bad_what_if_is_one_line_exit_2(argv, says, also):
    rc, out, err = cli(*argv)
    assert rc == 2, (rc, err)
    assert len(err.splitlines()) == 1 and err.startswith("nbdpath: error: ") and says in err and also in err, err


def test_a_route_the_host_has_already_is_refused():
    # esx02 of veeam-tag-routed routes 10.40.0.0/24 via 10.30.0.1 already; esx01 does not.
    add = ("network", "ip", "route", "ipv4", "add", "-n", "10.40.0.0/24", "-g", "10.30.0.1")
    assert cli("esxcli", *LAB, "--host", "esx01.lab.local", *add)[0] == 0
    rc, _, err = cli("esxcli", *LAB, "--host", "esx02.lab.local", *add)
    assert rc == 2 and err == "nbdpath: error: esx02.lab.local: route 10.40.0.0/24 via 10.30.0.1 already on defaultTcpipStack\n"


def test_as_users_run_it_no_traceback():
    for argv, says, _ in CASES[:9:4] + CASES[15:16]:
        r = subprocess.run([sys.executable, "-m", "nbdpath", *argv], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and "Traceback" not in r.stderr and says in r.stderr
        assert len(r.stderr.splitlines()) == 1


def test_good_values_are_normalised_as_esxcli_would():
    rc, out, err = cli(*ROUTE, "add", "-n", "10.40.0.0/255.255.255.0", "-g", "10.30.0.1")
    assert rc == 0 and "esxcli network ip route ipv4 add -n 10.40.0.0/24 -g 10.30.0.1" in out, err
    rc, out, _ = cli(*TAG, "add", "-i", "vmk2", "-t", "VMotion")
    assert rc == 0 and "esxcli network ip interface tag add -i vmk2 -t VMotion" in out
    assert "tagname='VMotion'" in out


VERBS = [
    ("network", "ip", "interface", "list"),
    ("network", "ip", "interface", "ipv4", "get", "-i", "{}"),
    ("network", "ip", "interface", "tag", "get", "-i", "{}"),
    ("network", "ip", "interface", "tag", "add", "-i", "{}", "-t", "vSphereBackupNFC"),
    ("network", "ip", "interface", "tag", "add", "-i", "vmk2", "-t", "{}"),
    ("network", "ip", "interface", "tag", "remove", "-i", "vmk2", "-t", "{}"),
    ("network", "ip", "interface", "remove", "-i", "{}"),
    ("network", "ip", "route", "ipv4", "list", "-N", "{}"),
    ("network", "ip", "route", "ipv4", "add", "-n", "{}", "-g", "10.30.0.1"),
    ("network", "ip", "route", "ipv4", "add", "-n", "10.40.0.0/24", "-g", "{}"),
    ("network", "ip", "route", "ipv4", "add", "-n", "10.40.0.0/24", "-g", "10.30.0.1", "-N", "{}"),
    ("network", "ip", "route", "ipv4", "remove", "-n", "{}", "-g", "{}", "-N", "{}"),
    ("network", "ip", "interface", "list", "{}"),
    ("network", "ip", "{}", "list"),
]
# Near misses of good values as well as anything at all.
values = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"(vmk|10\.|default|vSphere|fd00:|::)[0-9./:a-zA-Z²٣;\- ]{0,10}", fullmatch=True),
    st.sampled_from(["", "-", "--", "-n", "=", "vmk2", "vmk99999", "vmk" + "9" * 5000, "10.40.0.0/24", "0.0.0.0/0",
                     "255.255.255.255/32", "default", "Default", "vmotion", "defaultTcpipStack", "1" * 5000]),
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(VERBS), values, st.sampled_from(["esx01.lab.local", "esx02.lab.local"]))
def test_any_value_in_any_option_is_an_answer_or_one_line(verb, value, host):
    argv = ("esxcli", *LAB, "--host", host, *(w.replace("{}", value) for w in verb))
    rc, _, err = cli(*argv)
    assert rc in (0, 2), (argv, err)  # 70 would be a defect (a traceback before)
    assert rc == 0 or (len(err.splitlines()) == 1 and err.startswith("nbdpath: error: ")), (argv, err)
