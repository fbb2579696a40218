"""VM and datastore conversion without a server: names, device filtering, mounts (issue 9)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from nbdpath.sources.soapxml import NON_DISK_DEVICES, XmlData, object_contents, parse_response, with_objects
from nbdpath.sources.vcenter_convert import (
    Inventory,
    _disk_fields,
    convert_datastores,
    convert_vms,
    disk_keys,
    keyed_disks,
    unique_names,
)

ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>{body}</returnval>'
    '</RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>'
)

IDE = ('<VirtualDevice xsi:type="VirtualIDEController"><key>200</key><deviceInfo xsi:type="Description">'
       '<label>IDE 0</label><summary>IDE 0</summary></deviceInfo><busNumber>0</busNumber></VirtualDevice>')
NIC = ('<VirtualDevice xsi:type="VirtualVmxnet3"><key>4000</key><deviceInfo xsi:type="Description"><label>'
       'Network adapter 1</label><summary>VM Network</summary></deviceInfo></VirtualDevice>')


def disk(key: int, label: str, kb: int, ds: str, type_name: str = "VirtualDisk", with_bytes: bool = True) -> str:
    size = f"<capacityInBytes>{kb * 1024}</capacityInBytes>" if with_bytes else ""
    return (f'<VirtualDevice xsi:type="{type_name}"><key>{key}</key><deviceInfo xsi:type="Description">'
            f'<label>{label}</label><summary>{kb} KB</summary></deviceInfo>'
            f'<backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[x] a.vmdk</fileName>'
            f'<datastore type="Datastore">{ds}</datastore></backing><capacityInKB>{kb}</capacityInKB>{size}'
            '</VirtualDevice>')


def vm_page(devices: str) -> str:
    return ENVELOPE.format(body=(
        '<token>7</token><objects><obj type="VirtualMachine">vm-1</obj>'
        '<propSet><name>name</name><val xsi:type="xsd:string">web01</val></propSet>'
        f'<propSet><name>config.hardware.device</name><val xsi:type="ArrayOfVirtualDevice">{devices}</val></propSet>'
        '</objects>'))


def devices_of(page: str, drop=None):
    [(kind, moid, props, missing)] = list(object_contents(parse_response(page.encode(), drop)))
    assert (kind, moid, missing) == ("VirtualMachine", "vm-1", [])
    return _disk_fields(props["config.hardware.device"])


def test_other_devices_are_dropped_before_parsing_and_disks_kept():
    page = vm_page(IDE + disk(2000, "Hard disk 1", 1024, "datastore-1") + NIC
                   + disk(2001, "Hard disk 2", 2048, "datastore-2", with_bytes=False))
    want = [("Hard disk 1", 1024 * 1024, "datastore-1"), ("Hard disk 2", 2048 * 1024, "datastore-2")]
    assert devices_of(page) == want
    assert devices_of(page, NON_DISK_DEVICES) == want
    stripped = NON_DISK_DEVICES.sub(b"", page.encode())
    assert b"VirtualIDEController" not in stripped and b"VirtualVmxnet3" not in stripped


def test_a_prefixed_disk_type_is_kept():
    page = vm_page(IDE + disk(2000, "Hard disk 1", 4, "datastore-1", type_name="vim25:VirtualDisk"))
    assert devices_of(page, NON_DISK_DEVICES) == [("Hard disk 1", 4096, "datastore-1")]


def test_a_label_that_looks_like_markup_cannot_end_a_match_early():
    # Escaped text: "</VirtualDevice>" in a label is &lt;/VirtualDevice&gt; on the wire.
    tricky = IDE.replace("IDE 0</label>", "&lt;/VirtualDevice&gt;&lt;VirtualDevice xsi:type=\"VirtualDisk\"&gt;</label>")
    page = vm_page(tricky + disk(2000, "Hard disk 1", 4, "datastore-1"))
    assert devices_of(page, NON_DISK_DEVICES) == [("Hard disk 1", 4096, "datastore-1")]


def test_read_write_mounted_hosts_only_in_vcenters_order():
    mount = ('<DatastoreHostMount><key type="HostSystem">{h}</key><mountInfo><path>/vmfs</path>'
             '<accessMode>{mode}</accessMode>{mounted}</mountInfo></DatastoreHostMount>')
    mounts = "".join(mount.format(h=h, mode=m, mounted=x) for h, m, x in (
        ("host-3", "readWrite", ""), ("host-1", "readWrite", "<mounted>true</mounted>"),
        ("host-2", "readOnly", ""), ("host-4", "readWrite", "<mounted>false</mounted>"),
        ("host-9", "readWrite", "")))  # host-9 was not read
    page = ENVELOPE.format(body=(
        '<objects><obj type="Datastore">datastore-1</obj>'
        '<propSet><name>name</name><val xsi:type="xsd:string">san</val></propSet>'
        f'<propSet><name>host</name><val xsi:type="ArrayOfDatastoreHostMount">{mounts}</val></propSet>'
        '<propSet><name>summary.accessible</name><val xsi:type="xsd:boolean">false</val></propSet></objects>'))
    [(_, moid, props, _)] = list(object_contents(parse_response(page.encode())))
    inv = Inventory(vcenter="vc", hosts={}, datastores={moid: props})
    names = {f"host-{i}": f"esx{i}" for i in range(1, 5)}
    missing: dict[str, str] = {}
    [ds], ids = convert_datastores(inv, names, missing)
    assert (ds.name, ds.hosts, ds.accessible, ids, missing) == ("san", ("esx3", "esx1"), False, {"datastore-1": "san"}, {})


names_with_quals = st.lists(
    st.tuples(st.sampled_from(["web", "db", "web (a)", "app"]), st.sampled_from([(), ("a",), ("b",), ("a", "vc/x")])),
    max_size=12)


@settings(max_examples=100)
@given(names_with_quals)
def test_unique_names_are_unique_and_keep_names_held_once(items):
    # The last qualifier stands for the moref id: unique per object, as it is in discovery.
    cands = [(base, quals + (f"vc/vm-{i}",)) for i, (base, quals) in enumerate(items)]
    out = unique_names(cands)
    assert len(set(out)) == len(out)
    assert out == unique_names(list(cands))  # deterministic
    bases = [b for b, _ in cands]
    qualified = {f"{b} ({q})" for b, quals in cands for q in quals}
    for (base, _), name in zip(cands, out):
        assert name.startswith(base)
        if bases.count(base) == 1 and base not in qualified:
            assert name == base


def test_unique_names_prefers_the_folder():
    out = unique_names([("web", ("apps", "vc/vm-1")), ("web", ("test", "vc/vm-2")), ("db", ("apps", "vc/vm-3")),
                        ("app", ("x", "vc/vm-4")), ("app", ("x", "vc/vm-5"))])
    assert out == ["web (apps)", "web (test)", "db", "app (vc/vm-4)", "app (vc/vm-5)"]


# ---- the disks read by key (layoutEx gives the keys, a second retrieval the devices) ----

def vm_props(*props: str) -> dict:
    """One VM's {path: value} as discovery parses them from a RetrievePropertiesEx page."""
    page = ENVELOPE.format(body='<objects><obj type="VirtualMachine">vm-1</obj>' + "".join(props) + "</objects>")
    [(_, _, parsed, _)] = list(object_contents(parse_response(page.encode())))
    return parsed


