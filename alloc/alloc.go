// Package alloc is automatic addressing: between validation and generation
// it turns a lab's `pools`, `pool:` keys, `addresses: auto` and `gateway:
// auto` into concrete addresses and gateways written on the lab itself (each
// with the position of the `auto` or `pool:` it came from, for diagnostics),
// so that the generator sees a lab as if its author had written every
// address out. `netgen expand` prints exactly that lab.
//
// Allocation is a function of the lab alone (no state on disk) and keeps
// addresses where they are when the lab grows or shrinks, wherever it can:
//
//   - Each pooled segment has an identity that does not depend on the rest
//     of the lab: "veth A B" for a cable (its two ends, sorted), "bridge BR"
//     (or "bridge BR vlan V" on a VLAN-aware bridge), "vlan NS:IF". Its
//     subnet is the one its identity hashes to (FNV-1a, 64 bits, modulo the
//     number of subnets of the pool), or the next free one after it:
//     segments are placed in the order of their identities, explicit
//     subnets first.
//   - On a segment, each interface's address is the one its name
//     ("NS:IF") hashes to in the subnet, or the next free one. Routers
//     (interfaces of namespaces that forward) come first and take the
//     lowest addresses, so that a LAN's gateway is its first address; on a
//     cable every end takes the lowest free address, routers first, then by
//     name.
//
// The alternative, numbering segments in sorted order, moves every segment
// that sorts after a new one. With hashing, adding a segment whose first
// choice is free moves nothing, and removing one moves only those that had
// probed past it: with a pool a tenth full, nine additions in ten move
// nothing at all. docs/lab-format.md states the rule for users.
package alloc

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math/big"
	"net/netip"
	"slices"
	"strings"

	"github.com/netgen-lab/netgen/diag"
	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/l2"
	"github.com/netgen-lab/netgen/schema"
)

// Result is what the allocator chose.
type Result struct {
	// Segments are the segments that take their subnet from a pool, sorted
	// by identity.
	Segments []*Segment
	// Ifaces are the automatic addresses and gateways of each interface.
	Ifaces map[schema.Key]*Auto
}

// Segment is one layer-2 segment that takes its subnet from a pool.
type Segment struct {
	// ID is the segment's identity, from which its subnet is derived.
	ID   string
	Pool string
	// Cable is set for a veth entry's segment.
	Cable bool
	// Subnets are the segment's subnets, IPv4 first; none when no interface
	// on it takes an automatic address.
	Subnets []netip.Prefix
	// First is the subnet number the identity hashes to; Index are the
	// numbers it got, one per subnet.
	First uint64
	Index []uint64
	// Members are the interfaces that take automatic addresses on it, sorted.
	Members []schema.Key
}

// Auto is what the allocator wrote on one interface.
type Auto struct {
	Key schema.Key
	// Addresses are the automatic addresses, IPv4 first.
	Addresses []netip.Prefix
	// Gateway is the address `gateway: auto` stands for; Default6 an IPv6
	// default route beside an IPv4 gateway (a dual-stack segment), added to
	// the interface's routes.
	Gateway, Default6 netip.Addr
	// Segment is the pooled segment of Addresses.
	Segment *Segment
	// Router is set for an interface of a namespace that forwards.
	Router bool
	// First is the address number (0 for the lowest usable address of the
	// subnet) the name hashes to; Slots are the numbers it got, one per
	// address.
	First uint64
	Slots []uint64
}

// Uses reports whether a lab uses automatic addressing at all.
func Uses(lab *schema.Lab) bool {
	if len(lab.Pools) > 0 {
		return true
	}
	auto := func(l *schema.L3) bool { return l.Auto.Set || l.GatewayAuto.Set }
	for _, v := range lab.Veths {
		if v.Pool.Set {
			return true
		}
		for _, e := range v.Ends {
			if e != nil && auto(&e.L3) {
				return true
			}
		}
	}
	for _, b := range lab.Bridges {
		if b.Pool.Set || auto(&b.L3) {
			return true
		}
	}
	for _, v := range lab.VLANs {
		if v.Pool.Set || auto(&v.L3) {
			return true
		}
	}
	for _, t := range lab.Taps {
		if auto(&t.L3) {
			return true
		}
	}
	return false
}

