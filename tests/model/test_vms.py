"""VMs, datastores and jobs (issue 9): references checked at load, with file, line and field."""

import pytest
import yaml

from nbdpath.errors import InputError
from nbdpath.model import dump, parse

DOC = {
    "hosts": [{"name": "esx01", "cluster": "A"}, {"name": "esx02", "cluster": "B"}],
    "backup_nodes": [{"name": "proxy1"}],
    "datastores": [{"name": "ds1", "hosts": ["esx01", "esx02"]}],
    "vms": [{"name": "vm1", "host": "esx01", "disks": [{"capacity_gib": 40, "datastore": "ds1"}]},
            {"name": "tpl", "host": "esx02", "template": True, "power_state": "poweredOff"}],
    "jobs": [{"name": "nightly", "nodes": ["proxy1"], "clusters": ["A"], "transport": "nbdssl",
              "mode": "incremental", "changed_fraction": 0.05,
              "transfer_addresses": {"esx01": "10.9.0.11"}}],
}


def _doc(**patch):
    data = yaml.safe_load(yaml.safe_dump(DOC))
    for path, value in patch.items():
        node = data
        *parents, last = path.split(".")
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = value
    return yaml.safe_dump(data, sort_keys=False)


def test_vms_datastores_jobs_load_and_round_trip():
    snap = parse(_doc(), "x.yaml")
    assert [v.name for v in snap.vms] == ["vm1", "tpl"]
    assert snap.vms[0].disks[0].capacity_gib == 40
    assert snap.jobs[0].transport == "nbdssl" and snap.jobs[0].concurrency.per_node == 4
    assert parse(dump(snap, "json"), "x.json") == snap


@pytest.mark.parametrize("path,value,where,expected", [
    ("vms.0.host", "esx99", "vms[0].host", "a host defined under hosts"),
    ("vms.0.disks.0.datastore", "nope", "vms[0].disks[0].datastore", "a datastore defined under datastores"),
    ("datastores.0.hosts.1", "esx99", "datastores[0].hosts[1]", "a host defined under hosts"),
    ("jobs.0.nodes.0", "ghost", "jobs[0].nodes[0]", "a backup node"),
    ("jobs.0.clusters.0", "Z", "jobs[0].clusters[0]", "a cluster some host belongs to"),
    ("jobs.0.transfer_addresses", {"esx01": "not-an-ip"}, "jobs[0].transfer_addresses", "IP address"),
    ("jobs.0.changed_fraction", 1.5, "jobs[0].changed_fraction", "1"),
    ("vms.1.name", "vm1", "vms[1].name", "a unique VM name"),
])
def test_bad_references_name_the_field(path, value, where, expected):
    with pytest.raises(InputError) as exc:
        parse(_doc(**{path: value}), "x.yaml")
    assert where in exc.value.location, exc.value
    assert expected in exc.value.expected, exc.value
    assert exc.value.line is not None
