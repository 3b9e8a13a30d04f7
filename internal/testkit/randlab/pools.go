package randlab

import (
	"net/netip"

	"gopkg.in/yaml.v3"
)

// Automatic addressing: some segments take their subnet from a pool
// instead of explicit addresses. Pool k of a lab owns 10.BLOCK.(128+16k).0/20
// and fd00:0:BLOCK:(80+k)00::/56, which no explicit address of the lab
// touches (those stay below 10.BLOCK.128.0 and fd00:0:BLOCK:100::), so a
// pool never meets an explicit address. A pooled segment is one the
// generator is sure netgen sees as it does: a cable (pool on the veth
// entry), a bridge's segment (pool on a bridge, `addresses: auto` on every
// interface that wants addresses), or a VLAN alone on its tag (pool on the
// VLAN); never one with a wire, a bond member, a VLAN-aware bridge or a
// VLAN in it, whose segments the generator does not model.

type pool struct {
	name            string
	k               int
	prefix, prefix6 int
	v4, v6          bool
	subnets         int
}

// hosts is how many addresses one of the pool's subnets holds.
func (p *pool) hosts() int {
	switch {
	case p.v4 && p.prefix >= 31:
		return 2 // /31: both (RFC 3021)
	case p.v4:
		return 1<<(32-p.prefix) - 2
	case p.prefix6 >= 127:
		return 2
	}
	return 250
}

// free reports whether the pool has a subnet left.
func (p *pool) free() bool {
	if p.v4 {
		return p.subnets < 1<<(p.prefix-20)
	}
	return p.subnets < 256
}

var poolNames = []string{"lan", "p2p", "core_1", "wan-2"}

// poolFor returns a pool with a free subnet of at least n addresses, IPv6
// only if v6 may; nil when the lab has four pools and none fits.
func (g *gen) poolFor(n int, v6 bool) *pool {
	for _, p := range shuffled(g, g.pools) {
		if p.free() && p.hosts() >= n && (!p.v6 || v6) && g.chance(0.6) {
			return p
		}
	}
	if len(g.pools) == len(poolNames) {
		return nil
	}
	p := &pool{name: poolNames[len(g.pools)], k: len(g.pools), prefix: 24, prefix6: 64, v4: true}
	switch {
	case v6 && g.chance(0.15):
		p.v4, p.v6 = false, true
	case v6 && g.chance(0.5):
		p.v6 = true
	}
	var sizes []int
	for _, s := range []int{24, 24, 26, 28, 29, 30, 31} {
		if s < 31 && 1<<(32-s)-2 >= n || s == 31 && n <= 2 {
			sizes = append(sizes, s)
		}
	}
	if len(sizes) == 0 {
		return nil
	}
	p.prefix = pick(g, sizes)
	if p.prefix == 31 {
		g.form("pool:p2p")
		p.prefix6 = 127
	} else if g.chance(0.2) {
		p.prefix6 = 120
	}
	if !p.v4 && p.prefix6 == 127 && n > 2 {
		p.prefix6 = 64
	}
	g.pools = append(g.pools, p)
	return p
}

func (p *pool) node(g *gen, block int) *yaml.Node {
	var f []field
	if p.v4 {
		f = append(f, field{"ipv4", g.str(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(block), byte(128 + 16*p.k), 0}), 20).String())})
		if p.prefix != 24 || g.chance(0.5) {
			f = append(f, field{"prefix", g.int(p.prefix)})
		}
	}
	if p.v6 {
		bits := 56
		if p.prefix6 == 127 {
			bits = 112
		}
		a := netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, byte(block), byte(0x80 + p.k)})
		f = append(f, field{"ipv6", g.str(netip.PrefixFrom(a, bits).String())})
		if p.prefix6 != 64 || g.chance(0.5) {
			f = append(f, field{"prefix6", g.int(p.prefix6)})
		}
	}
	return g.mapping(f)
}

