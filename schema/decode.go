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
		// a caret must stay on a line the user can see. (Counting lines
		// copies the source: only a lab with diagnostics pays for it.)
		if len(d.diags.Items) == 0 {
			return
		}
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
	out := make([]entry, 0, len(n.Content)/2)
	// Most mappings are an object's few settings: a map for them cost more
	// than the search it saves. Big ones (namespaces, bridges) get a map.
	var seenMap map[string]Pos
	if len(n.Content) > 32 {
		seenMap = make(map[string]Pos, len(n.Content)/2)
	}
	seen := func(key string) (Pos, bool) {
		if seenMap != nil {
			p, ok := seenMap[key]
			return p, ok
		}
		for _, e := range out {
			if e.key == key {
				return e.kpos, true
			}
		}
		return Pos{}, false
	}
	add := func(e entry) {
		if seenMap != nil {
			seenMap[e.key] = e.kpos
		}
		out = append(out, e)
	}
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
		if first, dup := seen(k.Value); dup {
			d.diags.Errorf(pos(k), joinPath(path, k.Value), "duplicate key %q (first defined at line %d)", k.Value, first.Line)
			continue
		}
		add(entry{k.Value, pos(k), v})
	}
	for _, m := range merged {
		if _, ok := seen(m.key); !ok {
			add(m)
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

// setter decodes the value of one key of a mapping; it reports false for a
// key it does not know.
type setter func(key string, v *yaml.Node, kpos Pos, path string) bool

// keys is the sorted list of an object's keys, for "did you mean" hints.
func keys(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	sort.Strings(out)
	return out
}

// The keys every kind of object takes. They are listed once, and each
// object is decoded by one switch: a map of closures per object made
// decoding allocate more than yaml.v3's parse itself.
var (
	linkKeys      = []string{"mtu", "mac"}
	l3Keys        = []string{"addresses", "gateway", "routes"}
	portKeys      = []string{"bridge", "vlan"}
	labKeys       = keys([]string{"version", "name", "namespaces", "bridges", "veths", "vlans", "taps", "uplinks", "pools"})
	namespaceKeys = keys([]string{"loopback", "sysctl"})
	bridgeKeys    = keys([]string{"namespace", "stp", "priority", "forward-delay", "hello-time", "max-age", "ageing-time",
		"vlan-filtering", "default-pvid", "group-forward-mask", "pool"}, linkKeys, l3Keys)
	routeKeys    = keys([]string{"to", "via", "metric"})
	portVLANKeys = keys([]string{"access", "native", "trunk"})
	vethMapKeys  = keys([]string{"ends", "mtu", "pool"})
	endKeys      = keys([]string{"name", "external"}, l3Keys, portKeys, linkKeys)
	vlanKeys     = keys([]string{"parent", "id", "name", "pool"}, l3Keys, portKeys, linkKeys)
	tapKeys      = keys([]string{"name", "user", "group", "multi-queue"}, l3Keys, portKeys, linkKeys)
	uplinkKeys   = keys([]string{"interface", "mac", "mtu", "addresses"}, portKeys)
)

// fields decodes a mapping whose keys are known, reporting unknown keys with
// a "did you mean" hint. what names the object in messages ("bridge \"sw\"").
func (d *decoder) fields(n *yaml.Node, path, what string, known []string, set setter) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.diags.Errorf(pos(n), path, "%s must be a map of settings, not %s", what, kindName(n))
		return
	}
	for _, e := range d.entries(n, path) {
		if set(e.key, e.val, e.kpos, joinPath(path, e.key)) {
			continue
		}
		dg := d.diags.Errorf(e.kpos, joinPath(path, e.key), "unknown key %q in %s", e.key, what)
		if s := diag.Suggest(e.key, known); s != "" {
			dg.Hint = fmt.Sprintf("did you mean %q?", s)
		} else {
			dg.Hint = "known keys: " + strings.Join(known, ", ")
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

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
	// Plain decimals, nearly every int in a lab, are read directly; other
	// YAML forms (0x10, 0o17, 1_000) go through yaml.v3, which also builds
	// a decoder for each value.
	v, err := strconv.Atoi(s.Value)
	if err != nil || !plainDecimal(s.Value) {
		if err := s.Decode(&v); err != nil {
			d.diags.Errorf(pos(s), path, "%s is out of range", what)
			return Int{}
		}
	}
	return Int{Value: v, Pos: pos(s), Set: true}
}

// plainDecimal reports whether s is 0 or a decimal without a sign other
// than "-" and without leading zeros: the form whose value strconv and YAML
// agree on.
func plainDecimal(s string) bool {
	if s == "0" {
		return true
	}
	s = strings.TrimPrefix(s, "-")
	if s == "" || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
	d.fields(n, "", "the lab", labKeys, func(key string, v *yaml.Node, _ Pos, p string) bool {
		switch key {
		case "version":
			lab.Version = d.int(v, p, "version")
		case "name":
			lab.Name = d.str(v, p, "name")
		case "namespaces":
			for _, e := range d.namedMap(v, p, "namespaces") {
				lab.Namespaces = append(lab.Namespaces, d.namespace(e, joinPath(p, e.key)))
			}
		case "bridges":
			for _, e := range d.namedMap(v, p, "bridges") {
				lab.Bridges = append(lab.Bridges, d.bridge(e, joinPath(p, e.key)))
			}
		case "veths":
			for i, c := range d.list(v, p, "veths") {
				if veth := d.veth(c, index(p, i)); veth != nil {
					lab.Veths = append(lab.Veths, veth)
				}
			}
		case "vlans":
			for i, c := range d.list(v, p, "vlans") {
				lab.VLANs = append(lab.VLANs, d.vlan(c, index(p, i)))
			}
		case "taps":
			for i, c := range d.list(v, p, "taps") {
				lab.Taps = append(lab.Taps, d.tap(c, index(p, i)))
			}
		case "uplinks":
			for i, c := range d.list(v, p, "uplinks") {
				lab.Uplinks = append(lab.Uplinks, d.uplink(c, index(p, i)))
			}
		case "pools":
			d.pools(v, p, lab)
		default:
			return false
		}
		return true
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
	d.fields(e.val, path, what, namespaceKeys, func(key string, v *yaml.Node, _ Pos, p string) bool {
		switch key {
		case "loopback":
			ns.Loopback = d.bool(v, p, "loopback")
		case "sysctl":
			for _, s := range d.namedMap(v, p, "sysctl") {
				val := d.str(s.val, joinPath(p, s.key), fmt.Sprintf("the value of sysctl %q", s.key))
				if val.Set {
					ns.Sysctls = append(ns.Sysctls, Sysctl{Key: Str{Value: s.key, Pos: s.kpos, Set: true}, Value: val})
				}
			}
		default:
			return false
		}
		return true
	})
	return ns
}

func (d *decoder) bridge(e entry, path string) *Bridge {
	b := &Bridge{Name: Str{Value: e.key, Pos: e.kpos, Set: true}}
	what := fmt.Sprintf("bridge %q", e.key)
	d.fields(e.val, path, what, bridgeKeys, func(key string, v *yaml.Node, _ Pos, p string) bool {
		switch key {
		case "namespace":
			b.Namespace = d.str(v, p, "namespace")
			if b.Namespace.Value == HostNS {
				b.Namespace.Value = ""
			}
		case "stp":
			b.STP = d.bool(v, p, "stp")
		case "priority":
			b.Priority = d.int(v, p, "priority")
		case "forward-delay":
			b.ForwardDelay = d.int(v, p, "forward-delay")
		case "hello-time":
			b.HelloTime = d.int(v, p, "hello-time")
		case "max-age":
			b.MaxAge = d.int(v, p, "max-age")
		case "ageing-time":
			b.AgeingTime = d.int(v, p, "ageing-time")
		case "vlan-filtering":
			b.VLANFiltering = d.bool(v, p, "vlan-filtering")
		case "default-pvid":
			switch {
			case v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value == "none":
				b.NoDefaultPVID = true
				b.DefaultPVID = Int{Pos: pos(v), Set: true}
			case v.Kind == yaml.ScalarNode && v.Tag != "!!int":
				d.diags.Errorf(pos(v), p, "default-pvid must be a VLAN id (1-4094) or none, not %s", kindName(v))
			default:
				b.DefaultPVID = d.int(v, p, "default-pvid")
			}
		case "group-forward-mask":
			b.GroupForwardMask = d.int(v, p, "group-forward-mask")
		case "pool":
			b.Pool = d.str(v, p, "pool")
		default:
			return d.linkField(key, v, p, &b.Link) || d.l3Field(key, v, p, &b.L3)
		}
		return true
	})
	return b
}

// linkField decodes the link settings every interface may have.
func (d *decoder) linkField(key string, v *yaml.Node, p string, l *Link) bool {
	switch key {
	case "mtu":
		l.MTU = d.int(v, p, "mtu")
	case "mac":
		l.MAC = d.str(v, p, "mac")
	default:
		return false
	}
	return true
}

// l3Field decodes addresses, gateway and routes.
func (d *decoder) l3Field(key string, v *yaml.Node, p string, l *L3) bool {
	if d.autoField(key, v, l) {
		return true
	}
	switch key {
	case "addresses":
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			d.diags.Errorf(pos(v), p, "addresses must be a list of CIDRs").Hint = fmt.Sprintf("write [%s]", v.Value)
			return true
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
	case "gateway":
		l.Gateway = d.ip(v, p, "gateway")
	case "routes":
		for i, c := range d.list(v, p, "routes") {
			if r, ok := d.route(c, index(p, i)); ok {
				l.Routes = append(l.Routes, r)
			}
		}
	default:
		return false
	}
	return true
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
	d.fields(n, path, "a route", routeKeys, func(key string, v *yaml.Node, _ Pos, p string) bool {
		switch key {
		case "to":
			if !d.routeTo(v, p, &r) {
				ok = false
			}
		case "via":
			r.Via = d.ip(v, p, "via")
			if !r.Via.Set {
				ok = false
			}
		case "metric":
			r.Metric = d.int(v, p, "metric")
		default:
			return false
		}
		return true
	})
	if n.Kind == yaml.MappingNode && !hasKey(n, "to") {
		d.diags.Errorf(pos(n), path, "a route needs `to:` (a CIDR or default)")
		ok = false
	}
	return r, ok && n.Kind == yaml.MappingNode
}

// routeTo decodes a route's destination; false when it is not usable.
func (d *decoder) routeTo(v *yaml.Node, p string, r *Route) bool {
	s := d.str(v, p, "to")
	if !s.Set {
		return false
	}
	r.ToPos = s.Pos
	if s.Value == "default" {
		r.Default = true
		return true
	}
	pfx, err := netip.ParsePrefix(s.Value)
	if err != nil {
		a, err := netip.ParseAddr(s.Value)
		if err != nil {
			d.diags.Errorf(s.Pos, p, "route destination %q is not a CIDR or `default`", s.Value)
			return false
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if pfx.Masked() != pfx {
		d.diags.Errorf(s.Pos, p, "route destination %q has host bits set", s.Value).Hint = fmt.Sprintf("did you mean %s?", pfx.Masked())
		return false
	}
	r.To = pfx
	return true
}

// portField decodes what makes an interface a bridge port.
func (d *decoder) portField(key string, v *yaml.Node, p string, pt *Port) bool {
	switch key {
	case "bridge":
		pt.Bridge = d.str(v, p, "bridge")
	case "vlan":
		pt.VLAN = d.portVLAN(v, p)
	default:
		return false
	}
	return true
}

func (d *decoder) portVLAN(n *yaml.Node, path string) *PortVLAN {
	pv := &PortVLAN{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		d.diags.Errorf(pos(n), path, "vlan must be a map").Hint = fmt.Sprintf("write {access: %s} for an access port", n.Value)
		return nil
	}
	d.fields(n, path, "the port's vlan settings", portVLANKeys, func(key string, v *yaml.Node, _ Pos, p string) bool {
		switch key {
		case "access":
			pv.Access = d.int(v, p, "access")
		case "native":
			pv.Native = d.int(v, p, "native")
		case "trunk":
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
		default:
			return false
		}
		return true
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
		d.fields(n, path, "a veth", vethMapKeys, func(key string, e *yaml.Node, _ Pos, p string) bool {
			switch key {
			case "ends":
				ends, endsPath, endsNode = d.list(e, p, "ends"), p, e
			case "mtu":
				v.MTU = d.int(e, p, "mtu")
			case "pool":
				v.Pool = d.str(e, p, "pool")
			default:
				return false
			}
			return true
		})
		if endsNode == nil && !hasKey(n, "ends") {
			d.diags.Errorf(pos(n), path, "a veth in map form needs `ends:` with its two ends")
			return nil
		}
	default:
		d.diags.Errorf(pos(n), path, "a veth is a list of two ends or a map {ends: [END, END], mtu: N}, not %s", kindName(n)).Hint = "write e.g. [netns1:p1, netns2:p2]"
		return nil
	}
	if endsNode == nil || endsNode.Kind != yaml.SequenceNode || len(ends) != 2 {
		// `ends:` with no value is a veth without ends, not a valid one.
		if endsNode != nil && (endsNode.Kind == yaml.SequenceNode || isNull(endsNode)) {
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
	d.fields(n, path, "a veth end", endKeys, func(key string, v *yaml.Node, _ Pos, p string) bool {
		switch key {
		case "name":
			e.Name = d.ref(v, p, "interface")
		case "external":
			e.External = d.bool(v, p, "external")
		default:
			return d.l3Field(key, v, p, &e.L3) || d.portField(key, v, p, &e.Port) || d.linkField(key, v, p, &e.Link)
		}
		return true
	})
	if n.Kind == yaml.MappingNode && !hasKey(n, "name") {
		d.diags.Errorf(pos(n), path, "a veth end needs `name:` ([NAMESPACE:]IFNAME)")
	}
	return e
}

func (d *decoder) vlan(n *yaml.Node, path string) *VLAN {
	v := &VLAN{Pos: pos(n)}
	d.fields(n, path, "a vlan", vlanKeys, func(key string, x *yaml.Node, _ Pos, p string) bool {
		switch key {
		case "parent":
			v.Parent = d.ref(x, p, "parent")
		case "id":
			v.ID = d.int(x, p, "id")
		case "name":
			v.Name = d.str(x, p, "name")
		case "pool":
			v.Pool = d.str(x, p, "pool")
		default:
			return d.l3Field(key, x, p, &v.L3) || d.portField(key, x, p, &v.Port) || d.linkField(key, x, p, &v.Link)
		}
		return true
	})
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
	d.fields(n, path, "a tap", tapKeys, func(key string, v *yaml.Node, _ Pos, p string) bool {
		switch key {
		case "name":
			t.Name = d.ref(v, p, "tap")
		case "user":
			t.User = d.str(v, p, "user")
		case "group":
			t.Group = d.str(v, p, "group")
		case "multi-queue":
			t.MultiQueue = d.bool(v, p, "multi-queue")
		default:
			return d.l3Field(key, v, p, &t.L3) || d.portField(key, v, p, &t.Port) || d.linkField(key, v, p, &t.Link)
		}
		return true
	})
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
	d.fields(n, path, "an uplink", uplinkKeys, func(key string, v *yaml.Node, kpos Pos, p string) bool {
		switch key {
		case "interface":
			u.Interface = d.str(v, p, "interface")
		case "mac":
			u.MAC = d.str(v, p, "mac")
		case "mtu":
			u.MTU = d.int(v, p, "mtu")
		case "addresses":
			d.diags.Errorf(kpos, p, "an uplink is a switch port and carries no addresses").Hint = "give the address to a veth end attached to the same bridge"
		default:
			return d.portField(key, v, p, &u.Port)
		}
		return true
	})
	return u
}
