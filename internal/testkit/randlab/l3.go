package randlab

import (
	"fmt"
	"net/netip"

	"gopkg.in/yaml.v3"
)

// subnet hands out the host addresses of one prefix: host(1), host(2), ...
type subnet struct {
	pfx   netip.Prefix
	first netip.Addr // host(1)
	cap   int        // how many hosts it has (at most 250)
	n     int        // how many it handed out
}

func (s *subnet) host(k int) netip.Addr {
	a := s.first
	for ; k > 1; k-- {
		a = a.Next()
	}
	return a
}

func (s *subnet) next() netip.Prefix {
	s.n++
	return netip.PrefixFrom(s.host(s.n), s.pfx.Bits())
}

// reserved is a host address nobody has (a gateway that is not one of
// the lab's interfaces), if the subnet has one left.
func (s *subnet) reserved() (netip.Addr, bool) {
	if s.cap <= s.n {
		return netip.Addr{}, false
	}
	return s.host(s.cap), true
}

// newSubnet is the subnet of a new segment for n hosts (and a spare one
// for a gateway when it can): 10.BLOCK.SEG.0/24 or fd00:0:BLOCK:SEG::/64,
// or a longer prefix inside them.
func (g *gen) newSubnet(v6 bool, n int) *subnet {
	g.segs++
	seg := g.segs % 256
	if n == 1 && g.chance(0.08) {
		// A host prefix: every gateway is off the subnet (on-link).
		g.form("addr:host-prefix")
		if !v6 {
			a := netip.AddrFrom4([4]byte{10, byte(g.opt.Block), byte(seg), 1})
			return &subnet{pfx: netip.PrefixFrom(a, 32), first: a, cap: 1}
		}
		a := netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, byte(g.opt.Block), 0, byte(seg), 15: 1})
		return &subnet{pfx: netip.PrefixFrom(a, 128), first: a, cap: 1}
	}
	if !v6 {
		bits := pick(g, []int{24, 24, 24, 25, 26, 27, 28, 29, 30})
		if n <= 2 && g.chance(0.15) {
			g.form("addr:p2p")
			base := netip.AddrFrom4([4]byte{10, byte(g.opt.Block), byte(seg), 2})
			return &subnet{pfx: netip.PrefixFrom(base, 31), first: base, cap: 2}
		}
		for 1<<(32-bits)-2 < n+1 {
			bits--
		}
		base := netip.AddrFrom4([4]byte{10, byte(g.opt.Block), byte(seg), 0})
		return &subnet{pfx: netip.PrefixFrom(base, bits), first: base.Next(), cap: min(1<<(32-bits)-2, 250)}
	}
	b := [16]byte{0xfd, 0, 0, 0, 0, byte(g.opt.Block), 0, byte(seg)}
	if n <= 2 && g.chance(0.15) {
		g.form("addr:p2p")
		b[15] = 2
		base := netip.AddrFrom16(b)
		return &subnet{pfx: netip.PrefixFrom(base, 127), first: base, cap: 2}
	}
	bits := pick(g, []int{64, 64, 64, 80, 96, 112, 120, 124, 126})
	for bits > 120 && 1<<(128-bits)-1 < n+1 {
		bits--
	}
	base := netip.AddrFrom16(b)
	return &subnet{pfx: netip.PrefixFrom(base, bits), first: base.Next(), cap: min(1<<min(128-bits, 16)-1, 250)}
}

// l3 is what the address pass decided for one interface.
type l3 struct {
	i      *iface
	v4, v6 *subnet
	addrs  []netip.Prefix
}

// addresses gives every interface that wants layer 3 its addresses, one
// subnet of each family per segment, then gateways and routes (which need
// every address of the segment known).
func (g *gen) addresses() {
	var order []*iface
	members := map[*iface][]*l3{}
	for _, i := range g.ifaces {
		if !i.wantL3 {
			continue
		}
		r := find(segOf, i)
		if members[r] == nil {
			order = append(order, r)
		}
		members[r] = append(members[r], &l3{i: i})
	}
	for _, r := range order {
		ms := members[r]
		var n4, n6 int
		want := make([][2]bool, len(ms))
		for k, m := range ms {
			v4, v6 := g.chance(0.85), g.v6ok(m.i) && g.chance(0.5)
			if !v4 && !v6 && !g.chance(0.1) {
				v4 = true
			}
			want[k] = [2]bool{v4, v6}
			if v4 {
				n4++
			}
			if v6 {
				n6++
			}
		}
		var s4, s6 *subnet
		if n4 > 0 {
			s4 = g.newSubnet(false, n4)
		}
		if n6 > 0 {
			s6 = g.newSubnet(true, n6)
		}
		for k, m := range ms {
			if want[k][0] {
				m.v4 = s4
				m.addrs = append(m.addrs, s4.next())
				g.form("addr:v4")
			}
			if want[k][1] {
				m.v6 = s6
				m.addrs = append(m.addrs, s6.next())
				g.form("addr:v6")
			}
			if g.chance(0.06) {
				g.form("addr:secondary")
				m.addrs = append(m.addrs, g.newSubnet(false, 1).next())
			}
		}
	}
	for _, r := range order {
		for _, m := range members[r] {
			g.gatewayAndRoutes(m, members[r])
		}
	}
}

// neighbours are the addresses a route of m may go via: the segment's
// other hosts of that family in other namespaces (a gateway that is an
// address of its own namespace is no other host: the validator refuses it,
// the kernel too for IPv6) and the segment's spare address.
func (g *gen) neighbours(m *l3, seg []*l3, v6 bool) []netip.Addr {
	s := m.v4
	if v6 {
		s = m.v6
	}
	if s == nil {
		return nil
	}
	var out []netip.Addr
	for _, o := range seg {
		if o.i.ns == m.i.ns {
			continue
		}
		for _, a := range o.addrs {
			if o != m && s.pfx.Contains(a.Addr()) {
				out = append(out, a.Addr())
			}
		}
	}
	if a, ok := s.reserved(); ok {
		out = append(out, a)
	}
	return out
}

