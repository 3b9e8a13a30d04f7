package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"path/filepath"
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

	if bytes.HasPrefix(src, []byte{0xFF, 0xFE}) || bytes.HasPrefix(src, []byte{0xFE, 0xFF}) {
		// yaml.v3 would decode it, but every position and source line
		// netgen shows counts UTF-8 bytes.
		d.errorf(Pos{Line: 1, Col: 1}, "the lab is UTF-16 text").Hint = "netgen reads UTF-8: save the lab as UTF-8"
		return lab, d.diags
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorf(Pos{Line: 1, Col: 1}, "the lab is empty").Hint = "a lab starts with `version: 1`"
		} else {
			d.syntaxError(err, src)
		}
		return lab, d.diags
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(pos(&extra), "a lab file holds one YAML document; this is a second one").Hint = "remove the `---` line or split the labs into separate files"
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(err, src)
	}

	doc := &root
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			d.errorf(Pos{Line: 1, Col: 1}, "the lab is empty").Hint = "a lab starts with `version: 1`"
			return lab, d.diags
		}
		doc = doc.Content[0]
	}
	if isNull(doc) {
		d.errorf(pos(doc), "the lab is empty").Hint = "a lab starts with `version: 1`"
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

// errorf records an error at p.
func (d *decoder) errorf(p Pos, format string, args ...any) *diag.Diagnostic {
	return d.diags.Errorf(p, format, args...)
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
			d.errorf(pos(n), "the lab expands more than %d aliases (*name): nested anchors multiply", maxAliases).Hint = "write the repeated settings out, or anchor smaller pieces"
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
			return "the number " + n.Value
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
func (d *decoder) entries(n *yaml.Node) []entry {
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
		// A key may be an alias (*name): its position is where the alias
		// is written, the place to fix, not the anchor it repeats.
		kn := n.Content[i]
		k, v, kpos := resolve(kn), d.expand(n.Content[i+1]), pos(kn)
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.errorf(kpos, "a key must be a plain name, not %s", kindName(k))
			continue
		}
		if k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0) {
			for _, m := range d.mergeSources(v) {
				if m.Kind == yaml.MappingNode {
					merged = append(merged, d.entries(m)...)
				} else if !d.tooMany {
					d.errorf(pos(m), "a merge key (<<) takes a map or a list of maps, not %s", kindName(m))
				}
			}
			continue
		}
		if first, dup := seen(k.Value); dup {
			through := ""
			if kn.Kind == yaml.AliasNode {
				through = fmt.Sprintf(" through the alias *%s", kn.Value)
			}
			d.errorf(kpos, "duplicate key %q%s (first defined at line %d)", k.Value, through, first.Line)
			continue
		}
		add(entry{k.Value, kpos, v})
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
type setter func(key string, v *yaml.Node, kpos Pos) bool

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
	l3Keys        = []string{"addresses", "gateway", "routes", "masquerade"}
	portKeys      = []string{"bridge", "vlan", "port"}
	labKeys       = keys([]string{"version", "name", "namespaces", "bridges", "veths", "vlans", "taps", "uplinks", "machines", "wires", "dns", "bonds", "dummies", "vrfs", "pools"})
	namespaceKeys = keys([]string{"loopback", "sysctl", "machine", "services", "dns"})
	bridgeKeys    = keys([]string{"namespace", "stp", "priority", "forward-delay", "hello-time", "max-age", "ageing-time",
		"vlan-filtering", "default-pvid", "group-forward-mask", "machine", "machines", "pool", "vni", "vxlan-port"}, linkKeys, l3Keys)
	routeKeys    = keys([]string{"to", "via", "metric"})
	portVLANKeys = keys([]string{"access", "native", "trunk"})
	vethMapKeys  = keys([]string{"ends", "mtu", "netem", "pool", "vni", "vxlan-port"})
	endKeys      = keys([]string{"name", "external", "netem"}, l3Keys, portKeys, linkKeys)
	vlanKeys     = keys([]string{"parent", "id", "name", "netem", "pool"}, l3Keys, portKeys, linkKeys)
	tapKeys      = keys([]string{"name", "user", "group", "multi-queue", "netem"}, l3Keys, portKeys, linkKeys)
	uplinkKeys   = keys([]string{"interface", "mac", "mtu", "addresses"}, portKeys)
	serviceKeys  = keys([]string{"exec", "user", "group", "restart", "environment"})
	dnsKeys      = keys([]string{"nameservers", "search", "hosts", "names"})
	bondKeys     = keys([]string{"name", "members", "mode", "lacp-rate", "xmit-hash-policy", "miimon"}, l3Keys, portKeys, linkKeys)
	dummyKeys    = keys([]string{"name", "addresses"}, linkKeys)
	vrfKeys      = keys([]string{"name", "table", "members"})
	portOptKeys  = keys([]string{"cost", "priority", "isolated", "learning", "flood", "hairpin", "bpdu-guard", "root-guard"})
)

