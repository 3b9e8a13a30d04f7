// Package graph draws a lab's topology from its plan, for `netgen graph`:
// Graphviz DOT or a Mermaid flowchart. Every namespace (and the host) is a
// box of its interfaces; every interface is a node labelled with its name,
// kind and addresses; cables (veth pairs) are solid edges, bridge ports
// dashed edges to their bridge labelled with their VLANs, VLAN
// sub-interfaces dotted edges to their parent. Uplinks, taps and external
// ends, where the lab meets the world, have shapes of their own.
//
// In a lab with machines, each machine is a box around its root namespace's
// interfaces and its namespaces' boxes, and a cable between two machines
// (carried over VXLAN) says so. An impaired interface says what its netem
// does to the frames leaving it.
//
// The output is a function of the plan alone, in the plan's order (host
// first, then namespaces by name): the same lab always draws the same bytes.
package graph

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/schema"
)

// Formats are the formats Render takes.
var Formats = []string{"dot", "mermaid"}

// Machines says where the namespaces of a lab with machines are; the zero
// value is a lab without machines.
type Machines struct {
	// This is the machine whose part the plan is (`--machine`): its root
	// namespace is the plan's host.
	This string
	// Of maps a namespace to its machine; a machine's own name maps to
	// itself where the plan is the whole lab (schema.Flatten draws a
	// machine's root namespace as a namespace named like the machine).
	Of map[string]string
}

// machine returns the machine of a namespace ("" for the host), and
// whether the namespace is that machine's root namespace.
func (m Machines) machine(ns string) (string, bool) {
	if ns == "" {
		return m.This, m.This != ""
	}
	if m.This != "" {
		return m.This, false
	}
	on := m.Of[ns]
	return on, on != "" && on == ns
}

// Render draws a plan in a format of Formats.
func Render(p *generator.Plan, format string, m Machines) ([]byte, error) {
	g := build(p, m)
	switch format {
	case "dot":
		return g.dot(), nil
	case "mermaid":
		return g.mermaid(), nil
	}
	return nil, fmt.Errorf("unknown graph format %q (want dot or mermaid)", format)
}

// role is how an interface is drawn.
type role int

const (
	plain role = iota
	bridge
	uplink
	tap
	external
)

type node struct {
	id    string // stable and safe in both formats: n0, n1, ...
	l     *generator.Link
	role  role
	lines []string // first line: the name; then kind and settings, addresses
}

type edge struct {
	a, b  *node
	style string // "cable", "port", "vlan"
	label string
}

type box struct {
	id    string
	label string
	nodes []*node
	// machine is the machine the box is on ("" without machines); root
	// says the box is that machine's root namespace, drawn as the
	// machine's own box.
	machine string
	root    bool
}

type graph struct {
	lab   string
	boxes []*box
	edges []edge
}

func newBox(g *graph, ns string, m Machines) *box {
	b := &box{id: "s" + strconv.Itoa(len(g.boxes)), label: "host"}
	if ns != "" {
		b.label = "namespace " + ns
	}
	b.machine, b.root = m.machine(ns)
	if b.root {
		b.label = "machine " + b.machine
	}
	g.boxes = append(g.boxes, b)
	return b
}

func build(p *generator.Plan, m Machines) *graph {
	g := &graph{lab: p.Lab}
	nodes := map[*generator.Link]*node{}
	vlans := bridgeVLANs(p)
	boxes := map[string]*box{}
	for _, l := range p.Links {
		b := boxes[l.NS]
		if b == nil {
			b = newBox(g, l.NS, m)
			boxes[l.NS] = b
		}
		n := &node{id: "n" + strconv.Itoa(len(nodes)), l: l}
		n.role, n.lines = describe(l, vlans[l])
		nodes[l] = n
		b.nodes = append(b.nodes, n)
	}
	// Namespaces without links are drawn too: they are part of the lab.
	for _, u := range p.Units {
		if u.Namespace != nil && boxes[u.Namespace.Name] == nil {
			boxes[u.Namespace.Name] = newBox(g, u.Namespace.Name, m)
		}
	}
	for _, l := range p.Links {
		n := nodes[l]
		if l.Peer != nil && l.Creator {
			label := ""
			if l.MTU != 0 && l.MTU == l.Peer.MTU {
				label = fmt.Sprintf("MTU %d", l.MTU)
			}
			// A cable between two machines is carried over VXLAN: each
			// end is a VXLAN device.
			if a, b := boxes[l.NS], boxes[l.Peer.NS]; a.machine != b.machine {
				label = joinLabel("VXLAN "+a.machine+" - "+b.machine, label)
				for _, end := range []*node{n, nodes[l.Peer]} {
					end.lines[1] = "VXLAN" + strings.TrimPrefix(end.lines[1], "veth")
				}
			}
			g.edges = append(g.edges, edge{a: n, b: nodes[l.Peer], style: "cable", label: label})
		}
		if l.Parent != nil {
			g.edges = append(g.edges, edge{a: n, b: nodes[l.Parent], style: "vlan", label: fmt.Sprintf("802.1Q %d", l.VID)})
		}
		if l.Master != nil {
			g.edges = append(g.edges, edge{a: n, b: nodes[l.Master], style: "port", label: joinLabel(portLabel(l), portOptsLabel(l.PortOpts))})
		}
		if l.Bond != nil {
			g.edges = append(g.edges, edge{a: n, b: nodes[l.Bond], style: "port", label: "member"})
		}
		if l.VRF != nil {
			g.edges = append(g.edges, edge{a: n, b: nodes[l.VRF], style: "port", label: "VRF member"})
		}
	}
	// A wire is drawn as a cable between its ends, and says it is one.
	for _, w := range p.Wires {
		g.edges = append(g.edges, edge{a: nodes[w.A], b: nodes[w.B], style: "cable", label: "wire"})
	}
	return g
}