// pooling decides which segments take a pool, before the address pass
// (which then leaves their interfaces alone).
func (g *gen) pooling() {
	var order []*iface
	segs := map[*iface][]*iface{}
	for _, i := range g.ifaces {
		r := find(segOf, i)
		if segs[r] == nil {
			order = append(order, r)
		}
		segs[r] = append(segs[r], i)
	}
	for _, r := range order {
		seg := segs[r]
		ok, bridges := true, []*iface(nil)
		for _, i := range seg {
			if i.wire || i.member != nil || len(i.vids) > 0 || i.filtering || (i.kind == "vlan" && len(seg) > 1) || i.kind == "bond" {
				ok = false
			}
			if i.kind == "bridge" {
				bridges = append(bridges, i)
			}
		}
		if !ok || !g.chance(0.3) {
			continue
		}
		switch {
		case len(bridges) > 0:
			var want []*iface
			for _, i := range seg {
				if i.wantL3 {
					want = append(want, i)
				}
			}
			p := g.poolFor(len(want), g.allV6(want))
			if p == nil {
				continue
			}
			g.form("pool:bridge")
			pick(g, bridges).set("pool", g.str(p.name))
			p.subnets++
			for _, i := range want {
				g.pooled(i, true)
			}
			g.autoGateways(want, p)
		case len(seg) == 2 && seg[0].kind == "veth" && seg[0].peer == seg[1]:
			var v *veth
			for _, x := range g.veths {
				if x.ends[0] == seg[0] || x.ends[1] == seg[0] {
					v = x
				}
			}
			if !v.asMap || seg[0].external || seg[1].external || seg[0].port != nil || seg[1].port != nil {
				continue
			}
			p := g.poolFor(2, g.allV6(seg))
			if p == nil {
				continue
			}
			g.form("pool:veth")
			v.extra = append(v.extra, field{"pool", g.str(p.name)})
			p.subnets++
			for _, e := range seg {
				auto := g.chance(0.2)
				if auto {
					g.form("pool:veth-end-auto")
				}
				g.pooled(e, auto)
			}
			g.autoGateways(seg, p)
		case len(seg) == 1 && seg[0].kind == "vlan" && seg[0].wantL3 && seg[0].port == nil && g.aloneOnTag(seg[0]):
			v := seg[0]
			p := g.poolFor(1, g.allV6(seg))
			if p == nil {
				continue
			}
			g.form("pool:vlan")
			v.set("pool", g.str(p.name))
			p.subnets++
			g.pooled(v, false)
		}
	}
}

func (g *gen) allV6(list []*iface) bool {
	for _, i := range list {
		if !g.v6ok(i) {
			return false
		}
	}
	return true
}

// aloneOnTag reports whether no other VLAN of v's tag can meet v (none on
// anything a frame can reach from v), and no VLAN-aware bridge can.
func (g *gen) aloneOnTag(v *iface) bool {
	for _, i := range g.ifaces {
		if find(loopOf, i) != find(loopOf, v) {
			continue
		}
		if i.filtering || (i != v && i.kind == "vlan" && i.vid == v.vid) {
			return false
		}
	}
	return true
}

// pooled marks i as addressed from its segment's pool; auto: it says
// `addresses: auto`.
func (g *gen) pooled(i *iface, auto bool) {
	i.wantL3, i.pooled, i.auto = false, true, auto
	if auto {
		g.form("addr:auto")
		i.set("addresses", g.plain("auto"))
	}
}

// autoGateways gives some interfaces of a pooled segment `gateway: auto`,
// making another namespace on the segment a router (it forwards).
func (g *gen) autoGateways(seg []*iface, p *pool) {
	for _, i := range seg {
		if !g.chance(0.4) || (i.ns == "" && g.opt.NoHostDefaults) {
			continue
		}
		var routers []*iface
		for _, o := range seg {
			if o.ns != "" && o.ns != i.ns {
				routers = append(routers, o)
			}
		}
		if len(routers) == 0 {
			continue
		}
		if (p.v4 && !g.claim(i.ns, default4, 0)) || (p.v6 && !g.claim(i.ns, default6, 0)) {
			continue
		}
		r := pick(g, routers)
		for _, ns := range g.nss {
			if ns.name == r.ns {
				ns.forward4 = ns.forward4 || p.v4
				ns.forward6 = ns.forward6 || p.v6
			}
		}
		g.form("gateway:auto")
		i.set("gateway", g.str("auto"))
	}
}

// masquerade makes some interfaces with explicit addresses masquerade.
func (g *gen) masquerade() {
	for _, i := range g.ifaces {
		switch i.kind {
		case "veth", "bridge", "tap", "vlan", "bond":
		default:
			continue
		}
		if len(i.addrs) == 0 || i.external || i.inVRF || !g.chance(0.12) {
			continue
		}
		v4, v6 := false, false
		for _, a := range i.addrs {
			v4, v6 = v4 || a.Addr().Is4(), v6 || a.Addr().Is6()
		}
		choices := []string{"false"}
		if v4 && v6 {
			choices = append(choices, "true")
		}
		if v4 {
			choices = append(choices, "ipv4")
		}
		if v6 {
			choices = append(choices, "ipv6")
		}
		c := pick(g, choices)
		switch c {
		case "true", "false":
			// A boolean, never yes/no: the key also takes words.
			i.set("masquerade", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: c})
		default:
			i.set("masquerade", g.str(c))
		}
		g.form("masquerade:" + c)
		for _, ns := range g.nss {
			if ns.name == i.ns && c != "false" {
				ns.forward4 = ns.forward4 || c == "true" || c == "ipv4"
				ns.forward6 = ns.forward6 || c == "true" || c == "ipv6"
			}
		}
	}
}
