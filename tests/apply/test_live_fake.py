"""apply through the vSphere client seam on the in-memory fake: the vcsim workflow and faults, in a fraction of a second."""

from __future__ import annotations

import json

import pytest

from nbdpath import engine, labs
from nbdpath.apply import live as live_mod
from nbdpath.cli import main
from nbdpath.commands.apply import EXIT_FAILED
from nbdpath.plan import plan as plan_mod
from nbdpath.sources import vcenter
from nbdpath.sources.vsphere_fake import FakeVsphere

LAB = labs.load("veeam-tag-routed")
E1, E2 = "esx01.lab.local", "esx02.lab.local"


class Estate:
    def __init__(self, tmp_path, monkeypatch):
        self.fake = FakeVsphere({"vc01": LAB}, user="admin", password="secret")
        self.dir = tmp_path
        monkeypatch.setattr(live_mod, "default_client", lambda: self.fake)
        monkeypatch.setenv("NBDPATH_PASSWORD", "secret")

    @property
    def state(self):
        return self.fake.estates["vc01"]

    def plan(self, *extra: dict) -> str:
        data = plan_mod.build(self.state).to_dict()
        for op in extra:
            data["steps"].append({"host": op["host"], "op": op, "rollback_ops": []})
        path = self.dir / "plan.json"
        path.write_text(json.dumps(data))
        return str(path)

    def after_each_change(self, monkeypatch, then):
        real = self.fake._perform

        def perform(*args):
            real(*args)
            then()

        monkeypatch.setattr(self.fake, "_perform", perform)

    def apply(self, capsys, *args):
        rc = main(["apply", *args, "--server", "vc01", "--user", "admin"])
        out, err = capsys.readouterr()
        return rc, out, err


@pytest.fixture
def estate(tmp_path, monkeypatch):
    return Estate(tmp_path, monkeypatch)


def test_plan_applied_leaves_the_estate_as_the_plan_predicted(estate, capsys):
    plan = plan_mod.build(LAB)
    rc, out, err = estate.apply(capsys, estate.plan(), "--execute", "--yes", "--journal", str(estate.dir / "j.json"),
                                "--format", "json")
    assert rc == 0, err
    assert [s["result"] for s in json.loads(out)["steps"]] == ["applied"]
    assert estate.fake.made == [(E1, "route", (True, "10.40.0.0/24", "10.30.0.1", "defaultTcpipStack"))]
    assert engine.trace(estate.state) == engine.trace(plan.after.model_copy(update={"name": estate.state.name}))
    assert estate.fake.sessions[-1].logged_out


def test_dry_run_changes_nothing(estate, capsys):
    rc, out, _ = estate.apply(capsys, estate.plan())
    assert rc == 0 and "[PENDING] add route 10.40.0.0/24 via 10.30.0.1" in out
    assert estate.state == LAB and estate.fake.made == []


def test_a_host_refusing_a_step_mid_plan_rolls_back_to_exactly_before(estate, capsys):
    estate.fake.refuse(E2, "select_vnic", "InvalidArgument", "A specified parameter was not correct: nicType")
    path = estate.plan({"op": "tag-add", "host": E2, "vmk": "vmk2", "tag": "vsanExternal"})
    journal = estate.dir / "j.json"
    rc, out, err = estate.apply(capsys, path, "--execute", "--yes", "--journal", str(journal), "--format", "json")
    assert rc == EXIT_FAILED
    result = json.loads(out)
    assert result["state"] == "rolled-back"
    assert [s["result"] for s in result["steps"]] == ["rolled back", "failed"]
    assert result["steps"][1]["note"] == (f"{E2}: tag vmk2 with vsanExternal on {E2} failed: "
                                          "InvalidArgument: A specified parameter was not correct: nicType")
    assert "rolling back" in err
    assert estate.state == LAB
    assert [s["status"] for s in json.loads(journal.read_text())["steps"]] == ["rolled-back", "rolled-back"]


def test_host_vanishing_mid_plan_rolls_back_to_exactly_before(estate, capsys, monkeypatch):
    path = estate.plan({"op": "tag-remove", "host": E2, "vmk": "vmk2", "tag": "vSphereBackupNFC"})
    # Step 1 is on esx01; then esx02 drops out of the inventory.
    estate.after_each_change(monkeypatch, lambda: estate.fake.remove_host("vc01", E2))
    rc, out, _ = estate.apply(capsys, path, "--execute", "--yes", "--journal", str(estate.dir / "j.json"),
                              "--format", "json")
    assert rc == EXIT_FAILED
    result = json.loads(out)
    assert result["state"] == "rolled-back"
    assert [s["result"] for s in result["steps"]] == ["rolled back", "failed"]
    assert f"{E2} not found live (vanished from the inventory)" in result["message"]
    assert estate.state.hosts == tuple(h for h in LAB.hosts if h.name != E2)


def test_a_server_that_stops_answering_mid_run_is_an_apply_failure_with_an_incomplete_rollback(estate, capsys,
                                                                                              monkeypatch):
    path = estate.plan()
    estate.after_each_change(monkeypatch, lambda: estate.fake.stop("vc01"))
    rc, out, _ = estate.apply(capsys, path, "--execute", "--yes", "--journal", str(estate.dir / "j.json"),
                              "--format", "json")
    assert rc == EXIT_FAILED
    result = json.loads(out)
    assert result["state"] == "rollback-incomplete"
    assert "vc01: reading the hosts failed: the server closed the connection" in result["message"]
    assert not estate.fake.sessions[-1].logged_out


def test_host_scoped_read_matches_the_bulk_read_and_notes_a_vanished_host(estate):
    live = live_mod.VcenterLive.open("vc01", vcenter.Credentials("admin", "secret"), vcenter.ConnectOptions())
    try:
        full = live.read()
        one = live.read([E2])
        assert one.hosts == tuple(h for h in full.hosts if h.name == E2)
        estate.fake.remove_host("vc01", E2)
        gone = live.read([E2])
        assert gone.hosts == () and gone.missing == {E2: "vanished from the inventory"}
    finally:
        live.close()


def test_a_change_on_a_host_the_server_does_not_know_is_refused(estate):
    from nbdpath.apply import LiveError
    from nbdpath.changes import TagAdd

    live = live_mod.VcenterLive.open("vc01", vcenter.Credentials("admin", "secret"), vcenter.ConnectOptions())
    with pytest.raises(LiveError, match="host esx09 is not in vc01's inventory"):
        live.perform(TagAdd("esx09", "vmk0"))


def test_hosts_that_cannot_be_read_are_an_apply_failure_in_one_line(estate, capsys):
    path = estate.plan()
    estate.fake.after_page = lambda server, done: estate.fake.stop(server)
    rc, out, err = estate.apply(capsys, path)
    assert rc == EXIT_FAILED and out == ""
    assert err == "nbdpath: error: vc01: reading the hosts failed: the server closed the connection\n"