// describe gives a link's role and the lines of its label.
func describe(l *generator.Link, vlans string) (role, []string) {
	r := plain
	var kind []string
	switch l.Kind {
	case schema.KindBridge:
		r = bridge
		kind = append(kind, "bridge")
		if o := l.Bridge; o != nil {
			if o.STP {
				kind = append(kind, "STP")
			}
			if o.VLANFiltering {
				kind = append(kind, "VLAN-aware")
			}
		}
	case schema.KindUplink:
		r = uplink
		kind = append(kind, "uplink")
		if l.MatchMAC != "" {
			kind = append(kind, "MAC "+l.MatchMAC)
		}
	case schema.KindTap:
		r = tap
		kind = append(kind, "tap")
	case schema.KindVLAN:
		kind = append(kind, fmt.Sprintf("VLAN %d", l.VID))
	case schema.KindBond:
		kind = append(kind, "bond "+l.BondOpts.Mode)
		if o := l.BondOpts; o.LACPRate != "" {
			kind = append(kind, "LACP "+o.LACPRate)
		}
		if o := l.BondOpts; o.XmitHashPolicy != "" {
			kind = append(kind, "hash "+o.XmitHashPolicy)
		}
	case schema.KindVRF:
		kind = append(kind, fmt.Sprintf("VRF table %d", l.Table))
	case schema.KindVXLAN:
		kind = append(kind, fmt.Sprintf("VXLAN %d", l.VXLAN.VNI))
	default:
		kind = append(kind, l.Kind.String())
	}
	if l.External {
		r = external
		kind = append(kind, "external")
	}
	if l.MTU != 0 {
		kind = append(kind, fmt.Sprintf("MTU %d", l.MTU))
	}
	name := l.Name
	if l.MatchMAC != "" {
		name = "uplink"
	}
	lines := []string{name, strings.Join(kind, ", ")}
	if x := l.VXLAN; x != nil {
		var to []string
		for _, a := range append([]netip.Addr{x.Remote}, x.FDB...) {
			if a.IsValid() {
				to = append(to, a.String())
			}
		}
		lines = append(lines, fmt.Sprintf("%s to %s, port %d", x.Local, strings.Join(to, " "), x.Port))
	}
	if l.Netem != nil {
		lines = append(lines, "netem "+l.Netem.String())
	}
	if vlans != "" {
		lines = append(lines, "VLANs "+vlans)
	}
	for _, a := range l.Addresses {
		lines = append(lines, a.String())
	}
	for _, r := range l.Routes {
		lines = append(lines, routeLabel(r))
	}
	return r, lines
}

func routeLabel(r generator.Route) string {
	to := r.To.String()
	if r.To.Bits() == 0 {
		to = "default"
	}
	s := to
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Metric != 0 {
		s += fmt.Sprintf(" metric %d", r.Metric)
	}
	return s
}

