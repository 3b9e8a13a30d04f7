package alloc

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/schema"
)

// Expand returns the lab's source with every automatic address and gateway
// written out and every `pool:` and the `pools:` map removed: a lab that
// builds to the same files and that no longer depends on allocation.
//
// It edits the YAML tree, so that order, comments and anchors stay, and
// keeps the user's text wherever it can: a top-level section, or an entry
// of one (a veth, a bridge), that nothing changed is copied line for line;
// only what changed is written by the YAML encoder (which re-flows
// indentation and quotes some strings, such as "a:eth0" in a flow list).
// lab must be src decoded and allocated with res.
func Expand(src []byte, lab *schema.Lab, res *Result) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the lab is not a map of top-level keys")
	}
	e := newExpander(src, doc.Content[0], lab, res)
	e.edit()
	e.materialize()
	if doc.Content[0].Style&yaml.FlowStyle != 0 {
		// A lab written as one flow map has no lines to keep.
		return e.encodeAll(&doc)
	}
	return e.splice(), nil
}

// owner is the part of the file a node is written in: top-level entry top
// and, when that entry is a block list or map, its item (-1: the entry
// itself).
type owner struct{ top, item int }

type expander struct {
	lines []string
	root  *yaml.Node
	lab   *schema.Lab
	res   *Result
	owner map[*yaml.Node]owner
	dirty map[owner]bool
	// removed are the top-level entries left out (pools).
	removed map[int]bool
	// spans are the source lines of every top-level entry and item,
	// recorded before any edit.
	spans map[owner]span
	// itemized are the top-level entries written item by item when dirty.
	itemized map[int][]owner
}

// span is where an entry or item is in the source: its first line (attached
// comments included), the line of its key or dash, its last line with
// content, and the last line before the next one.
type span struct {
	start, line, last, end int
	// indent is the column of its key or dash, less one.
	indent int
}

func newExpander(src []byte, root *yaml.Node, lab *schema.Lab, res *Result) *expander {
	text := strings.TrimSuffix(string(src), "\n")
	e := &expander{lines: strings.Split(text, "\n"), root: root, lab: lab, res: res,
		owner: map[*yaml.Node]owner{}, dirty: map[owner]bool{}, removed: map[int]bool{},
		spans: map[owner]span{}, itemized: map[int][]owner{}}
	n := len(root.Content) / 2
	for k := 0; k < n; k++ {
		key, val := root.Content[2*k], root.Content[2*k+1]
		o := owner{k, -1}
		s := span{line: key.Line, start: e.attached(key.Line), indent: key.Column - 1}
		s.last = max(e.lastLine(key), e.lastLine(val))
		e.spans[o] = s
		if (val.Kind == yaml.SequenceNode || val.Kind == yaml.MappingNode) && val.Style&yaml.FlowStyle == 0 && len(val.Content) > 0 {
			step := 1
			if val.Kind == yaml.MappingNode {
				step = 2
			}
			for i := 0; i < len(val.Content); i += step {
				io := owner{k, i / step}
				first := val.Content[i]
				is := span{line: first.Line, start: e.attached(first.Line), last: e.lastLine(first), indent: first.Column - 1}
				if step == 2 {
					is.last = max(is.last, e.lastLine(val.Content[i+1]))
					e.own(val.Content[i+1], io)
				} else {
					is.indent = val.Column - 1
				}
				e.own(first, io)
				e.spans[io] = is
				e.itemized[k] = append(e.itemized[k], io)
			}
		}
		// Items first: a node belongs to the innermost part it is in.
		e.own(key, o)
		e.own(val, o)
	}
	// Each entry and item runs to the line before the next one starts.
	for k := 0; k < n; k++ {
		end := len(e.lines)
		if k+1 < n {
			end = e.spans[owner{k + 1, -1}].start - 1
		}
		s := e.spans[owner{k, -1}]
		s.end = end
		e.spans[owner{k, -1}] = s
		items := e.itemized[k]
		for i, io := range items {
			is := e.spans[io]
			is.end = end
			if i+1 < len(items) {
				is.end = e.spans[items[i+1]].start - 1
			}
			e.spans[io] = is
		}
	}
	return e
}

