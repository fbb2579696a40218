"""``nbdpath import node`` (a backup node's entry from its own ``ip -j`` / PowerShell output)
and ``nbdpath probe`` (run on a Linux node: the predicted path checked against the kernel's).

Parse options -> nbdpath.sources.node -> check the result through the same
merge loader discover and import esxcli use -> write the merge file
atomically -> print a summary with every note. Exit 0, or 2 on bad input
with no file written.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any, Optional, get_args

import click
import yaml

from ..errors import InputError, UsageError
from ..io import read_input, write_atomic
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
    cli.add_command(probe_cmd)


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
    return load(read_input(path, "JSON file", MAX_NODE_FILE, binary=True, shown=shown), shown, expect)


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
    from ..commands.discover import MAX_MERGE_FILE
    from ..model.load import load_yaml
    from ..sources.extra import parse_merge

    text = read_input(output, "merge file (YAML)", MAX_MERGE_FILE)
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


# ---------------------------------------------------------------- probe (on a Linux backup node)

PROBE_PORT = 902
PROBE_WORKERS = 8  # connections in flight at once: a small pool, never a scan
IP_TIMEOUT_S = 5.0
MAX_IP_OUTPUT = 64 * 2**10


@click.command("probe")
@click.argument("snapshot", type=click.Path(dir_okay=False))
@click.option("--node", "node_name", metavar="NAME",
              help="The snapshot's backup node this machine is (default: the only one).")
@click.option("--timeout", type=click.FloatRange(0.1, 30), default=2.0, show_default=True,
              help="Seconds for each name resolution and each TCP connect.")
@click.option("--max-hosts", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="Probe at most this many hosts (the first ones in the snapshot).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def probe_cmd(snapshot, node_name, timeout, max_hosts, fmt) -> int:
    """Run ON a Linux backup node: predicted vs observed path to each host's TCP 902.

    For each host: resolve its name with this machine's resolver, ask the
    kernel which interface and source address it would use (ip route get),
    open TCP 902 to the endpoint vCenter hands out and to the management
    address, and close without sending anything. Read-only; only addresses
    that are in the snapshot are contacted. Exit 0 when every endpoint
    answered over the predicted interface, 1 otherwise.
    """
    from concurrent.futures import ThreadPoolExecutor

    from ..engine import Engine
    from ..model import load_file

    snap = load_file(snapshot)
    _resolver_hung[0] = 0
    engine = Engine(snap)
    node = _probe_node(snap, node_name)
    hosts = list(snap.hosts[:max_hosts])
    with ThreadPoolExecutor(max_workers=PROBE_WORKERS) as pool:
        rows = list(pool.map(lambda h: _probe_host(engine, h, node, timeout), hosts))
    skipped = len(snap.hosts) - len(hosts)
    if fmt == "json":
        click.echo(json.dumps({"version": RESULT_VERSION, "kind": "probe", "snapshot": snapshot, "node": node,
                               "port": PROBE_PORT, "timeout_s": timeout, "hosts_not_probed": skipped,
                               "results": rows}, indent=2))
    else:
        click.echo(_probe_table(rows, node, skipped))
    return 0 if all(r["endpoint"]["as_predicted"] for r in rows) else 1


def _probe_node(snap: Snapshot, name: Optional[str]) -> Optional[str]:
    names = [n.name for n in snap.backup_nodes]
    if name is not None:
        if name not in names:
            raise UsageError(f"--node {one_line(name)}: no such backup node in the snapshot "
                             f"({', '.join(map(one_line, names)) or 'it has none'})")
        return name
    if len(names) > 1:
        raise UsageError(f"the snapshot has {len(names)} backup nodes: say which one this is with --node "
                         f"({', '.join(map(one_line, names))})")
    return names[0] if names else None


def _probe_host(engine, host, node: Optional[str], timeout: float) -> dict[str, Any]:
    from ..engine.endpoint import management_ip
    from ..engine.addr import ip_str

    ep = engine.endpoint(host.name)
    predicted_if = predicted_ip = verdict = None
    if node is not None and ep.ip_text is not None:
        outcome = engine.trace_pair(host.name, node).outcome
        predicted_if, predicted_ip, verdict = outcome.node_interface, outcome.node_ip, outcome.verdict.name
    # the snapshot's management address (or the engine's reading of the name), never a fresh lookup
    mgmt_int, _, _ = management_ip(engine.host_view(host.name), engine.snapshot)
    mgmt = ip_str(mgmt_int) if mgmt_int is not None else None
    known = {v.ipv4.split("/")[0] for v in host.vmks if v.ipv4} | ({mgmt} if mgmt else set())
    resolved = _resolve(host.name, timeout)
    endpoint = _probe_address(ep.ip_text, timeout)
    endpoint.update(predicted_interface=predicted_if, predicted_source=predicted_ip, predicted_verdict=verdict)
    endpoint["as_predicted"] = bool(endpoint["reachable"]) and (
        predicted_if is None or (endpoint["interface"] == predicted_if and endpoint["source"] == predicted_ip))
    return {
        "host": host.name,
        "name_resolves_to": resolved,
        # a name that resolves outside the snapshot is reported, never contacted
        "resolved_in_snapshot": None if resolved.get("address") is None else resolved["address"] in known,
        "endpoint": endpoint,
        "management": _probe_address(mgmt, timeout),
    }


_RESOLVER_GIVE_UP = 3  # lookups left hanging before the rest are not tried: threads stay bounded
_resolver_hung = [0]


def _resolve(name: str, timeout: float) -> dict[str, Any]:
    """The node's resolver, in a daemon thread: getaddrinfo has no timeout of its own and may hang."""
    import socket
    import threading

    if _resolver_hung[0] >= _RESOLVER_GIVE_UP:
        return {"address": None, "error": f"not tried: the resolver left {_RESOLVER_GIVE_UP} lookups unanswered"}
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            infos = socket.getaddrinfo(name, PROBE_PORT, socket.AF_INET, socket.SOCK_STREAM)
            box["address"] = infos[0][4][0]
        except (OSError, UnicodeError) as exc:
            box["error"] = str(getattr(exc, "strerror", None) or exc)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        _resolver_hung[0] += 1
        return {"address": None, "error": f"no answer within {timeout:g} s"}
    return {"address": box.get("address"), "error": box.get("error")}