// bridgeVLANs lists the VLANs a VLAN-aware bridge carries (every id of its
// ports), as ranges: "10, 20-29".
func bridgeVLANs(p *generator.Plan) map[*generator.Link]string {
	ids := map[*generator.Link]map[int]bool{}
	for _, l := range p.Links {
		if l.Master == nil || l.PortVLANs == nil {
			continue
		}
		if ids[l.Master] == nil {
			ids[l.Master] = map[int]bool{}
		}
		for _, e := range l.PortVLANs.Entries {
			for id := e.From; id <= e.To; id++ {
				ids[l.Master][id] = true
			}
		}
	}
	out := map[*generator.Link]string{}
	for br, set := range ids {
		var ranges []string
		for id := 1; id <= 4094; id++ {
			if !set[id] {
				continue
			}
			end := id
			for set[end+1] {
				end++
			}
			ranges = append(ranges, vidRange(id, end))
			id = end
		}
		out[br] = strings.Join(ranges, ", ")
	}
	return out
}

// portLabel is a bridge port's VLANs: "access 10", "trunk 20-29, native 10".
func portLabel(l *generator.Link) string {
	if l.PortVLANs == nil {
		return ""
	}
	var tagged []string
	native := 0
	for _, e := range l.PortVLANs.Entries {
		switch {
		case e.PVID && e.Untagged:
			native = e.From
		default:
			tagged = append(tagged, vidRange(e.From, e.To))
		}
	}
	switch {
	case len(tagged) == 0 && native != 0:
		return fmt.Sprintf("access %d", native)
	case native != 0:
		return fmt.Sprintf("trunk %s, native %d", strings.Join(tagged, ","), native)
	}
	return "trunk " + strings.Join(tagged, ",")
}

func vidRange(from, to int) string {
	if from == to {
		return strconv.Itoa(from)
	}
	return fmt.Sprintf("%d-%d", from, to)
}

// dotQuote quotes DOT lines as one label; lab names and addresses are
// validated, so the escaping is only a guard.
func dotQuote(lines ...string) string {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = esc.Replace(l)
	}
	return `"` + strings.Join(out, `\n`) + `"`
}

func (g *graph) dot() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Generated by netgen from lab %q.\n", g.lab)
	fmt.Fprintf(&b, "graph %s {\n", dotQuote("netgen "+g.lab))
	b.WriteString("  graph [rankdir=LR, fontname=\"sans-serif\", fontsize=11, label=" + dotQuote("lab "+g.lab) + ", labelloc=t];\n")
	b.WriteString("  node [fontname=\"sans-serif\", fontsize=10, shape=box, style=rounded];\n")
	b.WriteString("  edge [fontname=\"sans-serif\", fontsize=9];\n")
	for _, t := range g.tree() {
		dotBox(&b, t, "  ")
	}
	for _, e := range g.edges {
		attrs := []string{}
		switch e.style {
		case "cable":
			attrs = append(attrs, "penwidth=2")
		case "port":
			attrs = append(attrs, "style=dashed")
		case "vlan":
			attrs = append(attrs, "style=dotted")
		}
		if e.label != "" {
			attrs = append(attrs, "label="+dotQuote(e.label))
		}
		fmt.Fprintf(&b, "  %s -- %s [%s];\n", e.a.id, e.b.id, strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// dotBox writes a box as a cluster, the boxes inside it (a machine's
// namespaces) as clusters within.
func dotBox(b *bytes.Buffer, t *tree, indent string) {
	bx := t.box
	fmt.Fprintf(b, "%ssubgraph cluster_%s {\n", indent, bx.id)
	fmt.Fprintf(b, "%s  label=%s;\n", indent, dotQuote(bx.label))
	b.WriteString(indent + "  style=rounded;\n")
	if len(bx.nodes) == 0 && len(t.inner) == 0 {
		// An empty cluster is not drawn at all: a point keeps it.
		fmt.Fprintf(b, "%s  %s_empty [shape=point, style=invis];\n", indent, bx.id)
	}
	for _, n := range bx.nodes {
		fmt.Fprintf(b, "%s  %s [label=%s%s];\n", indent, n.id, dotQuote(n.lines...), dotShape(n.role))
	}
	for _, in := range t.inner {
		dotBox(b, in, indent+"  ")
	}
	b.WriteString(indent + "}\n")
}

// tree is a box and the boxes drawn inside it.
type tree struct {
	box   *box
	inner []*tree
}

// tree nests the boxes: a machine's namespaces inside the machine's box
// (made, with no interfaces, where the plan has none of its root
// namespace), every other box at the top, in the order of g.boxes.
func (g *graph) tree() []*tree {
	var top []*tree
	machines := map[string]*tree{}
	machine := func(name string) *tree {
		t := machines[name]
		if t == nil {
			t = &tree{box: &box{id: "m" + strconv.Itoa(len(machines)), label: "machine " + name, machine: name, root: true}}
			machines[name] = t
			top = append(top, t)
		}
		return t
	}
	for _, bx := range g.boxes {
		switch {
		case bx.machine == "":
			top = append(top, &tree{box: bx})
		case bx.root:
			t := machine(bx.machine)
			t.box.id, t.box.nodes = bx.id, bx.nodes
		default:
			t := machine(bx.machine)
			t.inner = append(t.inner, &tree{box: bx})
		}
	}
	return top
}

func dotShape(r role) string {
	switch r {
	case bridge:
		return ", shape=box3d, style=\"\""
	case uplink:
		return ", shape=cds, style=\"\""
	case tap:
		return ", shape=note, style=\"\""
	case external:
		return ", style=\"rounded,dashed\""
	}
	return ""
}

// mermaidText makes a label line safe inside a quoted Mermaid label: the
// characters Mermaid reads as markup are written as entities.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
}

func (g *graph) mermaid() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%%%% Generated by netgen from lab %q.\n", g.lab)
	b.WriteString("flowchart LR\n")
	for _, t := range g.tree() {
		mermaidBox(&b, t, "  ")
	}
	for _, e := range g.edges {
		link := "---"
		switch e.style {
		case "cable":
			link = "==="
		case "port", "vlan":
			link = "-.-"
		}
		if e.label != "" {
			fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", e.a.id, link, mermaidText(e.label), e.b.id)
			continue
		}
		fmt.Fprintf(&b, "  %s %s %s\n", e.a.id, link, e.b.id)
	}
	var classes [5][]string
	for _, bx := range g.boxes {
		for _, n := range bx.nodes {
			classes[n.role] = append(classes[n.role], n.id)
		}
	}
	for r, def := range []string{"", "fill:#e8eefc,stroke:#335", "fill:#fdf1e0,stroke:#a60", "fill:#eef8ea,stroke:#360", "stroke-dasharray:4 3"} {
		if def == "" || len(classes[r]) == 0 {
			continue
		}
		name := [...]string{"", "bridge", "uplink", "tap", "external"}[r]
		fmt.Fprintf(&b, "  classDef %s %s\n", name, def)
		fmt.Fprintf(&b, "  class %s %s\n", strings.Join(classes[r], ","), name)
	}
	return b.Bytes()
}

