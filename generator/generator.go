// Package generator turns a valid lab into a Plan: every kernel object the lab
// needs (links, namespaces) with exactly one owner, either systemd-networkd
// (objects in the host namespace it can create) or one generated unit
// (everything inside a named namespace, and veths that cross into one).
//
// The plan says what exists and who makes it; how it is written (networkd
// sections, shell scripts) is the render package's business.
package generator

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/netgen-lab/netgen/names"
	"github.com/netgen-lab/netgen/schema"
)

// UnitKind distinguishes the two kinds of generated units.
type UnitKind int

const (
	// NamespaceUnit creates one namespace and everything that lives only in it
	// or between it and the host.
	NamespaceUnit UnitKind = iota
	// LinkUnit creates the veths between two namespaces.
	LinkUnit
	// HostUnit owns the host links networkd 252 cannot configure right:
	// bridge ports that must not carry the bridge's default PVID (networkd
	// adds port VLANs but never removes the one the kernel gives every new
	// port).
	HostUnit
	// BridgeWaitUnit waits, once for the whole lab, until systemd-networkd
	// has configured every host bridge the other units attach links to;
	// they are ordered after it. One systemd-networkd-wait-online per unit
	// does not scale: each holds an inotify instance (128 per user by
	// default, the host's included) and an rtnetlink socket that overflows
	// (ENOBUFS) while dozens of units create links at once, so with 50 or
	// more namespaces on a host bridge some units failed.
	BridgeWaitUnit
)

// Plan is everything a lab puts on a system.
type Plan struct {
	Lab string
	// Links are all links, in a deterministic order: host first, then by
	// namespace, creation order within one owner.
	Links []*Link
	// Units are sorted by name ("link" units sort before the "ns" units
	// they need: the order between them is systemd's, from Requires= and
	// After=, not this list's).
	Units []*Unit
	// Target groups the lab's units; "" when the lab has none.
	Target string
	// Wires are the lab's transparent wires, in the lab's order.
	Wires []*Wire
	// Services are the programs run inside namespaces, sorted by namespace
	// and name; Resolvers the namespaces' /etc/netns files (services.go).
	Services  []*Service
	Resolvers []*Resolver
}

// Unit is a generated systemd unit and the kernel objects it owns.
type Unit struct {
	Name string
	Kind UnitKind
	// Namespaces are the namespaces the unit works in: the one it creates
	// (NamespaceUnit) or the two it links (LinkUnit).
	Namespaces []string
	// Namespace is the namespace a NamespaceUnit creates.
	Namespace *Namespace
	// Requires are units that must be active first.
	Requires []string
	// HostBridges are networkd-owned host devices the unit's links need:
	// bridges its links join or are stacked on, bonds and VRFs its links
	// join (masterWaits); the unit waits for networkd to have configured
	// them. For the BridgeWaitUnit, they are every such device of the lab.
	HostBridges []string
	// Wait is the lab's BridgeWaitUnit when the unit has HostBridges.
	Wait *Unit
	// PinMTU are, for the BridgeWaitUnit, the host bridges networkd owns
	// whose MTU the lab sets: the unit sets each again once networkd has
	// configured it (see bridgeWait).
	PinMTU []*Link
	// Links are the links the unit creates, in creation order.
	Links []*Link
	// Sysctls are the interface-specific sysctls of interfaces this unit creates.
	Sysctls []Sysctl
	// Wires are the wires with an end the unit creates (see wireUnits).
	Wires []*Wire
	// NATs are the unit's masquerade tables, by namespace (masquerade.go).
	NATs []*NAT
}

// Namespace is a namespace created by a unit.
type Namespace struct {
	Name     string
	Loopback bool
	// Sysctls are the namespace-wide sysctls, applied before any link exists
	// so that conf.default reaches every link.
	Sysctls []Sysctl
}

// Sysctl is a sysctl inside a namespace, with its /proc/sys-relative path.
type Sysctl struct {
	NS    string
	Path  string
	Value string
}

