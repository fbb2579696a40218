"""``nbdpath import node``: real ``ip -j`` output from a network namespace, the Windows
fixtures written from Microsoft's documentation (data/node/README.md), and hostile files."""

from __future__ import annotations

import codecs
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.engine import Engine
from nbdpath.errors import InputError
from nbdpath.model import Snapshot
from nbdpath.sources import node as src
from nbdpath.sources.extra import merge, parse_merge, parse_node_flag

DATA = Path(__file__).parent / "data" / "node"
_counter = itertools.count()


def run(*argv: str, capsys) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def written(path: Path) -> dict:
    """The node entry, read back through the loader discover --merge uses."""
    extra = parse_merge(path.read_text(), str(path))
    (node,) = extra.backup_nodes
    return node


# ---------------------------------------------------------------- real namespaces


def _can_netns() -> str:
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    if shutil.which("ip") is None:
        return "needs iproute2's ip"
    probe = f"nbdn-{os.getpid()}-probe"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create network namespaces here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ""


@pytest.fixture
def ns():
    reason = _can_netns()
    if reason:
        pytest.skip(reason)
    name = f"nbdn-{os.getpid()}-{next(_counter)}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def ip(ns: str, *args: str) -> str:
    return subprocess.run(["ip", "-n", ns, *args], check=True, capture_output=True, text=True).stdout


