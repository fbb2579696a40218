"""`discover` reads VMs and datastores from vcsim in the same retrieval as hosts (issue 9)."""

from __future__ import annotations

import json
import re

import pytest

from nbdpath import labs
from nbdpath.cli import main
from nbdpath.model import Datastore, Snapshot, VirtualDisk, Vm, load_file
from nbdpath.sources import vcenter

pytestmark = pytest.mark.vcsim

LAB = "veeam-tag-routed"  # two hosts: esx01.lab.local, esx02.lab.local
H1, H2 = "esx01.lab.local", "esx02.lab.local"


def estate(vms=None, datastores=None) -> Snapshot:
    lab = labs.load(LAB)
    datastores = datastores if datastores is not None else (
        Datastore(name="san-01", hosts=(H2, H1)),
        Datastore(name="local-esx02", hosts=(H2,)),
        Datastore(name="gone", hosts=(H1,), accessible=False),
    )
    vms = vms if vms is not None else (
        Vm(name="web01", host=H1, folder="apps", disks=(
            VirtualDisk(label="Hard disk 1", capacity_gib=40, datastore="san-01"),
            VirtualDisk(label="Hard disk 2", capacity_gib=1.5, datastore="local-esx02"))),
        Vm(name="db01", host=H2, power_state="suspended", folder="db",
           disks=(VirtualDisk(label="Hard disk 1", capacity_gib=500.25, datastore="gone"),)),
        Vm(name="golden", host=H2, power_state="poweredOff", template=True,
           disks=(VirtualDisk(label="Hard disk 1", capacity_gib=16, datastore="san-01"),)),
        Vm(name="empty", host=H1, power_state="poweredOff"),
    )
    return Snapshot(hosts=lab.hosts, dvswitches=lab.dvswitches, vms=vms, datastores=datastores)


def found(sim, **opts):
    return vcenter.discover([sim.server], vcenter.Credentials(sim.user, sim.password),
                            vcenter.ConnectOptions(ca_file=str(sim.cert), page_size=2, **opts))


def test_vms_and_datastores_come_back_as_served(run_vcsim):
    want = estate()
    got = found(run_vcsim(want))
    assert got.missing == {}
    # Each VM and host carries vCenter's moref id (what Forklift's resources name them by).
    assert all(v.moref and v.moref.startswith("vm-") for v in got.snapshot.vms)
    assert all(h.moref and h.moref.startswith("host-") for h in got.snapshot.hosts)
    vms = sorted((v.model_copy(update={"moref": None}) for v in got.snapshot.vms), key=lambda v: v.name)
    assert vms == sorted(want.vms, key=lambda v: v.name)
    # Mount order is vCenter's (the VDDK guide's "first host with read/write access").
    assert sorted(got.snapshot.datastores, key=lambda d: d.name) == sorted(want.datastores, key=lambda d: d.name)


def test_read_only_and_unmounted_mounts_are_not_candidates(run_vcsim):
    sim = run_vcsim(estate(), mounts=(f"local-esx02@{H1}@readOnly", f"gone@{H2}@unmounted"))
    stores = {d.name: d.hosts for d in found(sim).snapshot.datastores}
    assert stores["local-esx02"] == (H2,) and stores["gone"] == (H1,)


def test_no_vms_reads_hosts_alone(run_vcsim):
    got = found(run_vcsim(estate()), vms=False)
    assert got.snapshot.vms == () and got.snapshot.datastores == ()
    assert {h.name for h in got.snapshot.hosts} == {H1, H2}


def _with_names(snap: Snapshot, names: list[tuple[str, str | None]]) -> str:
    """The snapshot's JSON with VM names (and folders) a Snapshot itself would refuse: repeats."""
    data = json.loads(snap.model_dump_json())
    for vm, (name, folder) in zip(data["vms"], names):
        vm["name"], vm["folder"] = name, folder
    return json.dumps(data)