// Link is one network interface.
type Link struct {
	NS, Name string
	Kind     schema.Kind
	// Owner is nil for links owned by systemd-networkd.
	Owner *Unit

	// Peer is the other end of a veth; Creator is true on the end whose
	// namespace runs the `link add` (the peer is created with it).
	Peer    *Link
	Creator bool
	// Parent is the parent of a VLAN sub-interface.
	Parent *Link
	VID    int
	Bridge *BridgeOpts
	Tap    *TapOpts
	// MatchMAC identifies an uplink by MAC instead of by name.
	MatchMAC string
	// VXLAN are a VXLAN device's settings (vxlan.go).
	VXLAN *VXLANOpts

	Master    *Link
	PortVLANs *PortVLANs
	MTU       int
	MAC       string
	Addresses []netip.Prefix
	Routes    []Route
	External  bool
	// LinkLocal keeps the kernel's IPv6 link-local address.
	LinkLocal bool
	// VLANs are the sub-interfaces on this link.
	VLANs []*Link
	// Netem is the impairment of frames leaving the link; nil for none.
	Netem *schema.NetemValues
	// Masquerade are the subnets whose forwarded traffic leaves the
	// namespace with the address of the interface it leaves by.
	Masquerade []netip.Prefix

	// Bond is the bond this link is a member of; VRF the VRF it is in.
	Bond, VRF *Link
	// BondOpts are a bond's settings; Members a bond's or VRF's members.
	BondOpts *BondOpts
	Members  []*Link
	// Table is a VRF's routing table.
	Table int
	// PortOpts are a bridge port's `port:` settings.
	PortOpts *PortOpts
}

// Label is how messages name the link: NS:NAME or NAME.
func (l *Link) Label() string { return schema.Key{NS: l.NS, If: l.Name}.String() }

// HasNetdev reports whether systemd-networkd creates the link from a
// .netdev file: a host link networkd owns, except an uplink (it exists
// already) and the second end of a veth (its peer's .netdev creates both).
func (l *Link) HasNetdev() bool {
	return l.Owner == nil && l.NS == "" && l.Kind != schema.KindUplink && (l.Kind != schema.KindVeth || l.Creator)
}

// BridgeOpts are the settings of a bridge. Zero pointers leave the kernel's
// default.
type BridgeOpts struct {
	STP                                       bool
	Priority, ForwardDelay, HelloTime, MaxAge *int
	AgeingTime                                *int
	VLANFiltering                             bool
	DefaultPVID                               *int // 0 means none
	GroupForwardMask                          *int
	// NoKernelPVID: the kernel gives the bridge's new ports no VLAN
	// (vlan_default_pvid 0, networkd's DefaultPVID=none), and the bridge
	// itself and every port get their VLANs, the default one (pvid())
	// included, explicitly: the bridge has an uplink matched by MAC that
	// must lose the default PVID, which networkd 252 cannot remove and no
	// unit can name (macUplinkBridges). DefaultPVID stays the lab's.
	NoKernelPVID bool
	// SelfVLANs are the VLANs the bridge device itself carries, tagged,
	// for its own VLAN sub-interfaces (a router's SVIs) on a
	// VLAN-filtering bridge: without them no frame of the VLAN reaches the
	// sub-interface. Ascending.
	SelfVLANs []int
}

// TapOpts are the settings of a tap device.
type TapOpts struct {
	User, Group string
	MultiQueue  bool
}

// Route is a route through one link.
type Route struct {
	To     netip.Prefix
	Via    netip.Addr
	Metric int
	OnLink bool
}

// PortVLANs is the final VLAN membership of a port on a VLAN-filtering bridge.
type PortVLANs struct {
	Entries []VLANEntry
	// DeleteDefault is the bridge's default PVID, which the kernel gives every
	// new port and which this port must not carry; 0 when nothing is deleted.
	DeleteDefault int
}

// VLANEntry is a VLAN id or range on a port.
type VLANEntry struct {
	From, To       int
	PVID, Untagged bool
}