def layout(*keys: int) -> str:
    disks = "".join(f'<VirtualMachineFileLayoutExDiskLayout><key>{k}</key><chain><fileKey>{2 * i}</fileKey>'
                    f'<fileKey>{2 * i + 1}</fileKey></chain></VirtualMachineFileLayoutExDiskLayout>'
                    for i, k in enumerate(keys))
    return ('<propSet><name>layoutEx.disk</name><val xsi:type="ArrayOfVirtualMachineFileLayoutExDiskLayout">'
            f'{disks}</val></propSet>')


def count(n: int) -> str:
    return f'<propSet><name>summary.config.numVirtualDisks</name><val xsi:type="xsd:int">{n}</val></propSet>'


def keyed(key: int, device: str) -> str:
    """``config.hardware.device[KEY]``: its value is the device itself (a VirtualDevice element renamed val)."""
    val = device.replace("<VirtualDevice ", "<val ", 1).removesuffix("</VirtualDevice>") + "</val>"
    return f"<propSet><name>config.hardware.device[{key}]</name>{val}</propSet>"


def test_disk_keys_come_from_layout_when_it_agrees_with_the_disk_count():
    assert disk_keys(vm_props(layout(2000, 2016), count(2))) == (2000, 2016)
    assert disk_keys(vm_props(count(0))) == ()  # no layout, no disk: nothing to read
    assert disk_keys(vm_props()) == ()
    # No layout (vCenter cannot read the VM's files), or one that disagrees: the whole device list is read.
    assert disk_keys(vm_props(count(1))) is None
    assert disk_keys(vm_props(layout(2000), count(2))) is None
    assert disk_keys(vm_props(layout(2000, 2000), count(2))) is None


