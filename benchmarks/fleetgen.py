"""Generate a large mixed estate: clusters of 16 hosts, 16 backup nodes.

Each cluster gets its own management and backup /24 (the worst case for
sharing work: no two clusters have the same subnets) and one of five
configurations from the field reports, so every verdict shows up.
"""

from __future__ import annotations

import json

KINDS = ("tag-l2-vds", "tag-routed", "tag-routed-fixed", "esxi67", "report2-trick")


def _o(c: int) -> str:
    return f"{c >> 8}.{c & 255}"


def generate(n_hosts: int, n_nodes: int = 16, cluster_size: int = 16) -> dict:
    n_clusters = (n_hosts + cluster_size - 1) // cluster_size
    if n_clusters > 4096:
        raise ValueError("at most 65,536 hosts")
    router_ifaces = []
    segments = []
    hosts = []
    for c in range(n_clusters):
        kind = KINDS[c % len(KINDS)]
        mg, bk = f"10.{_o(c)}", f"11.{_o(c)}"
        segments += [
            {"name": f"mgmt-{c}", "vlan": 10, "subnets": [f"{mg}.0/24"]},
            {"name": f"backup-{c}", "vlan": 30, "subnets": [f"{bk}.0/24"]},
        ]
        router_ifaces += [
            {"name": f"m{c}", "address": f"{mg}.1/24"},
            {"name": f"b{c}", "address": f"{bk}.1/24"},
        ]
        for i in range(cluster_size):
            h = c * cluster_size + i
            if h >= n_hosts:
                break
            hosts.append(_host(h, c, i, kind, mg, bk))
    nodes = []
    for n in range(n_nodes):
        if n % 2 == 0:  # routed nodes on 12.0.0.0/24
            nodes.append({"name": f"proxy-r{n}", "product": "veeam-proxy", "gateway": "12.0.0.1",
                          "interfaces": [{"name": "eth0", "address": f"12.0.0.{10 + n}/24", "speed_mbps": 10000}]})
        else:  # nodes on the Rubrik-style data subnet
            nodes.append({"name": f"rubrik-{n}", "product": "rubrik-node", "gateway": "13.15.255.1",
                          "interfaces": [{"name": "bond0", "address": f"13.15.255.{10 + n}/12", "speed_mbps": 25000}]})
    segments += [{"name": "proxies", "subnets": ["12.0.0.0/24"]}, {"name": "rubrik", "subnets": ["13.0.0.0/12"]}]
    router_ifaces += [{"name": "p", "address": "12.0.0.1/24"}, {"name": "r", "address": "13.15.255.1/12"}]
    return {
        "version": 1,
        "name": f"fleet-{n_hosts}",
        "dvswitches": [{
            "name": "dvs-prod", "uplink_ports": ["uplink1", "uplink2", "uplink3", "uplink4"],
            "teaming": {"policy": "loadbalance_srcid", "active": ["uplink1", "uplink2"], "unused": ["uplink3", "uplink4"]},
            "portgroups": [{"name": "dvpg-mgmt", "vlan": 10},
                           {"name": "dvpg-backup", "vlan": 30, "teaming": {"policy": "failover_explicit", "active": ["uplink3"], "standby": ["uplink4"], "unused": ["uplink1", "uplink2"]}}],
        }],
        "hosts": hosts,
        "segments": segments,
        "routers": [{"name": "core", "interfaces": router_ifaces}],
        "backup_nodes": nodes,
    }


