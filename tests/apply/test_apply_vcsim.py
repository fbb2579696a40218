"""nbdpath apply against vCenter's simulator: the whole workflow, through the CLI.

discover (+ the hand-written nodes) -> plan -> apply (dry run / --execute)
-> discover again -> trace. Every live state is compared by discovering it.
"""

from __future__ import annotations

import io
import json

import pytest

from nbdpath import engine, labs
from nbdpath.apply import live as live_mod
from nbdpath.cli import main
from nbdpath.engine.types import Verdict
from nbdpath.model import Snapshot
from nbdpath.plan import plan as plan_mod
from nbdpath.sources import extra as merge_mod
from nbdpath.sources import vcenter

pytestmark = pytest.mark.vcsim


class Estate:
    """One simulator loaded with a lab, and the admin's files beside it."""

    def __init__(self, lab, sim, tmp_path):
        self.lab, self.sim, self.dir = lab, sim, tmp_path
        self.pw = tmp_path / "pw"
        self.pw.write_text(self.sim.password + "\n")

    @classmethod
    def start(cls, name, run_vcsim, tmp_path):
        lab = labs.load(name)
        return cls(lab, run_vcsim(lab), tmp_path)

    def discover(self) -> Snapshot:
        found = vcenter.discover([self.sim.server], vcenter.Credentials(self.sim.user, self.sim.password),
                                 vcenter.ConnectOptions(ca_file=str(self.sim.cert)))
        return found.snapshot

    def merged(self, discovered: Snapshot) -> Snapshot:
        """Discovered hosts + the lab's nodes, routers, segments and DNS (what --merge adds)."""
        lab = self.lab
        extra = Snapshot(segments=lab.segments, routers=lab.routers, backup_nodes=lab.backup_nodes, dns=lab.dns)
        return merge_mod.merge(discovered, extra, "lab")

    def write_plan(self, data: dict, name: str = "plan.json") -> str:
        path = self.dir / name
        path.write_text(json.dumps(data, indent=2))
        return str(path)

    def apply(self, capsys, *args: str) -> tuple[int, str, str]:
        argv = ["apply", *args, "--server", self.sim.server, "--user", self.sim.user,
                "--password-file", str(self.pw), "--ca-file", str(self.sim.cert)]
        rc = main(argv)
        out, err = capsys.readouterr()
        return rc, out, err


@pytest.fixture
def routed(run_vcsim, tmp_path):
    return Estate.start("veeam-tag-routed", run_vcsim, tmp_path)


def verdicts(snap: Snapshot) -> dict[str, Verdict]:
    return {p.host: p.outcome.verdict for p in engine.trace(snap)}


def test_plan_apply_discover_trace_isolates_esx01(routed, capsys):
    before = routed.discover()
    assert verdicts(routed.merged(before))["esx01.lab.local"] is Verdict.NOT_ISOLATED
    plan = plan_mod.build(routed.merged(before))
    path = routed.write_plan(plan.to_dict())
    journal = routed.dir / "journal.json"
    rc, out, err = routed.apply(capsys, path, "--execute", "--yes", "--journal", str(journal), "--format", "json")
    assert rc == 0, err
    result = json.loads(out)
    assert (result["kind"], result["state"]) == ("apply", "completed")
    assert [s["result"] for s in result["steps"]] == ["applied"]
    after = routed.merged(routed.discover())
    assert verdicts(after)["esx01.lab.local"] is Verdict.ISOLATED
    # What the plan predicted is what the live estate now does, pair by pair.
    assert engine.trace(after) == engine.trace(plan.after.model_copy(update={"name": after.name}))
    assert json.loads(journal.read_text())["state"] == "completed"


def test_dry_run_changes_nothing_and_shows_status_and_rollback(routed, capsys):
    before = routed.discover()
    path = routed.write_plan(plan_mod.build(routed.merged(before)).to_dict())
    rc, out, _ = routed.apply(capsys, path, "--format", "json")
    assert rc == 0
    dry = json.loads(out)
    assert dry["kind"] == "apply-dry-run"
    assert [(s["status"], s["rollback"]) for s in dry["steps"]] == [
        ("pending", ["remove route 10.40.0.0/24 via 10.30.0.1 (defaultTcpipStack) on esx01.lab.local"])]
    rc, text, _ = routed.apply(capsys, path)
    assert "[PENDING] add route 10.40.0.0/24 via 10.30.0.1" in text and "nothing is changed" in text
    assert routed.discover() == before
    assert list(routed.dir.glob("nbdpath-journal-*")) == []