// Generate builds the plan of a lab that passed validation.
func Generate(lab *schema.Lab) *Plan {
	x := schema.NewIndex(lab)
	g := &gen{
		x:     x,
		plan:  &Plan{Lab: lab.Name.Value},
		links: map[schema.Key]*Link{},
		units: map[string]*Unit{},
		pairs: map[string]*Unit{},
	}
	g.build()
	return g.plan
}

type gen struct {
	x     *schema.Index
	plan  *Plan
	links map[schema.Key]*Link
	units map[string]*Unit
	pairs map[string]*Unit
}

func (g *gen) nsUnit(ns string) *Unit {
	name := names.NamespaceUnit(g.plan.Lab, ns)
	if u, ok := g.units[name]; ok {
		return u
	}
	u := &Unit{Name: name, Kind: NamespaceUnit, Namespaces: []string{ns}}
	g.units[name] = u
	return u
}

func (g *gen) linkUnit(a, b string) *Unit {
	if b < a {
		a, b = b, a
	}
	pair := a + "\x00" + b
	if u, ok := g.pairs[pair]; ok {
		return u
	}
	// One unit per pair, named injectively (package names): every veth
	// between a and b is in it. (":" would need no escaping, but systemd's
	// [Install] handling rejects unit names that contain it.)
	name := names.LinkUnit(g.plan.Lab, a, b)
	u := &Unit{Name: name, Kind: LinkUnit, Namespaces: []string{a, b},
		Requires: []string{g.nsUnit(a).Name, g.nsUnit(b).Name}}
	g.units[name] = u
	g.pairs[pair] = u
	return u
}

// ownerOfNS returns the owner of an object created in namespace ns: its
// namespace unit, or networkd (nil) for the host.
func (g *gen) ownerOfNS(ns string) *Unit {
	if ns == "" {
		return nil
	}
	return g.nsUnit(ns)
}

func (g *gen) build() {
	for _, name := range g.x.NamespaceNames() {
		ns := g.x.Namespaces[name]
		u := g.nsUnit(name)
		u.Namespace = &Namespace{Name: name, Loopback: !ns.Loopback.Set || ns.Loopback.Value}
	}
	bridges := append([]*schema.Bridge(nil), g.x.Lab.Bridges...)
	sort.Slice(bridges, func(i, j int) bool {
		return keyLess(schema.Key{NS: bridges[i].NS(), If: bridges[i].Name.Value}, schema.Key{NS: bridges[j].NS(), If: bridges[j].Name.Value})
	})
	for _, b := range bridges {
		l := g.newLink(schema.Key{NS: b.NS(), If: b.Name.Value}, schema.KindBridge, g.ownerOfNS(b.NS()))
		l.Bridge = bridgeOpts(b)
		l.MTU, l.MAC = b.MTU.Value, mac(b.MAC)
		l.Addresses, l.Routes = l3Of(&b.L3)
		l.LinkLocal = len(b.Addresses) > 0
	}
	taps := append([]*schema.Tap(nil), g.x.Lab.Taps...)
	sort.Slice(taps, func(i, j int) bool { return keyLess(taps[i].Name.Key(), taps[j].Name.Key()) })
	for _, t := range taps {
		l := g.newLink(t.Name.Key(), schema.KindTap, g.ownerOfNS(t.Name.NS))
		l.Tap = &TapOpts{User: t.User.Value, Group: t.Group.Value, MultiQueue: t.MultiQueue.Value}
	}
	// The creator end of a veth is the one in the namespace that sorts
	// first (the host sorts before every namespace), so that a unit's batches
	// can run host first, then namespaces in order.
	type pair struct{ a, b *schema.End }
	var veths []pair
	for _, v := range g.x.Lab.Veths {
		if v.Tunnel != nil {
			continue // vxlan.go
		}
		p := pair{v.Ends[0], v.Ends[1]}
		if keyLess(p.b.Name.Key(), p.a.Name.Key()) {
			p.a, p.b = p.b, p.a
		}
		veths = append(veths, p)
	}
	sort.SliceStable(veths, func(i, j int) bool { return keyLess(veths[i].a.Name.Key(), veths[j].a.Name.Key()) })
	for _, v := range veths {
		a, b := v.a.Name.Key(), v.b.Name.Key()
		var owner *Unit
		switch {
		case a.NS == "" && b.NS == "":
			owner = nil
		case a.NS == "" || a.NS == b.NS:
			owner = g.nsUnit(b.NS)
		default:
			owner = g.linkUnit(a.NS, b.NS)
		}
		la := g.newLink(a, schema.KindVeth, owner)
		lb := g.newLink(b, schema.KindVeth, owner)
		la.Peer, lb.Peer, la.Creator = lb, la, true
	}
	g.tunnels()
	g.uplinks()
	g.kernelObjects()
	// VLANs after their parents: a VLAN's owner is its parent's owner, as it
	// dies with the parent.
	for _, v := range g.vlanOrder() {
		parent := g.links[v.Parent.Key()]
		if parent == nil {
			// An uplink matched by name.
			continue
		}
		l := g.newLink(v.Key(), schema.KindVLAN, parent.Owner)
		l.Parent, l.VID = parent, v.ID.Value
		parent.VLANs = append(parent.VLANs, l)
		if b := parent.Bridge; b != nil && b.VLANFiltering {
			b.SelfVLANs = append(b.SelfVLANs, l.VID)
			sort.Ints(b.SelfVLANs)
		}
	}
	g.configure()
	g.macUplinkBridges()
	g.impair()
	g.hostUnit()
	g.stableMACs()
	g.wireUnits()
	g.masterWaits()
	g.finish()
	g.masquerade()
	g.services()
}

