// Command vcsim-nbdpath: govmomi's vCenter simulator loaded with an nbdpath
// snapshot, so that discovery talks to a real SOAP peer in the tests.
//
// govmomi 0.24 (Debian) models one static ESX network (vmk0 only, the same IP
// on every host) and has no HostVirtualNicManager, no vnic/route methods and
// no property paging. This launcher adds exactly those, per host:
//
//   - config.network: pnics (speed, link, MAC), standard switches and port
//     groups with VLAN and teaming, VDS membership (proxySwitch with
//     pnicSpec uplink port -> vmnic), netstack instances with gateways and
//     route tables, vmks with IP, MAC, stack, MTU and gateway override;
//   - config.virtualNicManagerInfo and a HostVirtualNicManager object with
//     QueryNetConfig / SelectVnicForNicType / DeselectVnicForNicType;
//   - HostNetworkSystem AddVirtualNic / UpdateVirtualNic / RemoveVirtualNic /
//     UpdateIpRouteConfig / UpdateIpRouteTableConfig / UpdateNetworkConfig
//     (netstack gateways and static routes of any stack);
//   - RetrievePropertiesEx paging (options.maxObjects, capped by -max-page
//     like a real vCenter) with ContinueRetrievePropertiesEx and
//     CancelRetrievePropertiesEx;
//   - property paths naming one element of a key-based array
//     ("config.hardware.device[2000]"), as vCenter answers them.
//
// Usage (the password comes from VCSIM_PASSWORD, never the command line):
//
//	vcsim-bin -snapshot estate.json -cert-out cert.pem [-listen 127.0.0.1:0]
//	          [-user U] [-disconnected esx03,esx04] [-max-page 100]
//	          [-mounts DS@HOST@readOnly,DS@HOST@unmounted] [-no-layout VM,VM]
//	          [-cpuprofile FILE]   (Go CPU profile, written on "quit")
//
// The snapshot's vms and datastores are served too: VirtualMachine objects
// (runtime.host, runtime.powerState, config.template, config.hardware.device
// with the simulator's default devices beside the disks, layoutEx with the
// disks' files, summary.config.numVirtualDisks) in folders, and
// Datastore objects with their host mounts; -mounts adds mounts the snapshot
// cannot express (read-only, unmounted); -no-layout serves those VMs without
// layoutEx, as vCenter does for a VM whose files it cannot read.
//
// The snapshot is nbdpath's JSON with defaults included
// (Snapshot.model_dump_json()). On start it prints one JSON line
// {"url": ..., "cert": ..., "hosts": N} on stdout; then it reads commands on
// stdin, one per line, answering "ok" or "error ...":
//
//	remove NAME       the host vanishes from the inventory
//	disconnect NAME   the host's connection state becomes "disconnected"
//	quit              stop the server (also on stdin EOF)
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/url"
	"os"
	"reflect"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	_ "github.com/vmware/govmomi/vapi/simulator" // the vSphere Automation API (/rest): tags
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vapi/tags"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// ---- the snapshot, as nbdpath writes it (only the fields used here) ----

type Teaming struct {
	Policy  *string   `json:"policy"`
	Active  *[]string `json:"active"`
	Standby *[]string `json:"standby"`
	Unused  *[]string `json:"unused"`
}

type PortGroup struct {
	Name    string   `json:"name"`
	Vlan    int32    `json:"vlan"`
	Teaming *Teaming `json:"teaming"`
}

type StandardSwitch struct {
	Name       string      `json:"name"`
	Uplinks    []string    `json:"uplinks"`
	Mtu        int32       `json:"mtu"`
	Teaming    *Teaming    `json:"teaming"`
	Portgroups []PortGroup `json:"portgroups"`
}

type DistributedSwitch struct {
	Name        string      `json:"name"`
	UplinkPorts []string    `json:"uplink_ports"`
	Mtu         int32       `json:"mtu"`
	Teaming     *Teaming    `json:"teaming"`
	Portgroups  []PortGroup `json:"portgroups"`
}

type DvsMembership struct {
	Switch  string            `json:"switch"`
	Uplinks map[string]string `json:"uplinks"`
}

type Route struct {
	Network string `json:"network"`
	Gateway string `json:"gateway"`
}

type Netstack struct {
	Key     string  `json:"key"`
	Gateway *string `json:"gateway"`
	Routes  []Route `json:"routes"`
}

type Pnic struct {
	Name      string  `json:"name"`
	SpeedMbps *int32  `json:"speed_mbps"`
	LinkUp    *bool   `json:"link_up"`
	Mac       *string `json:"mac"`
}

type Vmk struct {
	Device    string   `json:"device"`
	Portgroup string   `json:"portgroup"`
	Ipv4      *string  `json:"ipv4"`
	Mac       *string  `json:"mac"`
	Netstack  string   `json:"netstack"`
	Mtu       int32    `json:"mtu"`
	Services  []string `json:"services"`
	Gateway   *string  `json:"gateway"`
}

type Host struct {
	Name              string           `json:"name"`
	ManagementAddress *string          `json:"management_address"`
	Cluster           *string          `json:"cluster"`
	Version           string           `json:"version"`
	Pnics             []Pnic           `json:"pnics"`
	Vswitches         []StandardSwitch `json:"vswitches"`
	Dvswitches        []DvsMembership  `json:"dvswitches"`
	Netstacks         []Netstack       `json:"netstacks"`
	Vmks              []Vmk            `json:"vmks"`
}

type VirtualDisk struct {
	Label       *string `json:"label"`
	CapacityGib float64 `json:"capacity_gib"`
	Datastore   string  `json:"datastore"`
}

type Vm struct {
	Name       string        `json:"name"`
	Host       string        `json:"host"`
	PowerState string        `json:"power_state"`
	Template   bool          `json:"template"`
	Folder     *string       `json:"folder"`
	Tags       []string      `json:"tags"`
	Disks      []VirtualDisk `json:"disks"`
}

type Datastore struct {
	Name       string   `json:"name"`
	Hosts      []string `json:"hosts"`
	Accessible bool     `json:"accessible"`
}

type Snapshot struct {
	Dvswitches []DistributedSwitch `json:"dvswitches"`
	Hosts      []Host              `json:"hosts"`
	Vms        []Vm                `json:"vms"`
	Datastores []Datastore         `json:"datastores"`
}

const defaultStack = "defaultTcpipStack"

// vCenter's NicType names: every one gets a netConfig entry, as on a real host.
var nicTypes = []string{
	"faultToleranceLogging", "management", "nvmeRdma", "nvmeTcp", "ptp",
	"vSphereBackupNFC", "vSphereProvisioning", "vSphereReplication",
	"vSphereReplicationNFC", "vmotion", "vsan", "vsanWitness",
}

func vnicKey(device string) string { return "key-vim.host.VirtualNic-" + device }
func pnicKey(device string) string { return "key-vim.host.PhysicalNic-" + device }

// ---- HostVirtualNicManager: the service tags ----

type VnicManager struct {
	mo.HostVirtualNicManager
	host *simulator.HostSystem
}

func (m *VnicManager) netConfig(nicType string) *types.VirtualNicManagerNetConfig {
	info := m.host.Config.VirtualNicManagerInfo
	for i := range info.NetConfig {
		if info.NetConfig[i].NicType == nicType {
			return &info.NetConfig[i]
		}
	}
	return nil
}

func (m *VnicManager) sync() { m.Info = *m.host.Config.VirtualNicManagerInfo }

func (m *VnicManager) QueryNetConfig(req *types.QueryNetConfig) soap.HasFault {
	body := &methods.QueryNetConfigBody{}
	nc := m.netConfig(req.NicType)
	if nc == nil {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "nicType"})
		return body
	}
	out := *nc
	body.Res = &types.QueryNetConfigResponse{Returnval: &out}
	return body
}

