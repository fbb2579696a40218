"""discover through the vSphere client seam on the in-memory fake: the vcsim fault cases, without a simulator."""

from __future__ import annotations

import inspect
import json

import pytest

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.errors import DiscoveryError
from nbdpath.model import Snapshot, load_file
from nbdpath.sources import vcenter, vsphere
from nbdpath.sources.vsphere_fake import FakeVsphere, FakeSession

LAB = labs.load("veeam-tag-routed")  # esx01, esx02
MIXED = labs.load("mixed-estate")
CREDS = vcenter.Credentials("admin", "secret")


def discover(fake, servers=("vc01",), progress=None, **opts):
    return vcenter.discover(list(servers), CREDS, vcenter.ConnectOptions(**opts), progress=progress, client=fake)


@pytest.fixture
def cli_fake(monkeypatch):
    """`nbdpath discover` with the fake as its client."""
    fake = FakeVsphere({"vc01": LAB})
    monkeypatch.setattr(vcenter, "default_client", lambda: fake)
    monkeypatch.setenv("NBDPATH_PASSWORD", "secret")
    return fake


def run(*args):
    return main(["discover", "--user", "admin", *args])


def test_the_fake_and_the_pyvmomi_client_have_the_protocols_methods():
    pytest.importorskip("pyVmomi")
    from nbdpath.sources.vsphere_pyvmomi import PyVmomiClient, PyVmomiSession

    for protocol, classes in ((vsphere.VsphereClient, (FakeVsphere, PyVmomiClient)),
                              (vsphere.VsphereSession, (FakeSession, PyVmomiSession))):
        wanted = {n: inspect.signature(f).parameters.keys() for n, f in vars(protocol).items()
                  if callable(f) and not n.startswith("_")}
        assert wanted
        for cls in classes:
            for name, params in wanted.items():
                assert list(inspect.signature(getattr(cls, name)).parameters) == list(params), (cls, name)


def test_a_complete_discovery_returns_the_estate():
    found = discover(FakeVsphere({"vc01": LAB}))
    assert not found.partial
    assert found.snapshot.hosts == LAB.hosts and [v.name for v in found.snapshot.vcenters] == ["vc01"]


def test_a_host_listed_but_unreadable_gives_a_partial_snapshot_that_says_so(cli_fake, tmp_path, capsys):
    cli_fake.unreadable["esx02.lab.local"] = "connection state is disconnected"
    out = tmp_path / "estate.yaml"
    rc = run("--server", "vc01", "-o", str(out))
    err = capsys.readouterr().err
    assert rc == 1
    assert "esx02.lab.local: connection state is disconnected" in err
    snap = load_file(out)
    assert [h.name for h in snap.hosts] == ["esx01.lab.local"]
    assert snap.missing == {"esx02.lab.local": "connection state is disconnected"}
    assert snap.description.startswith("PARTIAL")


def test_one_of_two_vcenters_down_gives_partial(cli_fake, tmp_path, capsys):
    cli_fake.estates = {"vc01": Snapshot(hosts=LAB.hosts[:1]), "vc02": Snapshot(hosts=LAB.hosts[1:])}
    cli_fake.down["vc02"] = "connection refused (is it a vCenter/ESXi address, right port?)"
    out = tmp_path / "estate.yaml"
    rc = run("--server", "vc01", "--server", "vc02", "-o", str(out), "--format", "json")
    assert rc == 1
    assert json.loads(capsys.readouterr().out)["partial"] is True
    snap = load_file(out)
    assert [h.name for h in snap.hosts] == ["esx01.lab.local"]
    assert "connection refused" in snap.missing["vcenter:vc02"]


def test_no_vcenter_readable_exits_2_without_a_file(cli_fake, tmp_path, capsys):
    cli_fake.down["vc01"] = "the user name or password was refused"
    out = tmp_path / "estate.yaml"
    assert run("--server", "vc01", "-o", str(out)) == 2
    assert capsys.readouterr().err == "nbdpath: error: vc01: the user name or password was refused\n"
    assert not out.exists()


def test_wrong_credentials_are_refused():
    with pytest.raises(DiscoveryError, match="vc01: the user name or password was refused"):
        discover(FakeVsphere({"vc01": LAB}, user="admin", password="other"))


def test_host_vanishing_mid_run_is_recorded():
    fake = FakeVsphere({"vc01": MIXED})
    last = MIXED.hosts[-1].name
    fake.after_page = lambda server, done: fake.remove_host(server, last) if done == 1 else None
    found = discover(fake, page_size=1)
    assert {h.name for h in found.snapshot.hosts} == {h.name for h in MIXED.hosts[:-1]}
    assert found.missing == {f"vc01/{last}": "vanished from the inventory during discovery"}
    assert found.snapshot.missing == found.missing


def test_server_stopped_mid_retrieval_exits_2_without_a_file(cli_fake, tmp_path, capsys):
    cli_fake.estates["vc01"] = MIXED
    cli_fake.after_page = lambda server, done: cli_fake.stop(server)
    out = tmp_path / "estate.yaml"
    rc = run("--server", "vc01", "--page-size", "1", "-o", str(out))
    err = capsys.readouterr().err
    assert rc == 2
    assert err == "nbdpath: error: vc01: retrieval stopped: the server closed the connection\n"
    assert not out.exists() and not list(tmp_path.glob(".estate*"))
    (session,) = cli_fake.sessions
    assert session.closed and not session.logged_out  # a logout would wait on the dead server


def test_paging_reports_progress_to_the_last_host():
    pages = []
    found = discover(FakeVsphere({"vc01": MIXED}), page_size=2,
                     progress=lambda vc, done, total: pages.append((vc, done, total)))
    assert len(pages) == (len(MIXED.hosts) + 1) // 2
    assert pages[-1] == ("vc01", len(MIXED.hosts), len(MIXED.hosts))
    assert found.snapshot.hosts == MIXED.hosts


def test_no_vms_leaves_vms_and_datastores_out():
    lab = next(s for s in map(labs.load, labs.names()) if s.vms)
    fake = FakeVsphere({"vc01": lab})
    assert discover(fake).snapshot.vms == lab.vms
    assert discover(fake, vms=False).snapshot.vms == ()
