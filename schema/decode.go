package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/diag"
)

// Decode reads a lab file. file is the name used in diagnostics and, when the
// lab has no `name:`, the source of the default lab name. It returns the lab
// as far as it could be read and every problem found on the way.
func Decode(file string, src []byte) (*Lab, *diag.List) {
	d := &decoder{diags: &diag.List{File: file}}
	lab := &Lab{File: file}
	defer func() {
		if !lab.Name.Set {
			lab.Name = Str{Value: defaultName(file), Pos: Pos{Line: 1, Col: 1}}
		}
		// yaml.v3 places the end of a document one line past the last one;
		// a caret must stay on a line the user can see.
		last := len(diag.Lines(src))
		for i := range d.diags.Items {
			if p := &d.diags.Items[i].Pos; p.Line > last {
				p.Line, p.Col = last, 1
			}
		}
	}()

	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			d.diags.Errorf(Pos{Line: 1, Col: 1}, "", "the lab is empty").Hint = "a lab starts with `version: 1`"
		} else {
			d.syntaxError(err)
		}
		return lab, d.diags
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.diags.Errorf(pos(&extra), "", "a lab file holds one YAML document; this is a second one").Hint = "remove the `---` line or split the labs into separate files"
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(err)
	}

	doc := &root
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			d.diags.Errorf(Pos{Line: 1, Col: 1}, "", "the lab is empty").Hint = "a lab starts with `version: 1`"
			return lab, d.diags
		}
		doc = doc.Content[0]
	}
	if isNull(doc) {
		d.diags.Errorf(pos(doc), "", "the lab is empty").Hint = "a lab starts with `version: 1`"
		return lab, d.diags
	}
	d.lab(doc, lab)
	return lab, d.diags
}

