"""Reading SOAP answers with ElementTree: the shapes the converter relies on."""

from __future__ import annotations

import pytest

from nbdpath.sources.soapxml import (
    SoapFault,
    XmlData,
    as_bool,
    as_int,
    as_list,
    moref_id,
    parse_response,
)

ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"""

ANSWER = """<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>
<token>7</token>
<objects><obj type="HostSystem">host-21</obj>
  <propSet><name>name</name><val xsi:type="xsd:string">esx01</val></propSet>
  <propSet><name>runtime.connectionState</name><val xsi:type="HostSystemConnectionState">connected</val></propSet>
  <propSet><name>config.network</name><val xsi:type="HostNetworkInfo">
    <pnic><key>key-vim.host.PhysicalNic-vmnic0</key><device>vmnic0</device>
      <linkSpeed><speedMb>0</speedMb><duplex>true</duplex></linkSpeed></pnic>
    <vswitch><name>vSwitch0</name><pnic>key-vim.host.PhysicalNic-vmnic0</pnic></vswitch>
  </val></propSet>
  <missingSet><path>config.virtualNicManagerInfo</path><fault><fault xsi:type="NoPermission"/></fault></missingSet>
</objects>
</returnval></RetrievePropertiesExResponse>"""


def test_returnval_reads_like_a_data_object():
    rv = parse_response(ENVELOPE.format(body=ANSWER).encode())
    assert rv.token == "7"
    (obj,) = as_list(rv.objects)
    assert (obj.obj.mo_type, moref_id(obj.obj)) == ("HostSystem", "host-21")
    props = {p.name: p.val for p in as_list(obj.propSet)}
    assert props["name"] == "esx01" and props["runtime.connectionState"] == "connected"
    net = props["config.network"]
    assert isinstance(net, XmlData) and net.xsi_type == "HostNetworkInfo"
    # One-element arrays come back unwrapped; as_list puts them back.
    assert as_list(net.vswitch)[0].pnic == "key-vim.host.PhysicalNic-vmnic0"
    assert as_list(as_list(net.vswitch)[0].pnic) == ["key-vim.host.PhysicalNic-vmnic0"]
    assert as_int(net.pnic.linkSpeed.speedMb) == 0 and as_bool(net.pnic.linkSpeed.duplex) is True
    assert net.portgroup is None and as_list(net.portgroup) == []
    assert as_list(obj.missingSet)[0].fault.fault.xsi_type == "NoPermission"


def test_fault_answer_raises_with_its_kind_and_message():
    fault = """<soapenv:Fault><faultcode>ServerFaultCode</faultcode>
      <faultstring>Cannot complete login due to an incorrect user name or password.</faultstring>
      <detail><InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin"></InvalidLoginFault></detail>
    </soapenv:Fault>"""
    with pytest.raises(SoapFault) as e:
        parse_response(ENVELOPE.format(body=fault).encode())
    assert e.value.kind == "InvalidLogin" and "incorrect user name" in str(e.value)


@pytest.mark.parametrize("data", [b"<html>502 Bad Gateway</html", b"<a/>", ENVELOPE.format(body="").encode()])
def test_not_a_soap_answer(data):
    with pytest.raises(SoapFault):
        parse_response(data)


@pytest.mark.parametrize("value, expected", [("12", 12), ("", None), (None, None), ("x", None), (9000, 9000)])
def test_as_int(value, expected):
    assert as_int(value) == expected


@pytest.mark.parametrize("value, expected", [("true", True), ("false", False), (True, True), (None, False)])
def test_as_bool(value, expected):
    assert as_bool(value) is expected
