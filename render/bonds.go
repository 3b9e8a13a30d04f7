package render

import (
	"fmt"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/schema"
)

// bondSection is a bond's [Bond] section; networkd's Mode= words are the
// kernel's.
func bondSection(b *generator.BondOpts) *section {
	return newSection("Bond").add("Mode", b.Mode).add("LACPTransmitRate", b.LACPRate).
		add("TransmitHashPolicy", b.XmitHashPolicy).add("MIIMonitorSec", fmt.Sprintf("%dms", b.MIIMon))
}

// portBridgeSection is a bridge port's [Bridge] section in its .network.
// networkd's UseBPDU= and AllowPortToBeRoot= are the negations of the
// kernel's guard and root_block, which the lab names bpdu-guard and
// root-guard.
func portBridgeSection(p *generator.PortOpts) *section {
	s := newSection("Bridge")
	if p == nil {
		return s
	}
	yn := func(b *bool, invert bool) string {
		if b == nil {
			return ""
		}
		return yesno(*b != invert)
	}
	return s.add("Cost", itoa(p.Cost)).add("Priority", itoa(p.Priority)).
		add("Isolated", yn(p.Isolated, false)).add("Learning", yn(p.Learning, false)).
		add("UnicastFlood", yn(p.Flood, false)).add("HairPin", yn(p.Hairpin, false)).
		add("UseBPDU", yn(p.BPDUGuard, true)).add("AllowPortToBeRoot", yn(p.RootGuard, true))
}

// masterKey is the .network key that puts a link under its master.
func masterKey(l *generator.Link) (key, name string) {
	switch {
	case l.Bond != nil:
		return "Bond", l.Bond.Name
	case l.Master != nil:
		return "Bridge", l.Master.Name
	}
	return "", ""
}

// routeTable is the routing table of a link's routes: its VRF's, or 0 for
// the main table.
func routeTable(l *generator.Link) int {
	if l.VRF != nil {
		return l.VRF.Table
	}
	return 0
}

// addBond creates a bond; members join it afterwards, down.
type addBond struct{ l *generator.Link }

func (s addBond) cmd() string {
	b := s.l.BondOpts
	c := fmt.Sprintf("link add name %s%s type bond mode %s miimon %d", s.l.Name, linkParams(s.l.MTU, s.l.MAC), b.Mode, b.MIIMon)
	if b.LACPRate != "" {
		c += " lacp_rate " + b.LACPRate
	}
	if b.XmitHashPolicy != "" {
		c += " xmit_hash_policy " + b.XmitHashPolicy
	}
	return c
}

// addDummy creates a dummy interface.
type addDummy struct{ l *generator.Link }

func (s addDummy) cmd() string {
	return fmt.Sprintf("link add name %s%s type dummy", s.l.Name, linkParams(s.l.MTU, s.l.MAC))
}

// addVRF creates a VRF device bound to its table.
type addVRF struct{ l *generator.Link }

func (s addVRF) cmd() string {
	return fmt.Sprintf("link add name %s type vrf table %d", s.l.Name, s.l.Table)
}

// setDown takes a link down: the kernel enslaves only a down link to a bond.
type setDown struct{ dev string }

func (s setDown) cmd() string { return fmt.Sprintf("link set dev %s down", s.dev) }

// setPort sets a bridge port's `port:` settings (bridge(8) words).
type setPort struct {
	dev  string
	opts *generator.PortOpts
}

func (s setPort) cmd() string {
	p := s.opts
	c := "link set dev " + s.dev
	if p.Cost != nil {
		c += fmt.Sprintf(" cost %d", *p.Cost)
	}
	if p.Priority != nil {
		c += fmt.Sprintf(" priority %d", *p.Priority)
	}
	onoff := func(name string, b *bool) {
		if b != nil {
			c += " " + name + map[bool]string{true: " on", false: " off"}[*b]
		}
	}
	onoff("isolated", p.Isolated)
	onoff("learning", p.Learning)
	onoff("flood", p.Flood)
	onoff("hairpin", p.Hairpin)
	onoff("guard", p.BPDUGuard)
	onoff("root_block", p.RootGuard)
	return c
}

// kernelObjectCreate is the creation step of a bond, dummy or VRF; nil for
// other kinds.
func kernelObjectCreate(l *generator.Link) step {
	switch l.Kind {
	case schema.KindBond:
		return addBond{l}
	case schema.KindDummy:
		return addDummy{l}
	case schema.KindVRF:
		return addVRF{l}
	}
	return nil
}
