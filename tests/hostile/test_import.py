"""Hostile input to `nbdpath import esxcli`: links, special files, archives, content (issue 8).

Every refusal is checked the same way: exit 2, exactly one stderr line
`nbdpath: error: FILE...` naming the offending file, no traceback, no output
file, and never a byte of a file outside PATH (a secret marker) anywhere.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nbdpath import labs
from nbdpath.model import load_file
from nbdpath.sources import esxcli_files

from .cli_run import run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))
import esxcli_render as render  # noqa: E402

BUNDLE = "esx-h1-2024-05-01--10.22-1"
SECRET = "SECRET-MARKER-7f3a"
NIC = "commands/esxcli_network-nic-list.txt"
LISTING = "commands/esxcli_network-ip-interface-list.txt"
PGS = "commands/esxcli_network-vswitch-standard-portgroup-list.txt"
HOST = labs.load("veeam-tag-l2").hosts[0]
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def import_(path: Path, work: Path, *extra: str) -> tuple[int, str, str, Path]:
    target = work / "out.yaml"
    rc, out, err = run("import", "esxcli", str(path), "-o", str(target), *extra)
    return rc, out, err, target


def assert_refused(rc: int, out: str, err: str, target: Path, names: str) -> str:
    """Exit 2, one line naming ``names``, nothing written, no secret: the contract of every refusal."""
    lines = err.splitlines()
    assert rc == 2, (rc, err)
    assert len(lines) == 1 and lines[0].startswith("nbdpath: error: "), err
    assert names in lines[0], (names, lines[0])
    assert "Traceback" not in err and "internal error" not in err
    assert SECRET not in out + err
    assert not target.exists()
    return lines[0]


def make_bundle(root: Path, name: str = BUNDLE) -> Path:
    return render.write_host(HOST, root / name, bundle=True)


def secret_file(root: Path) -> Path:
    f = root / "outside.txt"
    f.write_text(f"{SECRET} first line\nsecond line\n")
    return f


def tgz_of(directory: Path, target: Path) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        tar.add(directory, arcname=directory.name)
    return target


# ---------------------------------------------------------------- directories: links and special files

LINK_PLACES = ["", "commands", "commands/deeper", "other/nested/dir"]
LINK_NAMES = ["esxcli_network-nic-list.txt", "notes.txt", "linked-dir"]


@FEW
@given(place=st.sampled_from(LINK_PLACES), name=st.sampled_from(LINK_NAMES),
       target=st.sampled_from(["secret", "inside-file", "inside-dir", "outside-dir", "dangling", "self"]))
def test_a_link_anywhere_under_path_is_refused_and_never_followed(place, name, target):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        bundle = make_bundle(tmp)
        secret = secret_file(tmp)
        where = bundle / place
        where.mkdir(parents=True, exist_ok=True)
        link = where / name
        if link.exists():
            link.unlink()  # the link replaces the real nic list
        to = {"secret": secret, "inside-file": bundle / LISTING, "inside-dir": bundle / "commands",
              "outside-dir": tmp, "dangling": tmp / "nowhere", "self": link}[target]
        link.symlink_to(to)
        rc, out, err, target_file = import_(bundle, tmp)
        line = assert_refused(rc, out, err, target_file, str(link))
        assert "symbolic link" in line


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
@pytest.mark.parametrize("name", ["esxcli_network-nic-list.txt", "unrelated.bin"])
def test_special_files_are_refused_without_waiting(tmp_path, kind, name):
    bundle = make_bundle(tmp_path)
    special = bundle / "commands" / name
    if special.exists():
        special.unlink()
    if kind == "fifo":
        os.mkfifo(special)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        with contextlib.chdir(special.parent):  # a socket path may be at most 108 bytes
            sock.bind(special.name)
        sock.close()
    else:
        try:
            os.mknod(special, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
        except PermissionError:
            pytest.skip("creating a device node needs root")
    rc, out, err, target = import_(bundle, tmp_path)
    line = assert_refused(rc, out, err, target, str(special))
    assert {"fifo": "a FIFO", "socket": "a socket", "device": "a character device"}[kind] in line


def test_path_itself_may_be_a_link_the_user_named(tmp_path):
    bundle = make_bundle(tmp_path)
    link = tmp_path / "esx-h9-2024-06-01--09.00-7"
    link.symlink_to(bundle)
    rc, _, err, target = import_(link, tmp_path)
    assert rc == 0, err
    assert [h.name for h in load_file(target).hosts] == ["h9"]  # the name the user gave, not the target's


def _import_without_read_override(bundle: Path, out: Path) -> tuple[int, str, str]:
    """root reads everything: run the import as root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH,
    so a mode-000 file is as unreadable to it as to anyone (no mock: the kernel says EACCES)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("as root this needs setpriv (util-linux) to drop the read-override capabilities")
    proc = subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-m",
                           "nbdpath", "import", "esxcli", str(bundle), "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("what", ["file", "directory"])
