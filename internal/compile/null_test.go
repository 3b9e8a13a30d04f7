package compile_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/schema"
)

// TestNullIsAbsent: a key written with no value (`mtu:`, `addresses: ~`)
// and a list entry written as `-` alone mean what leaving them out means,
// or are a positioned error; never a third thing. For every field and every
// list entry of every example lab (and of the key-order lab), the lab with
// that value replaced by null either fails to validate, or builds to exactly
// the files of the lab without that key or entry. It found `services:
// {web: }` (a unit running nothing) and `dummies: [-]` (an unnamed dummy).
//
// Names the lab chooses (a namespace `a:` with no value is an empty
// namespace, not no namespace) are not fields and are left alone, as are
// anchored values (their aliases would lose their target) and merge keys.
func TestNullIsAbsent(t *testing.T) {
	labs := append(examples(t), keyOrderLab)
	labs = append(labs, testlabs.MachineLabs(examplesDir)...)
	checked := 0
	for _, path := range labs {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		var doc yaml.Node
		if err := yaml.Unmarshal(src, &doc); err != nil {
			t.Fatal(err)
		}
		build := func(what string) (ok bool, out []byte) {
			b, err := yaml.Marshal(&doc)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, what, err)
			}
			return nullBuild(t, name, b)
		}
		if ok, _ := build("as written"); !ok {
			t.Fatalf("%s does not build as written", name)
		}
		for _, s := range nullSites(&doc) {
			saved := s.parent.Content
			val := saved[s.val]
			null := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "~", Line: val.Line, Column: val.Column}

			s.parent.Content = replaced(saved, s.val, null)
			okNull, outNull := build(s.what)
			s.parent.Content = removed(saved, s.key, s.val)
			okGone, outGone := build(s.what)
			s.parent.Content = saved
			checked++

			switch {
			case !okNull:
				// A positioned error (TestErrors checks the messages).
			case !okGone:
				t.Errorf("%s: %s written as null builds, but leaving it out is an error", name, s.what)
			case !bytes.Equal(outNull, outGone):
				t.Errorf("%s: %s written as null builds other files than leaving it out:\n%s", name, s.what, lineDiff(string(outGone), string(outNull)))
			}
		}
	}
	if checked < 500 {
		t.Fatalf("only %d values checked: the walk lost its way", checked)
	}
	t.Logf("%d values written as null", checked)
}

// nullSite is one value that can be written as null: the mapping or list
// holding it, where, and a description for failures.
type nullSite struct {
	parent   *yaml.Node
	key, val int // key is -1 in a list
	what     string
}

// nullSites lists every field value and list entry under n that is no
// lab-chosen name, no anchor and no merge key, and not already null.
func nullSites(doc *yaml.Node) []nullSite {
	var sites []nullSite
	var walk func(n *yaml.Node, shape string)
	walk = func(n *yaml.Node, shape string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, shape)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if c.Anchor == "" && !nullNode(c) {
					sites = append(sites, nullSite{n, -1, i, fmt.Sprintf("entry %d of %s (line %d)", i, shape, c.Line)})
				}
				walk(c, shape+"[]")
			}
		case yaml.MappingNode:
			named := shape == "namespaces" || shape == "bridges" || shape == "pools" || shape == "machines" ||
				strings.HasSuffix(shape, ".sysctl") || strings.HasSuffix(shape, ".services") ||
				strings.HasSuffix(shape, ".environment") || strings.HasSuffix(shape, ".hosts")
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "<<" {
					continue
				}
				child := k.Value
				if named {
					child = "*"
				}
				if shape != "" {
					child = shape + "." + child
				}
				if !named && v.Anchor == "" && !nullNode(v) && k.Value != "version" && k.Value != "name" {
					sites = append(sites, nullSite{n, i, i + 1, fmt.Sprintf("%s (line %d)", child, k.Line)})
				}
				walk(v, child)
			}
		}
	}
	walk(doc, "")
	return sites
}

func nullNode(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func replaced(c []*yaml.Node, i int, n *yaml.Node) []*yaml.Node {
	out := append([]*yaml.Node(nil), c...)
	out[i] = n
	return out
}

// removed drops a key and its value from a mapping's content (key ≥ 0), or
// one entry from a list's (key -1).
func removed(c []*yaml.Node, key, val int) []*yaml.Node {
	from := key
	if key < 0 {
		from = val
	}
	out := append([]*yaml.Node(nil), c[:from]...)
	return append(out, c[val+1:]...)
}

// nullBuild compiles a lab, every machine's part of a lab with machines,
// and says whether it is valid, with all its files.
func nullBuild(t *testing.T, name string, src []byte) (bool, []byte) {
	lab, diags := schema.Decode(name, src)
	if diags.HasErrors() {
		return false, nil
	}
	machines := schema.Machines(lab)
	if len(machines) == 0 {
		machines = []string{""}
	}
	out := &txtar.Archive{}
	for _, m := range machines {
		res, err := compile.CompileFor(name, src, m)
		if err != nil {
			t.Fatal(err)
		}
		if res.Diags.HasErrors() {
			return false, nil
		}
		for _, f := range txtar.Parse(archive(t, res)).Files {
			out.Files = append(out.Files, txtar.File{Name: m + "/" + f.Name, Data: f.Data})
		}
	}
	return true, txtar.Format(out)
}