func (m *VnicManager) SelectVnicForNicType(req *types.SelectVnicForNicType) soap.HasFault {
	body := &methods.SelectVnicForNicTypeBody{}
	nc := m.netConfig(req.NicType)
	if nc == nil || findVnic(m.host.Config.Network, req.Device) < 0 {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "device"})
		return body
	}
	key := req.NicType + "." + vnicKey(req.Device)
	for _, k := range nc.SelectedVnic {
		if k == key {
			body.Res = &types.SelectVnicForNicTypeResponse{}
			return body
		}
	}
	nc.SelectedVnic = append(nc.SelectedVnic, key)
	refreshCandidates(m.host.Config)
	m.sync()
	body.Res = &types.SelectVnicForNicTypeResponse{}
	return body
}

func (m *VnicManager) DeselectVnicForNicType(req *types.DeselectVnicForNicType) soap.HasFault {
	body := &methods.DeselectVnicForNicTypeBody{}
	nc := m.netConfig(req.NicType)
	if nc == nil {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "nicType"})
		return body
	}
	key := req.NicType + "." + vnicKey(req.Device)
	kept := nc.SelectedVnic[:0]
	found := false
	for _, k := range nc.SelectedVnic {
		if k == key {
			found = true
			continue
		}
		kept = append(kept, k)
	}
	if !found {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	nc.SelectedVnic = kept
	m.sync()
	body.Res = &types.DeselectVnicForNicTypeResponse{}
	return body
}

// ---- HostNetworkSystem: vnic and route methods ----

type NetworkSystem struct {
	*simulator.HostNetworkSystem
	host *simulator.HostSystem
}

func findVnic(n *types.HostNetworkInfo, device string) int {
	for i := range n.Vnic {
		if n.Vnic[i].Device == device {
			return i
		}
	}
	return -1
}

func (s *NetworkSystem) AddVirtualNic(req *types.AddVirtualNic) soap.HasFault {
	body := &methods.AddVirtualNicBody{}
	n := s.host.Config.Network
	used := map[string]bool{}
	for _, v := range n.Vnic {
		used[v.Device] = true
	}
	device := ""
	for i := 0; ; i++ {
		if d := "vmk" + strconv.Itoa(i); !used[d] {
			device = d
			break
		}
	}
	spec := req.Nic
	if req.Portgroup != "" {
		spec.Portgroup = req.Portgroup
	}
	if spec.NetStackInstanceKey == "" {
		spec.NetStackInstanceKey = defaultStack
	}
	n.Vnic = append(n.Vnic, types.HostVirtualNic{Device: device, Key: vnicKey(device), Portgroup: spec.Portgroup, Spec: spec})
	refreshCandidates(s.host.Config)
	rebuildRouteTable(n) // the live table follows the vmks (connected rows)
	body.Res = &types.AddVirtualNicResponse{Returnval: device}
	return body
}

