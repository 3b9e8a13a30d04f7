// Package l2 is the lab's layer-2 segments, computed on the generator's
// plan so that port VLANs, wires and bonds mean exactly what the generated
// files make of them. Automatic addressing (alloc: which interfaces share a
// pooled subnet) and `netgen test` (internal/reach: which pairs must
// answer) both ask it, so the two can never disagree on what a segment is:
// they once did, when each had its own copy and only reach's knew wires,
// bonds and SVIs.
//
// The classes are those of "a frame of this VLAN id on this link reaches
// that link":
//   - the two ends of a veth carry the same ids, and so do a wire's ends
//     (a wire passes frames as they are, tags included);
//   - a VLAN sub-interface's untagged frames are its parent's tagged ones;
//     an SVI (a VLAN on a VLAN-aware bridge) is on that VLAN of the bridge;
//   - a bond's frames leave through its members, and theirs arrive on it;
//   - a bridge without VLAN filtering joins every id of its ports; a
//     VLAN-aware bridge joins, per VLAN, the ports that carry it (untagged
//     where it is the port's PVID and leaves untagged), and the bridge
//     itself sits on its default PVID.
package l2

import (
	"slices"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/schema"
)

// Port is one link carrying frames of one VLAN id (0: untagged), or, with
// Domain set, VLAN VID inside a VLAN-aware bridge.
type Port struct {
	L      *generator.Link
	VID    int
	Domain bool
}

// Graph is the union-find of ports.
type Graph struct {
	parent map[Port]Port
	// Seen holds every port some link or bridge touches.
	Seen map[Port]bool
	// VIDs are the VLAN ids that matter, 0 (untagged) first: those some
	// interface sends or receives untagged somewhere. A tagged id nothing
	// untags carries no address.
	VIDs []int
}

// Find is the representative of x's segment.
func (g *Graph) Find(x Port) Port {
	for {
		p, ok := g.parent[x]
		if !ok || p == x {
			return x
		}
		if gp, ok := g.parent[p]; ok {
			g.parent[x] = gp
		}
		x = p
	}
}

func (g *Graph) union(a, b Port) {
	g.Seen[a], g.Seen[b] = true, true
	ra, rb := g.Find(a), g.Find(b)
	if ra != rb {
		g.parent[ra] = rb
	}
}

// Segment is the segment a link's untagged frames are on.
func (g *Graph) Segment(l *generator.Link) Port { return g.Find(Port{L: l}) }

// Domains returns the VLANs of a VLAN-aware bridge that some port or the
// bridge itself carries, in order.
func (g *Graph) Domains(br *generator.Link) []int {
	var out []int
	for _, v := range g.VIDs {
		if v != 0 && g.Seen[Port{L: br, VID: v, Domain: true}] {
			out = append(out, v)
		}
	}
	return out
}

// New computes the segments of a plan.
func New(p *generator.Plan) *Graph {
	g := &Graph{parent: map[Port]Port{}, Seen: map[Port]bool{}}
	vids := []int{0}
	for _, l := range p.Links {
		if l.Kind == schema.KindVLAN {
			vids = append(vids, l.VID)
		}
		if l.PortVLANs != nil {
			for _, e := range l.PortVLANs.Entries {
				if e.PVID || e.Untagged {
					vids = append(vids, e.From)
				}
			}
		}
		if l.Bridge != nil && l.Bridge.VLANFiltering {
			vids = append(vids, BridgePVID(l))
		}
	}
	slices.Sort(vids)
	g.VIDs = slices.Compact(vids)
	for _, l := range p.Links {
		switch {
		case l.Peer != nil && l.Creator:
			g.all(l, l.Peer)
		case l.Kind == schema.KindVLAN && l.Parent != nil:
			g.union(Port{L: l}, Port{L: l.Parent, VID: l.VID})
			if b := l.Parent.Bridge; b != nil && b.VLANFiltering {
				// An SVI: the bridge itself is a member of the VLAN
				// (render's `bridge vlan add ... self`).
				g.union(Port{L: l.Parent, VID: l.VID}, Port{L: l.Parent, VID: l.VID, Domain: true})
			}
		}
		if l.Master != nil {
			g.attach(l)
		}
		if l.Bond != nil {
			g.all(l, l.Bond)
		}
		if l.Bridge != nil && l.Bridge.VLANFiltering {
			if pv := BridgePVID(l); pv != 0 {
				g.union(Port{L: l}, Port{L: l, VID: pv, Domain: true})
			}
		}
	}
	for _, w := range p.Wires {
		g.all(w.A, w.B)
	}
	return g
}

// all joins every VLAN id of a and b.
func (g *Graph) all(a, b *generator.Link) {
	for _, v := range g.VIDs {
		g.union(Port{L: a, VID: v}, Port{L: b, VID: v})
	}
}

// attach joins a bridge port to its bridge.
func (g *Graph) attach(l *generator.Link) {
	br := l.Master
	if br.Bridge == nil || !br.Bridge.VLANFiltering {
		g.all(l, br)
		return
	}
	var entries []generator.VLANEntry
	if l.PortVLANs != nil {
		entries = l.PortVLANs.Entries
	} else if pv := BridgePVID(br); pv != 0 {
		// A port the lab gives no VLANs has the bridge's default PVID.
		entries = []generator.VLANEntry{{From: pv, To: pv, PVID: true, Untagged: true}}
	}
	for _, e := range entries {
		for _, v := range g.VIDs {
			if v < e.From || v > e.To {
				continue
			}
			dom := Port{L: br, VID: v, Domain: true}
			switch {
			case e.PVID && e.Untagged:
				g.union(Port{L: l}, dom)
			case !e.PVID && !e.Untagged:
				g.union(Port{L: l, VID: v}, dom)
			default:
				// A PVID that leaves tagged, or an untagged VLAN that is
				// not the PVID, carries frames one way only: it joins no
				// segment an address could be on (no ping crosses it).
				g.Seen[dom] = true
			}
		}
	}
}

// BridgePVID is a VLAN-aware bridge's default PVID (0: none).
func BridgePVID(br *generator.Link) int {
	if br.Bridge.DefaultPVID != nil {
		return *br.Bridge.DefaultPVID
	}
	return 1
}