// claim records a route of namespace ns; false when the namespace has one
// to that destination with that metric already (the kernel refuses a
// second: File exists).
func (g *gen) claim(ns string, to netip.Prefix, metric int) bool {
	if to.Addr().Is6() && metric == 0 {
		metric = 1024 // the kernel's default for IPv6 routes
	}
	key := fmt.Sprintf("%s|%s|%d", ns, to, metric)
	if g.routes[key] {
		return false
	}
	g.routes[key] = true
	return true
}

var (
	default4 = netip.MustParsePrefix("0.0.0.0/0")
	default6 = netip.MustParsePrefix("::/0")
	linkLoc  = netip.MustParseAddr("fe80::1")
)

// dst is a new route destination: a /28 of 198.18.0.0/15 or a /64 of
// 2001:db8::/32, none shared with any subnet or other route.
func (g *gen) dst(v6 bool) (netip.Prefix, bool) {
	g.dsts++
	d := g.dsts
	if v6 {
		b := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(g.opt.Block), byte(d >> 8), byte(d)}
		return netip.PrefixFrom(netip.AddrFrom16(b), 64), true
	}
	if d >= 32 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{198, byte(18 + d/16), byte(g.opt.Block), byte(16 * (d % 16))}), 28), true
}

// llOK reports whether m may have a link-local gateway: it has IPv6. (A
// host link without addresses once made networkd warn; render now writes
// GatewayOnLink= there: randlab-found 009, fixed.)
func (g *gen) llOK(m *l3) bool {
	return g.v6ok(m.i)
}

func (g *gen) gatewayAndRoutes(m *l3, seg []*l3) {
	i := m.i
	noDefault := i.ns == "" && g.opt.NoHostDefaults
	if len(m.addrs) > 0 {
		var nodes []*yaml.Node
		for _, a := range shuffled(g, m.addrs) {
			nodes = append(nodes, g.str(a.String()))
		}
		i.set("addresses", g.seq(nodes...))
	}
	i.addrs = m.addrs
	if i.noRoutes {
		return
	}
	if !noDefault && g.chance(0.35) {
		type choice struct {
			gw   netip.Addr
			form string
		}
		var choices []choice
		if n := g.neighbours(m, seg, false); len(n) > 0 {
			choices = append(choices, choice{pick(g, n), "gateway:v4"})
		}
		if n := g.neighbours(m, seg, true); len(n) > 0 {
			choices = append(choices, choice{pick(g, n), "gateway:v6"})
		}
		if g.llOK(m) && g.chance(0.2) {
			choices = append(choices, choice{linkLoc, "gateway:link-local"})
		}
		if m.v4 != nil && g.chance(0.06) {
			// Outside every subnet: a warning, and an on-link route.
			choices = append(choices, choice{netip.AddrFrom4([4]byte{10, byte(g.opt.Block), 255, 1}), "gateway:on-link"})
		}
		if len(choices) > 0 {
			c := pick(g, choices)
			to := default4
			if c.gw.Is6() {
				to = default6
			}
			if g.claim(i.ns, to, 0) {
				g.form(c.form)
				i.set("gateway", g.str(c.gw.String()))
			}
		}
	}
	if !g.chance(0.3) {
		return
	}
	var routes []*yaml.Node
	for n := 1 + g.r.IntN(2); n > 0; n-- {
		v6 := m.v4 == nil || (m.v6 != nil && g.chance(0.5))
		if m.v4 == nil && m.v6 == nil && !g.v6ok(i) {
			return
		}
		vias := g.neighbours(m, seg, v6)
		if v6 && g.llOK(m) && g.chance(0.15) {
			vias = append(vias, linkLoc)
		}
		var r []field
		metric := 0
		if g.chance(0.35) {
			metric = pick(g, []int{0, 1, 10, 100, 4294967295})
			r = append(r, field{"metric", g.int(metric)})
		}
		via := func() bool {
			if len(vias) == 0 {
				return false
			}
			a := pick(g, vias)
			if a == linkLoc {
				g.form("route:link-local-via")
			}
			r = append(r, field{"via", g.str(a.String())})
			return true
		}
		switch kind := g.r.IntN(4); {
		case kind == 0 && !noDefault:
			to := default4
			if v6 {
				to = default6
			}
			if !g.claim(i.ns, to, metric) {
				continue
			}
			if via() {
				g.form("route:default")
				r = append(r, field{"to", g.str("default")})
			} else {
				g.form("route:device")
				r = append(r, field{"to", g.str(to.String())})
			}
		case kind == 1:
			d, ok := g.dst(v6)
			if !ok || !g.claim(i.ns, d, metric) {
				continue
			}
			g.form("route:host")
			host := d.Addr().Next()
			r = append(r, field{"to", g.str(host.String())})
			via()
		default:
			d, ok := g.dst(v6)
			if !ok || !g.claim(i.ns, d, metric) {
				continue
			}
			r = append(r, field{"to", g.str(d.String())})
			if via() {
				g.form("route:cidr")
			} else {
				g.form("route:device")
			}
		}
		if metric != 0 {
			g.form("route:metric")
		}
		routes = append(routes, g.mapping(r))
	}
	if len(routes) > 0 {
		i.set("routes", g.seq(routes...))
	}
}

func shuffled[T any](g *gen, list []T) []T {
	out := append([]T(nil), list...)
	g.r.Shuffle(len(out), func(a, b int) { out[a], out[b] = out[b], out[a] })
	return out
}
