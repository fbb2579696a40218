"""Build small pcap / pcapng files by hand for parser unit tests and fuzz seeds."""

from __future__ import annotations

import socket
import struct

SYN, ACK, PSH, RST, FIN = 0x02, 0x10, 0x08, 0x04, 0x01


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def tcp_frame(src_mac: str, dst_mac: str, src: str, dst: str, sport: int, dport: int,
              flags: int, payload: int = 0, vlan: int | None = None) -> bytes:
    """Ethernet (optionally 802.1Q) + IPv4 or IPv6 + TCP with ``payload`` zero bytes."""
    v6 = ":" in src
    tcp = struct.pack(">HHIIBBHHH", sport, dport, 1, 1, 5 << 4, flags, 65535, 0, 0) + bytes(payload)
    if v6:
        ip = struct.pack(">IHBB", 6 << 28, len(tcp), 6, 64) + socket.inet_pton(socket.AF_INET6, src) \
            + socket.inet_pton(socket.AF_INET6, dst)
        etype = 0x86DD
    else:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        etype = 0x0800
    eth = mac(dst_mac) + mac(src_mac)
    if vlan is not None:
        eth += struct.pack(">HH", 0x8100, vlan)
    return eth + struct.pack(">H", etype) + ip + tcp


def pcap(frames: list[tuple[float, bytes]], linktype: int = 1, nano: bool = False, big: bool = False) -> bytes:
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)]
    for ts, data in frames:
        sec = int(ts)
        frac = round((ts - sec) * (1e9 if nano else 1e6))
        out.append(struct.pack(e + "IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def _block(btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + bytes(-len(value) % 4)


def pcapng(interfaces: list[str], packets: list[tuple[int, float, bytes]], tsresol: int | None = None) -> bytes:
    """``packets``: (interface index, time, frame)."""
    out = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for name in interfaces:
        opts = _option(2, name.encode())
        if tsresol is not None:
            opts += _option(9, bytes([tsresol]))
        out.append(_block(1, struct.pack("<HHI", 1, 0, 262144) + opts + _option(0, b"")))
    scale = 10 ** (tsresol if tsresol is not None else 6)
    for ifid, ts, data in packets:
        t = round(ts * scale)
        out.append(_block(6, struct.pack("<IIIII", ifid, t >> 32, t & 0xFFFFFFFF, len(data), len(data)) + data))
    return b"".join(out)


def nfc_session(host: str = "10.0.0.11", node: str = "10.0.0.50", host_mac: str = "00:50:56:6c:00:02",
                node_mac: str = "00:50:56:aa:00:50", data_mac: str | None = None, t0: float = 1700000000.0,
                blocks: int = 4, block: int = 1400, vlan: int | None = None) -> list[tuple[float, bytes]]:
    """A node opening NFC on host:902 and the host streaming ``blocks`` data segments back."""
    data_mac = data_mac or host_mac
    f = [
        (t0, tcp_frame(node_mac, host_mac, node, host, 40000, 902, SYN, vlan=vlan)),
        (t0 + 0.001, tcp_frame(data_mac, node_mac, host, node, 902, 40000, SYN | ACK, vlan=vlan)),
        (t0 + 0.002, tcp_frame(node_mac, host_mac, node, host, 40000, 902, ACK, vlan=vlan)),
        (t0 + 0.003, tcp_frame(node_mac, host_mac, node, host, 40000, 902, ACK | PSH, 10, vlan=vlan)),
    ]
    for i in range(blocks):
        f.append((t0 + 0.01 + i * 0.001, tcp_frame(data_mac, node_mac, host, node, 902, 40000, ACK, block, vlan=vlan)))
    return f
