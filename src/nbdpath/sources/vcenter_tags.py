"""VM tags from the vSphere Automation API: vSphere tags are not in the vim25 (SOAP) API.

A backup job often picks its VMs by tag (Veeam, Rubrik and Commvault all offer it), so
``discover`` reads them when it reads VMs, through the classic REST endpoints
(``/rest/com/vmware/cis``: vCenter 6.5 and later; 7.0 and 8.0 serve them beside ``/api``,
and govmomi's simulator serves only these):

1. ``POST /rest/com/vmware/cis/session`` with the same user and password (HTTP basic),
   ``vmware-use-header-authn`` so the session id comes back in the body, not a cookie;
2. ``GET /rest/com/vmware/cis/tagging/tag``: every tag id;
3. ``GET .../tagging/tag/id:ID`` for each: its name (one exchange per tag, on one
   kept-alive connection);
4. ``POST .../tagging/tag-association?~action=list-attached-objects-on-tags`` with the
   ids, :data:`BATCH` at a time: which objects each tag is attached to;
5. ``DELETE`` the session.

Every exchange has the TLS settings and the deadline of the SOAP session
(:func:`~nbdpath.sources.vsphere.tls_context`), every answer is bounded, and the
credentials go only into the first request's header. A server without the API (an
ESXi host, an older vCenter) or a user it refuses is not a failed discovery: the tags
are then listed under the snapshot's ``missing`` with the reason, and a job selecting by
tag says so (``estimate``). Tag names keep their text, not their category: a job names
the tag (``tags: [gold]``), and a name in two categories is one name here.
"""

from __future__ import annotations

import base64
import http.client
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional
from urllib.parse import quote

from ..io import size_text
from ..safetext import is_safe_name, one_line
from .vsphere import ConnectOptions, Credentials, Endpoint, describe, server_text, tls_context

REST = "/rest/com/vmware/cis"
SESSION = f"{REST}/session"
TAGS = f"{REST}/tagging/tag"
ATTACHED = f"{REST}/tagging/tag-association?~action=list-attached-objects-on-tags"
BATCH = 500  # tag ids per association call: one answer stays small on an estate of thousands of tags
MAX_ANSWER = 32 * 2**20  # an association answer for 500 tags on 100,000 VMs is a few MiB
MAX_TAGS = 100_000  # far beyond any vCenter's (its documented maximum is a few thousand per category)


@dataclass(frozen=True)
class VmTags:
    """What the Automation API said: tag names per VM moref id, or why there are none."""

    by_vm: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unavailable: Optional[str] = None  # the reason no tag was read
    skipped: tuple[str, ...] = ()  # tag names refused as text (control characters), escaped

    def missing(self, label: str) -> dict[str, str]:
        """What the snapshot's ``missing`` says of vCenter ``label``'s tags: why none were
        read, and how many names were refused."""
        out = {}
        if self.unavailable:
            out[f"tags:{label}"] = (f"VM tags not read ({self.unavailable}); a job selecting by tag selects "
                                    "nothing: give them under vms[].tags")
        if self.skipped:
            out[f"tags:{label}/refused"] = (f"{len(self.skipped)} tag name(s) with control characters left out: "
                                            + ", ".join(self.skipped[:5]))
        return out


class _Unavailable(Exception):
    """Tags cannot be read from this server; caught in :func:`read_vm_tags`."""


def read_vm_tags(ep: Endpoint, creds: Credentials, opts: ConnectOptions) -> VmTags:
    """Every VM's tags, or :attr:`VmTags.unavailable` saying why not; never raises for
    what the server or the network does."""
    conn = http.client.HTTPSConnection(ep.host, ep.port, timeout=opts.timeout_s, context=tls_context(opts))
    try:
        token = _login(conn, creds)
        try:
            return _read(conn, token)
        finally:
            try:
                _exchange(conn, "DELETE", SESSION, token)
            except _Unavailable:
                pass
    except _Unavailable as exc:
        return VmTags(unavailable=str(exc))
    except (OSError, http.client.HTTPException) as exc:
        return VmTags(unavailable=describe(exc, opts.timeout_s))
    finally:
        conn.close()