// Allocate chooses every automatic address and gateway of a valid lab and
// writes them on the lab. Problems (an exhausted pool, `auto` where no pool
// reaches) go to diags; the lab is then left as far as it got.
func Allocate(lab *schema.Lab, diags *diag.List) *Result {
	res := &Result{Ifaces: map[schema.Key]*Auto{}}
	if !Uses(lab) {
		return res
	}
	a := &allocator{lab: lab, d: diags, res: res, x: schema.NewIndex(lab),
		segs: map[l2.Port]*segment{}, links: map[schema.Key]*generator.Link{}, pools: map[string]*pool{},
		onSeg: map[l2.Port][]*schema.Iface{}}
	// The segments are the plan's: generating the lab as it is (without
	// its automatic addresses) is cheap next to parsing it, and port VLANs
	// then mean here exactly what they mean in the files.
	plan := generator.Generate(lab)
	for _, l := range plan.Links {
		a.links[schema.Key{NS: l.NS, If: l.Name}] = l
	}
	a.l2 = l2.New(plan)
	a.routers()
	for _, p := range lab.Pools {
		a.pools[p.Name.Value] = newPool(p)
	}
	a.claims()
	a.members()
	for _, p := range sortedPools(a.pools) {
		for _, f := range p.fams {
			a.subnets(p, f)
		}
	}
	for _, s := range a.sorted {
		a.hosts(s)
	}
	a.gateways()
	return res
}

type allocator struct {
	lab   *schema.Lab
	d     *diag.List
	res   *Result
	x     *schema.Index
	l2    *l2.Graph
	links map[schema.Key]*generator.Link
	pools map[string]*pool
	segs  map[l2.Port]*segment
	// sorted are the pooled segments by identity.
	sorted []*segment
	// onSeg are the interfaces with layer-3 settings on each segment.
	onSeg    map[l2.Port][]*schema.Iface
	forwards map[string][2]bool
}

// family is 0 for IPv4, 1 for IPv6.
type family int

func (f family) v6() bool { return f == 1 }

func (f family) String() string { return [...]string{"IPv4", "IPv6"}[f] }

func familyOf(a netip.Addr) family {
	if a.Is4() {
		return 0
	}
	return 1
}

// pool is a pool with what allocation needs of it.
type pool struct {
	p    *schema.Pool
	name string
	fams []family
	// space is how many subnets hashing spreads segments over: the
	// smaller family's count (a dual-stack segment gets the same number in
	// both), at most 2^32.
	space uint64
	// hosts is how many addresses a subnet gives out: the smaller family's.
	hosts uint64
}

func newPool(sp *schema.Pool) *pool {
	p := &pool{p: sp, name: sp.Name.Value, space: 1 << 32, hosts: 1 << 32}
	for _, f := range []family{0, 1} {
		r := sp.Range(f.v6())
		if !r.Set {
			continue
		}
		p.fams = append(p.fams, f)
		cut := sp.Cut(f.v6())
		if d := cut - r.Prefix.Bits(); d < 32 {
			p.space = min(p.space, 1<<d)
		}
		_, n := hostRange(f, cut)
		p.hosts = min(p.hosts, n)
	}
	return p
}

func sortedPools(m map[string]*pool) []*pool {
	out := make([]*pool, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *pool) int { return strings.Compare(a.name, b.name) })
	return out
}

// hostRange returns the first usable offset in a subnet of length cut and
// how many addresses it gives out: all of a /31 or /127 (RFC 3021, RFC
// 6164) and of a /32 or /128; otherwise an IPv4 subnet keeps its network
// and broadcast addresses and an IPv6 one its subnet-router anycast
// address (::0), and IPv6 stops at ::ffff, which keeps addresses short.
func hostRange(f family, cut int) (lo, count uint64) {
	bits := 32
	if f.v6() {
		bits = 128
	}
	h := bits - cut
	switch {
	case h == 0:
		return 0, 1
	case h == 1:
		return 0, 2
	case f.v6() && h >= 16:
		return 1, 1<<16 - 1
	case f.v6():
		return 1, 1<<h - 1
	}
	return 1, 1<<h - 2
}

