"""The bulk retrieval's VM objects read straight from a page's text, without an XML tree.

Why: with 20,000 VMs, ElementTree builds ~700,000 elements for the VMs of the
bulk retrieval (an objects, obj, propSet, name and val element per value, the
layout's entries), to read seven short values a VM. A VM ObjectContent
written the way vCenter and vcsim write it is read here with regular
expressions: about half the CPU of parsing it and reading the tree
(benchmarks/README.md, "discover with VMs"). Anything else is left in the
page for ElementTree, as before: another object type, a missingSet, a value
of another shape (a disk device, a structured value), whitespace between
elements, attributes other than the XML Schema instance type and a moref's
type, a comment, CDATA or processing instruction anywhere in the page.

Exactness: a VM read here has the values that :func:`soapxml.object_contents`
with :func:`vcenter_convert.vm_value` read from the same page (the tests
compare both on generated pages). What is cut out is well-formed by
construction: fixed element spellings, no namespace declaration but the
XML Schema instance one, legal characters only, predefined entities and
legal character references. The rest of the page, with a marker where each
run of VM objects was, is still parsed by ElementTree, and the markers must
come back as direct children of the answer's ``returnval`` (with the prefix
bound to the XML Schema instance namespace when the objects rely on an outer
declaration): a page that is not XML fails there exactly as before.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Optional

from .soapxml import MARKER, Content, Split

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_VM_REFS = ("parent", "runtime.host")  # the values read as a moref's id (as vm_value reads them)

_DECL = re.compile(r'<\?xml version="1\.0"(?: encoding="(?i:utf-8)")?\?>[ \t\n]*')
# Every byte but the control characters XML 1.0 forbids and the carriage return (the parser rewrites line ends).
_LEGAL_BYTES = bytes(b for b in range(256) if b >= 0x20 or b in (0x09, 0x0A))
_CHAR_REF = re.compile(r"&#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}));")
_REF = re.compile(r"&(amp|lt|gt|quot|apos|#x[0-9a-fA-F]{1,6}|#[0-9]{1,7});")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_PREFIX = re.compile(r'<val(?: xmlns:[A-Za-z_][A-Za-z0-9_.-]{0,63}="[^"]*")? ([A-Za-z_][A-Za-z0-9_.-]{0,63}):type="')
# Character data: runs of plain characters between references (a group per character is 20x slower).
_TEXT = r"[^<&]*+(?:&(?:amp|lt|gt|quot|apos|#x[0-9a-fA-F]{1,6}|#[0-9]{1,7});[^<&]*+)*"
_ATTR = r'[^"<&\t\n\r]*'  # an attribute value the parser would not normalise
_LAYOUT_KEY = re.compile(r"<key>(-?[0-9]{1,9})</key>")
_OBJECTS, _OBJECTS_END = "<objects>", "</objects>"


class _Unsure(Exception):
    """This object is not in the form read here: ElementTree reads it."""


class _Grammar:
    """The expressions for a page whose values name the XML Schema instance namespace ``prefix``."""

    def __init__(self, prefix: str):
        p = re.escape(prefix)
        self.head = re.compile(rf'<objects><obj type="VirtualMachine">({_TEXT})</obj>')
        # Groups: path, the val's own declaration, type before, xsi:type, type after, "/" of <val/>.
        self.prop = re.compile(rf'<propSet><name>({_TEXT})</name><val( xmlns:{p}="{re.escape(XSI_NS)}")?'
                               rf'(?: type="({_ATTR})")? {p}:type="({_ATTR})"(?: type="({_ATTR})")?(/?)>')
        # A whole propSet whose val holds text only (six of a VM's seven values): one match.
        self.leaf = re.compile(self.prop.pattern.removesuffix("(/?)>") + rf">({_TEXT})</val></propSet>")
        self.layout = re.compile(
            r"((?:<VirtualMachineFileLayoutExDiskLayout><key>-?[0-9]{1,9}</key>"
            r"(?:<chain>(?:<fileKey>-?[0-9]{1,9}</fileKey>)*</chain>)*</VirtualMachineFileLayoutExDiskLayout>)*)"
            r"</val></propSet>")


@lru_cache(maxsize=8)  # a server writes one prefix (vCenter "xsi", govmomi "XMLSchema-instance")
def _grammar(prefix: str) -> _Grammar:
    return _Grammar(prefix)


def split_vm_page(data: bytes) -> Optional[Split]:
    """The page with each run of VM objects replaced by a marker, and those objects; None: ElementTree reads it all."""
    text = _plain_text(data)
    if text is None:
        return None
    first = text.find(_OBJECTS)
    prefix = _PREFIX.search(text, first) if first >= 0 else None
    if prefix is None or prefix.group(1) in ("xml", "xmlns"):  # reserved prefixes: the parser refuses to bind them
        return None
    g = _grammar(prefix.group(1))
    kept: list[Optional[str]] = [text[:first]]  # None: where a run of VM objects was
    runs: list[list[Content]] = []
    outer = False  # a value relies on a declaration of the prefix outside the objects
    pos: int = first
    run: Optional[list[Content]] = None
    while text.startswith(_OBJECTS, pos):
        try:
            moid, props, end, local = _vm_object(text, pos, g)
        except _Unsure:
            # Its end by position: should a value nest an "objects" element, a marker cut after it is not
            # a child of returnval, and parse_response reads the whole page instead.
            end = text.find(_OBJECTS_END, pos)
            if end < 0:
                break
            end += len(_OBJECTS_END)
            kept.append(text[pos:end])
            run = None
        else:
            outer = outer or not local
            if run is None:
                run = []
                runs.append(run)
                kept.append(None)
            run.append(("VirtualMachine", moid, props, []))
        pos = end
    if not runs:
        return None
    kept.append(text[pos:])
    # Relying on an outer declaration, the markers carry the prefix: the parser checks what binds it.
    marker = f'<{MARKER} {prefix.group(1)}:type="{MARKER}"/>' if outer else f"<{MARKER}/>"
    return Split("".join(marker if k is None else k for k in kept).encode("utf-8"), runs, outer)


def _plain_text(data: bytes) -> Optional[str]:
    """The page as text when it holds VMs, and only elements, text and legal characters; None otherwise.

    Byte scans first (memchr speed): a regular expression over the decoded
    page cost more than reading the VMs saved.
    """
    # A marker the page holds itself is harmless: parse_response then counts more markers than runs.
    if (b'<obj type="VirtualMachine">' not in data or data.translate(None, _LEGAL_BYTES)
            or b"\xef\xbf" in data and (b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data)  # U+FFFE, U+FFFF
            or b"]]>" in data or b"<!" in data):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    decl = _DECL.match(text)
    start = decl.end() if decl else 0
    if not text.startswith("<", start) or text.find("<?", start) >= 0:
        return None
    if "&#" in text and not all(_legal(int(m.group(1) or m.group(2), 16 if m.group(1) else 10))
                                for m in _CHAR_REF.finditer(text)):
        return None
    return text


def _legal(code: int) -> bool:
    """A character XML 1.0 allows (a reference to any other is an error)."""
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _vm_object(text: str, pos: int, g: _Grammar) -> tuple[str, dict[str, Any], int, bool]:
    """(moref id, {path: value}, end, every value declares its prefix) of the VM object at ``pos``."""
    head = g.head.match(text, pos)
    if head is None:
        raise _Unsure
    props: dict[str, Any] = {}
    local = True
    pos = head.end()
    while not text.startswith(_OBJECTS_END, pos):
        leaf = g.leaf.match(text, pos)
        m = leaf or g.prop.match(text, pos)
        if m is None:
            raise _Unsure
        path, decl, ref_before, xsi, ref_after, last = m.groups()  # last: the text of a leaf, else "/" of <val/>
        if ref_before is not None and ref_after is not None or leaf is None and last == "/":
            raise _Unsure  # type twice (the parser refuses it), or <val .../>
        local = local and decl is not None
        if "&" in path:
            path = _unescape(path)
        ref = ref_before is not None or ref_after is not None
        if leaf is not None:
            props[path], pos = _leaf(path, xsi, ref, last), m.end()
        elif path == "layoutEx.disk":
            props[path], pos = _layout(text, m.end(), g, xsi, ref)
        else:
            raise _Unsure
    return _unescape(head.group(1)), props, pos + len(_OBJECTS_END), local


def _leaf(path: str, xsi: str, ref: bool, content: str) -> Any:
    """A val holding text only, as vm_value reads it."""
    value = _unescape(content) if "&" in content else content
    if ref and path in _VM_REFS:
        return value or None
    if ref or not value and not xsi.startswith("xsd:"):
        raise _Unsure  # a view (XmlData) in vm_value
    if path == "layoutEx.disk" and not value:
        raise _Unsure  # an empty array: () in vm_value, left to it
    return value


def _layout(text: str, pos: int, g: _Grammar, xsi: str, ref: bool) -> tuple[tuple[int, ...], int]:
    """layoutEx.disk's device keys, and where its propSet ends."""
    m = g.layout.match(text, pos)
    if m is None or ref:
        raise _Unsure  # vm_value: a view of a moref
    return tuple(int(k) for k in _LAYOUT_KEY.findall(m.group(1))), m.end()


def _unescape(text: str) -> str:
    return _REF.sub(_entity, text) if "&" in text else text


def _entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name[0] != "#":
        return _ENTITIES[name]
    return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))
