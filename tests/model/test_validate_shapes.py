"""problems() checks a host configuration once per shape: what that must not hide."""

from nbdpath import labs
from nbdpath.model.validate import problems


def _fleet(n, edit=None):
    """n clones of the lab's first host with their own addresses; edit(i, vmk) may change a vmk."""
    snap = labs.load("veeam-tag-l2")
    base = snap.hosts[0]
    hosts = []
    for i in range(n):
        vmks = []
        for v in base.vmks:
            net = "10.10.0" if v.device == "vmk0" else "10.30.0"
            v = v.model_copy(update={"ipv4": f"{net}.{100 + i}/24"})
            vmks.append(edit(i, v) if edit else v)
        hosts.append(base.model_copy(update={"name": f"esx-{i}", "vmks": tuple(vmks)}))
    return snap.model_copy(update={"hosts": tuple(hosts)})


def _paths(snap):
    return [path for path, _ in problems(snap)]


def test_sound_clones_have_no_problems():
    assert _paths(_fleet(5)) == []


def test_a_duplicate_address_on_a_clone_of_a_sound_host_is_found():
    dup = _fleet(5, lambda i, v: v.model_copy(update={"ipv4": "10.30.0.101/24"}) if i == 3 and v.device == "vmk2" else v)
    found = list(problems(dup))
    assert [p for p, _ in found] == [("hosts", 3, "vmks", 1, "ipv4")]
    assert "10.30.0.101 is already used at hosts[1].vmks[1].ipv4" in found[0][1]


def test_a_problem_shared_by_every_clone_is_reported_for_each_in_document_order():
    bad = _fleet(3, lambda i, v: v.model_copy(update={"portgroup": "Nope"}) if v.device == "vmk2" else v)
    assert _paths(bad) == [("hosts", i, "vmks", 1, "portgroup") for i in range(3)]


def test_a_clone_that_differs_only_in_a_reference_is_checked():
    bad = _fleet(4, lambda i, v: v.model_copy(update={"segment": "nowhere"}) if i == 2 and v.device == "vmk0" else v)
    assert _paths(bad) == [("hosts", 2, "vmks", 0, "segment")]


def test_structure_before_address_within_a_host_as_the_document_reads():
    # hosts[1]: its vmk0 duplicates hosts[0]'s address and its vmk2 names no port group;
    # the vmk0 address comes first in the document, so it is the first problem.
    def edit(i, v):
        if i == 1 and v.device == "vmk0":
            return v.model_copy(update={"ipv4": "10.10.0.100/24"})
        if i == 1 and v.device == "vmk2":
            return v.model_copy(update={"portgroup": "Nope"})
        return v
    assert _paths(_fleet(3, edit)) == [("hosts", 1, "vmks", 0, "ipv4"), ("hosts", 1, "vmks", 1, "portgroup")]