// defaultName is the lab name when the lab sets none: the file name without
// its extension, or "stdin".
func defaultName(file string) string {
	if file == "-" || file == "" || file == "<stdin>" {
		return "stdin"
	}
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

type decoder struct {
	diags   *diag.List
	aliases int
	tooMany bool
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into a positioned diagnostic
// without the library's prefix.
func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	p := Pos{Line: 1, Col: 1}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	friendly := map[string]string{
		"mapping values are not allowed in this context": "a `key: value` where no mapping can start (check the indentation, or quote a value that contains \": \")",
		"did not find expected key":                      "the indentation does not line up with the keys above",
		"found character that cannot start any token":    "a character that cannot start a value here (YAML does not allow tabs for indentation)",
		"did not find expected '-' indicator":            "a list item is indented differently from the items before it",
	}
	for k, v := range friendly {
		if strings.HasPrefix(msg, k) {
			msg = v
			break
		}
	}
	d.diags.Errorf(p, "", "invalid YAML: %s", msg)
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// resolve follows aliases so that anchors (&x / *x) work everywhere.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// maxAliases bounds how many aliases a lab may expand: nested aliases
// ("billion laughs") would otherwise make decoding exponential.
const maxAliases = 10000

// expand follows an alias, counting the expansion, in a document and reports, once, a
// lab that expands too many.
func (d *decoder) expand(n *yaml.Node) *yaml.Node {
	if n.Kind != yaml.AliasNode {
		return n
	}
	d.aliases++
	if d.aliases > maxAliases {
		if !d.tooMany {
			d.tooMany = true
			d.diags.Errorf(pos(n), "", "the lab expands more than %d aliases (*name): nested anchors multiply", maxAliases).Hint = "write the repeated settings out, or anchor smaller pieces"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	return resolve(n)
}

// kindName names a YAML node kind the way a user thinks of it.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "true/false"
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "something else"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

type entry struct {
	key  string
	kpos Pos
	val  *yaml.Node
}

// entries returns the key/value pairs of a mapping, with merge keys (<<)
// expanded, reporting duplicate keys and non-string keys.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	var out []entry
	seen := map[string]Pos{}
	var merged []entry
	for i := 0; i+1 < len(n.Content) && !d.tooMany; i += 2 {
		k, v := resolve(n.Content[i]), d.expand(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.diags.Errorf(pos(k), path, "a key must be a plain name, not %s", kindName(k))
			continue
		}
		if k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0) {
			for _, m := range d.mergeSources(v) {
				if m.Kind == yaml.MappingNode {
					merged = append(merged, d.entries(m, path)...)
				} else if !d.tooMany {
					d.diags.Errorf(pos(m), path, "a merge key (<<) takes a map or a list of maps, not %s", kindName(m))
				}
			}
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.diags.Errorf(pos(k), joinPath(path, k.Value), "duplicate key %q (first defined at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = pos(k)
		out = append(out, entry{k.Value, pos(k), v})
	}
	for _, m := range merged {
		if _, ok := seen[m.key]; !ok {
			seen[m.key] = m.kpos
			out = append(out, m)
		}
	}
	return out
}

func (d *decoder) mergeSources(v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.SequenceNode {
		var out []*yaml.Node
		for _, c := range v.Content {
			out = append(out, d.expand(c))
		}
		return out
	}
	return []*yaml.Node{v}
}

// fields decodes a mapping whose keys are known, reporting unknown keys with
// a "did you mean" hint. what names the object in messages ("bridge \"sw\"").
func (d *decoder) fields(n *yaml.Node, path, what string, handlers map[string]func(v *yaml.Node, kpos Pos, path string)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.diags.Errorf(pos(n), path, "%s must be a map of settings, not %s", what, kindName(n))
		return
	}
	known := make([]string, 0, len(handlers))
	for k := range handlers {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, e := range d.entries(n, path) {
		h, ok := handlers[e.key]
		if !ok {
			dg := d.diags.Errorf(e.kpos, joinPath(path, e.key), "unknown key %q in %s", e.key, what)
			if s := diag.Suggest(e.key, known); s != "" {
				dg.Hint = fmt.Sprintf("did you mean %q?", s)
			} else {
				dg.Hint = "known keys: " + strings.Join(known, ", ")
			}
			continue
		}
		h(e.val, e.kpos, joinPath(path, e.key))
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func (d *decoder) scalar(n *yaml.Node, path, what string) (*yaml.Node, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.diags.Errorf(pos(n), path, "%s must be a single value, not %s", what, kindName(n))
		return nil, false
	}
	return n, true
}

func (d *decoder) str(n *yaml.Node, path, what string) Str {
	s, ok := d.scalar(n, path, what)
	if !ok {
		return Str{}
	}
	return Str{Value: s.Value, Pos: pos(s), Set: true}
}

func (d *decoder) int(n *yaml.Node, path, what string) Int {
	s, ok := d.scalar(n, path, what)
	if !ok {
		return Int{}
	}
	if s.Tag != "!!int" {
		d.diags.Errorf(pos(s), path, "%s must be a whole number, not %s", what, kindName(s))
		return Int{}
	}
	var v int
	if err := s.Decode(&v); err != nil {
		d.diags.Errorf(pos(s), path, "%s is out of range", what)
		return Int{}
	}
	return Int{Value: v, Pos: pos(s), Set: true}
}

func (d *decoder) bool(n *yaml.Node, path, what string) Bool {
	s, ok := d.scalar(n, path, what)
	if !ok {
		return Bool{}
	}
	switch strings.ToLower(s.Value) {
	case "true", "yes", "on":
		if s.Tag == "!!bool" || s.Style == 0 {
			return Bool{Value: true, Pos: pos(s), Set: true}
		}
	case "false", "no", "off":
		if s.Tag == "!!bool" || s.Style == 0 {
			return Bool{Value: false, Pos: pos(s), Set: true}
		}
	}
	d.diags.Errorf(pos(s), path, "%s must be true or false, not %s", what, kindName(s))
	return Bool{}
}

func (d *decoder) list(n *yaml.Node, path, what string) []*yaml.Node {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.diags.Errorf(pos(n), path, "%s must be a list, not %s", what, kindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = d.expand(c)
	}
	return out
}

// ref decodes an interface reference `[NAMESPACE:]IFNAME`.
func (d *decoder) ref(n *yaml.Node, path, what string) Ref {
	s := d.str(n, path, what)
	if !s.Set {
		return Ref{}
	}
	// Columns of the parts: a quoted scalar starts one column later.
	col := s.Pos.Col
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		col++
	}
	r := Ref{Pos: s.Pos, NSPos: Pos{Line: s.Pos.Line, Col: col}, IfPos: Pos{Line: s.Pos.Line, Col: col}, Set: true}
	if ns, ifname, ok := strings.Cut(s.Value, ":"); ok {
		r.NS, r.If = ns, ifname
		r.IfPos.Col = col + len(ns) + 1
		if ns == HostNS {
			r.NS = ""
		} else if ns == "" {
			d.diags.Errorf(r.NSPos, path, "%s %q has an empty namespace before \":\"", what, s.Value).Hint = "write IFNAME alone (or host:IFNAME) for the host namespace"
			return Ref{}
		}
	} else {
		r.If = s.Value
	}
	return r
}

func (d *decoder) lab(n *yaml.Node, lab *Lab) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.diags.Errorf(pos(n), "", "a lab must be a map of top-level keys (version, namespaces, bridges, veths, ...), not %s", kindName(n))
		return
	}
	d.fields(n, "", "the lab", map[string]func(*yaml.Node, Pos, string){
		"version": func(v *yaml.Node, _ Pos, p string) { lab.Version = d.int(v, p, "version") },
		"name":    func(v *yaml.Node, _ Pos, p string) { lab.Name = d.str(v, p, "name") },
		"namespaces": func(v *yaml.Node, _ Pos, p string) {
			for _, e := range d.namedMap(v, p, "namespaces") {
				lab.Namespaces = append(lab.Namespaces, d.namespace(e, joinPath(p, e.key)))
			}
		},
		"bridges": func(v *yaml.Node, _ Pos, p string) {
			for _, e := range d.namedMap(v, p, "bridges") {
				lab.Bridges = append(lab.Bridges, d.bridge(e, joinPath(p, e.key)))
			}
		},
		"veths": func(v *yaml.Node, _ Pos, p string) {
			for i, c := range d.list(v, p, "veths") {
				if veth := d.veth(c, index(p, i)); veth != nil {
					lab.Veths = append(lab.Veths, veth)
				}
			}
		},
		"vlans": func(v *yaml.Node, _ Pos, p string) {
			for i, c := range d.list(v, p, "vlans") {
				lab.VLANs = append(lab.VLANs, d.vlan(c, index(p, i)))
			}
		},
		"taps": func(v *yaml.Node, _ Pos, p string) {
			for i, c := range d.list(v, p, "taps") {
				lab.Taps = append(lab.Taps, d.tap(c, index(p, i)))
			}
		},
		"uplinks": func(v *yaml.Node, _ Pos, p string) {
			for i, c := range d.list(v, p, "uplinks") {
				lab.Uplinks = append(lab.Uplinks, d.uplink(c, index(p, i)))
			}
		},
	})
	if !lab.Version.Set && !hasKey(n, "version") {
		d.diags.Errorf(pos(n), "version", "the lab has no `version`").Hint = "add `version: 1` as the first line"
	}
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// namedMap returns the entries of a `name: {settings}` map such as
// namespaces or bridges.
func (d *decoder) namedMap(n *yaml.Node, path, what string) []entry {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		hint := ""
		if n.Kind == yaml.SequenceNode {
			hint = fmt.Sprintf("write %s as a map: `name: {}` for each", what)
		}
		d.diags.Errorf(pos(n), path, "%s must be a map from names to settings, not %s", what, kindName(n)).Hint = hint
		return nil
	}
	return d.entries(n, path)
}

func (d *decoder) namespace(e entry, path string) *Namespace {
	ns := &Namespace{Name: Str{Value: e.key, Pos: e.kpos, Set: true}}
	what := fmt.Sprintf("namespace %q", e.key)
	d.fields(e.val, path, what, map[string]func(*yaml.Node, Pos, string){
		"loopback": func(v *yaml.Node, _ Pos, p string) { ns.Loopback = d.bool(v, p, "loopback") },
		"sysctl": func(v *yaml.Node, _ Pos, p string) {
			for _, s := range d.namedMap(v, p, "sysctl") {
				val := d.str(s.val, joinPath(p, s.key), fmt.Sprintf("the value of sysctl %q", s.key))
				if val.Set {
					ns.Sysctls = append(ns.Sysctls, Sysctl{Key: Str{Value: s.key, Pos: s.kpos, Set: true}, Value: val})
				}
			}
		},
	})
	return ns
}

func (d *decoder) bridge(e entry, path string) *Bridge {
	b := &Bridge{Name: Str{Value: e.key, Pos: e.kpos, Set: true}}
	what := fmt.Sprintf("bridge %q", e.key)
	h := map[string]func(*yaml.Node, Pos, string){
		"namespace": func(v *yaml.Node, _ Pos, p string) {
			b.Namespace = d.str(v, p, "namespace")
			if b.Namespace.Value == HostNS {
				b.Namespace.Value = ""
			}
		},
		"stp":            func(v *yaml.Node, _ Pos, p string) { b.STP = d.bool(v, p, "stp") },
		"priority":       func(v *yaml.Node, _ Pos, p string) { b.Priority = d.int(v, p, "priority") },
		"forward-delay":  func(v *yaml.Node, _ Pos, p string) { b.ForwardDelay = d.int(v, p, "forward-delay") },
		"hello-time":     func(v *yaml.Node, _ Pos, p string) { b.HelloTime = d.int(v, p, "hello-time") },
		"max-age":        func(v *yaml.Node, _ Pos, p string) { b.MaxAge = d.int(v, p, "max-age") },
		"ageing-time":    func(v *yaml.Node, _ Pos, p string) { b.AgeingTime = d.int(v, p, "ageing-time") },
		"vlan-filtering": func(v *yaml.Node, _ Pos, p string) { b.VLANFiltering = d.bool(v, p, "vlan-filtering") },
		"default-pvid": func(v *yaml.Node, _ Pos, p string) {
			if v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value == "none" {
				b.NoDefaultPVID = true
				b.DefaultPVID = Int{Pos: pos(v), Set: true}
				return
			}
			if v.Kind == yaml.ScalarNode && v.Tag != "!!int" {
				d.diags.Errorf(pos(v), p, "default-pvid must be a VLAN id (1-4094) or none, not %s", kindName(v))
				return
			}
			b.DefaultPVID = d.int(v, p, "default-pvid")
		},
		"group-forward-mask": func(v *yaml.Node, _ Pos, p string) { b.GroupForwardMask = d.int(v, p, "group-forward-mask") },
	}
	d.linkFields(h, &b.Link)
	d.l3Fields(h, &b.L3)
	d.fields(e.val, path, what, h)
	return b
}

func (d *decoder) linkFields(h map[string]func(*yaml.Node, Pos, string), l *Link) {
	h["mtu"] = func(v *yaml.Node, _ Pos, p string) { l.MTU = d.int(v, p, "mtu") }
	h["mac"] = func(v *yaml.Node, _ Pos, p string) { l.MAC = d.str(v, p, "mac") }
}

func (d *decoder) l3Fields(h map[string]func(*yaml.Node, Pos, string), l *L3) {
	h["addresses"] = func(v *yaml.Node, _ Pos, p string) {
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			d.diags.Errorf(pos(v), p, "addresses must be a list of CIDRs").Hint = fmt.Sprintf("write [%s]", v.Value)
			return
		}
		for i, c := range d.list(v, p, "addresses") {
			s := d.str(c, index(p, i), "an address")
			if !s.Set {
				continue
			}
			pfx, err := netip.ParsePrefix(s.Value)
			if err != nil || pfx.Addr().Zone() != "" {
				dg := d.diags.Errorf(s.Pos, index(p, i), "%q is not an address in CIDR notation", s.Value)
				if a, err := netip.ParseAddr(s.Value); err == nil {
					dg.Hint = fmt.Sprintf("add the prefix length, e.g. %s/%d", a, map[bool]int{true: 24, false: 64}[a.Is4()])
				} else {
					dg.Hint = "write e.g. 192.168.5.1/24 or 2001:db8::1/64"
				}
				continue
			}
			if pfx.Addr().Is4In6() {
				d.diags.Errorf(s.Pos, index(p, i), "%q is an IPv4-mapped IPv6 address", s.Value).Hint = "write the IPv4 address itself"
				continue
			}
			l.Addresses = append(l.Addresses, Address{Prefix: pfx, Pos: s.Pos})
		}
	}
	h["gateway"] = func(v *yaml.Node, _ Pos, p string) { l.Gateway = d.ip(v, p, "gateway") }
	h["routes"] = func(v *yaml.Node, _ Pos, p string) {
		for i, c := range d.list(v, p, "routes") {
			if r, ok := d.route(c, index(p, i)); ok {
				l.Routes = append(l.Routes, r)
			}
		}
	}
}

func (d *decoder) ip(n *yaml.Node, path, what string) IP {
	s := d.str(n, path, what)
	if !s.Set {
		return IP{}
	}
	a, err := netip.ParseAddr(s.Value)
	if err != nil || a.Zone() != "" {
		dg := d.diags.Errorf(s.Pos, path, "%s %q is not an IP address", what, s.Value)
		if pfx, err := netip.ParsePrefix(s.Value); err == nil {
			dg.Hint = fmt.Sprintf("write the address without a prefix length: %s", pfx.Addr())
		}
		return IP{}
	}
	return IP{Addr: a, Pos: s.Pos, Set: true}
}

func (d *decoder) route(n *yaml.Node, path string) (Route, bool) {
	r := Route{Pos: pos(n)}
	ok := true
	d.fields(n, path, "a route", map[string]func(*yaml.Node, Pos, string){
		"to": func(v *yaml.Node, _ Pos, p string) {
			s := d.str(v, p, "to")
			if !s.Set {
				ok = false
				return
			}
			r.ToPos = s.Pos
			if s.Value == "default" {
				r.Default = true
				return
			}
			pfx, err := netip.ParsePrefix(s.Value)
			if err != nil {
				if a, err := netip.ParseAddr(s.Value); err == nil {
					pfx = netip.PrefixFrom(a, a.BitLen())
				} else {
					d.diags.Errorf(s.Pos, p, "route destination %q is not a CIDR or `default`", s.Value)
					ok = false
					return
				}
			}
			if pfx.Masked() != pfx {
				d.diags.Errorf(s.Pos, p, "route destination %q has host bits set", s.Value).Hint = fmt.Sprintf("did you mean %s?", pfx.Masked())
				ok = false
				return
			}
			r.To = pfx
		},
		"via": func(v *yaml.Node, _ Pos, p string) {
			r.Via = d.ip(v, p, "via")
			if !r.Via.Set {
				ok = false
			}
		},
		"metric": func(v *yaml.Node, _ Pos, p string) { r.Metric = d.int(v, p, "metric") },
	})
	if n.Kind == yaml.MappingNode && !hasKey(n, "to") {
		d.diags.Errorf(pos(n), path, "a route needs `to:` (a CIDR or default)")
		ok = false
	}
	return r, ok && n.Kind == yaml.MappingNode
}

func (d *decoder) portFields(h map[string]func(*yaml.Node, Pos, string), pt *Port) {
	h["bridge"] = func(v *yaml.Node, _ Pos, p string) { pt.Bridge = d.str(v, p, "bridge") }
	h["vlan"] = func(v *yaml.Node, _ Pos, p string) { pt.VLAN = d.portVLAN(v, p) }
}

func (d *decoder) portVLAN(n *yaml.Node, path string) *PortVLAN {
	pv := &PortVLAN{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		d.diags.Errorf(pos(n), path, "vlan must be a map").Hint = fmt.Sprintf("write {access: %s} for an access port", n.Value)
		return nil
	}
	d.fields(n, path, "the port's vlan settings", map[string]func(*yaml.Node, Pos, string){
		"access": func(v *yaml.Node, _ Pos, p string) { pv.Access = d.int(v, p, "access") },
		"native": func(v *yaml.Node, _ Pos, p string) { pv.Native = d.int(v, p, "native") },
		"trunk": func(v *yaml.Node, _ Pos, p string) {
			pv.TrunkPos, pv.TrunkSet = pos(v), true
			if v.Kind == yaml.ScalarNode && !isNull(v) {
				// A single id or range is a one-element list.
				v = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{v}, Line: v.Line, Column: v.Column}
			}
			for i, c := range d.list(v, p, "trunk") {
				if r, ok := d.vidRange(c, index(p, i)); ok {
					pv.Trunk = append(pv.Trunk, r)
				}
			}
		},
	})
	if n.Kind != yaml.MappingNode {
		return nil
	}
	return pv
}

