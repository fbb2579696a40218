"""`nbdpath discover` against vcsim: output, partial results and every fault the issue names."""

from __future__ import annotations

import json
import socket

import pytest

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.model import load_file
from nbdpath.sources import vcenter

pytestmark = pytest.mark.vcsim

LAB = "veeam-tag-routed"  # two hosts, tagged vmk2, a static route on one


@pytest.fixture
def sim(run_vcsim):
    return run_vcsim(labs.load(LAB))


def run(args, monkeypatch, password=None):
    if password is not None:
        monkeypatch.setenv("NBDPATH_PASSWORD", password)
    else:
        monkeypatch.delenv("NBDPATH_PASSWORD", raising=False)
    return main(["discover", *args])


def test_writes_a_complete_snapshot_and_json_summary(sim, tmp_path, monkeypatch, capsys):
    out = tmp_path / "estate.json"
    rc = run(["--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert), "-o", str(out),
              "--format", "json"], monkeypatch, sim.password)
    captured = capsys.readouterr()
    assert rc == 0
    summary = json.loads(captured.out)
    # The JSON summary is a versioned contract: these keys, this version.
    assert sorted(summary) == ["backup_nodes", "datastores", "dvswitches", "hosts", "kind", "missing", "output",
                               "partial", "sources", "version", "vms"]
    assert summary["version"] == 1 and summary["kind"] == "discover"
    assert summary["partial"] is False and summary["hosts"] == 2 and summary["missing"] == {}
    assert summary["output"] == str(out) and summary["sources"] == [sim.server.removeprefix("https://")]
    snap = load_file(out)
    assert {h.name for h in snap.hosts} == {"esx01.lab.local", "esx02.lab.local"}
    assert snap.missing == {}
    # The server's own about.version (govmomi 0.24's simulated vCenter says 6.5.0).
    assert [(v.name, v.version) for v in snap.vcenters] == [(sim.server.removeprefix("https://"), "6.5.0")]
    assert sim.password not in captured.out + captured.err


def test_password_file_is_read_and_never_echoed(sim, tmp_path, monkeypatch, capsys):
    pw = tmp_path / "pw"
    pw.write_text(sim.password + "\n")
    out = tmp_path / "estate.yaml"
    rc = run(["--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert), "--password-file", str(pw),
              "-o", str(out)], monkeypatch)
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert out.exists()
    assert sim.password not in captured.out + captured.err


def test_no_password_option_exists(sim, tmp_path, monkeypatch, capsys):
    rc = run(["--server", sim.server, "--user", sim.user, "--password", sim.password, "-o", str(tmp_path / "x")],
             monkeypatch)
    assert rc == 2
    assert "No such option" in capsys.readouterr().err


def test_without_any_password_source_off_a_terminal(sim, tmp_path, monkeypatch, capsys):
    out = tmp_path / "estate.yaml"
    rc = run(["--server", sim.server, "--user", sim.user, "-o", str(out)], monkeypatch)
    assert rc == 2
    assert "NBDPATH_PASSWORD" in capsys.readouterr().err
    assert not out.exists()


def test_wrong_credentials(sim, tmp_path, monkeypatch, capsys):
    out = tmp_path / "estate.yaml"
    rc = run(["--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert), "-o", str(out)],
             monkeypatch, "not-the-password")
    err = capsys.readouterr().err
    assert rc == 2
    assert "user name or password was refused" in err
    assert "not-the-password" not in err
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".estate*"))


def test_unreachable_vcenter(tmp_path, monkeypatch, capsys):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    out = tmp_path / "estate.yaml"
    rc = run(["--server", f"127.0.0.1:{port}", "--user", "u", "-o", str(out)], monkeypatch, "pw")
    err = capsys.readouterr().err
    assert rc == 2
    assert f"127.0.0.1:{port}: connection refused" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_untrusted_certificate_needs_ca_file_or_insecure(sim, tmp_path, monkeypatch, capsys):
    out = tmp_path / "estate.yaml"
    rc = run(["--server", sim.server, "--user", sim.user, "-o", str(out)], monkeypatch, sim.password)
    err = capsys.readouterr().err
    assert rc == 2
    assert "TLS certificate not accepted" in err and "--insecure" in err
    assert not out.exists()

    rc = run(["--server", sim.server, "--user", sim.user, "--insecure", "-o", str(out)], monkeypatch, sim.password)
    err = capsys.readouterr().err
    assert rc == 0
    assert "NOT verified" in err
    assert out.exists()


def test_certificate_name_mismatch(sim, tmp_path, monkeypatch, capsys):
    # The simulator's certificate names 127.0.0.1 only; "localhost" does not match it.
    port = sim.server.rsplit(":", 1)[1]
    out = tmp_path / "estate.yaml"
    rc = run(["--server", f"localhost:{port}", "--user", sim.user, "--ca-file", str(sim.cert), "-o", str(out)],
             monkeypatch, sim.password)
    err = capsys.readouterr().err
    assert rc == 2
    assert "TLS certificate not accepted" in err and "localhost" in err
    assert not out.exists()