def test_execute_without_terminal_or_yes_is_refused(routed, capsys, monkeypatch):
    before = routed.discover()
    path = routed.write_plan(plan_mod.build(routed.merged(before)).to_dict())
    monkeypatch.chdir(routed.dir)
    rc, _, err = routed.apply(capsys, path, "--execute")
    assert rc == 2 and "--yes" in err
    assert routed.discover() == before
    assert list(routed.dir.glob("nbdpath-journal-*")) == []


def test_second_run_is_idempotent(routed, capsys):
    path = routed.write_plan(plan_mod.build(routed.merged(routed.discover())).to_dict())
    assert routed.apply(capsys, path, "--execute", "--yes", "--journal", str(routed.dir / "j1.json"))[0] == 0
    once = routed.discover()
    rc, out, _ = routed.apply(capsys, path, "--execute", "--yes", "--journal", str(routed.dir / "j2.json"),
                              "--format", "json")
    assert rc == 0
    result = json.loads(out)
    assert [s["result"] for s in result["steps"]] == ["skipped"]
    assert "already done" in result["message"]
    assert routed.discover() == once
    assert not (routed.dir / "j2.json").exists()


def two_step_plan(estate: Estate, second: dict) -> str:
    data = plan_mod.build(estate.merged(estate.discover())).to_dict()
    data["steps"].append({"host": second["host"], "op": second, "rollback_ops": []})
    return estate.write_plan(data)


def test_step_on_a_vmk_missing_live_is_refused_before_anything_changes(routed, capsys):
    before = routed.discover()
    path = two_step_plan(routed, {"op": "tag-add", "host": "esx02.lab.local", "vmk": "vmk7", "tag": "vSphereBackupNFC"})
    rc, out, _ = routed.apply(capsys, path)
    assert rc == 1 and "[BLOCKED] tag vmk7" in out and "vmk7 not found on esx02.lab.local" in out
    rc, _, err = routed.apply(capsys, path, "--execute", "--yes", "--journal", str(routed.dir / "j.json"))
    assert rc == 2 and "refused: nothing changed; step 2 is blocked" in err
    assert routed.discover() == before
    assert not (routed.dir / "j.json").exists()


def test_host_vanishing_mid_plan_rolls_back_to_exactly_before(routed, capsys, monkeypatch):
    before = routed.discover()
    path = two_step_plan(routed, {"op": "tag-remove", "host": "esx02.lab.local", "vmk": "vmk2",
                                  "tag": "vSphereBackupNFC"})
    real = live_mod.VcenterLive.perform
    made = []

    def perform_then_lose_esx02(self, change):
        real(self, change)
        made.append(change)
        if len(made) == 1:  # step 1 is on esx01; then esx02 drops out of the inventory
            assert routed.sim.command("remove esx02.lab.local") == "ok"

    monkeypatch.setattr(live_mod.VcenterLive, "perform", perform_then_lose_esx02)
    journal = routed.dir / "j.json"
    rc, out, err = routed.apply(capsys, path, "--execute", "--yes", "--journal", str(journal), "--format", "json")
    assert rc == 3  # apply failed (and rolled back): not bad input
    result = json.loads(out)
    assert result["state"] == "rolled-back"
    assert [s["result"] for s in result["steps"]] == ["rolled back", "failed"]
    assert "esx02.lab.local not found live" in result["message"]
    assert "rolling back" in err
    now = routed.discover()
    assert now.hosts == tuple(h for h in before.hosts if h.name != "esx02.lab.local")
    assert json.loads(journal.read_text())["state"] == "rolled-back"


def test_rollback_journal_restores_the_state_before_apply(routed, capsys):
    before = routed.discover()
    data = plan_mod.build(routed.merged(before)).to_dict()
    data["steps"].append({"host": "esx02.lab.local", "rollback_ops": [],
                          "op": {"op": "tag-add", "host": "esx02.lab.local", "vmk": "vmk0", "tag": "vmotion"}})
    path = routed.write_plan(data)
    journal = routed.dir / "j.json"
    assert routed.apply(capsys, path, "--execute", "--yes", "--journal", str(journal))[0] == 0
    assert routed.discover() != before
    rc, out, _ = routed.apply(capsys, "--rollback", str(journal))
    assert rc == 0 and "nothing is changed" in out
    assert routed.discover() != before  # the dry run of a rollback undoes nothing either
    rc, out, err = routed.apply(capsys, "--rollback", str(journal), "--execute", "--yes", "--format", "json")
    assert rc == 0, err
    assert json.loads(out)["state"] == "rolled-back"
    assert routed.discover() == before
    # A second rollback finds nothing left to undo.
    rc, out, _ = routed.apply(capsys, "--rollback", str(journal), "--execute", "--yes", "--format", "json")
    assert rc == 0 and json.loads(out)["state"] == "nothing to undo"
    assert routed.discover() == before


