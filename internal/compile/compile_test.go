package compile_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"
	"golang.org/x/tools/txtar"
	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/internal/cli"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/install"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/render"
	"github.com/netgen-lab/netgen/schema"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

const examplesDir = "../../examples"

func examples(t testing.TB) []string {
	return testlabs.Labs(t, examplesDir)
}

func mustCompile(t testing.TB, name string, src []byte) *compile.Result {
	t.Helper()
	return testlabs.Compile(t, name, src)
}

// archive is the whole output of a lab as one txtar: every file under the
// directory it goes to, and the enablement symlinks.
func archive(t testing.TB, res *compile.Result) []byte {
	a := &txtar.Archive{}
	for _, f := range res.Files {
		a.Files = append(a.Files, txtar.File{Name: f.Dir.String() + "/" + f.Name, Data: f.Data})
	}
	var links bytes.Buffer
	enable, err := install.EnableLinks(res.Plan, install.Dirs{Network: "/etc/systemd/network", Unit: "/etc/systemd/system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range enable {
		fmt.Fprintf(&links, "%s -> %s\n", l.Path, l.Target)
	}
	if links.Len() > 0 {
		a.Files = append(a.Files, txtar.File{Name: "enable-links", Data: links.Bytes()})
	}
	return txtar.Format(a)
}

// TestGolden compares each example's complete output with
// testdata/golden/NAME.txtar (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, path := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res := mustCompile(t, filepath.Base(path), src)
			got := archive(t, res)
			golden := filepath.Join("../../testdata/golden", name+".txtar")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output of %s differs from %s (go test -update rewrites it):\n%s", path, golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff shows how got differs from want as a unified diff (`diff -u`,
// three lines of context), so that a golden mismatch shows every changed
// line, not only the first.
func lineDiff(want, got string) string {
	split := func(s string) []string {
		l := strings.SplitAfter(s, "\n")
		if l[len(l)-1] == "" {
			l = l[:len(l)-1]
		}
		return l
	}
	a, b := split(want), split(got)
	// Common ends are cut first: the quadratic table then covers only the
	// changed middle, a few lines in a real mismatch.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	type op struct {
		kind byte // ' ', '-' or '+'
		line string
	}
	var ops []op
	for _, l := range a[:pre] {
		ops = append(ops, op{' ', l})
	}
	x, y := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(x)*len(y) > 4_000_000 {
		// Too big to align: everything in between differs.
		for _, l := range x {
			ops = append(ops, op{'-', l})
		}
		for _, l := range y {
			ops = append(ops, op{'+', l})
		}
	} else {
		// lcs[i][j] is the longest common subsequence of x[i:] and y[j:].
		lcs := make([][]int32, len(x)+1)
		for i := range lcs {
			lcs[i] = make([]int32, len(y)+1)
		}
		for i := len(x) - 1; i >= 0; i-- {
			for j := len(y) - 1; j >= 0; j-- {
				if x[i] == y[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(x) || j < len(y) {
			switch {
			case i < len(x) && j < len(y) && x[i] == y[j]:
				ops = append(ops, op{' ', x[i]})
				i, j = i+1, j+1
			case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, op{'-', x[i]})
				i++
			default:
				ops = append(ops, op{'+', y[j]})
				j++
			}
		}
	}
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, op{' ', l})
	}

	const context = 3
	var out strings.Builder
	line := func(o op) {
		out.WriteByte(o.kind)
		out.WriteString(o.line)
		if !strings.HasSuffix(o.line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
	aLine, bLine := 1, 1 // line numbers at ops[k]
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			aLine, bLine, k = aLine+1, bLine+1, k+1
			continue
		}
		// A hunk: from context lines before this change to context lines
		// after the last change less than 2*context lines further on.
		start := max(k-context, 0)
		for i := start; i < k; i++ {
			aLine, bLine = aLine-1, bLine-1
		}
		end, same := k, 0
		for i := k; i < len(ops) && same <= 2*context; i++ {
			if ops[i].kind == ' ' {
				same++
			} else {
				same, end = 0, i+1
			}
		}
		end = min(end+context, len(ops))
		na, nb := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		as, bs := aLine, bLine
		if na == 0 { // as diff does, an empty side is numbered by the line before it
			as--
		}
		if nb == 0 {
			bs--
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", as, na, bs, nb)
		for _, o := range ops[start:end] {
			line(o)
		}
		aLine, bLine, k = aLine+na, bLine+nb, end
	}
	if out.Len() == 0 {
		return "(same lines, different bytes)"
	}
	return "--- want\n+++ got\n" + out.String()
}

// TestLineDiff: a golden mismatch shows every changed line in hunks, as
// `diff -u` prints them (this expected text is diff's own output).
func TestLineDiff(t *testing.T) {
	want := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n"
	got := "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\n"
	diff := `--- want
+++ got
@@ -1,6 +1,6 @@
 a
 b
-c
+C
 d
 e
 f
@@ -9,4 +9,3 @@
 i
 j
 k
-l
`
	if d := lineDiff(want, got); d != diff {
		t.Errorf("lineDiff:\n%s\nwant:\n%s", d, diff)
	}
}

// TestRoundTrip re-reads every generated file with go-systemd's parser: each
// file parses, has its header line, sections and entries come back exactly
// as written, and nothing was merged or lost.
func TestRoundTrip(t *testing.T) {
	for _, path := range examples(t) {
		src, _ := os.ReadFile(path)
		res := mustCompile(t, filepath.Base(path), src)
		for _, f := range res.Files {
			if f.Mode != 0o644 {
				t.Errorf("%s: mode %o, want 0644", f.Name, f.Mode)
			}
			if !strings.HasPrefix(string(f.Data), "# Generated by netgen from lab ") {
				t.Errorf("%s: no netgen header line", f.Name)
			}
			if f.Dir == render.NetworkDir && !strings.HasPrefix(f.Name, render.Prefix) {
				t.Errorf("%s: networkd file does not start with %s", f.Name, render.Prefix)
			}
			assertReparses(t, f)
		}
	}
}

func assertReparses(t testing.TB, f render.File) {
	t.Helper()
	if f.Dir == render.NetnsDir {
		// resolv.conf(5) and hosts(5): comment or "KEY VALUE" lines.
		for _, line := range strings.Split(strings.TrimSuffix(string(f.Data), "\n"), "\n") {
			if line == "" || strings.ContainsAny(line, "\x00\r") || (line[0] != '#' && !strings.ContainsAny(line, " \t")) {
				t.Fatalf("%s has a line that is not KEY VALUE: %q\n%s", f.Name, line, f.Data)
			}
		}
		return
	}
	secs, err := unit.DeserializeSections(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatalf("%s does not re-parse: %v\n%s", f.Name, err, f.Data)
	}
	again, err := io.ReadAll(unit.SerializeSections(secs))
	if err != nil {
		t.Fatal(err)
	}
	body := f.Data[bytes.IndexByte(f.Data, '\n')+1:]
	if !bytes.Equal(again, body) {
		t.Fatalf("%s changes when re-read and re-written:\n%s\n----\n%s", f.Name, body, again)
	}
}

// permute reorders the keys of every mapping of a YAML document, nested
// ones included, however deep: randomly, or reversed when rng is nil (then
// every mapping with two keys or more changes order).
func permute(t testing.TB, src []byte, rng *rand.Rand) []byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	walkMaps(&doc, "", func(n *yaml.Node, _ string) {
		pairs := len(n.Content) / 2
		order := make([]int, pairs)
		for i := range order {
			order[i] = pairs - 1 - i
		}
		if rng != nil {
			order = rng.Perm(pairs)
		}
		c := make([]*yaml.Node, 0, len(n.Content))
		for _, p := range order {
			c = append(c, n.Content[2*p], n.Content[2*p+1])
		}
		n.Content = c
	})
	anchorsFirst(&doc)
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// anchorsFirst moves each anchored node to where the document now uses it
// first, and an alias to where it was: YAML defines an anchor before its
// aliases, and reordering keys can put an alias first. Every place still
// holds the same value.
func anchorsFirst(doc *yaml.Node) {
	slots := map[*yaml.Node]**yaml.Node{}
	var find func(n *yaml.Node)
	find = func(n *yaml.Node) {
		for i, c := range n.Content {
			if c.Anchor != "" {
				slots[c] = &n.Content[i]
			}
			find(c)
		}
	}
	find(doc)
	defined := map[*yaml.Node]bool{}
	var visit func(slot **yaml.Node)
	visit = func(slot **yaml.Node) {
		n := *slot
		if n.Kind == yaml.AliasNode {
			if defined[n.Alias] {
				return
			}
			*slots[n.Alias] = n
			*slot = n.Alias
			n = n.Alias
		}
		defined[n] = true
		for i := range n.Content {
			visit(&n.Content[i])
		}
	}
	for i := range doc.Content {
		visit(&doc.Content[i])
	}
}

// walkMaps calls f on every mapping node under n, children before their
// parent, with the mapping's shape: its path in the lab with list indexes
// as [] and the names the lab chooses (namespaces, bridges, sysctl keys)
// as *, e.g. "namespaces.*.sysctl" or "veths[].ends[].routes[]".
func walkMaps(n *yaml.Node, shape string, f func(n *yaml.Node, shape string)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkMaps(c, shape, f)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			walkMaps(c, shape+"[]", f)
		}
	case yaml.MappingNode:
		named := shape == "namespaces" || shape == "bridges" || shape == "pools" || strings.HasSuffix(shape, ".sysctl") ||
			strings.HasSuffix(shape, ".services") || strings.HasSuffix(shape, ".environment") || strings.HasSuffix(shape, ".hosts")
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if named {
				key = "*"
			}
			child := key
			if shape != "" {
				child = shape + "." + key
			}
			walkMaps(n.Content[i+1], child, f)
		}
		f(n, shape)
	}
}

