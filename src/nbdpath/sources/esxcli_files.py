"""Reading one PATH of ``import esxcli``: a directory or a tar archive, only what is inside it, within caps.

A bundle is untrusted: it may come from a support case or a share. So a
directory is walked without following anything (``openat`` with
``O_NOFOLLOW`` from PATH down; a symbolic link or a FIFO, device or socket
anywhere under it is refused, naming it), and an archive is read as a
stream, never extracted: link and device members are never followed, and
absolute or ``..`` member names are refused. Every size is capped (see the
constants and docs/discover.md); only the files :func:`wanted` names are read.
"""

from __future__ import annotations

import errno
import lzma
import os
import stat
import tarfile
import zlib
from pathlib import PurePosixPath
from typing import Callable, Literal, Optional

from ..errors import InputError
from ..io import kind_of, open_input, read_input, size_text
from ..safetext import one_line
from .esxcli_parse import Text, decode

MAX_FILE_BYTES = 16 << 20  # one saved output; real ones are a few KiB
MAX_HOST_BYTES = 64 << 20  # all the outputs read for one PATH
MAX_ENTRIES = 1_000_000  # files and directories walked per PATH (a vm-support bundle has ~20,000)
MAX_DEPTH = 64  # directory levels under PATH (vm-support goes ~10 deep)
MAX_TAR_BYTES = 4 << 30  # uncompressed bytes walked in an archive, skipped members included
MAX_TAR_HEADER = 64 << 10  # one pax or GNU long-name header (a path is at most 4 KiB)
MAX_TOPS = 1000  # top-level names kept to guess the host name from (a bundle has one)

_COMPRESSION = ((b"\x1f\x8b", "gz", "gzip"), (b"BZh", "bz2", "bzip2"), (b"\xfd7zXZ\x00", "xz", "xz"))
# tarfile's modes, spelt out: its stubs take these literals only.
_READ_MODES: dict[str, Literal["r:gz", "r:bz2", "r:xz"]] = {"gz": "r:gz", "bz2": "r:bz2", "xz": "r:xz"}
_EXTENDED = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
             tarfile.GNUTYPE_LONGLINK)
# What a corrupt or truncated archive raises from tarfile, gzip, zlib, bz2 and lzma.
_ARCHIVE_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError, OverflowError)
_CHUNK = 64 << 10  # skipping a member: measured faster than 8 KiB (tarfile's seek) or 1 MiB reads
_LINK_NOTE = "import reads only what is inside PATH and follows no links"

Wanted = Callable[[str], bool]


class Outputs:
    """What one PATH gave: the saved outputs read, and its top-level directory names (for the host name)."""

    def __init__(self, shown: str):
        self.shown = shown
        self.texts: list[tuple[str, Text]] = []  # (file name, text)
        self.tops: list[str] = []
        self._entries = 0
        self._read = 0

    def count_entry(self) -> None:
        self._entries += 1
        if self._entries > MAX_ENTRIES:
            raise InputError(self.shown, "", f"at most {MAX_ENTRIES:,} files and directories (a host's outputs are a few dozen)")

    def room(self) -> int:
        """How many bytes the next output may have: the per-file cap, or what is left of the per-PATH one."""
        return max(0, min(MAX_FILE_BYTES, MAX_HOST_BYTES - self._read))

    def add(self, name: str, shown: str, data: bytes) -> None:
        self._read += len(data)
        self.texts.append((name, decode(shown, data)))


# ---------------------------------------------------------------- directories


def read_directory(root: str, shown: str, wanted: Wanted) -> Outputs:
    """Walk ``root`` depth first, by name, through directory fds: nothing under it is followed."""
    out = Outputs(shown)
    frames: list[tuple[int, str, int, list[str]]] = []  # (dir fd, shown path, depth, subdirectories left)
    try:
        fd = _open_dir(root, None, shown)  # PATH itself may be a link: the user named it
        out.tops = _enter(fd, shown, 0, frames, out, wanted)
        while frames:
            fd, where, depth, pending = frames[-1]
            if not pending:
                frames.pop()
                os.close(fd)
                continue
            name = pending.pop()
            here = f"{where}/{one_line(name)}"
            if depth + 1 > MAX_DEPTH:
                raise InputError(here, "", f"at most {MAX_DEPTH} directory levels under PATH")
            _enter(_open_dir(name, fd, here), here, depth + 1, frames, out, wanted)
    finally:
        for fd, *_ in frames:
            os.close(fd)
    return out