def node_namespace(ns: str) -> None:
    """A proxy: eth0 up on 10.40.0.50/24 (MTU 9000), two defaults, one static route, a down leg."""
    ip(ns, "link", "set", "lo", "up")
    ip(ns, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
    ip(ns, "link", "set", "eth0", "mtu", "9000")
    ip(ns, "link", "set", "peer0", "mtu", "9000")
    ip(ns, "addr", "add", "10.40.0.50/24", "dev", "eth0")
    ip(ns, "link", "set", "eth0", "up")
    ip(ns, "link", "set", "peer0", "up")
    ip(ns, "route", "add", "default", "via", "10.40.0.1", "metric", "100")
    ip(ns, "route", "add", "default", "via", "10.40.0.254", "metric", "50")
    ip(ns, "route", "add", "10.50.0.0/16", "via", "10.40.0.2")
    ip(ns, "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
    ip(ns, "addr", "add", "10.60.0.5/24", "dev", "eth1")  # never set up


def test_real_ip_output_from_a_namespace_becomes_the_node(ns, tmp_path, capsys):
    node_namespace(ns)
    (tmp_path / "addr.json").write_text(ip(ns, "-j", "addr", "show"))
    (tmp_path / "route.json").write_text(ip(ns, "-j", "route", "show"))
    out = tmp_path / "backup-side.yaml"
    rc, stdout, err = run("import", "node", "--name", "proxy01", "--product", "veeam-proxy",
                          "--addr", str(tmp_path / "addr.json"), "--route", str(tmp_path / "route.json"),
                          "-o", str(out), capsys=capsys)
    assert rc == 0, err
    node = written(out)
    assert node.name == "proxy01" and node.product == "veeam-proxy"
    assert [(i.name, i.address) for i in node.interfaces] == [("eth0", "10.40.0.50/24")]
    assert node.gateway == "10.40.0.254"  # the lower metric of the two defaults
    assert [(r.network, r.gateway) for r in node.routes] == [("10.50.0.0/16", "10.40.0.2")]
    text = out.read_text()
    assert "skipped eth1: link is down" in stdout and "10.60.0.5/24" in text  # said, in the summary and the file
    assert "other default route via 10.40.0.1 metric 100" in stdout
    assert "eth0 has MTU 9000" in stdout
    assert "peer0" not in text  # up but addressless: nothing to say about it


def test_ipv6_route_file_beside_the_ipv4_one(ns, tmp_path, capsys):
    node_namespace(ns)
    ip(ns, "addr", "add", "fd00:40::50/64", "dev", "eth0", "nodad")
    ip(ns, "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
    ip(ns, "-6", "route", "add", "fd00:99::/48", "via", "fd00:40::2")
    (tmp_path / "addr.json").write_text(ip(ns, "-j", "addr", "show"))
    (tmp_path / "r4.json").write_text(ip(ns, "-j", "route", "show"))
    (tmp_path / "r6.json").write_text(ip(ns, "-j", "-6", "route", "show"))
    out = tmp_path / "m.yaml"
    rc, stdout, err = run("import", "node", "--name", "p6", "--addr", str(tmp_path / "addr.json"),
                          "--route", str(tmp_path / "r4.json"), "--route", str(tmp_path / "r6.json"),
                          "-o", str(out), capsys=capsys)
    assert rc == 0, err
    node = written(out)
    assert ("eth0", "fd00:40::50/64") in [(i.name, i.address) for i in node.interfaces]
    assert node.gateway == "10.40.0.254"
    assert {(r.network, r.gateway) for r in node.routes} == {
        ("10.50.0.0/16", "10.40.0.2"), ("::/0", "fe80::1"), ("fd00:99::/48", "fd00:40::2")}
    assert "fe80::1" not in "".join(n for n in stdout.splitlines() if "none of the kept" in n)


def test_files_are_recognised_by_content_and_json_summary(ns, tmp_path, capsys):
    node_namespace(ns)
    (tmp_path / "a").write_text(ip(ns, "-j", "route", "show"))
    (tmp_path / "b").write_text(ip(ns, "-j", "addr", "show"))
    out = tmp_path / "m.yaml"
    rc, stdout, err = run("import", "node", "--name", "p1", str(tmp_path / "a"), str(tmp_path / "b"),
                          "-o", str(out), "--format", "json", capsys=capsys)
    assert rc == 0, err
    doc = json.loads(stdout)
    assert doc["kind"] == "import-node" and doc["node"]["gateway"] == "10.40.0.254"
    assert doc["mtu"]["eth0"] == 9000
    assert written(out).gateway == "10.40.0.254"


def test_the_merge_file_traces_with_discovered_hosts(ns, tmp_path, capsys):
    """discover --merge / import esxcli --merge: the same loader, then a trace that reaches the hosts."""
    node_namespace(ns)
    (tmp_path / "addr.json").write_text(ip(ns, "-j", "addr", "show"))
    ip(ns, "route", "del", "default", "via", "10.40.0.254")
    (tmp_path / "route.json").write_text(ip(ns, "-j", "route", "show"))
    out = tmp_path / "backup-side.yaml"
    assert run("import", "node", "--name", "proxy01", "--addr", str(tmp_path / "addr.json"),
               "--route", str(tmp_path / "route.json"), "-o", str(out), capsys=capsys)[0] == 0
    hosts = Snapshot(name="discovered", hosts=labs.load("veeam-tag-routed").hosts)
    snap = merge(hosts, parse_merge(out.read_text(), str(out)), str(out))
    by_hand = merge(hosts, nodes=[parse_node_flag("proxy01=10.40.0.50/24@10.40.0.1")])

    def verdicts(s: Snapshot) -> dict:
        engine = Engine(s)
        return {h.name: (engine.trace_pair(h.name, "proxy01").outcome.verdict.name,
                         engine.trace_pair(h.name, "proxy01").outcome.node_interface) for h in s.hosts}

    # what the node printed traces exactly as the --node flag an admin would type
    assert verdicts(snap) == verdicts(by_hand)
    assert {v for v, _ in verdicts(snap).values()} <= {"ISOLATED", "NOT_ISOLATED", "ASYMMETRIC"}


# ---------------------------------------------------------------- Windows (fixtures from the docs)


def test_windows_powershell_51_utf16_output(tmp_path, capsys):
    assert (DATA / "win-addr.json").read_bytes().startswith(codecs.BOM_UTF16_LE)
    out = tmp_path / "w.yaml"
    rc, stdout, err = run("import", "node", "--name", "win01", str(DATA / "win-addr.json"),
                          str(DATA / "win-route.json"), "-o", str(out), capsys=capsys)
    assert rc == 0, err
    node = written(out)
    assert [(i.name, i.address) for i in node.interfaces] == [("Ethernet0", "10.40.0.60/24"),
                                                              ("Backup 10G", "10.30.0.60/24")]
    assert node.gateway == "10.40.0.1"
    # listed twice (ActiveStore and PersistentStore), kept once; on-link (0.0.0.0) routes implied
    assert [(r.network, r.gateway) for r in node.routes] == [("10.50.0.0/16", "10.30.0.254")]
    assert "169.254.17.4/16 on Ethernet1: link-local" in stdout
    assert "10.40.0.61/24 on Ethernet0: address state Tentative" in stdout
    assert "other default route via 10.30.0.1 metric 10" in stdout


def test_windows_powershell_7_single_objects_and_enum_strings(tmp_path, capsys):
    out = tmp_path / "w.yaml"
    rc, stdout, err = run("import", "node", "--name", "win02", "--addr", str(DATA / "win7-addr-one.json"),
                          "--route", str(DATA / "win7-route-one.json"), "-o", str(out), capsys=capsys)
    assert rc == 0, err
    node = written(out)
    assert [(i.name, i.address) for i in node.interfaces] == [("vEthernet (Default Switch)", "192.168.7.20/24")]
    assert node.gateway == "192.168.7.1" and node.routes == ()
    assert "looks like a container or VM bridge" in stdout


def test_an_existing_merge_file_gets_the_node_added_then_replaced(tmp_path, capsys):
    out = tmp_path / "backup-side.yaml"
    out.write_text("segments:\n  - {name: proxies, vlan: 40, subnets: [10.40.0.0/24]}\n"
                   "backup_nodes:\n  - {name: other, interfaces: [{name: eth0, address: 10.40.0.9/24}]}\n")
    args = ("import", "node", "--name", "win01", str(DATA / "win-addr.json"), str(DATA / "win-route.json"), "-o", str(out))
    rc, stdout, err = run(*args, capsys=capsys)
    assert rc == 0 and "(added in the existing file)" in stdout, err
    extra = parse_merge(out.read_text(), str(out))
    assert [n.name for n in extra.backup_nodes] == ["other", "win01"] and extra.segments[0].name == "proxies"
    rc, stdout, _ = run(*args, capsys=capsys)
    assert rc == 0 and "(replaced in the existing file)" in stdout
    assert [n.name for n in parse_merge(out.read_text(), str(out)).backup_nodes] == ["other", "win01"]


# ---------------------------------------------------------------- hostile files

LINUX_ADDR = [{"ifindex": 2, "ifname": "eth0", "flags": ["BROADCAST", "UP", "LOWER_UP"], "mtu": 1500,
               "operstate": "UP", "addr_info": [{"family": "inet", "local": "10.40.0.50", "prefixlen": 24}]}]


def _doc(**changes) -> list:
    doc = json.loads(json.dumps(LINUX_ADDR))
    for key, value in changes.items():
        target = doc[0]
        if key.startswith("info_"):
            target, key = target["addr_info"][0], key[5:]
        target[key] = value
    return doc


HOSTILE = {
    "not-json": (b'[{"ifname": "eth0",', "column"),
    "a number": (b"42", "a JSON list of objects"),
    "entry not an object": (b'[["eth0"]]', "[0]: an object"),
    "escape in a name": (json.dumps(_doc(ifname="eth\x1b[2J0")).encode(), "[0].ifname: text without control"),
    "bidi override in a name": (json.dumps(_doc(ifname="eth\u202e0")).encode(), "[0].ifname: text without control"),
    "prefix out of range": (json.dumps(_doc(info_prefixlen=99)).encode(), "[0].addr_info[0].prefixlen"),
    "prefix as text": (json.dumps(_doc(info_prefixlen="24")).encode(), "[0].addr_info[0].prefixlen: an integer"),
    "prefix as a boolean": (json.dumps(_doc(info_prefixlen=True)).encode(), "[0].addr_info[0].prefixlen: an integer"),
    "address not an address": (json.dumps(_doc(info_local="10.40.0.500")).encode(), "[0].addr_info[0].local: an IP"),
    "addr_info not a list": (json.dumps(_doc(addr_info={"a": 1})).encode(), "[0].addr_info: a list"),
    "flags not strings": (json.dumps(_doc(flags=[1])).encode(), "[0].flags[0]: a string"),
    "huge integer": (b'[{"ifname": "eth0", "mtu": ' + b"9" * 5000 + b"}]", "integers of at most 20 digits"),
    "NaN": (b'[{"ifname": "eth0", "mtu": NaN}]', "numbers only"),
    "duplicate key": (b'[{"ifname": "eth0", "ifname": "eth1"}]', "each key once"),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "nesting too deep"),
    "latin-1 bytes": (b'[{"ifname": "eth\xe90"}]', "byte 16: UTF-8 text"),
    "utf-16 without BOM": ('[{"ifname": "eth0"}]'.encode("utf-16-le"), "byte 1: UTF-8 text, or UTF-16 with its"),
    "broken utf-16": (codecs.BOM_UTF16_LE + b"[\x00{\x00\x00\xd8", "UTF-16-LE text"),
    "empty": (b"  \n", "the file is empty"),
    "unknown shape": (b'[{"foo": 1}]', "[0]: the output of one of"),
    "no usable address": (json.dumps(_doc(info_local="127.0.0.1")).encode(), "at least one usable address"),
    "windows family mismatch": (json.dumps([{"IPAddress": "10.0.0.1", "PrefixLength": 24, "InterfaceAlias": "E",
                                             "AddressFamily": 23}]).encode(), "[0].AddressFamily: the family"),
    "windows alias with ESC, UTF-16": (codecs.BOM_UTF16_LE + json.dumps(
        [{"IPAddress": "10.0.0.1", "PrefixLength": 24, "InterfaceAlias": "E\x1b]0;owned\x07"}]).encode("utf-16-le"),
        "[0].InterfaceAlias: text without control"),
    "bad JSON in UTF-16": (codecs.BOM_UTF16_LE + '[{"IPAddress": }]'.encode("utf-16-le"), ":1: column 16: JSON"),
    "windows bad enum": (json.dumps([{"IPAddress": "10.0.0.1", "PrefixLength": 24, "InterfaceAlias": "E",
                                      "AddressState": 9}]).encode(), "[0].AddressState: one of"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_address_file_is_one_line_naming_file_and_place(case, tmp_path, capsys):
    data, expected = HOSTILE[case]
    bad = tmp_path / "addr.json"
    bad.write_bytes(data)
    out = tmp_path / "out.yaml"
    rc, stdout, err = run("import", "node", "--name", "p1", str(bad), "-o", str(out), capsys=capsys)
    assert rc == 2, (stdout, err)
    assert err.count("\n") == 1 and err.startswith(f"nbdpath: error: {bad}"), err
    assert expected in err and "Traceback" not in err and "\x1b" not in err and "\u202e" not in err
    assert not out.exists() and not list(tmp_path.glob(".out.yaml.*"))


ROUTE_HOSTILE = {
    "dst not a network": ([{"dst": "10.0.0.0/40", "gateway": "10.40.0.1"}], "[0].dst: a network"),
    "gateway not an address": ([{"dst": "default", "gateway": "router"}], "[0].gateway: an IP address"),
    "metric negative": ([{"dst": "default", "gateway": "10.40.0.1", "metric": -1}], "[0].metric"),
    "dst missing": ([{"dev": "eth0", "gateway": "10.40.0.1", "dst": None}], "[0].dst: a string"),
    "an address file given as --route": (LINUX_ADDR, "the output of ip -j route or Get-NetRoute"),
    "windows next hop of the other family": ([{"DestinationPrefix": "10.9.0.0/16", "NextHop": "fe80::1"}],
                                             "[0].NextHop: a next hop of the family"),
}


@pytest.mark.parametrize("case", sorted(ROUTE_HOSTILE))
def test_hostile_route_file(case, tmp_path, capsys):
    doc, expected = ROUTE_HOSTILE[case]
    (tmp_path / "addr.json").write_text(json.dumps(LINUX_ADDR))
    bad = tmp_path / "route.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "out.yaml"
    rc, _, err = run("import", "node", "--name", "p1", "--addr", str(tmp_path / "addr.json"), "--route", str(bad),
                     "-o", str(out), capsys=capsys)
    assert rc == 2 and err.count("\n") == 1 and err.startswith(f"nbdpath: error: {bad}") and expected in err, err
    assert not out.exists()


def test_huge_file_is_refused_before_reading(tmp_path, capsys):
    big = tmp_path / "addr.json"
    with open(big, "wb") as fh:
        fh.truncate(src.MAX_NODE_FILE + 1)  # sparse: costs no disk
    rc, _, err = run("import", "node", "--name", "p1", str(big), "-o", str(tmp_path / "o.yaml"), capsys=capsys)
    assert rc == 2 and "at most 16 MiB" in err and err.count("\n") == 1


def test_fifo_is_refused_not_waited_for(tmp_path, capsys):
    fifo = tmp_path / "addr.json"
    os.mkfifo(fifo)
    rc, _, err = run("import", "node", "--name", "p1", str(fifo), "-o", str(tmp_path / "o.yaml"), capsys=capsys)
    assert rc == 2 and "not a FIFO" in err


def test_too_many_entries(tmp_path, capsys):
    bad = tmp_path / "route.json"
    bad.write_text(json.dumps([{"dst": "default"}] * (src.MAX_ENTRIES + 1)))
    rc, _, err = run("import", "node", "--name", "p1", str(bad), "-o", str(tmp_path / "o.yaml"), capsys=capsys)
    assert rc == 2 and "at most 10,000 entries" in err


@pytest.mark.parametrize("argv, expected", [
    (["--name", "p\x1b1"], "--name 'p\\x1b1': expected a node name"),
    ([], "exactly one address file"),
    (["--route", "A"], "exactly one address file"),
    (["A", "A"], "exactly one address file"),
])
def test_usage_errors(argv, expected, tmp_path, capsys):
    (tmp_path / "A").write_text(json.dumps(LINUX_ADDR))
    argv = [str(tmp_path / a) if a == "A" else a for a in argv]
    if "--name" not in argv:
        argv = ["--name", "p1", *argv]
    if argv.count(str(tmp_path / "A")) == 1 and "--route" in argv:
        (tmp_path / "A").write_text("[]")  # an empty route file: no address file at all
    rc, _, err = run("import", "node", *argv, "-o", str(tmp_path / "o.yaml"), capsys=capsys)
    assert rc == 2 and expected in err and err.count("\n") == 1, err


def test_existing_output_that_is_not_a_merge_file_is_left_alone(tmp_path, capsys):
    (tmp_path / "addr.json").write_text(json.dumps(LINUX_ADDR))
    out = tmp_path / "estate.yaml"
    out.write_text("hosts: []\n")
    rc, _, err = run("import", "node", "--name", "p1", str(tmp_path / "addr.json"), "-o", str(out), capsys=capsys)
    assert rc == 2 and "comes from vCenter" in err
    assert out.read_text() == "hosts: []\n"


def test_missing_output_directory(tmp_path, capsys):
    (tmp_path / "addr.json").write_text(json.dumps(LINUX_ADDR))
    rc, _, err = run("import", "node", "--name", "p1", str(tmp_path / "addr.json"),
                     "-o", str(tmp_path / "no" / "o.yaml"), capsys=capsys)
    assert rc == 2 and "does not exist" in err


# Anything JSON can hold, shaped loosely like the four outputs: a result or an InputError, nothing else.
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.text(max_size=12),
                     st.sampled_from(["default", "10.40.0.1", "10.40.0.0/24", "fe80::1%3", "inet", "UP", "0.0.0.0"]))
_keys = st.sampled_from(["ifname", "flags", "mtu", "operstate", "addr_info", "family", "local", "prefixlen", "dst",
                         "gateway", "dev", "metric", "type", "table", "nexthops", "IPAddress", "PrefixLength",
                         "InterfaceAlias", "AddressFamily", "AddressState", "Store", "DestinationPrefix", "NextHop",
                         "RouteMetric"])
_json = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(_keys, inner, max_size=6)), max_leaves=25)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(addr=_json, route=_json)
def test_generated_documents_never_crash(addr, route):
    try:
        files = [src.load(json.dumps(addr).encode(), "a.json", src.ADDR_KINDS),
                 src.load(json.dumps(route).encode(), "r.json", src.ROUTE_KINDS)]
        imported = src.build("p1", "generic-vadp", files)
    except InputError as exc:
        assert str(exc).startswith(("a.json", "r.json")) and "\n" not in str(exc)
        return
    text = yaml.safe_dump({"backup_nodes": [imported.node.model_dump(mode="json", exclude_defaults=True)]})
    merge(Snapshot(), parse_merge(text, "m.yaml"), "m.yaml")


def test_import_esxcli_takes_the_merge_file(tmp_path, capsys):
    """The file is what `import esxcli --merge` (and `discover --merge`, same reader) accepts."""
    import esxcli_render

    side = tmp_path / "backup-side.yaml"
    assert run("import", "node", "--name", "win01", "--product", "veeam-proxy", str(DATA / "win-addr.json"),
               str(DATA / "win-route.json"), "-o", str(side), capsys=capsys)[0] == 0
    lab = labs.load("veeam-tag-routed")
    args = ["import", "esxcli"]
    for i, h in enumerate(lab.hosts):
        args += [str(esxcli_render.write_host(h, tmp_path / f"h{i}"))]
    for h in lab.hosts:
        args += ["--host", h.name]
    rc, stdout, err = run(*args, "--merge", str(side), "-o", str(tmp_path / "estate.yaml"), "--format", "json",
                          capsys=capsys)
    assert rc == 0, err
    assert json.loads(stdout)["backup_nodes"] == 1
    from nbdpath.model import load_file

    snap = load_file(tmp_path / "estate.yaml")
    assert snap.backup_nodes[0].interfaces[1].address == "10.30.0.60/24"
    # the node's leg on the hosts' backup subnet: the endpoint's vmk2 is reached over it
    path = Engine(snap).trace_pair(lab.hosts[0].name, "win01")
    assert path.outcome.node_interface == "Backup 10G"


def _build(addr: list, route: list) -> src.Imported:
    files = [src.load(json.dumps(addr).encode(), "a.json", src.ADDR_KINDS),
             src.load(json.dumps(route).encode(), "r.json", src.ROUTE_KINDS)]
    return src.build("p1", "generic-vadp", files)


def test_one_address_on_two_links_is_kept_once():
    twice = LINUX_ADDR + [dict(LINUX_ADDR[0], ifindex=3, ifname="eth9")]
    imp = _build(twice, [])
    assert [(i.name, i.address) for i in imp.node.interfaces] == [("eth0", "10.40.0.50/24")]
    assert any("10.40.0.50 is already on eth0" in n for n in imp.notes)


def test_multipath_keeps_the_first_next_hop_and_says_so():
    route = [{"dst": "10.50.0.0/16", "nexthops": [{"gateway": "10.40.0.2", "dev": "eth0", "weight": 1},
                                                  {"gateway": "10.40.0.3", "dev": "eth0", "weight": 1}]},
             {"dst": "default", "gateway": "10.40.0.1", "dev": "eth0", "flags": ["linkdown"]},
             {"dst": "10.40.0.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link"},
             {"type": "local", "dst": "10.40.0.50", "dev": "eth0", "table": "local"}]
    imp = _build(LINUX_ADDR, route)
    assert [(r.network, r.gateway) for r in imp.node.routes] == [("10.50.0.0/16", "10.40.0.2")]
    assert imp.node.gateway is None  # the only default's link is down
    assert any("multipath over 2 next hops" in n for n in imp.notes)
    assert any("skipped route 0.0.0.0/0 via 10.40.0.1: its link is down" in n for n in imp.notes)
