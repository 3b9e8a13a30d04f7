package schema

import (
	"fmt"
	"net/netip"
	"strings"
)

// MinIPv6MTU is the smallest MTU IPv6 runs on (RFC 8200): below it the
// kernel switches IPv6 off on the link and refuses its addresses.
const MinIPv6MTU = 1280

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// l3 checks the addresses of one interface, and what its gateway and routes
// say on their own. routes and ipv6 check them against the whole lab once
// every address is known.
func (v *validator) l3(key Key, l *L3) {
	v.l3s = append(v.l3s, l3Use{key, l})
	for _, a := range l.Addresses {
		if !v.address(a) {
			continue
		}
		ip := a.Prefix.Addr()
		if first, dup := v.addrs[ip]; dup {
			where := fmt.Sprintf("%s in %s", first.key.If, nsLabel(first.key.NS))
			if first.key == key {
				where = "this interface"
			}
			v.errorf(a.Pos, "address %s is already on %s", ip, where).Hint = fmt.Sprintf("first given at line %d; every address of a lab is unique", first.pos.Line)
			continue
		}
		v.addrs[ip] = addrUse{key, a.Pos}
	}
	for _, r := range l.Routes {
		if r.Default && !r.Via.Set {
			v.errorf(r.ToPos, "a default route needs `via:`").Hint = "or write the destination as 0.0.0.0/0 or ::/0 for a route out of the interface"
		}
		if r.Via.Set && !r.Default && r.To.IsValid() && r.Via.Addr.Is4() != r.To.Addr().Is4() {
			v.errorf(r.Via.Pos, "route to %s (IPv%d) cannot go via %s (IPv%d)", r.To, ipv(r.To.Addr()), r.Via.Addr, ipv(r.Via.Addr))
		}
		if r.Metric.Set && (r.Metric.Value < 0 || int64(r.Metric.Value) > 0xffffffff) {
			v.errorf(r.Metric.Pos, "metric %d is out of range 0-4294967295", r.Metric.Value)
		}
	}
}

// address checks one interface address on its own; false when it is no
// address an interface can have.
func (v *validator) address(a Address) bool {
	ip, p := a.Prefix.Addr(), a.Prefix
	switch {
	case ip.IsUnspecified():
		v.errorf(a.Pos, "%s is the unspecified address, not an interface address", p)
		return false
	case ip.IsMulticast():
		v.errorf(a.Pos, "%s is a multicast address, not an interface address", p)
		return false
	case p.Bits() == 0:
		v.errorf(a.Pos, "address %s has prefix length 0", p).Hint = "did you mean /24 (IPv4) or /64 (IPv6)?"
		return false
	case ip.IsLoopback():
		// The kernel refuses ::1 on any link but lo, and takes 127.0.0.0/8
		// but drops every packet from or to it off lo as a martian.
		v.errorf(a.Pos, "%s is a loopback address: only lo has those", p).Hint = "every namespace has lo with 127.0.0.1 and ::1 (`loopback: true`); pick an address of the lab's subnets"
		return false
	case ip == limitedBroadcast:
		v.errorf(a.Pos, "%s is the broadcast address of every IPv4 subnet, not an interface address", p)
		return false
	}
	if ip.Is4() && p.Bits() <= 30 {
		switch ip {
		case broadcast(p):
			// The kernel takes it, then answers neither ARP nor ping on it:
			// the address is a broadcast route of the namespace as well.
			v.errorf(a.Pos, "%s is the broadcast address of %s, not a host address", p, p.Masked()).Hint =
				fmt.Sprintf("the hosts of %s are %s to %s", p.Masked(), p.Masked().Addr().Next(), broadcast(p).Prev())
			return false
		case p.Masked().Addr():
			v.warnf(a.Pos, "%s is the network address of %s: Linux takes it as a host address, most other systems do not", p, p.Masked()).Hint =
				fmt.Sprintf("did you mean %s/%d?", ip.Next(), p.Bits())
		}
	}
	return true
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(a)
}

