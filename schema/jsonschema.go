package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// The JSON Schema of the lab format (netgen-lab.schema.json, installed as
// /usr/share/netgen/netgen-lab.schema.json) is made from the decoder's own
// key lists (labKeys, bridgeKeys, ...) and the table below, which says for
// each key its type, range, default and meaning. jsonschema_test.go checks
// that every key a decoder list has is in the table and the table names no
// key the decoder refuses, that every decoder key list is an object here,
// that docs/reference.md documents every key, and that the committed file
// is what JSONSchema returns: the schema, the reference and the decoder
// cannot drift apart.
//
// The schema is draft-07: yaml-language-server, the editors' YAML support,
// implements draft-07 and older. It is as strict as a schema can be about
// structure (unknown keys, types, ranges, names) and leaves to netgen what
// needs the whole lab (a bridge that exists, a unique address).
//
// Adding a key to a decoder list: add one entry to the props of its object
// below (or to sharedProps when every interface takes it), and a row to its
// table in docs/reference.md. A new object (a new *Keys list): one entry in
// objects. The additions to version 1 (services, netem, machines, bonds,
// pools) keep their keys and objects in jsonschema_FEATURE.go (see feature).

//go:generate go test -run ^TestJSONSchemaFile$ -count=1 . -update

// SchemaFile is the schema's file name, in this directory and in the
// package.
const SchemaFile = "netgen-lab.schema.json"

// obj is a JSON Schema fragment.
type obj = map[string]any

// A prop is one key of an object.
type prop struct {
	Schema  obj    // the value's schema: type, pattern, range, or a ref
	Default any    // the value a key left out has; nil: none, or the kernel's
	Doc     string // what it means, shown by editors on hover
	// Refused is why a key the decoder knows (to explain the mistake)
	// is never valid there; such a key is `false` in the schema.
	Refused string
}

// An object is a kind of map in a lab, decoded against one decoder key list.
type object struct {
	def     string   // its name under #/definitions
	keysVar string   // the decoder's variable listing its keys
	keys    []string // that variable's value
	doc     string
	// section is the heading in docs/reference.md whose tables document
	// its keys.
	section  string
	props    map[string]prop // its own keys; the others are sharedProps
	required []string
	// scalar, when set, is the short form the decoder also takes for the
	// object: a reference string for a veth end, a tap, an uplink.
	scalar obj
	extra  obj // more keywords for the object form (uplink's oneOf)
	// nullable: the decoder takes an empty value (`netns1:`) as no
	// settings.
	nullable bool
}

// Value schemas used by several keys.
var (
	// ifnameS: 1-15 bytes of A-Z a-z 0-9 _ . -, first a letter or digit;
	// lo, all, default and all-digit names are refused (names in
	// docs/reference.md).
	ifnameS = ref("ifname")
	nsNameS = ref("namespace-name")
	refS    = ref("interface-ref")
	boolS   = ref("boolean")
	cidrS   = ref("cidr")
	ipS     = ref("ip")
	vidS    = obj{"type": "integer", "minimum": 1, "maximum": 4094}
)

func ref(def string) obj { return obj{"$ref": "#/definitions/" + def} }
func integer(lo, hi int64) obj {
	return obj{"type": "integer", "minimum": lo, "maximum": hi}
}
func str(pattern string) obj { return obj{"type": "string", "pattern": pattern} }
func listOf(item obj) obj    { return obj{"type": []string{"array", "null"}, "items": item} }

