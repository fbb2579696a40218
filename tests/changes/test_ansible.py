"""`plan --format ansible`: real ansible-playbook and ansible-doc (the `ansible` package bundles
community.vmware), a vmk restated in full, and estate names that never become templates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nbdpath import labs
from nbdpath.changes.render import ScriptStep, ansible
from nbdpath.model import dump, parse
from nbdpath.plan import plan as plan_mod

BIN = Path(sys.executable).parent
PLAYBOOK = BIN / "ansible-playbook"
MODULE = "community.vmware.vmware_vmkernel"

needs_ansible = pytest.mark.skipif(not PLAYBOOK.exists() and not os.environ.get("CI"),
                                   reason="ansible is not installed (pip install -e .[test])")


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ah"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "at"),
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_PYTHON_INTERPRETER": sys.executable}


def _playbook(snap) -> str:
    p = plan_mod.build(snap)
    return plan_mod.render_script(p, "ansible")


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: ("UNSAFE", loader.construct_scalar(node)))


def _tasks(text: str) -> list[dict]:
    return yaml.load(text, Loader=_Loader)[0]["tasks"]


@pytest.fixture(scope="module")
def module_options() -> tuple[set[str], set[str]]:
    if not (BIN / "ansible-doc").exists():
        pytest.skip("ansible is not installed")
    out = subprocess.run([str(BIN / "ansible-doc"), "-j", MODULE], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    options = json.loads(out)[MODULE]["doc"]["options"]
    return set(options), set(options["network"]["suboptions"])


@needs_ansible
@pytest.mark.parametrize("lab", labs.names())
def test_every_lab_playbook_passes_syntax_check(lab, tmp_path):
    path = tmp_path / "plan.yml"
    path.write_text(_playbook(labs.load(lab)))
    r = subprocess.run([str(PLAYBOOK), "--syntax-check", "-i", "localhost,", str(path)], capture_output=True,
                       text=True, timeout=120, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr + r.stdout


@needs_ansible
def test_vmkernel_tasks_use_real_option_names_and_restate_every_flag(module_options):
    options, network = module_options
    seen = 0
    for lab in labs.names():
        for t in _tasks(_playbook(labs.load(lab))):
            if MODULE not in t:
                continue
            seen += 1
            args = t[MODULE]
            assert set(args) <= options, set(args) - options
            if args["state"] == "present":
                # A flag left out defaults to false and deselects that service: none may be left out
                # (a removal, state absent, has no services to keep).
                assert {o for o in options if o.startswith("enable_")} <= set(args)
                assert set(args["network"]) <= network
    assert seen >= 2


def test_tag_add_keeps_the_vmks_other_services_and_addresses():
    snap = labs.load("veeam-tag-unreachable")
    host = snap.hosts[0]
    vmk = next(v for v in host.vmks if v.ipv4)
    from nbdpath.changes import TagAdd

    [task] = _tasks_of(ansible.command(TagAdd(host.name, vmk.device), snap))
    args = task[MODULE]
    assert args["enable_backup_nfc"] is True
    assert args["enable_mgmt"] is ("management" in vmk.services)
    assert args["network"]["ip_address"] == vmk.ipv4.split("/")[0]
    assert args["device"] == ("UNSAFE", vmk.device) and args["mtu"] == vmk.mtu


def _tasks_of(text: str) -> list[dict]:
    return yaml.load(text, Loader=_Loader)


def test_routes_are_marked_manual_steps_with_the_esxcli_command():
    tasks = _tasks(_playbook(labs.load("veeam-tag-routed")))
    [t] = tasks
    assert t["name"][1].startswith("MANUAL STEP") and "manual" in t["tags"]
    assert "esxcli network ip route ipv4 add -n 10.40.0.0/24 -g 10.30.0.1" in t["ansible.builtin.debug"]["msg"][1]


def _hostile(lab: str, marker: Path) -> str:
    evil = "esx{{ lookup('pipe', 'touch " + str(marker) + "') }}01"
    data = yaml.safe_load(dump(labs.load(lab), "yaml"))
    data["hosts"][0]["name"] = evil
    for vs in data["hosts"][0]["vswitches"]:
        for pg in vs["portgroups"]:
            pg["name"] = pg["name"] + "{{ 6 * 7 }}"
    for v in data["hosts"][0]["vmks"]:
        v["portgroup"] = v["portgroup"] + "{{ 6 * 7 }}"
    return _playbook(parse(yaml.safe_dump(data), "hostile.yaml"))


@needs_ansible
@pytest.mark.parametrize("lab", ["veeam-tag-routed", "veeam-tag-unreachable"])
def test_estate_names_are_never_templated(lab, tmp_path):
    """Run for real (-c local). The manual step prints; the vmkernel task fails to reach a closed
    local port. A templated name would have run the lookup and created the marker."""
    marker = tmp_path / "pwned"
    text = _hostile(lab, marker)
    book = tmp_path / "plan.yml"
    run = [str(PLAYBOOK), "-i", "localhost,", "-c", "local", str(book), "-e", "vcenter_hostname=127.0.0.1",
           "-e", "vcenter_username=u", "-e", "vcenter_password=p", "-e", "vcenter_validate_certs=false"]
    book.write_text(text)
    r = subprocess.run(run, capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert "PLAY RECAP" in r.stdout, r.stdout + r.stderr
    assert not marker.exists()
    assert "{{ 6 * 7 }}" in r.stdout or "{{ lookup(" in r.stdout
    # The same playbook without !unsafe would run the lookup: the test can fail.
    book.write_text(text.replace("!unsafe ", ""))
    subprocess.run(run, capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert marker.exists()


def test_quotes_in_names_stay_one_scalar():
    text = ansible._dump([{"name": ansible.Unsafe("it's {{ x }}: ok # not a comment"), "n": 3, "b": False}])
    assert _tasks_of(text) == [{"name": ("UNSAFE", "it's {{ x }}: ok # not a comment"), "n": 3, "b": False}]


def test_esxi_hostname_is_the_inventory_name():
    """vCenter finds a host by the name it was added with (discovery's management_address), which for
    hosts added by IP is the IP, not the configured hostname."""
    from nbdpath.changes import TagAdd

    snap = labs.load("veeam-tag-unreachable")
    host = snap.hosts[0].model_copy(update={"management_address": "10.10.0.11"})
    snap = snap.model_copy(update={"hosts": (host,)})
    vmk = next(v for v in host.vmks if v.ipv4)
    [task] = _tasks_of(ansible.command(TagAdd(host.name, vmk.device), snap))
    assert task[MODULE]["esxi_hostname"] == ("UNSAFE", "10.10.0.11")