func ipv(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// OnLink reports whether a gateway lies in a subnet of the interface (IPv6
// link-local gateways always do).
func OnLink(l *L3, gw netip.Addr) bool {
	if gw.Is6() && gw.IsLinkLocalUnicast() {
		return true
	}
	for _, a := range l.Addresses {
		if a.Prefix.Masked().Contains(gw) {
			return true
		}
	}
	return false
}

// routeKey is what makes a route unique in a routing table: the
// destination and the metric (one route per pair; `ip route add` of a
// second fails with "File exists", for IPv4 and IPv6 alike). table is the
// namespace, and for a VRF member's routes "NS/VRF": they are in the
// VRF's table, apart from the main one and the other VRFs'.
type routeKey struct {
	table  string
	to     netip.Prefix
	metric uint32
}

// routeUse says who made a route first, for the message about a second.
// It is formatted only then: a message made for every address took most of
// validation's allocations on a lab of 1000 namespaces.
type routeUse struct {
	key  Key
	pos  Pos
	what string       // "the gateway" or "a route"; "" for the kernel's
	addr netip.Prefix // the address the kernel made the route for
}

func (r routeUse) String() string {
	if r.what == "" {
		return fmt.Sprintf("the kernel makes it for address %s of %s", r.addr, r.key)
	}
	return r.what + " of " + r.key.String()
}

// nsAddr is an address in a namespace.
type nsAddr struct {
	ns string
	a  netip.Addr
}

// kernelMetric is the metric the kernel gives a route: IPv6 turns 0 into
// 1024 (IP6_RT_PRIO_USER), so `metric: 0` and no metric are the same route.
func kernelMetric(to netip.Prefix, m Int) uint32 {
	metric := uint32(0)
	if m.Set && m.Value >= 0 && int64(m.Value) <= 0xffffffff {
		metric = uint32(m.Value)
	}
	if to.Addr().Is6() && metric == 0 {
		metric = 1024
	}
	return metric
}

// routes checks gateways and routes against the whole lab: a gateway is
// another host on the link (not an address of the same namespace, not a
// broadcast or loopback address), and each namespace has one route per
// destination and metric, including the routes the kernel makes for the
// subnets of its addresses (metric 0 for IPv4, 256 for IPv6).
func (v *validator) routes() {
	// Only namespaces with a gateway or a route need their addresses'
	// routes and broadcasts: building them for every namespace doubled
	// validation's time on a lab of 1000 namespaces with no route at all.
	routed := map[string]bool{}
	for _, u := range v.l3s {
		if u.l.Gateway.Set || len(u.l.Routes) > 0 {
			routed[u.key.NS] = true
		}
	}
	if len(routed) == 0 {
		return
	}
	table := map[Key]string{}
	for _, u := range v.l3s {
		table[u.key] = u.key.NS
	}
	for _, vrf := range v.lab.VRFs {
		for _, m := range vrf.Members {
			if _, ok := table[m.Key()]; ok {
				table[m.Key()] = m.NS + "/" + vrf.Name.If
			}
		}
	}
	seen := map[routeKey]routeUse{}
	bcast := map[nsAddr]Address{}
	for _, u := range v.l3s {
		if !routed[u.key.NS] {
			continue
		}
		for _, a := range u.l.Addresses {
			p := a.Prefix
			if p.Bits() == 0 || p.Bits() == p.Addr().BitLen() || p.Addr().IsMulticast() {
				continue
			}
			metric := uint32(0)
			if p.Addr().Is6() {
				metric = 256
			}
			k := routeKey{table[u.key], p.Masked(), metric}
			if _, ok := seen[k]; !ok {
				seen[k] = routeUse{key: u.key, pos: a.Pos, addr: p}
			}
			if p.Addr().Is4() && p.Bits() <= 30 {
				bcast[nsAddr{u.key.NS, broadcast(p)}] = a
			}
		}
	}
	add := func(u l3Use, to netip.Prefix, metric Int, pos Pos, what string, gw IP) {
		k := routeKey{table[u.key], to, kernelMetric(to, metric)}
		first, dup := seen[k]
		if !dup {
			seen[k] = routeUse{key: u.key, pos: pos, what: what}
			return
		}
		dest := "route to " + to.String()
		if to.Bits() == 0 {
			dest = fmt.Sprintf("default route (%s)", to)
		}
		m := fmt.Sprint(k.metric)
		if to.Addr().Is6() && k.metric == 1024 && (!metric.Set || metric.Value == 0) {
			m += " (IPv6's for a route with no metric or metric 0)"
		}
		if first.what == "" {
			v.errorf(pos, "the %s with metric %s is in %s already: %s (line %d)", dest, m, tableLabel(k.table), first, first.pos.Line).Hint =
				"the subnet is reachable on that interface already: remove the route, or give it a `metric:` to add a second path"
			return
		}
		dg := v.errorf(pos, "a second %s with metric %s in %s: %s (line %d) is one already", dest, m, tableLabel(k.table), first, first.pos.Line)
		dg.Hint = "the kernel keeps one route per destination and metric: remove one, or give one a higher `metric:` (a backup path)"
		if gw.Set {
			dg.Hint = fmt.Sprintf("the kernel keeps one route per destination and metric: remove one, or make this one a backup: routes: [{to: default, via: %s, metric: 100}]", gw.Addr)
		}
	}
	for _, u := range v.l3s {
		if gw := u.l.Gateway; gw.Set {
			if v.gateway(u, gw, "gateway", bcast) {
				add(u, defaultRoute(gw.Addr), Int{}, gw.Pos, "the gateway", gw)
			}
		}
		for _, r := range u.l.Routes {
			if r.Via.Set && !v.gateway(u, r.Via, "via", bcast) {
				continue
			}
			to := r.To
			switch {
			case r.Default && r.Via.Set:
				to = defaultRoute(r.Via.Addr)
			case r.Default || !to.IsValid():
				continue
			case r.Via.Set && r.Via.Addr.Is4() != to.Addr().Is4():
				continue
			}
			pos := r.ToPos
			if pos.Line == 0 {
				pos = r.Pos
			}
			add(u, to, r.Metric, pos, "a route", IP{})
		}
	}
}

// tableLabel names a routeKey's table: `namespace "pe"`, or `VRF red of
// namespace "pe"`.
func tableLabel(table string) string {
	if ns, vrf, ok := strings.Cut(table, "/"); ok {
		return "VRF " + vrf + " of " + nsLabel(ns)
	}
	return nsLabel(table)
}

func defaultRoute(via netip.Addr) netip.Prefix {
	if via.Is4() {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
}

// gateway checks a gateway or `via`: the kernel refuses a route through an
// address of its own namespace (IPv6; IPv4 takes it and the route leads
// nowhere), a broadcast, loopback or IPv4-mapped address. false when it
// refuses the route.
func (v *validator) gateway(u l3Use, gw IP, what string, bcast map[nsAddr]Address) bool {
	a := gw.Addr
	switch {
	case a.IsUnspecified() || a.IsMulticast():
		v.errorf(gw.Pos, "%s %s is not a unicast address", what, a)
		return false
	case a.Is4In6():
		v.errorf(gw.Pos, "%s %s is an IPv4-mapped IPv6 address", what, a).Hint = fmt.Sprintf("write the IPv4 address itself: %s", a.Unmap())
		return false
	case a.IsLoopback():
		v.errorf(gw.Pos, "%s %s is a loopback address: a gateway is another host on the link", what, a)
		return false
	case a == limitedBroadcast:
		v.errorf(gw.Pos, "%s %s is the broadcast address: a gateway is one host on the link", what, a)
		return false
	}
	if b, ok := bcast[nsAddr{u.key.NS, a}]; ok {
		v.errorf(gw.Pos, "%s %s is the broadcast address of %s: a gateway is one host on the link", what, a, b.Prefix.Masked()).Hint =
			fmt.Sprintf("the hosts of %s are %s to %s", b.Prefix.Masked(), b.Prefix.Masked().Addr().Next(), a.Prev())
		return false
	}
	// An IPv6 link-local gateway is a neighbour on this link: the same
	// address on another link of the namespace is another host.
	if own, mine := v.addrs[a]; mine && own.key.NS == u.key.NS && (own.key == u.key || !(a.Is6() && a.IsLinkLocalUnicast())) {
		if own.key == u.key {
			v.errorf(gw.Pos, "%s %s is an address of this interface itself", what, a)
		} else {
			v.errorf(gw.Pos, "%s %s is the address of %s (line %d), in the same namespace: a gateway is another host", what, a, own.key, own.pos.Line)
		}
		return false
	}
	if !OnLink(u.l, a) {
		v.warnf(gw.Pos, "%s %s is outside every subnet of %s", what, a, u.key).Hint = "the route is installed as on-link (the neighbour is assumed reachable on this interface); check the address"
	}
	return true
}

// ipv6 checks that every interface with IPv6 addresses or routes can have
// them: an MTU of at least 1280, and IPv6 not switched off by a sysctl of
// its namespace.
func (v *validator) ipv6() {
	for _, u := range v.l3s {
		pos, ok := firstIPv6(u.l)
		if !ok {
			continue
		}
		if i := v.x.Ifaces[u.key]; i != nil {
			if mtu := v.linkMTU(i, 0); mtu > 0 && mtu < MinIPv6MTU {
				why := ""
				switch {
				case i.MTU() > 0:
				case i.Kind == KindBridge:
					why = " (a bridge takes its smallest port's)"
				case i.Kind == KindVLAN:
					why = " (a VLAN takes its parent's)"
				}
				v.errorf(pos, "%s has IPv6, which needs an MTU of at least %d, but its MTU is %d%s", u.key, MinIPv6MTU, mtu, why).Hint =
					"the kernel switches IPv6 off on a link with a smaller MTU and refuses its addresses; raise the MTU or use IPv4 only here"
			}
		}
		if u.key.NS == "" {
			continue
		}
		base := "net/ipv6/conf/"
		own, ownSet, ownOK := v.sysctlInt(u.key.NS, base+u.key.If+"/disable_ipv6")
		dflt, dfltSet, dfltOK := v.sysctlInt(u.key.NS, base+"default/disable_ipv6")
		if !dfltOK {
			// Writing conf.all writes conf.default too; conf.default is
			// written after it (SysctlLess), so it wins when both are set.
			dflt, dfltSet, dfltOK = v.sysctlInt(u.key.NS, base+"all/disable_ipv6")
		}
		switch {
		case ownOK && own != 0:
			v.errorf(pos, "%s has IPv6, but sysctl %q (line %d) switches IPv6 off on it", u.key, ownSet.s.Key.Value, ownSet.s.Key.Pos.Line).Hint =
				"with IPv6 off the kernel removes the interface's IPv6 addresses and routes; remove the sysctl or the IPv6 settings"
		case dfltOK && dflt != 0:
			dg := v.errorf(pos, "%s has IPv6, but sysctl %q (line %d) switches IPv6 off on the links of namespace %q", u.key, dfltSet.s.Key.Value, dfltSet.s.Key.Pos.Line, u.key.NS)
			dg.Hint = "it is written before the links exist, so their IPv6 addresses are refused; switch IPv6 off on the other interfaces one by one (net.ipv6.conf.IFNAME.disable_ipv6: 1) instead"
			if ownOK {
				dg.Hint = fmt.Sprintf("%q comes too late: interface sysctls are written after the interface's addresses; switch IPv6 off on the other interfaces one by one instead", ownSet.s.Key.Value)
			}
		}
	}
}

// firstIPv6 is the position of the first IPv6 address, gateway or route of
// an interface.
func firstIPv6(l *L3) (Pos, bool) {
	var best Pos
	found := false
	consider := func(p Pos) {
		if !found || p.Before(best) {
			best, found = p, true
		}
	}
	for _, a := range l.Addresses {
		if a.Prefix.Addr().Is6() {
			consider(a.Pos)
		}
	}
	if l.Gateway.Set && l.Gateway.Addr.Is6() {
		consider(l.Gateway.Pos)
	}
	for _, r := range l.Routes {
		if (r.To.IsValid() && r.To.Addr().Is6()) || (r.Via.Set && r.Via.Addr.Is6()) {
			consider(r.ToPos)
		}
	}
	return best, found
}

// linkMTU is the MTU an interface will have, 0 when the lab cannot know (an
// uplink's): the lab's, else a VLAN's parent's, a bridge's smallest port's
// (the kernel follows its ports until an MTU is set), else 1500.
func (v *validator) linkMTU(i *Iface, depth int) int {
	if m := i.MTU(); m > 0 {
		return m
	}
	if depth > len(v.lab.VLANs)+1 {
		return 0
	}
	switch i.Kind {
	case KindUplink:
		return 0
	case KindVLAN:
		if p, ok := v.x.Ifaces[i.VLAN.Parent.Key()]; ok {
			return v.linkMTU(p, depth+1)
		}
		return 0
	case KindBridge:
		low, unknown := 0, false
		for _, p := range v.x.Ports(i.Key) {
			m := v.linkMTU(p, depth+1)
			if m == 0 {
				unknown = true
			} else if low == 0 || m < low {
				low = m
			}
		}
		switch {
		case low > 0:
			return low
		case unknown:
			return 0
		}
	}
	return 1500
}
