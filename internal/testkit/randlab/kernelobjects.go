package randlab

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// The objects only a full kernel has (bonds, dummies, VRFs, wires, netem:
// Population.fullKernel), and bridge port settings, which every kernel
// with bridges has.

var (
	bondWords  = []string{"bond", "po", "lag", "ae"}
	dummyWords = []string{"lo", "dum", "loop"}
	vrfWords   = []string{"vrf", "blue", "red", "mgmt"}
	bondModes  = []string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}
)

// bondable reports whether i may become a bond member: a veth end or tap
// that is no bridge port, not external, in no bond, and with neither MTU
// nor MAC of its own (a bond gives its members its MTU and, in most
// modes, its MAC: the lab's would not hold).
func bondable(i *iface) bool {
	return (i.kind == "veth" || i.kind == "tap") && i.port == nil && !i.external && i.member == nil && i.mtu == 0 && i.mac == ""
}

// makeBonds adds up to two bonds. A bond's members are veth ends whose
// other ends are all in one namespace, or taps (the validator's rule: the
// bond is created with its members).
func (g *gen) makeBonds() {
	for n := g.r.IntN(3); n > 0; n-- {
		groups := map[string][]*iface{}
		var keys []string
		for _, i := range g.ifaces {
			if !bondable(i) {
				continue
			}
			k := i.ns + "|tap"
			if i.kind == "veth" {
				k = i.ns + "|peer " + i.peer.ns
			}
			if groups[k] == nil {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], i)
		}
		if len(keys) == 0 {
			return
		}
		cands := groups[pick(g, keys)]
		var members []*iface
		taken := map[*iface]bool{}
		for _, m := range shuffled(g, cands) {
			// Never both ends of one cable: the bond would loop to itself.
			if len(members) < 1+g.r.IntN(3) && !taken[m.peer] {
				members = append(members, m)
				taken[m] = true
			}
		}
		g.bond(members)
	}
}

func (g *gen) bond(members []*iface) {
	ns := members[0].ns
	b := g.add(&iface{kind: "bond", ns: ns, members: members})
	b.name = g.ifName(ns, bondWords)
	g.bonds = append(g.bonds, b)
	var refs []*yaml.Node
	for _, m := range members {
		m.member = b
		m.wantL3 = false
		union(loopOf, b, m)
		refs = append(refs, g.str(g.ref(m)))
	}
	b.set("members", g.seq(refs...))
	mode := "802.3ad"
	if g.chance(0.6) {
		mode = pick(g, bondModes)
		b.set("mode", g.str(mode))
	}
	if mode == "802.3ad" && g.chance(0.4) {
		b.set("lacp-rate", g.str(pick(g, []string{"slow", "fast"})))
	}
	switch mode {
	case "balance-xor", "802.3ad", "balance-tlb", "balance-alb":
		if g.chance(0.4) {
			b.set("xmit-hash-policy", g.str(pick(g, []string{"layer2", "layer2+3", "layer3+4"})))
		}
	}
	if g.chance(0.3) {
		b.set("miimon", g.int(pick(g, []int{0, 50, 100, 1000, 65535})))
	}
	if bs := g.bridgesFor(b, nil); len(bs) > 0 && g.chance(0.5) {
		g.port(b, pick(g, bs))
	} else {
		b.wantL3 = g.chance(0.7)
	}
	// At most 9000: a bond gives its MTU to its members, and a tap takes
	// no more than 65521.
	if g.chance(0.25) {
		b.mtu = pick(g, []int{1280, 1500, 9000})
		if g.opt.Population == VLANs && b.port != nil {
			b.mtu = pick(g, []int{1500, 9000})
		}
		b.set("mtu", g.int(b.mtu))
	}
	if g.chance(0.2) {
		b.mac = g.newMAC()
		b.set("mac", g.str(b.mac))
	}
}

// makeDummies adds up to two dummies: loopbacks with addresses, no routes.
func (g *gen) makeDummies() {
	for n := g.r.IntN(3); n > 0; n-- {
		d := g.add(&iface{kind: "dummy", ns: g.nsOrHost(0.3), noRoutes: true})
		d.name = g.ifName(d.ns, dummyWords)
		g.dummies = append(g.dummies, d)
		d.wantL3 = g.chance(0.9)
		g.link(d, true)
	}
}