// definitions are the shared value schemas, referred to by name.
var definitions = map[string]obj{
	"ifname": {
		"description": "an interface name: 1-15 bytes of A-Z a-z 0-9 _ . -, first a letter or digit; not lo, all, default or all digits",
		"type":        "string", "pattern": `^[A-Za-z0-9][A-Za-z0-9_.-]*$`, "maxLength": MaxIfName,
		"not": obj{"anyOf": []obj{{"enum": []string{"lo", "all", "default"}}, {"pattern": `^[0-9]+$`}}},
	},
	"namespace-name": {
		"description": "a namespace name: 1-32 bytes of A-Z a-z 0-9 _ . -, first a letter or digit; not host",
		"type":        "string", "pattern": `^[A-Za-z0-9][A-Za-z0-9_.-]*$`, "maxLength": MaxNSName,
		"not": obj{"const": HostNS},
	},
	"lab-name": {
		"description": "a lab name: 1-32 bytes of a-z 0-9 -, first a letter or digit",
		"type":        "string", "pattern": `^[a-z0-9][a-z0-9-]*$`, "maxLength": MaxLabName,
	},
	"interface-ref": {
		"description": "an interface: NAMESPACE:IFNAME, or IFNAME (or host:IFNAME) in the host's root namespace, or MACHINE:IFNAME in a machine's",
		// 62: a machine name has up to 63 bytes, a namespace name 32.
		"type": "string", "pattern": `^(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,62}:)?[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$`,
	},
	"boolean": {
		"description": "true or false (yes, no, on, off are read too)",
		"anyOf": []obj{{"type": "boolean"},
			str(`^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy][Ee][Ss]|[Nn][Oo]|[Oo][Nn]|[Oo][Ff][Ff])$`)},
	},
	"cidr": {
		"description": "an IPv4 or IPv6 address with its prefix length: 192.168.5.1/24, 2001:db8::1/64",
		"type":        "string", "pattern": `^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/[0-9]{1,3})$`,
	},
	"ip": {
		"description": "an IPv4 or IPv6 address",
		"type":        "string", "pattern": `^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$`,
	},
	"mac": {
		"description": "a unicast MAC address: six hex octets, e.g. 02:00:00:00:00:01",
		"type":        "string", "pattern": `^(?:[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})$`,
	},
	"sysctl-key": {
		"description": "a net.* sysctl key, with dots or slashes",
		"type":        "string", "pattern": `^net[./][A-Za-z0-9_./-]+$`,
	},
	"trunk-vlan": {
		"description": "a VLAN id (10) or an inclusive range (\"20-29\")",
		"anyOf":       []obj{vidS, str(`^ *[1-9][0-9]{0,3} *- *[1-9][0-9]{0,3} *$`)},
	},
	"user": {
		"description": "a uid or gid (0-4294967294, not 65535) or a user or group name",
		"anyOf": []obj{
			{"type": "integer", "minimum": 0, "maximum": 4294967294, "not": obj{"const": 65535}},
			str(`^(?:[A-Za-z_][A-Za-z0-9_.-]{0,30}|[0-9]+)$`),
		},
	},
}

// sharedProps are keys with one meaning in every object that takes them
// (the decoder's linkKeys, l3Keys, portKeys).
var sharedProps = map[string]prop{
	"mtu": {Schema: integer(MinIPv6MTU, MaxMTU), Doc: "the MTU (1280-65535: below 1280 the kernel takes IPv6 off the link); default: the kernel's, 1500 for a link the lab creates"},
	"mac": {Schema: ref("mac"), Doc: "the MAC address; default: the kernel's (random, or the bridge's first port's)"},
	"addresses": {Schema: listOf(cidrS),
		Doc: "IPv4 and IPv6 addresses in CIDR notation, unique across the lab"},
	"gateway": {Schema: ipS,
		Doc: "a default route of the gateway's family through this interface (metric 0); outside every subnet of the interface: a warning, and the route is on-link"},
	"routes": {Schema: listOf(ref("route")), Doc: "static routes through this interface"},
	"bridge": {Schema: ifnameS,
		Doc: "a bridge of the same namespace: the interface becomes its port and carries no address"},
	"vlan": {Schema: ref("port-vlan"),
		Doc: "port VLANs on a VLAN-filtering bridge: {access: 10} or {trunk: [10, 20-29], native: 1}"},
}

