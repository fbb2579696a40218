"""vmk -> port group -> teaming -> the uplinks that can carry its traffic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from ..model import Host, Snapshot, Teaming
from .types import Degradation, Uplink

# Teaming policies that put one flow on one of the active uplinks (which one is not predictable),
# and those that spread flows over all of them: the estimate, the renderers and the lab all ask.
ONE_UPLINK_PER_FLOW = frozenset({"loadbalance_srcid", "loadbalance_srcmac", "loadbalance_loadbased"})
SPREAD_OVER_UPLINKS = frozenset({"loadbalance_ip", "lacp"})

POLICY_TEXT = {
    "loadbalance_srcid": "route based on originating virtual port",
    "loadbalance_ip": "route based on IP hash",
    "loadbalance_srcmac": "route based on source MAC hash",
    "loadbalance_loadbased": "route based on physical NIC load",
    "failover_explicit": "use explicit failover order",
    "lacp": "LACP",
}


@dataclass(frozen=True, slots=True)
class PortGroupInfo:
    name: str
    switch: str
    distributed: bool
    vlan: int
    mtu: int
    policy: str
    active: tuple[str, ...]  # vmnic names, in order
    standby: tuple[str, ...]
    unused: tuple[str, ...]
    overridden: bool  # the port group overrides the switch's teaming


@dataclass(frozen=True, slots=True)
class UplinkChoice:
    uplinks: tuple[Uplink, ...]  # the candidates the traffic may use
    policy: str
    reason: str
    degraded: tuple[Degradation, ...]


def effective(switch: Teaming, pg: Optional[Teaming], all_uplinks: Sequence[str]) -> tuple[str, tuple, tuple, tuple, bool]:
    """A port group's teaming as vSphere merges it with its switch's: (policy, active, standby,
    unused, overridden), uplinks in the switch's names. Written once: the engine and the lab use it."""
    policy = (pg.policy if pg and pg.policy else None) or switch.policy or "loadbalance_srcid"
    override_order = bool(pg and (pg.active is not None or pg.standby is not None or pg.unused is not None))
    src: Teaming = pg if pg is not None and override_order else switch
    standby = tuple(src.standby or ())
    unused = tuple(src.unused or ())
    if src.active is None:
        # vSphere's default: every uplink not listed elsewhere is active.
        active = tuple(u for u in all_uplinks if u not in standby and u not in unused)
    else:
        active = tuple(src.active)
    overridden = bool(pg and (pg.policy is not None or override_order))
    return policy, active, standby, unused, overridden


def portgroups(host: Host, snap: Snapshot, dvs_index: dict) -> dict[str, PortGroupInfo]:
    """Every port group on ``host``, standard and distributed, with effective teaming in vmnic names."""
    out: dict[str, PortGroupInfo] = {}
    for vs in host.vswitches:
        for pg in vs.portgroups:
            policy, a, s, u, ov = effective(vs.teaming, pg.teaming, vs.uplinks)
            out[pg.name] = PortGroupInfo(pg.name, vs.name, False, pg.vlan, vs.mtu, policy, a, s, u, ov)
    for member in host.dvswitches:
        dvs = dvs_index.get(member.switch)
        if dvs is None:
            continue
        to_nic = member.uplinks

        def nics(ports: tuple[str, ...]) -> tuple[str, ...]:
            # An uplink port with no vmnic on this host carries nothing here.
            return tuple(to_nic[p] for p in ports if p in to_nic)

        for pg in dvs.portgroups:
            policy, a, s, u, ov = effective(dvs.teaming, pg.teaming, dvs.uplink_ports)
            out[pg.name] = PortGroupInfo(pg.name, dvs.name, True, pg.vlan, dvs.mtu, policy, nics(a), nics(s), nics(u), ov)
    return out


def choose(pg: PortGroupInfo, pnics: dict) -> UplinkChoice:
    """Which uplinks carry a vmk's traffic under ``pg``'s teaming and the links' state."""

    def up(name: str) -> bool:
        nic = pnics.get(name)
        return bool(nic and nic.link_up)

    def uplink(name: str, role: str) -> Uplink:
        nic = pnics.get(name)
        return Uplink(name, nic.speed_mbps if nic and nic.link_up else None, up(name), role)

    policy = pg.policy
    where = f"port group {pg.name} on {pg.switch}" + (" (overrides switch teaming)" if pg.overridden else " (inherits switch teaming)")
    degraded = []
    down_active = [n for n in pg.active if not up(n)]
    for n in down_active:
        degraded.append(Degradation("uplink-down", f"active uplink {n} is down"))
    active_up = [n for n in pg.active if up(n)]
    if active_up:
        if policy == "failover_explicit":
            chosen = active_up[:1]
            why = f"{where}: explicit failover, first active uplink up is {chosen[0]}"
        elif policy in SPREAD_OVER_UPLINKS:
            chosen = active_up
            why = f"{where}: {POLICY_TEXT[policy]}, flows spread over active {', '.join(chosen)}"
        else:
            chosen = active_up
            which = "one of" if len(chosen) > 1 else "active uplink"
            why = f"{where}: {POLICY_TEXT.get(policy, policy)}, {which} {', '.join(chosen)}"
            if len(chosen) > 1:
                why += " (which one is not predictable)"
        return UplinkChoice(tuple(uplink(n, "active") for n in chosen), policy, why, tuple(degraded))
    standby_up = [n for n in pg.standby if up(n)]
    if standby_up:
        chosen = standby_up[:1] if policy == "failover_explicit" else standby_up[: max(1, len(pg.active))]
        degraded.append(Degradation("standby-only", "standby-only: no active uplink is up"))
        why = f"{where}: no active uplink up ({', '.join(pg.active) or 'none'}), standby {', '.join(chosen)} takes over"
        return UplinkChoice(tuple(uplink(n, "standby") for n in chosen), policy, why, tuple(degraded))
    why = f"{where}: no active or standby uplink is up (active: {', '.join(pg.active) or 'none'}, standby: {', '.join(pg.standby) or 'none'})"
    return UplinkChoice((), policy, why, tuple(degraded))
