// Package reach works out, from a lab's plan alone, which addresses must
// answer a ping from where and which must not: `netgen test` checks both on
// the running system, and the hand-written reachability files of the
// examples are checked against it.
//
// The model is the kernel's, reduced to what a lab decides:
//
//   - Layer 2: frames of one VLAN id (0 for untagged) travel between the two
//     ends of a veth, between a VLAN sub-interface (untagged) and its parent
//     (tagged), between a bridge and its ports (every id on a bridge without
//     VLAN filtering; on a VLAN-aware bridge, each port's VLANs, untagged
//     where the port's VLAN is its PVID and leaves untagged). The classes
//     of this relation are the lab's segments.
//   - Layer 3: each namespace (and the host) has the connected routes of its
//     addresses and the lab's routes and gateways; a ping is sent by the
//     longest matching route, from an address of the egress interface, and
//     answers when both the request and the reply arrive, through
//     namespaces that forward (the lab sets net.ipv4.ip_forward or
//     conf.all.forwarding) where they must.
//   - Must not answer: an address in the subnet of one of the source's
//     interfaces that sits on another segment (another VLAN, an unconnected
//     bridge), unless both segments leave the lab (an uplink, an external
//     end, a tap: something outside may join them).
package reach

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/l2"
	"github.com/netgen-lab/netgen/schema"
)

// Host is how expectations name the host's root namespace.
const Host = "host"

// Expectation is one ping the lab implies.
type Expectation struct {
	// From is the namespace the ping is sent from, or Host.
	From string
	To   netip.Addr
	// Answer says whether To must answer (true) or must not (false).
	Answer bool
	// Dev is the interface of From the request leaves through ("lo" for an
	// address of From itself): `netgen test` checks the running system's
	// route agrees before it sends anything.
	Dev string
	// Why says, for people, why the lab implies it.
	Why string
	// Neighbours are the neighbour (ARP, NDP) entries the ping makes on
	// its way there and back: the kernel's neighbour tables are shared by
	// every namespace and hold 1024 entries by default, which a full mesh
	// of a big segment would overflow.
	Neighbours []Neighbour
}

// Neighbour is a neighbour entry: a namespace (or Host) resolving an
// address on a link.
type Neighbour struct {
	From string
	Addr netip.Addr
}

// Name is how messages name the pair: "netns1 -> 192.168.5.2".
func (e Expectation) Name() string { return e.From + " -> " + e.To.String() }

// Derive returns every expectation of a plan, sorted by source, then
// address. A pair that the lab makes both reachable and unreachable (the
// same address on two segments) is expected to answer: a ping cannot tell
// which of the two answered.
func Derive(p *generator.Plan) []Expectation {
	m := newModel(p)
	byKey := map[string]Expectation{}
	add := func(e Expectation) {
		k := e.From + " " + e.To.String()
		if old, ok := byKey[k]; ok && (old.Answer || !e.Answer) {
			return
		}
		byKey[k] = e
	}
	for _, src := range m.nodes {
		for _, dst := range m.addrs {
			if e, ok := m.expect(src, dst); ok {
				add(e)
			}
		}
	}
	out := make([]Expectation, 0, len(byKey))
	for _, e := range byKey {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Expectation) int {
		return cmp.Or(cmp.Compare(nodeOrder(a.From), nodeOrder(b.From)), a.To.Compare(b.To))
	})
	return out
}

// nodeOrder sorts the host first, then namespaces by name.
func nodeOrder(n string) string {
	if n == Host {
		return ""
	}
	return "~" + n
}

// port is l2's: one interface carrying frames of one VLAN id, or a VLAN
// inside a VLAN-aware bridge.
type port = l2.Port

// addr is an address of the lab on its interface.
type addr struct {
	l *generator.Link
	p netip.Prefix
}

type route struct {
	to     netip.Prefix
	via    netip.Addr
	onlink bool
	metric int
	dev    *generator.Link
}

type model struct {
	*l2.Graph
	open map[port]bool
	// nodes are the namespaces and the host, sorted; node "" is the host.
	nodes    []string
	addrs    []addr
	local    map[string][]addr
	routes   map[string][]route
	forwards map[string][2]bool // [IPv4, IPv6]
	// masq are the masquerading links of each node (masquerade.go).
	masq     map[string][]*generator.Link
	loopback map[string]bool
	// names and leaving cache describe and leaves, per segment.
	names   map[port]string
	leaving map[port]bool
	// wires are the lab's wires, which name the segments they join.
	wires []*generator.Wire
}

func (m *model) segment(l *generator.Link) port { return m.Segment(l) }