// vlanOrder returns the lab's VLANs with every parent before its children.
func (g *gen) vlanOrder() []*schema.VLAN {
	// A VLAN's key is built from its parent's name and id: made once per
	// VLAN, not once per comparison (that was a third of Generate's time
	// for 1000 VLANs).
	type keyed struct {
		v *schema.VLAN
		k schema.Key
	}
	vlans := make([]keyed, len(g.x.Lab.VLANs))
	for i, v := range g.x.Lab.VLANs {
		vlans[i] = keyed{v, v.Key()}
	}
	sort.SliceStable(vlans, func(i, j int) bool { return keyLess(vlans[i].k, vlans[j].k) })
	var out []*schema.VLAN
	done := make(map[schema.Key]bool, len(vlans))
	for len(out) < len(vlans) {
		progress := false
		for _, kv := range vlans {
			v := kv.v
			if done[kv.k] {
				continue
			}
			if p, ok := g.x.Ifaces[v.Parent.Key()]; ok && p.Kind == schema.KindVLAN && !done[p.Key] {
				continue
			}
			done[kv.k] = true
			out = append(out, v)
			progress = true
		}
		if !progress {
			break
		}
	}
	return out
}

func (g *gen) uplinks() {
	ups := append([]*schema.Uplink(nil), g.x.Lab.Uplinks...)
	for _, u := range ups {
		var l *Link
		if u.Interface.Set {
			l = g.links[schema.Key{If: u.Interface.Value}]
			if l == nil {
				l = g.newLink(schema.Key{If: u.Interface.Value}, schema.KindUplink, nil)
			}
		} else {
			l = g.newLink(schema.Key{If: "uplink-" + strings.ReplaceAll(schema.NormalMAC(u.MAC.Value), ":", "")}, schema.KindUplink, nil)
			l.MatchMAC = schema.NormalMAC(u.MAC.Value)
		}
		l.MTU = u.MTU.Value
	}
}

func (g *gen) newLink(k schema.Key, kind schema.Kind, owner *Unit) *Link {
	l := &Link{NS: k.NS, Name: k.If, Kind: kind, Owner: owner}
	g.links[k] = l
	g.plan.Links = append(g.plan.Links, l)
	if owner != nil {
		owner.Links = append(owner.Links, l)
	}
	return l
}

