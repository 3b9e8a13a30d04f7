package schema

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/diag"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// TestJSONSchemaTable: every key of every decoder key list has an entry
// in jsonschema.go's table, the table has none the decoder does not take,
// and every decoder key list (a package-level variable named *Keys) is an
// object of the table or a part of one.
func TestJSONSchemaTable(t *testing.T) {
	shared := map[string]bool{}
	for _, o := range objects {
		for _, k := range o.keys {
			if _, ok := o.props[k]; !ok {
				if _, ok := sharedProps[k]; !ok {
					t.Errorf("key %q of %s (%s in schema/decode.go) has no entry in schema/jsonschema.go: add one to the props of object %q, or to sharedProps",
						k, o.def, o.keysVar, o.def)
					continue
				}
				shared[k] = true
			}
		}
		for k, p := range o.props {
			if !slices.Contains(o.keys, k) {
				t.Errorf("schema/jsonschema.go documents key %q of %s, which the decoder does not take (it is not in %s)", k, o.def, o.keysVar)
			}
			if p.Refused == "" && (p.Doc == "" || p.Schema == nil) {
				t.Errorf("key %q of %s has no schema or no doc text in schema/jsonschema.go", k, o.def)
			}
		}
	}
	for k := range sharedProps {
		if !shared[k] {
			t.Errorf("sharedProps has key %q, which no object takes from it", k)
		}
	}

	// Every key list of the decoder is in the table.
	known := map[string]bool{}
	for _, o := range objects {
		known[o.keysVar] = true
	}
	for _, g := range keyGroups {
		known[g] = true
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					if strings.HasSuffix(n.Name, "Keys") && n.Name != "sysctlKeys" {
						found[n.Name] = true
						if !known[n.Name] {
							t.Errorf("%s: the decoder's key list %s is not in schema/jsonschema.go: add an object for it to objects (or its name to keyGroups when it is part of other lists)",
								fset.Position(n.Pos()), n.Name)
						}
					}
				}
			}
		}
	}
	for name := range known {
		if !found[name] {
			t.Errorf("schema/jsonschema.go names the key list %s, which the decoder no longer has", name)
		}
	}
}

// TestJSONSchemaFile: the committed netgen-lab.schema.json is what
// JSONSchema makes (go generate -run JSONSchema ./schema rewrites it).
func TestJSONSchemaFile(t *testing.T) {
	want := JSONSchema()
	// -update is defined by sysctlkeys_debian_test.go (package
	// schema_test, the same test binary): one flag rewrites what a test
	// compares with.
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(SchemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(SchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("schema/%s is not what schema/jsonschema.go makes: run `go generate -run JSONSchema ./schema`", SchemaFile)
	}
}

// compileSchema compiles the generated schema with a draft-07 validator.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaFile, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaFile)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// instance reads YAML as yaml-language-server does (YAML 1.2 scalars
// aside) and gives the JSON value a validator checks.
func instance(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// jsonable turns the maps yaml.v3 makes for non-string keys into JSON
// objects.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = jsonable(x)
		}
	case map[any]any:
		m := map[string]any{}
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = jsonable(x)
		}
	}
	return v
}

// labFiles are the labs of examples/ and e2e/testdata/labs/.
func labFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, g := range []string{"../examples/*.yml", "../e2e/testdata/labs/*.yml"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, ".reach.yml") {
				out = append(out, f)
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d labs found", len(out))
	}
	return out
}

// TestJSONSchemaExamples: every example lab, which netgen compiles, is
// valid by the schema.
func TestJSONSchemaExamples(t *testing.T) {
	s := compileSchema(t)
	for _, f := range labFiles(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(instance(t, src)); err != nil {
			t.Errorf("%s is not valid by %s:\n%v", f, SchemaFile, err)
		}
	}
}

// TestJSONSchemaCases: labs the schema takes or refuses, each also judged
// by netgen (Decode and Validate), so that the schema is never stricter
// than netgen on these and refuses what netgen refuses for its structure.
func TestJSONSchemaCases(t *testing.T) {
	s := compileSchema(t)
	for _, c := range schemaCases {
		schemaErr := s.Validate(instance(t, []byte(c.lab)))
		lab, diags := Decode("case.yml", []byte(c.lab))
		if !diags.HasErrors() {
			Validate(lab, diags)
		}
		netgenOK := !diags.HasErrors()
		switch {
		case c.ok && schemaErr != nil:
			t.Errorf("%s: the schema refuses it: %v\n%s", c.name, schemaErr, c.lab)
		case !c.ok && schemaErr == nil:
			t.Errorf("%s: the schema takes it\n%s", c.name, c.lab)
		}
		if netgenOK != c.ok {
			t.Errorf("%s: netgen says ok=%v, the case %v\n%s", c.name, netgenOK, c.ok, c.lab)
		}
	}
}

