"""The bulk read, parsed fast: one SOAP call through pyVmomi's session, read with ElementTree.

Why: pyVmomi builds a typed Python object for every XML element with
Python-level expat callbacks; for 1,000 hosts (~550 elements each) that is
~7 s, nearly all of discovery. The request is still serialised by pyVmomi
(same session cookie, same connection pool, same TLS context); only the
response of the big RetrievePropertiesEx / ContinueRetrievePropertiesEx is
parsed with the C ElementTree parser and read lazily through :class:`XmlData`,
which answers attribute access like a pyVmomi data object does (all values
are text: callers convert with :func:`as_int` / :func:`as_bool`).
"""

from __future__ import annotations

import contextlib
import http.client
import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional, Sequence
from xml.sax.saxutils import escape

from ..errors import SoapFault  # noqa: F401 - re-exported: the fault type this module raises

SOAP_ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
# One page of 250 hosts is about 50 MiB; parsed, an answer takes several times its size in memory.
MAX_ANSWER = 512 * 2**20
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# A VM's config.hardware.device lists a dozen devices (controllers, keyboard,
# video, VMCI, NICs...) of which discovery reads only the disks: dropped as
# bytes before parsing, the rest of a VM page parses in a fraction of the
# time. Safe on any answer: XML text cannot hold a literal "<", so a match can
# neither start nor end inside a value, and VirtualDevice elements do not
# nest. An answer written otherwise (other prefixes, attributes) simply keeps
# its devices. Any namespace prefix on the xsi attribute (vCenter writes
# "xsi:", govmomi "XMLSchema-instance:") and on the type name is allowed.
NON_DISK_DEVICES = re.compile(
    rb'<VirtualDevice [A-Za-z_][\w.-]*:type="(?![\w.-]*:?VirtualDisk")[\w.:-]*">'
    rb'[^<]*(?:<(?!/VirtualDevice>)[^<]*)*</VirtualDevice>')  # unrolled: 1.6x faster than .*?


class XmlData:
    """Read-only attribute view of one XML data object.

    ``obj.name`` is: ``None`` if there is no such child, the text of a leaf
    child, an :class:`XmlData` for a structured child, or a list when the
    child repeats (vSphere arrays). A one-element array therefore comes back
    as a single value: callers wrap with :func:`as_list`.
    """

    __slots__ = ("_el", "_ns")

    def __init__(self, el: ET.Element, ns: str):
        self._el = el
        self._ns = ns

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        found = self._el.findall(self._ns + name)
        if not found:
            return None
        if len(found) == 1:
            return _value(found[0], self._ns)
        return [_value(e, self._ns) for e in found]

    @property
    def xsi_type(self) -> Optional[str]:
        return self._el.get(XSI_TYPE)

    @property
    def mo_type(self) -> Optional[str]:
        """For a ManagedObjectReference element: its type attribute."""
        return self._el.get("type")

    def __repr__(self) -> str:
        return f"XmlData({self._el.tag.removeprefix(self._ns)})"


def _value(el: ET.Element, ns: str) -> Any:
    return XmlData(el, ns) if is_data(el) else el.text or ""


def is_data(el: ET.Element) -> bool:
    """Whether ``el`` holds a data object (or a moref), not a primitive: what :class:`XmlData` wraps."""
    if len(el) or el.get("type") is not None:
        return True
    if el.text:
        return False  # a primitive or an enum value (xsi:type "HostSystemConnectionState"...)
    xsi = el.get(XSI_TYPE)
    return xsi is not None and not xsi.startswith("xsd:")  # an empty data object, e.g. a fault without fields


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, XmlData)):
        return [value]
    return list(value)


def as_int(value: Any) -> Optional[int]:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def moref_id(value: Any) -> Optional[str]:
    """The id of a ManagedObjectReference from either representation."""
    if value is None:
        return None
    if isinstance(value, XmlData):
        return value._el.text
    return getattr(value, "_moId", None) or str(value)


# pyVmomi's private session (``_stub``) is used here and nowhere else: a SOAP call
# must go through the session's cookie, connection pool and TLS context, and
# pyVmomi offers no public way to send a request without parsing its answer.
# Only this module and nbdpath.sources.vsphere_pyvmomi know pyVmomi's insides.


def drop_connections(mo: Any) -> None:
    """Close the session's pooled connections without a logout (the server stopped answering)."""
    mo._stub.DropConnections()


def bind(cls: Any, moid: str, like: Any) -> Any:
    """The managed object ``cls(moid)`` on the same session as ``like`` (a moref read as text)."""
    return cls(moid, like._stub)