// objects lists every kind of map a lab has, with its decoder key list.
var objects = []object{
	{
		def: "lab", keysVar: "labKeys", keys: labKeys, section: "TOP-LEVEL KEYS",
		doc:      "a netgen lab: a virtual network of namespaces, veths, bridges, VLANs, taps and uplinks",
		required: []string{"version"},
		props: map[string]prop{
			"version": {Schema: obj{"const": 1}, Doc: "the lab format version: 1"},
			"name": {Schema: ref("lab-name"),
				Doc: "the lab's name, part of every generated file and unit name; default: the file name without its extension"},
			"namespaces": {Schema: obj{"type": []string{"object", "null"}, "propertyNames": nsNameS,
				"additionalProperties": ref("namespace")}, Doc: "named network namespaces (/run/netns/NAME)"},
			"bridges": {Schema: obj{"type": []string{"object", "null"}, "propertyNames": ifnameS,
				"additionalProperties": ref("bridge")}, Doc: "Linux bridges, by name"},
			"veths": {Schema: listOf(obj{"anyOf": []obj{
				{"type": "array", "minItems": 2, "maxItems": 2, "items": ref("veth-end")}, ref("veth")}}),
				Doc: "veth pairs: [END, END] or {ends: [END, END], mtu: N}"},
			"vlans":   {Schema: listOf(ref("vlan")), Doc: "802.1Q sub-interfaces"},
			"taps":    {Schema: listOf(ref("tap")), Doc: "persistent tap devices (for QEMU/KVM guests)"},
			"uplinks": {Schema: listOf(ref("uplink")), Doc: "existing interfaces of the host joined to a lab bridge"},
		},
	},
	{
		def: "namespace", keysVar: "namespaceKeys", keys: namespaceKeys, section: "NAMESPACES",
		doc: "a named network namespace", nullable: true,
		props: map[string]prop{
			"loopback": {Schema: boolS, Default: true, Doc: "bring lo up"},
			"sysctl": {Schema: obj{"type": []string{"object", "null"},
				"propertyNames": ref("sysctl-key"),
				"additionalProperties": obj{"anyOf": []obj{{"type": "integer"},
					str(`^[A-Za-z0-9_.:,+ -]+$`)}}},
				Doc: "net.* sysctls (dots or slashes) and their values, e.g. net.ipv4.ip_forward: 1; a key about one interface must name an interface of the namespace"},
		},
	},
	{
		def: "bridge", keysVar: "bridgeKeys", keys: bridgeKeys, section: "BRIDGES",
		doc: "a Linux bridge", nullable: true,
		props: map[string]prop{
			"namespace": {Schema: obj{"anyOf": []obj{nsNameS, {"const": HostNS}}}, Default: HostNS,
				Doc: "the namespace the bridge lives in"},
			"stp":      {Schema: boolS, Default: false, Doc: "spanning tree"},
			"priority": {Schema: integer(0, 65535), Doc: "STP bridge priority (0-65535); default: the kernel's, 32768"},
			"forward-delay": {Schema: integer(0, 30),
				Doc: "STP forward delay in whole seconds (2-30 with STP on); default: the kernel's, 15"},
			"hello-time": {Schema: integer(1, 10), Doc: "STP hello time in whole seconds (1-10); default: the kernel's, 2"},
			"max-age":    {Schema: integer(6, 40), Doc: "STP max age in whole seconds (6-40); default: the kernel's, 20"},
			"ageing-time": {Schema: integer(0, 1000000),
				Doc: "how long a learned MAC address stays, in whole seconds; default: the kernel's, 300"},
			"vlan-filtering": {Schema: boolS, Default: false, Doc: "a VLAN-aware bridge; needed for any port `vlan:`"},
			"default-pvid": {Schema: obj{"anyOf": []obj{vidS, {"const": "none"}}}, Default: 1,
				Doc: "the PVID of ports that set none (1-4094), or none for no default VLAN"},
			"group-forward-mask": {Schema: obj{"type": "integer", "minimum": 0, "maximum": 0xffff, "multipleOf": 8},
				Default: 0, Doc: "802.1D link-local groups to forward (0x4000 passes LLDP); bits 0-2 cannot be set"},
			"mtu":       {Schema: integer(MinIPv6MTU, MaxMTU), Doc: "the bridge's MTU, kept whatever its ports' MTUs; default: the kernel's (its smallest port's)"},
			"addresses": {Schema: listOf(cidrS), Doc: "addresses of the bridge itself: allowed with a warning, host access belongs on a veth attached to the bridge"},
		},
	},
	{
		def: "route", keysVar: "routeKeys", keys: routeKeys, section: "ROUTES",
		doc:      "a static route",
		required: []string{"to"},
		props: map[string]prop{
			"to": {Schema: obj{"anyOf": []obj{{"const": "default"}, cidrS, ipS}},
				Doc: "the destination: a CIDR without host bits, an address (a host route), or default (which needs via)"},
			"via":    {Schema: ipS, Doc: "the next hop; default: none, the destination is on the link"},
			"metric": {Schema: integer(0, 4294967295), Doc: "the route's metric; default 0 (IPv6 reads 0 as 1024)"},
		},
	},
	{
		def: "port-vlan", keysVar: "portVLANKeys", keys: portVLANKeys, section: "PORT VLANS",
		doc: "the VLANs of a bridge port, on a VLAN-filtering bridge",
		// access alone, or trunk with or without native.
		extra: obj{"oneOf": []obj{
			{"required": []string{"access"}, "not": obj{"required": []string{"native"}}},
			{"required": []string{"trunk"}}}},
		props: map[string]prop{
			"access": {Schema: vidS, Doc: "an access port: this VLAN untagged, as PVID, and nothing else"},
			"trunk": {Schema: obj{"anyOf": []obj{ref("trunk-vlan"), {"type": "array", "items": ref("trunk-vlan")}}},
				Doc: "a trunk: these VLANs tagged; ids or ranges (20-29)"},
			"native": {Schema: vidS, Doc: "a trunk's untagged VLAN (its PVID); default: the bridge's default-pvid"},
		},
	},
	{
		def: "veth", keysVar: "vethMapKeys", keys: vethMapKeys, section: "VETHS",
		doc:      "a veth pair in map form",
		required: []string{"ends"},
		props: map[string]prop{
			"ends": {Schema: obj{"type": "array", "minItems": 2, "maxItems": 2, "items": ref("veth-end")},
				Doc: "the two ends"},
			"mtu": {Schema: integer(MinIPv6MTU, MaxMTU), Doc: "the MTU of both ends (an end's own mtu wins)"},
		},
	},
	{
		def: "veth-end", keysVar: "endKeys", keys: endKeys, section: "VETH ENDS",
		doc:      "one end of a veth: a reference [NAMESPACE:]IFNAME or a map",
		required: []string{"name"},
		scalar:   refS,
		props: map[string]prop{
			"name": {Schema: refS, Doc: "the end: [NAMESPACE:]IFNAME"},
			"external": {Schema: boolS, Default: false,
				Doc: "created and up with no address at all (no link-local either), for another program to configure"},
		},
	},
	{
		def: "vlan", keysVar: "vlanKeys", keys: vlanKeys, section: "VLANS",
		doc:      "an 802.1Q sub-interface",
		required: []string{"parent", "id"},
		props: map[string]prop{
			"parent": {Schema: refS, Doc: "the interface it is tagged on: a veth end, tap, bridge or uplink of the lab"},
			"id":     {Schema: vidS, Doc: "the VLAN id, 1-4094"},
			"name":   {Schema: ifnameS, Doc: "its name in the parent's namespace; default PARENT.ID (at most 15 bytes)"},
			"mtu":    {Schema: integer(MinIPv6MTU, MaxMTU), Doc: "the MTU, at most the parent's; default: the parent's"},
		},
	},
	{
		def: "tap", keysVar: "tapKeys", keys: tapKeys, section: "TAPS",
		doc:      "a persistent tap device: a reference [NAMESPACE:]IFNAME or a map",
		required: []string{"name"},
		scalar:   refS,
		props: map[string]prop{
			"name":        {Schema: refS, Doc: "the tap: [NAMESPACE:]IFNAME"},
			"user":        {Schema: ref("user"), Doc: "the user allowed to open it; default: root only"},
			"group":       {Schema: ref("user"), Doc: "the group allowed to open it; default: none"},
			"multi-queue": {Schema: boolS, Default: false, Doc: "a multi-queue tap (one queue per vCPU)"},
		},
	},
	{
		def: "uplink", keysVar: "uplinkKeys", keys: uplinkKeys, section: "UPLINKS",
		doc:    "an existing interface of the host namespace: its name, or a map",
		scalar: ifnameS,
		// Matched by interface or by mac, never both.
		extra: obj{"oneOf": []obj{{"required": []string{"interface"}}, {"required": []string{"mac"}}}},
		props: map[string]prop{
			"interface": {Schema: ifnameS, Doc: "the interface's name (it can then be a VLAN parent)"},
			"mac":       {Schema: ref("mac"), Doc: "the interface's MAC address, matched instead of a name"},
			"mtu":       {Schema: integer(MinIPv6MTU, MaxMTU), Doc: "the MTU; default: unchanged"},
			"addresses": {Refused: "an uplink is a switch port and carries no addresses: give the address to a veth end attached to the same bridge"},
		},
	},
}