// A schemaCase is a lab of TestJSONSchemaCases and whether it is valid.
type schemaCase struct {
	name, lab string
	ok        bool
}

// schemaCases are the labs of TestJSONSchemaCases; the files
// jsonschema_FEATURE_test.go add a feature's.
var schemaCases = []schemaCase{
	{"minimal", "version: 1\n", true},
	{"empty settings", "version: 1\nnamespaces: {a: , b: {}}\nbridges: {br0: }\n", true},
	{"yes for true", "version: 1\nnamespaces: {a: {loopback: no}}\nbridges: {br0: {stp: yes}}\n", true},
	{"every bridge key", "version: 1\nbridges: {br0: {namespace: host, stp: true, priority: 4096, forward-delay: 4, hello-time: 1, max-age: 6, ageing-time: 30, vlan-filtering: true, default-pvid: none, group-forward-mask: 0x4000, mtu: 9000, mac: '02:00:00:00:00:01'}}\n", true},
	{"trunk forms", "version: 1\nbridges: {sw: {vlan-filtering: true}}\nveths:\n  - [a0, {name: a1, bridge: sw, vlan: {trunk: 10}}]\n  - [b0, {name: b1, bridge: sw, vlan: {trunk: [10, 20-29, \"30 - 31\"], native: 5}}]\n", true},
	{"routes", "version: 1\nnamespaces: {a: {}, b: {}}\nveths:\n  - [{name: a:e0, addresses: [10.0.0.1/24, \"2001:db8::1/64\"], routes: [{to: 10.1.0.0/16, via: 10.0.0.2, metric: 10}, {to: 10.2.0.1}, {to: default, via: 10.0.0.2, metric: 5}]}, {name: b:e0, addresses: [10.0.0.2/24]}]\n", true},
	{"tap and uplink forms", "version: 1\nbridges: {sw: {}}\ntaps: [tap0, {name: tap1, user: 1000, group: kvm, multi-queue: true, bridge: sw}]\nuplinks: [eth9, {mac: '02:00:00:00:00:09', bridge: sw}]\n", true},
	{"veth map", "version: 1\nveths:\n  - {ends: [x0, {name: x1, external: true}], mtu: 9000}\n", true},
	{"sysctl", "version: 1\nnamespaces: {r: {sysctl: {net.ipv4.ip_forward: 1, net/ipv4/tcp_rmem: 4096 87380 6291456}}}\n", true},

	{"no version", "namespaces: {a: {}}\n", false},
	{"version 2", "version: 2\n", false},
	{"unknown top-level key", "version: 1\nbridge: {br0: {}}\n", false},
	{"unknown bridge key", "version: 1\nbridges: {br0: {sttp: true}}\n", false},
	{"unknown end key", "version: 1\nveths: [[{name: a0, adresses: [10.0.0.1/24]}, a1]]\n", false},
	{"wrong type: bool", "version: 1\nbridges: {br0: {stp: maybe}}\n", false},
	{"wrong type: quoted number", "version: 1\nbridges: {br0: {mtu: \"1500\"}}\n", false},
	{"wrong type: addresses scalar", "version: 1\nveths: [[{name: a0, addresses: 10.0.0.1/24}, a1]]\n", false},
	{"wrong type: namespaces list", "version: 1\nnamespaces: [a, b]\n", false},
	{"out of range: vlan id", "version: 1\nvlans: [{parent: eth0, id: 4095}]\n", false},
	{"out of range: mtu", "version: 1\nbridges: {br0: {mtu: 67}}\n", false},
	{"mask bits 0-2", "version: 1\nbridges: {br0: {group-forward-mask: 1}}\n", false},
	{"access and trunk", "version: 1\nbridges: {sw: {vlan-filtering: true}}\nveths: [[a0, {name: a1, bridge: sw, vlan: {access: 10, trunk: [20]}}]]\n", false},
	{"access and native", "version: 1\nbridges: {sw: {vlan-filtering: true}}\nveths: [[a0, {name: a1, bridge: sw, vlan: {access: 10, native: 20}}]]\n", false},
	{"native alone", "version: 1\nbridges: {sw: {vlan-filtering: true}}\nveths: [[a0, {name: a1, bridge: sw, vlan: {native: 20}}]]\n", false},
	{"three ends", "version: 1\nveths: [[a0, a1, a2]]\n", false},
	{"map veth without ends", "version: 1\nveths: [{mtu: 9000}]\n", false},
	{"vlan without id", "version: 1\nvlans: [{parent: eth0}]\n", false},
	{"uplink with addresses", "version: 1\nuplinks: [{interface: eth0, addresses: [10.0.0.1/24]}]\n", false},
	{"uplink by name and mac", "version: 1\nuplinks: [{interface: eth0, mac: '02:00:00:00:00:09'}]\n", false},
	{"namespace host", "version: 1\nnamespaces: {host: {}}\n", false},
	{"long interface name", "version: 1\nbridges: {abcdefghijklmnop: {}}\n", false},
	{"interface lo", "version: 1\nbridges: {lo: {}}\n", false},
	{"all-digit interface", "version: 1\nbridges: {\"1234\": {}}\n", false},
	{"bad lab name", "version: 1\nname: My_Lab\n", false},
	{"not a CIDR", "version: 1\nveths: [[{name: a0, addresses: [fe80::1%eth0/64]}, a1]]\n", false},
	{"sysctl not net", "version: 1\nnamespaces: {a: {sysctl: {kernel.panic: 1}}}\n", false},
}