func newModel(p *generator.Plan) *model {
	m := &model{Graph: l2.New(p), open: map[port]bool{}, local: map[string][]addr{},
		routes: map[string][]route{}, forwards: map[string][2]bool{}, loopback: map[string]bool{"": true}}
	for _, l := range p.Links {
		if l.External || l.Kind == schema.KindUplink || l.Kind == schema.KindTap {
			for _, v := range m.VIDs {
				m.open[port{L: l, VID: v}] = true
			}
		}
	}
	m.wires = p.Wires
	for _, u := range p.Units {
		if u.Kind == generator.NamespaceUnit && u.Namespace != nil {
			m.loopback[u.Namespace.Name] = u.Namespace.Loopback
			m.forwards[u.Namespace.Name] = forwarding(u.Namespace.Sysctls)
		}
	}
	m.masquerade(p)
	nodes := map[string]bool{}
	for ns := range m.loopback {
		nodes[ns] = true
	}
	for _, l := range p.Links {
		if l.External {
			continue
		}
		for _, a := range l.Addresses {
			if a.Addr().IsLinkLocalUnicast() {
				continue
			}
			ad := addr{l: l, p: a}
			m.addrs = append(m.addrs, ad)
			node := nodeOf(l)
			m.local[node] = append(m.local[node], ad)
			metric := 0
			if a.Addr().Is6() {
				metric = 256
			}
			m.routes[node] = append(m.routes[node], route{to: a.Masked(), metric: metric, dev: l})
			nodes[l.NS] = true
		}
		for _, r := range l.Routes {
			metric := r.Metric
			if metric == 0 && r.To.Addr().Is6() {
				metric = 1024
			}
			m.routes[nodeOf(l)] = append(m.routes[nodeOf(l)], route{to: r.To, via: r.Via, onlink: r.OnLink, metric: metric, dev: l})
		}
	}
	for n := range nodes {
		m.nodes = append(m.nodes, n)
	}
	slices.Sort(m.nodes)
	return m
}

// forwarding reports whether namespace-wide sysctls switch forwarding on,
// for IPv4 and IPv6.
func forwarding(sysctls []generator.Sysctl) [2]bool {
	var f [2]bool
	for _, s := range sysctls {
		on := strings.TrimSpace(s.Value) == "1"
		switch s.Path {
		case "net/ipv4/ip_forward", "net/ipv4/conf/all/forwarding":
			f[0] = on
		case "net/ipv6/conf/all/forwarding":
			f[1] = on
		}
	}
	return f
}

func nodeName(ns string) string {
	ns, _, _ = strings.Cut(ns, "/")
	if ns == "" {
		return Host
	}
	return ns
}

// nodeOf is the routing node of a link's addresses and routes: its
// namespace, or for a VRF's member "NAMESPACE/VRF", a node of its own
// with the VRF's table ("/" is in no namespace name). A VRF is never the
// source of a ping (`netgen test` pings from a namespace's main table),
// but it answers and forwards; it forwards when its namespace does.
func nodeOf(l *generator.Link) string {
	if l.VRF != nil {
		return l.NS + "/" + l.VRF.Name
	}
	return l.NS
}

// isolatedPort is the isolated bridge port a link sits behind: itself, or
// its veth peer; nil when there is none. Links further away (behind
// another bridge) are not followed.
func isolatedPort(l *generator.Link) *generator.Link {
	for _, p := range []*generator.Link{l, l.Peer} {
		if p != nil && p.Master != nil && p.PortOpts != nil && p.PortOpts.Isolated != nil && *p.PortOpts.Isolated {
			return p
		}
	}
	return nil
}

// isolatedPair reports whether two links sit behind two isolated ports of
// one bridge: the bridge forwards nothing between them.
func isolatedPair(a, b *generator.Link) bool {
	pa, pb := isolatedPort(a), isolatedPort(b)
	return pa != nil && pb != nil && pa != pb && pa.Master == pb.Master
}

// lookup is the node's route to dst: longest prefix, then lowest metric,
// then the lab's order.
func (m *model) lookup(node string, dst netip.Addr) (route, bool) {
	var best route
	found := false
	for _, r := range m.routes[node] {
		if !r.to.Contains(dst) {
			continue
		}
		if !found || r.to.Bits() > best.to.Bits() || r.to.Bits() == best.to.Bits() && r.metric < best.metric {
			best, found = r, true
		}
	}
	return best, found
}

func (m *model) isLocal(node string, a netip.Addr) bool {
	for _, l := range m.local[node] {
		if l.p.Addr() == a {
			return true
		}
	}
	return false
}