// fields decodes a mapping whose keys are known, reporting unknown keys with
// a "did you mean" hint. what names the object in messages ("bridge \"sw\"").
func (d *decoder) fields(n *yaml.Node, what string, known []string, set setter) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(pos(n), "%s must be a map of settings, not %s", what, kindName(n))
		return
	}
	for _, e := range d.entries(n) {
		if set(e.key, e.val, e.kpos) {
			continue
		}
		dg := d.errorf(e.kpos, "unknown key %q in %s", e.key, what)
		if dg.Hint = diag.DidYouMean(e.key, known); dg.Hint == "" {
			dg.Hint = "known keys: " + strings.Join(known, ", ")
		}
	}
}

func (d *decoder) scalar(n *yaml.Node, what string) (*yaml.Node, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.errorf(pos(n), "%s must be a single value, not %s", what, kindName(n))
		return nil, false
	}
	return n, true
}

func (d *decoder) str(n *yaml.Node, what string) Str {
	s, ok := d.scalar(n, what)
	if !ok {
		return Str{}
	}
	return Str{Value: s.Value, Pos: pos(s), Set: true}
}

// int reads a whole number written in plain decimal digits.
func (d *decoder) int(n *yaml.Node, what string) Int { return d.number(n, what, false) }

// number reads a whole number. Only plain decimal digits are taken (and
// 0x hex where hex is the natural form, for a bit mask): yaml.v3 follows
// YAML 1.1 and reads `id: 010` as octal 8, `0o17`, `0b11`, `1_000` and
// `+5` as numbers too, and a lab that says 010 means VLAN 10. Every other
// form is refused with the plain value as a hint rather than guessed.
func (d *decoder) number(n *yaml.Node, what string, hex bool) Int {
	s, ok := d.scalar(n, what)
	if !ok {
		return Int{}
	}
	// yaml.v3 tags "089" (not octal) and integers past 64 bits as floats.
	if s.Tag != "!!int" && (s.Tag != "!!float" || !decimalDigits(s.Value)) {
		dg := d.errorf(pos(s), "%s must be a whole number, not %s", what, kindName(s))
		if s.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 && (plainDecimal(s.Value) || hex && isHex(s.Value)) {
			dg.Hint = fmt.Sprintf("write %s without quotes", s.Value)
		} else if f, err := strconv.ParseFloat(s.Value, 64); s.Tag == "!!float" && err == nil && f == math.Trunc(f) && math.Abs(f) < 1e9 {
			dg.Hint = fmt.Sprintf("write %d", int64(f))
		}
		return Int{}
	}
	var v int64
	var err error
	switch {
	case plainDecimal(s.Value):
		v, err = strconv.ParseInt(s.Value, 10, 0)
	case hex && isHex(s.Value):
		v, err = strconv.ParseInt(s.Value[2:], 16, 0)
	default:
		d.badNumber(s, what, hex)
		return Int{}
	}
	if err != nil {
		d.errorf(pos(s), "%s %s is out of range", what, s.Value)
		return Int{}
	}
	return Int{Value: int(v), Pos: pos(s), Set: true}
}