def test_an_unreadable_file_or_directory_is_named(tmp_path, what):
    bundle = make_bundle(tmp_path)
    victim = bundle / NIC if what == "file" else bundle / "commands"
    if what == "directory":
        victim = bundle / "commands" / "sub"
        victim.mkdir()
        (victim / "x.txt").write_text("x\n")
    victim.chmod(0)
    if os.geteuid() == 0:
        rc, out, err = _import_without_read_override(bundle, tmp_path / "out.yaml")
    else:
        rc, out, err = run("import", "esxcli", str(bundle), "-o", str(tmp_path / "out.yaml"))
    assert rc == 2, err
    assert err.count("\n") == 1 and str(victim) in err and "Permission denied" in err, err
    assert not (tmp_path / "out.yaml").exists()


# ---------------------------------------------------------------- archives

def _tar_bytes(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    """The members' headers and data, without the end-of-archive blocks: more may be appended."""
    out = []
    for info, data in members:
        out += [info.tobuf(format=tarfile.PAX_FORMAT), data, bytes(-len(data) % tarfile.BLOCKSIZE)]
    return b"".join(out)


def _bundle_members(tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    bundle = make_bundle(tmp / "src")
    out = []
    for f in sorted(bundle.rglob("*")):
        if f.is_file():
            data = f.read_bytes()
            info = tarfile.TarInfo(f"{BUNDLE}/{f.relative_to(bundle)}")
            info.size = len(data)
            out.append((info, data))
    return out


def _special_member(name: str, kind: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "chardev": tarfile.CHRTYPE,
                 "fifo": tarfile.FIFOTYPE, "dir": tarfile.DIRTYPE}[kind]
    info.linkname = "/etc/shadow" if kind == "symlink" else f"{BUNDLE}/{LISTING}"
    return info


@FEW
@given(kind=st.sampled_from(["symlink", "hardlink", "chardev", "fifo", "dir"]), wanted=st.booleans(),
       at=st.integers(0, 20))
def test_link_and_device_members_are_refused_when_read_and_skipped_otherwise(kind, wanted, at):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        members = _bundle_members(tmp)
        if wanted:  # it takes the nic list's place: the archive holds no content for it
            members = [(i, d) for i, d in members if not i.name.endswith(NIC)]
        name = f"{BUNDLE}/{NIC}" if wanted else f"{BUNDLE}/var/run/link-{at}"
        members.insert(min(at, len(members)), (_special_member(name, kind), b""))
        tgz = tmp / "bundle.tgz"
        tgz.write_bytes(gzip.compress(_tar_bytes(members)))
        rc, out, err, target = import_(tgz, tmp)
        if wanted and kind != "dir":
            assert_refused(rc, out, err, target, f"{tgz}:{name}")
        elif wanted:  # a directory of that name: the nic list is simply missing, a partial import
            assert rc == 1, err
            assert any("esxcli network nic list" in why for why in load_file(target).missing.values())
        else:
            assert rc == 0, err
            assert [h.name for h in load_file(target).hosts] == ["h1"]


@FEW
@given(name=st.sampled_from(["../../etc/passwd", "/etc/passwd", f"{BUNDLE}/../../x/{NIC}", "/" + NIC,
                             f"{BUNDLE}/commands/../../../escape.txt"]), at=st.integers(0, 20))
def test_absolute_and_dotdot_member_names_are_refused(name, at):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        members = _bundle_members(tmp)
        info = tarfile.TarInfo(name)
        info.size = 3
        members.insert(min(at, len(members)), (info, b"x\n\n"))
        tgz = tmp / "bundle.tgz"
        tgz.write_bytes(gzip.compress(_tar_bytes(members)))
        rc, out, err, target = import_(tgz, tmp)
        assert "no absolute path, no '..'" in assert_refused(rc, out, err, target, f"{tgz}:{name}")


@pytest.mark.parametrize("wanted", [True, False])
def test_a_huge_declared_size_is_refused_from_the_header(tmp_path, wanted):
    """A pax 'size' of a petabyte with no data behind it: refused before any of it is read."""
    members = _bundle_members(tmp_path)
    name = f"{BUNDLE}/{NIC}" if wanted else f"{BUNDLE}/var/log/huge.log"
    members = [(i, d) for i, d in members if i.name != name]
    blob = _tar_bytes(members)
    info = tarfile.TarInfo(name)
    info.pax_headers = {"size": str(10**15)}
    header = info.tobuf(format=tarfile.PAX_FORMAT)
    tgz = tmp_path / "bundle.tgz"
    tgz.write_bytes(gzip.compress(header + blob))
    rc, out, err, target = import_(tgz, tmp_path)
    assert_refused(rc, out, err, target, f"{tgz}:{name}")
    assert "at most 4 GiB" in err


def test_a_wanted_member_over_the_file_cap_is_refused_unread(tmp_path):
    members = [(i, d) for i, d in _bundle_members(tmp_path) if not i.name.endswith(NIC)]
    info = tarfile.TarInfo(f"{BUNDLE}/{NIC}")
    info.size = esxcli_files.MAX_FILE_BYTES + 1
    header = info.tobuf(format=tarfile.GNU_FORMAT)  # the data would follow; it is never asked for
    tgz = tmp_path / "bundle.tgz"
    tgz.write_bytes(gzip.compress(_tar_bytes(members) + header))
    rc, out, err, target = import_(tgz, tmp_path)
    assert "at most 16 MiB" in assert_refused(rc, out, err, target, f"{tgz}:{BUNDLE}/{NIC}")


@pytest.mark.parametrize("kind", [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME])
def test_a_huge_extended_header_is_refused_before_it_is_read(tmp_path, kind):
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = kind
    info.size = 8**11 - 1  # the largest a ustar size field holds: 8 GiB
    tgz = tmp_path / "bundle.tgz"
    tgz.write_bytes(gzip.compress(info.tobuf(format=tarfile.USTAR_FORMAT) + b"19 path=aaaaaaaaaa\n" + bytes(2048)))
    rc, out, err, target = import_(tgz, tmp_path)
    assert "tar headers of at most 64 KiB" in assert_refused(rc, out, err, target, str(tgz))


def test_an_archive_of_a_million_empty_members_stops_at_the_entry_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(esxcli_files, "MAX_ENTRIES", 500)
    members = _bundle_members(tmp_path)
    for i in range(600):
        info = tarfile.TarInfo(f"{BUNDLE}/var/empty/{i}")
        members.append((info, b""))
    tgz = tmp_path / "bundle.tgz"
    tgz.write_bytes(gzip.compress(_tar_bytes(members)))
    rc, out, err, target = import_(tgz, tmp_path)
    assert "at most 500 files and directories" in assert_refused(rc, out, err, target, str(tgz))


@pytest.fixture(scope="module")
def good_tgz(tmp_path_factory) -> tuple[bytes, str]:
    """A real small .tgz bundle and the snapshot it imports to."""
    tmp = tmp_path_factory.mktemp("good")
    tgz = tgz_of(make_bundle(tmp), tmp / "bundle.tgz")
    rc, _, err, target = import_(tgz, tmp)
    assert rc == 0, err
    return tgz.read_bytes(), target.read_text()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_flipped_bytes_are_refused_or_change_nothing(good_tgz, data):
    """gzip's CRC covers every byte we read: a flip is an error naming the archive, or lands where it changes nothing."""
    blob, expected = good_tgz
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(blob) - 1), st.integers(1, 255)), min_size=1, max_size=4))
    bad = bytearray(blob)
    for at, xor in flips:
        bad[at] ^= xor
    assume(bytes(bad) != blob)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        tgz = tmp / "bundle.tgz"
        tgz.write_bytes(bytes(bad))
        rc, out, err, target = import_(tgz, tmp)
        if rc == 2:
            assert_refused(rc, out, err, target, str(tgz))
        else:
            assert rc == 0 and target.read_text() == expected, (rc, err)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_truncated_archive_is_refused(good_tgz, data):
    blob, _ = good_tgz
    cut = data.draw(st.integers(0, len(blob) - 1))
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        tgz = tmp / "bundle.tgz"
        tgz.write_bytes(blob[:cut])
        rc, out, err, target = import_(tgz, tmp)
        assert_refused(rc, out, err, target, str(tgz))