// TestReferenceKeys: in docs/reference.md, the key column of the tables
// in each object's section names every key the decoder takes for it, and
// no key it refuses.
func TestReferenceKeys(t *testing.T) {
	src, err := os.ReadFile("../docs/reference.md")
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile(`(?m)^#{2,3} (.*)$`)
	sections := map[string]string{}
	locs := heading.FindAllSubmatchIndex(src, -1)
	for i, l := range locs {
		end := len(src)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		sections[string(src[l[2]:l[3]])] = string(src[l[1]:end])
	}
	code := regexp.MustCompile("`([^`]*)`")
	for _, o := range objects {
		body, ok := sections[o.section]
		if !ok {
			t.Errorf("docs/reference.md has no section %q (for %s)", o.section, o.def)
			continue
		}
		documented := map[string]bool{}
		for _, line := range strings.Split(body, "\n") {
			cells := strings.Split(line, "|")
			if !strings.HasPrefix(line, "|") || len(cells) < 3 {
				continue
			}
			for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
				documented[m[1]] = true
				if !slices.Contains(o.keys, m[1]) {
					t.Errorf("docs/reference.md, section %q: the table names `%s`, which the decoder does not take for %s (%s)", o.section, m[1], o.def, o.keysVar)
				}
			}
		}
		for _, k := range o.keys {
			if !documented[k] {
				t.Errorf("docs/reference.md, section %q: no table row names `%s` (key of %s) in its key column", o.section, k, o.def)
			}
		}
	}
}

// structural are messages of netgen's errors about a value on its own,
// which the schema must catch too.
var structural = []string{
	"unknown key", "must be a map", "must be a list", "must be true or false", "must be a whole number",
	"is out of range", "is not an address in CIDR notation", "is not a MAC address", "must be a single value",
}

// TestJSONSchemaErrorLabs: every lab of testdata/errors that is YAML and
// has an error of the kinds above is refused by the schema too, and a lab
// with warnings only is valid by it.
func TestJSONSchemaErrorLabs(t *testing.T) {
	s := compileSchema(t)
	labs, err := filepath.Glob("../testdata/errors/*.yml")
	if err != nil || len(labs) == 0 {
		t.Fatalf("no error labs: %v", err)
	}
	checked, structuralLabs := 0, 0
	for _, f := range labs {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		stderr, err := os.ReadFile(strings.TrimSuffix(f, ".yml") + ".stderr")
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if yaml.Unmarshal(src, &v) != nil {
			continue // a syntax error: no editor schema applies
		}
		lab, diags := Decode(f, src)
		if !diags.HasErrors() {
			Validate(lab, diags)
		}
		var found []string
		for _, d := range diags.Items {
			for _, m := range structural {
				if d.Severity == diag.Error && strings.Contains(d.Message, m) {
					found = append(found, d.Message)
				}
			}
		}
		verr := s.Validate(instance(t, src))
		switch {
		case !diags.HasErrors() && verr != nil:
			t.Errorf("%s: netgen takes it, the schema refuses it: %v", f, verr)
		case len(found) > 0 && verr == nil:
			t.Errorf("%s: netgen says %q, the schema takes it\n%s", f, found, stderr)
		}
		checked++
		if len(found) > 0 {
			structuralLabs++
		}
	}
	t.Logf("%d labs of testdata/errors compared, %d with errors the schema must catch", checked, structuralLabs)
	if structuralLabs < 3 {
		t.Errorf("only %d error labs have errors the schema must catch: the messages in structural changed?", structuralLabs)
	}
}
