package schema

import "sort"

// Kind is the kind of an interface in a lab.
type Kind int

// The interface kinds a lab can define.
const (
	KindVeth Kind = iota
	KindBridge
	KindTap
	KindVLAN
	KindUplink
)

func (k Kind) String() string {
	return [...]string{"veth", "bridge", "tap", "vlan", "uplink"}[k]
}

// Iface is one interface of a lab, whatever declared it, with pointers back
// to its declaration. Exactly one of the declaration pointers is set.
type Iface struct {
	Key  Key
	Kind Kind
	Pos  Pos

	Veth   *Veth
	End    *End
	Peer   *End
	Bridge *Bridge
	Tap    *Tap
	VLAN   *VLAN
	Uplink *Uplink
}

// L3 returns the interface's layer-3 settings (nil for an uplink).
func (i *Iface) L3() *L3 {
	switch i.Kind {
	case KindVeth:
		return &i.End.L3
	case KindBridge:
		return &i.Bridge.L3
	case KindTap:
		return &i.Tap.L3
	case KindVLAN:
		return &i.VLAN.L3
	}
	return nil
}

// Port returns the interface's bridge-port settings (nil for a bridge).
func (i *Iface) Port() *Port {
	switch i.Kind {
	case KindVeth:
		return &i.End.Port
	case KindTap:
		return &i.Tap.Port
	case KindVLAN:
		return &i.VLAN.Port
	case KindUplink:
		return &i.Uplink.Port
	}
	return nil
}

// MTU is the MTU the lab sets on the interface, 0 when it leaves the
// kernel's default. A veth end inherits the entry-level MTU of its pair.
func (i *Iface) MTU() int {
	switch i.Kind {
	case KindVeth:
		if i.End.MTU.Set {
			return i.End.MTU.Value
		}
		if i.Veth.MTU.Set {
			return i.Veth.MTU.Value
		}
	case KindBridge:
		return i.Bridge.MTU.Value
	case KindTap:
		return i.Tap.MTU.Value
	case KindVLAN:
		return i.VLAN.MTU.Value
	case KindUplink:
		return i.Uplink.MTU.Value
	}
	return 0
}

// MAC is the MAC address the lab sets, "" when it leaves it to the kernel.
func (i *Iface) MAC() string { return i.MACSetting().Value }

// MACSetting is the interface's `mac:` with its position; unset for an
// uplink, whose `mac:` matches an existing interface instead.
func (i *Iface) MACSetting() Str {
	switch i.Kind {
	case KindVeth:
		return i.End.MAC
	case KindBridge:
		return i.Bridge.MAC
	case KindTap:
		return i.Tap.MAC
	case KindVLAN:
		return i.VLAN.MAC
	}
	return Str{}
}

// External reports whether another program configures the interface.
func (i *Iface) External() bool { return i.Kind == KindVeth && i.End.External.Value }

// Index is the table of a lab's interfaces, namespaces and bridges. It is
// built from a lab as it is, duplicates included: the first definition wins
// and validation reports the others.
type Index struct {
	Lab        *Lab
	Ifaces     map[Key]*Iface
	Namespaces map[string]*Namespace
	Bridges    map[Key]*Bridge
	// BridgeNames maps a bridge name to every bridge of that name, in any namespace.
	BridgeNames map[string][]*Bridge
	// Order is every interface in definition order.
	Order []*Iface
	// Dups are the interfaces defined a second time, each with the first one.
	Dups [][2]*Iface

	ports map[Key][]*Iface
}

// NewIndex builds the index of a lab.
func NewIndex(lab *Lab) *Index {
	x := &Index{
		Lab:         lab,
		Ifaces:      map[Key]*Iface{},
		Namespaces:  map[string]*Namespace{},
		Bridges:     map[Key]*Bridge{},
		BridgeNames: map[string][]*Bridge{},
	}
	for _, ns := range lab.Namespaces {
		if _, dup := x.Namespaces[ns.Name.Value]; !dup {
			x.Namespaces[ns.Name.Value] = ns
		}
	}
	for _, b := range lab.Bridges {
		k := Key{b.NS(), b.Name.Value}
		if _, dup := x.Bridges[k]; !dup {
			x.Bridges[k] = b
		}
		x.BridgeNames[b.Name.Value] = append(x.BridgeNames[b.Name.Value], b)
		x.add(&Iface{Key: k, Kind: KindBridge, Pos: b.Name.Pos, Bridge: b})
	}
	for _, v := range lab.Veths {
		for i, e := range v.Ends {
			if e == nil || !e.Name.Set {
				continue
			}
			x.add(&Iface{Key: e.Name.Key(), Kind: KindVeth, Pos: e.Name.Pos, Veth: v, End: e, Peer: v.Ends[1-i]})
		}
	}
	for _, t := range lab.Taps {
		if t.Name.Set {
			x.add(&Iface{Key: t.Name.Key(), Kind: KindTap, Pos: t.Name.Pos, Tap: t})
		}
	}
	for _, u := range lab.Uplinks {
		if u.Interface.Set {
			x.add(&Iface{Key: Key{"", u.Interface.Value}, Kind: KindUplink, Pos: u.Interface.Pos, Uplink: u})
		}
	}
	for _, v := range lab.VLANs {
		if v.Parent.Set && v.ID.Set {
			p := v.Parent.Pos
			if v.Name.Set {
				p = v.Name.Pos
			}
			x.add(&Iface{Key: v.Key(), Kind: KindVLAN, Pos: p, VLAN: v})
		}
	}
	return x
}

func (x *Index) add(i *Iface) {
	if first, dup := x.Ifaces[i.Key]; dup {
		x.Dups = append(x.Dups, [2]*Iface{first, i})
		return
	}
	x.Ifaces[i.Key] = i
	x.Order = append(x.Order, i)
}

// NamespaceNames returns the declared namespaces, sorted.
func (x *Index) NamespaceNames() []string {
	out := make([]string, 0, len(x.Namespaces))
	for n := range x.Namespaces {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Ports returns the interfaces that are ports of the bridge with this key,
// in definition order (uplinks matched by MAC are not among them).
func (x *Index) Ports(bridge Key) []*Iface {
	if x.ports == nil {
		x.ports = map[Key][]*Iface{}
		for _, i := range x.Order {
			if p := i.Port(); p != nil && p.Bridge.Set {
				k := Key{i.Key.NS, p.Bridge.Value}
				x.ports[k] = append(x.ports[k], i)
			}
		}
	}
	return x.ports[bridge]
}