// badNumber explains why a number YAML 1.1 accepts is refused, with the
// value in the form netgen takes as a hint.
func (d *decoder) badNumber(s *yaml.Node, what string, hex bool) {
	var yv int64
	known := s.Tag == "!!int" && s.Decode(&yv) == nil
	digits := strings.TrimLeft(s.Value, "+-")
	var dg *diag.Diagnostic
	if leadingZero(s.Value) {
		dec := strings.TrimLeft(strings.ReplaceAll(digits, "_", ""), "0")
		if dec == "" {
			dec = "0"
		}
		if strings.HasPrefix(s.Value, "-") && dec != "0" {
			dec = "-" + dec
		}
		msg := fmt.Sprintf("%s %s has a leading zero", what, s.Value)
		if known && strconv.FormatInt(yv, 10) != dec {
			msg += fmt.Sprintf(": YAML 1.1 reads it as octal, %d", yv)
		}
		dg = d.errorf(pos(s), "%s", msg)
		dg.Hint = "write " + dec
		if hex {
			dg.Hint += " (decimal), or a hex mask such as 0x4000"
		}
		return
	}
	form := "digit separators"
	switch l := strings.ToLower(digits); {
	case strings.HasPrefix(l, "0x"):
		form = "hex"
	case strings.HasPrefix(l, "0o"):
		form = "octal"
	case strings.HasPrefix(l, "0b"):
		form = "binary"
	case strings.HasPrefix(s.Value, "+"):
		form = "a + sign"
	}
	dg = d.errorf(pos(s), "%s %s is not a plain decimal number (%s)", what, s.Value, form)
	if !known {
		return
	}
	dg.Hint = fmt.Sprintf("write %d", yv)
	if hex && yv >= 0 {
		dg.Hint += fmt.Sprintf(" or %#x", yv)
	}
}

// plainDecimal reports whether s is 0 or a decimal without a sign other
// than "-" and without leading zeros: the one form whose value nobody
// reads differently.
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

// leadingZero reports whether s is a decimal written with a leading zero
// ("010", "-007", "0_10"): YAML 1.1 reads those as octal when it can.
func leadingZero(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if len(s) < 2 || s[0] != '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '_' {
			return false
		}
	}
	return true
}

// decimalDigits reports whether s is a sign and decimal digits (with YAML
// 1.1's "_" separators).
func decimalDigits(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '_' {
			return false
		}
	}
	return true
}

// isHex reports whether s is 0x followed by hex digits.
func isHex(s string) bool {
	if len(s) < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return false
	}
	for _, c := range s[2:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (d *decoder) bool(n *yaml.Node, what string) Bool {
	s, ok := d.scalar(n, what)
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
	d.errorf(pos(s), "%s must be true or false, not %s", what, kindName(s))
	return Bool{}
}

func (d *decoder) list(n *yaml.Node, what string) []*yaml.Node {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(pos(n), "%s must be a list, not %s", what, kindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = d.expand(c)
	}
	return out
}

// ref decodes an interface reference `[NAMESPACE:]IFNAME`.
func (d *decoder) ref(n *yaml.Node, what string) Ref {
	s := d.str(n, what)
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
			d.errorf(r.NSPos, "%s %q has an empty namespace before \":\"", what, s.Value).Hint = "write IFNAME alone (or host:IFNAME) for the host namespace"
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
		d.errorf(pos(n), "a lab must be a map of top-level keys (version, namespaces, bridges, veths, ...), not %s", kindName(n))
		return
	}
	d.fields(n, "the lab", labKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "version":
			lab.Version = d.int(v, "version")
		case "name":
			lab.Name = d.str(v, "name")
		case "namespaces":
			for _, e := range d.namedMap(v, "namespaces") {
				lab.Namespaces = append(lab.Namespaces, d.namespace(e))
			}
		case "bridges":
			for _, e := range d.namedMap(v, "bridges") {
				lab.Bridges = append(lab.Bridges, d.bridge(e))
			}
		case "veths":
			for _, c := range d.list(v, "veths") {
				if veth := d.veth(c); veth != nil {
					lab.Veths = append(lab.Veths, veth)
				}
			}
		case "vlans":
			for _, c := range d.list(v, "vlans") {
				lab.VLANs = append(lab.VLANs, d.vlan(c))
			}
		case "taps":
			for _, c := range d.list(v, "taps") {
				lab.Taps = append(lab.Taps, d.tap(c))
			}
		case "uplinks":
			for _, c := range d.list(v, "uplinks") {
				lab.Uplinks = append(lab.Uplinks, d.uplink(c))
			}
		case "machines":
			lab.Machines = d.machines(v)
		case "wires":
			lab.Wires = d.wires(v)
		case "dns":
			lab.DNS = d.dns(v, "the lab's dns", true)
		case "bonds", "dummies", "vrfs":
			d.labObjects(key, v, lab)
		case "pools":
			d.pools(v, lab)
		default:
			return false
		}
		return true
	})
	if !lab.Version.Set && !hasKey(n, "version") {
		d.diags.Errorf(pos(n), "the lab has no `version`").Hint = "add `version: 1` as the first line"
	}
}

