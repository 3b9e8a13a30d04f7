// Package randlab writes random valid labs for netgen's tests: YAML text, so
// that decoding is exercised too, covering every key of the lab format,
// both forms of every choice the format offers (list and map veths, bare and
// host: references, flow and block YAML, aliases, ...), in random key order.
// The e2e tier runs each lab through the real networkd and the units'
// scripts; any unit that fails, networkd warning or link not as the plan
// says is then a bug of the validator (a lab it should have refused) or of
// the generator and renderer.
//
// Labs are valid by construction, conservatively: addresses unique, from
// disjoint subnets (IPv4 10.BLOCK.SEGMENT.0/24 and IPv6
// fd00:0:BLOCK:SEGMENT::/64, one per layer-2 segment), gateways inside their
// interface's subnet, at most one default route per namespace, family and
// metric, route destinations unique (198.18.0.0/15, 2001:db8::/32), MTU of
// at least 1280 wherever IPv6 is, sysctls from a small known-good set, no
// loop of bridges. What is known to break but still passes validation is
// generated only when Options.Wild names it (see Wild).
//
// A lab depends only on (seed, index, options): lab 7 of seed 1 is the same
// whatever ran before it, so one failing lab can be re-run alone.
//
// # Adding a key
//
// One function per object kind (namespace, bridge, tap, veth, end, uplink,
// vlan: objects.go; bond, dummy, VRF, wire, netem, port settings:
// kernelobjects.go; services and dns: services.go; pools and masquerade:
// pools.go) decides the object's settings; port, link and the address pass
// (l3.go) add the settings several kinds share. A new key is one more
// branch in its object's function and one more entry in FormatKeys
// (keys.go); the coverage test fails until the generator emits it. An
// object the development machines' kernel lacks is generated only when
// Population.fullKernel says the tier has it.
package randlab

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Population says which kernel the labs must run on.
type Population int

const (
	// KernelOK labs use nothing the development machines' kernel lacks: no
	// 802.1Q sub-interface, no VLAN-filtering bridge, no port VLANs. The
	// networkd oracle runs them.
	KernelOK Population = iota
	// VLANs labs each use 802.1Q sub-interfaces or VLAN filtering (on any
	// parent kind), and everything else the development machines' kernel
	// lacks: bonds, dummies, VRFs, netem, wires (tc actions). The QEMU
	// tier, with Debian's kernel, boots them.
	VLANs
)

// fullKernel reports whether the population's kernel has everything: only
// then are bonds, dummies, VRFs, netem and wires generated.
func (p Population) fullKernel() bool { return p == VLANs }

func (p Population) String() string {
	if p == VLANs {
		return "vlans"
	}
	return "kernel-ok"
}

// Options shape the labs.
type Options struct {
	Population Population
	// Prefix starts every namespace name and every host interface name, and
	// the lab name, so that labs installed on one system do not collide.
	Prefix string
	// Block (0-255) is the second octet of the lab's IPv4 subnets and a
	// group of its IPv6 ones, and a byte of its MACs: labs with different
	// blocks share no address or MAC.
	Block int
	// NoHostDefaults leaves out default routes in the host namespace, which
	// two labs on one system would both claim.
	NoHostDefaults bool
	// Wild turns on constructs that pass validation but are known to fail
	// (open bugs, see Wild); nil or empty: none.
	Wild map[string]bool
}

// Wild lists the constructs the generator avoids unless Options.Wild names
// them, each with the failure it causes: the open bug that keeps it out of
// the default runs (e2e/testdata/randlab-found/ holds a minimal lab for
// each). A construct leaves this list when its bug is fixed, at the root:
// the validator refuses it with a positioned error, or netgen makes it work.
// Empty: every construct found so far is fixed (docs/testing.md lists them).
var Wild = map[string]string{}

// flags are the randlab command's flags for these options.
func (o Options) flags() string {
	s := ""
	if o.Population == VLANs {
		s += " -vlans"
	}
	if o.Prefix != "" {
		s += " -prefix " + o.Prefix
	}
	if o.Block != 0 {
		s += fmt.Sprintf(" -block %d", o.Block)
	}
	if o.NoHostDefaults {
		s += " -no-host-defaults"
	}
	var wild []string
	for w, on := range o.Wild {
		if on {
			wild = append(wild, w)
		}
	}
	if len(wild) > 0 {
		sort.Strings(wild)
		s += " -wild " + strings.Join(wild, ",")
	}
	return s
}

// Lab is one generated lab.
type Lab struct {
	Seed  uint64
	Index int
	// Name is the lab's name; File is the file name that gives it when the
	// YAML leaves `name:` out.
	Name, File string
	YAML       []byte
	// Forms are the choices the generator made that the keys alone do not
	// show ("veth:map", "ref:host", "vlan-parent:tap", ...): see Forms.
	Forms map[string]bool
}

// Generate writes lab index of seed.
func Generate(seed uint64, index int, opt Options) *Lab {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%s/%d", index, opt.Population, opt.Prefix, opt.Block)
	g := &gen{
		r:      rand.New(rand.NewPCG(seed, h.Sum64())),
		opt:    opt,
		used:   map[string]map[string]bool{"": {}},
		nsUsed: map[string]bool{},
		forms:  map[string]bool{},

		bridgeNames: map[string]bool{},
		routes:      map[string]bool{},
	}
	name := fmt.Sprintf("rand-%d", index)
	if opt.Prefix != "" {
		name = fmt.Sprintf("%s-rand-%d", strings.ToLower(opt.Prefix), index)
	}
	if g.chance(0.05) {
		// The longest lab name: every unit and file name carries it.
		g.form("name:max-length")
		for len(name) < 32 {
			name += string("abcdefghijklmnopqrstuvwxyz0123456789-"[g.r.IntN(37)])
		}
	}
	g.build()
	lab := &Lab{Seed: seed, Index: index, Name: name, File: name + ".yml", Forms: g.forms}
	lab.YAML = g.emit(name, fmt.Sprintf("randlab: seed %d, %s lab %d (go run ./internal/testkit/randlab/cmd/randlab -seed %d -index %d%s)",
		seed, opt.Population, index, seed, index, opt.flags()))
	return lab
}