// vidRange reads a VLAN id (10) or an inclusive range ("20-29").
func (d *decoder) vidRange(n *yaml.Node, path string) (VIDRange, bool) {
	s, ok := d.scalar(n, path, "a trunk VLAN")
	if !ok {
		return VIDRange{}, false
	}
	r := VIDRange{Pos: pos(s)}
	bad := func() (VIDRange, bool) {
		d.diags.Errorf(pos(s), path, "trunk VLAN %q is not a VLAN id or a range such as 20-29", s.Value)
		return VIDRange{}, false
	}
	if s.Tag == "!!int" {
		v, err := strconv.Atoi(s.Value)
		if err != nil {
			return bad()
		}
		r.From, r.To = v, v
		return r, true
	}
	a, b, found := strings.Cut(s.Value, "-")
	if !found {
		return bad()
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return bad()
	}
	r.From, r.To = from, to
	return r, true
}

// veth decodes either form: a list of two ends, or {ends: [...], mtu: N}.
func (d *decoder) veth(n *yaml.Node, path string) *Veth {
	v := &Veth{Pos: pos(n)}
	var ends []*yaml.Node
	var endsPath string
	var endsNode *yaml.Node
	switch n.Kind {
	case yaml.SequenceNode:
		ends, endsPath, endsNode = d.list(n, path, "a veth"), path, n
	case yaml.MappingNode:
		d.fields(n, path, "a veth", map[string]func(*yaml.Node, Pos, string){
			"ends": func(e *yaml.Node, _ Pos, p string) { ends, endsPath, endsNode = d.list(e, p, "ends"), p, e },
			"mtu":  func(e *yaml.Node, _ Pos, p string) { v.MTU = d.int(e, p, "mtu") },
		})
		if endsNode == nil && !hasKey(n, "ends") {
			d.diags.Errorf(pos(n), path, "a veth in map form needs `ends:` with its two ends")
			return nil
		}
	default:
		d.diags.Errorf(pos(n), path, "a veth is a list of two ends or a map {ends: [END, END], mtu: N}, not %s", kindName(n)).Hint = "write e.g. [netns1:p1, netns2:p2]"
		return nil
	}
	if endsNode == nil || (endsNode.Kind == yaml.SequenceNode && len(ends) != 2) {
		if endsNode != nil && endsNode.Kind == yaml.SequenceNode {
			d.diags.Errorf(pos(endsNode), endsPath, "a veth has exactly two ends, this one has %d", len(ends))
		}
		return nil
	}
	for i, c := range ends {
		v.Ends[i] = d.end(c, index(endsPath, i))
	}
	return v
}

