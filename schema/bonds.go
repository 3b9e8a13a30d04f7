package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/netgen-lab/netgen/diag"
)

// BondModes are the bonding modes a lab may name, in the kernel's words.
var BondModes = []string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}

// DefaultBondMode is the mode of a bond that names none: LACP, what a
// switch on the other side expects.
const DefaultBondMode = "802.3ad"

// DefaultMIIMon is the link monitoring interval of a bond that sets none
// (ms): without one the kernel never notices a member going down.
const DefaultMIIMon = 100

// vrfReservedTables are the kernel's own routing tables.
var vrfReservedTables = map[int]string{253: "default", 254: "main", 255: "local"}

// Mode is the bond's mode, defaulted.
func (b *Bond) ModeName() string {
	if b.Mode.Set {
		return b.Mode.Value
	}
	return DefaultBondMode
}

// kernelObjects checks bonds, dummies, VRFs and `port:` settings, once
// every interface is indexed.
func (v *validator) kernelObjects() {
	enslaved := map[Key]string{}
	for _, d := range v.lab.Dummies {
		if !v.checkRef(d.Name) {
			continue
		}
		v.link(d.Link)
		v.l3(d.Name.Key(), &d.L3)
	}
	for _, b := range v.lab.Bonds {
		v.bond(b, enslaved)
	}
	tables := map[[2]any]Pos{}
	for _, vr := range v.lab.VRFs {
		if !v.checkRef(vr.Name) {
			continue
		}
		if t := vr.Table; t.Set {
			switch {
			case t.Value < 1 || int64(t.Value) > 0xffffffff:
				v.errorf(t.Pos, "table %d is out of range 1-4294967295", t.Value)
			case vrfReservedTables[t.Value] != "":
				v.errorf(t.Pos, "table %d is the kernel's %s table", t.Value, vrfReservedTables[t.Value]).Hint = "give the VRF a table of its own, e.g. 100"
			default:
				k := [2]any{vr.Name.NS, t.Value}
				if first, dup := tables[k]; dup {
					v.errorf(t.Pos, "table %d is already the table of another VRF in %s (line %d)", t.Value, nsLabel(vr.Name.NS), first.Line).Hint = "each VRF of a namespace has a table of its own"
				} else {
					tables[k] = t.Pos
				}
			}
		}
		what := "VRF " + vr.Name.String()
		for _, m := range v.members(what, vr.Name, vr.Members, vr.MembersPos, enslaved) {
			switch m.Kind {
			case KindUplink, KindVRF:
				v.errorf(memberPos(vr.Members, m.Key), "%s is %s and cannot be a member of %s", m.Key, article(m.Kind), what)
			}
		}
	}
}

func article(k Kind) string {
	if k == KindUplink {
		return "an uplink"
	}
	return "a " + k.String()
}

func memberPos(refs []Ref, k Key) Pos {
	for _, r := range refs {
		if r.Key() == k {
			return r.Pos
		}
	}
	return Pos{}
}