def _login(conn: http.client.HTTPSConnection, creds: Credentials) -> str:
    basic = base64.b64encode(f"{creds.user}:{creds.password}".encode("utf-8")).decode("ascii")
    status, body = _request(conn, "POST", SESSION, {"Authorization": f"Basic {basic}",
                                                   "vmware-use-header-authn": "true"})
    if status in (401, 403):
        raise _Unavailable("the vSphere Automation API refused the user name or password")
    if status == 404:
        raise _Unavailable("no vSphere Automation API at /rest (an ESXi host, or vCenter older than 6.5)")
    token = _value(status, body, "POST " + SESSION)
    if not isinstance(token, str) or not token or not token.isprintable():
        raise _Unavailable(f"POST {SESSION}: expected a session id, got {one_line(repr(token))[:80]}")
    return token


def _read(conn: http.client.HTTPSConnection, token: str) -> VmTags:
    ids = _exchange(conn, "GET", TAGS, token)
    if ids is None:  # no tag at all: govmomi's simulator writes an empty list as null
        ids = []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _Unavailable(f"GET {TAGS}: expected a list of tag ids")
    if len(ids) > MAX_TAGS:
        raise _Unavailable(f"GET {TAGS}: {len(ids):,} tags, more than the {MAX_TAGS:,} read")
    names: dict[str, str] = {}
    skipped = []
    for tag_id in ids:
        tag = _exchange(conn, "GET", f"{TAGS}/id:{quote(tag_id, safe='')}", token)
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str):
            raise _Unavailable(f"GET {TAGS}/id:...: expected a tag with a name")
        name = name.strip()
        if name and is_safe_name(name):
            names[tag_id] = name
        else:
            skipped.append(one_line(name) or "''")
    by_vm: dict[str, list[str]] = {}
    wanted = list(names)
    for start in range(0, len(wanted), BATCH):
        answer = _exchange(conn, "POST", ATTACHED, token, {"tag_ids": wanted[start:start + BATCH]})
        if answer is None:  # null: no tag has an object
            continue
        if not isinstance(answer, list) or not all(isinstance(e, dict) for e in answer):
            raise _Unavailable(f"POST {ATTACHED.split('?')[0]}: expected a list of tags with their objects")
        for entry in answer:
            name = names.get(str(entry.get("tag_id")))
            objects = entry.get("object_ids")
            if name is None or not isinstance(objects, list):
                continue
            for obj in objects:
                if isinstance(obj, dict) and obj.get("type") == "VirtualMachine" and isinstance(obj.get("id"), str):
                    tags = by_vm.setdefault(obj["id"], [])
                    if name not in tags:
                        tags.append(name)
    return VmTags({vm: tuple(sorted(tags)) for vm, tags in by_vm.items()}, None, tuple(skipped))


def _exchange(conn: http.client.HTTPSConnection, method: str, path: str, token: str,
              payload: Optional[dict] = None) -> Any:
    headers = {"vmware-api-session-id": token}
    body = None
    if payload is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(payload).encode("utf-8")
    status, answer = _request(conn, method, path, headers, body)
    if method == "DELETE":
        return None
    return _value(status, answer, f"{method} {path.split('?')[0]}")


def _request(conn: http.client.HTTPSConnection, method: str, path: str, headers: dict[str, str],
             body: Optional[bytes] = None) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers={"Accept": "application/json", **headers})
    resp = conn.getresponse()
    data = resp.read(MAX_ANSWER + 1)
    if len(data) > MAX_ANSWER:
        raise _Unavailable(f"{method} {path.split('?')[0]}: an answer larger than {size_text(MAX_ANSWER)}")
    return resp.status, data


def _value(status: int, body: bytes, what: str) -> Any:
    """The ``value`` of a 200 answer (the classic endpoints wrap every result in one)."""
    if status != 200:
        raise _Unavailable(f"{what}: HTTP {status} {server_text(body[:200].decode('utf-8', 'replace'))}".rstrip())
    try:
        doc = json.loads(body)
    except ValueError:
        raise _Unavailable(f"{what}: the answer is not JSON") from None
    if not isinstance(doc, dict) or "value" not in doc:
        raise _Unavailable(f"{what}: expected {{\"value\": ...}}")
    return doc["value"]
