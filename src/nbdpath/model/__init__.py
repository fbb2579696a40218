"""Snapshot model: types, loading, validation and JSON Schema."""

from .load import dump, load_file, parse
from .snapshot import (
    BACKUP_NFC,
    DEFAULT_STACK,
    BackupNode,
    Datastore,
    DistributedPortGroup,
    DistributedSwitch,
    DvsMembership,
    Firewall,
    Host,
    Interface,
    Job,
    JobConcurrency,
    Netstack,
    NetworkPreference,
    ObservedRoute,
    PhysicalNic,
    PortGroup,
    Route,
    Router,
    Segment,
    Snapshot,
    StandardSwitch,
    Teaming,
    Vcenter,
    VirtualDisk,
    Vm,
    Vmk,
)


def json_schema() -> dict:
    """The published JSON Schema of a snapshot file."""
    schema = Snapshot.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "nbdpath snapshot"
    return schema


__all__ = [
    "BACKUP_NFC", "DEFAULT_STACK", "BackupNode", "Datastore", "DistributedPortGroup", "DistributedSwitch",
    "DvsMembership", "Firewall", "Host", "Interface", "Job", "JobConcurrency", "Netstack", "NetworkPreference", "ObservedRoute", "PhysicalNic",
    "PortGroup", "Route", "Router", "Segment", "Snapshot", "StandardSwitch", "Teaming",
    "Vcenter", "VirtualDisk", "Vm", "Vmk", "dump", "json_schema", "load_file", "parse",
]
