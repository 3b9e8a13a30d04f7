package schema

import "github.com/netgen-lab/netgen/names"

// unitNames refuses a veth between two namespaces whose link unit's name
// would pass systemd's 255-byte limit: only namespace names of mostly `-`,
// escaped to `\x2d` four bytes each, come near it, but the write would fail
// then, after validation said yes.
func (v *validator) unitNames() {
	lab := v.lab.Name.Value
	if names.CheckLab(lab) != nil {
		return
	}
	for _, veth := range v.lab.Veths {
		a, b := veth.Ends[0], veth.Ends[1]
		if a == nil || b == nil || a.Name.NS == "" || b.Name.NS == "" || a.Name.NS == b.Name.NS {
			continue
		}
		if u := names.LinkUnit(lab, a.Name.NS, b.Name.NS); len(u) > names.MaxUnit {
			v.errorf(veth.Pos, "the unit for the veths between namespaces %q and %q would have a name of %d bytes: systemd's limit is %d",
				a.Name.NS, b.Name.NS, len(u), names.MaxUnit).Hint = "shorten the namespace names, or use fewer `-` in them (each is written \\x2d)"
		}
	}
}
