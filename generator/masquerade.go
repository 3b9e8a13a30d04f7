package generator

import (
	"net/netip"
	"sort"

	"github.com/netgen-lab/netgen/names"
)

// NAT is the source NAT a unit puts into one namespace: one nftables table
// of its own (Table, family inet), added and removed whole, which
// masquerades traffic from each rule's subnets leaving by any other
// interface of the namespace.
type NAT struct {
	NS    string
	Table string
	Rules []MasqRule
	// V4 and V6 say which forwarding the namespace needs.
	V4, V6 bool
}

// MasqRule masquerades traffic from Subnet that arrived on Iface's subnet
// and leaves by another interface.
type MasqRule struct {
	Iface  string
	Subnet netip.Prefix
}

// NeedsNft reports whether a unit of the plan runs nft(8): networkd's own
// masquerade (IPMasquerade=) needs no tool.
func (p *Plan) NeedsNft() bool {
	for _, u := range p.Units {
		if len(u.NATs) > 0 {
			return true
		}
	}
	return false
}

// masquerade gives every link its masqueraded subnets and every unit its
// NAT tables and forwarding sysctls; networkd-owned host links are
// rendered with IPMasquerade= instead.
func (g *gen) masquerade() {
	for _, i := range g.x.Order {
		l3 := i.L3()
		if l3 == nil {
			continue
		}
		subnets := l3.MasqueradeSubnets()
		l := g.links[i.Key]
		if len(subnets) == 0 || l == nil {
			continue
		}
		l.Masquerade = subnets
	}
	for _, u := range g.plan.Units {
		byNS := map[string]*NAT{}
		for _, l := range u.Links {
			if len(l.Masquerade) == 0 {
				continue
			}
			n := byNS[l.NS]
			if n == nil {
				n = &NAT{NS: l.NS, Table: names.NATTable(u.Name)}
				byNS[l.NS] = n
			}
			for _, s := range l.Masquerade {
				n.Rules = append(n.Rules, MasqRule{Iface: l.Name, Subnet: s})
				n.V4 = n.V4 || s.Addr().Is4()
				n.V6 = n.V6 || s.Addr().Is6()
			}
		}
		for _, n := range byNS {
			u.NATs = append(u.NATs, n)
			if n.V4 {
				u.Sysctls = append(u.Sysctls, Sysctl{NS: n.NS, Path: "net/ipv4/ip_forward", Value: "1"})
			}
			if n.V6 {
				u.Sysctls = append(u.Sysctls, Sysctl{NS: n.NS, Path: "net/ipv6/conf/all/forwarding", Value: "1"})
			}
		}
		sort.Slice(u.NATs, func(i, j int) bool { return u.NATs[i].NS < u.NATs[j].NS })
	}
}
