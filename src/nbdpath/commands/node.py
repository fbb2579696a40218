"""``nbdpath import node``: a backup node's entry from its own ``ip -j`` / PowerShell output.

Parse options -> nbdpath.sources.node -> check the result through the same
merge loader discover and import esxcli use -> write the merge file
atomically -> print a summary with every note. Exit 0, or 2 on bad input
with no file written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, get_args

import click
import yaml

from ..errors import InputError, UsageError
from ..io import read_capped, write_atomic
from ..model import Snapshot
from ..model.snapshot import Product
from ..safetext import is_safe_name, one_line
from .discover import _check_output

RESULT_VERSION = 1
SUMMARY_LINES = 40  # per kind in the table summary
# libyaml's emitter: the pure-Python one took 24 s for a 37,000-address file.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def register(cli: click.Group) -> None:
    from .discover import import_group

    import_group.add_command(import_node_cmd)


@click.command("node")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--name", required=True, help="The backup node's name (as the backup product knows it).")
@click.option("--product", type=click.Choice(get_args(Product)), default="generic-vadp", show_default=True)
@click.option("--addr", "addr_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Output of `ip -j addr show` or `Get-NetIPAddress | ConvertTo-Json`.")
@click.option("--route", "route_files", metavar="FILE", multiple=True, type=click.Path(dir_okay=False),
              help="Output of `ip -j route show` or `Get-NetRoute | ConvertTo-Json` (repeatable, e.g. for -6).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Merge file to write (YAML); an existing one gets this node added or replaced.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Summary format on stdout.")
def import_node_cmd(files, name, product, addr_file, route_files, output, fmt) -> int:
    """Build a backup node entry from what the node prints about its network.

    FILES are recognised by content; --addr / --route say which is which.
    Loopback, link-local and down interfaces are left out, the default route
    with the lowest metric is the gateway, routes with a next hop are kept
    (connected ones follow from the addresses). Every choice is printed as a note.
    """
    from ..sources import node as src

    if not name.strip() or not is_safe_name(name) or len(name) > src.MAX_NAME:
        raise UsageError(f"--name '{one_line(name[:80])}': expected a node name without control characters")
    _check_output(output)  # before any file is read: a typo costs nothing
    loaded = [_read(p, src.KINDS) for p in files]
    if addr_file:
        loaded.append(_read(addr_file, src.ADDR_KINDS))
    loaded += [_read(p, src.ROUTE_KINDS) for p in route_files]
    addrs = [f for f in loaded if f.kind in src.ADDR_KINDS]
    if len(addrs) != 1:
        shown = ", ".join(f.source for f in addrs) or "none"
        raise UsageError(f"give exactly one address file (ip -j addr show / Get-NetIPAddress); found {len(addrs)}: {shown}")
    imported = src.build(name.strip(), product, loaded)
    text, replaced = _merge_text(imported, output)
    _check_merge(text, output)
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise UsageError(f"cannot write {one_line(output)}: {exc.strerror or exc}") from None
    _summary(imported, output, replaced, fmt, [f.source for f in loaded])
    return 0


def _read(path: str, expect: tuple[str, ...]):
    from ..sources.node import MAX_NODE_FILE, load

    shown = one_line(path)
    return load(read_capped(path, MAX_NODE_FILE, "JSON file", shown=shown), shown, expect)


def _node_data(imported) -> dict[str, Any]:
    return imported.node.model_dump(mode="json", exclude_defaults=True) | {"product": imported.node.product}


def _merge_text(imported, output: str) -> tuple[str, Optional[str]]:
    """The merge file to write: a new one, or ``output`` with this node added or replaced."""
    header = [f"# Backup node {imported.node.name}: written by nbdpath import node (docs/discover.md)."]
    header += [f"# note: {one_line(n)}" for n in imported.notes]
    entry = _node_data(imported)
    path = Path(output)
    if not path.exists():
        return "\n".join(header) + "\n" + _dump({"backup_nodes": [entry]}), None
    data = _existing(output)
    nodes = list(data.get("backup_nodes") or [])
    at = next((i for i, n in enumerate(nodes) if isinstance(n, dict) and n.get("name") == entry["name"]), None)
    if at is None:
        nodes.append(entry)
    else:
        nodes[at] = entry
    data["backup_nodes"] = nodes
    # Comments cannot be carried through a YAML round trip; say so where they were.
    header.insert(1, "# Merged into the existing file: its comments were not kept.")
    return "\n".join(header) + "\n" + _dump(data), "replaced" if at is not None else "added"


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _existing(output: str) -> dict[str, Any]:
    from ..apply.docfile import read_text
    from ..commands.discover import MAX_MERGE_FILE
    from ..model.load import load_yaml
    from ..sources.extra import parse_merge

    text = read_text(output, "merge file (YAML)", limit=MAX_MERGE_FILE)
    parse_merge(text, output)  # refuse to add to a file that was not a valid merge file
    data = load_yaml(text, output)
    if data is None:
        return {}
    if not isinstance(data, dict) or text.lstrip().startswith("{"):
        raise InputError(one_line(output), "", "a YAML merge file to add the node to (or a new file name)")
    return data


def _check_merge(text: str, output: str) -> None:
    """What discover --merge and import esxcli --merge will read: checked before anything is written."""
    from ..sources.extra import merge, parse_merge

    shown = one_line(output)
    merge(Snapshot(), parse_merge(text, shown), shown)


def _summary(imported, output: str, replaced: Optional[str], fmt: str, sources: list[str]) -> None:
    node = imported.node
    if fmt == "json":
        click.echo(json.dumps({
            "version": RESULT_VERSION, "kind": "import-node", "output": output, "sources": sources,
            "merged": replaced, "node": _node_data(imported), "mtu": imported.mtu, "notes": imported.notes,
        }, indent=2))
        return
    how = f" ({replaced} in the existing file)" if replaced else ""
    lines = [f"wrote {one_line(output)}{how}: backup node {one_line(node.name)}, {len(node.interfaces)} interface(s), "
             f"gateway {node.gateway or 'none'}, {len(node.routes)} route(s)"]
    lines += _capped([f"  interface {one_line(i.name)} {i.address}" for i in node.interfaces], "interfaces")
    lines += _capped([f"  route     {r.network} via {r.gateway}" for r in node.routes], "routes")
    lines += _capped([f"  note      {one_line(n)}" for n in imported.notes], "notes")
    click.echo("\n".join(lines))


def _capped(lines: list[str], what: str) -> list[str]:
    """A terminal's worth; the file has them all."""
    if len(lines) <= SUMMARY_LINES:
        return lines
    return lines[:SUMMARY_LINES] + [f"  ... {len(lines) - SUMMARY_LINES} more {what} in the file"]