// configure applies every interface's settings to its link.
func (g *gen) configure() {
	for _, i := range g.x.Order {
		l := g.links[i.Key]
		if i.Kind == schema.KindUplink && i.Uplink.MAC.Set {
			continue
		}
		if l == nil {
			continue
		}
		if l.Kind != schema.KindBridge && l.Kind != schema.KindUplink {
			l.MTU, l.MAC = i.MTU(), mac(schema.Str{Value: i.MAC(), Set: i.MAC() != ""})
		}
		if i.External() {
			l.External = true
			continue
		}
		if l.Kind != schema.KindBridge {
			l.LinkLocal = l.Kind != schema.KindUplink
			if l3 := i.L3(); l3 != nil {
				l.Addresses, l.Routes = l3Of(l3)
			}
		}
		if p := i.Port(); p != nil && p.Bridge.Set {
			g.attach(l, p)
		}
	}
	g.enslave()
	for _, l := range g.plan.Links {
		if l.Kind == schema.KindUplink && l.MatchMAC != "" {
			for _, u := range g.x.Lab.Uplinks {
				if u.MAC.Set && schema.NormalMAC(u.MAC.Value) == l.MatchMAC && u.Bridge.Set {
					g.attach(l, &u.Port)
				}
			}
		}
	}
}

func (g *gen) attach(l *Link, p *schema.Port) {
	br := g.links[schema.Key{NS: l.NS, If: p.Bridge.Value}]
	l.Master = br
	l.LinkLocal = false
	l.PortOpts = portOpts(p.Opts)
	if p.VLAN != nil && br.Bridge.VLANFiltering {
		l.PortVLANs = portVLANs(p.VLAN, br.Bridge.pvid())
	}
	if l.Owner != nil && br.Owner == nil {
		l.Owner.HostBridges = appendUnique(l.Owner.HostBridges, br.Name)
	}
}

// hostUnit moves to the lab's host unit every networkd-owned port that must
// lose the bridge's default PVID, with what must share its owner: a veth's
// peer, VLANs stacked on it, and the parents a VLAN is stacked on (a VLAN
// dies with its parent, so whoever re-creates the parent re-creates it),
// up to a bridge: a bridge stays networkd's, whose other ports networkd
// attaches by name (a unit-made bridge has no .netdev, and networkd then
// said "NetDev could not be found" for each of them: found by the
// random-lab tier). The unit makes the VLAN on the bridge once networkd has
// configured the bridge, deletes it when it stops, and is restarted when
// netgen re-creates the bridge (install.Record.HostBridgePorts). An uplink
// matched by MAC has no name for a unit to use and stays with networkd
// (macUplinkBridges gives its bridge no default VLAN to remove).
func (g *gen) hostUnit() {
	move := map[*Link]bool{}
	var mark func(l *Link)
	mark = func(l *Link) {
		if move[l] {
			return
		}
		move[l] = true
		if l.Peer != nil {
			mark(l.Peer)
		}
		for _, v := range l.VLANs {
			mark(v)
		}
		for _, m := range l.Members {
			if l.Kind == schema.KindBond {
				mark(m)
			}
		}
	}
	for _, l := range g.plan.Links {
		if l.Owner != nil || l.NS != "" || l.MatchMAC != "" || (l.PortVLANs == nil || l.PortVLANs.DeleteDefault == 0) && !g.unitOnly(l) {
			continue
		}
		root := l
		for root.Parent != nil && root.Parent.Kind != schema.KindBridge {
			root = root.Parent
		}
		if root.MatchMAC != "" {
			continue
		}
		mark(root)
	}
	if len(move) == 0 {
		return
	}
	u := &Unit{Name: names.Unit(g.plan.Lab, names.KindHost, ""), Kind: HostUnit}
	// (Its links: ports off the default VLAN, and links whose qdiscs
	// networkd cannot set, see unitOnly.)
	g.units[u.Name] = u
	for _, l := range g.plan.Links {
		if !move[l] {
			continue
		}
		l.Owner = u
		u.Links = append(u.Links, l)
		if l.Master != nil && l.Master.Owner == nil {
			u.HostBridges = appendUnique(u.HostBridges, l.Master.Name)
		}
		if l.Parent != nil && l.Parent.Owner == nil {
			// A VLAN on a networkd bridge: made once networkd has
			// configured the bridge.
			u.HostBridges = appendUnique(u.HostBridges, l.Parent.Name)
		}
	}
}