// missing reports whether an entry that is an object lacks a key. A list
// entry written as `-` alone (null) is an object with every key left out,
// like `{}`, so it needs its keys too (a null dummy once built an unnamed
// one); any other kind of node has its own error from decoding.
func missing(n *yaml.Node, key string) bool {
	return (n.Kind == yaml.MappingNode || isNull(n)) && !hasKey(n, key)
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
func (d *decoder) namedMap(n *yaml.Node, what string) []entry {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		hint := ""
		if n.Kind == yaml.SequenceNode {
			hint = fmt.Sprintf("write %s as a map: `name: {}` for each", what)
		}
		d.errorf(pos(n), "%s must be a map from names to settings, not %s", what, kindName(n)).Hint = hint
		return nil
	}
	return d.entries(n)
}

func (d *decoder) namespace(e entry) *Namespace {
	ns := &Namespace{Name: Str{Value: e.key, Pos: e.kpos, Set: true}}
	what := fmt.Sprintf("namespace %q", e.key)
	d.fields(e.val, what, namespaceKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "loopback":
			ns.Loopback = d.bool(v, "loopback")
		case "machine":
			ns.Machine = d.str(v, "machine")
		case "sysctl":
			for _, s := range d.namedMap(v, "sysctl") {
				val := d.str(s.val, fmt.Sprintf("the value of sysctl %q", s.key))
				if val.Set {
					ns.Sysctls = append(ns.Sysctls, Sysctl{Key: Str{Value: s.key, Pos: s.kpos, Set: true}, Value: val})
				}
			}
		case "services":
			for _, s := range d.namedMap(v, "services") {
				ns.Services = append(ns.Services, d.service(s))
			}
		case "dns":
			ns.DNS = d.dns(v, fmt.Sprintf("the dns of namespace %q", e.key), false)
		default:
			return false
		}
		return true
	})
	return ns
}

func (d *decoder) bridge(e entry) *Bridge {
	b := &Bridge{Name: Str{Value: e.key, Pos: e.kpos, Set: true}}
	what := fmt.Sprintf("bridge %q", e.key)
	d.fields(e.val, what, bridgeKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "namespace":
			b.Namespace = d.str(v, "namespace")
			switch {
			case b.Namespace.Set && b.Namespace.Value == "":
				// Not the host by omission: an empty value is a name
				// left out, most likely a template's unset variable.
				d.errorf(b.Namespace.Pos, "namespace is empty").Hint = "leave `namespace` out, or write `namespace: host`, for a bridge in the host namespace"
				b.Namespace = Str{}
			case b.Namespace.Value == HostNS:
				b.Namespace.Value = ""
			}
		case "stp":
			b.STP = d.bool(v, "stp")
		case "machine", "machines":
			d.bridgeMachines(key, v, b)
		case "priority":
			b.Priority = d.int(v, "priority")
		case "forward-delay":
			b.ForwardDelay = d.int(v, "forward-delay")
		case "hello-time":
			b.HelloTime = d.int(v, "hello-time")
		case "max-age":
			b.MaxAge = d.int(v, "max-age")
		case "ageing-time":
			b.AgeingTime = d.int(v, "ageing-time")
		case "vlan-filtering":
			b.VLANFiltering = d.bool(v, "vlan-filtering")
		case "default-pvid":
			switch {
			case v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value == "none":
				b.NoDefaultPVID = true
				b.DefaultPVID = Int{Pos: pos(v), Set: true}
			case v.Kind == yaml.ScalarNode && v.Tag != "!!int":
				d.errorf(pos(v), "default-pvid must be a VLAN id (1-4094) or none, not %s", kindName(v))
			default:
				b.DefaultPVID = d.int(v, "default-pvid")
			}
		case "group-forward-mask":
			b.GroupForwardMask = d.number(v, "group-forward-mask", true)
		case "pool":
			b.Pool = d.str(v, "pool")
		case "vni":
			b.VXLAN.VNI = d.int(v, "vni")
		case "vxlan-port":
			b.VXLAN.Port = d.int(v, "vxlan-port")
		default:
			return d.linkField(key, v, &b.Link) || d.l3Field(key, v, &b.L3)
		}
		return true
	})
	return b
}