// mermaidBox writes a box as a subgraph, the boxes inside it as
// subgraphs within.
func mermaidBox(b *bytes.Buffer, t *tree, indent string) {
	bx := t.box
	fmt.Fprintf(b, "%ssubgraph %s[\"%s\"]\n", indent, bx.id, mermaidText(bx.label))
	if len(bx.nodes) == 0 && len(t.inner) == 0 {
		// Mermaid draws no empty subgraph: an invisible node keeps it.
		fmt.Fprintf(b, "%s  %s_empty[\" \"]\n", indent, bx.id)
		fmt.Fprintf(b, "%s  style %s_empty fill:none,stroke:none\n", indent, bx.id)
	}
	for _, n := range bx.nodes {
		lines := make([]string, len(n.lines))
		for i, l := range n.lines {
			lines[i] = mermaidText(l)
		}
		label := strings.Join(lines, "<br/>")
		open, closing := mermaidShape(n.role)
		fmt.Fprintf(b, "%s  %s%s\"%s\"%s\n", indent, n.id, open, label, closing)
	}
	for _, in := range t.inner {
		mermaidBox(b, in, indent+"  ")
	}
	b.WriteString(indent + "end\n")
}

func mermaidShape(r role) (string, string) {
	switch r {
	case bridge:
		return "[[", "]]"
	case uplink:
		return ">", "]"
	case tap:
		return "[/", "/]"
	}
	return "(", ")"
}

// portOptsLabel lists a port's `port:` settings: "cost 10, isolated".
func portOptsLabel(o *generator.PortOpts) string {
	if o == nil {
		return ""
	}
	var parts []string
	if o.Cost != nil {
		parts = append(parts, fmt.Sprintf("cost %d", *o.Cost))
	}
	if o.Priority != nil {
		parts = append(parts, fmt.Sprintf("priority %d", *o.Priority))
	}
	for _, f := range []struct {
		name string
		v    *bool
	}{{"isolated", o.Isolated}, {"learning", o.Learning}, {"flood", o.Flood}, {"hairpin", o.Hairpin}, {"bpdu-guard", o.BPDUGuard}, {"root-guard", o.RootGuard}} {
		switch {
		case f.v == nil:
		case *f.v:
			parts = append(parts, f.name)
		default:
			parts = append(parts, "no "+f.name)
		}
	}
	return strings.Join(parts, ", ")
}

func joinLabel(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}