def test_rollback_refuses_a_journal_of_another_server(routed, capsys):
    from nbdpath.apply import Journal, JournalFile

    journal = routed.dir / "j.json"
    sealed = JournalFile(str(journal), Journal("plan.json", "0" * 64, "vc99", "t", state="completed"))
    sealed.save(sealed.journal)
    rc, _, err = routed.apply(capsys, "--rollback", str(journal))
    assert rc == 2 and "records a run on vc99" in err


@pytest.mark.parametrize("reseal", [False, True], ids=["edited", "edited-and-resealed"])
def test_rollback_of_a_hostile_journal_changes_nothing_live(routed, capsys, reseal):
    """The issue's example: a journal whose undo takes esx02's vmk0 off management. Refused, nothing changes."""
    from nbdpath.apply import seal

    path = routed.write_plan(plan_mod.build(routed.merged(routed.discover())).to_dict())
    journal = routed.dir / "j.json"
    assert routed.apply(capsys, path, "--execute", "--yes", "--journal", str(journal))[0] == 0
    applied = routed.discover()
    data = json.loads(journal.read_text())
    data["steps"][0]["inverse"] = [{"op": "tag-remove", "host": "esx02.lab.local", "vmk": "vmk0", "tag": "management"}]
    if reseal:  # as if nbdpath itself had written it, or someone holding this user's key
        data = seal.seal({k: v for k, v in data.items() if k != "seal"}, seal.load_key())
    journal.write_text(json.dumps(data))
    before = journal.read_bytes()
    for extra in ([], ["--execute", "--yes"]):
        rc, _, err = routed.apply(capsys, "--rollback", str(journal), *extra)
        assert rc == 2
        assert err.strip().splitlines() == [err.strip()] and f"{journal}: steps[0].inverse: step 1's own undo" in err
    assert routed.discover() == applied  # esx02's vmk0 keeps management, and the applied route stays
    assert journal.read_bytes() == before


def test_firewall_trick_plan_tags_the_backup_vmk(run_vcsim, tmp_path, capsys):
    estate = Estate.start("trick-through-firewall", run_vcsim, tmp_path)
    before = estate.merged(estate.discover())
    plan = plan_mod.build(before)
    assert [s.change.to_dict()["op"] for s in plan.steps] == ["tag-add"]
    rc, _, err = estate.apply(capsys, estate.write_plan(plan.to_dict()), "--execute", "--yes",
                              "--journal", str(tmp_path / "j.json"))
    assert rc == 0, err
    after = estate.merged(estate.discover())
    step = plan.steps[0].change
    vmk = next(v for h in after.hosts if h.name == step.host for v in h.vmks if v.device == step.vmk)
    assert "vSphereBackupNFC" in vmk.services
    assert engine.trace(after) == engine.trace(plan.after.model_copy(update={"name": after.name}))
    assert {p.outcome.verdict for p in engine.trace(after)} != {p.outcome.verdict for p in engine.trace(before)}


def test_credentials_stay_out_of_output_and_journal(routed, capsys):
    path = routed.write_plan(plan_mod.build(routed.merged(routed.discover())).to_dict())
    journal = routed.dir / "j.json"
    rc, out, err = routed.apply(capsys, path, "--execute", "--yes", "--journal", str(journal))
    assert rc == 0
    for text in (out, err, journal.read_text()):
        assert routed.sim.password not in text


def test_untrusted_certificate_is_refused_and_insecure_warns(routed, capsys, tmp_path):
    path = routed.write_plan(plan_mod.build(routed.merged(routed.discover())).to_dict())
    base = ["apply", path, "--server", routed.sim.server, "--user", routed.sim.user, "--password-file", str(routed.pw)]
    assert main(base) == 2
    assert "TLS certificate not accepted" in capsys.readouterr().err
    assert main(base + ["--insecure"]) == 0
    assert "--insecure: TLS certificates are NOT verified" in capsys.readouterr().err


