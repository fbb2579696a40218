"""The history database: schema, migrations, and the queries behind `nbdpath history`.

Storage is content-addressed: every snapshot part (the estate minus its hosts, each
host) and every host's results (its paths and findings) is a zlib-compressed blob
keyed by the SHA-256 of its canonical JSON, stored once. A run is a row plus one
(host, part hash, result hash) row per host, so a night in which nothing changed
costs a few dozen bytes per host.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import zlib
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from operator import attrgetter
from typing import Any, Iterable, Iterator, Mapping, Optional

from ..errors import InputError, UsageError

# Each step takes the schema from version i to i+1 (user_version counts the steps applied).
# Never edit a released step: append a new one.
MIGRATIONS: list[str] = [
    # 1: the tables.
    """
    CREATE TABLE blobs (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
    CREATE TABLE runs (id INTEGER PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL,
                       name TEXT NOT NULL, top BLOB NOT NULL, summary TEXT NOT NULL);
    CREATE TABLE run_hosts (run INTEGER NOT NULL, pos INTEGER NOT NULL, host TEXT NOT NULL,
                            cluster TEXT, part BLOB NOT NULL, result BLOB NOT NULL,
                            PRIMARY KEY (run, pos)) WITHOUT ROWID;
    """,
    # 2: `list` and the default `drift` order runs by time.
    "CREATE INDEX runs_at ON runs(at, id);",
]
SCHEMA_VERSION = len(MIGRATIONS)


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "nbdpath" / "history.sqlite"


def _private_dirs(folder: Path) -> None:
    """mkdir -p, but every folder it creates is 0700 (Path.mkdir gives parents the default mode)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700)


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def snapshot_parts(snapshot: dict[str, Any]) -> bytes:
    """What :meth:`Store.record` keeps of a snapshot's data, encoded: its name and hosts'
    names and clusters, its top (all but the hosts) and each host as canonical JSON, framed
    in one bytes. history record encodes them in a forked child (io.Forked) while the
    snapshot is traced and checked: 0.5 s of a 10,000-host record."""
    hosts = snapshot.get("hosts", [])
    head = canonical([str(snapshot.get("name", "")), [[h["name"], h.get("cluster")] for h in hosts]])
    frames = [head, canonical({k: v for k, v in snapshot.items() if k != "hosts"}), *map(canonical, hosts)]
    return b"".join(len(f).to_bytes(8, "little") + f for f in frames)


