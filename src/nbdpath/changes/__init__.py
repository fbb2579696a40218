"""Host changes (the kinds, each with its inverse and precondition) and the renderer registry."""

from .kinds import (
    KINDS,
    Assessment,
    Change,
    HostNetworkApi,
    Ipv4Set,
    PortgroupVlanSet,
    RouteAdd,
    RouteRemove,
    Status,
    TagAdd,
    TagRemove,
    VmkAdd,
    VmkMtuSet,
    VmkRemove,
    apply,
    apply_all,
    from_dict,
    inverse,
    name_list,
)
from .render import ScriptStep, renderers

__all__ = [
    "KINDS", "Assessment", "Change", "HostNetworkApi", "Ipv4Set", "PortgroupVlanSet", "RouteAdd", "RouteRemove", "ScriptStep", "Status", "TagAdd",
    "TagRemove", "VmkAdd", "VmkMtuSet", "VmkRemove", "apply", "apply_all", "from_dict", "inverse", "name_list", "renderers",
]