func (v *validator) bond(b *Bond, enslaved map[Key]string) {
	if !v.checkRef(b.Name) {
		return
	}
	key := b.Name.Key()
	what := "bond " + key.String()
	mode := b.ModeName()
	if b.Mode.Set && !contains(BondModes, mode) {
		dg := v.errorf(b.Mode.Pos, "bond mode %q is not one of %s", mode, strings.Join(BondModes, ", "))
		if dg.Hint = diag.DidYouMean(mode, BondModes); strings.EqualFold(mode, "lacp") {
			dg.Hint = "LACP is mode 802.3ad"
		}
	}
	if r := b.LACPRate; r.Set {
		switch {
		case r.Value != "slow" && r.Value != "fast":
			v.errorf(r.Pos, "lacp-rate %q is neither slow nor fast", r.Value)
		case mode != "802.3ad":
			v.errorf(r.Pos, "lacp-rate needs mode 802.3ad (LACP); %s is in mode %s", what, mode)
		}
	}
	if p := b.XmitHashPolicy; p.Set {
		policies := []string{"layer2", "layer2+3", "layer3+4"}
		switch {
		case !contains(policies, p.Value):
			dg := v.errorf(p.Pos, "xmit-hash-policy %q is not one of %s", p.Value, strings.Join(policies, ", "))
			dg.Hint = diag.DidYouMean(p.Value, policies)
		case mode != "balance-xor" && mode != "802.3ad" && mode != "balance-tlb" && mode != "balance-alb":
			v.warnf(p.Pos, "xmit-hash-policy has no effect in mode %s", mode).Hint = "it chooses the member in modes balance-xor, 802.3ad, balance-tlb and balance-alb"
		}
	}
	if m := b.MIIMon; m.Set && (m.Value < 0 || m.Value > 65535) {
		v.errorf(m.Pos, "miimon %d is out of range 0-65535 ms", m.Value)
	}
	v.link(b.Link)
	members := v.members(what, b.Name, b.Members, b.MembersPos, enslaved)
	if len(b.Members) == 0 && b.MembersPos.Line > 0 {
		v.errorf(b.MembersPos, "%s has no members", what)
	}
	// netgen creates a bond together with its members, by their owner:
	// members whose cables lead to different namespaces have different
	// owners, and no one of them could create the bond after the others.
	sides := map[string]Key{}
	var order []string
	for _, m := range members {
		switch m.Kind {
		case KindVeth, KindTap:
		default:
			v.errorf(memberPos(b.Members, m.Key), "%s is %s; a bond's members are veth ends or taps", m.Key, article(m.Kind))
			continue
		}
		if m.Kind == KindVeth && m.End.External.Value {
			v.errorf(memberPos(b.Members, m.Key), "%s is external (another program configures it) and cannot be a bond member", m.Key)
			continue
		}
		if v.hasVLANChild(m.Key) {
			v.errorf(memberPos(b.Members, m.Key), "%s is a member of %s and carries no VLAN", m.Key, what).Hint = "put the VLAN on the bond: {parent: " + key.String() + ", id: ...}"
		}
		side := "taps"
		if m.Kind == KindVeth && m.Peer != nil && m.Peer.Name.Set {
			side = nsLabel(m.Peer.Name.NS)
		}
		if _, ok := sides[side]; !ok {
			order = append(order, side)
			sides[side] = m.Key
		}
	}
	if len(order) > 1 {
		var parts []string
		for _, s := range order {
			parts = append(parts, fmt.Sprintf("%s (to %s)", sides[s], s))
		}
		v.errorf(b.MembersPos, "the members of %s lead to different places: %s", what, strings.Join(parts, ", ")).Hint =
			"netgen creates a bond with its members: bond veths that lead to the same namespace (the host counts as one), or taps"
	}
	v.port(key, &b.Port, &b.L3)
	if !b.Bridge.Set {
		v.l3(key, &b.L3)
	}
}

// members checks a bond's or VRF's member list: each an interface of the
// lab in the owner's namespace, unaddressed and no bridge port for a bond,
// in one bond or VRF at most. It returns the members that exist.
func (v *validator) members(what string, owner Ref, refs []Ref, listPos Pos, enslaved map[Key]string) []*Iface {
	var out []*Iface
	isBond := strings.HasPrefix(what, "bond ")
	for _, r := range refs {
		if !v.checkRef(r) {
			continue
		}
		k := r.Key()
		if k.NS != owner.NS {
			v.errorf(r.Pos, "%s is in %s, but %s is in %s", k, nsLabel(k.NS), what, nsLabel(owner.NS)).Hint = "a member is an interface of the same namespace"
			continue
		}
		if k == owner.Key() {
			v.errorf(r.Pos, "%s cannot be a member of itself", what)
			continue
		}
		m, ok := v.x.Ifaces[k]
		if !ok {
			dg := v.errorf(r.IfPos, "member %q is not an interface of the lab", k.String())
			var names []string
			for ik := range v.x.Ifaces {
				if ik.NS == k.NS {
					names = append(names, ik.If)
				}
			}
			sort.Strings(names)
			if s := diag.Suggest(k.If, names); s != "" {
				dg.Hint = fmt.Sprintf("did you mean %q?", Key{k.NS, s})
			}
			continue
		}
		if first, dup := enslaved[k]; dup {
			v.errorf(r.Pos, "%s is already a member of %s", k, first).Hint = "an interface is a member of one bond or VRF at most"
			continue
		}
		enslaved[k] = what
		if p := m.Port(); p != nil && p.Bridge.Set {
			v.errorf(r.Pos, "%s is a port of bridge %q and cannot also be a member of %s", k, p.Bridge.Value, what)
			continue
		}
		if isBond {
			if l3 := m.L3(); l3 != nil && l3.HasAny() {
				v.errorf(r.Pos, "%s is a member of %s and carries no address, gateway or route", k, what).Hint = "put the addresses on the bond"
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

// portOpts checks the `port:` settings of a bridge port.
func (v *validator) portOpts(p *Port) {
	o := p.Opts
	if o == nil {
		return
	}
	if !p.Bridge.Set {
		v.errorf(o.Pos, "`port:` needs `bridge:`: port settings exist only on a bridge port")
	}
	if o.Cost.Set && (o.Cost.Value < 1 || o.Cost.Value > 65535) {
		v.errorf(o.Cost.Pos, "port cost %d is out of range 1-65535", o.Cost.Value)
	}
	if o.Priority.Set && (o.Priority.Value < 0 || o.Priority.Value > 63) {
		v.errorf(o.Priority.Pos, "port priority %d is out of range 0-63", o.Priority.Value)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