// macUplinkBridges makes NoKernelPVID every VLAN-filtering bridge with a
// port matched by MAC that must lose the default PVID: the kernel then
// adds no default VLAN to any port, every port without `vlan:` gets the
// default VLAN as PVID, untagged, as the kernel would have given it, and
// nothing is left to delete (so no port of the bridge needs the host
// unit for it). networkd 252 adds port VLANs but never removes one, and
// the host unit, which removes it for ports it can name, cannot name an
// uplink matched by MAC: its access port kept VLAN 1 untagged beside its
// own (found by the random-lab tier).
func (g *gen) macUplinkBridges() {
	for _, l := range g.plan.Links {
		if l.MatchMAC != "" && l.PortVLANs != nil && l.PortVLANs.DeleteDefault != 0 {
			l.Master.Bridge.NoKernelPVID = true
		}
	}
	for _, l := range g.plan.Links {
		if l.Master == nil || l.Master.Bridge == nil || !l.Master.Bridge.NoKernelPVID {
			continue
		}
		if l.PortVLANs == nil {
			d := l.Master.Bridge.pvid()
			l.PortVLANs = &PortVLANs{Entries: []VLANEntry{{From: d, To: d, PVID: true, Untagged: true}}}
			continue
		}
		l.PortVLANs.DeleteDefault = 0
	}
}

// KernelDefaultPVID is the default PVID the bridge is created with, when
// netgen sets one (0: none); ok is false when it leaves the kernel's.
func (b *BridgeOpts) KernelDefaultPVID() (pvid int, ok bool) {
	switch {
	case !b.VLANFiltering:
		return 0, false
	case b.NoKernelPVID:
		return 0, true
	case b.DefaultPVID != nil:
		return *b.DefaultPVID, true
	}
	return 0, false
}

// SelfPVID is the VLAN the bridge device itself must be given as PVID,
// untagged, explicitly (NoKernelPVID), as the kernel gives it otherwise;
// 0 when the kernel gives it. No VLAN sub-interface of the bridge has that
// id: the validator refuses one (schema: sviOnPVID).
func (b *BridgeOpts) SelfPVID() int {
	if b.NoKernelPVID {
		return b.pvid()
	}
	return 0
}

func (b *BridgeOpts) pvid() int {
	if b.DefaultPVID != nil {
		return *b.DefaultPVID
	}
	return 1
}

// finish orders units and sysctls and records the target.
func (g *gen) finish() {
	g.bridgeWait()
	unitNames := make([]string, 0, len(g.units))
	for n := range g.units {
		unitNames = append(unitNames, n)
	}
	sort.Strings(unitNames)
	for _, n := range unitNames {
		u := g.units[n]
		sort.Strings(u.HostBridges)
		g.plan.Units = append(g.plan.Units, u)
	}
	if len(g.plan.Units) > 0 {
		g.plan.Target = names.Target(g.plan.Lab)
	}
	g.sysctls()
}