@pytest.mark.parametrize("head", [b"\x1f\x8b\x08\xff" + bytes(6), b"\x1f\x8b\x08\x04\0\0\0\0\0\x03\xff\xff",
                                  b"BZh9garbage", b"\xfd7zXZ\x00garbage"])
def test_a_corrupt_compression_header_is_one_line_not_an_abort(tmp_path, head):
    """A gzip FEXTRA flag with no extra field made tarfile raise EOFError, which click turned into exit 130."""
    tgz = tmp_path / "bundle.tgz"
    tgz.write_bytes(head)
    rc, out, err, target = import_(tgz, tmp_path)
    assert "tar archive" in assert_refused(rc, out, err, target, str(tgz))


# ---------------------------------------------------------------- content

def _edit_line(f: Path, index: int, edit) -> int:  # noqa: ANN001
    """Line ``index`` of ``f`` (clamped) replaced by ``edit(line)``; returns its 1-based number."""
    lines = f.read_text().splitlines()
    n = min(index, len(lines) - 1)
    lines[n] = edit(lines[n])
    f.write_text("\n".join(lines) + "\n")
    return n + 1


@FEW
@given(bad=st.sampled_from(["\x00", "\x1b[2J", "\x07", "\x7f", "\x9b", "\x0c"]), index=st.integers(0, 40),
       rel=st.sampled_from([NIC, LISTING, PGS]))