// linkField decodes the link settings every interface may have.
func (d *decoder) linkField(key string, v *yaml.Node, l *Link) bool {
	switch key {
	case "mtu":
		l.MTU = d.int(v, "mtu")
	case "mac":
		l.MAC = d.str(v, "mac")
	default:
		return false
	}
	return true
}

// l3Field decodes addresses, gateway and routes.
func (d *decoder) l3Field(key string, v *yaml.Node, l *L3) bool {
	if d.autoField(key, v, l) {
		return true
	}
	switch key {
	case "masquerade":
		l.Masquerade = d.str(v, "masquerade")
	case "addresses":
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			d.errorf(pos(v), "addresses must be a list of CIDRs").Hint = fmt.Sprintf("write [%s]", v.Value)
			return true
		}
		for _, c := range d.list(v, "addresses") {
			s := d.str(c, "an address")
			if !s.Set {
				continue
			}
			pfx, err := netip.ParsePrefix(s.Value)
			if err != nil || pfx.Addr().Zone() != "" {
				dg := d.errorf(s.Pos, "%q is not an address in CIDR notation", s.Value)
				if a, err := netip.ParseAddr(s.Value); err == nil {
					dg.Hint = fmt.Sprintf("add the prefix length, e.g. %s/%d", a, map[bool]int{true: 24, false: 64}[a.Is4()])
				} else {
					dg.Hint = "write e.g. 192.168.5.1/24 or 2001:db8::1/64"
				}
				continue
			}
			if pfx.Addr().Is4In6() {
				d.errorf(s.Pos, "%q is an IPv4-mapped IPv6 address", s.Value).Hint = "write the IPv4 address itself"
				continue
			}
			l.Addresses = append(l.Addresses, Address{Prefix: pfx, Pos: s.Pos})
		}
	case "gateway":
		l.Gateway = d.ip(v, "gateway")
	case "routes":
		for _, c := range d.list(v, "routes") {
			if r, ok := d.route(c); ok {
				l.Routes = append(l.Routes, r)
			}
		}
	default:
		return false
	}
	return true
}

func (d *decoder) ip(n *yaml.Node, what string) IP {
	s := d.str(n, what)
	if !s.Set {
		return IP{}
	}
	a, err := netip.ParseAddr(s.Value)
	if err != nil || a.Zone() != "" {
		dg := d.errorf(s.Pos, "%s %q is not an IP address", what, s.Value)
		if pfx, err := netip.ParsePrefix(s.Value); err == nil {
			dg.Hint = fmt.Sprintf("write the address without a prefix length: %s", pfx.Addr())
		}
		return IP{}
	}
	return IP{Addr: a, Pos: s.Pos, Set: true}
}

func (d *decoder) route(n *yaml.Node) (Route, bool) {
	r := Route{Pos: pos(n)}
	ok := true
	d.fields(n, "a route", routeKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "to":
			if !d.routeTo(v, &r) {
				ok = false
			}
		case "via":
			r.Via = d.ip(v, "via")
			if !r.Via.Set {
				ok = false
			}
		case "metric":
			r.Metric = d.int(v, "metric")
		default:
			return false
		}
		return true
	})
	if missing(n, "to") {
		d.errorf(pos(n), "a route needs `to:` (a CIDR or default)")
		ok = false
	}
	return r, ok && n.Kind == yaml.MappingNode
}