type claim struct {
	id    string
	pool  *pool
	pos   schema.Pos
	cable bool
	what  string
}

type pin struct {
	set bool
	idx uint64
	pos schema.Pos
}

type segment struct {
	out    *Segment
	claims []claim
	pool   *pool
	pos    schema.Pos
	// members take automatic addresses on the segment.
	members []*member
	pins    [2]pin
	placed  [2]bool
	index   [2]uint64
	// taken are the address numbers explicit addresses hold.
	taken  [2]map[uint64]bool
	failed bool
}

type member struct {
	i    *schema.Iface
	l3   *schema.L3
	id   string
	pos  schema.Pos
	auto *Auto
}

// routers records which namespaces forward, per family: the lab's routers.
func (a *allocator) routers() {
	a.forwards = map[string][2]bool{}
	for _, ns := range a.lab.Namespaces {
		var f [2]bool
		for _, s := range ns.Sysctls {
			on := strings.TrimSpace(s.Value.Value) == "1"
			switch path, _ := schema.SysctlPath(s.Key.Value, nil); path {
			case "net/ipv4/ip_forward", "net/ipv4/conf/all/forwarding":
				f[0] = on
			case "net/ipv6/conf/all/forwarding":
				f[1] = on
			}
		}
		a.forwards[ns.Name.Value] = f
	}
}

func (a *allocator) isRouter(ns string) bool {
	f := a.forwards[ns]
	return ns != "" && (f[0] || f[1])
}

// claims finds the segment of every `pool:`.
func (a *allocator) claims() {
	add := func(l *generator.Link, vid int, domain bool, c claim) {
		if l == nil {
			return
		}
		root := a.l2.Find(l2.Port{L: l, VID: vid, Domain: domain})
		s := a.segs[root]
		if s == nil {
			s = &segment{}
			a.segs[root] = s
		}
		s.claims = append(s.claims, c)
	}
	for _, v := range a.lab.Veths {
		p := a.pools[v.Pool.Value]
		if !v.Pool.Set || p == nil {
			continue
		}
		k0, k1 := v.Ends[0].Name.Key(), v.Ends[1].Name.Key()
		if keyLess(k1, k0) {
			k0, k1 = k1, k0
		}
		add(a.links[k0], 0, false, claim{id: "veth " + k0.String() + " " + k1.String(), pool: p, pos: v.Pool.Pos, cable: true,
			what: fmt.Sprintf("the veth %s -- %s", k0, k1)})
	}
	for _, b := range a.lab.Bridges {
		p := a.pools[b.Pool.Value]
		if !b.Pool.Set || p == nil {
			continue
		}
		k := schema.Key{NS: b.NS(), If: b.Name.Value}
		l := a.links[k]
		if l == nil {
			continue
		}
		if !b.VLANFiltering.Value {
			add(l, 0, false, claim{id: "bridge " + k.String(), pool: p, pos: b.Pool.Pos, what: fmt.Sprintf("bridge %s", k)})
			continue
		}
		for _, vid := range a.l2.Domains(l) {
			add(l, vid, true, claim{id: fmt.Sprintf("bridge %s vlan %d", k, vid), pool: p, pos: b.Pool.Pos,
				what: fmt.Sprintf("VLAN %d of bridge %s", vid, k)})
		}
	}
	for _, v := range a.lab.VLANs {
		p := a.pools[v.Pool.Value]
		if !v.Pool.Set || p == nil {
			continue
		}
		add(a.links[v.Key()], 0, false, claim{id: "vlan " + v.Key().String(), pool: p, pos: v.Pool.Pos, what: fmt.Sprintf("VLAN %s", v.Key())})
	}
	for _, s := range a.segs {
		// The identity is the smallest claim's; a segment two claims make
		// (two bridges joined by a veth) takes one subnet, from one pool.
		slices.SortFunc(s.claims, func(x, y claim) int { return strings.Compare(x.id, y.id) })
		first := s.claims[0]
		s.pool, s.pos = first.pool, first.pos
		s.out = &Segment{ID: first.id, Pool: first.pool.name}
		for _, c := range s.claims {
			s.out.Cable = s.out.Cable || c.cable
			if c.pool != first.pool && !a.reported(c.pos) {
				other := first
				if c.pos.Before(first.pos) {
					c, other = other, c
				}
				a.d.Errorf(c.pos, "%s is on the same segment as %s, which takes its subnet from pool %q (line %d)", c.what, other.what, other.pool.name, other.pos.Line).Hint =
					"a segment has one subnet: give every pool: on it the same pool, or only one of them a pool"
			}
		}
		a.sorted = append(a.sorted, s)
	}
	slices.SortFunc(a.sorted, func(x, y *segment) int { return strings.Compare(x.out.ID, y.out.ID) })
	for _, s := range a.sorted {
		a.res.Segments = append(a.res.Segments, s.out)
	}
}