def test_keyed_disks_are_the_devices_asked_for_in_order():
    props = vm_props(keyed(2001, disk(2001, "data", 8, "datastore-2")), keyed(2000, disk(2000, "boot", 4, "datastore-1")))
    assert _disk_fields(keyed_disks(props, (2000, 2001))) == [("boot", 4096, "datastore-1"), ("data", 8192, "datastore-2")]
    assert keyed_disks(props, (2000, 2002)) is None  # a key the server did not answer
    nic = vm_props(keyed(4000, NIC))
    assert keyed_disks(nic, (4000,)) is None  # not a disk (the key now names another device)


def test_with_objects_writes_one_object_spec_per_id_escaped():
    template = (b'<?xml version="1.0"?><Envelope><RetrievePropertiesEx><specSet><propSet><type>VirtualMachine</type>'
                b'</propSet><objectSet><obj type="VirtualMachine">PH</obj><skip>false</skip></objectSet>'
                b'<reportMissingObjectsInResults>true</reportMissingObjectsInResults></specSet></RetrievePropertiesEx>'
                b'</Envelope>')
    ids = ["vm-1", "vm-<2>&", "vm-3"]
    out = with_objects(template, "PH", ids)
    root = ET.fromstring(out)
    assert [o.findtext("obj") for o in root.iter("objectSet")] == ids
    assert [o.find("obj").get("type") for o in root.iter("objectSet")] == ["VirtualMachine"] * 3
    assert root.findtext(".//reportMissingObjectsInResults") == "true"
    assert with_objects(template, "PH", []).count(b"<objectSet>") == 0


def _inventory(monkeypatch, answers_by_paths):
    """read_disks over three VMs against canned answers per requested path list; the VMs' props after it."""
    from nbdpath.sources import vsphere_pyvmomi

    vms = {"vm-1": vm_props(layout(2000), count(1)), "vm-2": vm_props(count(1)), "vm-3": vm_props(layout(2000), count(1))}
    asked = []

    def collect(collector, paths, page_size, ids=None, view=None, drop=None):
        asked.append((sorted(ids), paths))
        return answers_by_paths(tuple(paths), ids)

    monkeypatch.setattr(vsphere_pyvmomi, "_collect", collect)
    vsphere_pyvmomi.read_disks(None, vms, 250)
    return vms, asked


def test_read_disks_falls_back_to_the_device_list_and_reports_a_vm_gone(monkeypatch):
    boot = disk(2000, "Hard disk 1", 4, "datastore-1")
    whole = vm_page(IDE + boot + NIC)
    listed = list(object_contents(parse_response(whole.encode())))[0][2]["config.hardware.device"]

    def answers(paths, ids):
        if paths == ("config.hardware.device[2000]",):
            return {"vm-1": vm_props(keyed(2000, boot))}  # vm-3 not answered: vanished, or refused the key
        return {"vm-2": {"config.hardware.device": listed}}  # vm-3 absent again: gone

    vms, asked = _inventory(monkeypatch, answers)
    assert asked == [(["vm-1", "vm-3"], ["config.hardware.device[2000]"]), (["vm-2", "vm-3"], ["config.hardware.device"])]
    assert _disk_fields(vms["vm-1"]["config.hardware.device"]) == [("Hard disk 1", 4096, "datastore-1")]
    assert _disk_fields(vms["vm-2"]["config.hardware.device"]) == [("Hard disk 1", 4096, "datastore-1")]
    assert "config.hardware.device" not in vms["vm-3"]
    inv = Inventory(vcenter="vc", hosts={}, vms={m: dict(p, name=m, **{"runtime.host": None}) for m, p in vms.items()})
    missing: dict[str, str] = {}
    convert_vms(inv, {"": "esx1"}, {"esx1"}, {"datastore-1": "ds1"}, missing)
    assert missing == {"vm:vm-3": "left out (vanished from the inventory before its disks were read)"}


def test_read_disks_survives_a_server_that_refuses_keyed_paths(monkeypatch):
    from nbdpath.errors import SoapFault

    def answers(paths, ids):
        if paths != ("config.hardware.device",):
            raise SoapFault("InvalidProperty", "config.hardware.device[2000]")
        return {i: {"config.hardware.device": []} for i in ids}

    vms, asked = _inventory(monkeypatch, answers)
    assert asked[-1] == (["vm-1", "vm-2", "vm-3"], ["config.hardware.device"])
    assert all(p["config.hardware.device"] == [] for p in vms.values())


# ---- VMs read as plain values (vm_value) convert as their XmlData views do ----

def _text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_xml_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00")
                    .filter(lambda c: c in "\t\n" or ord(c) >= 0x20 and c not in "\ufffe\uffff"), max_size=12)