def _enter(fd: int, where: str, depth: int, frames: list, out: Outputs, wanted: Wanted) -> list[str]:
    """Read the wanted files of directory ``fd`` and queue its subdirectories; returns their names."""
    try:
        subdirs = []
        for entry in _entries(fd, where, out):
            here = f"{where}/{one_line(entry.name)}"
            if _is_dir(entry, here):
                subdirs.append(entry.name)
            elif wanted(entry.name):
                data = read_input(entry.name, "saved esxcli output", out.room(), binary=True, shown=here, dir_fd=fd,
                                   follow_symlinks=False)
                out.add(entry.name, here, data)
    except BaseException:
        os.close(fd)
        raise
    frames.append((fd, where, depth, sorted(subdirs, reverse=True)))
    return sorted(subdirs)


def _open_dir(name: str, dir_fd: Optional[int], shown: str) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
    if dir_fd is not None:
        flags |= os.O_NOFOLLOW  # swapped for a link since it was listed: refused, not followed
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if dir_fd is not None and exc.errno in (errno.ELOOP, errno.ENOTDIR):  # changed since it was listed
            raise InputError(shown, "", f"a directory, not a symbolic link or a file ({_LINK_NOTE})") from None
        raise InputError(shown, "", f"a readable directory ({exc.strerror})") from None


def _entries(fd: int, where: str, out: Outputs) -> list[os.DirEntry]:
    entries = []
    try:
        with os.scandir(fd) as it:
            for entry in it:
                out.count_entry()
                entries.append(entry)
    except OSError as exc:
        raise InputError(where, "", f"a readable directory ({exc.strerror})") from None
    return sorted(entries, key=lambda e: e.name)


def _is_dir(entry: os.DirEntry, here: str) -> bool:
    """True for a directory, False for a regular file; anything else is refused."""
    try:
        if entry.is_symlink():
            raise InputError(here, "", f"a file or directory, not a symbolic link ({_LINK_NOTE})")
        if entry.is_dir(follow_symlinks=False):
            return True
        if entry.is_file(follow_symlinks=False):
            return False
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError as exc:
        raise InputError(here, "", f"a readable directory entry ({exc.strerror})") from None
    raise InputError(here, "", f"a regular file or directory, not {kind_of(mode)} (special files are refused)")


# ---------------------------------------------------------------- archives


class _HeaderTooBig(Exception):
    def __init__(self, offset: int, size: int):
        super().__init__(offset, size)
        self.offset, self.size = offset, size


class _CappedTarInfo(tarfile.TarInfo):
    """Refuses a pax or GNU long-name header over MAX_TAR_HEADER before tarfile reads it into memory."""

    def _proc_member(self, tarfile):  # noqa: ANN001 - tarfile's hook, called once per header block
        if self.type in _EXTENDED and self.size > MAX_TAR_HEADER:
            raise _HeaderTooBig(self.offset, self.size)
        return super()._proc_member(tarfile)


def compression(head: bytes) -> Optional[tuple[str, str]]:
    """(tarfile mode suffix, name) from a file's first 512 bytes, or None when it is no tar archive."""
    for magic, mode, label in _COMPRESSION:
        if head.startswith(magic):
            return mode, label
    if head[257:262] == b"ustar":
        return "", "uncompressed"
    return None


