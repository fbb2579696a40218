"""Hostile snapshot files: alias bombs, forbidden characters, deep nesting, special files, sizes (issue 8).

Through the command line (`plan FILE --save-snapshot OUT`, which would write
a file) and `import esxcli --merge FILE -o OUT` (the merge file goes through
the same loader): exit 2, one stderr line naming the file (and line where
the text has one), no traceback, nothing written.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nbdpath import labs
from nbdpath.errors import InputError
from nbdpath.model import load, load_file, parse

from .cli_run import alarm, run

LAB = labs.text("veeam-tag-routed")
NL = b"\n"
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def plan_of(path: Path, work: Path) -> tuple[int, str, str, Path]:
    target = work / "after.yaml"
    rc, out, err = run("plan", str(path), "--save-snapshot", str(target))
    return rc, out, err, target


def refused(rc: int, err: str, target: Path, names: str) -> str:
    lines = err.splitlines()
    assert rc == 2, (rc, err)
    assert len(lines) == 1 and lines[0].startswith("nbdpath: error: "), err
    assert names in lines[0], (names, lines[0])
    assert "Traceback" not in err and "internal error" not in err
    # The cli's last-resort lines name no file: the loader must have refused first.
    assert "nested too deeply (refused)" not in err and "available memory" not in err
    assert not target.exists()
    return lines[0]


def write(work: Path, name: str, text: str | bytes) -> Path:
    f = work / name
    f.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return f


# ---------------------------------------------------------------- aliases


def bomb(levels: int, width: int, where: str) -> str:
    lines = ["x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"x-a{i}: &a{i} [" + ", ".join(f"*a{i - 1}" for _ in range(width)) + "]")
    top = f"*a{levels - 1}"
    use = {"hosts": f"hosts: {top}", "description": f"description: {top}", "dns": f"dns: {{a: {top}}}",
           "nested": f"hosts: [{{name: h, dns_names: {top}}}]", "merge": f"x-m: &m {{k: {top}}}\nhosts: [{{<<: *m}}]"}
    return "\n".join(lines + [use[where]]) + "\n"


@FEW
@given(levels=st.integers(3, 14), width=st.integers(2, 12),
       where=st.sampled_from(["hosts", "description", "dns", "nested", "merge"]))
def test_an_alias_bomb_is_refused_at_its_line_before_it_grows(levels, width, where):
    added = sum(width**i * 10 for i in range(1, levels))  # lower bound of what the aliases add
    assume(added > 2 * load.MAX_ALIAS_NODES)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        text = bomb(levels, width, where)
        f = write(tmp, "bomb.yaml", text)
        rc, out, err, target = plan_of(f, tmp)
        line = refused(rc, err, target, f"{f}:")
        assert "aliases adding at most 1,000,000 nodes" in line
        n = int(line.split(f"{f}:", 1)[1].split(":", 1)[0])
        assert "&a" in text.splitlines()[n - 1]  # the anchor whose uses crossed the cap


def test_the_alias_cap_is_exact(monkeypatch):
    """Aliases adding exactly the cap pass; one node more is refused (cap lowered to keep it small)."""
    monkeypatch.setattr(load, "MAX_ALIAS_NODES", 100)
    list_of = lambda n: "[" + ", ".join(["x"] * n) + "]"  # noqa: E731 - n scalars + the list itself
    at_cap = f"x-a: &a {list_of(9)}\ndescription: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"  # 10 uses x 10 nodes
    over = at_cap.replace("[*a,", "[*a, *a,")  # 11 uses
    with pytest.raises(InputError) as exc:
        parse(at_cap, "s.yaml")
    assert "aliases" not in exc.value.expected  # got past the alias count, to the model's own complaint
    with pytest.raises(InputError) as exc:
        parse(over, "s.yaml")
    assert "aliases adding at most 100 nodes (they add 110" in exc.value.expected and exc.value.line == 1


def test_anchors_for_reuse_still_load():
    snap = labs.load("mixed-estate")  # its hosts share pnics, switches and stacks through aliases
    assert len(snap.hosts) > 2


def test_a_recursive_alias_is_refused_at_its_line(tmp_path):
    f = write(tmp_path, "rec.yaml", "name: x\nx-loop: &loop\n  - a\n  - *loop\nhosts: *loop\n")
    rc, out, err, target = plan_of(f, tmp_path)
    assert "recursive aliases" in refused(rc, err, target, f"{f}:2:")


# ---------------------------------------------------------------- characters and encodings

FORBIDDEN = st.sampled_from([chr(c) for c in [*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x80, 0x9B]])


@FEW
@given(bad=FORBIDDEN, at=st.integers(0, len(LAB)))
def test_a_forbidden_character_in_yaml_names_its_line(bad, at):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        text = LAB[:at] + bad + LAB[at:]
        f = write(tmp, "lab.yaml", text)
        rc, out, err, target = plan_of(f, tmp)
        line = refused(rc, err, target, f"{f}:{LAB[:at].count(chr(10)) + 1}:")
        assert bad not in line


@FEW
@given(raw=st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf"]), at=st.integers(0, len(LAB)))
def test_bytes_that_are_not_utf8_name_line_and_byte(raw, at):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        data = LAB.encode()
        f = write(tmp, "lab.yaml", data[:at] + raw + data[at:])
        rc, out, err, target = plan_of(f, tmp)
        line = data[:at].count(NL) + 1
        column = at - data[:at].rfind(NL)  # the byte's place in its line, counted from 1
        assert f"byte {column}: UTF-8" in refused(rc, err, target, f"{f}:{line}:")


# ---------------------------------------------------------------- nesting


@FEW
@given(depth=st.integers(150, 200_000), shape=st.sampled_from(["json-list", "json-object", "flow", "block", "dash"]))
def test_deep_nesting_is_refused_naming_the_file(depth, shape):
    text = {
        "json-list": '{"hosts": ' + "[" * depth + "]" * depth + "}",
        "json-object": "{" + '"a": {' * depth + "}" * depth + "}",
        "flow": "hosts: " + "[" * depth + "]" * depth + "\n",
        "block": "hosts:\n" + "".join(" " * i + "- \n" for i in range(1, min(depth, 3000))),
        "dash": "hosts: " + "- " * min(depth, 20_000) + "x\n",
    }[shape]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        f = write(tmp, "deep.json" if shape.startswith("json") else "deep.yaml", text)
        rc, out, err, target = plan_of(f, tmp)
        refused(rc, err, target, str(f))


# ---------------------------------------------------------------- what the path is


@pytest.mark.parametrize("kind", ["fifo", "directory", "dev-zero", "proc-mem", "socket"])
def test_a_snapshot_that_is_no_regular_file_is_refused_without_waiting(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "snap.yaml"
        os.mkfifo(path)
    elif kind == "directory":
        path = tmp_path / "snap.yaml"
        path.mkdir()
    elif kind == "socket":
        import socket

        path = tmp_path / "s.yaml"
        sock = socket.socket(socket.AF_UNIX)
        with contextlib.chdir(tmp_path):
            sock.bind(path.name)
        sock.close()
    else:
        path = Path({"dev-zero": "/dev/zero", "proc-mem": "/proc/self/mem"}[kind])
    with alarm():
        with pytest.raises(InputError) as exc:
            load_file(path)
    assert exc.value.file == str(path)
    rc, out, err, target = plan_of(path, tmp_path)
    assert rc == 2 and len(err.splitlines()) == 1 and str(path) in err and not target.exists(), err


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    f = tmp_path / "huge.yaml"
    with open(f, "wb") as fh:  # sparse: no disk, and nothing would read it in time anyway
        fh.truncate(load.MAX_SNAPSHOT_BYTES + 1)
    rc, out, err, target = plan_of(f, tmp_path)
    assert "at most 512 MiB" in refused(rc, err, target, str(f))


# ---------------------------------------------------------------- random damage to a real file


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), fmt=st.sampled_from(["yaml", "json"]))
def test_random_damage_to_a_lab_file_is_loaded_or_refused_in_one_line(data, fmt):
    text = LAB if fmt == "yaml" else json.dumps(yaml.safe_load(LAB), indent=1)
    blob = bytearray(text.encode())
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["flip", "cut", "dup", "insert"]))
        at = data.draw(st.integers(0, max(0, len(blob) - 1)))
        if op == "flip" and blob:
            blob[at] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del blob[at: at + data.draw(st.integers(1, 200))]
        elif op == "dup":
            blob[at:at] = blob[at: at + data.draw(st.integers(1, 400))]
        else:
            blob[at:at] = data.draw(st.sampled_from([b"&a ", b"*a ", b"[", b"{", b"!!python/object:os.system ", b"\x00",
                                                     b"<<: *a\n", b"\t", b"'", b'"']))
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        f = write(tmp, f"lab.{fmt}", bytes(blob))
        rc, out, err, target = plan_of(f, tmp)
        if rc == 2:
            refused(rc, err, target, str(f))
        else:
            assert rc in (0, 1) and err == "" and target.exists(), (rc, err)
            load_file(target)  # what it wrote is a snapshot again


@pytest.mark.parametrize("damage", ["bomb", "nul", "deep"])
def test_a_damaged_merge_file_names_itself_and_writes_nothing(tmp_path, damage):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))
    import esxcli_render as render

    bundle = render.write_host(labs.load("veeam-tag-l2").hosts[0], tmp_path / "esx-h1-2024-05-01--10.22-1")
    text = {"bomb": bomb(12, 10, "dns"), "nul": "backup_nodes: []\ndns: {a: 1.2.3.4\x00}\n",
            "deep": "dns: " + "[" * 50_000 + "\n"}[damage]
    merge = write(tmp_path, "extra.yaml", text)
    target = tmp_path / "estate.yaml"
    rc, out, err = run("import", "esxcli", str(bundle), "--merge", str(merge), "-o", str(target))
    refused(rc, err, target, f"{merge}:")