// keyOrderLab has every kind of map of the format, each with two keys or
// more, so that the key-order test reorders every one of them.
const keyOrderLab = "testdata/every-map.yml"

// mapShapes is every kind of map the lab format has (see walkMaps). A new
// kind of map gets its line here and its place in keyOrderLab.
var mapShapes = []string{
	"",                                    // the lab
	"namespaces",                          // name → namespace
	"namespaces.*",                        // a namespace
	"namespaces.*.sysctl",                 // key → value
	"bridges",                             // name → bridge
	"bridges.*",                           // a bridge
	"bridges.*.routes[]",                  // a route
	"veths[]",                             // a veth in the map form
	"veths[].ends[]",                      // an end of the map form
	"veths[].ends[].routes[]",             // a route of an end
	"veths[][]",                           // an end of the list form
	"veths[][].vlan",                      // port VLANs
	"vlans[]",                             // a VLAN
	"vlans[].routes[]",                    // a route of a VLAN
	"vlans[].vlan",                        // port VLANs of a VLAN
	"taps[]",                              // a tap
	"taps[].vlan",                         // port VLANs of a tap
	"uplinks[]",                           // an uplink
	"uplinks[].vlan",                      // port VLANs of an uplink
	"dns",                                 // the lab's dns
	"dns.hosts",                           // name → addresses
	"namespaces.*.dns",                    // a namespace's dns
	"namespaces.*.dns.hosts",              // its hosts
	"namespaces.*.services",               // name → service
	"namespaces.*.services.*",             // a service
	"namespaces.*.services.*.environment", // name → value
	"veths[][].port",                      // port settings
	"bonds[]",                             // a bond
	"bonds[].routes[]",                    // a route of a bond
	"bonds[].port",                        // port settings of a bond
	"dummies[]",                           // a dummy
	"vrfs[]",                              // a VRF
	"pools",                               // name → pool
	"pools.*",                             // a pool
}