// source is the address the kernel sends from through a route: one of the
// egress interface's addresses in the next hop's subnet, else its first of
// the family, else the node's first of the family.
func (m *model) source(node string, r route, dst netip.Addr) (netip.Addr, bool) {
	hop := dst
	if r.via.IsValid() {
		hop = r.via
	}
	var first, any netip.Addr
	for _, a := range m.local[node] {
		if a.p.Addr().Is4() != dst.Is4() {
			continue
		}
		if a.l == r.dev && a.p.Contains(hop) {
			return a.p.Addr(), true
		}
		if a.l == r.dev && !first.IsValid() {
			first = a.p.Addr()
		}
		if !any.IsValid() {
			any = a.p.Addr()
		}
	}
	if first.IsValid() {
		return first, true
	}
	return any, any.IsValid()
}

// hop is one step of a packet's path: the node that sends it on and the
// next hop it resolves.
type hop struct {
	node string
	via  netip.Addr
	// to is the node that takes the packet in; gateway is set when it
	// is a router, not the destination.
	to      string
	gateway bool
}

// deliver follows a packet for dst sent by node: it returns the node that
// takes it in and the gateways it went through.
func (m *model) deliver(node string, dst netip.Addr) (string, []hop, bool) {
	to, path, _, ok := m.deliverFrom(node, netip.Addr{}, dst)
	return to, path, ok
}

// deliverFrom is deliver for a packet from src, which a masquerading node
// on the way rewrites (masquerade.go): it also returns those rewrites, in
// order. An invalid src is never rewritten.
func (m *model) deliverFrom(node string, src, dst netip.Addr) (string, []hop, []nat, bool) {
	var path []hop
	var nats []nat
	for ttl := 0; ttl < 32; ttl++ {
		if ttl > 0 {
			if m.isLocal(node, dst) {
				return node, path, nats, true
			}
			fam := 0
			if dst.Is6() {
				fam = 1
			}
			if ns, _, _ := strings.Cut(node, "/"); !m.forwards[ns][fam] {
				return "", path, nats, false
			}
		}
		r, ok := m.lookup(node, dst)
		if !ok {
			return "", path, nats, false
		}
		if ttl > 0 && src.IsValid() {
			if n, ok := m.snat(node, src, r, dst); ok {
				nats = append(nats, n)
				src = n.to
			}
		}
		next := dst
		if r.via.IsValid() {
			next = r.via
		}
		seg := m.segment(r.dev)
		holder := ""
		found := false
		for _, a := range m.addrs {
			if a.p.Addr() == next && nodeOf(a.l) != node && m.segment(a.l) == seg && !isolatedPair(r.dev, a.l) {
				holder, found = nodeOf(a.l), true
				break
			}
		}
		if !found {
			return "", path, nats, false
		}
		path = append(path, hop{node: node, via: next, to: holder, gateway: r.via.IsValid()})
		node = holder
	}
	return "", path, nats, false
}

// expect works out what a ping from src to dst must do, if anything.
func (m *model) expect(src string, dst addr) (Expectation, bool) {
	e := Expectation{From: nodeName(src), To: dst.p.Addr()}
	if nodeOf(dst.l) == src {
		// Its own address: answered through lo. IPv6 only on links that
		// have a carrier (a veth, a VLAN on one): on a tap nobody opened
		// or a bridge without ports the address stays tentative.
		if !m.loopback[src] || dst.p.Addr().Is6() && !carrier(dst.l) {
			return e, false
		}
		e.Answer, e.Dev, e.Why = true, "lo", "its own address on "+dst.l.Label()
		return e, true
	}
	r, ok := m.lookup(src, dst.p.Addr())
	if !ok {
		return e, false
	}
	e.Dev = r.dev.Name
	from, ok := m.source(src, r, dst.p.Addr())
	if !ok {
		return e, false
	}
	to, path, nats, ok := m.deliverFrom(src, from, dst.p.Addr())
	if ok {
		back, rpath, ok := m.reply(to, from, nats)
		if ok && back == src {
			e.Answer = true
			e.Why = m.explain(src, r, dst, path, rpath)
			for _, h := range append(path, rpath...) {
				e.Neighbours = append(e.Neighbours, Neighbour{nodeName(h.node), h.via})
			}
			return e, true
		}
	}
	// Must not answer: the same subnet on another segment.
	if r.via.IsValid() {
		return e, false
	}
	var mine *addr
	for i, a := range m.local[src] {
		if a.l == r.dev && a.p.Contains(dst.p.Addr()) {
			mine = &m.local[src][i]
			break
		}
	}
	if mine == nil {
		return e, false
	}
	if isolatedPair(r.dev, dst.l) {
		e.Neighbours = []Neighbour{{e.From, dst.p.Addr()}}
		e.Why = fmt.Sprintf("%s and %s are behind isolated ports of bridge %s", r.dev.Label(), dst.l.Label(), isolatedPort(r.dev).Master.Label())
		return e, true
	}
	if m.segment(r.dev) == m.segment(dst.l) {
		return e, false
	}
	if m.leaves(r.dev) && m.leaves(dst.l) {
		return e, false
	}
	e.Neighbours = []Neighbour{{e.From, dst.p.Addr()}}
	e.Why = fmt.Sprintf("%s is in the subnet of %s (%s) but on another segment: %s, not %s",
		dst.l.Label(), r.dev.Label(), mine.p.Masked(), m.describe(dst.l), m.describe(r.dev))
	return e, true
}