// reported is for errors two claims could both raise: once is enough.
func (a *allocator) reported(p schema.Pos) bool {
	for _, d := range a.d.Items {
		if d.Pos == p {
			return true
		}
	}
	return false
}

// members sorts every interface with layer-3 settings onto its segment:
// explicit addresses inside a pool pin their segment's subnet and keep their
// address; interfaces that take automatic addresses join the segment's
// members.
func (a *allocator) members() {
	for _, i := range a.x.Order {
		l3 := i.L3()
		if l3 == nil || i.External() {
			continue
		}
		if p := i.Port(); p != nil && p.Bridge.Set {
			continue
		}
		l := a.links[i.Key]
		if l == nil {
			continue
		}
		root := a.l2.Segment(l)
		a.onSeg[root] = append(a.onSeg[root], i)
		s := a.segs[root]
		for _, ad := range l3.Addresses {
			a.explicit(i, s, ad)
		}
		pos, want := wants(i)
		if !want {
			continue
		}
		if s == nil {
			a.d.Errorf(pos, "%s has `addresses: auto`, but no pool gives its segment a subnet", i.Key).Hint = a.noPoolHint(i, l)
			continue
		}
		m := &member{i: i, l3: l3, id: i.Key.String(), pos: pos,
			auto: &Auto{Key: i.Key, Segment: s.out, Router: a.isRouter(i.Key.NS)}}
		s.members = append(s.members, m)
		s.out.Members = append(s.out.Members, i.Key)
		a.res.Ifaces[i.Key] = m.auto
	}
	for _, s := range a.sorted {
		slices.SortFunc(s.out.Members, func(x, y schema.Key) int { return strings.Compare(x.String(), y.String()) })
	}
}

// wants reports whether an interface takes automatic addresses, and the
// position an error about them points at.
func wants(i *schema.Iface) (schema.Pos, bool) {
	l3 := i.L3()
	switch {
	case l3.Auto.Set:
		return l3.Auto.Pos, true
	case len(l3.Addresses) > 0:
		return schema.Pos{}, false
	case i.Kind == schema.KindVeth && i.Veth.Pool.Set:
		return i.Veth.Pool.Pos, true
	case i.Kind == schema.KindVLAN && i.VLAN.Pool.Set:
		return i.VLAN.Pool.Pos, true
	}
	return schema.Pos{}, false
}

func (a *allocator) noPoolHint(i *schema.Iface, l *generator.Link) string {
	switch {
	case i.Kind == schema.KindVeth && l.Peer != nil && l.Peer.Master != nil:
		return fmt.Sprintf("give bridge %q a pool (`pool: NAME`), or this end its own addresses", l.Peer.Master.Name)
	case i.Kind == schema.KindVeth:
		return "write the veth in map form with a pool: {ends: [...], pool: NAME}"
	case i.Kind == schema.KindVLAN:
		return "give the VLAN `pool: NAME`"
	case i.Kind == schema.KindBridge:
		return "give the bridge `pool: NAME`"
	}
	return "give its cable, bridge or VLAN `pool: NAME`, or write its addresses out"
}