def test_routes_on_another_netstack_go_through_update_network_config(run_vcsim, tmp_path, capsys):
    estate = Estate.start("tag-wrong-stack", run_vcsim, tmp_path)
    before = estate.discover()
    data = plan_mod.build(estate.merged(before)).to_dict()
    # NBD001's fix here is the untag only: with vmk1 free a recreated vmk2 would come back as vmk1.
    assert [s["op"]["op"] for s in data["steps"]] == ["tag-remove"]
    route = {"op": "route-add", "host": "esx01.lab.local", "network": "10.40.0.0/24", "gateway": "10.30.0.1",
             "netstack": "backupStack"}
    data["steps"].append({"host": "esx01.lab.local", "op": route, "rollback_ops": []})
    journal = tmp_path / "j.json"
    rc, _, err = estate.apply(capsys, estate.write_plan(data), "--execute", "--yes", "--journal", str(journal))
    assert rc == 0, err
    (host,) = [h for h in estate.discover().hosts if h.name == "esx01.lab.local"]
    stacks = {s.key: s for s in host.netstacks}
    assert [(r.network, r.gateway) for r in stacks["backupStack"].routes] == [("10.40.0.0/24", "10.30.0.1")]
    assert stacks["defaultTcpipStack"].routes == ()
    assert next(v for v in host.vmks if v.device == "vmk2").services == ()
    rc, _, err = estate.apply(capsys, "--rollback", str(journal), "--execute", "--yes")
    assert rc == 0, err
    assert estate.discover() == before


def test_host_scoped_read_matches_the_bulk_read(routed):
    live = live_mod.VcenterLive.open(routed.sim.server, vcenter.Credentials(routed.sim.user, routed.sim.password),
                                     vcenter.ConnectOptions(ca_file=str(routed.sim.cert)))
    try:
        full = live.read()
        one = live.read(["esx02.lab.local"])
        assert one.hosts == tuple(h for h in full.hosts if h.name == "esx02.lab.local")
        assert routed.sim.command("remove esx02.lab.local") == "ok"
        gone = live.read(["esx02.lab.local"])
        assert gone.hosts == () and gone.missing == {"esx02.lab.local": "vanished from the inventory"}
    finally:
        live.close()


class Terminal(io.StringIO):
    """Standard input that says it is a terminal, with the admin's answer typed in."""

    def isatty(self) -> bool:
        return True


def test_execute_asks_on_a_terminal_and_no_means_nothing_changes(routed, capsys, monkeypatch):
    before = routed.discover()
    path = routed.write_plan(plan_mod.build(routed.merged(before)).to_dict())
    journal = routed.dir / "j.json"
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    rc, _, err = routed.apply(capsys, path, "--execute", "--journal", str(journal))
    assert rc == 130 and "Apply 1 change(s) on 1 host(s)" in err and "aborted" in err
    assert routed.discover() == before and not journal.exists()
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    rc, _, err = routed.apply(capsys, path, "--execute", "--journal", str(journal))
    assert rc == 0, err
    assert routed.discover() != before and journal.exists()


def test_apply_directly_on_an_esxi_host(run_vcsim, tmp_path, capsys):
    lab = labs.load("veeam-tag-routed")
    estate = Estate(lab, run_vcsim(Snapshot(hosts=lab.hosts[:1]), esx=True), tmp_path)
    plan = plan_mod.build(lab, hosts=["esx01.lab.local"])
    rc, _, err = estate.apply(capsys, estate.write_plan(plan.to_dict()), "--execute", "--yes",
                              "--journal", str(tmp_path / "j.json"))
    assert rc == 0, err
    (host,) = estate.discover().hosts
    assert [(r.network, r.gateway) for r in host.netstacks[0].routes] == [("10.40.0.0/24", "10.30.0.1")]


def test_a_host_refusing_a_step_mid_plan_rolls_back_to_exactly_before(routed, capsys):
    """The simulator, like an older host, knows no vsanExternal NicType: step 2 faults on the server."""
    before = routed.discover()
    path = two_step_plan(routed, {"op": "tag-add", "host": "esx02.lab.local", "vmk": "vmk2", "tag": "vsanExternal"})
    rc, out, _ = routed.apply(capsys, path)
    assert rc == 0 and "2 pending" in out  # nothing in the live state predicts the refusal
    journal = routed.dir / "j.json"
    rc, out, _ = routed.apply(capsys, path, "--execute", "--yes", "--journal", str(journal), "--format", "json")
    assert rc == 3  # apply failed (and rolled back): not bad input
    result = json.loads(out)
    assert [s["result"] for s in result["steps"]] == ["rolled back", "failed"]
    assert "InvalidArgument" in result["steps"][1]["note"]
    assert routed.discover() == before
    steps = json.loads(journal.read_text())["steps"]
    assert [s["status"] for s in steps] == ["rolled-back", "rolled-back"]