func (s *NetworkSystem) UpdateVirtualNic(req *types.UpdateVirtualNic) soap.HasFault {
	body := &methods.UpdateVirtualNicBody{}
	n := s.host.Config.Network
	i := findVnic(n, req.Device)
	if i < 0 {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	old := n.Vnic[i].Spec
	spec := req.Nic
	// Unset fields keep their value, as on ESXi.
	if spec.Ip == nil {
		spec.Ip = old.Ip
	}
	if spec.Mac == "" {
		spec.Mac = old.Mac
	}
	if spec.Mtu == 0 {
		spec.Mtu = old.Mtu
	}
	if spec.Portgroup == "" && spec.DistributedVirtualPort == nil {
		spec.Portgroup, spec.DistributedVirtualPort = old.Portgroup, old.DistributedVirtualPort
	}
	if spec.NetStackInstanceKey == "" {
		spec.NetStackInstanceKey = old.NetStackInstanceKey
	}
	if spec.IpRouteSpec == nil {
		spec.IpRouteSpec = old.IpRouteSpec
	}
	n.Vnic[i].Spec = spec
	n.Vnic[i].Portgroup = spec.Portgroup
	refreshCandidates(s.host.Config)
	rebuildRouteTable(n) // the live table follows the vmks (connected rows)
	body.Res = &types.UpdateVirtualNicResponse{}
	return body
}

func (s *NetworkSystem) RemoveVirtualNic(req *types.RemoveVirtualNic) soap.HasFault {
	body := &methods.RemoveVirtualNicBody{}
	n := s.host.Config.Network
	i := findVnic(n, req.Device)
	if i < 0 {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	n.Vnic = append(n.Vnic[:i], n.Vnic[i+1:]...)
	for j := range s.host.Config.VirtualNicManagerInfo.NetConfig {
		nc := &s.host.Config.VirtualNicManagerInfo.NetConfig[j]
		kept := []string{}
		for _, k := range nc.SelectedVnic {
			if k != nc.NicType+"."+vnicKey(req.Device) {
				kept = append(kept, k)
			}
		}
		nc.SelectedVnic = kept
	}
	refreshCandidates(s.host.Config)
	rebuildRouteTable(n) // the live table follows the vmks (connected rows)
	body.Res = &types.RemoveVirtualNicResponse{}
	return body
}

func (s *NetworkSystem) stack(key string) *types.HostNetStackInstance {
	if key == "" {
		key = defaultStack
	}
	n := s.host.Config.Network
	for i := range n.NetStackInstance {
		if n.NetStackInstance[i].Key == key {
			return &n.NetStackInstance[i]
		}
	}
	return nil
}

// UpdateIpRouteConfig sets the default stack's gateway.
func (s *NetworkSystem) UpdateIpRouteConfig(req *types.UpdateIpRouteConfig) soap.HasFault {
	body := &methods.UpdateIpRouteConfigBody{}
	cfg := req.Config.GetHostIpRouteConfig()
	n := s.host.Config.Network
	n.IpRouteConfig = cfg
	if st := s.stack(defaultStack); st != nil {
		st.IpRouteConfig = cfg
	}
	rebuildRouteTable(n)
	body.Res = &types.UpdateIpRouteConfigResponse{}
	return body
}

// UpdateIpRouteTableConfig applies add/remove operations to the default stack's static routes.
func (s *NetworkSystem) UpdateIpRouteTableConfig(req *types.UpdateIpRouteTableConfig) soap.HasFault {
	body := &methods.UpdateIpRouteTableConfigBody{}
	st := s.stack(defaultStack)
	if st == nil {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	applyRouteOps(st, req.Config.IpRoute)
	rebuildRouteTable(s.host.Config.Network)
	body.Res = &types.UpdateIpRouteTableConfigResponse{}
	return body
}

// applyRouteOps adds or removes static routes of one stack (a route is its network/prefix).
func applyRouteOps(st *types.HostNetStackInstance, ops []types.HostIpRouteOp) {
	if st.RouteTableConfig == nil {
		st.RouteTableConfig = &types.HostIpRouteTableConfig{}
	}
	for _, op := range ops {
		same := func(r types.HostIpRouteOp) bool {
			return r.Route.Network == op.Route.Network && r.Route.PrefixLength == op.Route.PrefixLength
		}
		kept := st.RouteTableConfig.IpRoute[:0]
		for _, r := range st.RouteTableConfig.IpRoute {
			if !same(r) {
				kept = append(kept, r)
			}
		}
		st.RouteTableConfig.IpRoute = kept
		if op.ChangeOperation != string(types.HostConfigChangeOperationRemove) {
			st.RouteTableConfig.IpRoute = append(st.RouteTableConfig.IpRoute, types.HostIpRouteOp{ChangeOperation: "add", Route: op.Route})
		}
	}
}

// UpdateNetworkConfig edits netstack instances (gateway, static routes) of
// any stack, as ESXi does for stacks other than the default one; the rest of
// the config is kept as govmomi keeps it.
func (s *NetworkSystem) UpdateNetworkConfig(req *types.UpdateNetworkConfig) soap.HasFault {
	body := &methods.UpdateNetworkConfigBody{}
	n := s.host.Config.Network
	for _, spec := range req.Config.NetStackSpec {
		if st := s.stack(spec.NetStackInstance.Key); st == nil {
			body.Fault_ = simulator.Fault("", &types.NotFound{})
			return body
		}
	}
	for _, spec := range req.Config.NetStackSpec {
		st := s.stack(spec.NetStackInstance.Key)
		if cfg := spec.NetStackInstance.IpRouteConfig; cfg != nil {
			st.IpRouteConfig = cfg
			if st.Key == defaultStack {
				n.IpRouteConfig = cfg
			}
		}
		if t := spec.NetStackInstance.RouteTableConfig; t != nil {
			applyRouteOps(st, t.IpRoute)
		}
	}
	rebuildRouteTable(n)
	if len(req.Config.NetStackSpec) == 0 {
		return s.HostNetworkSystem.UpdateNetworkConfig(req)
	}
	body.Res = &types.UpdateNetworkConfigResponse{Returnval: types.HostNetworkConfigResult{}}
	return body
}

// ---- paging: RetrievePropertiesEx honours maxObjects ----

// PagedCollector is stored by value-embedding because the simulator makes
// per-session copies of the PropertyCollector with reflect.New.
type PagedCollector struct {
	simulator.PropertyCollector
}

var (
	pagesMu sync.Mutex
	pages   = map[string][]types.ObjectContent{}
	pageSeq int
	maxPage = 100
)

func page(objects []types.ObjectContent, max int32) types.RetrieveResult {
	limit := maxPage
	if max > 0 && int(max) < limit {
		limit = int(max)
	}
	if len(objects) <= limit {
		return types.RetrieveResult{Objects: objects}
	}
	return types.RetrieveResult{Token: keep(objects[limit:]), Objects: objects[:limit]}
}

// keep stores the objects still to be returned under a new token.
func keep(rest []types.ObjectContent) string {
	pagesMu.Lock()
	defer pagesMu.Unlock()
	pageSeq++
	token := strconv.Itoa(pageSeq)
	pages[token] = rest
	return token
}

func (pc *PagedCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	keyed := withoutKeyedPaths(r)
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	body := res.(*methods.RetrievePropertiesExBody)
	if body.Fault_ != nil || body.Res == nil {
		return body
	}
	addKeyedPaths(body.Res.Returnval.Objects, keyed)
	result := page(body.Res.Returnval.Objects, r.Options.MaxObjects)
	body.Res.Returnval = &result
	return body
}

// RetrieveProperties (pyVmomi's RetrieveContents) answers key-based paths too.
func (pc *PagedCollector) RetrieveProperties(ctx *simulator.Context, r *types.RetrieveProperties) soap.HasFault {
	keyed := withoutKeyedPaths(&types.RetrievePropertiesEx{This: r.This, SpecSet: r.SpecSet})
	body := pc.PropertyCollector.RetrieveProperties(ctx, r).(*methods.RetrievePropertiesBody)
	if body.Fault_ == nil && body.Res != nil {
		addKeyedPaths(body.Res.Returnval, keyed)
	}
	return body
}

func (pc *PagedCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	pagesMu.Lock()
	rest, ok := pages[r.Token]
	delete(pages, r.Token)
	pagesMu.Unlock()
	if !ok {
		body.Fault_ = simulator.Fault("unknown token", &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	// An object deleted since the first page is gone, as on vCenter. Only this
	// page's objects are checked (and copied): checking every object left on
	// every page made paging quadratic, ~8 s of 20,000 VMs' 13 s here.
	alive := make([]types.ObjectContent, 0, maxPage)
	i := 0
	for ; i < len(rest) && len(alive) < maxPage; i++ {
		if simulator.Map.Get(rest[i].Obj) != nil {
			alive = append(alive, rest[i])
		}
	}
	result := types.RetrieveResult{Objects: alive}
	if i < len(rest) {
		result.Token = keep(rest[i:])
	}
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: result}
	return body
}

func (pc *PagedCollector) CancelRetrievePropertiesEx(ctx *simulator.Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	pagesMu.Lock()
	delete(pages, r.Token)
	pagesMu.Unlock()
	return &methods.CancelRetrievePropertiesExBody{Res: &types.CancelRetrievePropertiesExResponse{}}
}

// ---- key-based array paths: "config.hardware.device[2000]" ----
//
// vCenter answers a property path that names one element of a key-based
// array by its key (vSphere Web Services SDK Programming Guide, "Indexed
// Array and Key-Based Array Properties"); govmomi's simulator learnt it
// after 0.24 (vmware/govmomi#3451). As there, the path's value is the
// element whose Key equals the index, and a key the array does not hold
// returns nothing for that path (no fault). Only integer keys, as device
// keys are; the element's own sub-properties are not walked.

type keyedPath struct {
	name, base string
	key        int64
}

// withoutKeyedPaths takes the keyed paths out of the request (the simulator
// would report them as invalid) and returns them per object type.
func withoutKeyedPaths(r *types.RetrievePropertiesEx) map[string][]keyedPath {
	out := map[string][]keyedPath{}
	for i := range r.SpecSet {
		for j := range r.SpecSet[i].PropSet {
			ps := &r.SpecSet[i].PropSet[j]
			kept := ps.PathSet[:0:0]
			for _, p := range ps.PathSet {
				open := strings.IndexByte(p, '[')
				if open < 0 || !strings.HasSuffix(p, "]") {
					kept = append(kept, p)
					continue
				}
				key, err := strconv.ParseInt(p[open+1:len(p)-1], 10, 32)
				if err != nil {
					kept = append(kept, p) // left to the simulator: reported as an invalid property
					continue
				}
				out[ps.Type] = append(out[ps.Type], keyedPath{p, p[:open], key})
			}
			ps.PathSet = kept
		}
	}
	return out
}

func addKeyedPaths(objects []types.ObjectContent, keyed map[string][]keyedPath) {
	if len(keyed) == 0 {
		return
	}
	for i := range objects {
		paths := keyed[objects[i].Obj.Type]
		if len(paths) == 0 {
			continue
		}
		obj := simulator.Map.Get(objects[i].Obj)
		if obj == nil {
			continue
		}
		for _, kp := range paths {
			if el := keyedElement(reflect.ValueOf(obj), kp); el != nil {
				objects[i].PropSet = append(objects[i].PropSet, types.DynamicProperty{Name: kp.name, Val: el})
			}
		}
	}
}

type fieldKey struct {
	t    reflect.Type
	name string
}

var (
	fieldsMu sync.Mutex
	fields   = map[fieldKey][]int{} // FieldByName through embedded structs costs more than the rest of a lookup
)

func field(v reflect.Value, name string) reflect.Value {
	k := fieldKey{v.Type(), name}
	fieldsMu.Lock()
	index, ok := fields[k]
	if !ok {
		if f, found := v.Type().FieldByName(strings.ToUpper(name[:1]) + name[1:]); found {
			index = f.Index
		}
		fields[k] = index
	}
	fieldsMu.Unlock()
	if index == nil {
		return reflect.Value{}
	}
	return v.FieldByIndex(index)
}

// keyedElement walks base ("config.hardware.device") through the managed
// object's fields and returns the array element whose Key is kp.key.
func keyedElement(v reflect.Value, kp keyedPath) interface{} {
	for _, name := range strings.Split(kp.base, ".") {
		v = settle(v)
		if v.Kind() != reflect.Struct {
			return nil
		}
		if v = field(v, name); !v.IsValid() {
			return nil
		}
	}
	if v.Kind() != reflect.Slice {
		return nil
	}
	for i := 0; i < v.Len(); i++ {
		item := v.Index(i)
		el := settle(item)
		if el.Kind() != reflect.Struct {
			continue
		}
		if k := field(el, "key"); k.IsValid() && k.Kind() == reflect.Int32 && k.Int() == kp.key {
			return item.Interface()
		}
	}
	return nil
}

func settle(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Ptr) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// ---- building the inventory ----

func strs(p *[]string) []string {
	if p == nil {
		return nil
	}
	return *p
}

func minus(all []string, drop ...[]string) []string {
	out := []string{}
	for _, a := range all {
		keep := true
		for _, d := range drop {
			for _, x := range d {
				if a == x {
					keep = false
				}
			}
		}
		if keep {
			out = append(out, a)
		}
	}
	return out
}

// order returns the effective active/standby uplinks of a teaming given the
// members it may use and the order it would otherwise inherit.
func order(t *Teaming, members, inheritedActive, inheritedStandby []string) ([]string, []string) {
	if t == nil || (t.Active == nil && t.Standby == nil && t.Unused == nil) {
		return inheritedActive, inheritedStandby
	}
	active := strs(t.Active)
	if t.Active == nil {
		active = minus(inheritedActive, strs(t.Standby), strs(t.Unused))
	}
	standby := strs(t.Standby)
	if t.Standby == nil {
		standby = minus(inheritedStandby, active, strs(t.Unused))
		if t.Active != nil && t.Unused != nil {
			// Everything named nowhere is standby once active and unused are explicit.
			standby = minus(members, active, strs(t.Unused))
		}
	}
	return active, standby
}

func hasOrder(t *Teaming) bool {
	return t != nil && (t.Active != nil || t.Standby != nil || t.Unused != nil)
}

func policyOf(t *Teaming, fallback string) string {
	if t != nil && t.Policy != nil {
		return *t.Policy
	}
	return fallback
}

func splitCidr(cidr string) (string, string, int) {
	ip, n, err := net.ParseCIDR(cidr)
	if err != nil {
		log.Fatalf("bad address %q: %v", cidr, err)
	}
	ones, _ := n.Mask.Size()
	return ip.String(), net.IP(n.Mask).String(), ones
}

func buildNetwork(h Host, dvsByName map[string]*mo.DistributedVirtualSwitch, dvpgKey map[string]map[string]string) *types.HostNetworkInfo {
	n := &types.HostNetworkInfo{}
	for _, p := range h.Pnics {
		nic := types.PhysicalNic{Key: pnicKey(p.Name), Device: p.Name, Pci: "0000:00:00.0", Driver: "nbdpath-sim"}
		if p.Mac != nil {
			nic.Mac = *p.Mac
		}
		up := p.LinkUp == nil || *p.LinkUp
		if p.SpeedMbps != nil {
			// The configured speed survives a link-down; the live one does not.
			nic.Spec.LinkSpeed = &types.PhysicalNicLinkInfo{SpeedMb: *p.SpeedMbps, Duplex: true}
		}
		if up {
			speed := int32(0)
			if p.SpeedMbps != nil {
				speed = *p.SpeedMbps
			}
			nic.LinkSpeed = &types.PhysicalNicLinkInfo{SpeedMb: speed, Duplex: true}
		}
		n.Pnic = append(n.Pnic, nic)
	}
	standardPG := map[string]bool{}
	for _, vs := range h.Vswitches {
		mtu := vs.Mtu
		if mtu == 0 {
			mtu = 1500
		}
		active, standby := order(vs.Teaming, vs.Uplinks, vs.Uplinks, nil)
		sw := types.HostVirtualSwitch{
			Name: vs.Name, Key: "key-vim.host.VirtualSwitch-" + vs.Name, NumPorts: 128, NumPortsAvailable: 120, Mtu: mtu,
			Spec: types.HostVirtualSwitchSpec{
				NumPorts: 128, Mtu: mtu,
				Bridge: &types.HostVirtualSwitchBondBridge{NicDevice: vs.Uplinks},
				Policy: &types.HostNetworkPolicy{NicTeaming: &types.HostNicTeamingPolicy{
					Policy:   policyOf(vs.Teaming, "loadbalance_srcid"),
					NicOrder: &types.HostNicOrderPolicy{ActiveNic: active, StandbyNic: standby},
				}},
			},
		}
		for _, u := range vs.Uplinks {
			sw.Pnic = append(sw.Pnic, pnicKey(u))
		}
		for _, pg := range vs.Portgroups {
			standardPG[pg.Name] = true
			key := "key-vim.host.PortGroup-" + pg.Name
			sw.Portgroup = append(sw.Portgroup, key)
			spec := types.HostPortGroupSpec{Name: pg.Name, VlanId: pg.Vlan, VswitchName: vs.Name}
			eff := &types.HostNicTeamingPolicy{Policy: policyOf(pg.Teaming, policyOf(vs.Teaming, "loadbalance_srcid"))}
			pa, ps := order(pg.Teaming, vs.Uplinks, active, standby)
			eff.NicOrder = &types.HostNicOrderPolicy{ActiveNic: pa, StandbyNic: ps}
			if pg.Teaming != nil {
				// Only what the port group overrides is in its spec; the rest inherits.
				override := &types.HostNicTeamingPolicy{}
				if pg.Teaming.Policy != nil {
					override.Policy = *pg.Teaming.Policy
				}
				if hasOrder(pg.Teaming) {
					override.NicOrder = &types.HostNicOrderPolicy{ActiveNic: pa, StandbyNic: ps}
				}
				spec.Policy.NicTeaming = override
			}
			n.Portgroup = append(n.Portgroup, types.HostPortGroup{
				Key: key, Vswitch: sw.Key, Spec: spec, ComputedPolicy: types.HostNetworkPolicy{NicTeaming: eff},
			})
		}
		n.Vswitch = append(n.Vswitch, sw)
	}
	for _, m := range h.Dvswitches {
		dvs := dvsByName[m.Switch]
		if dvs == nil {
			log.Fatalf("host %s: unknown distributed switch %q", h.Name, m.Switch)
		}
		ports := dvs.Config.(*types.VMwareDVSConfigInfo).UplinkPortPolicy.(*types.DVSNameArrayUplinkPortPolicy).UplinkPortName
		ps := types.HostProxySwitch{DvsUuid: dvs.Uuid, DvsName: dvs.Name, Key: dvs.Uuid, NumPorts: 64, NumPortsAvailable: 60}
		backing := &types.DistributedVirtualSwitchHostMemberPnicBacking{}
		keys := map[string]string{}
		for i, port := range ports {
			k := strconv.Itoa(100 + i)
			keys[port] = k
			ps.UplinkPort = append(ps.UplinkPort, types.KeyValue{Key: k, Value: port})
		}
		portNames := make([]string, 0, len(m.Uplinks))
		for port := range m.Uplinks {
			portNames = append(portNames, port)
		}
		sort.Strings(portNames)
		for _, port := range portNames {
			vmnic := m.Uplinks[port]
			backing.PnicSpec = append(backing.PnicSpec, types.DistributedVirtualSwitchHostMemberPnicSpec{PnicDevice: vmnic, UplinkPortKey: keys[port]})
			ps.Pnic = append(ps.Pnic, pnicKey(vmnic))
		}
		ps.Spec.Backing = backing
		n.ProxySwitch = append(n.ProxySwitch, ps)
	}
	stacks := h.Netstacks
	if len(stacks) == 0 {
		stacks = []Netstack{{Key: defaultStack}}
	}
	for _, v := range h.Vmks {
		stackKey := v.Netstack
		if stackKey == "" {
			stackKey = defaultStack
		}
		mtu := v.Mtu
		if mtu == 0 {
			mtu = 1500
		}
		spec := types.HostVirtualNicSpec{Mtu: mtu, NetStackInstanceKey: stackKey, Ip: &types.HostIpConfig{}}
		if v.Mac != nil {
			spec.Mac = *v.Mac
		}
		if v.Ipv4 != nil {
			ip, mask, _ := splitCidr(*v.Ipv4)
			spec.Ip.IpAddress, spec.Ip.SubnetMask = ip, mask
		}
		if v.Gateway != nil {
			spec.IpRouteSpec = &types.HostVirtualNicIpRouteSpec{IpRouteConfig: &types.HostIpRouteConfig{DefaultGateway: *v.Gateway}}
		}
		vnic := types.HostVirtualNic{Device: v.Device, Key: vnicKey(v.Device)}
		if standardPG[v.Portgroup] {
			spec.Portgroup = v.Portgroup
			vnic.Portgroup = v.Portgroup
		} else {
			found := false
			for _, m := range h.Dvswitches {
				if key, ok := dvpgKey[m.Switch][v.Portgroup]; ok {
					spec.DistributedVirtualPort = &types.DistributedVirtualSwitchPortConnection{SwitchUuid: dvsByName[m.Switch].Uuid, PortgroupKey: key}
					found = true
					break
				}
			}
			if !found {
				log.Fatalf("host %s %s: port group %q is on no switch of this host", h.Name, v.Device, v.Portgroup)
			}
		}
		vnic.Spec = spec
		n.Vnic = append(n.Vnic, vnic)
	}
	for _, s := range stacks {
		key := s.Key
		if key == "" {
			key = defaultStack
		}
		inst := types.HostNetStackInstance{Key: key, Name: key, RouteTableConfig: &types.HostIpRouteTableConfig{}}
		cfg := &types.HostIpRouteConfig{}
		if s.Gateway != nil {
			cfg.DefaultGateway = *s.Gateway
		}
		inst.IpRouteConfig = cfg
		for _, r := range s.Routes {
			netw, _, plen := splitCidr(r.Network)
			inst.RouteTableConfig.IpRoute = append(inst.RouteTableConfig.IpRoute, types.HostIpRouteOp{
				ChangeOperation: "add",
				Route:           types.HostIpRouteEntry{Network: netw, PrefixLength: int32(plen), Gateway: r.Gateway},
			})
		}
		if key == defaultStack {
			n.IpRouteConfig = cfg
		}
		n.NetStackInstance = append(n.NetStackInstance, inst)
	}
	rebuildRouteTable(n)
	return n
}

// rebuildRouteTable fills routeTableInfo (the default stack's live table):
// connected routes of its vmks (one per vmk, in creation order, with
// deviceName), its static routes and the default route (both without
// deviceName, which a real host fills in). No dynamic routes.
func rebuildRouteTable(n *types.HostNetworkInfo) {
	info := &types.HostIpRouteTableInfo{}
	for _, v := range n.Vnic {
		if v.Spec.NetStackInstanceKey != defaultStack || v.Spec.Ip == nil || v.Spec.Ip.IpAddress == "" {
			continue
		}
		ip := net.ParseIP(v.Spec.Ip.IpAddress).To4()
		mask := net.IPMask(net.ParseIP(v.Spec.Ip.SubnetMask).To4())
		ones, _ := mask.Size()
		info.IpRoute = append(info.IpRoute, types.HostIpRouteEntry{Network: ip.Mask(mask).String(), PrefixLength: int32(ones), Gateway: "0.0.0.0", DeviceName: v.Device})
	}
	for _, s := range n.NetStackInstance {
		if s.Key != defaultStack {
			continue
		}
		if s.RouteTableConfig != nil {
			for _, op := range s.RouteTableConfig.IpRoute {
				info.IpRoute = append(info.IpRoute, op.Route)
			}
		}
		if cfg, ok := s.IpRouteConfig.(*types.HostIpRouteConfig); ok && cfg.DefaultGateway != "" {
			info.IpRoute = append(info.IpRoute, types.HostIpRouteEntry{Network: "0.0.0.0", PrefixLength: 0, Gateway: cfg.DefaultGateway})
		}
	}
	n.RouteTableInfo = info
}

// refreshCandidates keeps every netConfig's candidate list equal to the host's vnics.
func refreshCandidates(cfg *types.HostConfigInfo) {
	for i := range cfg.VirtualNicManagerInfo.NetConfig {
		nc := &cfg.VirtualNicManagerInfo.NetConfig[i]
		nc.CandidateVnic = nil
		for _, v := range cfg.Network.Vnic {
			c := v
			c.Key = nc.NicType + "." + v.Key
			nc.CandidateVnic = append(nc.CandidateVnic, c)
		}
	}
}

func buildNicManagerInfo(h Host, cfg *types.HostConfigInfo) {
	info := &types.HostVirtualNicManagerInfo{}
	for _, t := range nicTypes {
		nc := types.VirtualNicManagerNetConfig{NicType: t, MultiSelectAllowed: true}
		for _, v := range h.Vmks {
			for _, s := range v.Services {
				if s == t {
					nc.SelectedVnic = append(nc.SelectedVnic, t+"."+vnicKey(v.Device))
				}
			}
		}
		info.NetConfig = append(info.NetConfig, nc)
	}
	cfg.VirtualNicManagerInfo = info
	refreshCandidates(cfg)
}

func teamingPolicy(t *Teaming, members, inhActive, inhStandby []string, inherited bool) *types.VmwareUplinkPortTeamingPolicy {
	active, standby := order(t, members, inhActive, inhStandby)
	return &types.VmwareUplinkPortTeamingPolicy{
		InheritablePolicy: types.InheritablePolicy{Inherited: inherited},
		Policy:            &types.StringPolicy{InheritablePolicy: types.InheritablePolicy{Inherited: inherited || t == nil || t.Policy == nil}, Value: policyOf(t, "loadbalance_srcid")},
		UplinkPortOrder: &types.VMwareUplinkPortOrderPolicy{
			InheritablePolicy: types.InheritablePolicy{Inherited: inherited || !hasOrder(t)},
			ActiveUplinkPort:  active, StandbyUplinkPort: standby,
		},
	}
}

func selfSigned(certOut string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	serial := big.NewInt(time.Now().UnixNano())
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		// A distinct subject per run: several simulators may share one CA file.
		Subject:               pkix.Name{CommonName: "nbdpath-vcsim-" + serial.String(), Organization: []string{"nbdpath tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if certOut != "" {
		if err := ioutil.WriteFile(certOut, pemBytes, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	keyDer, _ := x509.MarshalECPrivateKey(key)
	keyPem := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDer})
	cert, err := tls.X509KeyPair(pemBytes, keyPem)
	if err != nil {
		log.Fatal(err)
	}
	return cert
}

type options struct {
	snapshot, listen, user, certOut, disconnected, mounts string
	esx                                                   bool   // one ESXi host (hostd), not a vCenter
	cpuProfile                                            string // where to write a Go CPU profile (benchmarks)
}

func parseArgs() options {
	o := options{listen: "127.0.0.1:0", user: "administrator@vsphere.local"}
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		val := func() string {
			if i+1 >= len(args) {
				log.Fatalf("%s needs a value", args[i])
			}
			i++
			return args[i]
		}
		switch args[i] {
		case "-snapshot":
			o.snapshot = val()
		case "-listen":
			o.listen = val()
		case "-user":
			o.user = val()
		case "-cert-out":
			o.certOut = val()
		case "-disconnected":
			o.disconnected = val()
		case "-max-page":
			maxPage, _ = strconv.Atoi(val())
		case "-esx":
			o.esx = true
		case "-mounts":
			o.mounts = val()
		case "-cpuprofile":
			o.cpuProfile = val()
		case "-no-layout":
			for _, name := range strings.Split(val(), ",") {
				noLayout[name] = true
			}
		default:
			log.Fatalf("unknown argument %q", args[i])
		}
	}
	if o.snapshot == "" {
		log.Fatal("usage: vcsim-bin -snapshot FILE.json [-cert-out PEM] [-listen ADDR] [-user U] [-disconnected a,b] [-max-page N]")
	}
	return o
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("vcsim-nbdpath: ")
	o := parseArgs()
	raw, err := ioutil.ReadFile(o.snapshot)
	if err != nil {
		log.Fatal(err)
	}
	var snap Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		log.Fatalf("%s: %v", o.snapshot, err)
	}
	password := os.Getenv("VCSIM_PASSWORD")
	if password == "" {
		password = "vcsim-password"
	}

	model := simulator.VPX()
	if o.esx {
		if len(snap.Hosts) != 1 {
			log.Fatalf("-esx serves exactly one host; the snapshot has %d", len(snap.Hosts))
		}
		model = simulator.ESX()
	} else {
		model.Datacenter = 1
		model.Cluster = 0
		model.ClusterHost = 0
		model.Host = 0
	}
	model.Machine = 0
	model.Portgroup = 0
	model.Datastore = 0
	model.Autostart = false
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	model.Service.Listen = &url.URL{Host: o.listen, User: url.UserPassword(o.user, password)}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(o.certOut)}}
	pc := simulator.Map.Get(simulator.Map.Get(vim25ServiceContent()).(*simulator.ServiceInstance).Content.PropertyCollector).(*simulator.PropertyCollector)
	// Copied before the server starts, so its zero-valued lock is not in use (go vet notes the copy).
	simulator.Map.Put(&PagedCollector{PropertyCollector: *pc})

	model.Service.RegisterEndpoints = true // the vapi simulator, as vcsim serves it
	server := model.Service.NewServer()
	ctx := context.Background()
	client, err := govmomi.NewClient(ctx, server.URL, true)
	if err != nil {
		log.Fatal(err)
	}

	// Distributed switches and port groups through the API, as an admin would.
	finder := find.NewFinder(client.Client, true)
	dc, err := finder.DefaultDatacenter(ctx)
	if err != nil {
		log.Fatal(err)
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		log.Fatal(err)
	}

	// Hosts through the API, named as in the snapshot, in their clusters.
	clusters := map[string]*object.ClusterComputeResource{}
	hosts := make([]*simulator.HostSystem, len(snap.Hosts))
	if o.esx {
		// hostd serves itself: its one host, named as vCenter would know it.
		h := simulator.Map.Any("HostSystem").(*simulator.HostSystem)
		h.Name = snap.Hosts[0].Name
		if m := snap.Hosts[0].ManagementAddress; m != nil && *m != "" {
			h.Name = *m
		}
		h.Summary.Config.Name = h.Name
		hosts[0] = h
	}
	for i, h := range snap.Hosts {
		if o.esx {
			break
		}
		// vCenter knows a host by the name or IP it was added with.
		spec := types.HostConnectSpec{HostName: h.Name}
		if h.ManagementAddress != nil && *h.ManagementAddress != "" {
			spec.HostName = *h.ManagementAddress
		}
		var task *object.Task
		if h.Cluster != nil && *h.Cluster != "" {
			c := clusters[*h.Cluster]
			if c == nil {
				if c, err = folders.HostFolder.CreateCluster(ctx, *h.Cluster, types.ClusterConfigSpecEx{}); err != nil {
					log.Fatalf("cluster %s: %v", *h.Cluster, err)
				}
				clusters[*h.Cluster] = c
			}
			task, err = c.AddHost(ctx, spec, true, nil, nil)
		} else {
			task, err = folders.HostFolder.AddStandaloneHost(ctx, spec, true, nil, nil)
		}
		if err != nil {
			log.Fatalf("host %s: %v", h.Name, err)
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			log.Fatalf("host %s: %v", h.Name, err)
		}
		hosts[i] = simulator.Map.Get(info.Result.(types.ManagedObjectReference)).(*simulator.HostSystem)
	}
	dvsByName := map[string]*mo.DistributedVirtualSwitch{}
	dvpgKey := map[string]map[string]string{}
	for _, d := range snap.Dvswitches {
		if o.esx {
			// hostd has no DVS objects; the host's proxySwitch still names one.
			esxDvs(d, dvsByName, dvpgKey)
			continue
		}
		ports := d.UplinkPorts
		if len(ports) == 0 {
			ports = []string{"uplink1", "uplink2"}
		}
		mtu := d.Mtu
		if mtu == 0 {
			mtu = 1500
		}
		spec := &types.VMwareDVSConfigSpec{MaxMtu: mtu}
		spec.Name = d.Name
		spec.UplinkPortPolicy = &types.DVSNameArrayUplinkPortPolicy{UplinkPortName: ports}
		spec.DefaultPortConfig = &types.VMwareDVSPortSetting{UplinkTeamingPolicy: teamingPolicy(d.Teaming, ports, ports, nil, false)}
		for i, h := range snap.Hosts {
			for _, m := range h.Dvswitches {
				if m.Switch == d.Name {
					spec.Host = append(spec.Host, types.DistributedVirtualSwitchHostMemberConfigSpec{Operation: "add", Host: hosts[i].Self})
				}
			}
		}
		task, err := folders.NetworkFolder.CreateDVS(ctx, types.DVSCreateSpec{ConfigSpec: spec})
		if err != nil {
			log.Fatal(err)
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			log.Fatalf("create %s: %v", d.Name, err)
		}
		ref := info.Result.(types.ManagedObjectReference)
		sim := simulator.Map.Get(ref).(*simulator.DistributedVirtualSwitch)
		dvsByName[d.Name] = &sim.DistributedVirtualSwitch
		dvsObj := object.NewDistributedVirtualSwitch(client.Client, ref)
		swActive, swStandby := order(d.Teaming, ports, ports, nil)
		var pgSpecs []types.DVPortgroupConfigSpec
		for _, pg := range d.Portgroups {
			t := teamingPolicy(pg.Teaming, ports, swActive, swStandby, pg.Teaming == nil)
			if pg.Teaming != nil && pg.Teaming.Policy == nil {
				t.Policy.Value = policyOf(d.Teaming, "loadbalance_srcid")
			}
			pgSpecs = append(pgSpecs, types.DVPortgroupConfigSpec{
				Name: pg.Name, Type: "earlyBinding", NumPorts: 8,
				DefaultPortConfig: &types.VMwareDVSPortSetting{
					Vlan:                &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: pg.Vlan},
					UplinkTeamingPolicy: t,
				},
			})
		}
		if len(pgSpecs) > 0 {
			task, err = dvsObj.AddPortgroup(ctx, pgSpecs)
			if err == nil {
				err = task.Wait(ctx)
			}
			if err != nil {
				log.Fatalf("port groups of %s: %v", d.Name, err)
			}
		}
		dvpgKey[d.Name] = map[string]string{}
		for i, pgRef := range sim.Portgroup {
			pg := simulator.Map.Get(pgRef).(*simulator.DistributedVirtualPortgroup)
			if i == 0 {
				// The simulator's DVUplinks port group, created first; vCenter flags it.
				pg.Config.Uplink = types.NewBool(true)
				continue
			}
			dvpgKey[d.Name][pg.Name] = pg.Key
		}
	}

	hostByName := map[string]*simulator.HostSystem{}
	for i, h := range snap.Hosts {
		sh := hosts[i]
		version := h.Version
		if version == "" {
			version = "8.0.2"
		}
		about := *sh.Summary.Config.Product
		about.Version = version
		about.FullName = "VMware ESXi " + version
		sh.Summary.Config.Product = &about
		cfg := sh.Config
		product := about
		cfg.Product = product
		cfg.Network = buildNetwork(h, dvsByName, dvpgKey)
		// The host's own name, as ESXi reports it in its DNS configuration.
		cfg.Network.DnsConfig = &types.HostDnsConfig{HostName: h.Name}
		buildNicManagerInfo(h, cfg)

		ns := simulator.Map.Get(*sh.ConfigManager.NetworkSystem).(*simulator.HostNetworkSystem)
		ns.NetworkInfo = cfg.Network
		simulator.Map.Put(&NetworkSystem{HostNetworkSystem: ns, host: sh})

		vm := &VnicManager{host: sh}
		vm.Self = types.ManagedObjectReference{Type: "HostVirtualNicManager", Value: "hostVnicMgr-" + sh.Self.Value}
		vm.sync()
		ref := simulator.Map.Put(vm).Reference()
		sh.ConfigManager.VirtualNicManager = &ref
		hostByName[h.Name] = sh
	}
	dsRefs := buildDatastores(snap, folders.DatastoreFolder.Reference(), hostByName, parseMounts(o.mounts))
	vmRefs := buildVms(ctx, snap, folders, hostByName, dsRefs)
	attachTags(ctx, client, snap, vmRefs, server.URL.User)
	for _, name := range strings.Split(o.disconnected, ",") {
		if h := hostByName[name]; h != nil {
			h.Runtime.ConnectionState = types.HostSystemConnectionStateDisconnected
		}
	}

	_ = client.Logout(ctx)
	u := *server.URL
	u.User = nil
	line, _ := json.Marshal(map[string]interface{}{"url": u.String(), "cert": o.certOut, "hosts": len(snap.Hosts), "vms": len(snap.Vms)})
	fmt.Println(string(line))

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) == 0 {
			continue
		}
		switch {
		case fields[0] == "quit":
			server.Close()
			pprof.StopCPUProfile() // before the answer: the caller may kill the process once it has it
			fmt.Println("ok")
			return
		case fields[0] == "remove" && len(fields) == 2 && hostByName[fields[1]] != nil:
			h := hostByName[fields[1]]
			simulator.Map.Remove(h.Self)
			delete(hostByName, fields[1])
			fmt.Println("ok")
		case fields[0] == "disconnect" && len(fields) == 2 && hostByName[fields[1]] != nil:
			hostByName[fields[1]].Runtime.ConnectionState = types.HostSystemConnectionStateDisconnected
			fmt.Println("ok")
		default:
			fmt.Println("error: expected remove NAME | disconnect NAME | quit")
		}
	}
	server.Close()
	pprof.StopCPUProfile()
}

