package schema

import (
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/diag"
)

// Wire joins two interfaces of one namespace so that every frame that
// arrives on one leaves through the other, both ways, with nothing in
// between (tc ingress and mirred redirect).
type Wire struct {
	Pos  Pos
	Ends [2]Ref
}

// wires decodes `wires:`, a list of two-reference lists.
func (d *decoder) wires(n *yaml.Node) []*Wire {
	var out []*Wire
	for _, c := range d.list(n, "wires") {
		if c.Kind != yaml.SequenceNode {
			d.errorf(pos(c), "a wire is a list of its two ends, not %s", kindName(c)).Hint = "write e.g. [vm1-tap, vm2-tap]"
			continue
		}
		ends := d.list(c, "a wire")
		if len(ends) != 2 {
			d.errorf(pos(c), "a wire has exactly two ends, this one has %d", len(ends))
			continue
		}
		w := &Wire{Pos: pos(c)}
		ok := true
		for i, e := range ends {
			w.Ends[i] = d.ref(e, "wire end")
			ok = ok && w.Ends[i].Set
		}
		if ok {
			out = append(out, w)
		}
	}
	return out
}

// wires checks that each wire joins two interfaces of the lab in one
// namespace that nothing else uses: no address (the wire takes every frame
// before IP sees it), no bridge, no VLAN on it, no other wire.
func (v *validator) wires() {
	used := map[Key]Pos{}
	for _, w := range v.lab.Wires {
		ok := true
		for _, r := range w.Ends {
			if !v.checkRef(r) {
				ok = false
				continue
			}
			if !v.wireEnd(r) {
				ok = false
			}
			if first, dup := used[r.Key()]; dup {
				v.errorf(r.Pos, "%s is already an end of the wire at line %d", r.Key(), first.Line).Hint = "an interface is the end of one wire at most"
				ok = false
			}
		}
		for _, r := range w.Ends {
			if _, dup := used[r.Key()]; !dup {
				used[r.Key()] = w.Pos
			}
		}
		if !ok {
			continue
		}
		a, b := w.Ends[0], w.Ends[1]
		switch {
		case a.Key() == b.Key():
			v.errorf(b.Pos, "a wire joins two interfaces; both ends are %s", a.Key())
		case a.NS != b.NS:
			v.errorf(b.Pos, "wire ends %s and %s are in different namespaces (%s, %s)", a.Key(), b.Key(), nsLabel(a.NS), nsLabel(b.NS)).Hint =
				"a wire joins two interfaces of one namespace; use a veth to cross namespaces"
		}
	}
}

// wireEnd checks one end of a wire.
func (v *validator) wireEnd(r Ref) bool {
	i, ok := v.x.Ifaces[r.Key()]
	if !ok {
		dg := v.errorf(r.IfPos, "wire end %s is not an interface of the lab", r.Key())
		var names []string
		for k := range v.x.Ifaces {
			if k.NS == r.NS {
				names = append(names, k.If)
			}
		}
		sort.Strings(names)
		if dg.Hint = diag.DidYouMean(r.If, names); dg.Hint == "" {
			dg.Hint = "a wire end is a tap, a veth end, a VLAN or an uplink the lab declares"
		}
		return false
	}
	bad := func(format string, args ...any) bool {
		v.errorf(r.Pos, "wire end %s %s", r.Key(), fmt.Sprintf(format, args...)).Hint = "a wire end carries no address, is no bridge port, has no VLANs and is not external"
		return false
	}
	if i.Kind == KindBridge {
		return bad("is a bridge: a bridge learns and filters, a wire passes everything")
	}
	if l3 := i.L3(); l3 != nil && l3.HasAny() {
		return bad("has addresses, a gateway or routes (line %d): the wire takes every frame before IP sees it", i.Pos.Line)
	}
	if p := i.Port(); p != nil && p.Bridge.Set {
		return bad("is a port of bridge %q (line %d)", p.Bridge.Value, p.Bridge.Pos.Line)
	}
	if v.hasVLANChild(i.Key) {
		return bad("is the parent of VLANs: the wire would take their frames")
	}
	if i.External() {
		return bad("is external: another program configures it")
	}
	return true
}
