"""The journal's seal: an HMAC-SHA256 under a key only this user can read.

Why a keyed MAC and not a plain hash: anyone who can edit a journal can
recompute a SHA-256 over it, so a hash only catches accidents. The key (32
random bytes, created on the first ``apply --execute``) lives in the user's
state directory with mode 0600; a journal edited by anyone who cannot read
that key - another user, a colleague, whoever handed it over - no longer
verifies, and ``--rollback`` refuses it. Threat model and limits: docs/apply.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Any

from ..errors import InputError

ALGORITHM = "hmac-sha256"
_DOMAIN = b"nbdpath apply journal v2\n"  # a MAC of this key over anything else never verifies a journal


def key_path() -> Path:
    """``$XDG_STATE_HOME/nbdpath/journal.key``, by default ``~/.local/state/nbdpath/journal.key``."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"  # the spec ignores relative paths
    return root / "nbdpath" / "journal.key"


def load_key(create: bool = False) -> bytes:
    """This user's journal key; with ``create``, made on first use. InputError names the key file."""
    path = key_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        if not create:
            raise InputError(str(path), "", "the journal key nbdpath creates on the first `apply --execute`; "
                                             "there is none, so no journal was written by this user here") from None
    return _create_key(path)


def _read_key(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InputError(str(path), "", f"a readable journal key ({exc.strerror or exc}; a symlink is refused)") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            raise InputError(str(path), "", "a regular file owned by you (the journal key)")
        if info.st_mode & 0o077:
            raise InputError(str(path), "", f"a key only you can read (mode 0600; it is {stat.S_IMODE(info.st_mode):04o}): "
                                            f"anyone who can read it can forge journals; chmod 600 it")
        text = fh.read(200).decode("ascii", "replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise InputError(str(path), "", "a journal key of 64 hex digits (it was changed; delete it to make a new one, "
                                        "which invalidates earlier journals)")
    return key


def _create_key(path: Path) -> bytes:
    """Written whole to a private temp file, then linked in: two concurrent runs end up with one key."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".journal.key.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another run made it first: use that one
        finally:
            os.unlink(tmp)
    except OSError as exc:
        raise InputError(str(path), "", f"a journal key nbdpath can create ({exc.strerror or exc})") from None
    return _read_key(path)


def key_id(key: bytes) -> str:
    """Names the key in a journal without revealing it: tells 'another key' apart from 'edited'."""
    return hmac.new(key, b"nbdpath journal key id", hashlib.sha256).hexdigest()[:16]


def mac(document: dict[str, Any], key: bytes) -> str:
    """Over the canonical JSON of everything but the seal: what is verified is what is then read."""
    body = {k: v for k, v in document.items() if k != "seal"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return hmac.new(key, _DOMAIN + canonical, hashlib.sha256).hexdigest()


def seal(document: dict[str, Any], key: bytes) -> dict[str, Any]:
    return {**document, "seal": {"alg": ALGORITHM, "key": key_id(key), "mac": mac(document, key)}}


def verify(document: dict[str, Any], key: bytes, source: str) -> None:
    """InputError unless ``document`` carries a seal this key made over exactly this content."""
    found = document.get("seal")
    if not isinstance(found, dict) or set(found) != {"alg", "key", "mac"} or found["alg"] != ALGORITHM:
        raise InputError(source, "seal", f"an {ALGORITHM} seal as `nbdpath apply --execute` writes it; "
                                         "this journal was not written by nbdpath, or its seal was removed")
    if not _same(found["key"], key_id(key)):
        raise InputError(source, "seal.key", f"a journal sealed with your key ({key_path()}); this one was "
                                             "written by another user or on another machine: roll it back there")
    if not _same(found["mac"], mac(document, key)):
        raise InputError(source, "seal.mac", "the content nbdpath sealed; the journal was changed after it was "
                                             "written (refused: a rollback trusts only what nbdpath wrote)")


def _same(found: Any, expected: str) -> bool:
    # compare_digest takes only ASCII str; any other text in the file is simply not the value.
    return isinstance(found, str) and hmac.compare_digest(found.encode("utf-8", "replace"), expected.encode("ascii"))