def test_control_characters_in_an_output_name_its_line(bad, index, rel):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        bundle = make_bundle(tmp)
        f = bundle / rel
        n = _edit_line(f, index, lambda line: line[:3] + bad + line[3:])
        rc, out, err, target = import_(bundle, tmp)
        line = assert_refused(rc, out, err, target, f"{f}:{n}:")
        assert bad not in line  # escaped, never raw on the terminal


@FEW
@given(raw=st.binary(min_size=1, max_size=4).filter(lambda b: not _is_utf8(b)), index=st.integers(0, 2000))
def test_bytes_that_are_not_utf8_name_their_line(raw, index):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        bundle = make_bundle(tmp)
        f = bundle / NIC
        data = f.read_bytes()
        at = min(index, len(data))
        bad = data[:at] + raw + data[at:]
        f.write_bytes(bad)
        rc, out, err, target = import_(bundle, tmp)
        start = _first_bad_byte(bad)
        assert "UTF-8" in assert_refused(rc, out, err, target, f"{f}:{bad.count(NL, 0, start) + 1}:")


NL = b"\n"


def _first_bad_byte(b: bytes) -> int | None:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return None


def _is_utf8(b: bytes) -> bool:
    return _first_bad_byte(b) is None


@FEW
@given(length=st.integers(1000, 300_000), rel=st.sampled_from([NIC, PGS, LISTING]), index=st.integers(0, 30))
def test_a_very_long_line_is_quoted_short(length, rel, index):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        bundle = make_bundle(tmp)
        f = bundle / rel
        if rel == LISTING:  # a value the record really uses: vmk0's MTU
            index = f.read_text().splitlines().index("   MTU: 1500")
        _edit_line(f, index, lambda line: ("Speed " if rel != LISTING else "   MTU: ") + "9" * length)
        rc, out, err, target = import_(bundle, tmp)
        line = assert_refused(rc, out, err, target, f"{f}:")
        assert len(line) < 700, len(line)