// poolOf returns the pool whose range holds an address, if any.
func (a *allocator) poolOf(ad netip.Addr) *pool {
	for _, p := range sortedPools(a.pools) {
		for _, f := range p.fams {
			if r := p.p.Range(f.v6()); r.Prefix.Contains(ad) {
				return p
			}
		}
	}
	return nil
}

// explicit handles an address the lab writes out: inside its segment's pool
// it pins the segment's subnet and keeps its address from being handed out;
// inside another pool it is an error, since that pool gives its whole
// range to its own segments.
func (a *allocator) explicit(i *schema.Iface, s *segment, ad schema.Address) {
	p := a.poolOf(ad.Prefix.Addr())
	if p == nil {
		return
	}
	f := familyOf(ad.Prefix.Addr())
	rng := p.p.Range(f.v6()).Prefix
	if s == nil || s.pool != p {
		a.d.Errorf(ad.Pos, "address %s of %s is inside pool %q (%s), which %s's segment does not take its subnet from", ad.Prefix, i.Key, p.name, rng, i.Key).Hint =
			fmt.Sprintf("a pool's range belongs to its segments: pick an address outside %s, or give the segment `pool: %s`", rng, p.name)
		return
	}
	cut := p.p.Cut(f.v6())
	if ad.Prefix.Bits() != cut {
		a.d.Errorf(ad.Pos, "address %s is on a segment of pool %q, which cuts /%d subnets", ad.Prefix, p.name, cut).Hint =
			fmt.Sprintf("write it as %s/%d, or outside %s", ad.Prefix.Addr(), cut, rng)
		return
	}
	idx := indexOf(rng, cut, ad.Prefix.Addr())
	if pn := &s.pins[f]; pn.set && pn.idx != idx {
		a.d.Errorf(ad.Pos, "address %s puts the segment in subnet %s, but the address at line %d already put it in %s", ad.Prefix, ad.Prefix.Masked(), pn.pos.Line, subnetAt(rng, cut, pn.idx)).Hint =
			"a segment has one subnet from its pool"
		return
	} else if !pn.set {
		*pn = pin{set: true, idx: idx, pos: ad.Pos}
	}
	lo, n := hostRange(f, cut)
	off := new(big.Int).Sub(toBig(ad.Prefix.Addr()), toBig(ad.Prefix.Masked().Addr()))
	if off.IsUint64() && off.Uint64() >= lo && off.Uint64()-lo < n {
		if s.taken[f] == nil {
			s.taken[f] = map[uint64]bool{}
		}
		s.taken[f][off.Uint64()-lo] = true
	}
}

// subnets gives each segment of a pool its subnet in one family: explicit
// subnets first, then the others in the order of their identities, each at
// the number its identity hashes to or the next free one.
func (a *allocator) subnets(p *pool, f family) {
	rng, cut := p.p.Range(f.v6()).Prefix, p.p.Cut(f.v6())
	taken := map[uint64]*segment{}
	var rest []*segment
	for _, s := range a.sorted {
		if s.pool != p {
			continue
		}
		if pn := s.pins[f]; pn.set {
			if other := taken[pn.idx]; other != nil {
				a.d.Errorf(pn.pos, "subnet %s of pool %q is already the subnet of %s (line %d)", subnetAt(rng, cut, pn.idx), p.name, other.claims[0].what, other.pins[f].pos.Line).Hint =
					"two segments cannot share a subnet of a pool"
				continue
			}
			taken[pn.idx] = s
			s.index[f], s.placed[f] = pn.idx, true
			continue
		}
		if len(s.members) > 0 {
			rest = append(rest, s)
		}
	}
	failed := 0
	var first *segment
	var firstWhat string
	for _, s := range rest {
		if s.failed {
			continue // the other family's error says it
		}
		start := hash(s.out.ID) % p.space
		s.out.First = start
		if o := s.pins[1-f]; o.set && o.idx < p.space {
			// A segment pinned in the other family takes the same number
			// in this one when it can: 10.1.7.0/24 with 2001:db8:1:7::/64.
			start = o.idx
		}
		idx, ok := probe(start, p.space, func(i uint64) bool { return taken[i] == nil })
		if !ok {
			s.failed = true
			failed++
			if first == nil {
				first, firstWhat = s, s.claims[0].what
			}
			continue
		}
		taken[idx] = s
		s.index[f], s.placed[f] = idx, true
	}
	if first != nil {
		dg := a.d.Errorf(first.pos, "pool %q has no /%d subnet of %s left for %s", p.name, cut, rng, firstWhat)
		dg.Hint = fmt.Sprintf("widen %s, or cut smaller subnets: its %d subnets are taken", rng, len(taken))
		if failed > 1 {
			dg.Message += fmt.Sprintf(" (%d segments go without)", failed)
		}
	}
}

