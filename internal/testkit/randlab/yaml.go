package randlab

import (
	"bytes"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// The YAML is built as yaml.v3 nodes, in random styles (flow and block,
// plain and quoted scalars, yes/no booleans, hex integers), then written by
// yaml.v3's encoder, which quotes any string that would read back as
// another type.

func (g *gen) str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	switch {
	case g.chance(0.08):
		g.form("yaml:quoted")
		n.Style = yaml.DoubleQuotedStyle
	case g.chance(0.05):
		g.form("yaml:quoted")
		n.Style = yaml.SingleQuotedStyle
	}
	return n
}

func (g *gen) plain(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func (g *gen) int(v int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
}

func (g *gen) hex(v int) *yaml.Node {
	if g.chance(0.5) {
		g.form("int:hex")
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprintf("%#x", v)}
	}
	return g.int(v)
}

func (g *gen) bool(b bool) *yaml.Node {
	if g.chance(0.25) {
		g.form("bool:word")
		words := [2][]string{{"no", "off"}, {"yes", "on"}}[map[bool]int{false: 0, true: 1}[b]]
		// A plain yes/on is a string to yaml.v3 and a boolean to netgen,
		// as to YAML 1.1 readers.
		return g.plain(pick(g, words))
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// sysctlValue writes a number as a YAML integer and anything else as a
// string, the way users write `net.ipv4.ip_forward: 1`.
func (g *gen) sysctlValue(v string) *yaml.Node {
	if _, err := strconv.Atoi(v); err == nil && !g.chance(0.2) {
		return g.int(mustAtoi(v))
	}
	return g.str(v)
}

func mustAtoi(s string) int {
	v, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (g *gen) seq(items ...*yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
	if g.chance(0.5) {
		g.form("yaml:flow")
		n.Style = yaml.FlowStyle
	}
	return n
}

// mapping writes fields in random order, in flow or block style.
func (g *gen) mapping(fields []field) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, f := range shuffled(g, fields) {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}, f.val)
	}
	if g.chance(0.35) {
		g.form("yaml:flow")
		n.Style = yaml.FlowStyle
	} else {
		g.form("yaml:block")
	}
	return n
}

func (g *gen) ifaceNode(i *iface, scalarOK bool, nameKey string, form string) *yaml.Node {
	if i.kind == "uplink" && !i.byMAC && len(i.fields) == 1 && g.chance(0.3) {
		g.form("uplink:scalar")
		return g.str(i.name)
	}
	if nameKey == "" {
		return g.mapping(i.fields)
	}
	ref := g.ref(i)
	if scalarOK && len(i.fields) == 0 && g.chance(0.6) {
		g.form(form + ":scalar")
		return g.str(ref)
	}
	g.form(form + ":map")
	return g.mapping(append([]field{{nameKey, g.str(ref)}}, i.fields...))
}

func (g *gen) vethNode(v *veth) *yaml.Node {
	ends := g.seq(g.ifaceNode(v.ends[0], true, "name", "end"), g.ifaceNode(v.ends[1], true, "name", "end"))
	if !v.asMap {
		return ends
	}
	fields := []field{{"ends", ends}}
	if v.mtu != 0 {
		fields = append(fields, field{"mtu", g.int(v.mtu)})
	}
	return g.mapping(append(fields, v.extra...))
}

// emit writes the lab.
func (g *gen) emit(name, comment string) []byte {
	var top []field
	top = append(top, field{"version", g.int(1)})
	if g.chance(0.75) {
		top = append(top, field{"name", g.str(name)})
	} else {
		g.form("name:omitted")
	}
	section := func(key string, n *yaml.Node, empty bool) {
		if !empty || g.chance(0.05) {
			top = append(top, field{key, n})
		}
	}
	var nss []field
	for _, ns := range g.nss {
		var f []field
		if ns.loopback != nil {
			f = append(f, field{"loopback", g.bool(*ns.loopback)})
		}
		if len(ns.sysctls) > 0 {
			f = append(f, field{"sysctl", g.mapping(ns.sysctls)})
		}
		if len(ns.services) > 0 {
			f = append(f, field{"services", g.mapping(ns.services)})
		}
		if ns.dns != nil {
			f = append(f, field{"dns", ns.dns})
		}
		nss = append(nss, field{ns.name, g.mapping(f)})
	}
	section("namespaces", g.mapping(nss), len(nss) == 0)
	var brs []field
	for _, b := range g.bridges {
		brs = append(brs, field{b.name, g.ifaceNode(b, false, "", "")})
	}
	section("bridges", g.mapping(brs), len(brs) == 0)
	var list []*yaml.Node
	for _, v := range shuffled(g, g.veths) {
		list = append(list, g.vethNode(v))
	}
	section("veths", g.seq(list...), len(list) == 0)
	list = nil
	for _, v := range shuffled(g, g.vlans) {
		list = append(list, g.ifaceNode(v, false, "", ""))
	}
	section("vlans", g.seq(list...), len(list) == 0)
	list = nil
	for _, t := range shuffled(g, g.taps) {
		list = append(list, g.ifaceNode(t, true, "name", "tap"))
	}
	section("taps", g.seq(list...), len(list) == 0)
	list = nil
	for _, u := range shuffled(g, g.uplinks) {
		list = append(list, g.ifaceNode(u, false, "", ""))
	}
	section("uplinks", g.seq(list...), len(list) == 0)
	top = append(top, g.moreSections()...)

	doc := g.mapping(top)
	doc.Style = 0
	g.aliases(doc)
	doc.HeadComment = comment
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(pick(g, []int{2, 2, 4}))
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}}); err != nil {
		panic(err)
	}
	if err := enc.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// aliases replaces, in document order, some collections identical to an
// earlier one with an alias to it (`&a1 {stp: true}` ... `*a1`), as users
// share settings. Only below the sections: a whole object list is never
// shared.
func (g *gen) aliases(doc *yaml.Node) {
	first := map[string]*yaml.Node{}
	anchors := 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		for k, c := range n.Content {
			if n.Kind == yaml.MappingNode && k%2 == 0 {
				continue // a key
			}
			if c.Kind != yaml.MappingNode && c.Kind != yaml.SequenceNode {
				continue
			}
			if depth >= 2 && len(c.Content) > 0 {
				out, err := yaml.Marshal(c)
				if err != nil {
					panic(err)
				}
				if f, ok := first[string(out)]; ok && g.chance(0.5) {
					if f.Anchor == "" {
						anchors++
						f.Anchor = fmt.Sprintf("a%d", anchors)
					}
					g.form("yaml:alias")
					n.Content[k] = &yaml.Node{Kind: yaml.AliasNode, Alias: f, Value: f.Anchor}
					continue
				} else if !ok {
					first[string(out)] = c
				}
			}
			walk(c, depth+1)
		}
	}
	walk(doc, 0)
}