def test_repeated_vm_names_get_their_folder_then_their_moref(run_vcsim):
    disk = (VirtualDisk(label="Hard disk 1", capacity_gib=8, datastore="san-01"),)
    base = estate(vms=tuple(Vm(name=f"v{i}", host=H1, disks=disk) for i in range(5)))
    served = _with_names(base, [("web", "apps"), ("web", "test"), ("app", "x"), ("app", "x"), ("solo", "x")])
    got = found(run_vcsim(served))
    names = sorted(v.name for v in got.snapshot.vms)
    assert names[2:] == ["solo", "web (apps)", "web (test)"]
    # Same name, same folder: the folder does not tell them apart, vcenter/moref id does.
    label = got.snapshot.vcenters[0].name
    assert all(n.startswith(f"app ({label}/vm-") and n.endswith(")") for n in names[:2]), names
    assert len(set(names)) == 5
    # Deterministic: the same inventory gives the same names.
    assert sorted(v.name for v in found(run_vcsim(served)).snapshot.vms)[2:] == names[2:]


def test_vms_of_a_host_not_read_are_left_out_and_counted(run_vcsim):
    sim = run_vcsim(estate(), disconnected=(H2,))
    got = found(sim)
    assert {v.name for v in got.snapshot.vms} == {"web01", "empty"}
    assert got.missing[f"vms:{H2}"] == "2 VM(s) registered on it left out: the host was not read"
    assert all(H2 not in d.hosts for d in got.snapshot.datastores)
    # web01's second disk is on local-esx02, which only the missing host mounts: still listed, no candidate.
    assert {d.name: d.hosts for d in got.snapshot.datastores}["local-esx02"] == ()


def test_two_vcenters_sharing_vm_and_datastore_names_are_told_apart(run_vcsim, tmp_path):
    lab = labs.load(LAB)
    one, two = lab.hosts
    parts = []
    for host in (one, two):
        parts.append(Snapshot(
            hosts=(host,), dvswitches=lab.dvswitches,
            datastores=(Datastore(name="datastore1", hosts=(host.name,)),),
            vms=(Vm(name="web01", host=host.name,
                    disks=(VirtualDisk(label="Hard disk 1", capacity_gib=10, datastore="datastore1"),)),)))
    sims = [run_vcsim(p) for p in parts]
    ca = tmp_path / "ca.pem"
    ca.write_text("".join(s.cert.read_text() for s in sims))
    got = vcenter.discover([s.server for s in sims], vcenter.Credentials(sims[0].user, sims[0].password),
                           vcenter.ConnectOptions(ca_file=str(ca)))
    labels = [v.name for v in got.snapshot.vcenters]
    by_host = {v.host: v for v in got.snapshot.vms}
    for host, label in zip((one, two), labels):
        vm = by_host[host.name]
        assert vm.name == f"web01 ({label})"
        assert vm.disks[0].datastore == f"datastore1 ({label})"
    assert {d.name: d.hosts for d in got.snapshot.datastores} == {
        f"datastore1 ({labels[0]})": (one.name,), f"datastore1 ({labels[1]})": (two.name,)}


