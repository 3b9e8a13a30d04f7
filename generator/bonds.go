package generator

import (
	"sort"

	"github.com/netgen-lab/netgen/schema"
)

// BondOpts are the settings of a bond, defaults filled in.
type BondOpts struct {
	// Mode is the kernel's name of the mode ("802.3ad").
	Mode string
	// LACPRate ("slow", "fast") and XmitHashPolicy ("layer2+3") are ""
	// for the kernel's default.
	LACPRate, XmitHashPolicy string
	// MIIMon is the link monitoring interval in ms.
	MIIMon int
}

// PortOpts are the `port:` settings of a bridge port. Nil pointers leave
// the kernel's default.
type PortOpts struct {
	Cost, Priority                                           *int
	Isolated, Learning, Flood, Hairpin, BPDUGuard, RootGuard *bool
}

func boolp(b schema.Bool) *bool {
	if !b.Set {
		return nil
	}
	v := b.Value
	return &v
}

func portOpts(o *schema.PortOpts) *PortOpts {
	if o == nil {
		return nil
	}
	p := &PortOpts{Cost: intp(o.Cost), Priority: intp(o.Priority), Isolated: boolp(o.Isolated),
		Learning: boolp(o.Learning), Flood: boolp(o.Flood), Hairpin: boolp(o.Hairpin),
		BPDUGuard: boolp(o.BPDUGuard), RootGuard: boolp(o.RootGuard)}
	if *p == (PortOpts{}) {
		return nil
	}
	return p
}

// kernelObjects adds the lab's dummies, bonds and VRFs, after every veth
// and tap (a bond's members) and before VLANs (which may sit on a bond).
//
// A bond is created by whoever creates its members, right after them:
// the kernel enslaves only existing, down links, and a bond whose members
// were re-created under it (a namespace unit's restart re-creates that
// namespace's veths) would be left empty. Validation makes every member
// have the same owner. Dummies and VRFs belong to their namespace: a VRF's
// members set their master themselves, whoever creates them.
func (g *gen) kernelObjects() {
	dummies := append([]*schema.Dummy(nil), g.x.Lab.Dummies...)
	sort.Slice(dummies, func(i, j int) bool { return keyLess(dummies[i].Name.Key(), dummies[j].Name.Key()) })
	for _, d := range dummies {
		g.newLink(d.Name.Key(), schema.KindDummy, g.ownerOfNS(d.Name.NS))
	}
	bonds := append([]*schema.Bond(nil), g.x.Lab.Bonds...)
	sort.Slice(bonds, func(i, j int) bool { return keyLess(bonds[i].Name.Key(), bonds[j].Name.Key()) })
	for _, b := range bonds {
		var members []*Link
		for _, r := range b.Members {
			if m := g.links[r.Key()]; m != nil {
				members = append(members, m)
			}
		}
		owner := g.ownerOfNS(b.Name.NS)
		if len(members) > 0 {
			owner = members[0].Owner
		}
		l := g.newLink(b.Name.Key(), schema.KindBond, owner)
		l.Members = members
		l.BondOpts = &BondOpts{Mode: b.ModeName(), LACPRate: b.LACPRate.Value, XmitHashPolicy: b.XmitHashPolicy.Value, MIIMon: schema.DefaultMIIMon}
		if b.MIIMon.Set {
			l.BondOpts.MIIMon = b.MIIMon.Value
		}
	}
	vrfs := append([]*schema.VRF(nil), g.x.Lab.VRFs...)
	sort.Slice(vrfs, func(i, j int) bool { return keyLess(vrfs[i].Name.Key(), vrfs[j].Name.Key()) })
	for _, v := range vrfs {
		l := g.newLink(v.Name.Key(), schema.KindVRF, g.ownerOfNS(v.Name.NS))
		l.Table = v.Table.Value
		for _, r := range v.Members {
			if m := g.links[r.Key()]; m != nil {
				l.Members = append(l.Members, m)
			}
		}
	}
}

// enslave records every bond's and VRF's members on them, once the
// members' own settings are known.
func (g *gen) enslave() {
	for _, l := range g.plan.Links {
		switch l.Kind {
		case schema.KindBond:
			for _, m := range l.Members {
				m.Bond = l
				// A member's frames are the bond's: it has no address
				// of its own, link-local included.
				m.LinkLocal = false
			}
		case schema.KindVRF:
			l.LinkLocal = false
			for _, m := range l.Members {
				m.VRF = l
			}
		}
	}
}

// masterWaits makes every unit that enslaves a host link to a networkd
// bond or VRF wait for networkd to have configured it, once every link's
// owner is known (hostUnit moves links late: a member whose qdisc networkd
// 252 cannot say, or a wire's end). The unit's `link set dev M master B`
// ran before networkd had made B, with nothing ordering the two, and the
// unit failed at boot ("Cannot find device"; found by the random-lab tier
// under QEMU). The member stays its creator's and the bond or VRF
// networkd's; the record lists the unit with the device, so that netgen
// re-creating it (a changed .netdev) restarts the unit, which enslaves its
// member again (install.Record.HostBridgePorts).
func (g *gen) masterWaits() {
	for _, m := range g.plan.Links {
		if m.Owner == nil || m.NS != "" {
			continue
		}
		for _, master := range []*Link{m.Bond, m.VRF} {
			if master != nil && master.Owner == nil {
				m.Owner.HostBridges = appendUnique(m.Owner.HostBridges, master.Name)
			}
		}
	}
}
