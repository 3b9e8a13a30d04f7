package generator

import (
	"math"

	"github.com/netgen-lab/netgen/schema"
)

// Wire is a transparent point-to-point wire between two links of one
// namespace: every frame arriving on one leaves through the other (tc
// ingress qdisc, matchall filter, mirred egress redirect), both ways.
type Wire struct {
	A, B *Link
}

// NS is the namespace of the wire ("" for the host).
func (w *Wire) NS() string { return w.A.NS }

// NetworkdNetem reports whether networkd 252's [NetworkEmulator] can say
// all of v: it has DelaySec=, DelayJitterSec=, PacketLimit=, LossRate= and
// DuplicateRate= (percentages parsed to 1/10000), and nothing for rate,
// corrupt or reorder.
func NetworkdNetem(v *schema.NetemValues) bool {
	exact := func(p float64) bool { return p*100 == math.Trunc(p*100) }
	return v.Rate == 0 && v.Corrupt == 0 && v.Reorder == 0 && exact(v.Loss) && exact(v.Duplicate)
}

// impair gives every link the lab impairs its netem values, and makes the
// lab's wires. It runs once links are configured and before hostUnit,
// which moves to the host unit every host link networkd cannot do right.
func (g *gen) impair() {
	for _, i := range g.x.Order {
		l := g.links[i.Key]
		if l == nil {
			continue
		}
		if n := i.NetemOf(); n != nil {
			if v := n.Values(); !v.IsZero() {
				l.Netem = &v
			}
		}
	}
	for _, w := range g.x.Lab.Wires {
		a, b := g.links[w.Ends[0].Key()], g.links[w.Ends[1].Key()]
		if a == nil || b == nil {
			continue
		}
		if keyLess(b.key(), a.key()) {
			a, b = b, a
		}
		// A wire end sends only what the wire brings: no IPv6 link-local
		// address, so no router solicitation or MLD report of its own.
		a.LinkLocal, b.LinkLocal = false, false
		g.plan.Wires = append(g.plan.Wires, &Wire{A: a, B: b})
	}
}

func (l *Link) key() schema.Key { return schema.Key{NS: l.NS, If: l.Name} }

// unitOnly reports whether a host link networkd would own must go to the
// lab's host unit for its qdiscs: a netem networkd 252 cannot express, or
// the end of a wire (networkd has no tc filters).
func (g *gen) unitOnly(l *Link) bool {
	if l.Netem != nil && !NetworkdNetem(l.Netem) {
		return true
	}
	for _, w := range g.plan.Wires {
		if w.A == l || w.B == l {
			return true
		}
	}
	return false
}

// wireUnits gives each wire to every unit that owns one of its ends: each
// such unit, when it has (re-)created its end, sets the wire up again once
// both ends exist, so that the wire comes back whichever end is
// re-created (a redirect names its target's ifindex, which a re-created
// link no longer has).
func (g *gen) wireUnits() {
	for _, w := range g.plan.Wires {
		if w.A.Owner != nil {
			w.A.Owner.Wires = append(w.A.Owner.Wires, w)
		}
		if w.B.Owner != nil && w.B.Owner != w.A.Owner {
			w.B.Owner.Wires = append(w.B.Owner.Wires, w)
		}
	}
}