// bridgeWait adds the lab's BridgeWaitUnit when any unit attaches links to
// a networkd-owned host bridge, or a networkd-owned host bridge has an MTU
// of the lab's.
//
// Why the MTU: the kernel moves a bridge's MTU to its smallest port's
// whenever a port joins, unless the MTU was changed after creation
// (render.bridgeCreateMTU), and setting the MTU a link already has changes
// nothing, in networkd (it skips it) and in the kernel. When networkd
// enslaved a port with the lab's MTU before setting the bridge's, the
// bridge already had that MTU, networkd's setting was skipped, and the next,
// smaller port (an uplink at 1500) took the bridge down to 1500 (found by
// the random-lab tier: seed 19, lab 158). Which comes first is networkd's
// order, so the wait unit, once networkd has configured the bridge, sets
// its MTU to another value and back, which the kernel keeps from then on.
func (g *gen) bridgeWait() {
	seen := map[string]bool{}
	var bridges []string
	var users []*Unit
	for _, u := range g.units {
		if len(u.HostBridges) > 0 {
			users = append(users, u)
		}
		for _, b := range u.HostBridges {
			if !seen[b] {
				seen[b] = true
				bridges = append(bridges, b)
			}
		}
	}
	var pins []*Link
	for _, l := range g.plan.Links {
		if l.NS == "" && l.Owner == nil && l.Kind == schema.KindBridge && l.MTU != 0 {
			pins = append(pins, l)
			if !seen[l.Name] {
				seen[l.Name] = true
				bridges = append(bridges, l.Name)
			}
		}
	}
	if len(bridges) == 0 {
		return
	}
	sort.Strings(bridges)
	sort.Slice(pins, func(i, j int) bool { return pins[i].Name < pins[j].Name })
	w := &Unit{Name: names.Unit(g.plan.Lab, names.KindBridges, ""), Kind: BridgeWaitUnit, HostBridges: bridges, PinMTU: pins}
	g.units[w.Name] = w
	for _, u := range users {
		u.Wait = w
	}
}

