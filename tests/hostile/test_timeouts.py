"""--timeout holds from the first byte: against servers that accept and then stall, discover and apply end in
one exit-2 line naming the server and the timeout.

Each server runs on 127.0.0.1 in threads; each command runs in a thread joined
with a generous bound: a hang guard only (the issue's hang was over 90 s), never
a speed assertion.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from nbdpath.cli import main

TIMEOUT = 2
HANG_GUARD = TIMEOUT + 10
PASSWORD = "hunter2-never-printed"

VERSIONS_XML = (b'<?xml version="1.0" encoding="UTF-8" ?><namespaces version="1.0"><namespace>'
                b"<name>urn:vim25</name><version>8.0.3.0</version></namespace></namespaces>")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (the client verifies it with --ca-file)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class Server:
    """Accepts every connection and hands it to ``behave`` in its own thread; all closed at the end."""

    def __init__(self, behave, tls: ssl.SSLContext | None = None, backlog: int = 16):
        self.behave, self.tls = behave, tls
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=backlog)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()

    def serve(self) -> Server:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
                self.conns.append(conn)
            self.behave(conn, self.stop)
        except OSError:
            pass  # the client gave up: that is what the tests want

    def close(self) -> None:
        self.stop.set()
        for s in [self.sock, *self.conns]:
            try:
                s.close()
            except OSError:
                pass


def _hold(conn, stop):
    stop.wait()


def _read_request(conn) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _mute(conn, stop):
    _read_request(conn)
    stop.wait()


def _trickle(conn, stop):
    """An answer that never ends: one byte every half second, so no single read ever waits long."""
    _read_request(conn)
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nX-Padding: " + b"a" * 10_000
    for byte in answer:
        if stop.wait(0.5):
            return
        conn.sendall(bytes([byte]))


def _api_then_trickle(conn, stop):
    """A real version list first (so login starts), then every SOAP call trickles."""
    request = _read_request(conn)
    if request.startswith(b"GET /sdk/vimServiceVersions.xml"):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % len(VERSIONS_XML) + VERSIONS_XML)
        return
    _trickle(conn, stop)


def _server_context(tls_files) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*map(str, tls_files))
    return ctx


@pytest.fixture
def server(tls_files):
    started: list[Server] = []

    def start(kind: str) -> Server:
        if kind == "silent":  # accepts TCP, never speaks TLS
            srv = Server(_hold)
        elif kind == "no-accept":  # the accept queue is full: connect itself stalls
            srv = Server(_hold, backlog=0)
            filler = socket.create_connection(("127.0.0.1", srv.port))
            srv.conns.append(filler)
            started.append(srv)
            return srv  # never accepts
        else:
            behave = {"tls-mute": _mute, "trickle": _trickle, "login-trickle": _api_then_trickle}[kind]
            srv = Server(behave, tls=_server_context(tls_files))
        started.append(srv)
        return srv.serve()

    yield start
    for srv in started:
        srv.close()


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """main() in a thread, so that a hang fails the test instead of stalling the suite."""
    box: dict[str, int] = {}
    worker = threading.Thread(target=lambda: box.setdefault("rc", main(args)), daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    assert not worker.is_alive(), f"nbdpath {args[0]} still running after {HANG_GUARD} s"
    return box["rc"], capsys.readouterr().err


@pytest.fixture
def files(tmp_path, tls_files, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"version": 1, "steps": [
        {"op": {"op": "tag-add", "host": "esx01", "vmk": "vmk1", "tag": "vSphereBackupNFC"}}]}))
    return {"pw": str(pw), "plan": str(plan), "ca": str(tls_files[0]), "out": str(tmp_path / "snap.json"),
            "dir": tmp_path}


def command(which: str, port: int, files) -> list[str]:
    common = ["--server", f"127.0.0.1:{port}", "--user", "admin", "--password-file", files["pw"],
              "--ca-file", files["ca"], "--timeout", str(TIMEOUT)]
    if which == "discover":
        return ["discover", *common, "-o", files["out"]]
    return ["apply", files["plan"], *common]


KINDS = ["silent", "no-accept", "tls-mute", "trickle", "login-trickle"]


@pytest.mark.parametrize("which", ["discover", "apply"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_stalling_server_ends_in_one_line_within_about_the_timeout(server, files, capsys, kind, which):
    srv = server(kind)
    rc, err = run_cli(command(which, srv.port, files), capsys)
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nbdpath: error: "), err
    assert f"127.0.0.1:{srv.port}" in lines[0]
    assert f"within {TIMEOUT} s" in lines[0] and "--timeout" in lines[0]
    assert "Traceback" not in err and PASSWORD not in err
    assert not Path(files["out"]).exists()


def test_apply_execute_against_a_stalling_server_changes_nothing_and_writes_no_journal(server, files, capsys):
    srv = server("login-trickle")
    journal = files["dir"] / "j.json"
    rc, err = run_cli([*command("apply", srv.port, files), "--execute", "--yes", "--journal", str(journal)], capsys)
    assert rc == 2 and f"within {TIMEOUT} s" in err
    assert not journal.exists()


def test_the_deadline_covers_a_whole_answer_not_each_read(tls_files):
    """The socket-level bound itself: a server trickling faster than any per-read timeout still times out."""
    import http.client

    from nbdpath.sources import vcenter

    srv = Server(_trickle, tls=_server_context(tls_files)).serve()
    box: dict[str, BaseException] = {}

    def fetch():
        ctx = vcenter.tls_context(vcenter.ConnectOptions(ca_file=str(tls_files[0]), timeout_s=TIMEOUT))
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=TIMEOUT, context=ctx)
        try:
            conn.request("GET", "/")
            conn.getresponse()
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            box["exc"] = exc
        finally:
            conn.close()

    try:
        worker = threading.Thread(target=fetch, daemon=True)
        worker.start()
        worker.join(HANG_GUARD)
        assert not worker.is_alive(), "a trickling answer held the connection past the deadline"
        assert isinstance(box.get("exc"), TimeoutError)
    finally:
        srv.close()