def invoke(mo: Any, method: str, *args: Any, drop: Optional[re.Pattern[bytes]] = None) -> XmlData:
    """Call ``method`` on managed object ``mo`` and return the parsed ``returnval``.

    ``drop``: elements removed from the answer before parsing (see
    :data:`NON_DISK_DEVICES`). Raises :class:`SoapFault` for a fault answer;
    network errors propagate (the caller maps them to one line).
    """
    return parse_response(fetch(mo, method, *args), drop)


def fetch(mo: Any, method: str, *args: Any) -> bytes:
    """The raw answer to ``method`` on ``mo`` (at most :data:`MAX_ANSWER` bytes), not parsed yet."""
    return post(mo, request(mo, method, *args))


def request(mo: Any, method: str, *args: Any) -> bytes:
    """The SOAP request for ``method`` on ``mo``, as pyVmomi writes it (envelope, namespaces, request context)."""
    stub = mo._stub
    out = stub.SerializeRequest(mo, type(mo)._GetMethodInfo(method), list(args))
    return out.encode("utf-8") if isinstance(out, str) else out


def with_objects(template: bytes, placeholder: str, ids: Sequence[str]) -> bytes:
    """``template`` with its one ObjectSpec naming ``placeholder`` repeated once per moref id in ``ids``.

    pyVmomi takes ~0.1 ms to build and write each ObjectSpec (2 s for 20,000
    VMs); the ids are written here instead, escaped as XML text.
    """
    mark = placeholder.encode("ascii")
    at = template.index(mark)
    start = template.rindex(b"<objectSet>", 0, at)
    end = template.index(b"</objectSet>", at) + len(b"</objectSet>")
    one = template[start:end]
    objects = b"".join(one.replace(mark, escape(i).encode("utf-8")) for i in ids)
    return template[:start] + objects + template[end:]


def post(mo: Any, body: bytes) -> bytes:
    """Send one SOAP request on ``mo``'s session; the raw answer (at most :data:`MAX_ANSWER` bytes)."""
    stub = mo._stub
    headers = {"Cookie": stub.cookie, "SOAPAction": stub.versionId, "Content-Type": "text/xml; charset=UTF-8"}
    conn = stub.GetConnection()
    try:
        conn.request("POST", stub.path, body, headers)
        resp = conn.getresponse()
        data = resp.read(MAX_ANSWER + 1)
    except (OSError, http.client.HTTPException):
        conn.close()
        stub.DropConnections()
        raise
    if len(data) > MAX_ANSWER:  # the rest is unread: this connection cannot carry another request
        conn.close()
        raise SoapFault("AnswerTooLarge", f"an answer over {MAX_ANSWER // 2**20} MiB; use a smaller --page-size")
    stub.ReturnConnection(conn)
    if resp.status not in (200, 500):
        raise SoapFault("HTTPError", f"HTTP {resp.status} {resp.reason}")
    return data


# RetrieveResult lists its token before its objects (WSDL sequence order).
_TOKEN = re.compile(rb"<returnval[^>]*>\s*<token>([^<]{1,256})</token>")