// keyGroups are decoder key lists that are parts of others, not objects.
var keyGroups = []string{"linkKeys", "l3Keys", "portKeys"}

// A feature is the schema of one addition to version 1 (services,
// netem, bonds, ...), written before the decoder takes its keys: each
// lives in a file jsonschema_NAME.go built only with the tag netgen_NAME,
// since it names the decoder's key lists of that addition (bondKeys), and
// goes into the table by init once its decoder is merged and the build
// line is removed (MERGE-NOTES.md).
type feature struct {
	// props are new keys, or a key's new schema, of the objects above,
	// by their def.
	props map[string]map[string]prop
	// shared are new keys of sharedProps, or their new schema.
	shared  map[string]prop
	objects []object
	// defs are new value schemas of definitions.
	defs   map[string]obj
	groups []string // new key groups
}

// addFeature puts a feature's keys and objects into the table.
func addFeature(f feature) {
	for def, props := range f.props {
		i := slices.IndexFunc(objects, func(o object) bool { return o.def == def })
		if i < 0 {
			panic("schema feature: no object " + def) // a programming error, caught by every test
		}
		for k, p := range props {
			objects[i].props[k] = p
		}
	}
	for k, p := range f.shared {
		sharedProps[k] = p
	}
	for name, d := range f.defs {
		definitions[name] = d
	}
	objects = append(objects, f.objects...)
	keyGroups = append(keyGroups, f.groups...)
}