func vim25ServiceContent() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}
}

// esxDvs stands in for a distributed switch on a standalone host: what the
// host's own config (proxySwitch, vnic port connections) refers to.
func esxDvs(d DistributedSwitch, dvsByName map[string]*mo.DistributedVirtualSwitch, dvpgKey map[string]map[string]string) {
	ports := d.UplinkPorts
	if len(ports) == 0 {
		ports = []string{"uplink1", "uplink2"}
	}
	dvs := &mo.DistributedVirtualSwitch{Uuid: "esx-" + d.Name}
	dvs.Name = d.Name
	dvs.Config = &types.VMwareDVSConfigInfo{DVSConfigInfo: types.DVSConfigInfo{
		Name: d.Name, UplinkPortPolicy: &types.DVSNameArrayUplinkPortPolicy{UplinkPortName: ports},
	}}
	dvsByName[d.Name] = dvs
	dvpgKey[d.Name] = map[string]string{}
	for i, pg := range d.Portgroups {
		dvpgKey[d.Name][pg.Name] = "dvportgroup-esx-" + strconv.Itoa(i)
	}
}

// ---- VMs and datastores ----

// putChild files an object built here under a folder, as folderPutChild does
// inside the simulator: the container view walks ChildEntity.
func putChild(folder types.ManagedObjectReference, item mo.Entity) types.ManagedObjectReference {
	f := simulator.Map.Get(folder).(*simulator.Folder)
	simulator.Map.NewEntity(item)
	ref := item.Entity().Self
	f.ChildEntity = append(f.ChildEntity, ref)
	simulator.Map.PutEntity(f, item)
	return ref
}