VMK_NAMES = st.one_of(
    st.sampled_from(["vmk2;reboot", "vmk2 && reboot", "vmk²", "vmk٣", "vmk2'$(touch PWNED)'", "vmk", "VMK2", "vmk-1"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), min_size=1, max_size=12)
    .map(lambda s: "vmk" + s.strip()).filter(lambda s: not s[3:].isascii() or not s[3:].isdigit()),
)


@FEW
@given(name=VMK_NAMES)
def test_a_vmk_that_is_not_vmk_and_ascii_digits_is_refused_at_its_line(name):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        bundle = make_bundle(tmp)
        f = bundle / LISTING
        text = f.read_text()
        lines = text.splitlines()
        n = lines.index("   Name: vmk0")
        lines[n] = f"   Name: {name}"
        f.write_text("\n".join(lines) + "\n")
        rc, out, err, target = import_(bundle, tmp)
        assert_refused(rc, out, err, target, f"{f}:")
        assert not (tmp / "PWNED").exists() and not Path("PWNED").exists()


@FEW
@given(vlan=st.one_of(st.integers(4096, 10**15), st.integers(-10**6, -1).map(str), st.sampled_from(["1_000", " 5x", "٣", "10.5"])))
def test_a_vlan_outside_0_4095_is_refused_at_its_row(vlan):
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        bundle = make_bundle(tmp)
        f = _set_first_vlan(bundle, str(vlan))
        rc, out, err, target = import_(bundle, tmp)
        assert "0 to 4095" in assert_refused(rc, out, err, target, f"{f}:3:")


def _set_first_vlan(bundle: Path, vlan: str) -> Path:
    """The VLAN ID cell of the first port group row (line 3) set to ``vlan``."""
    f = bundle / PGS
    lines = f.read_text().splitlines()
    cells = lines[2].rsplit(None, 1)
    lines[2] = f"{cells[0]}  {vlan.rjust(len(cells[1]))}"
    f.write_text("\n".join(lines) + "\n")
    return f


def test_vlan_4095_is_a_trunk_and_accepted(tmp_path):
    bundle = make_bundle(tmp_path)
    _set_first_vlan(bundle, "4095")
    rc, _, err, target = import_(bundle, tmp_path)
    assert rc == 0, err
    assert 4095 in [p.vlan for s in load_file(target).hosts[0].vswitches for p in s.portgroups]


@FEW
@given(field=st.sampled_from(["MTU", "Speed"]), value=st.one_of(st.integers(9217, 10**14), st.integers(0, 575)))
def test_out_of_range_numbers_are_refused_at_their_line(field, value):
    assume(field == "MTU" or value > 10_000_000)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        bundle = make_bundle(tmp)
        if field == "MTU":
            f = bundle / LISTING
            text = f.read_text().replace("   MTU: 1500", f"   MTU: {value}", 1)
            n = text.splitlines().index(f"   MTU: {value}") + 1
        else:
            f = bundle / NIC
            lines = f.read_text().splitlines()
            speed = render.nic_list(HOST).splitlines()[2].split()[5]
            lines[2] = lines[2].replace(f" {speed} ", f" {value} ", 1)
            text, n = "\n".join(lines) + "\n", 3
        f.write_text(text)
        rc, out, err, target = import_(bundle, tmp)
        assert_refused(rc, out, err, target, f"{f}:{n}:")


# ---------------------------------------------------------------- names from bundle directories

NAME_PARTS = st.text(st.sampled_from("ab1.-_'\"$()`;|&<> \\*?!~#\u2019"), min_size=1, max_size=10)


@FEW
@given(part=NAME_PARTS, tgz=st.booleans())
def test_a_bundle_name_with_shell_characters_is_plain_text(part, tgz):
    assume("/" not in part and part.strip(" .") and not part.startswith("-"))
    name = f"esx-h{part}-2024-05-01--10.22-1"
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        bundle = make_bundle(tmp, name)
        path = tgz_of(bundle, tmp / "b.tgz") if tgz else bundle
        rc, out, err, target = import_(path, tmp)
        assert rc == 0, err
        assert [h.name for h in load_file(target).hosts] == [f"h{part}".strip()]
        assert not (tmp / "PWNED").exists()