def test_disconnected_host_gives_a_partial_snapshot_that_says_so(run_vcsim, tmp_path, monkeypatch, capsys):
    sim = run_vcsim(labs.load(LAB), disconnected=("esx02.lab.local",))
    out = tmp_path / "estate.yaml"
    rc = run(["--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert), "-o", str(out)],
             monkeypatch, sim.password)
    captured = capsys.readouterr()
    assert rc == 1
    assert "esx02.lab.local: connection state is disconnected" in captured.err
    snap = load_file(out)
    assert [h.name for h in snap.hosts] == ["esx01.lab.local"]
    assert "disconnected" in snap.missing["esx02.lab.local"]
    assert snap.description.startswith("PARTIAL")


def test_host_vanishing_mid_run_is_recorded(run_vcsim, tmp_path, monkeypatch):
    from nbdpath.sources import soapxml

    lab = labs.load("mixed-estate")
    sim = run_vcsim(lab)
    removed = []
    real_fetch = soapxml.fetch

    def fetch_then_remove(mo, method, *args):
        data = real_fetch(mo, method, *args)
        if not removed:
            # Once the first page is in, before the next is asked for (the reader asks for it
            # while it parses this one, so a removal from the progress callback could come late),
            # the last host disappears from the inventory.
            removed.append(sim.command(f"remove {lab.hosts[-1].name}"))
        return data

    monkeypatch.setattr(soapxml, "fetch", fetch_then_remove)
    found = vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                             vcenter.ConnectOptions(ca_file=str(sim.cert), page_size=1))
    assert removed == ["ok"]
    names = {h.name for h in found.snapshot.hosts}
    assert lab.hosts[-1].name not in names
    assert names == {h.name for h in lab.hosts[:-1]}
    assert [reason for reason in found.missing.values()] == ["vanished from the inventory during discovery"]
    assert found.snapshot.missing == found.missing


def test_server_stopped_mid_retrieval_exits_2_without_a_file(sim, tmp_path, monkeypatch, capsys):
    from nbdpath.sources import vsphere_pyvmomi

    real_retrieve = vsphere_pyvmomi.retrieve

    def retrieve(si, label, page_size, on_page, **kw):
        def stop_after_first_page(done, total):
            sim.stop()
        return real_retrieve(si, label, 1, stop_after_first_page, **kw)

    monkeypatch.setattr(vsphere_pyvmomi, "retrieve", retrieve)
    out = tmp_path / "estate.yaml"
    rc = run(["--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert), "-o", str(out)],
             monkeypatch, sim.password)
    err = capsys.readouterr().err
    assert rc == 2
    assert "retrieval stopped" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".estate*"))


def test_one_of_two_vcenters_stopped_gives_partial(run_vcsim, tmp_path, monkeypatch, capsys):
    lab = labs.load(LAB)
    from nbdpath.model import Snapshot

    first = run_vcsim(Snapshot(hosts=lab.hosts[:1]))
    second = run_vcsim(Snapshot(hosts=lab.hosts[1:]))
    ca = tmp_path / "ca.pem"
    ca.write_text(first.cert.read_text() + second.cert.read_text())
    second.stop()
    out = tmp_path / "estate.yaml"
    rc = run(["--server", first.server, "--server", second.server, "--user", first.user, "--ca-file", str(ca),
              "-o", str(out)], monkeypatch, first.password)
    assert rc == 1
    snap = load_file(out)
    assert [h.name for h in snap.hosts] == ["esx01.lab.local"]
    assert "connection refused" in snap.missing[f"vcenter:{second.server.removeprefix('https://')}"]


def test_paging_reads_everything_in_several_pages(run_vcsim):
    lab = labs.load("mixed-estate")
    sim = run_vcsim(lab, max_page=4)
    pages = []
    found = vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                             vcenter.ConnectOptions(ca_file=str(sim.cert), page_size=1000),
                             progress=lambda vc, done, total: pages.append((done, total)))
    # The server caps pages at 4 objects, so the retrieval must continue.
    assert len(pages) > 3
    assert pages[-1] == (len(lab.hosts), len(lab.hosts))
    assert {h.name for h in found.snapshot.hosts} == {h.name for h in lab.hosts}


def test_merge_file_errors_are_reported_before_connecting(tmp_path, monkeypatch, capsys):
    merge = tmp_path / "extra.yaml"
    merge.write_text("backup_nodes:\n  - name: p1\n    interfaces:\n      - {name: eth0, address: 10.0.0.5}\n")
    rc = run(["--server", "127.0.0.1:1", "--user", "u", "--merge", str(merge), "-o", str(tmp_path / "o.yaml")],
             monkeypatch, "pw")
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{merge}:4" in err and "prefix length" in err


def test_missing_output_directory_is_reported_before_connecting(tmp_path, monkeypatch, capsys):
    rc = run(["--server", "127.0.0.1:1", "--user", "u", "-o", str(tmp_path / "nope" / "estate.yaml")],
             monkeypatch, "pw")
    err = capsys.readouterr().err
    assert rc == 2 and "does not exist" in err and "connection refused" not in err


def test_table_summary_lists_what_is_missing(run_vcsim, tmp_path, monkeypatch, capsys):
    sim = run_vcsim(labs.load(LAB), disconnected=("esx01.lab.local",))
    rc = run(["--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert), "-o", str(tmp_path / "e.yaml")],
             monkeypatch, sim.password)
    out = capsys.readouterr().out
    assert rc == 1
    assert "1 host(s)" in out and "(PARTIAL)" in out
    assert "missing  esx01.lab.local: connection state is disconnected" in out