// own records the owner of every node of a subtree not yet owned (an
// alias's target belongs to where it is written).
func (e *expander) own(n *yaml.Node, o owner) {
	if _, ok := e.owner[n]; ok {
		return
	}
	e.owner[n] = o
	if n.Kind == yaml.AliasNode {
		return
	}
	for _, c := range n.Content {
		e.own(c, o)
	}
}

// lastLine is the last line of a subtree's content.
func (e *expander) lastLine(n *yaml.Node) int {
	last := n.Line
	if n.Kind != yaml.AliasNode {
		for _, c := range n.Content {
			last = max(last, e.lastLine(c))
		}
	}
	return last
}

// attached returns the first of the comment lines directly above line
// (no blank line between), or line itself.
func (e *expander) attached(line int) int {
	for line > 1 && isComment(e.lines[line-2]) {
		line--
	}
	return line
}

func isComment(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "#") }

func isBlankOrComment(s string) bool {
	t := strings.TrimSpace(s)
	return t == "" || strings.HasPrefix(t, "#")
}

func (e *expander) mark(n *yaml.Node, ctx owner) {
	if o, ok := e.owner[n]; ok {
		e.dirty[o] = true
		return
	}
	e.dirty[ctx] = true
}

// edit makes every change to the tree.
func (e *expander) edit() {
	for k := 0; k+1 < len(e.root.Content); k += 2 {
		key, val := e.root.Content[k], e.resolve(e.root.Content[k+1])
		top := k / 2
		switch key.Value {
		case "pools":
			e.removed[top] = true
		case "veths":
			e.list(val, top, len(e.lab.Veths), func(item *yaml.Node, i int, ctx owner) {
				v := e.lab.Veths[i]
				if v.Pool.Set {
					e.del(item, "pool", ctx)
				}
				ends := item
				if item.Kind == yaml.MappingNode {
					ends = e.direct(item, "ends", ctx)
				}
				if ends == nil || ends.Kind != yaml.SequenceNode || len(ends.Content) != 2 {
					return
				}
				for j, end := range v.Ends {
					if au := e.res.Ifaces[end.Name.Key()]; au != nil {
						e.write(ends, j, au, []string{"name"}, ctx)
					}
				}
			})
		case "vlans":
			e.list(val, top, len(e.lab.VLANs), func(item *yaml.Node, i int, ctx owner) {
				v := e.lab.VLANs[i]
				if v.Pool.Set {
					e.del(item, "pool", ctx)
				}
				if au := e.res.Ifaces[v.Key()]; au != nil {
					e.writeMap(item, au, []string{"name", "id", "parent"}, ctx)
				}
			})
		case "taps":
			e.list(val, top, len(e.lab.Taps), func(item *yaml.Node, i int, ctx owner) {
				if au := e.res.Ifaces[e.lab.Taps[i].Name.Key()]; au != nil && item.Kind == yaml.MappingNode {
					e.writeMap(item, au, []string{"name"}, ctx)
				}
			})
		case "bridges":
			if val.Kind != yaml.MappingNode {
				continue
			}
			e.flatten(val, top)
			for i := 0; i+1 < len(val.Content); i += 2 {
				ctx := owner{top, i / 2}
				if _, ok := e.spans[ctx]; !ok {
					ctx = owner{top, -1}
				}
				var b *schema.Bridge
				for _, c := range e.lab.Bridges {
					if c.Name.Value == val.Content[i].Value {
						b = c
						break
					}
				}
				if b == nil {
					continue
				}
				au := e.res.Ifaces[schema.Key{NS: b.NS(), If: b.Name.Value}]
				if !b.Pool.Set && au == nil {
					continue
				}
				item := e.unshare(val, i+1, ctx)
				if item.Kind != yaml.MappingNode {
					continue
				}
				if b.Pool.Set {
					e.del(item, "pool", ctx)
				}
				if au != nil {
					e.writeMap(item, au, []string{"namespace"}, ctx)
				}
			}
		}
	}
}