// TestKeyOrderLabHasEveryMap checks keyOrderLab: every kind of map of the
// format is in it, and each of its maps has two keys or more (a map of one
// key has one order).
func TestKeyOrderLabHasEveryMap(t *testing.T) {
	src, err := os.ReadFile(keyOrderLab)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	walkMaps(&doc, "", func(n *yaml.Node, shape string) {
		seen[shape] = true
		if len(n.Content) < 4 {
			t.Errorf("%s:%d: the map at %q has one key: give it another, so that reordering it means something", keyOrderLab, n.Line, shape)
		}
	})
	for _, s := range mapShapes {
		if !seen[s] {
			t.Errorf("%s has no map at %q", keyOrderLab, s)
		}
	}
}

// TestDeterministic builds every example and keyOrderLab twice, with every
// map's keys reversed and in several random orders: the bytes never change.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, path := range append(examples(t), keyOrderLab) {
		src, _ := os.ReadFile(path)
		name := filepath.Base(path)
		want := archive(t, mustCompile(t, name, src))
		if again := archive(t, mustCompile(t, name, src)); !bytes.Equal(want, again) {
			t.Errorf("%s: two builds differ", name)
		}
		for i := 0; i < 6; i++ {
			r := rng
			if i == 0 {
				r = nil
			}
			p := permute(t, src, r)
			if got := archive(t, mustCompile(t, name, p)); !bytes.Equal(want, got) {
				t.Errorf("%s: output depends on key order; permuted lab:\n%s\n%s", name, p, lineDiff(string(want), string(got)))
			}
		}
	}
}