// routeTo decodes a route's destination; false when it is not usable.
func (d *decoder) routeTo(v *yaml.Node, r *Route) bool {
	s := d.str(v, "to")
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
			d.errorf(s.Pos, "route destination %q is not a CIDR or `default`", s.Value)
			return false
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if pfx.Masked() != pfx {
		d.errorf(s.Pos, "route destination %q has host bits set", s.Value).Hint = fmt.Sprintf("did you mean %s?", pfx.Masked())
		return false
	}
	r.To = pfx
	return true
}

// portField decodes what makes an interface a bridge port.
func (d *decoder) portField(key string, v *yaml.Node, pt *Port) bool {
	switch key {
	case "bridge":
		pt.Bridge = d.str(v, "bridge")
	case "vlan":
		pt.VLAN = d.portVLAN(v)
	case "port":
		pt.Opts = d.portOpts(v)
	default:
		return false
	}
	return true
}

func (d *decoder) portVLAN(n *yaml.Node) *PortVLAN {
	pv := &PortVLAN{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		d.errorf(pos(n), "vlan must be a map").Hint = fmt.Sprintf("write {access: %s} for an access port", n.Value)
		return nil
	}
	d.fields(n, "the port's vlan settings", portVLANKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "access":
			pv.Access = d.int(v, "access")
		case "native":
			pv.Native = d.int(v, "native")
		case "trunk":
			if isNull(v) {
				return true // not written
			}
			pv.TrunkPos, pv.TrunkSet = pos(v), true
			if v.Kind == yaml.ScalarNode && !isNull(v) {
				// A single id or range is a one-element list.
				v = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{v}, Line: v.Line, Column: v.Column}
			}
			for _, c := range d.list(v, "trunk") {
				if r, ok := d.vidRange(c); ok {
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
func (d *decoder) vidRange(n *yaml.Node) (VIDRange, bool) {
	s, ok := d.scalar(n, "a trunk VLAN")
	if !ok {
		return VIDRange{}, false
	}
	r := VIDRange{Pos: pos(s)}
	bad := func() (VIDRange, bool) {
		d.errorf(pos(s), "trunk VLAN %q is not a VLAN id or a range such as 20-29", s.Value)
		return VIDRange{}, false
	}
	if s.Tag == "!!int" || s.Tag == "!!float" && leadingZero(s.Value) {
		v := d.int(s, "trunk VLAN")
		r.From, r.To = v.Value, v.Value
		return r, v.Set
	}
	a, b, found := strings.Cut(s.Value, "-")
	if !found {
		return bad()
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	from, err1 := strconv.Atoi(a)
	to, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || a[0] == '+' || b[0] == '+' || b[0] == '-' {
		return bad()
	}
	if !plainDecimal(a) || !plainDecimal(b) {
		d.errorf(pos(s), "trunk range %q has a leading zero", s.Value).Hint = fmt.Sprintf("write %d-%d", from, to)
		return VIDRange{}, false
	}
	r.From, r.To = from, to
	return r, true
}

// veth decodes either form: a list of two ends, or {ends: [...], mtu: N}.
func (d *decoder) veth(n *yaml.Node) *Veth {
	v := &Veth{Pos: pos(n)}
	var ends []*yaml.Node
	var endsNode *yaml.Node
	switch n.Kind {
	case yaml.SequenceNode:
		ends, endsNode = d.list(n, "a veth"), n
	case yaml.MappingNode:
		d.fields(n, "a veth", vethMapKeys, func(key string, e *yaml.Node, _ Pos) bool {
			switch key {
			case "ends":
				ends, endsNode = d.list(e, "ends"), e
			case "mtu":
				v.MTU = d.int(e, "mtu")
			case "netem":
				v.Netem = d.netem(e)
			case "pool":
				v.Pool = d.str(e, "pool")
			case "vni":
				v.VXLAN.VNI = d.int(e, "vni")
			case "vxlan-port":
				v.VXLAN.Port = d.int(e, "vxlan-port")
			default:
				return false
			}
			return true
		})
		if endsNode == nil && !hasKey(n, "ends") {
			d.errorf(pos(n), "a veth in map form needs `ends:` with its two ends")
			return nil
		}
	default:
		d.errorf(pos(n), "a veth is a list of two ends or a map {ends: [END, END], mtu: N}, not %s", kindName(n)).Hint = "write e.g. [netns1:p1, netns2:p2]"
		return nil
	}
	if endsNode == nil || endsNode.Kind != yaml.SequenceNode || len(ends) != 2 {
		// `ends:` with no value is a veth without ends, not a valid one.
		if endsNode != nil && (endsNode.Kind == yaml.SequenceNode || isNull(endsNode)) {
			d.errorf(pos(endsNode), "a veth has exactly two ends, this one has %d", len(ends))
		}
		return nil
	}
	for i, c := range ends {
		v.Ends[i] = d.end(c)
	}
	return v
}

func (d *decoder) end(n *yaml.Node) *End {
	e := &End{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode {
		e.Name = d.ref(n, "interface")
		return e
	}
	d.fields(n, "a veth end", endKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "name":
			e.Name = d.ref(v, "interface")
		case "external":
			e.External = d.bool(v, "external")
		case "netem":
			e.Netem = d.netem(v)
		default:
			return d.l3Field(key, v, &e.L3) || d.portField(key, v, &e.Port) || d.linkField(key, v, &e.Link)
		}
		return true
	})
	if n.Kind == yaml.MappingNode && !hasKey(n, "name") {
		d.errorf(pos(n), "a veth end needs `name:` ([NAMESPACE:]IFNAME)")
	}
	return e
}

func (d *decoder) vlan(n *yaml.Node) *VLAN {
	v := &VLAN{Pos: pos(n)}
	d.fields(n, "a vlan", vlanKeys, func(key string, x *yaml.Node, _ Pos) bool {
		switch key {
		case "parent":
			v.Parent = d.ref(x, "parent")
		case "id":
			v.ID = d.int(x, "id")
		case "name":
			v.Name = d.str(x, "name")
		case "netem":
			v.Netem = d.netem(x)
		case "pool":
			v.Pool = d.str(x, "pool")
		default:
			return d.l3Field(key, x, &v.L3) || d.portField(key, x, &v.Port) || d.linkField(key, x, &v.Link)
		}
		return true
	})
	if missing(n, "parent") {
		d.errorf(pos(n), "a vlan needs `parent:` (the interface it is tagged on)")
	}
	if missing(n, "id") {
		d.errorf(pos(n), "a vlan needs `id:` (1-4094)")
	}
	return v
}

func (d *decoder) tap(n *yaml.Node) *Tap {
	t := &Tap{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		t.Name = d.ref(n, "tap")
		return t
	}
	d.fields(n, "a tap", tapKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "name":
			t.Name = d.ref(v, "tap")
		case "user":
			t.User = d.str(v, "user")
		case "group":
			t.Group = d.str(v, "group")
		case "multi-queue":
			t.MultiQueue = d.bool(v, "multi-queue")
		case "netem":
			t.Netem = d.netem(v)
		default:
			return d.l3Field(key, v, &t.L3) || d.portField(key, v, &t.Port) || d.linkField(key, v, &t.Link)
		}
		return true
	})
	if missing(n, "name") {
		d.errorf(pos(n), "a tap needs `name:` ([NAMESPACE:]IFNAME)")
	}
	return t
}

func (d *decoder) uplink(n *yaml.Node) *Uplink {
	u := &Uplink{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		u.Interface = d.str(n, "interface")
		return u
	}
	d.fields(n, "an uplink", uplinkKeys, func(key string, v *yaml.Node, kpos Pos) bool {
		switch key {
		case "interface":
			u.Interface = d.str(v, "interface")
		case "mac":
			u.MAC = d.str(v, "mac")
		case "mtu":
			u.MTU = d.int(v, "mtu")
		case "addresses":
			d.errorf(kpos, "an uplink is a switch port and carries no addresses").Hint = "give the address to a veth end attached to the same bridge"
		default:
			return d.portField(key, v, &u.Port)
		}
		return true
	})
	return u
}