// extraMount is one -mounts entry "DS@HOST@MODE": a mount the snapshot cannot
// express (read-only, unmounted), to show discovery leaves it out.
type extraMount struct{ ds, host, mode string }

func parseMounts(text string) []extraMount {
	out := []extraMount{}
	for _, item := range strings.Split(text, ",") {
		if item == "" {
			continue
		}
		parts := strings.Split(item, "@")
		if len(parts) != 3 {
			log.Fatalf("-mounts: expected DS@HOST@readOnly|unmounted, not %q", item)
		}
		out = append(out, extraMount{parts[0], parts[1], parts[2]})
	}
	return out
}

func mount(host types.ManagedObjectReference, ds, mode string, accessible bool) types.DatastoreHostMount {
	mounted := mode != "unmounted"
	access := "readWrite"
	if mode == "readOnly" {
		access = "readOnly"
	}
	return types.DatastoreHostMount{Key: host, MountInfo: types.HostMountInfo{
		Path: "/vmfs/volumes/" + ds, AccessMode: access, Mounted: types.NewBool(mounted), Accessible: types.NewBool(accessible),
	}}
}

func buildDatastores(snap Snapshot, folder types.ManagedObjectReference, hostByName map[string]*simulator.HostSystem, extra []extraMount) map[string]types.ManagedObjectReference {
	refs := map[string]types.ManagedObjectReference{}
	for _, d := range snap.Datastores {
		ds := &simulator.Datastore{}
		ds.Name = d.Name
		ds.Summary = types.DatastoreSummary{Name: d.Name, Type: "VMFS", Accessible: d.Accessible,
			Capacity: 1 << 42, FreeSpace: 1 << 41, Url: "ds:///vmfs/volumes/" + d.Name + "/"}
		ds.Info = &types.VmfsDatastoreInfo{DatastoreInfo: types.DatastoreInfo{Name: d.Name, Url: ds.Summary.Url}}
		for _, h := range d.Hosts {
			if sh := hostByName[h]; sh != nil {
				ds.Host = append(ds.Host, mount(sh.Self, d.Name, "readWrite", d.Accessible))
			}
		}
		for _, m := range extra {
			if sh := hostByName[m.host]; sh != nil && m.ds == d.Name {
				ds.Host = append(ds.Host, mount(sh.Self, d.Name, m.mode, d.Accessible))
			}
		}
		ref := putChild(folder, ds)
		ds.Summary.Datastore = &ref
		for _, m := range ds.Host {
			sh := simulator.Map.Get(m.Key).(*simulator.HostSystem)
			sh.Datastore = append(sh.Datastore, ref)
		}
		refs[d.Name] = ref
	}
	return refs
}