@FEW
@given(bad=st.sampled_from(["\x1b[31m", "\x07", "\x00x", "\u202e", "\x85", "\t"]), tgz=st.booleans())
def test_a_bundle_name_vsphere_would_never_produce_is_refused(bad, tgz):
    name = f"esx-h1{bad}x-2024-05-01--10.22-1"
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        if "\x00" in bad:  # no file system takes a NUL; a tar header can
            bad = "\x01"
            name = f"esx-h1{bad}x-2024-05-01--10.22-1"
        bundle = make_bundle(tmp, name)
        path = tgz_of(bundle, tmp / "b.tgz") if tgz else bundle
        rc, out, err, target = import_(path, tmp)
        line = assert_refused(rc, out, err, target, str(path).replace(bad, repr(bad)[1:-1]) if not tgz else str(path))
        assert bad not in line


def test_errors_found_across_hosts_name_the_path_not_flags(tmp_path):
    """Two bundles claiming one vmk address: the second PATH is named, not '<flags>'."""
    a = make_bundle(tmp_path / "a", "esx-h1-2024-05-01--10.22-1")
    b = make_bundle(tmp_path / "b", "esx-h2-2024-05-01--10.22-1")
    target = tmp_path / "out.yaml"
    rc, out, err = run("import", "esxcli", str(a), str(b), "-o", str(target))
    line = assert_refused(rc, out, err, target, str(b))
    assert "<flags>" not in line and "unique IP address" in line


def test_a_validation_error_from_the_model_names_the_file(tmp_path):
    """Uplink both active and standby in a failover output: the model refuses it; the file is named."""
    bundle = make_bundle(tmp_path)
    f = bundle / "commands" / "esxcli_network-vswitch-standard-policy-failover-get-vSwitch1.txt"
    text = f.read_text()
    active = next(l for l in text.splitlines() if "Active Adapters" in l).split(":", 1)[1].split(",")[0].strip()
    lines = [f"   Standby Adapters: {active}" if "Standby Adapters" in l else l for l in text.splitlines()]
    f.write_text("\n".join(lines) + "\n")
    rc, out, err, target = import_(bundle, tmp_path)
    assert "both" in assert_refused(rc, out, err, target, str(f))


def test_a_link_in_a_bundle_tree_never_leaks_in_a_real_copy(tmp_path):
    """shutil.copytree(symlinks=True) keeps links, as `cp -a` and `tar x` do: still refused."""
    bundle = make_bundle(tmp_path / "src")
    secret = secret_file(tmp_path)
    (bundle / NIC).unlink()
    (bundle / NIC).symlink_to(secret)
    copy = tmp_path / "copy" / BUNDLE
    shutil.copytree(bundle, copy, symlinks=True)
    rc, out, err, target = import_(copy, tmp_path)
    assert_refused(rc, out, err, target, str(copy / NIC))


def test_directories_nested_past_the_cap_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(esxcli_files, "MAX_DEPTH", 3)
    bundle = make_bundle(tmp_path)
    deep = bundle / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    rc, out, err, target = import_(bundle, tmp_path)
    assert "at most 3 directory levels" in assert_refused(rc, out, err, target, str(deep))


def test_outputs_adding_up_past_the_per_path_cap_are_refused(tmp_path, monkeypatch):
    bundle = make_bundle(tmp_path)
    sizes = sorted(f.stat().st_size for f in (bundle / "commands").iterdir())
    monkeypatch.setattr(esxcli_files, "MAX_HOST_BYTES", sum(sizes) - 1)  # every output fits alone; not all together
    rc, out, err, target = import_(bundle, tmp_path)
    assert "a saved esxcli output of at most" in assert_refused(rc, out, err, target, str(bundle / "commands"))
    monkeypatch.setattr(esxcli_files, "MAX_HOST_BYTES", sum(sizes))
    rc, _, err, target = import_(bundle, tmp_path)
    assert rc == 0, err