func (d *decoder) end(n *yaml.Node, path string) *End {
	e := &End{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode {
		e.Name = d.ref(n, path, "interface")
		return e
	}
	h := map[string]func(*yaml.Node, Pos, string){
		"name":     func(v *yaml.Node, _ Pos, p string) { e.Name = d.ref(v, p, "interface") },
		"external": func(v *yaml.Node, _ Pos, p string) { e.External = d.bool(v, p, "external") },
	}
	d.l3Fields(h, &e.L3)
	d.portFields(h, &e.Port)
	d.linkFields(h, &e.Link)
	d.fields(n, path, "a veth end", h)
	if n.Kind == yaml.MappingNode && !hasKey(n, "name") {
		d.diags.Errorf(pos(n), path, "a veth end needs `name:` ([NAMESPACE:]IFNAME)")
	}
	return e
}

func (d *decoder) vlan(n *yaml.Node, path string) *VLAN {
	v := &VLAN{Pos: pos(n)}
	h := map[string]func(*yaml.Node, Pos, string){
		"parent": func(x *yaml.Node, _ Pos, p string) { v.Parent = d.ref(x, p, "parent") },
		"id":     func(x *yaml.Node, _ Pos, p string) { v.ID = d.int(x, p, "id") },
		"name":   func(x *yaml.Node, _ Pos, p string) { v.Name = d.str(x, p, "name") },
	}
	d.l3Fields(h, &v.L3)
	d.portFields(h, &v.Port)
	d.linkFields(h, &v.Link)
	d.fields(n, path, "a vlan", h)
	if n.Kind == yaml.MappingNode {
		if !hasKey(n, "parent") {
			d.diags.Errorf(pos(n), path, "a vlan needs `parent:` (the interface it is tagged on)")
		}
		if !hasKey(n, "id") {
			d.diags.Errorf(pos(n), path, "a vlan needs `id:` (1-4094)")
		}
	}
	return v
}

func (d *decoder) tap(n *yaml.Node, path string) *Tap {
	t := &Tap{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		t.Name = d.ref(n, path, "tap")
		return t
	}
	h := map[string]func(*yaml.Node, Pos, string){
		"name":        func(v *yaml.Node, _ Pos, p string) { t.Name = d.ref(v, p, "tap") },
		"user":        func(v *yaml.Node, _ Pos, p string) { t.User = d.str(v, p, "user") },
		"group":       func(v *yaml.Node, _ Pos, p string) { t.Group = d.str(v, p, "group") },
		"multi-queue": func(v *yaml.Node, _ Pos, p string) { t.MultiQueue = d.bool(v, p, "multi-queue") },
	}
	d.l3Fields(h, &t.L3)
	d.portFields(h, &t.Port)
	d.linkFields(h, &t.Link)
	d.fields(n, path, "a tap", h)
	if n.Kind == yaml.MappingNode && !hasKey(n, "name") {
		d.diags.Errorf(pos(n), path, "a tap needs `name:` ([NAMESPACE:]IFNAME)")
	}
	return t
}

func (d *decoder) uplink(n *yaml.Node, path string) *Uplink {
	u := &Uplink{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		u.Interface = d.str(n, path, "interface")
		return u
	}
	h := map[string]func(*yaml.Node, Pos, string){
		"interface": func(v *yaml.Node, _ Pos, p string) { u.Interface = d.str(v, p, "interface") },
		"mac":       func(v *yaml.Node, _ Pos, p string) { u.MAC = d.str(v, p, "mac") },
		"mtu":       func(v *yaml.Node, _ Pos, p string) { u.MTU = d.int(v, p, "mtu") },
		"addresses": func(v *yaml.Node, kpos Pos, p string) {
			d.diags.Errorf(kpos, p, "an uplink is a switch port and carries no addresses").Hint = "give the address to a veth end attached to the same bridge"
		},
	}
	d.portFields(h, &u.Port)
	d.fields(n, path, "an uplink", h)
	return u
}