// propOf returns an object's key: its own entry, else the shared one.
func (o *object) propOf(key string) (prop, bool) {
	if p, ok := o.props[key]; ok {
		return p, true
	}
	p, ok := sharedProps[key]
	return p, ok
}

// schemaOf is the object's schema (without its short scalar form).
func (o *object) schemaOf() obj {
	props := obj{}
	for _, k := range o.keys {
		p, ok := o.propOf(k)
		if !ok {
			continue // the test names it
		}
		if p.Refused != "" {
			// false, not {"not": {}}: yaml-language-server then says
			// "Property addresses is not allowed." (the reason is in
			// the reference).
			props[k] = false
			continue
		}
		s := obj{}
		{
			for k, v := range p.Schema {
				s[k] = v
			}
			s["description"] = p.Doc
			if p.Default != nil {
				s["default"] = p.Default
			}
		}
		// draft-07 ignores every keyword beside a $ref: wrap it.
		if r, ok := s["$ref"]; ok {
			delete(s, "$ref")
			s["allOf"] = []obj{{"$ref": r}}
		}
		props[k] = s
	}
	s := obj{"type": "object", "description": o.doc, "properties": props, "additionalProperties": false}
	if len(o.required) > 0 {
		s["required"] = o.required
	}
	for k, v := range o.extra {
		s[k] = v
	}
	if o.nullable {
		s["type"] = []string{"object", "null"}
	}
	if o.scalar != nil {
		return obj{"description": o.doc, "anyOf": []obj{o.scalar, s}}
	}
	return s
}

// withPatternMessage adds yaml-language-server's patternErrorMessage to a
// definition with a pattern: the editor then says what the value must be
// rather than showing the regular expression. Validators ignore the
// keyword.
func withPatternMessage(d obj) obj {
	if _, ok := d["pattern"]; !ok {
		return d
	}
	out := obj{}
	for k, v := range d {
		out[k] = v
	}
	if doc, ok := d["description"].(string); ok {
		out["patternErrorMessage"] = "not " + doc
	}
	return out
}

// JSONSchema returns the JSON Schema of the lab format, indented and
// ending in a newline: the contents of netgen-lab.schema.json.
func JSONSchema() []byte {
	defs := obj{}
	for name, d := range definitions {
		defs[name] = withPatternMessage(d)
	}
	var root obj
	for i := range objects {
		o := &objects[i]
		if o.def == "lab" {
			root = o.schemaOf()
			root["type"] = "object"
			continue
		}
		defs[o.def] = o.schemaOf()
	}
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["title"] = "netgen lab, version 1"
	root["definitions"] = defs
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic(fmt.Sprintf("the lab schema does not encode: %v", err)) // a programming error, caught by the test
	}
	return b.Bytes()
}
