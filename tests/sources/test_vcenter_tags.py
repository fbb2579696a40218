"""The Automation API's answers that vcsim never gives (tests/vcsim covers the real ones):
refusals, a server without the API, malformed and oversized answers. The connection is a
stand-in that answers from a table: these are answers, not network behaviour."""

from __future__ import annotations

import json

import pytest

from nbdpath.sources import vcenter_tags as vt
from nbdpath.sources.vsphere import ConnectOptions, Credentials, Endpoint


class _Answer:
    def __init__(self, status: int, body: bytes):
        self.status, self._body = status, body

    def read(self, n: int) -> bytes:
        return self._body[:n]


class _Conn:
    def __init__(self, answers: dict[tuple[str, str], tuple[int, object]]):
        self.answers, self.asked, self._last = answers, [], None

    def request(self, method, path, body=None, headers=None):
        self.asked.append((method, path, headers or {}, body))
        status, value = self.answers.get((method, path.split("?")[0]), (404, b""))
        self._last = _Answer(status, value if isinstance(value, bytes) else json.dumps({"value": value}).encode())

    def getresponse(self):
        return self._last

    def close(self):
        pass


def _read(monkeypatch, answers) -> tuple[vt.VmTags, _Conn]:
    conn = _Conn(answers)
    monkeypatch.setattr(vt.http.client, "HTTPSConnection", lambda *a, **k: conn)
    got = vt.read_vm_tags(Endpoint("vc", 443, "vc"), Credentials("u", "s3cret"), ConnectOptions(insecure=True))
    return got, conn


_OK = {("POST", vt.SESSION): (200, "tok"), ("DELETE", vt.SESSION): (200, None)}


def test_tags_by_vm_and_the_password_only_in_the_login(monkeypatch):
    got, conn = _read(monkeypatch, {**_OK, ("GET", vt.TAGS): (200, ["t1", "t2", "t3"]),
                                    ("GET", vt.TAGS + "/id:t1"): (200, {"name": "gold"}),
                                    ("GET", vt.TAGS + "/id:t2"): (200, {"name": " silver "}),
                                    ("GET", vt.TAGS + "/id:t3"): (200, {"name": "bad\x1bname"}),
                                    ("POST", vt.ATTACHED.split("?")[0]): (200, [
                                        {"tag_id": "t1", "object_ids": [{"id": "vm-1", "type": "VirtualMachine"},
                                                                        {"id": "host-9", "type": "HostSystem"}]},
                                        {"tag_id": "t2", "object_ids": [{"id": "vm-1", "type": "VirtualMachine"},
                                                                        {"id": "vm-2", "type": "VirtualMachine"}]}])})
    assert got == vt.VmTags({"vm-1": ("gold", "silver"), "vm-2": ("silver",)}, None, ("bad\\x1bname",))
    auth = [h for _, _, h, _ in conn.asked if "Authorization" in h]
    assert len(auth) == 1 and conn.asked[0][0] == "POST"
    assert all("s3cret" not in json.dumps([m, p, h.get("vmware-api-session-id"), str(b)]) for m, p, h, b in conn.asked)
    assert conn.asked[-1][0] == "DELETE"  # logged out
    body = json.loads([b for m, p, _, b in conn.asked if p.startswith(vt.ATTACHED.split("?")[0])][0])
    assert body == {"tag_ids": ["t1", "t2"]}  # the refused name's tag is not asked


@pytest.mark.parametrize("answers, why", [
    ({}, "no vSphere Automation API at /rest"),
    ({("POST", vt.SESSION): (401, b"")}, "refused the user name or password"),
    ({**_OK, ("GET", vt.TAGS): (200, b"<html>")}, "the answer is not JSON"),
    ({**_OK, ("GET", vt.TAGS): (200, b'{"other": 1}')}, 'expected {"value": ...}'),
    ({**_OK, ("GET", vt.TAGS): (200, {"a": 1})}, "expected a list of tag ids"),
    ({**_OK, ("GET", vt.TAGS): (500, b"boom\x1b[2J")}, "HTTP 500 boom\\x1b[2J"),
    ({**_OK, ("GET", vt.TAGS): (200, ["t1"]), ("GET", vt.TAGS + "/id:t1"): (200, {"name": "a"}),
      ("POST", vt.ATTACHED.split("?")[0]): (200, "nonsense")}, "expected a list of tags with their objects"),
])
def test_what_cannot_be_read_is_said_not_raised(monkeypatch, answers, why):
    got, _ = _read(monkeypatch, answers)
    assert got.by_vm == {} and why in (got.unavailable or "")
    assert "\x1b" not in got.unavailable


def test_an_oversized_answer_is_refused_at_the_bound(monkeypatch):
    monkeypatch.setattr(vt, "MAX_ANSWER", 100)
    got, _ = _read(monkeypatch, {**_OK, ("GET", vt.TAGS): (200, ["t" * 200])})
    assert "larger than" in got.unavailable


def test_a_network_failure_is_a_reason(monkeypatch):
    class Refused(_Conn):
        def request(self, *a, **k):
            raise ConnectionRefusedError(111, "refused")

    monkeypatch.setattr(vt.http.client, "HTTPSConnection", lambda *a, **k: Refused({}))
    got = vt.read_vm_tags(Endpoint("vc", 443, "vc"), Credentials("u", "p"), ConnectOptions(insecure=True))
    assert "connection refused" in got.unavailable