type vrf struct {
	ns, name string
	table    int
	members  []*iface
}

// makeVRFs adds up to two VRFs, once addresses are known: members are
// interfaces of the VRF's namespace with addresses, no bridge port, no
// uplink, in no other VRF or bond, with explicit addresses (not pooled).
func (g *gen) makeVRFs() {
	tables := map[string]map[int]bool{}
	for n := g.r.IntN(3); n > 0; n-- {
		byNS := map[string][]*iface{}
		var nss []string
		for _, i := range g.ifaces {
			if len(i.addrs) == 0 || i.port != nil || i.kind == "uplink" || i.inVRF || i.member != nil || i.pooled || i.external {
				continue
			}
			if byNS[i.ns] == nil {
				nss = append(nss, i.ns)
			}
			byNS[i.ns] = append(byNS[i.ns], i)
		}
		if len(nss) == 0 {
			return
		}
		ns := pick(g, nss)
		v := &vrf{ns: ns, name: g.ifName(ns, vrfWords)}
		if tables[ns] == nil {
			tables[ns] = map[int]bool{}
		}
		for v.table == 0 || tables[ns][v.table] || (v.table >= 253 && v.table <= 255) {
			v.table = pick(g, []int{1, 10, 100, 1000, 4294967295, 1 + g.r.IntN(100000)})
		}
		tables[ns][v.table] = true
		for _, m := range shuffled(g, byNS[ns]) {
			if len(v.members) < 1+g.r.IntN(3) {
				m.inVRF = true
				v.members = append(v.members, m)
			}
		}
		g.vrfs = append(g.vrfs, v)
	}
}

// wireable reports whether i may be a wire's end: a tap, veth end, VLAN
// or uplink given by name, with nothing on it (no address, bridge, VLAN,
// bond; not external), in no other wire.
func (g *gen) wireable(i *iface) bool {
	switch i.kind {
	case "tap", "veth":
	case "vlan":
	case "uplink":
		if i.byMAC {
			return false
		}
	default:
		return false
	}
	return i.port == nil && !i.external && i.member == nil && len(i.vids) == 0 && !i.wire
}

// makeWires adds up to two wires, each between two interfaces of one
// namespace that no frame can already cross between (a wire closing a
// loop would make a broadcast storm).
func (g *gen) makeWires() {
	for n := g.r.IntN(3); n > 0; n-- {
		byNS := map[string][]*iface{}
		var nss []string
		for _, i := range g.ifaces {
			if g.wireable(i) {
				if byNS[i.ns] == nil {
					nss = append(nss, i.ns)
				}
				byNS[i.ns] = append(byNS[i.ns], i)
			}
		}
		var pairs [][2]*iface
		for _, ns := range nss {
			c := byNS[ns]
			for a := range c {
				for b := a + 1; b < len(c); b++ {
					if find(loopOf, c[a]) != find(loopOf, c[b]) {
						pairs = append(pairs, [2]*iface{c[a], c[b]})
					}
				}
			}
		}
		if len(pairs) == 0 {
			return
		}
		w := pick(g, pairs)
		for _, e := range w {
			e.wire, e.wantL3 = true, false
		}
		union(loopOf, w[0], w[1])
		union(segOf, w[0], w[1])
		g.wires = append(g.wires, w)
	}
}

// portSettings gives some bridge ports `port:` settings.
func (g *gen) portSettings(i *iface) {
	if !g.chance(0.3) {
		return
	}
	var f []field
	for len(f) == 0 {
		if g.chance(0.4) {
			f = append(f, field{"cost", g.int(pick(g, []int{1, 10, 100, 2000, 65535}))})
		}
		if g.chance(0.3) {
			f = append(f, field{"priority", g.int(pick(g, []int{0, 16, 32, 63}))})
		}
		for _, k := range []string{"isolated", "learning", "flood", "hairpin", "bpdu-guard", "root-guard"} {
			if g.chance(0.15) {
				f = append(f, field{k, g.bool(g.chance(0.5))})
			}
		}
	}
	i.set("port", g.mapping(f))
}

