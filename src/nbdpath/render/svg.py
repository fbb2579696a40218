"""One path shape as an inline SVG: backup node, routers, host, vmks, uplinks.

Pure string building from ``Report.render_data()``'s diagram dict. The request
(node -> host, TCP 902) is a solid blue line along the top lane, the data
(host -> node) a dashed orange line along the bottom lane, each through the
routers it crosses; so a routed reply (report 1) or an asymmetric flow
(report 2) shows as the two lines leaving different vmks or crossing
different boxes. What runs at the bottleneck speed is outlined red. Every
name is HTML-escaped: a vmk's port group is input.
"""

from __future__ import annotations

from html import escape
from typing import Any

REQUEST, REPLY, BOTTLENECK, ONE_WAY = "#0969da", "#d1741f", "#cf222e", "#cf222e"
_W = 860
_NODE_X, _NODE_W = 10, 170
_HOST_X, _HOST_W = 560, 290
_MID_L, _MID_R = _NODE_X + _NODE_W + 20, _HOST_X - 40
_ROW = 20
_LEGEND_H = 46


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def speed(mbps: int | None) -> str:
    if mbps is None:
        return "?"
    return f"{mbps // 1000}G" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps}M"


def _clip(text: str, n: int) -> str:
    """Long names would run out of their box; the full name stays in the <title> tooltip."""
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _text(x: float, y: float, value: str, cls: str = "", anchor: str = "start", limit: int = 40) -> str:
    c = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.0f}" y="{y:.0f}"{c} text-anchor="{anchor}">'
            f'<title>{_e(value)}</title>{_e(_clip(value, limit))}</text>')


def _box(x: float, y: float, w: float, h: float, cls: str, data: str = "") -> str:
    return f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="4" class="{cls}"{data}/>'


def _line(points: list[tuple[float, float]], cls: str, marker: str) -> str:
    pts = " ".join(f"{x:.0f},{y:.0f}" for x, y in points)
    return f'<polyline points="{pts}" class="{cls}" fill="none" marker-end="url(#{marker})"/>'


def _devices(devs: list[dict[str, Any]], lane_y: float, lane: str, d: dict[str, Any]) -> tuple[list[str], list[float]]:
    """Router/firewall boxes spread along one lane; returns the SVG and each box's x range edges."""
    out: list[str] = []
    if not devs:
        return out, []
    span = (_MID_R - _MID_L) / len(devs)
    w = min(110.0, span - 14)
    xs: list[float] = []
    for i, dev in enumerate(devs):
        cx = _MID_L + span * (i + 0.5)
        x = cx - w / 2
        xs += [x, x + w]
        cls = "dev fw" if dev["kind"] == "firewall" or dev["stateful"] else "dev"
        if dev["name"] in d["one_way"]:
            cls += " one-way"
        if lane == "reply" and dev["name"] in d["bottleneck_at"]:
            cls += " bottleneck"
        label = ("stateful " + ("fw" if dev["kind"] == "firewall" else "router")) if dev["stateful"] else dev["kind"]
        out.append(f'<g class="device" data-lane="{lane}" data-device="{_e(dev["name"])}">')
        out.append(_box(x, lane_y - 17, w, 34, cls))
        out.append(_text(cx, lane_y - 3, dev["name"], "name", "middle", int(w / 7)))
        cap = f" {speed(dev['capacity_mbps'])}" if dev["capacity_mbps"] else ""
        out.append(_text(cx, lane_y + 11, label + cap, "small", "middle", int(w / 6)))
        out.append("</g>")
    return out, xs


def _vmk_rows(d: dict[str, Any], top: float) -> tuple[list[str], dict[str, float]]:
    out: list[str] = []
    ys: dict[str, float] = {}
    for i, v in enumerate(d["vmks"]):
        y = top + i * _ROW
        ys[v["device"]] = y + _ROW / 2
        roles = []
        if v["device"] == d["endpoint_vmk"]:
            roles.append("endpoint")
        if v["device"] == d["ingress_vmk"]:
            roles.append("in")
        if v["device"] == d["egress_vmk"]:
            roles.append("out")
        marks = [m for m, on in (("NFC tag", v["backup_tag"]), ("mgmt", v["management"])) if on]
        cls = "vmk" + (" used" if roles else "")
        out.append(f'<g class="{cls}" data-vmk="{_e(v["device"])}" data-roles="{_e(" ".join(roles))}">')
        out.append(_box(_HOST_X + 8, y + 2, _HOST_W - 16, _ROW - 3, "vmk-row" + (" used" if roles else "")))
        out.append(_text(_HOST_X + 14, y + 15, f"{v['device']} {v['address']}", "mono", limit=22))
        tail = " ".join(marks + ([f"[{'/'.join(roles)}]"] if roles else []))
        out.append(_text(_HOST_X + _HOST_W - 12, y + 15, tail or v["portgroup"], "small", "end", 28))
        out.append("</g>")
    return out, ys


