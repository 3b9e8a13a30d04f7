package schema

import (
	"gopkg.in/yaml.v3"
)

// labObjects decodes the top-level lists `bonds`, `dummies` and `vrfs`.
func (d *decoder) labObjects(key string, v *yaml.Node, lab *Lab) {
	for _, c := range d.list(v, key) {
		switch key {
		case "bonds":
			lab.Bonds = append(lab.Bonds, d.bond(c))
		case "dummies":
			lab.Dummies = append(lab.Dummies, d.dummy(c))
		case "vrfs":
			lab.VRFs = append(lab.VRFs, d.vrf(c))
		}
	}
}

// members decodes a list of interface references.
func (d *decoder) members(v *yaml.Node) ([]Ref, Pos) {
	var out []Ref
	for _, c := range d.list(v, "members") {
		if r := d.ref(c, "member"); r.Set {
			out = append(out, r)
		}
	}
	return out, pos(v)
}

func (d *decoder) bond(n *yaml.Node) *Bond {
	b := &Bond{Pos: pos(n)}
	d.fields(n, "a bond", bondKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "name":
			b.Name = d.ref(v, "bond")
		case "members":
			b.Members, b.MembersPos = d.members(v)
		case "mode":
			b.Mode = d.str(v, "mode")
		case "lacp-rate":
			b.LACPRate = d.str(v, "lacp-rate")
		case "xmit-hash-policy":
			b.XmitHashPolicy = d.str(v, "xmit-hash-policy")
		case "miimon":
			b.MIIMon = d.int(v, "miimon")
		default:
			return d.l3Field(key, v, &b.L3) || d.portField(key, v, &b.Port) || d.linkField(key, v, &b.Link)
		}
		return true
	})
	if missing(n, "name") {
		d.errorf(pos(n), "a bond needs `name:` ([NAMESPACE:]IFNAME)")
	}
	if missing(n, "members") {
		d.errorf(pos(n), "a bond needs `members:` (the interfaces it bonds)")
	}
	return b
}

func (d *decoder) dummy(n *yaml.Node) *Dummy {
	dm := &Dummy{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		dm.Name = d.ref(n, "dummy")
		return dm
	}
	d.fields(n, "a dummy", dummyKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "name":
			dm.Name = d.ref(v, "dummy")
		case "addresses":
			return d.l3Field(key, v, &dm.L3)
		default:
			return d.linkField(key, v, &dm.Link)
		}
		return true
	})
	if missing(n, "name") {
		d.errorf(pos(n), "a dummy needs `name:` ([NAMESPACE:]IFNAME)")
	}
	return dm
}

func (d *decoder) vrf(n *yaml.Node) *VRF {
	vr := &VRF{Pos: pos(n)}
	d.fields(n, "a vrf", vrfKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "name":
			vr.Name = d.ref(v, "vrf")
		case "table":
			vr.Table = d.int(v, "table")
		case "members":
			vr.Members, vr.MembersPos = d.members(v)
		default:
			return false
		}
		return true
	})
	if missing(n, "name") {
		d.errorf(pos(n), "a vrf needs `name:` ([NAMESPACE:]IFNAME)")
	}
	if missing(n, "table") {
		d.errorf(pos(n), "a vrf needs `table:` (1-4294967295, its routing table)")
	}
	return vr
}

func (d *decoder) portOpts(n *yaml.Node) *PortOpts {
	o := &PortOpts{Pos: pos(n)}
	d.fields(n, "the port settings", portOptKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "cost":
			o.Cost = d.int(v, "cost")
		case "priority":
			o.Priority = d.int(v, "port priority")
		case "isolated":
			o.Isolated = d.bool(v, "isolated")
		case "learning":
			o.Learning = d.bool(v, "learning")
		case "flood":
			o.Flood = d.bool(v, "flood")
		case "hairpin":
			o.Hairpin = d.bool(v, "hairpin")
		case "bpdu-guard":
			o.BPDUGuard = d.bool(v, "bpdu-guard")
		case "root-guard":
			o.RootGuard = d.bool(v, "root-guard")
		default:
			return false
		}
		return true
	})
	if n.Kind != yaml.MappingNode {
		return nil
	}
	return o
}