// netem impairs some veth entries (both ends), veth ends, taps and VLANs.
func (g *gen) netem() {
	for _, v := range g.veths {
		entry := v.asMap && g.chance(0.35)
		if entry {
			g.form("netem:entry")
			v.extra = append(v.extra, field{"netem", g.netemMap()})
		}
		for _, e := range v.ends {
			switch {
			case e.external:
			case entry && g.chance(0.15):
				// The entry's back for this end.
				g.form("netem:end-empty")
				e.set("netem", g.mapping(nil))
			case g.chance(0.12):
				g.form("netem:end")
				e.set("netem", g.netemMap())
			}
		}
	}
	for _, list := range [][]*iface{g.taps, g.vlans} {
		for _, i := range list {
			if g.chance(0.2) {
				i.set("netem", g.netemMap())
			}
		}
	}
}

func (g *gen) netemMap() *yaml.Node {
	var f []field
	delay := g.chance(0.5)
	if delay {
		f = append(f, field{"delay", g.str(pick(g, []string{"1ms", "40ms", "250us", "1.5s", "100ms"}))})
		if g.chance(0.4) {
			f = append(f, field{"jitter", g.str(pick(g, []string{"1ms", "5ms", "500us"}))})
		}
		if g.chance(0.3) {
			f = append(f, field{"reorder", g.str(percent(g))})
		}
	}
	for _, k := range []string{"loss", "duplicate", "corrupt"} {
		if g.chance(0.3) {
			f = append(f, field{k, g.str(percent(g))})
		}
	}
	if g.chance(0.35) {
		f = append(f, field{"rate", g.str(pick(g, []string{"64kbit", "10mbit", "1gbit", "2500bit"}))})
	}
	if g.chance(0.25) {
		f = append(f, field{"limit", g.int(pick(g, []int{1000, 10000, 10000000}))})
	}
	if len(f) == 0 {
		f = append(f, field{"loss", g.str(percent(g))})
	}
	return g.mapping(f)
}

func percent(g *gen) string {
	return pick(g, []string{"0%", "0.5%", "1%", "25%", "100%", fmt.Sprintf("%d%%", g.r.IntN(101))})
}

// moreSections are the top-level sections of the additions to version 1
// (those the generator wrote: none is empty).
func (g *gen) moreSections() []field {
	var top []field
	if g.dns != nil {
		top = append(top, field{"dns", g.dns})
	}
	named := func(i *iface) *yaml.Node {
		return g.mapping(append([]field{{"name", g.str(g.ref(i))}}, i.fields...))
	}
	var list []*yaml.Node
	for _, b := range shuffled(g, g.bonds) {
		list = append(list, named(b))
	}
	if len(list) > 0 {
		top = append(top, field{"bonds", g.seq(list...)})
	}
	list = nil
	for _, d := range shuffled(g, g.dummies) {
		list = append(list, named(d))
	}
	if len(list) > 0 {
		top = append(top, field{"dummies", g.seq(list...)})
	}
	list = nil
	for _, v := range shuffled(g, g.vrfs) {
		var refs []*yaml.Node
		for _, m := range v.members {
			refs = append(refs, g.str(g.ref(m)))
		}
		name := v.name
		if v.ns != "" {
			name = v.ns + ":" + name
		}
		list = append(list, g.mapping([]field{{"name", g.str(name)}, {"table", g.int(v.table)}, {"members", g.seq(refs...)}}))
	}
	if len(list) > 0 {
		top = append(top, field{"vrfs", g.seq(list...)})
	}
	list = nil
	for _, w := range shuffled(g, g.wires) {
		list = append(list, g.seq(g.str(g.ref(w[0])), g.str(g.ref(w[1]))))
	}
	if len(list) > 0 {
		top = append(top, field{"wires", g.seq(list...)})
	}
	var pools []field
	for _, p := range g.pools {
		pools = append(pools, field{p.name, p.node(g, g.opt.Block)})
	}
	if len(pools) > 0 {
		top = append(top, field{"pools", g.mapping(pools)})
	}
	return top
}