// gen is the state of one lab being generated.
type gen struct {
	r   *rand.Rand
	opt Options

	nss    []*namespace
	used   map[string]map[string]bool // interface names per namespace ("" host)
	nsUsed map[string]bool
	// bridgeNames are the bridges' names, unique lab-wide.
	bridgeNames map[string]bool
	bridges     []*iface
	ifaces      []*iface // every interface, in creation order
	veths       []*veth
	vlans       []*iface
	taps        []*iface
	uplinks     []*iface
	bonds       []*iface
	dummies     []*iface
	vrfs        []*vrf
	wires       [][2]*iface
	pools       []*pool
	// dns is the lab-wide dns; nil for none.
	dns *yaml.Node

	macs, segs, dsts int
	// routes holds "NS|DESTINATION|METRIC" of every route a namespace has.
	routes map[string]bool
	forms  map[string]bool
}

func (g *gen) form(f string) { g.forms[f] = true }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, list []T) T { return list[g.r.IntN(len(list))] }

type namespace struct {
	name     string
	loopback *bool
	sysctls  []field
	services []field
	dns      *yaml.Node
	// forward4 and forward6: the namespace must forward that family (it
	// is the router of a `gateway: auto`, or masquerades).
	forward4, forward6 bool
}

// iface is one interface of the lab: a veth end, tap, bridge, VLAN or uplink.
type iface struct {
	kind   string // "veth", "tap", "bridge", "vlan", "uplink"
	ns     string // "" for the host
	name   string
	fields []field // settings, in creation order (shuffled when written)

	mtu int // the lab's MTU, 0 for the kernel's
	mac string
	// port is the bridge this interface is a port of; peer is a veth
	// end's other end.
	port, peer *iface
	// ports are a bridge's ports.
	ports []*iface
	// wantL3 marks an interface that gets addresses, gateway, routes at
	// the end, once every segment is known.
	wantL3   bool
	external bool
	byMAC    bool
	// Bridge settings.
	stp, filtering bool
	pvid           int // default PVID; 0: none
	// VLAN: parent and id; vids are the ids of the VLANs on this interface.
	parent *iface
	vid    int
	vids   map[int]bool
	// member is the bond this interface is a member of; inVRF: it is a
	// member of a VRF; wire: it is the end of a wire. members are a bond's.
	member  *iface
	members []*iface
	inVRF   bool
	wire    bool
	// addrs are the explicit addresses the address pass gave; auto: the
	// interface says `addresses: auto` (pooled: its addresses come from a
	// pool, auto or not).
	addrs        []netip.Prefix
	auto, pooled bool
	// noRoutes: the interface takes addresses but no gateway or routes (a
	// dummy).
	noRoutes bool
	// loop and seg are union-find parents: loop joins everything a frame can
	// cross (VLANs with their parents), seg the layer-2 segments that share
	// a subnet.
	loop, seg *iface
}

type veth struct {
	ends  [2]*iface
	mtu   int
	asMap bool
	// extra are the entry's other settings (netem, pool).
	extra []field
}

// field is one key of a YAML map and its value.
type field struct {
	key string
	val *yaml.Node
}

func (i *iface) set(key string, v *yaml.Node) { i.fields = append(i.fields, field{key, v}) }

// ref is how the lab refers to the interface.
func (g *gen) ref(i *iface) string {
	if i.ns == "" {
		if g.chance(0.25) {
			g.form("ref:host")
			return "host:" + i.name
		}
		g.form("ref:bare")
		return i.name
	}
	g.form("ref:ns")
	return i.ns + ":" + i.name
}

func find(parent func(*iface) **iface, i *iface) *iface {
	for *parent(i) != nil && *parent(i) != i {
		p := *parent(i)
		if gp := *parent(p); gp != nil && gp != p {
			*parent(i) = gp
		}
		i = p
	}
	return i
}

func loopOf(i *iface) **iface { return &i.loop }
func segOf(i *iface) **iface  { return &i.seg }

func union(parent func(*iface) **iface, a, b *iface) {
	ra, rb := find(parent, a), find(parent, b)
	if ra != rb {
		*parent(ra) = rb
	}
}

// kernelMTU is the MTU the interface will have: the lab's, its parent's
// (VLAN), the smallest of its ports' (bridge, which the kernel lowers to
// that), or 1500.
func (i *iface) kernelMTU() int {
	if i.mtu != 0 {
		return i.mtu
	}
	switch i.kind {
	case "vlan":
		return i.parent.kernelMTU()
	case "bridge":
		m := 0
		for _, p := range i.ports {
			if pm := p.kernelMTU(); m == 0 || pm < m {
				m = pm
			}
		}
		if m != 0 {
			return m
		}
	}
	return 1500
}

// v6ok reports whether the interface can carry IPv6 (the kernel removes
// IPv6 from an interface whose MTU is below 1280).
func (g *gen) v6ok(i *iface) bool { return i.kernelMTU() >= 1280 }
