package generator

import (
	"net/netip"
	"sort"

	"github.com/netgen-lab/netgen/schema"
)

// VXLANOpts are the settings of a VXLAN device in one machine's part of a
// lab with machines (schema.Project).
type VXLANOpts struct {
	VNI, Port int
	Local     netip.Addr
	// Remote is a cable's other machine; FDB are a stretched bridge's other
	// machines, each an all-zero FDB entry (flooding by head-end
	// replication), with learning on.
	Remote netip.Addr
	FDB    []netip.Addr
}

// tunnels makes the VXLAN devices: a cable's end where the veth end would
// have been (its namespace's unit owns it; networkd in the root namespace),
// and a stretched bridge's port, owned by networkd like the bridge.
// configure gives a cable's end its settings, as it would a veth end.
func (g *gen) tunnels() {
	var ends []*schema.Tunnel
	for _, v := range g.x.Lab.Veths {
		if v.Tunnel != nil {
			ends = append(ends, v.Tunnel)
		}
	}
	sort.Slice(ends, func(i, j int) bool {
		return keyLess(schema.Key{NS: ends[i].NS, If: ends[i].Name}, schema.Key{NS: ends[j].NS, If: ends[j].Name})
	})
	for _, t := range ends {
		l := g.newLink(schema.Key{NS: t.NS, If: t.Name}, schema.KindVXLAN, g.ownerOfNS(t.NS))
		l.VXLAN = &VXLANOpts{VNI: t.VNI, Port: t.Port, Local: t.Local, Remote: t.Remotes[0]}
	}
	stretched := append([]*schema.Tunnel(nil), g.x.Lab.Tunnels...)
	sort.Slice(stretched, func(i, j int) bool { return stretched[i].Name < stretched[j].Name })
	for _, t := range stretched {
		l := g.newLink(schema.Key{If: t.Name}, schema.KindVXLAN, nil)
		l.VXLAN = &VXLANOpts{VNI: t.VNI, Port: t.Port, Local: t.Local, FDB: t.Remotes}
		l.MTU = t.MTU
		l.Master = g.links[schema.Key{If: t.Bridge}]
	}
}