// vmDevices is what a real VM lists in config.hardware.device: the
// simulator's default devices (IDE, PS2, PCI, SIO, keyboard, video, VMCI),
// a SCSI controller, a NIC and the disks. Discovery must pick the disks out.
func vmDevices(v Vm, dsRefs map[string]types.ManagedObjectReference) []types.BaseVirtualDevice {
	devices := append([]types.BaseVirtualDevice{}, esx.VirtualDevice...)
	scsi := &types.ParaVirtualSCSIController{VirtualSCSIController: types.VirtualSCSIController{
		VirtualController: types.VirtualController{BusNumber: 0, VirtualDevice: types.VirtualDevice{Key: 1000,
			DeviceInfo: &types.Description{Label: "SCSI controller 0", Summary: "VMware paravirtual SCSI"}}},
		SharedBus: types.VirtualSCSISharingNoSharing, ScsiCtlrUnitNumber: 7}}
	nic := esx.EthernetCard
	nic.Key = 4000
	nic.Backing = &types.VirtualEthernetCardNetworkBackingInfo{VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: "VM Network"}}
	devices = append(devices, scsi, &nic)
	for i, d := range v.Disks {
		label := "Hard disk " + strconv.Itoa(i+1)
		if d.Label != nil {
			label = *d.Label
		}
		ds := dsRefs[d.Datastore]
		bytes := int64(d.CapacityGib * (1 << 30))
		file := fmt.Sprintf("[%s] %s/%s_%d.vmdk", d.Datastore, v.Name, v.Name, i)
		devices = append(devices, &types.VirtualDisk{
			VirtualDevice: types.VirtualDevice{
				Key: int32(2000 + i), ControllerKey: 1000, UnitNumber: types.NewInt32(int32(i)),
				DeviceInfo: &types.Description{Label: label, Summary: strconv.FormatInt(bytes>>10, 10) + " KB"},
				Backing: &types.VirtualDiskFlatVer2BackingInfo{
					VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: file, Datastore: &ds},
					DiskMode:                     string(types.VirtualDiskModePersistent), ThinProvisioned: types.NewBool(true),
				},
			},
			CapacityInKB: bytes >> 10, CapacityInBytes: bytes,
		})
	}
	return devices
}