// flatten writes out the entries a top-level map merges in (<<: *x), so
// that each of its entries can be edited on its own.
func (e *expander) flatten(m *yaml.Node, top int) {
	srcs := e.merges(m)
	if len(srcs) == 0 {
		return
	}
	var keep []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Tag != "!!merge" && !(k.Value == "<<" && k.Style == 0) {
			keep = append(keep, m.Content[i], m.Content[i+1])
		}
	}
	m.Content = keep
	for _, s := range srcs {
		for i := 0; i+1 < len(s.Content); i += 2 {
			if find(m, s.Content[i].Value) < 0 && s.Content[i].Value != "<<" {
				m.Content = append(m.Content, deepCopy(s.Content[i]), deepCopy(e.resolve(s.Content[i+1])))
			}
		}
	}
	e.dirty[owner{top, -1}] = true
}

// list calls f on every item of a top-level list, each its own node.
func (e *expander) list(val *yaml.Node, top, n int, f func(item *yaml.Node, i int, ctx owner)) {
	if val.Kind != yaml.SequenceNode || len(val.Content) != n {
		return
	}
	for i := range val.Content {
		ctx := owner{top, i}
		if _, ok := e.spans[ctx]; !ok {
			ctx = owner{top, -1}
		}
		f(e.unshare(val, i, ctx), i, ctx)
	}
}

func (e *expander) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// unshare makes parent.Content[i] a node of its own (a copy of an alias's
// target), so that an edit there changes nothing else.
func (e *expander) unshare(parent *yaml.Node, i int, ctx owner) *yaml.Node {
	n := parent.Content[i]
	if n.Kind != yaml.AliasNode {
		return n
	}
	cp := deepCopy(e.resolve(n))
	parent.Content[i] = cp
	e.dirty[ctx] = true
	return cp
}

func deepCopy(n *yaml.Node) *yaml.Node {
	cp := *n
	cp.Anchor = ""
	if n.Kind != yaml.AliasNode {
		cp.Content = make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			cp.Content[i] = deepCopy(c)
		}
	}
	return &cp
}

// merges returns the maps a map merges in (<<: *x), nearest first.
func (e *expander) merges(m *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Tag != "!!merge" && !(k.Value == "<<" && k.Style == 0) {
			continue
		}
		v := e.resolve(m.Content[i+1])
		srcs := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			srcs = v.Content
		}
		for _, s := range srcs {
			if s = e.resolve(s); s.Kind == yaml.MappingNode {
				out = append(out, s)
				out = append(out, e.merges(s)...)
			}
		}
	}
	return out
}

func find(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// direct returns the value of a key of m, made m's own when it came from a
// merged map.
func (e *expander) direct(m *yaml.Node, key string, ctx owner) *yaml.Node {
	if i := find(m, key); i >= 0 {
		return e.unshare(m, i+1, ctx)
	}
	for _, s := range e.merges(m) {
		if i := find(s, key); i >= 0 {
			cp := deepCopy(e.resolve(s.Content[i+1]))
			e.set(m, key, cp, nil, ctx)
			return cp
		}
	}
	return nil
}

// del removes a key from m and from the maps it merges in.
func (e *expander) del(m *yaml.Node, key string, ctx owner) {
	if m.Kind != yaml.MappingNode {
		return
	}
	if i := find(m, key); i >= 0 {
		m.Content = append(m.Content[:i], m.Content[i+2:]...)
		e.mark(m, ctx)
	}
	for _, s := range e.merges(m) {
		if i := find(s, key); i >= 0 {
			s.Content = append(s.Content[:i], s.Content[i+2:]...)
			e.mark(s, ctx)
		}
	}
}

// set gives key the value v in m: in place when m has the key, else after
// the first of after that m has, else at the end.
func (e *expander) set(m *yaml.Node, key string, v *yaml.Node, after []string, ctx owner) {
	e.mark(m, ctx)
	if i := find(m, key); i >= 0 {
		m.Content[i+1] = v
		return
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	at := len(m.Content)
	for _, a := range after {
		if i := find(m, a); i >= 0 {
			at = i + 2
			break
		}
	}
	m.Content = append(m.Content[:at], append([]*yaml.Node{k, v}, m.Content[at:]...)...)
}

// write writes an interface's automatic settings on item i of a list: a
// bare reference becomes a map.
func (e *expander) write(list *yaml.Node, i int, au *Auto, after []string, ctx owner) {
	n := e.unshare(list, i, ctx)
	if n.Kind == yaml.ScalarNode {
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle,
			Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "name"}, n}}
		list.Content[i] = m
		e.mark(list, ctx)
		n = m
	}
	if n.Kind == yaml.MappingNode {
		e.writeMap(n, au, after, ctx)
	}
}