def retrieve_pages(collector: Any, spec: Any, options: Any, drop: Optional[re.Pattern[bytes]] = None,
                   first: Optional[bytes] = None, split: Optional[Splitter] = None) -> Iterator[XmlData]:
    """RetrievePropertiesEx then ContinueRetrievePropertiesEx, each page parsed while the next one is fetched.

    The server serialises page N+1 while this process parses page N (on
    large estates each side takes about as long as the other). The token is
    read from the answer's first bytes to ask early; the parsed one must
    agree, else the early answer is discarded and the page asked for again.
    ``first``: the RetrievePropertiesEx request already written (see
    :func:`with_objects`); ``spec`` and ``options`` are then not used.
    ``split``: see :func:`parse_response`.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        data = post(collector, first) if first is not None else fetch(collector, "RetrievePropertiesEx", [spec], options)
        while True:
            peek = _TOKEN.search(data, 0, 4096)
            early = peek.group(1).decode("ascii", "replace") if peek else None
            ahead = pool.submit(fetch, collector, "ContinueRetrievePropertiesEx", early) if early else None
            result = parse_response(data, drop, split)
            token = result.token or None
            yield result
            if ahead is not None and token == early:
                data = ahead.result()
                continue
            if ahead is not None:
                with contextlib.suppress(Exception):  # asked with a token that was not the page's
                    ahead.result()
            if token is None:
                return
            data = fetch(collector, "ContinueRetrievePropertiesEx", token)


# Reads one property's ``val`` element: (path, element, namespace) -> value.
Reader = Callable[[str, ET.Element, str], Any]
Content = tuple[str, str, dict[str, Any], list[Any]]  # (type, moref id, {path: value}, missingSet entries)
# Stands, in a page, for a run of objects read without ElementTree (see Split).
MARKER = "nbdpath-objects-read"


class Split(NamedTuple):
    """A page with some of its objects read already: what a :data:`Splitter` returns."""

    page: bytes  # the answer, each run of objects read replaced by one empty MARKER element
    runs: list[list[Content]]  # those objects, per marker, in page order
    outer: bool  # the markers carry the XML Schema instance prefix the objects rely on, to have it checked


Splitter = Callable[[bytes], Optional[Split]]


class Page(XmlData):
    """A ``returnval`` whose MARKER children stand for objects read already (yielded in their place)."""

    __slots__ = ("runs",)

    def __init__(self, el: ET.Element, ns: str, runs: list[list[Content]]):
        super().__init__(el, ns)
        self.runs = runs


def object_contents(result: XmlData, readers: Optional[Mapping[str, Reader]] = None) -> Iterator[Content]:
    """(type, moref id, {path: value}, missingSet entries) of each ObjectContent of a RetrieveResult.

    Read with ElementTree directly: 20,000 VMs make ~10^5 propSet entries,
    and two attribute lookups apiece were a visible share of discovery.
    ``readers``: object type -> :data:`Reader` for that type's values
    (default: :class:`XmlData` views); a reader that returns plain values
    lets the page's tree be freed once the page is read. A :class:`Page`
    yields its runs of objects read already in their places.
    """
    ns = result._ns
    if not isinstance(result, Page):
        for oc in result._el.iterfind(ns + "objects"):
            yield _content(oc, ns, readers)
        return
    marker, objects = ns + MARKER, ns + "objects"
    runs = iter(result.runs)
    for child in result._el:
        if child.tag == marker:
            yield from next(runs)
        elif child.tag == objects:
            yield _content(child, ns, readers)


def _content(oc: ET.Element, ns: str, readers: Optional[Mapping[str, Reader]]) -> Content:
    obj_tag, prop_tag, missing_tag = ns + "obj", ns + "propSet", ns + "missingSet"
    name_tag, val_tag = ns + "name", ns + "val"
    ref = oc.find(obj_tag)
    kind = (ref.get("type") or "") if ref is not None else ""
    read = readers.get(kind) if readers else None
    props: dict[str, Any] = {}
    missing: list[Any] = []
    for child in oc:
        if child.tag == prop_tag:
            val: Optional[ET.Element]
            if len(child) == 2 and child[0].tag == name_tag and child[1].tag == val_tag:  # as servers write it
                path, val = child[0].text or "", child[1]
            else:
                path, val = child.findtext(name_tag) or "", child.find(val_tag)
            if val is None:
                props[path] = None
            else:
                props[path] = _value(val, ns) if read is None else read(path, val, ns)
        elif child.tag == missing_tag:
            missing.append(XmlData(child, ns))
    return kind, (ref.text or "") if ref is not None else "", props, missing


def parse_response(data: bytes, drop: Optional[re.Pattern[bytes]] = None, split: Optional[Splitter] = None) -> XmlData:
    """A SOAP answer -> its ``returnval`` (pure); a fault answer raises :class:`SoapFault`.

    ``split``: reads some objects from the bytes; the rest of the page is
    parsed here, and must hold the markers as direct children of its
    ``returnval`` (else the whole page is parsed, as without ``split``).
    """
    if drop is not None:
        data = drop.sub(b"", data)
    cut = split(data) if split is not None else None
    if cut is not None:
        try:
            rest = _returnval(cut.page)
        except SoapFault:
            rest = None
        if rest is not None:
            markers = rest._el.findall(rest._ns + MARKER)
            if len(markers) == len(cut.runs) and (not cut.outer or all(m.get(XSI_TYPE) == MARKER for m in markers)):
                return Page(rest._el, rest._ns, cut.runs)
    return _returnval(data)


def _returnval(data: bytes) -> XmlData:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise SoapFault("ParseError", f"the answer is not XML ({exc})") from None
    body = root.find(SOAP_ENV + "Body")
    if body is None or len(body) == 0:
        raise SoapFault("ParseError", "the answer has no SOAP body")
    answer = body[0]
    if answer.tag == SOAP_ENV + "Fault":
        message = answer.findtext("faultstring") or ""
        detail = answer.find("detail")
        kind = "SOAPFault"
        if detail is not None and len(detail):
            kind = detail[0].get(XSI_TYPE) or detail[0].tag.split("}")[-1]
        kind = kind.split(":")[-1]
        raise SoapFault(kind.removesuffix("Fault") if kind.endswith("FaultFault") else kind, message)
    ns = answer.tag[: answer.tag.index("}") + 1] if answer.tag.startswith("{") else ""
    returnval = answer.find(ns + "returnval")
    return XmlData(returnval if returnval is not None else ET.Element(ns + "returnval"), ns)