// layoutEx lists a VM's files as vCenter does (VirtualMachineFileLayoutEx):
// its home files on the first disk's datastore, the swap file while it runs,
// and per disk the descriptor and the extent, chained under the disk's key.
func layoutEx(v Vm, state types.VirtualMachinePowerState) *types.VirtualMachineFileLayoutEx {
	out := &types.VirtualMachineFileLayoutEx{Timestamp: time.Now()}
	file := func(name, kind string, size int64) int32 {
		key := int32(len(out.File))
		out.File = append(out.File, types.VirtualMachineFileLayoutExFileInfo{Key: key, Name: name, Type: kind,
			Size: size, UniqueSize: size, Accessible: types.NewBool(true)})
		return key
	}
	if len(v.Disks) > 0 {
		home := fmt.Sprintf("[%s] %s/%s", v.Disks[0].Datastore, v.Name, v.Name)
		file(home+".vmx", string(types.VirtualMachineFileLayoutExFileTypeConfig), 2860)
		file(home+".nvram", string(types.VirtualMachineFileLayoutExFileTypeNvram), 8684)
		file(home+".vmsd", string(types.VirtualMachineFileLayoutExFileTypeSnapshotList), 0)
		if state == types.VirtualMachinePowerStatePoweredOn {
			file(home+".vswp", string(types.VirtualMachineFileLayoutExFileTypeSwap), 4<<30)
		}
	}
	for i, d := range v.Disks {
		base := fmt.Sprintf("[%s] %s/%s_%d", d.Datastore, v.Name, v.Name, i)
		descriptor := file(base+".vmdk", string(types.VirtualMachineFileLayoutExFileTypeDiskDescriptor), 560)
		extent := file(base+"-flat.vmdk", string(types.VirtualMachineFileLayoutExFileTypeDiskExtent), int64(d.CapacityGib*(1<<30)))
		out.Disk = append(out.Disk, types.VirtualMachineFileLayoutExDiskLayout{Key: int32(2000 + i),
			Chain: []types.VirtualMachineFileLayoutExDiskUnit{{FileKey: []int32{descriptor, extent}}}})
	}
	return out
}