func (e *expander) writeMap(m *yaml.Node, au *Auto, after []string, ctx owner) {
	if len(au.Addresses) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		for _, a := range au.Addresses {
			seq.Content = append(seq.Content, addrNode(a.String(), a.Addr()))
		}
		e.set(m, "addresses", seq, after, ctx)
	}
	if au.Gateway.IsValid() {
		e.set(m, "gateway", addrNode(au.Gateway.String(), au.Gateway), append([]string{"addresses"}, after...), ctx)
	}
	if au.Default6.IsValid() {
		route := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "to"}, {Kind: yaml.ScalarNode, Tag: "!!str", Value: "default"},
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "via"}, addrNode(au.Default6.String(), au.Default6)}}
		routes := e.direct(m, "routes", ctx)
		if routes == nil || routes.Kind != yaml.SequenceNode {
			routes = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
			e.set(m, "routes", routes, []string{"gateway"}, ctx)
		}
		routes.Content = append(routes.Content, route)
		e.mark(routes, ctx)
	}
	// What is now written out in m no longer comes from a merged map: a
	// merged `auto` every user overrides would only confuse a reader.
	for _, s := range e.merges(m) {
		for _, key := range []string{"addresses", "gateway"} {
			if i := find(s, key); i >= 0 && e.resolve(s.Content[i+1]).Value == "auto" {
				s.Content = append(s.Content[:i], s.Content[i+2:]...)
				e.mark(s, ctx)
			}
		}
	}
}

// addrNode is an address as the lab format's examples write it: IPv6 in
// double quotes.
func addrNode(s string, a netip.Addr) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if a.Is6() {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// materialize replaces every alias whose anchor is no longer written
// before it (it was in `pools:`, or on a value an edit replaced) with a
// copy of its target.
func (e *expander) materialize() {
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node, ctx owner)
	walk = func(n *yaml.Node, ctx owner) {
		seen[n] = true
		for i, c := range n.Content {
			at := ctx
			if o, ok := e.owner[c]; ok {
				at = o
			}
			if c.Kind == yaml.AliasNode {
				if !seen[c.Alias] {
					cp := deepCopy(e.resolve(c))
					n.Content[i] = cp
					e.dirty[at] = true
					walk(cp, at)
				}
				continue
			}
			walk(c, at)
		}
	}
	for k := 0; k+1 < len(e.root.Content); k += 2 {
		if e.removed[k/2] {
			continue
		}
		ctx := owner{k / 2, -1}
		seen[e.root.Content[k]] = true
		walk(&yaml.Node{Content: e.root.Content[k+1 : k+2]}, ctx)
	}
}

