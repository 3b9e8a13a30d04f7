package reach

import (
	"net/netip"

	"github.com/netgen-lab/netgen/generator"
)

// nat is one source rewrite on a packet's way: node sent it on from its
// own address to instead of from.
type nat struct {
	node     string
	from, to netip.Addr
}

// masquerade records the lab's masquerading links; masquerade switches
// forwarding on in their namespace.
func (m *model) masquerade(p *generator.Plan) {
	m.masq = map[string][]*generator.Link{}
	for _, l := range p.Links {
		if len(l.Masquerade) == 0 {
			continue
		}
		m.masq[l.NS] = append(m.masq[l.NS], l)
		f := m.forwards[l.NS]
		for _, s := range l.Masquerade {
			if s.Addr().Is4() {
				f[0] = true
			} else {
				f[1] = true
			}
		}
		m.forwards[l.NS] = f
	}
}

// snat is the rewrite node makes when it forwards a packet from src to dst
// through r: from a masqueraded subnet of another of its links, the
// packet leaves with the address the node itself would send from.
func (m *model) snat(node string, src netip.Addr, r route, dst netip.Addr) (nat, bool) {
	for _, l := range m.masq[node] {
		if l == r.dev {
			continue
		}
		for _, s := range l.Masquerade {
			if s.Contains(src) {
				to, ok := m.source(node, r, dst)
				return nat{node: node, from: src, to: to}, ok
			}
		}
	}
	return nat{}, false
}

// reply follows the answer from node to the sender from, undoing the
// forward path's rewrites in reverse (conntrack): a reply that reaches a
// node at the address it rewrote to goes on to the address it rewrote.
func (m *model) reply(node string, from netip.Addr, nats []nat) (string, []hop, bool) {
	dst := from
	if len(nats) > 0 {
		dst = nats[len(nats)-1].to
	}
	var path []hop
	for i := len(nats) - 1; i >= 0; i-- {
		back, p, ok := m.deliver(node, dst)
		path = append(path, p...)
		if !ok || back != nats[i].node {
			return "", path, false
		}
		node, dst = back, nats[i].from
	}
	back, p, ok := m.deliver(node, dst)
	return back, append(path, p...), ok
}