def _without_macs(snap: Snapshot) -> Snapshot:
    """A recreated vmk has a new MAC address (the host makes one): everything else must come back."""
    hosts = tuple(h.model_copy(update={"vmks": tuple(v.model_copy(update={"mac": None}) for v in h.vmks)})
                  for h in snap.hosts)
    return snap.model_copy(update={"hosts": hosts})


def test_nbd001_plan_recreates_the_vmk_on_the_default_stack_and_rolls_back(run_vcsim, tmp_path, capsys):
    """Issue 10: tag-remove, vmk-remove (recorded) and vmk-add for real (AddVirtualNic, SelectVnicForNicType)."""
    import yaml

    from nbdpath.model import parse

    # vmk1, not the lab's vmk2: with no lower number free the host gives the recreated vmk its name back.
    lab = parse(yaml.safe_dump(yaml.safe_load(labs.text("tag-wrong-stack").replace("device: vmk2", "device: vmk1"))), "lab")
    estate = Estate(lab, run_vcsim(lab), tmp_path)
    before = estate.discover()
    plan = plan_mod.build(estate.merged(before))
    assert [s.change.OP for s in plan.steps] == ["tag-remove", "vmk-remove", "vmk-add"]
    journal = tmp_path / "j.json"
    rc, _, err = estate.apply(capsys, estate.write_plan(plan.to_dict()), "--execute", "--yes", "--journal", str(journal))
    assert rc == 0, err
    after = estate.discover()
    (host,) = [h for h in after.hosts if h.name == "esx01.lab.local"]
    vmk1 = next(v for v in host.vmks if v.device == "vmk1")
    assert (vmk1.netstack, vmk1.ipv4, vmk1.services, vmk1.portgroup) == (
        "defaultTcpipStack", "10.30.0.11/24", ("vSphereBackupNFC",), "Backup")
    # What the plan predicted is what the live estate now does.
    merged = estate.merged(after)
    assert engine.trace(merged) == engine.trace(plan.after.model_copy(update={"name": merged.name}))
    rc, _, err = estate.apply(capsys, "--rollback", str(journal), "--execute", "--yes")
    assert rc == 0, err
    assert _without_macs(estate.discover()) == _without_macs(before)


def test_ipv4_and_mtu_set_for_real_and_rolled_back(routed, capsys):
    """Issue 10: ipv4-set and vmk-mtu-set through UpdateVirtualNic, then a vmk-add, undone from the journal."""
    before = routed.discover()
    ops = [{"op": "ipv4-set", "host": "esx01.lab.local", "vmk": "vmk2", "ipv4": "10.30.0.12/24", "previous": "10.30.0.11/24"},
           {"op": "vmk-mtu-set", "host": "esx01.lab.local", "vmk": "vmk2", "mtu": 1400, "previous": 1500},
           {"op": "vmk-add", "host": "esx01.lab.local", "vmk": "vmk1", "portgroup": "Backup", "ipv4": "10.30.0.21/24",
            "services": ["vmotion"]}]
    path = routed.write_plan({"version": 1, "kind": "plan", "steps": [{"op": op} for op in ops]})
    journal = routed.dir / "j.json"
    rc, out, err = routed.apply(capsys, path, "--execute", "--yes", "--journal", str(journal), "--format", "json")
    assert rc == 0, err
    assert [s["result"] for s in json.loads(out)["steps"]] == ["applied"] * 3
    (host,) = [h for h in routed.discover().hosts if h.name == "esx01.lab.local"]
    vmks = {v.device: v for v in host.vmks}
    assert (vmks["vmk2"].ipv4, vmks["vmk2"].mtu) == ("10.30.0.12/24", 1400)
    assert (vmks["vmk1"].ipv4, vmks["vmk1"].services, vmks["vmk1"].portgroup) == ("10.30.0.21/24", ("vmotion",), "Backup")
    rc, _, err = routed.apply(capsys, "--rollback", str(journal), "--execute", "--yes")
    assert rc == 0, err
    assert routed.discover() == before