// splice writes the result: untouched entries and items as they were
// written, changed ones through the encoder.
func (e *expander) splice() []byte {
	var out []string
	copyLines := func(from, to int) {
		for l := from; l <= to && l <= len(e.lines); l++ {
			out = append(out, e.lines[l-1])
		}
	}
	// trailing keeps the blank and comment lines after a changed part's
	// content (the encoder drops blank lines).
	trailing := func(s span) {
		for l := s.last + 1; l <= s.end; l++ {
			if isBlankOrComment(e.lines[l-1]) {
				out = append(out, e.lines[l-1])
			}
		}
	}
	n := len(e.root.Content) / 2
	if n > 0 {
		copyLines(1, e.spans[owner{0, -1}].start-1)
	}
	for k := 0; k < n; k++ {
		o := owner{k, -1}
		s := e.spans[o]
		key, val := e.root.Content[2*k], e.root.Content[2*k+1]
		items := e.itemized[k]
		anyDirty := e.dirty[o]
		for _, io := range items {
			anyDirty = anyDirty || e.dirty[io]
		}
		switch {
		case e.removed[k]:
			if k == 0 {
				copyLines(s.start, s.line-1) // the file's own header
			}
			// Its blank lines keep the sections apart, unless the part
			// before already ends with one.
			for l := s.last + 1; l <= s.end; l++ {
				if strings.TrimSpace(e.lines[l-1]) == "" && (len(out) == 0 || out[len(out)-1] != "") {
					out = append(out, "")
				}
			}
		case !anyDirty:
			copyLines(s.start, s.end)
		case !e.dirty[o] && len(items) > 0 && len(items) == childCount(val):
			copyLines(s.start, e.spans[items[0]].start-1)
			step := 1
			if val.Kind == yaml.MappingNode {
				step = 2
			}
			for i, io := range items {
				is := e.spans[io]
				if !e.dirty[io] {
					copyLines(is.start, is.end)
					continue
				}
				copyLines(is.start, is.line-1)
				var wrap *yaml.Node
				if step == 2 {
					wrap = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{val.Content[2*i], val.Content[2*i+1]}}
				} else {
					wrap = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{val.Content[i]}}
				}
				out = append(out, encode(wrap, is.indent)...)
				trailing(is)
			}
		default:
			copyLines(s.start, s.line-1)
			out = append(out, encode(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, val}}, s.indent)...)
			trailing(s)
		}
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// childCount is the number of items of a list or entries of a map.
func childCount(n *yaml.Node) int {
	if n.Kind == yaml.MappingNode {
		return len(n.Content) / 2
	}
	return len(n.Content)
}

// encode writes one wrapped entry or item at an indentation; the comments
// above it and the blank and comment lines after it are copied by the
// caller, so they are left out here.
func encode(wrap *yaml.Node, indent int) []string {
	first := *wrap.Content[0]
	first.HeadComment = ""
	wrap.Content[0] = &first
	stripFoot(wrap)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(wrap); err != nil {
		// The tree came from the parser and was edited with nodes of
		// known kinds: the encoder accepts it.
		panic(fmt.Sprintf("netgen expand: %v", err))
	}
	enc.Close()
	pad := strings.Repeat(" ", indent)
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if l == "" {
			out = append(out, l)
			continue
		}
		out = append(out, pad+unquoteRefs(l))
	}
	return out
}

// quotedRef is an interface reference the encoder quoted: it quotes every
// string with a ":" in a flow list or map, although YAML reads a:eth0
// there as the plain string it is (the format's examples write it so).
var quotedRef = regexp.MustCompile(`([\[{,] *|: )'([A-Za-z0-9][A-Za-z0-9_.-]*:[A-Za-z0-9][A-Za-z0-9_.-]*)'`)

// unquoteRefs writes the references of one encoded line as the lab's
// author would, leaving its comment alone.
func unquoteRefs(l string) string {
	code, comment := l, ""
	if i := strings.Index(l, " #"); i >= 0 {
		code, comment = l[:i], l[i:]
	}
	return quotedRef.ReplaceAllString(code, "$1$2") + comment
}

// stripFoot drops the foot comments of a subtree written by encode (the
// tree is not used after it is written), and the explicit tag of its merge
// keys.
func stripFoot(n *yaml.Node) {
	n.FootComment = ""
	if n.Kind == yaml.ScalarNode && n.Tag == "!!merge" {
		n.Tag = "" // else written as "!!merge <<"
	}
	if n.Kind == yaml.AliasNode {
		return
	}
	for _, c := range n.Content {
		stripFoot(c)
	}
}

// encodeAll writes the whole edited document through the encoder.
func (e *expander) encodeAll(doc *yaml.Node) ([]byte, error) {
	root := doc.Content[0]
	var keep []*yaml.Node
	for k := 0; k+1 < len(root.Content); k += 2 {
		if !e.removed[k/2] {
			keep = append(keep, root.Content[k], root.Content[k+1])
		}
	}
	root.Content = keep
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	enc.Close()
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = unquoteRefs(l)
	}
	return []byte(strings.Join(lines, "\n")), nil
}