// probe returns the first number from start on (wrapping around) that free
// accepts.
func probe(start, space uint64, free func(uint64) bool) (uint64, bool) {
	for k := uint64(0); k < space; k++ {
		if i := (start + k) % space; free(i) {
			return i, true
		}
	}
	return 0, false
}

// hosts gives every member of a segment its addresses.
func (a *allocator) hosts(s *segment) {
	if len(s.members) == 0 || s.failed {
		return
	}
	p := s.pool
	// Routers first, on the lowest addresses; then the others, by name.
	order := slices.Clone(s.members)
	slices.SortStableFunc(order, func(x, y *member) int {
		return cmp.Or(-cmp.Compare(b2i(x.auto.Router), b2i(y.auto.Router)), strings.Compare(x.id, y.id))
	})
	for _, m := range order {
		m.auto.First = hash(m.id) % p.hosts
	}
	for _, f := range p.fams {
		if !s.placed[f] {
			continue
		}
		rng, cut := p.p.Range(f.v6()).Prefix, p.p.Cut(f.v6())
		subnet := subnetAt(rng, cut, s.index[f])
		s.out.Subnets = append(s.out.Subnets, subnet)
		s.out.Index = append(s.out.Index, s.index[f])
		lo, _ := hostRange(f, cut)
		taken := map[uint64]bool{}
		for k := range s.taken[f] {
			taken[k] = true
		}
		free := func(i uint64) bool { return !taken[i] }
		for _, m := range order {
			start := m.auto.First
			if m.auto.Router || s.out.Cable {
				start = 0
			}
			slot, ok := probe(start, p.hosts, free)
			if !ok {
				a.d.Errorf(m.pos, "no address left in %s for %s: its %d addresses are taken", subnet, m.i.Key, p.hosts).Hint =
					fmt.Sprintf("give pool %q larger subnets (a shorter prefix)", p.name)
				break
			}
			taken[slot] = true
			ad := netip.PrefixFrom(addrAdd(subnet.Addr(), new(big.Int).SetUint64(lo+slot)), cut)
			m.auto.Addresses = append(m.auto.Addresses, ad)
			m.auto.Slots = append(m.auto.Slots, slot)
			m.l3.Addresses = append(m.l3.Addresses, schema.Address{Prefix: ad, Pos: m.pos})
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// gateways resolves `gateway: auto`: per family, the lowest address on the
// interface's segment, in one of its subnets, of another namespace that
// forwards that family.
func (a *allocator) gateways() {
	for _, i := range a.x.Order {
		l3 := i.L3()
		if l3 == nil || !l3.GatewayAuto.Set || i.External() {
			continue
		}
		if p := i.Port(); p != nil && p.Bridge.Set {
			continue
		}
		l := a.links[i.Key]
		if l == nil {
			continue
		}
		at := l3.GatewayAuto.Pos
		if len(l3.Addresses) == 0 {
			if !l3.Auto.Set { // an automatic address already has its own error
				a.d.Errorf(at, "`gateway: auto` on %s needs an address on its segment", i.Key).Hint = "give it `addresses: auto` or addresses of its own"
			}
			continue
		}
		var best [2]netip.Addr
		var routers []string
		for _, o := range a.onSeg[a.l2.Segment(l)] {
			if o.Key.NS == i.Key.NS || !a.isRouter(o.Key.NS) {
				continue
			}
			routers = append(routers, o.Key.String())
			for _, ad := range o.L3().Addresses {
				f := familyOf(ad.Prefix.Addr())
				if !a.forwards[o.Key.NS][f] || !schema.OnLink(l3, ad.Prefix.Addr()) || ad.Prefix.Addr().IsLinkLocalUnicast() {
					continue
				}
				if !best[f].IsValid() || ad.Prefix.Addr().Less(best[f]) {
					best[f] = ad.Prefix.Addr()
				}
			}
		}
		// A family whose default route the lab writes out keeps it.
		for _, r := range l3.Routes {
			if dst, ok := defaultFamily(r); ok {
				best[dst] = netip.Addr{}
			}
		}
		au := a.res.Ifaces[i.Key]
		if au == nil {
			au = &Auto{Key: i.Key, Router: a.isRouter(i.Key.NS)}
			a.res.Ifaces[i.Key] = au
		}
		switch {
		case best[0].IsValid():
			au.Gateway = best[0]
			au.Default6 = best[1]
		case best[1].IsValid():
			au.Gateway = best[1]
		case len(routers) == 0:
			a.d.Errorf(at, "`gateway: auto` on %s finds no router on its segment", i.Key).Hint =
				"a router is a namespace that forwards (sysctl net.ipv4.ip_forward: 1 or net.ipv6.conf.all.forwarding: 1) with an address on the segment"
			continue
		default:
			a.d.Errorf(at, "`gateway: auto` on %s finds no router address in its subnets", i.Key).Hint =
				fmt.Sprintf("on the segment: %s; a router's address counts when it is in a subnet of %s and its namespace forwards its family", strings.Join(routers, ", "), i.Key)
			continue
		}
		l3.Gateway = schema.IP{Addr: au.Gateway, Pos: at, Set: true}
		if au.Default6.IsValid() {
			l3.Routes = append(l3.Routes, schema.Route{Pos: at, Default: true, ToPos: at, Via: schema.IP{Addr: au.Default6, Pos: at, Set: true}})
		}
	}
}

// defaultFamily reports the family of a default route.
func defaultFamily(r schema.Route) (family, bool) {
	switch {
	case r.Default && r.Via.Set:
		return familyOf(r.Via.Addr), true
	case !r.Default && r.To.IsValid() && r.To.Bits() == 0:
		return familyOf(r.To.Addr()), true
	}
	return 0, false
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func keyLess(a, b schema.Key) bool {
	if a.NS != b.NS {
		return a.NS < b.NS
	}
	return a.If < b.If
}

func toBig(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }

// addrAdd returns a + off; off keeps the result inside the address's pool.
func addrAdd(a netip.Addr, off *big.Int) netip.Addr {
	n := toBig(a)
	n.Add(n, off)
	out, _ := netip.AddrFromSlice(n.FillBytes(make([]byte, a.BitLen()/8)))
	return out
}

// subnetAt is subnet number idx of length cut in rng.
func subnetAt(rng netip.Prefix, cut int, idx uint64) netip.Prefix {
	off := new(big.Int).Lsh(new(big.Int).SetUint64(idx), uint(rng.Addr().BitLen()-cut))
	return netip.PrefixFrom(addrAdd(rng.Addr(), off), cut)
}

// indexOf is the number of the subnet of length cut in rng that holds ad.
func indexOf(rng netip.Prefix, cut int, ad netip.Addr) uint64 {
	off := new(big.Int).Sub(toBig(ad), toBig(rng.Addr()))
	return off.Rsh(off, uint(ad.BitLen()-cut)).Uint64()
}