func (g *gen) sysctls() {
	// Link names are grouped by namespace once, and only when some
	// namespace has sysctls: scanning every link once per namespace made
	// Generate quadratic (1 s for 10k namespaces).
	var byNS map[string]map[string]bool
	for _, name := range g.x.NamespaceNames() {
		ns := g.x.Namespaces[name]
		if len(ns.Sysctls) == 0 {
			continue
		}
		if byNS == nil {
			byNS = map[string]map[string]bool{}
			for k := range g.links {
				if byNS[k.NS] == nil {
					byNS[k.NS] = map[string]bool{}
				}
				byNS[k.NS][k.If] = true
			}
		}
		names := byNS[name]
		type entry struct {
			sc    Sysctl
			iface string
		}
		list := make([]entry, 0, len(ns.Sysctls))
		for _, s := range ns.Sysctls {
			path, iface := schema.SysctlPath(s.Key.Value, names)
			list = append(list, entry{Sysctl{NS: name, Path: path, Value: s.Value.Value}, iface})
		}
		// The lab's key order must not show in the output, and the order
		// matters to the kernel (see schema.SysctlLess).
		sort.SliceStable(list, func(i, j int) bool { return schema.SysctlLess(list[i].sc.Path, list[j].sc.Path) })
		for _, e := range list {
			sc, iface := e.sc, e.iface
			if iface == "" {
				u := g.nsUnit(name)
				u.Namespace.Sysctls = append(u.Namespace.Sysctls, sc)
				continue
			}
			if l := g.links[schema.Key{NS: name, If: iface}]; l != nil && l.Owner != nil {
				l.Owner.Sysctls = append(l.Owner.Sysctls, sc)
			}
		}
	}
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// keyLess orders host interfaces first, then by namespace and name.
func keyLess(a, b schema.Key) bool {
	if a.NS != b.NS {
		return a.NS < b.NS
	}
	return a.If < b.If
}

func mac(s schema.Str) string {
	if !s.Set || s.Value == "" {
		return ""
	}
	return schema.NormalMAC(s.Value)
}

func intp(x schema.Int) *int {
	if !x.Set {
		return nil
	}
	v := x.Value
	return &v
}

func bridgeOpts(b *schema.Bridge) *BridgeOpts {
	o := &BridgeOpts{
		STP:              b.STP.Value,
		Priority:         intp(b.Priority),
		ForwardDelay:     intp(b.ForwardDelay),
		HelloTime:        intp(b.HelloTime),
		MaxAge:           intp(b.MaxAge),
		AgeingTime:       intp(b.AgeingTime),
		VLANFiltering:    b.VLANFiltering.Value,
		GroupForwardMask: intp(b.GroupForwardMask),
	}
	if b.DefaultPVID.Set && b.VLANFiltering.Value {
		p := b.PVID()
		o.DefaultPVID = &p
	}
	return o
}

// l3Of turns addresses, gateway and routes into the link's lists; a gateway
// is a default route of its family.
func l3Of(l *schema.L3) ([]netip.Prefix, []Route) {
	var addrs []netip.Prefix
	for _, a := range l.Addresses {
		addrs = append(addrs, a.Prefix)
	}
	var routes []Route
	if l.Gateway.Set {
		gw := l.Gateway.Addr
		routes = append(routes, Route{To: defaultRoute(gw), Via: gw, OnLink: !schema.OnLink(l, gw)})
	}
	for _, r := range l.Routes {
		rt := Route{To: r.To, Metric: r.Metric.Value}
		if r.Default {
			rt.To = defaultRoute(r.Via.Addr)
		}
		if r.Via.Set {
			rt.Via = r.Via.Addr
			rt.OnLink = !schema.OnLink(l, r.Via.Addr)
		}
		routes = append(routes, rt)
	}
	return addrs, routes
}

func defaultRoute(via netip.Addr) netip.Prefix {
	if via.Is4() {
		return netip.MustParsePrefix("0.0.0.0/0")
	}
	return netip.MustParsePrefix("::/0")
}

// portVLANs computes the final VLAN membership of a port, given the
// bridge's default PVID (0: none), which the kernel adds to every new port
// as PVID, egress untagged.
//
// An access port carries its VLAN untagged as PVID. A trunk carries its VLANs
// tagged and its native VLAN untagged as PVID; without `native:` the default
// PVID stays the native VLAN (as on most switches, where native VLAN 1 is the
// default), even when the trunk also lists it.
func portVLANs(pv *schema.PortVLAN, defPVID int) *PortVLANs {
	out := &PortVLANs{}
	native := 0
	switch {
	case pv.Access.Set:
		native = pv.Access.Value
	case pv.Native.Set:
		native = pv.Native.Value
	default:
		native = defPVID
	}
	if defPVID != 0 && defPVID != native {
		out.DeleteDefault = defPVID
		for _, r := range pv.Trunk {
			if r.From <= defPVID && defPVID <= r.To {
				// It stays, tagged: the trunk entry below rewrites its flags.
				out.DeleteDefault = 0
			}
		}
	}
	for _, r := range pv.Trunk {
		for _, piece := range splitAround(r.From, r.To, native) {
			out.Entries = append(out.Entries, VLANEntry{From: piece[0], To: piece[1]})
		}
	}
	if native != 0 {
		out.Entries = append(out.Entries, VLANEntry{From: native, To: native, PVID: true, Untagged: true})
	}
	sort.Slice(out.Entries, func(i, j int) bool { return out.Entries[i].From < out.Entries[j].From })
	return out
}

// splitAround returns [from,to] without vid, as up to two ranges.
func splitAround(from, to, vid int) [][2]int {
	if vid < from || vid > to {
		return [][2]int{{from, to}}
	}
	var out [][2]int
	if from < vid {
		out = append(out, [2]int{from, vid - 1})
	}
	if vid < to {
		out = append(out, [2]int{vid + 1, to})
	}
	return out
}

// Sysctls are every sysctl of the plan: each namespace's own and those of
// its interfaces (status compares them, the test tiers read them back).
func (p *Plan) Sysctls() []Sysctl {
	var out []Sysctl
	for _, u := range p.Units {
		if u.Namespace != nil {
			out = append(out, u.Namespace.Sysctls...)
		}
		out = append(out, u.Sysctls...)
	}
	return out
}
