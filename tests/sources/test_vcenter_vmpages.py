"""VM objects read from a page's text (vcenter_vmpages) are what ElementTree reads (issue 9, discover's CPU per VM).

Differential: the same page through parse_response with and without the
splitter must give the same objects in the same order, or fail the same way.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath.errors import SoapFault
from nbdpath.sources.soapxml import Page, XmlData, object_contents, parse_response
from nbdpath.sources.vcenter_vmpages import split_vm_page
from nbdpath.sources.vsphere_pyvmomi import VM_READER

XSI = "http://www.w3.org/2001/XMLSchema-instance"


def envelope(body: str, xsi_at_top: bool = True) -> str:
    top = f' xmlns:xsi="{XSI}"' if xsi_at_top else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"{top}>'
            '<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>'
            f'{body}</returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>')


def val(content: str, xsi_type: str, style: str, ref: str = "") -> str:
    """A val as vCenter writes it ("xsi", declared at the top) or as govmomi does (its own declaration)."""
    ref_attr = f' type="{ref}"' if ref else ""
    if style == "govmomi":
        return (f'<val xmlns:XMLSchema-instance="{XSI}" XMLSchema-instance:type="{xsi_type}"{ref_attr}>'
                f'{content}</val>')
    return f'<val{ref_attr} xsi:type="{xsi_type}">{content}</val>'


def prop(path: str, value: str) -> str:
    return f"<propSet><name>{path}</name>{value}</propSet>"


def escaped(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00")
                .filter(lambda c: c in "\t\n" or ord(c) >= 0x20 and c not in "\ufffe\uffff"), max_size=10)


@st.composite
def vm(draw, style: str, i: int) -> str:
    refs = draw(st.booleans())  # letters as character references, decimal or hex
    name = "".join((f"&#{ord(c)};" if ord(c) % 2 else f"&#x{ord(c):x};") if refs and c.isalpha() else escaped(c)
                   for c in draw(names))
    layout = "".join(f"<VirtualMachineFileLayoutExDiskLayout><key>{k}</key><chain><fileKey>{k % 7}</fileKey>"
                     f"</chain></VirtualMachineFileLayoutExDiskLayout>"
                     for k in draw(st.lists(st.integers(-5, 20000), max_size=3)))
    props = [prop("name", val(name, "xsd:string", style)),
             prop("parent", val(draw(st.sampled_from(["folder-1", "", "group-v&amp;1"])), "ManagedObjectReference",
                                style, "Folder")),
             prop("runtime.host", val("host-1", "ManagedObjectReference", style, "HostSystem")),
             prop("runtime.powerState", val(draw(st.sampled_from(["poweredOn", ""])), "VirtualMachinePowerState", style)),
             prop("config.template", val(draw(st.sampled_from(["false", "true", ""])), "xsd:boolean", style)),
             prop("layoutEx.disk", val(layout, draw(st.sampled_from(["ArrayOfVirtualMachineFileLayoutExDiskLayout",
                                                                     "xsd:string"])), style)),
             prop("summary.config.numVirtualDisks", val(str(draw(st.integers(0, 3))), "xsd:int", style))]
    props = draw(st.permutations(props))[: draw(st.integers(0, len(props)))]
    shape = draw(st.sampled_from(["plain"] * 6 + ["missing", "space", "other-attr", "nested", "prefixed-tag"]))
    body = "".join(props)
    if shape == "missing":
        body += "<missingSet><path>config</path><fault><fault xsi:type=\"NoPermission\"/></fault></missingSet>"
    elif shape == "space":
        body = " " + body
    elif shape == "other-attr":
        body = body.replace("<val", '<val id="1"', 1) or '<propSet id="1"><name>x</name><val xsi:type="xsd:int">1</val></propSet>'
    elif shape == "nested":
        body += prop("config", val("<x><y>1</y></x>", "VirtualMachineConfigInfo", style))
    elif shape == "prefixed-tag":
        body += prop("x", val(f'<a:x xmlns:a="urn:other">1</a:x>', "Foo", style))
    return f'<objects><obj type="VirtualMachine">vm-{i}</obj>{body}</objects>'


HOST = ('<objects><obj type="HostSystem">host-1</obj><propSet><name>name</name>'
        '<val xsi:type="xsd:string">esx1</val></propSet></objects>')


@st.composite
def pages(draw) -> str:
    style = draw(st.sampled_from(["vcenter", "govmomi"]))
    objects = [draw(vm(style, i)) for i in range(draw(st.integers(1, 6)))]
    for _ in range(draw(st.integers(0, 2))):
        objects.insert(draw(st.integers(0, len(objects))), HOST)
    token = "<token>3</token>" if draw(st.booleans()) else ""
    return envelope(token + "".join(objects))


def contents(page: bytes, split) -> list:
    """What discovery keeps of each object; a view as its XML (ElementTree views compare by identity)."""
    def plain(v):
        if isinstance(v, XmlData):
            return ("view", ET.tostring(v._el))
        return v
    result = parse_response(page, split=split)
    return [(kind, moid, {p: plain(v) for p, v in props.items()}, len(missing))
            for kind, moid, props, missing in object_contents(result, VM_READER)] + [result.token]


def both(page: bytes):
    try:
        want = ("ok", contents(page, None))
    except SoapFault as exc:
        want = ("fault", exc.kind)
    try:
        got = ("ok", contents(page, split_vm_page))
    except SoapFault as exc:
        got = ("fault", exc.kind)
    return want, got


@settings(max_examples=150)
@given(pages())
def test_vms_read_from_the_text_are_what_elementtree_reads(page):
    want, got = both(page.encode())
    assert want[0] == "ok"
    assert got == want


@settings(max_examples=150)
@given(pages(), st.integers(0, 10**6), st.integers(0, 40),
       st.sampled_from(["", "<", "&", '"', ">", "&#1;", "&bogus;", "</objects>", "<objects>", "\r", "\x01", "\ud7ff",
                        "<!-- -->", "]]>", ' xmlns="urn:x"', ' xmlns:xsi="urn:x"', "<a>", "</val>"]))
def test_a_damaged_page_reads_or_fails_as_elementtree_has_it(page, at, length, insert):
    """Cut a piece out of a page and put something in its place: both readers agree."""
    at %= len(page) + 1
    damaged = (page[:at] + insert + page[at + length:]).encode("utf-8", "surrogatepass")
    want, got = both(damaged)
    assert got == want


def test_a_vcenter_page_is_split_and_its_vms_read_without_a_tree():
    page = envelope("<token>7</token>" + HOST + "".join(
        f'<objects><obj type="VirtualMachine">vm-{i}</obj>'
        + prop("name", val(f"web{i} &amp; db", "xsd:string", "vcenter"))
        + prop("runtime.host", val("host-1", "ManagedObjectReference", "vcenter", "HostSystem"))
        + prop("layoutEx.disk", val("<VirtualMachineFileLayoutExDiskLayout><key>2000</key>"
                                    "</VirtualMachineFileLayoutExDiskLayout>",
                                    "ArrayOfVirtualMachineFileLayoutExDiskLayout", "vcenter"))
        + "</objects>" for i in range(3)))
    result = parse_response(page.encode(), split=split_vm_page)
    assert isinstance(result, Page) and [len(r) for r in result.runs] == [3]
    read = list(object_contents(result, VM_READER))
    assert [(k, m) for k, m, _, _ in read] == [("HostSystem", "host-1"), ("VirtualMachine", "vm-0"),
                                               ("VirtualMachine", "vm-1"), ("VirtualMachine", "vm-2")]
    assert read[1][2] == {"name": "web0 & db", "runtime.host": "host-1", "layoutEx.disk": (2000,)}
    assert result.token == "7"


@pytest.mark.parametrize("page", [
    # The prefix the values use is declared nowhere: not XML (unbound prefix), either way.
    envelope('<objects><obj type="VirtualMachine">vm-1</obj>' + prop("name", val("a", "xsd:string", "vcenter"))
             + "</objects>", xsi_at_top=False),
    # A VM object inside an attribute value ("<" is not allowed there).
    envelope(HOST.replace('<val xsi:type="xsd:string">', '<val xsi:type="xsd:string" a="</objects>'
                          '<objects><obj type=\"VirtualMachine\">vm-9</obj></objects>">', 1)),
    # A reference to a character XML does not allow.
    envelope('<objects><obj type="VirtualMachine">vm-1</obj>' + prop("name", val("a&#1;", "xsd:string", "vcenter"))
             + "</objects>"),
])
def test_a_page_that_is_not_xml_still_fails(page):
    want, got = both(page.encode())
    assert want[0] == "fault" and got == want


@pytest.mark.parametrize("page", [
    # A host value nesting elements named objects, one of them a VM: the host's value, not a VM
    # (its marker would not be a child of returnval).
    envelope(HOST.replace('<val xsi:type="xsd:string">esx1</val>',
                          '<val xsi:type="Foo"><objects><x>1</x></objects><objects><obj type="VirtualMachine">vm-9</obj>'
                          '</objects></val>', 1)
             + '<objects><obj type="VirtualMachine">vm-1</obj>' + prop("name", val("a", "xsd:string", "vcenter"))
             + "</objects>"),
    # The page holds the marker itself: more markers than runs, the page is ElementTree's.
    envelope('<nbdpath-objects-read/><objects><obj type="VirtualMachine">vm-1</obj>'
             + prop("name", val("/", "xsd:string", "vcenter")) + "</objects>"),
    # The prefix bound to another namespace at the top: the values' types are not XML Schema instance types.
    envelope('<objects><obj type="VirtualMachine">vm-1</obj>'
             + prop("layoutEx.disk", val("", "ArrayOfVirtualMachineFileLayoutExDiskLayout", "vcenter"))
             + "</objects>").replace(f'xmlns:xsi="{XSI}"', 'xmlns:xsi="urn:not-xsi"', 1),
])
def test_pages_that_look_alike_read_as_elementtree_reads_them(page):
    want, got = both(page.encode())
    assert want[0] == "ok" and got == want