def test_cli_writes_vms_and_counts_them(run_vcsim, tmp_path, monkeypatch, capsys):
    sim = run_vcsim(estate())
    monkeypatch.setenv("NBDPATH_PASSWORD", sim.password)
    out = tmp_path / "estate.yaml"
    base = ["discover", "--server", sim.server, "--user", sim.user, "--ca-file", str(sim.cert), "--format", "json"]
    assert main([*base, "-o", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["vms"], summary["datastores"]) == (4, 3)
    snap = load_file(out)  # cross references checked on load
    assert {v.name for v in snap.vms} == {"web01", "db01", "golden", "empty"}
    assert main([*base, "-o", str(tmp_path / "hosts.yaml"), "--no-vms"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["hosts"], summary["vms"], summary["datastores"]) == (2, 0, 0)


def test_an_esxi_host_serves_its_own_vms(run_vcsim):
    host = labs.load(LAB).hosts[0]
    disk = (VirtualDisk(label="Hard disk 1", capacity_gib=4, datastore="datastore1"),)
    want = Snapshot(hosts=(host,), vms=(Vm(name="web01", host=host.name, disks=disk),),
                    datastores=(Datastore(name="datastore1", hosts=(host.name,)),))
    got = found(run_vcsim(want, esx=True))
    assert got.missing == {}
    # hostd's own VM folder is its datacenter's root: no folder.
    assert [v.model_copy(update={"moref": None}) for v in got.snapshot.vms] == list(want.vms)
    assert got.snapshot.datastores == want.datastores


def _as_served(got) -> list[Vm]:
    return sorted((v.model_copy(update={"moref": None}) for v in got.snapshot.vms), key=lambda v: v.name)


def _requests(monkeypatch) -> list[bytes]:
    """Every SOAP request discovery sends, in order (soapxml.post is where each one leaves)."""
    from nbdpath.sources import soapxml

    sent: list[bytes] = []
    real = soapxml.post

    def post(mo, body):
        sent.append(body)
        return real(mo, body)

    monkeypatch.setattr(soapxml, "post", post)
    return sent


def _keyed(sent: list[bytes]) -> list[tuple[list[bytes], list[bytes]]]:
    """(keys, VMs named) of each keyed retrieval sent; no VMs named: asked of every VM in the view."""
    out = []
    for r in sent:
        if b"<RetrievePropertiesEx " in r and b"config.hardware.device[" in r:
            keys = re.findall(rb"<pathSet>config\.hardware\.device\[(\d+)\]</pathSet>", r)
            out.append((sorted(keys), sorted(re.findall(rb'<obj type="VirtualMachine">([^<]+)</obj>', r))))
    return sorted(out)


def test_disks_are_read_by_key_not_with_every_device(run_vcsim, monkeypatch):
    want = estate()
    sent = _requests(monkeypatch)
    got = found(run_vcsim(want))
    assert got.missing == {}
    assert _as_served(got) == sorted(want.vms, key=lambda v: v.name)
    # The device list is never asked for whole: the disks' layoutEx keys, of every VM in one retrieval.
    assert not any(b"<pathSet>config.hardware.device</pathSet>" in r for r in sent)
    assert _keyed(sent) == [([b"2000", b"2001"], [])]


def test_many_disk_layouts_are_asked_of_their_own_vms(run_vcsim, monkeypatch):
    from nbdpath.sources import vsphere_pyvmomi

    monkeypatch.setattr(vsphere_pyvmomi, "MAX_SHARED_KEYS", 1)
    want = estate()
    sent = _requests(monkeypatch)
    got = found(run_vcsim(want))
    assert got.missing == {}
    assert _as_served(got) == sorted(want.vms, key=lambda v: v.name)
    name = {v.moref: v.name for v in got.snapshot.vms}
    asked = [(keys, sorted(name[m.decode()] for m in vms)) for keys, vms in _keyed(sent)]
    assert asked == [([b"2000"], ["db01", "golden"]), ([b"2000", b"2001"], ["web01"])]  # "empty": no disk, not asked


def test_a_vm_without_layout_has_its_whole_device_list_read(run_vcsim, monkeypatch):
    want = estate()
    sent = _requests(monkeypatch)
    got = found(run_vcsim(want, no_layout=("web01", "empty")))
    assert got.missing == {}
    assert _as_served(got) == sorted(want.vms, key=lambda v: v.name)
    whole = [r for r in sent if b"<pathSet>config.hardware.device</pathSet>" in r]
    assert len(whole) == 1  # web01 alone: "empty" has no layout and no disk (numVirtualDisks 0) either
    [vm] = re.findall(rb'<obj type="VirtualMachine">([^<]+)</obj>', whole[0])
    assert {v.moref: v.name for v in got.snapshot.vms}[vm.decode()] == "web01"


def test_vms_without_disks_need_no_second_retrieval(run_vcsim, monkeypatch):
    sent = _requests(monkeypatch)
    got = found(run_vcsim(estate(vms=(Vm(name="empty", host=H1, power_state="poweredOff"),))))
    assert got.missing == {} and [v.disks for v in got.snapshot.vms] == [()]
    assert sum(b"<RetrievePropertiesEx " in r for r in sent) == 1  # the bulk retrieval alone