def _frames(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        size = int.from_bytes(data[pos:pos + 8], "little")
        out.append(data[pos + 8:pos + 8 + size])
        pos += 8 + size
    return out


def _guarded(method):
    """A damaged, locked or full database ends as one InputError naming the file, not a traceback."""
    @wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self.error(exc) from exc
    return wrapper


@dataclass(frozen=True)
class RunInfo:
    id: int
    at: str
    source: str
    name: str
    summary: dict[str, Any]


class Store:
    """One open history database; every sqlite3 error leaves as one InputError naming the file."""

    def __init__(self, path: str | Path, create: bool = False):
        self.path = str(path)
        self._check_path(create)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise self.error(exc) from exc

    # ------------------------------------------------------------ opening

    def error(self, exc: Exception) -> InputError:
        return InputError(self.path, "", f"expected a nbdpath history database (SQLite): {exc}")

    def _check_path(self, create: bool) -> None:
        p = Path(self.path)
        try:
            st = p.stat()
        except FileNotFoundError:
            if not create:
                raise InputError(self.path, "", "no history database here; record a run first "
                                 "(`nbdpath history record SNAPSHOT`)") from None
            try:
                _private_dirs(p.parent)
            except OSError as exc:
                raise InputError(self.path, "", f"cannot create its folder: {exc.strerror or exc}") from exc
            return
        except OSError as exc:
            raise InputError(self.path, "", f"cannot read it: {exc.strerror or exc}") from exc
        if not stat.S_ISREG(st.st_mode):
            from ..io import kind_of

            raise InputError(self.path, "", f"expected a SQLite database file, found {kind_of(st.st_mode)}")
        if not os.access(self.path, os.R_OK):
            raise InputError(self.path, "", "cannot read it: permission denied")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputError(self.path, "", f"history schema version {version} is newer than this nbdpath "
                             f"knows ({SCHEMA_VERSION}); upgrade nbdpath to read it")
        for step in range(version, SCHEMA_VERSION):
            # executescript commits first; the step and its version bump go in one transaction.
            self.db.executescript(f"BEGIN; {MIGRATIONS[step]}; PRAGMA user_version = {step + 1}; COMMIT;")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ blobs

    # Blobs looked up this many at a time: SQLite's default limit of variables is 32,766
    # (999 before 3.32), and one lookup a blob was 0.1 s of a 10,000-host record.
    _LOOKUP = 500

    def _put_many(self, blobs: list[bytes]) -> list[bytes]:
        """Store each canonical JSON blob once; their keys, in order. Which are stored already
        is asked a few hundred at a time, and a blob already there is not compressed again: on
        a night where 1% of 10,000 hosts changed, compressing every part and result took 1.1 s
        of the record (benchmarks/README.md)."""
        keys = [digest(b) for b in blobs]
        have = {r[0] for r in self._blob_rows("hash", keys)}
        new = {k: b for k, b in zip(keys, blobs) if k not in have}
        self.db.executemany("INSERT INTO blobs (hash, data) VALUES (?, ?)",
                            ((k, zlib.compress(b, 6)) for k, b in new.items()))
        return keys

    def _blob_rows(self, columns: str, keys: Iterable[bytes]) -> Iterator[tuple]:
        """``columns`` of the stored blobs among ``keys`` (each asked once), :data:`_LOOKUP` a query."""
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), self._LOOKUP):
            chunk = unique[i:i + self._LOOKUP]
            yield from self.db.execute(f"SELECT {columns} FROM blobs WHERE hash IN ({','.join('?' * len(chunk))})", chunk)

    @_guarded
    def get(self, key: bytes) -> Any:
        return self.decoded(key, self.stored([key])[key])

    @_guarded
    def stored(self, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        """Each blob of ``keys`` as stored (compressed), asked a few hundred at a time (one query
        a blob was 0.3 s of a whole-fleet drift); :meth:`decoded` reads one."""
        wanted = list(dict.fromkeys(keys))
        found: dict[bytes, bytes] = dict(self._blob_rows("hash, data", wanted))
        for key in wanted:
            if key not in found:
                raise InputError(self.path, "blobs", f"missing blob {key.hex()[:16]} (database damaged)")
        return found

    def decoded(self, key: bytes, data: bytes) -> Any:
        """A blob's JSON data, from what :meth:`stored` gave for ``key``."""
        try:
            return json.loads(zlib.decompress(data))
        except (zlib.error, ValueError) as exc:
            raise InputError(self.path, "blobs", f"blob {key.hex()[:16]} unreadable (database damaged): {exc}") from exc

    @_guarded
    def blob_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM blobs").fetchone()[0]

    # ------------------------------------------------------------ runs

    @_guarded
    def record(self, snapshot: dict[str, Any], results: Mapping[str, HostResult | dict[str, Any]], at: str,
               source: str) -> int:
        """Store one run. ``snapshot``: the snapshot as JSON data; ``results``: per host
        name its :class:`HostResult` (:class:`ResultEncoder`), or the same as data,
        {"paths": [...], "findings": [...]} (:func:`host_result`)."""
        return self.record_parts(snapshot_parts(snapshot), results, at, source)

    @_guarded
    def record_parts(self, parts: bytes, results: Mapping[str, HostResult | dict[str, Any]], at: str,
                     source: str) -> int:
        """:meth:`record` of a snapshot already encoded by :func:`snapshot_parts`."""
        head, top, *host_parts = _frames(parts)
        name, hosts = json.loads(head)
        if len(hosts) != len(host_parts):
            raise ValueError("snapshot parts: one part per host expected")
        try:
            self.db.execute("BEGIN")
            encoded = []
            blobs = [top]
            for (host, cluster), part in zip(hosts, host_parts):
                res = results.get(host) or _NO_RESULT
                res = res if isinstance(res, HostResult) else HostResult.of(res)
                encoded.append((cluster, res))
                blobs += (part, res.data)
            keys = self._put_many(blobs)
            top_key = keys[0]
            rows = [(pos, host, cluster, keys[1 + 2 * pos], keys[2 + 2 * pos])
                    for pos, (host, cluster) in enumerate(hosts)]
            summary = summarise(encoded)
            cur = self.db.execute("INSERT INTO runs (at, source, name, top, summary) VALUES (?, ?, ?, ?, ?)",
                                  (at, source, name, top_key, json.dumps(summary)))
            run = cur.lastrowid
            assert run is not None, "sqlite3 sets lastrowid after a successful INSERT"
            self.db.executemany("INSERT INTO run_hosts (run, pos, host, cluster, part, result) VALUES (?, ?, ?, ?, ?, ?)",
                                [(run, *r) for r in rows])
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        return int(run)

    @_guarded
    def runs(self) -> list[RunInfo]:
        rows = self.db.execute("SELECT id, at, source, name, summary FROM runs ORDER BY at, id").fetchall()
        return [self._info(r) for r in rows]

    @_guarded
    def run(self, run_id: int) -> RunInfo:
        row = self.db.execute("SELECT id, at, source, name, summary FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise UsageError(f"{self.path}: no run {run_id} (see `nbdpath history list`)")
        return self._info(row)

    def _info(self, row: tuple) -> RunInfo:
        try:
            summary = json.loads(row[4])
        except ValueError as exc:
            raise InputError(self.path, f"run {row[0]}", "summary unreadable (database damaged)") from exc
        return RunInfo(id=row[0], at=row[1], source=row[2], name=row[3], summary=summary)

    @_guarded
    def hosts(self, run_id: int) -> list[tuple[str, Optional[str], bytes, bytes]]:
        """(host, cluster, part hash, result hash) per host of a run, in snapshot order."""
        return self.db.execute("SELECT host, cluster, part, result FROM run_hosts WHERE run = ? ORDER BY pos",
                               (run_id,)).fetchall()

    @_guarded
    def snapshot(self, run_id: int) -> dict[str, Any]:
        """The snapshot of a run as JSON data, reassembled from its parts."""
        self.run(run_id)
        (top,) = self.db.execute("SELECT top FROM runs WHERE id = ?", (run_id,)).fetchone()
        data = dict(self.get(top))
        data["hosts"] = [self.get(part) for _, _, part, _ in self.hosts(run_id)]
        return data


@dataclass(frozen=True)
class HostResult:
    """What a run keeps of one host: its canonical JSON (the blob) and the counts the
    run's summary adds up, in the order they first appear (paths by node, findings sorted)."""

    data: bytes
    verdicts: tuple[tuple[str, int], ...] = ()
    findings: tuple[tuple[str, int], ...] = ()  # ("RULE|severity", n)

    @classmethod
    def of(cls, result: dict[str, Any]) -> HostResult:
        """From the data form of :func:`host_result`: the reference the encoder is tested against."""
        return cls(canonical(result), _counted(p["verdict"] for p in result.get("paths", [])),
                   _counted(f"{f['rule']}|{f['severity']}" for f in result.get("findings", [])))


def _counted(keys: Iterable[str]) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    return tuple(counts.items())


_NO_RESULT: dict[str, Any] = {"paths": [], "findings": []}


def summarise(hosts: Iterable[tuple[Optional[str], HostResult]]) -> dict[str, Any]:
    """Counts per cluster: pairs by verdict, findings by (rule, severity)."""
    pairs: dict[str, dict[str, int]] = {}
    findings: dict[str, dict[str, int]] = {}
    n_hosts = 0
    for cluster, res in hosts:
        n_hosts += 1
        c = cluster or ""
        for into, counts in ((pairs, res.verdicts), (findings, res.findings)):
            if counts:
                bucket = into.setdefault(c, {})
                for key, n in counts:
                    bucket[key] = bucket.get(key, 0) + n
    return {"hosts": n_hosts, "pairs": pairs, "findings": findings}


def host_result(paths: Iterable[Any], findings: Iterable[Any]) -> dict[str, Any]:
    """What a run keeps of one host's paths (engine Path) and findings (rules Finding), as data."""
    out_paths = []
    for p in paths:
        o = p.outcome
        out_paths.append({
            "node": p.node, "ip": p.endpoint.ip, "vmk": p.endpoint.vmk,
            "ingress": o.ingress_vmk, "egress": o.egress_vmk,
            "uplinks": [[u.name, u.speed_mbps, u.link_up, u.role] for u in o.egress_uplinks],
            "bottleneck": o.bottleneck_mbps, "verdict": o.verdict.value,
        })
    return {"paths": sorted(out_paths, key=lambda d: d["node"]), "findings": _finding_dicts(findings)}


def _finding_dicts(findings: Iterable[Any]) -> list[dict[str, Any]]:
    out = [{"rule": f.rule, "severity": f.severity.value, "nodes": list(f.nodes), "vmk": f.vmk,
            "message": f.message} for f in findings]
    return sorted(out, key=lambda d: (d["rule"], d["vmk"] or "", d["nodes"], d["message"]))


def _text(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


class ResultEncoder:
    """:func:`host_result` written straight as its canonical JSON: hosts of one shape share
    Outcome objects, so the outcome's part of each path is encoded once. The same bytes as
    ``canonical(host_result(...))`` (tested); 10,000 hosts x 16 nodes: 3.4 s -> see
    benchmarks/README.md. Keyed by id(): the paths stay alive while it is used."""

    def __init__(self) -> None:
        self._outcomes: dict[int, tuple[str, str, str]] = {}
        self._texts: dict[Any, str] = {}

    def host(self, paths: Iterable[Any], findings: Iterable[Any]) -> HostResult:
        rows = []
        for p in sorted(paths, key=_NODE):
            o = p.outcome
            parts = self._outcomes.get(id(o))
            if parts is None:
                parts = self._outcomes[id(o)] = (
                    f'{{"bottleneck":{_text(o.bottleneck_mbps)},"egress":{_text(o.egress_vmk)},'
                    f'"ingress":{_text(o.ingress_vmk)},"ip":',
                    ',"uplinks":' + canonical([[u.name, u.speed_mbps, u.link_up, u.role]
                                                for u in o.egress_uplinks]).decode("utf-8")
                    + f',"verdict":{_text(o.verdict.value)},"vmk":',
                    o.verdict.value)
            ep = p.endpoint
            rows.append((parts, self._str(ep.ip), self._str(p.node), self._str(ep.vmk)))
        fs = _finding_dicts(findings)
        text = ('{"findings":' + canonical(fs).decode("utf-8") + ',"paths":['
                + ",".join(f'{a}{ip},"node":{node}{b}{vmk}}}' for (a, b, _), ip, node, vmk in rows) + "]}")
        return HostResult(text.encode("utf-8"), _counted(parts[2] for parts, *_ in rows),
                          _counted(f"{f['rule']}|{f['severity']}" for f in fs))

    def _str(self, v: Any) -> str:
        t = self._texts.get(v)
        if t is None:
            t = self._texts[v] = _text(v)
        return t


_NODE = attrgetter("node")