def _uplink_rows(d: dict[str, Any], top: float) -> list[str]:
    out = [_text(_HOST_X + 10, top + 12, f"uplinks ({d['uplink_policy'] or 'no egress'})", "small", limit=40)]
    top += 16
    per_row = 3
    w = (_HOST_W - 16) / per_row
    for i, u in enumerate(d["uplinks"]):
        x = _HOST_X + 8 + (i % per_row) * w
        y = top + (i // per_row) * _ROW
        state = "up" if u["link_up"] else "down"
        cls = "uplink" + (" egress" if u["role"] else "") + ("" if u["link_up"] else " down")
        if u["name"] in d["bottleneck_at"]:
            cls += " bottleneck"
        role = f" {u['role']}" if u["role"] and u["role"] != "active" else ""
        out.append(f'<g class="uplink-g" data-uplink="{_e(u["name"])}" data-state="{state}"'
                   f' data-egress="{"yes" if u["role"] else "no"}">')
        out.append(_box(x + 1, y, w - 4, _ROW - 3, cls))
        out.append(_text(x + w / 2, y + 13, f"{u['name']} {speed(u['speed_mbps'])} {state}{role}", "small",
                         "middle", int(w / 6)))
        out.append("</g>")
    return out


def _node(d: dict[str, Any], top: float, h: float) -> list[str]:
    cls = "box node" + (" bottleneck" if "node" in d["bottleneck_at"] else "")
    others = f"+{d['other_nodes']} node(s) alike" if d["other_nodes"] else "backup node"
    return [
        '<g class="node-g">', _box(_NODE_X, top, _NODE_W, h, cls),
        _text(_NODE_X + 8, top + 18, d["node"], "name", limit=22),
        _text(_NODE_X + 8, top + 34, others, "small", limit=26),
        _text(_NODE_X + 8, top + 52, f"{d['node_interface'] or '?'} {d['node_address'] or '?'}", "mono", limit=24),
        _text(_NODE_X + 8, top + 68, f"NIC {speed(d['node_speed_mbps'])}", "small"),
        "</g>",
    ]


def _legend(y: float) -> list[str]:
    return [
        f'<g class="legend" transform="translate(10,{y:.0f})">',
        f'<line x1="0" y1="10" x2="40" y2="10" class="req"/>',
        '<text x="46" y="14" class="small">request: node -&gt; host, TCP 902</text>',
        f'<line x1="250" y1="10" x2="290" y2="10" class="rep"/>',
        '<text x="296" y="14" class="small">data: host -&gt; node</text>',
        '<rect x="450" y="2" width="30" height="16" rx="3" class="legend-bn"/>',
        '<text x="486" y="14" class="small">at the bottleneck speed</text>',
        '<rect x="640" y="2" width="30" height="16" rx="3" class="legend-ow"/>',
        '<text x="676" y="14" class="small">stateful, sees one direction</text>',
        '<text x="0" y="36" class="small">[endpoint] the address vCenter hands out; [in] receives the request;'
        ' [out] sends the data (its route lookup, A1)</text>',
        "</g>",
    ]


_STYLE = (
    f".req{{stroke:{REQUEST};stroke-width:2.5}}.rep{{stroke:{REPLY};stroke-width:2.5;stroke-dasharray:7 4}}"
    ".box,.dev,.vmk-row,.uplink{fill:#fff;stroke:#8c959f}.host{fill:#f6f8fa}.vmk-row.used{stroke:#1b1f24;"
    "stroke-width:1.5}.dev.fw{fill:#fff8c5}.uplink.egress{stroke:" + REPLY + ";stroke-width:2}"
    ".uplink.down{fill:#eaeef2;stroke-dasharray:3 2}.dev.one-way{stroke:" + ONE_WAY + ";stroke-width:3;fill:#ffebe9}"
    ".box.bottleneck,.dev.bottleneck,.uplink.bottleneck{stroke:" + BOTTLENECK + ";stroke-width:3}.legend-bn{fill:#fff;stroke:" + BOTTLENECK + ";stroke-width:3}"
    ".legend-ow{fill:#ffebe9;stroke:" + ONE_WAY + ";stroke-width:3}"
    "text{font:12px system-ui,sans-serif;fill:#1b1f24}.name{font-weight:bold}.small{font-size:11px;fill:#424a53}"
    ".mono{font:11px ui-monospace,monospace}.title{font-size:13px;font-weight:bold}.fail{fill:" + BOTTLENECK + "}"
)


def shape_svg(d: dict[str, Any], ident: int) -> str:
    """The diagram of one shape; ``ident`` keeps marker ids unique on the page."""
    vmk_top = 46
    n_up_rows = max(1, (len(d["uplinks"]) + 2) // 3)
    host_h = 30 + len(d["vmks"]) * _ROW + 22 + n_up_rows * _ROW
    req_y, rep_y = 70.0, 70.0 + max(90.0, host_h - 70)
    top = 24
    body_h = max(host_h, rep_y + 30 - top)
    height = top + body_h + 14 + _LEGEND_H
    arrow_req, arrow_rep = f"a-req-{ident}", f"a-rep-{ident}"
    verdict = d["verdict"] + ("?" if not d["robust"] else "") + (" DEGRADED" if d["degraded"] else "")
    others = f" (+{d['other_hosts']} host(s) alike)" if d["other_hosts"] else ""
    title = f"{d['node']} -> {d['host']}{others}: {verdict}, bottleneck {speed(d['bottleneck_mbps'])}"
    out = [
        f'<svg class="diagram" role="img" viewBox="0 0 {_W} {height:.0f}"'
        f' width="{_W}" height="{height:.0f}" data-shape="{ident}" data-verdict="{_e(d["verdict"])}">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style>",
        "<defs>",
        f'<marker id="{arrow_req}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        f' orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="{REQUEST}"/></marker>',
        f'<marker id="{arrow_rep}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        f' orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="{REPLY}"/></marker>',
        "</defs>",
        _text(10, 16, title, "title", limit=120),
    ]
    out += _node(d, top + 20, max(80.0, rep_y - req_y + 40))
    out.append(f'<g class="host-g" data-host="{_e(d["host"])}">')
    out.append(_box(_HOST_X, top, _HOST_W, host_h, "box host"))
    out.append(_text(_HOST_X + 8, top + 16, f"ESXi {d['host']}", "name", limit=36))
    rows, ys = _vmk_rows(d, top + vmk_top - 22)
    out += rows
    out += _uplink_rows(d, top + 30 + len(d["vmks"]) * _ROW)
    out.append("</g>")
    node_r = _NODE_X + _NODE_W
    # Request: node -> routers -> the vmk that receives it (the endpoint when it never arrives).
    fwd, _ = _devices(d["forward"], req_y, "forward", d)
    reply, _ = _devices(d["reply"], rep_y, "reply", d)
    in_y = ys.get(d["ingress_vmk"] or "") or ys.get(d["endpoint_vmk"] or "")
    if d["endpoint_ip"] is not None:
        pts: list[tuple[float, float]] = [(node_r, req_y), (_HOST_X - 24, req_y)]
        pts += [(_HOST_X - 24, in_y), (_HOST_X + 6, in_y)] if in_y is not None else [(_HOST_X - 2, req_y)]
        arrives = d["ingress_vmk"] is not None
        if not arrives:  # stops in the middle: the request never reaches the host
            pts = [(node_r, req_y), ((_MID_L + _MID_R) / 2, req_y)]
        out.append(f'<g class="flow" data-flow="request" data-to="{_e(d["ingress_vmk"] or "")}"'
                   f' data-arrives="{"yes" if arrives else "no"}">' + _line(pts, "req", arrow_req) + "</g>")
        if not arrives:
            out.append(_text((_MID_L + _MID_R) / 2, req_y + 32, f"does not reach {d['endpoint_ip']}",
                             "small fail", "middle", 40))
    else:
        out.append(_text(node_r + 10, req_y - 4, "vCenter hands out no address: no request", "small fail", limit=60))
    failed = d["verdict"] == "UNREACHABLE"
    if d["egress_vmk"] is not None and d["egress_vmk"] in ys:
        out_y = ys[d["egress_vmk"]]
        # A reply that never arrives stops short of the node, and says so.
        end = (_MID_L + _MID_R) / 2 if failed else node_r + 2
        pts = [(_HOST_X + 6, out_y), (_HOST_X - 14, out_y), (_HOST_X - 14, rep_y), (end, rep_y)]
        out.append(f'<g class="flow" data-flow="reply" data-from="{_e(d["egress_vmk"])}"'
                   f' data-arrives="{"no" if failed else "yes"}">' + _line(pts, "rep", arrow_rep) + "</g>")
        if failed:
            out.append(_text(end, rep_y - 24, "does not reach the node", "small fail", "middle", 40))
        if d["reply_route_origin"]:
            out.append(_text(_HOST_X - 18, rep_y + 14, f"route: {d['reply_route_origin']}", "small", "end", 30))
    elif d["endpoint_ip"] is not None:
        out.append(_text(node_r + 10, rep_y + 4, "no data flows back", "small fail", limit=40))
    if "forward" in d["unmodelled"]:
        out.append(_text((_MID_L + _MID_R) / 2, req_y - 22, "undescribed routed network (A11)", "small", "middle"))
    if "reply" in d["unmodelled"]:
        out.append(_text((_MID_L + _MID_R) / 2, rep_y + 30, "undescribed routed network (A11)", "small", "middle"))
    out += fwd + reply  # boxes over the lines
    out += _legend(top + body_h + 10)
    out.append("</svg>")
    return "".join(out)
