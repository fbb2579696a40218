"""Sources of snapshots: live vCenter/ESXi discovery and saved esxcli output.

The public face is short; the modules behind it are:
``vcenter`` (the one seam to vSphere), ``vcenter_convert`` (pure conversion),
``soapxml`` (fast reading of the bulk retrieval), ``esxcli`` / ``esxcli_parse`` /
``esxcli_files`` (file names, text layouts, reading a bundle safely), ``extra`` (what vCenter does not know: the merge file) and
``output`` (atomic snapshot files).
"""

from .esxcli import import_hosts
from .extra import merge, parse_dns_flag, parse_merge, parse_node_flag
from .output import write_snapshot
from .vcenter import ConnectOptions, Credentials, Discovery, DiscoveryError, discover

__all__ = [
    "ConnectOptions", "Credentials", "Discovery", "DiscoveryError", "discover", "import_hosts", "merge",
    "parse_dns_flag", "parse_merge", "parse_node_flag", "write_snapshot",
]