// VMs named in -no-layout have no layoutEx, as vCenter leaves it for a VM whose files it cannot read.
var noLayout = map[string]bool{}

func buildVms(ctx context.Context, snap Snapshot, folders *object.DatacenterFolders, hostByName map[string]*simulator.HostSystem,
	dsRefs map[string]types.ManagedObjectReference) map[string]types.ManagedObjectReference {
	refs := map[string]types.ManagedObjectReference{}
	folderRefs := map[string]types.ManagedObjectReference{}
	for _, v := range snap.Vms {
		sh := hostByName[v.Host]
		if sh == nil {
			log.Fatalf("VM %s: host %s is not in the snapshot", v.Name, v.Host)
		}
		parent := folders.VmFolder.Reference()
		if v.Folder != nil && *v.Folder != "" {
			ref, ok := folderRefs[*v.Folder]
			if !ok {
				f, err := folders.VmFolder.CreateFolder(ctx, *v.Folder)
				if err != nil {
					log.Fatalf("folder %s: %v", *v.Folder, err)
				}
				ref = f.Reference()
				folderRefs[*v.Folder] = ref
			}
			parent = ref
		}
		vm := &simulator.VirtualMachine{}
		vm.Name = v.Name
		host := sh.Self
		state := types.VirtualMachinePowerState(v.PowerState)
		if state == "" {
			state = types.VirtualMachinePowerStatePoweredOn
		}
		vm.Runtime = types.VirtualMachineRuntimeInfo{Host: &host, PowerState: state, ConnectionState: types.VirtualMachineConnectionStateConnected}
		vm.Config = &types.VirtualMachineConfigInfo{Name: v.Name, Template: v.Template, GuestId: "otherGuest64",
			Hardware: types.VirtualHardware{NumCPU: 2, MemoryMB: 4096, Device: vmDevices(v, dsRefs)}}
		vm.Summary.Config = types.VirtualMachineConfigSummary{Name: v.Name, Template: v.Template, NumVirtualDisks: int32(len(v.Disks))}
		vm.Summary.Runtime = vm.Runtime
		if !noLayout[v.Name] {
			vm.LayoutEx = layoutEx(v, state)
		}
		seen := map[string]bool{}
		for _, d := range v.Disks {
			if !seen[d.Datastore] {
				seen[d.Datastore] = true
				vm.Datastore = append(vm.Datastore, dsRefs[d.Datastore])
			}
		}
		ref := putChild(parent, vm)
		sh.Vm = append(sh.Vm, ref)
		refs[v.Name] = ref
	}
	return refs
}

// attachTags gives each VM its snapshot tags through the vSphere Automation API, as an
// admin's tagging would: one category ("backup", several tags per VM), one tag per name.
func attachTags(ctx context.Context, client *govmomi.Client, snap Snapshot, refs map[string]types.ManagedObjectReference,
	user *url.Userinfo) {
	tagged := false
	for _, v := range snap.Vms {
		tagged = tagged || len(v.Tags) > 0
	}
	if !tagged {
		return
	}
	rc := rest.NewClient(client.Client)
	if err := rc.Login(ctx, user); err != nil {
		log.Fatalf("vapi login: %v", err)
	}
	m := tags.NewManager(rc)
	category, err := m.CreateCategory(ctx, &tags.Category{Name: "backup", Cardinality: "MULTIPLE",
		AssociableTypes: []string{"VirtualMachine"}})
	if err != nil {
		log.Fatalf("tag category: %v", err)
	}
	ids := map[string]string{}
	for _, v := range snap.Vms {
		for _, name := range v.Tags {
			id, ok := ids[name]
			if !ok {
				id, err = m.CreateTag(ctx, &tags.Tag{Name: name, CategoryID: category})
				if err != nil {
					log.Fatalf("tag %s: %v", name, err)
				}
				ids[name] = id
			}
			if err := m.AttachTag(ctx, id, refs[v.Name]); err != nil {
				log.Fatalf("tag %s on %s: %v", name, v.Name, err)
			}
		}
	}
	_ = rc.Logout(ctx)
}
