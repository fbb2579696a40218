"""The hand-written merge file and the --node / --dns flags."""

from __future__ import annotations

import pytest

from nbdpath import labs
from nbdpath.errors import InputError
from nbdpath.model import Snapshot
from nbdpath.sources.extra import merge, parse_dns_flag, parse_merge, parse_node_flag, parse_node_flags

EXAMPLE = """\
# What vCenter does not know (docs/discover.md).
segments:
  - {name: mgmt, vlan: 10, subnets: [10.10.0.0/24]}
  - {name: backup, vlan: 30, subnets: [10.30.0.0/24]}
  - {name: proxies, vlan: 40, subnets: [10.40.0.0/24]}
routers:
  - name: core
    capacity_mbps: 40000
    interfaces:
      - {name: vlan10, address: 10.10.0.1/24}
      - {name: vlan30, address: 10.30.0.1/24}
      - {name: vlan40, address: 10.40.0.1/24}
backup_nodes:
  - name: vbr-proxy02
    product: veeam-proxy
    gateway: 10.40.0.1
    interfaces:
      - {name: eth0, address: 10.40.0.50/24, speed_mbps: 10000}
dns:
  esx01.lab.local: 10.10.0.11
  esx02.lab.local: 10.10.0.12
"""


def discovered() -> Snapshot:
    lab = labs.load("veeam-tag-routed")
    return Snapshot(name="discovered", hosts=lab.hosts)


def test_documented_example_merges_into_the_lab():
    lab = labs.load("veeam-tag-routed")
    merged = merge(discovered(), parse_merge(EXAMPLE, "extra.yaml"), "extra.yaml")
    assert merged.backup_nodes == lab.backup_nodes
    assert merged.routers == lab.routers and merged.segments == lab.segments and merged.dns == lab.dns
    assert merged.hosts == lab.hosts


def test_docs_carry_the_same_example():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "discover.md"
    assert EXAMPLE in docs.read_text()


def test_merge_file_may_not_describe_hosts():
    with pytest.raises(InputError) as e:
        parse_merge("backup_nodes: []\nhosts: []\n", "extra.yaml")
    assert (e.value.file, e.value.line, e.value.location) == ("extra.yaml", 2, "hosts")


def test_merge_file_field_errors_have_lines():
    with pytest.raises(InputError) as e:
        parse_merge("backup_nodes:\n  - name: p\n    gateway: 10.40.0.300\n", "extra.yaml")
    assert e.value.line == 3 and "gateway" in e.value.location


def test_conflict_with_discovered_hosts_names_the_merge_file():
    text = "backup_nodes:\n  - name: p\n    interfaces:\n      - {name: eth0, address: 10.10.0.11/24}\n"
    with pytest.raises(InputError) as e:
        merge(discovered(), parse_merge(text, "extra.yaml"), "extra.yaml")
    assert e.value.file == "extra.yaml" and "10.10.0.11" in e.value.expected


def test_node_and_dns_flags():
    node = parse_node_flag("proxy01=10.40.0.50/24@10.40.0.1")
    assert (node.name, node.gateway, node.interfaces[0].address) == ("proxy01", "10.40.0.1", "10.40.0.50/24")
    merged = merge(discovered(), None, nodes=[node], dns=dict([parse_dns_flag("esx01.lab.local=10.10.0.11")]))
    assert merged.backup_nodes == (node,) and merged.dns == {"esx01.lab.local": "10.10.0.11"}


def test_a_node_with_several_interfaces_by_commas_or_by_repeating_its_name():
    [one] = parse_node_flags(["proxy01=10.10.0.50/24,10.30.0.50/24@10.10.0.1"])
    [two] = parse_node_flags(["proxy01=10.10.0.50/24@10.10.0.1", "proxy01=10.30.0.50/24"])
    for node in (one, two):
        assert [(i.name, i.address) for i in node.interfaces] == [("eth0", "10.10.0.50/24"), ("eth1", "10.30.0.50/24")]
        assert node.gateway == "10.10.0.1"
    with pytest.raises(InputError) as e:
        parse_node_flags(["p=10.0.0.5/24@10.0.0.1", "p=10.1.0.5/24@10.1.0.1"])
    assert "one gateway per node" in e.value.expected


@pytest.mark.parametrize("bad", ["proxy01", "proxy01=10.40.0.50", "=10.0.0.1/24", "p=10.0.0.1/24@nope",
                                 "p=10.0.0.1/24,", "p=10.0.0.1/24,,10.1.0.1/24"])
def test_bad_node_flags(bad):
    with pytest.raises(InputError) as e:
        parse_node_flag(bad)
    assert e.value.file == "--node" and "NAME=ADDRESS/LEN" in e.value.expected


@pytest.mark.parametrize("bad", ["esx01", "esx01=", "esx01=10.0.0"])
def test_bad_dns_flags(bad):
    with pytest.raises(InputError):
        parse_dns_flag(bad)


# ---------------------------------------------------------------- jobs: the backup product's, not vCenter's


def _night():
    """nightly-window split as discovery sees it (hosts, VMs, datastores) and the merge file (the rest)."""
    import yaml

    lab = labs.load("nightly-window")
    found = Snapshot(name="discovered", hosts=lab.hosts, vms=lab.vms, datastores=lab.datastores)
    rest = lab.model_dump(mode="json", include={"segments", "routers", "backup_nodes", "dns", "jobs"})
    return lab, found, yaml.safe_dump(rest, sort_keys=False)


def test_a_merge_file_carries_the_jobs_and_they_find_the_discovered_vms():
    lab, found, text = _night()
    extra = parse_merge(text, "extra.yaml")  # its jobs name clusters no host of the file is on: checked later
    merged = merge(found, extra, "extra.yaml")
    assert merged.jobs == lab.jobs and merged.jobs[0].clusters == ("routed", "isolated")
    assert merge(Snapshot(), extra, "extra.yaml", before_discovery=True).jobs == lab.jobs


def test_a_job_naming_what_discovery_did_not_find_is_refused_after_the_merge():
    lab, found, text = _night()
    text = text.replace("- isolated", "- retired")
    extra = parse_merge(text, "extra.yaml")
    with pytest.raises(InputError) as e:
        merge(found, extra, "extra.yaml")
    assert (e.value.file, e.value.location) == ("extra.yaml", "jobs[0].clusters[1]")
    assert "'retired'" in e.value.expected and "after merging with the discovered hosts" in e.value.expected


def test_a_job_naming_a_node_the_merge_file_lacks_is_refused_with_its_line():
    # Its nodes are the merge file's own: no need to wait for discovery.
    _, _, text = _night()
    lines = text.splitlines()
    bad = lines.index("  - vbr-proxy", lines.index("jobs:"))
    lines[bad] = "  - no-such-proxy"
    with pytest.raises(InputError) as e:
        parse_merge("\n".join(lines) + "\n", "extra.yaml")
    assert (e.value.file, e.value.location, e.value.line) == ("extra.yaml", "jobs[0].nodes[0]", bad + 1)
