package alloc

import (
	"slices"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/schema"
)

// port is one link carrying frames of one VLAN id (0: untagged), or, with
// domain set, VLAN vid inside a VLAN-aware bridge.
type port struct {
	l      *generator.Link
	vid    int
	domain bool
}

// layer2 is the lab's layer-2 segments: the classes of "a frame of this
// VLAN id on this link reaches that link", computed on the generator's plan
// so that port VLANs mean exactly what the generated files make of them.
//
//   - the two ends of a veth carry the same ids;
//   - a VLAN sub-interface's untagged frames are its parent's tagged ones;
//   - a bridge without VLAN filtering joins every id of its ports; a
//     VLAN-aware bridge joins, per VLAN, the ports that carry it (untagged
//     where it is the port's PVID and leaves untagged), and the bridge itself
//     sits on its default PVID.
type layer2 struct {
	parent map[port]port
	seen   map[port]bool
	vids   []int
}

func (m *layer2) find(x port) port {
	for {
		p, ok := m.parent[x]
		if !ok || p == x {
			return x
		}
		if gp, ok := m.parent[p]; ok {
			m.parent[x] = gp
		}
		x = p
	}
}

func (m *layer2) union(a, b port) {
	m.seen[a], m.seen[b] = true, true
	ra, rb := m.find(a), m.find(b)
	if ra != rb {
		m.parent[ra] = rb
	}
}

// segment is the segment a link's untagged frames are on.
func (m *layer2) segment(l *generator.Link) port { return m.find(port{l: l}) }

func newLayer2(p *generator.Plan) *layer2 {
	m := &layer2{parent: map[port]port{}, seen: map[port]bool{}}
	// Only the ids something sends or receives untagged somewhere matter:
	// a tagged id nothing untags carries no address.
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
			vids = append(vids, bridgePVID(l))
		}
	}
	slices.Sort(vids)
	m.vids = slices.Compact(vids)
	for _, l := range p.Links {
		switch {
		case l.Peer != nil && l.Creator:
			for _, v := range m.vids {
				m.union(port{l: l, vid: v}, port{l: l.Peer, vid: v})
			}
		case l.Kind == schema.KindVLAN && l.Parent != nil:
			m.union(port{l: l}, port{l: l.Parent, vid: l.VID})
		}
		if l.Master != nil {
			m.attach(l)
		}
		if l.Bridge != nil && l.Bridge.VLANFiltering {
			if pv := bridgePVID(l); pv != 0 {
				m.union(port{l: l}, port{l: l, vid: pv, domain: true})
			}
		}
	}
	return m
}

// attach joins a bridge port to its bridge.
func (m *layer2) attach(l *generator.Link) {
	br := l.Master
	if br.Bridge == nil || !br.Bridge.VLANFiltering {
		for _, v := range m.vids {
			m.union(port{l: l, vid: v}, port{l: br, vid: v})
		}
		return
	}
	var entries []generator.VLANEntry
	if l.PortVLANs != nil {
		entries = l.PortVLANs.Entries
	} else if pv := bridgePVID(br); pv != 0 {
		// A port the lab gives no VLANs has the bridge's default PVID.
		entries = []generator.VLANEntry{{From: pv, To: pv, PVID: true, Untagged: true}}
	}
	for _, e := range entries {
		for _, v := range m.vids {
			if v < e.From || v > e.To || v == 0 {
				continue
			}
			dom := port{l: br, vid: v, domain: true}
			switch {
			case e.PVID && e.Untagged:
				m.union(port{l: l}, dom)
			case !e.PVID && !e.Untagged:
				m.union(port{l: l, vid: v}, dom)
			default:
				// A PVID that leaves tagged, or an untagged VLAN that is
				// not the PVID, carries frames one way only: it joins no
				// segment an address could be on.
				m.seen[dom] = true
			}
		}
	}
}

// domains returns the VLANs of a VLAN-aware bridge that some port or the
// bridge itself carries, in order.
func (m *layer2) domains(br *generator.Link) []int {
	var out []int
	for _, v := range m.vids {
		if v != 0 && m.seen[port{l: br, vid: v, domain: true}] {
			out = append(out, v)
		}
	}
	return out
}

func bridgePVID(br *generator.Link) int {
	if br.Bridge.DefaultPVID != nil {
		return *br.Bridge.DefaultPVID
	}
	return 1
}