@st.composite
def vm_objects(draw):
    """One VM ObjectContent of the bulk retrieval and its keyed-disk answer, as a server may write them."""
    n = draw(st.integers(0, 3))
    keys = draw(st.lists(st.sampled_from([2000, 2001, 2016, 16000, 4000]), min_size=n, max_size=n))
    props = [f'<propSet><name>name</name><val xsi:type="xsd:string">{_text(draw(_xml_text))}</val></propSet>',
             f'<propSet><name>parent</name><val xsi:type="ManagedObjectReference" type="Folder">'
             f'{draw(st.sampled_from(["folder-1", "folder-2", "", "group-d1"]))}</val></propSet>',
             f'<propSet><name>runtime.host</name><val xsi:type="ManagedObjectReference" type="HostSystem">'
             f'{draw(st.sampled_from(["host-1", "host-2", ""]))}</val></propSet>']
    if draw(st.booleans()):
        props.append(f'<propSet><name>runtime.powerState</name><val xsi:type="VirtualMachinePowerState">'
                     f'{draw(st.sampled_from(["poweredOn", "poweredOff", "bogus", ""]))}</val></propSet>')
    if draw(st.booleans()):
        props.append(f'<propSet><name>config.template</name><val xsi:type="xsd:boolean">'
                     f'{draw(st.sampled_from(["true", "false", ""]))}</val></propSet>')
    if draw(st.booleans()):
        props.append(layout(*keys))
    props.append(count(draw(st.sampled_from([n, n + 1]))))
    answers = []
    for k in keys:
        if draw(st.integers(0, 5)) == 0:
            answers.append(keyed(k, NIC))
        elif draw(st.integers(0, 5)):
            answers.append(keyed(k, disk(k, _text(draw(_xml_text)), draw(st.integers(0, 2**40)),
                                         draw(st.sampled_from(["datastore-1", "datastore-2", "datastore-9"])),
                                         with_bytes=draw(st.booleans()))))
    return "".join(props), "".join(answers)


def _read_vm(bulk: str, answers: str, readers) -> dict:
    """The VM's props as retrieve() and read_disks() leave them, read with ``readers``."""
    page = ENVELOPE.format(body='<objects><obj type="VirtualMachine">vm-1</obj>' + bulk + "</objects>")
    [(_, _, props, _)] = list(object_contents(parse_response(page.encode()), readers))
    keys = disk_keys(props)
    if keys == ():
        return dict(props, **{"config.hardware.device": []})
    if keys is not None:
        page = ENVELOPE.format(body='<objects><obj type="VirtualMachine">vm-1</obj>' + answers + "</objects>")
        [(_, _, found, _)] = list(object_contents(parse_response(page.encode()), readers))
        disks = keyed_disks(found, keys)
        if disks is not None:
            return dict(props, **{"config.hardware.device": disks})
    whole = vm_page(IDE + "".join(disk(2000 + i, f"d{i}", 4 + i, "datastore-1") for i in range(2)) + NIC)
    [(_, _, found, _)] = list(object_contents(parse_response(whole.encode()), readers))
    return dict(props, **{"config.hardware.device": found["config.hardware.device"]})


@settings(max_examples=120)
@given(vm_objects())
def test_vms_read_as_plain_values_convert_as_their_xml_views(vm):
    from nbdpath.sources.vsphere_pyvmomi import VM_READER

    folder_page = ENVELOPE.format(body=(
        '<objects><obj type="Folder">folder-1</obj><propSet><name>name</name><val xsi:type="xsd:string">apps</val>'
        '</propSet><propSet><name>parent</name><val xsi:type="ManagedObjectReference" type="Folder">group-v1</val>'
        '</propSet></objects>'))
    folders = {moid: props for _, moid, props, _ in object_contents(parse_response(folder_page.encode()))}
    out = []
    for readers in (None, VM_READER):
        props = _read_vm(*vm, readers)
        inv = Inventory(vcenter="vc", hosts={}, vms={"vm-1": props}, folders=folders)
        missing: dict[str, str] = {}
        vms = convert_vms(inv, {"host-1": "esx1", "host-2": "esx2"}, {"esx1"},
                          {"datastore-1": "ds1", "datastore-2": "ds2"}, missing)
        out.append((vms, missing, disk_keys(props)))
    assert out[0] == out[1]
    # What holds structure is read out of the page (an empty enum value stays a view, as _value gives it).
    plain = _read_vm(*vm, VM_READER)
    assert not any(isinstance(plain.get(p), XmlData) for p in ("parent", "runtime.host", "layoutEx.disk"))
    assert not any(isinstance(d, XmlData) for d in plain["config.hardware.device"])