def read_archive(path: str, shown: str, wanted: Wanted, not_archive: str) -> Outputs:
    """Read the wanted members of a tar archive as a stream; ``not_archive`` is the error when it is none."""
    with open_input(path, ".tgz bundle", shown=shown) as raw:
        try:
            kind = compression(raw.read(512))
            raw.seek(0)
        except OSError as exc:
            raise InputError(shown, "", f"a readable .tgz bundle ({exc.strerror})") from None
        if kind is None:
            raise InputError(shown, "", not_archive)
        mode, label = kind
        try:
            with tarfile.open(fileobj=raw, mode=_READ_MODES[mode], tarinfo=_CappedTarInfo) as tar:
                return _members(tar, shown, wanted)
        except _HeaderTooBig as exc:
            raise InputError(shown, f"byte {exc.offset} of the uncompressed archive",
                             f"tar headers of at most {size_text(MAX_TAR_HEADER)}; this pax or long-name header "
                             f"declares {size_text(exc.size)}") from None
        except RecursionError:
            raise InputError(shown, "", "a tar archive whose extended headers end (these chain without end)") from None
        except _ARCHIVE_ERRORS as exc:
            reason = one_line(str(exc) or type(exc).__name__)[:200]
            raise InputError(shown, "", f"a readable {label} tar archive ({reason})") from None


def _members(tar: tarfile.TarFile, shown: str, wanted: Wanted) -> Outputs:
    out = Outputs(shown)
    while True:
        member = tar.next()
        if member is None:
            _drain(tar, shown)
            return out
        # tarfile keeps every header it read; an archive of a million empty members would fill memory.
        tar.members.clear()  # type: ignore[attr-defined]  # CPython's list of read headers; typeshed omits it
        out.count_entry()
        here = f"{shown}:{one_line(member.name)}"
        _check_member(member, here)
        top = PurePosixPath(member.name).parts[:1]
        if top and top[0] not in out.tops and len(out.tops) < MAX_TOPS:
            out.tops.append(top[0])
        if wanted(member.name) and not member.isdir():  # a directory holds nothing, as on disk
            out.add(member.name, here, _member_data(tar, member, here, out.room()))
        _skip_to(tar, tar.offset, here)


def _check_member(member: tarfile.TarInfo, here: str) -> None:
    if member.offset_data + member.size > MAX_TAR_BYTES:
        raise InputError(here, "", f"an archive of at most {size_text(MAX_TAR_BYTES)} uncompressed, skipped members "
                         f"included (this member ends past it); extract its commands/ folder and import that directory")
    parts = PurePosixPath(member.name).parts
    if member.name.startswith("/") or ".." in parts:
        raise InputError(here, "", "a member name inside the archive (no absolute path, no '..')")


def _member_data(tar: tarfile.TarFile, member: tarfile.TarInfo, here: str, room: int) -> bytes:
    if not member.isfile():
        what = "a link" if member.issym() or member.islnk() else "a device or FIFO"
        raise InputError(here, "", f"a regular file member, not {what}: the archive holds no content for it "
                         f"({_LINK_NOTE})")
    if member.size > room:
        raise InputError(here, "", f"a saved esxcli output of at most {size_text(room)}; this member is "
                         f"{size_text(member.size)}")
    fh = tar.extractfile(member)
    data = fh.read(member.size) if fh is not None else b""
    if len(data) != member.size:
        raise InputError(here, "", "a complete member (the archive ends inside it)")
    return data


def _drain(tar: tarfile.TarFile, shown: str) -> None:
    """Read on past the end-of-archive blocks, so gzip checks its CRC and length.

    A flipped or cut byte is then an error, not a quietly different import.
    """
    fileobj = tar.fileobj
    while fileobj.read(_CHUNK):
        if fileobj.tell() > MAX_TAR_BYTES:
            raise InputError(shown, "", f"an archive of at most {size_text(MAX_TAR_BYTES)} uncompressed")


def _skip_to(tar: tarfile.TarFile, offset: int, here: str) -> None:
    """Decompress up to the next header, the bytes read and dropped (flat memory, whatever the member's size)."""
    fileobj = tar.fileobj
    left = offset - fileobj.tell()
    while left > 0:
        chunk = fileobj.read(min(left, _CHUNK))
        if not chunk:
            raise InputError(here, "", "a complete member (the archive ends inside it)")
        left -= len(chunk)