// TestErrors runs `netgen validate` on each testdata/errors/*.yml and
// compares its standard error with NAME.stderr beside it: every problem at
// FILE:LINE:COL with the source line and a caret.
func TestErrors(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/errors/*.yml")
	if len(files) == 0 {
		t.Fatal("no error cases")
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yml")
		t.Run(name, func(t *testing.T) {
			dir := filepath.Dir(path)
			var out, errb bytes.Buffer
			code := runIn(dir, []string{"validate", name + ".yml"}, &out, &errb)
			wantFile := filepath.Join(dir, name+".stderr")
			if *update {
				os.WriteFile(wantFile, errb.Bytes(), 0o644)
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if errb.String() != string(want) {
				t.Errorf("diagnostics differ from %s:\n--- want\n%s--- got\n%s", wantFile, want, errb.String())
			}
			if out.Len() != 0 {
				t.Errorf("validate wrote to standard output: %q", out.String())
			}
			wantCode := cli.ExitLab
			if !strings.Contains(string(want), ": error: ") {
				wantCode = cli.ExitOK
			}
			if code != wantCode {
				t.Errorf("exit status %d, want %d", code, wantCode)
			}
		})
	}
}

// runIn runs the CLI with the working directory set to dir, so that file
// names in diagnostics are the short names the golden files hold.
func runIn(dir string, args []string, out, errb io.Writer) int {
	old, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		panic(err)
	}
	defer os.Chdir(old)
	return cli.Main(args, cli.IO{In: strings.NewReader(""), Out: out, Err: errb})
}

// TestErrorsSorted checks the promise of the CLI contract on every error
// case: diagnostics come sorted by position.
func TestErrorsSorted(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/errors/*.yml")
	for _, path := range files {
		src, _ := os.ReadFile(path)
		res, err := compile.Compile(filepath.Base(path), src)
		if err != nil {
			t.Fatal(err)
		}
		ds := res.Diags.Sorted()
		if !sort.SliceIsSorted(ds, func(i, j int) bool { return ds[i].Pos.Before(ds[j].Pos) }) {
			t.Errorf("%s: diagnostics not sorted", path)
		}
		for _, d := range ds {
			if d.Pos.Line == 0 {
				t.Errorf("%s: diagnostic without a position: %s", path, d)
			}
			if strings.Contains(d.Message, "yaml.") || strings.Contains(d.Message, "*schema") || strings.Contains(d.Message, "!!") {
				t.Errorf("%s: diagnostic leaks an implementation detail: %s", path, d)
			}
		}
	}
}

// TestGoldenMachines compares every machine's part of each lab for
// several machines with testdata/golden/NAME.txtar, each part's files
// under MACHINE/, and checks that the parts do not depend on key order.
func TestGoldenMachines(t *testing.T) {
	labs := testlabs.MachineLabs(examplesDir)
	if len(labs) == 0 {
		t.Fatal("no example for several machines")
	}
	rng := rand.New(rand.NewSource(1))
	for _, path := range labs {
		name := strings.TrimSuffix(filepath.Base(path), ".yml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := machineArchive(t, filepath.Base(path), src)
			for i := 0; i < 4; i++ {
				p := permute(t, src, rng)
				if again := machineArchive(t, filepath.Base(path), p); !bytes.Equal(got, again) {
					t.Fatalf("output depends on key order; permuted lab:\n%s\n%s", p, lineDiff(string(got), string(again)))
				}
			}
			golden := filepath.Join("../../testdata/golden", name+".txtar")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output of %s differs from %s (go test -update rewrites it):\n%s", path, golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

func machineArchive(t *testing.T, name string, src []byte) []byte {
	lab, _ := schema.Decode(name, src)
	out := &txtar.Archive{}
	for _, m := range schema.Machines(lab) {
		res, err := compile.CompileFor(name, src, m)
		if err != nil {
			t.Fatal(err)
		}
		if res.Diags.HasErrors() {
			var b bytes.Buffer
			res.Diags.Render(&b, src)
			t.Fatalf("%s --machine %s:\n%s", name, m, b.String())
		}
		part := txtar.Parse(archive(t, res))
		for _, f := range part.Files {
			out.Files = append(out.Files, txtar.File{Name: m + "/" + f.Name, Data: f.Data})
		}
		for _, f := range res.Files {
			assertReparses(t, f)
		}
	}
	return txtar.Format(out)
}
