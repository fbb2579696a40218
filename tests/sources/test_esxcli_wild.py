"""esxcli text as admins paste it: indented record blocks, damaged headers, legacy esxcfg-* commands.

Real samples are under data/wild/ (provenance in its README.md); variants are made from them here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_esxcli import SEEDS, needs_seeds, seed_section

from nbdpath.errors import InputError
from nbdpath.sources import esxcli
from nbdpath.sources.esxcli import Text

WILD = Path(__file__).parent / "data" / "wild"


def indented(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines()) + "\n"


@needs_seeds
@pytest.mark.parametrize("prefix", ["    ", "        ", "\t"])
def test_interface_list_pasted_indented_as_a_whole_reads_like_the_original(prefix):
    original = seed_section("esxcli network ip interface list  (ESXi 7/8)")
    plain = esxcli.interfaces(Text("i.txt", original))
    assert [(i.device, i.portgroup, i.mac) for i in plain] == [("vmk0", "Management", "00:50:56:6c:01:11")]
    assert esxcli.interfaces(Text("i.txt", indented(original, prefix))) == plain


@needs_seeds
def test_damaged_table_header_is_shown_as_written():
    lines = seed_section("ip interface ipv4 get  (ESXi 6.5+").splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("----"))
    # A paste that lost four dashes: every later column starts four characters early, mid-name.
    lines[at] = lines[at].replace("-" * 13 + "  ", "-" * 9 + "  ", 1)
    with pytest.raises(InputError) as e:
        esxcli.ipv4(Text("a.txt", "\n".join(lines)))
    assert e.value.line == at  # the header, the line above the dashes
    assert "not 'Name | IPv4 Address | IPv4 Netmask | IPv4 Broadcast | Address Type | Gateway | DHCP DNS'" in e.value.expected