func (m *model) explain(src string, r route, dst addr, path, rpath []hop) string {
	gateways := func(p []hop) []string {
		var out []string
		for _, h := range p {
			if h.gateway {
				out = append(out, fmt.Sprintf("%s (%s)", h.via, nodeName(h.to)))
			}
		}
		return out
	}
	if g := gateways(path); len(g) > 0 {
		return fmt.Sprintf("through %s to %s", strings.Join(g, ", "), dst.l.Label())
	}
	s := fmt.Sprintf("%s and %s share %s", r.dev.Label(), dst.l.Label(), m.describe(r.dev))
	if g := gateways(rpath); len(g) > 0 {
		s += ", answer through " + strings.Join(g, ", ")
	}
	return s
}

// nameBy names each segment by what it holds: "bridge a", "bridges a and b".
func nameBy(out map[port]string, by map[port][]string, one, many string) {
	for seg, names := range by {
		slices.Sort(names)
		word := one
		if len(names) > 1 {
			word = many
		}
		out[seg] = word + strings.Join(names, " and ")
	}
}

// carrier reports whether a link has a carrier as soon as the lab is up:
// a veth whose peer is the lab's, a bond with such a member, a dummy (no
// carrier to wait for, and no duplicate address detection: it is NOARP),
// and a VLAN on one of these.
func carrier(l *generator.Link) bool {
	for l.Kind == schema.KindVLAN && l.Parent != nil {
		l = l.Parent
	}
	switch l.Kind {
	case schema.KindDummy:
		return true
	case schema.KindBond:
		return slices.ContainsFunc(l.Members, carrier)
	}
	return l.Kind == schema.KindVeth && !l.Peer.External
}

// leaves reports whether a link's segment reaches outside the lab.
func (m *model) leaves(l *generator.Link) bool {
	if m.leaving == nil {
		m.leaving = map[port]bool{}
		for p := range m.open {
			m.leaving[m.Find(p)] = true
		}
	}
	return m.leaving[m.segment(l)]
}

// describe names a link's segment for people: the bridge (and VLAN) it is
// on, or the cable.
func (m *model) describe(l *generator.Link) string {
	if m.names == nil {
		// The VLANs of bridges on the segment name it best, else its
		// bridges, sorted: the name does not depend on map order.
		m.names = map[port]string{}
		vlans, bridges := map[port][]string{}, map[port][]string{}
		for p := range m.Seen {
			switch {
			case p.Domain:
				vlans[m.Find(p)] = append(vlans[m.Find(p)], fmt.Sprintf("VLAN %d of bridge %s", p.VID, p.L.Label()))
			case p.L.Bridge != nil && p.VID == 0:
				bridges[m.Find(p)] = append(bridges[m.Find(p)], p.L.Label())
			}
		}
		nameBy(m.names, bridges, "bridge ", "bridges ")
		for seg, names := range vlans {
			slices.Sort(names)
			m.names[seg] = strings.Join(names, " and ")
		}
		// A segment no bridge names is named by its wires: the cables
		// on either side say less.
		wires := map[port][]string{}
		for _, w := range m.wires {
			seg := m.segment(w.A)
			if _, named := m.names[seg]; !named {
				wires[seg] = append(wires[seg], w.A.Label()+" -- "+w.B.Label())
			}
		}
		nameBy(m.names, wires, "the wire ", "the wires ")
	}
	if d, ok := m.names[m.segment(l)]; ok {
		return d
	}
	if l.Peer != nil {
		a, b := l.Label(), l.Peer.Label()
		if b < a {
			a, b = b, a
		}
		return "the cable " + a + " -- " + b
	}
	return "the link " + l.Label()
}