def _probe_address(address: Optional[str], timeout: float) -> dict[str, Any]:
    """Kernel's route choice, then one TCP connect to ``address``:902, closed unused."""
    import socket

    row: dict[str, Any] = {"address": address, "interface": None, "kernel_source": None, "gateway": None, "source": None,
                           "route_error": None, "reachable": None, "result": "no address"}
    if address is None:
        return row
    try:
        ipaddress.ip_address(address)
    except ValueError:  # a name would be resolved by connect: only the snapshot's addresses are contacted
        row["result"] = "not an IP address: not contacted"
        return row
    row.update(_route_get(address))
    try:
        with socket.create_connection((address, PROBE_PORT), timeout=timeout) as s:
            row["source"] = s.getsockname()[0]  # what the kernel really used, beside what it said it would
            row.update(reachable=True, result=f"connected from {row['source']}")
    except socket.timeout:
        row.update(reachable=False, result=f"no answer within {timeout:g} s")
    except ConnectionRefusedError:
        row.update(reachable=False, result="refused (the address answers; nothing listens on 902)")
    except OSError as exc:
        row.update(reachable=False, result=one_line(exc.strerror or str(exc)))
    return row


def _route_get(address: str) -> dict[str, Any]:
    """``ip -j route get ADDRESS``: no shell, bounded in time and output, checked in shape."""
    import subprocess

    try:
        done = subprocess.run(["ip", "-j", "route", "get", address], capture_output=True, timeout=IP_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return {"route_error": "ip (iproute2) is not installed"}
    except subprocess.TimeoutExpired:
        return {"route_error": f"ip route get took over {IP_TIMEOUT_S:g} s"}
    if done.returncode != 0:
        return {"route_error": one_line(done.stderr[:200].decode("utf-8", "replace").strip()) or f"exit {done.returncode}"}
    return parse_route_get(done.stdout[:MAX_IP_OUTPUT])


def parse_route_get(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {"route_error": "ip route get printed something that is not its JSON"}
    first = doc[0] if isinstance(doc, list) and doc and isinstance(doc[0], dict) else None
    if first is None:
        return {"route_error": "ip route get printed no route"}
    out: dict[str, Any] = {}
    for key, field_name in (("dev", "interface"), ("prefsrc", "kernel_source"), ("gateway", "gateway")):
        value = first.get(key)
        out[field_name] = value if isinstance(value, str) and is_safe_name(value) and len(value) <= 64 else None
    return out


def _probe_table(rows: list[dict[str, Any]], node: Optional[str], skipped: int) -> str:
    from ..safetext import terminal

    lines = [f"probe from {one_line(node) if node else 'this machine'} to TCP {PROBE_PORT}: predicted vs observed", ""]
    head = ("host", "target", "address", "predicted", "kernel route", "result")
    table = [head]
    for r in rows:
        ep = r["endpoint"]
        pred = f"{ep['predicted_interface']} {ep['predicted_source']}" if ep["predicted_interface"] else "-"
        table.append((r["host"], "endpoint", ep["address"] or "-", pred, _route_text(ep), _result(ep)))
        m = r["management"]
        table.append(("", "management", m["address"] or "-", "", _route_text(m), m["result"]))
        res = r["name_resolves_to"]
        seen = res["address"] or f"not resolved: {res['error']}"
        if res["address"] and not r["resolved_in_snapshot"]:
            seen += " (not this host's in the snapshot: not contacted)"
        table.append(("", "name", r["host"], "", "", seen))
    widths = [max(len(one_line(str(row[i]))) for row in table) for i in range(len(head))]
    for row in table:
        lines.append("  " + "   ".join(one_line(str(c)).ljust(w) for c, w in zip(row, widths)).rstrip())
    ok = sum(1 for r in rows if r["endpoint"]["as_predicted"])
    lines += ["", f"{len(rows)} host(s) probed: endpoint as predicted {ok}, not {len(rows) - ok}"
              + (f"; {skipped} not probed (--max-hosts)" if skipped else "")]
    return terminal("\n".join(lines))


def _route_text(row: dict[str, Any]) -> str:
    if row.get("route_error"):
        return f"({row['route_error']})"
    if not row.get("interface"):
        return "-"
    via = f" via {row['gateway']}" if row.get("gateway") else ""
    return f"{row['interface']} {row.get('kernel_source') or ''}{via}".strip()


def _result(ep: dict[str, Any]) -> str:
    if ep["reachable"] and ep["predicted_interface"] and not ep["as_predicted"]:
        return f"{ep['result']}, NOT over the predicted interface"
    return ep["result"]