def _host(h: int, c: int, i: int, kind: str, mg: str, bk: str) -> dict:
    pnics = [{"name": f"vmnic{k}", "speed_mbps": 1000 if k < 2 else 10000,
              "link_up": not (kind == "tag-l2-vds" and i == 3 and k == 2)} for k in range(4)]
    mgmt = {"device": "vmk0", "ipv4": f"{mg}.{10 + i}/24", "services": ["management"], "mac": f"00:50:56:{h >> 16 & 255:02x}:{h >> 8 & 255:02x}:{h & 255:02x}"}
    backup = {"device": "vmk2", "ipv4": f"{bk}.{10 + i}/24", "services": ["vSphereBackupNFC"]}
    host: dict = {"name": f"esx{h:05d}", "version": "8.0.2", "cluster": f"c{c}", "management_address": f"{mg}.{10 + i}", "pnics": pnics}
    stack: dict = {"key": "defaultTcpipStack", "gateway": f"{mg}.1"}
    if kind == "tag-l2-vds":
        host["dvswitches"] = [{"switch": "dvs-prod", "uplinks": {f"uplink{k + 1}": f"vmnic{k}" for k in range(4)}}]
        host["vmks"] = [{**mgmt, "portgroup": "dvpg-mgmt"}, {**backup, "portgroup": "dvpg-backup"}]
    else:
        host["vswitches"] = [
            {"name": "vSwitch0", "uplinks": ["vmnic0", "vmnic1"], "portgroups": [{"name": "Management Network", "vlan": 10}]},
            {"name": "vSwitch1", "uplinks": ["vmnic2", "vmnic3"], "portgroups": [{"name": "Backup", "vlan": 30}]},
        ]
        host["vmks"] = [{**mgmt, "portgroup": "Management Network"}, {**backup, "portgroup": "Backup"}]
        if kind == "tag-routed-fixed":
            stack["routes"] = [{"network": "12.0.0.0/24", "gateway": f"{bk}.1"}, {"network": "13.0.0.0/12", "gateway": f"{bk}.1"}]
        if kind == "esxi67":
            host["version"] = "6.7.0"
        if kind == "report2-trick":
            # vmk4 on the Rubrik nodes' subnet, no tag: connect to vmk0, data out of vmk4.
            host["vmks"][1] = {"device": "vmk4", "portgroup": "Backup", "ipv4": f"13.{c >> 8}.{c & 255}.{10 + i}/12"}
    host["netstacks"] = [stack]
    return host


def write(path: str, n_hosts: int, n_nodes: int = 16) -> int:
    text = json.dumps(generate(n_hosts, n_nodes), separators=(",", ":"))
    with open(path, "w") as fh:
        fh.write(text)
    return len(text)


def add_vms(fleet: dict, n_vms: int, n_jobs: int, cluster_size: int = 16) -> dict:
    """``fleet`` with ``n_vms`` VMs round-robin over its hosts and ``n_jobs`` jobs over its clusters.

    One datastore per cluster, mounted read-write by the cluster's hosts.
    VMs have 1-3 disks (40 GiB system disk, data disks 50-450 GiB), one in ten
    is powered off (read through the datastore's candidate hosts), one in fifty
    is a template; 50 folders. Jobs take the clusters in turn (a cluster per
    job per round), two backup nodes each, alternately nbd / nbdssl and full /
    incremental.
    """
    hosts = fleet["hosts"]
    clusters = sorted({h["cluster"] for h in hosts}, key=lambda c: int(c[1:]))
    fleet["datastores"] = [{"name": f"ds-{c}", "hosts": [h["name"] for h in hosts if h["cluster"] == c]}
                           for c in clusters]
    vms = []
    for n in range(n_vms):
        h = hosts[n % len(hosts)]
        disks = [{"capacity_gib": 40, "datastore": f"ds-{h['cluster']}"}]
        disks += [{"capacity_gib": 50 + (n * 37 + k * 101) % 400, "datastore": f"ds-{h['cluster']}"} for k in range(n % 3)]
        vm = {"name": f"vm{n:06d}", "host": h["name"], "folder": f"app{n % 50:02d}", "disks": disks}
        if n % 10 == 9:
            vm["power_state"] = "poweredOff"
        if n % 50 == 49:
            vm["template"] = True
        vms.append(vm)
    fleet["vms"] = vms
    nodes = [n["name"] for n in fleet["backup_nodes"]]
    jobs = []
    for j in range(n_jobs):
        jobs.append({
            "name": f"job{j:03d}", "product": "veeam", "clusters": clusters[j::n_jobs] if n_jobs else [],
            "nodes": [nodes[(2 * j) % len(nodes)], nodes[(2 * j + 1) % len(nodes)]],
            "transport": "nbdssl" if j % 2 else "nbd", "mode": "incremental" if j % 3 == 2 else "full",
            "concurrency": {"per_node": 8},
        })
    fleet["jobs"] = [j for j in jobs if j["clusters"]]
    return fleet


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Write a generated fleet snapshot (JSON).")
    ap.add_argument("output")
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--vms", type=int, default=0, help="VMs round-robin over the hosts (with datastores)")
    ap.add_argument("--jobs", type=int, default=0, help="jobs over the clusters (needs --vms)")
    args = ap.parse_args()
    fleet = generate(args.hosts, args.nodes)
    if args.vms or args.jobs:
        fleet = add_vms(fleet, args.vms, args.jobs)
    with open(args.output, "w") as fh:
        fh.write(json.dumps(fleet, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
