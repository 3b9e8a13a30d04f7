package graph_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/graph"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
)

var update = flag.Bool("update", false, "rewrite testdata/*.dot and *.mmd")

var ext = map[string]string{"dot": ".dot", "mermaid": ".mmd"}

// labs are the examples and the boot tiers' test labs.
func labs(t *testing.T) []string {
	return append(testlabs.Labs(t, "../../examples"), testlabs.Labs(t, "../../e2e/testdata/labs")...)
}

func draw(t *testing.T, path, format string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res := testlabs.Compile(t, filepath.Base(path), src)
	out, err := graph.Render(res.Plan, format)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := graph.Render(testlabs.Compile(t, filepath.Base(path), src).Plan, format)
	if !bytes.Equal(out, again) {
		t.Errorf("%s: two renderings of the same lab differ", path)
	}
	return out
}

// TestGolden: every lab's drawing in both formats, as testdata/NAME.dot and
// NAME.mmd (`go test ./internal/graph -update` rewrites them).
func TestGolden(t *testing.T) {
	for _, path := range labs(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yml")
		for _, format := range graph.Formats {
			golden := filepath.Join("testdata", name+ext[format])
			got := draw(t, path, format)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./internal/graph -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (go test ./internal/graph -update rewrites it):\n%s", name, golden, got)
			}
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	res := testlabs.Compile(t, "x.yml", []byte("version: 1\nnamespaces: {a: {}}\n"))
	if _, err := graph.Render(res.Plan, "png"); err == nil || !strings.Contains(err.Error(), "dot or mermaid") {
		t.Errorf("format png: %v, want an error naming the formats", err)
	}
}

// need returns the path of a renderer that setup.sh installs.
func need(t *testing.T, path string) string {
	t.Helper()
	p, err := exec.LookPath(path)
	if err != nil {
		t.Fatalf("%s is not installed: run ./setup.sh (%v)", path, err)
	}
	return p
}

// TestDotRenders: Graphviz's dot (Debian's) lays out every golden file
// without a word on standard error.
func TestDotRenders(t *testing.T) {
	dot := need(t, "dot")
	files, _ := filepath.Glob("testdata/*.dot")
	if len(files) == 0 {
		t.Fatal("no golden .dot files")
	}
	for _, f := range files {
		cmd := exec.Command(dot, "-Tsvg", "-o", os.DevNull, f)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("dot -Tsvg %s: %v\n%s", f, err, stderr.String())
		}
	}
}
