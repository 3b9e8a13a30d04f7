// Package docs holds netgen's documentation; its test compiles every YAML
// snippet of README.md and docs/*.md, so that no example a user copies is
// broken. The rules for snippets are in docs/testing.md.
package docs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/diag"
	"github.com/netgen-lab/netgen/internal/compile"
)

// snippet is one fenced yaml block of a markdown file.
type snippet struct {
	file   string
	line   int    // of the block's first content line
	marker string // the HTML comment right before the fence, without <!-- -->
	src    string
}

// snippets returns every ```yaml (or ```yml) block of a markdown file.
func snippets(t *testing.T, file string) []snippet {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []snippet
	for i := 0; i < len(lines); i++ {
		fence := strings.TrimSpace(lines[i])
		if fence != "```yaml" && fence != "```yml" {
			continue
		}
		s := snippet{file: file, line: i + 2}
		for j := i - 1; j >= 0; j-- {
			prev := strings.TrimSpace(lines[j])
			if prev == "" {
				continue
			}
			if m, ok := strings.CutPrefix(prev, "<!--"); ok && strings.HasSuffix(m, "-->") {
				s.marker = strings.TrimSpace(strings.TrimSuffix(m, "-->"))
			}
			break
		}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		s.src = strings.Join(body, "\n") + "\n"
		out = append(out, s)
	}
	return out
}

func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"../README.md"}
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestSnippets compiles every snippet as its marker says (docs/testing.md):
// a whole lab by default, which must give no diagnostic at all.
func TestSnippets(t *testing.T) {
	n := 0
	for _, file := range docFiles(t) {
		for _, s := range snippets(t, file) {
			n++
			if err := check(s); err != nil {
				t.Errorf("%s:%d: yaml snippet: %v", strings.TrimPrefix(s.file, "../"), s.line, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no yaml snippet found: the README's example is gone?")
	}
}

// check applies one snippet's rule and returns what is wrong with it.
func check(s snippet) error {
	kind, arg, _ := strings.Cut(s.marker, ":")
	kind, arg = strings.TrimSpace(kind), strings.TrimSpace(arg)
	src := s.src
	offset := 0 // lines netgen's test put before the snippet
	switch kind {
	case "not-a-lab":
		var v any
		if err := yaml.Unmarshal([]byte(src), &v); err != nil {
			return fmt.Errorf("not YAML: %v", err)
		}
		return nil
	case "fragment":
		src = "version: 1\n" + src
		offset = 1
	case "", "invalid", "warning":
	default:
		return fmt.Errorf("unknown marker <!-- %s --> (docs/testing.md lists them)", s.marker)
	}
	if (kind == "invalid" || kind == "warning") && arg == "" {
		return fmt.Errorf("<!-- %s: TEXT --> needs the expected message", kind)
	}
	res, err := compile.Compile("snippet.yml", []byte(src))
	if err != nil {
		return err
	}
	var errs, warns []diag.Diagnostic
	for _, d := range res.Diags.Sorted() {
		if d.Severity == diag.Error {
			errs = append(errs, d)
		} else {
			warns = append(warns, d)
		}
	}
	var b bytes.Buffer
	res.Diags.Render(&b, []byte(src))
	shown := fmt.Sprintf("(snippet line = diagnostic line - %d)\n%s", offset, b.String())
	has := func(list []diag.Diagnostic, text string) bool {
		for _, d := range list {
			if strings.Contains(d.Message, text) {
				return true
			}
		}
		return false
	}
	switch {
	case kind == "invalid" && !has(errs, arg):
		return fmt.Errorf("marked invalid with %q, but no error says so:\n%s", arg, shown)
	case kind == "invalid":
		return nil
	case len(errs) > 0:
		return fmt.Errorf("the lab has errors:\n%s", shown)
	case kind == "warning" && !has(warns, arg):
		return fmt.Errorf("marked with warning %q, but no warning says so:\n%s", arg, shown)
	case kind != "warning" && len(warns) > 0:
		return fmt.Errorf("the lab has warnings (mark it <!-- warning: TEXT --> if that is the point):\n%s", shown)
	}
	return nil
}

// TestRules: each marker is enforced, so a snippet that breaks its rule
// fails the test above.
func TestRules(t *testing.T) {
	const lab = "version: 1\nnamespaces: {a: {}, b: {}}\nveths:\n  - [a:e0, b:e0]\n"
	for _, c := range []struct {
		marker, src string
		ok          bool
	}{
		{"", lab, true},
		{"", "version: 1\nbridges: {br0: {sttp: true}}\n", false},
		{"", "bridges: {br0: {}}\n", false}, // a fragment must be marked
		{"fragment", "bridges: {br0: {}}\n", true},
		{"fragment", "bridges: {br0: {stp: maybe}}\n", false},
		{`invalid: unknown key "sttp"`, "version: 1\nbridges: {br0: {sttp: true}}\n", true},
		{"invalid: no such message", "version: 1\nbridges: {br0: {sttp: true}}\n", false},
		{"invalid: anything", lab, false},
		{"invalid", "version: 1\nbridges: {br0: {sttp: true}}\n", false},
		{"warning: has an address", "version: 1\nbridges: {br0: {addresses: [10.0.0.1/24]}}\n", true},
		{"", "version: 1\nbridges: {br0: {addresses: [10.0.0.1/24]}}\n", false},
		{"not-a-lab", "ping: [{from: a, to: 10.0.0.1}]\n", true},
		{"not-a-lab", "ping: [\n", false},
		{"fragmnt", "bridges: {br0: {}}\n", false},
	} {
		err := check(snippet{marker: c.marker, src: c.src})
		if (err == nil) != c.ok {
			t.Errorf("<!-- %s --> %q: %v, want ok=%v", c.marker, c.src, err, c.ok)
		}
	}
}
