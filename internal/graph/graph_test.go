package graph_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/cli"
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
	out, err := graph.Render(res.Plan, format, graph.Machines{})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := graph.Render(testlabs.Compile(t, filepath.Base(path), src).Plan, format, graph.Machines{})
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

// TestMachinesGolden: the multi-machine example drawn whole (each machine a
// box around its namespaces, cables between machines over VXLAN) and as
// machine m1's part (its root namespace is machine m1, its VXLAN devices
// say where they lead), through `netgen graph` itself, as
// testdata/machines.* and machines-m1.*.
func TestMachinesGolden(t *testing.T) {
	for _, c := range []struct{ name, machine string }{{"machines", ""}, {"machines-m1", "m1"}} {
		for _, format := range graph.Formats {
			args := []string{"graph", "../../examples/machines.yml", "--format", format}
			if c.machine != "" {
				args = append(args, "--machine", c.machine)
			}
			var out, errs bytes.Buffer
			if code := cli.Main(args, cli.IO{Out: &out, Err: &errs}); code != 0 {
				t.Fatalf("netgen %s: exit %d\n%s", strings.Join(args, " "), code, errs.String())
			}
			golden := filepath.Join("testdata", c.name+ext[format])
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./internal/graph -update writes it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("netgen %s differs from %s (go test ./internal/graph -update rewrites it):\n%s", strings.Join(args, " "), golden, out.String())
			}
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	res := testlabs.Compile(t, "x.yml", []byte("version: 1\nnamespaces: {a: {}}\n"))
	if _, err := graph.Render(res.Plan, "png", graph.Machines{}); err == nil || !strings.Contains(err.Error(), "dot or mermaid") {
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
