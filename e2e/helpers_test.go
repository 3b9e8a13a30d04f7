package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/render"
)

type compileResult = compile.Result

const examplesDir = "../examples"

func examplePaths(t testing.TB) []string {
	t.Helper()
	return testlabs.Labs(t, examplesDir)
}

// allLabPaths is every lab the tiers boot: the examples and the labs only
// the tiers run (e2e/testdata/labs).
func allLabPaths(t testing.TB) []string {
	t.Helper()
	return append(examplePaths(t), testlabs.Labs(t, "testdata/labs")...)
}

func compileExample(t testing.TB, path string) *compile.Result {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return testlabs.Compile(t, filepath.Base(path), src)
}

// unitScript is the script a unit gives sh on standard input: its
// StandardInputText= values joined by newlines, as systemd joins them.
func unitScript(t testing.TB, res *compile.Result, name string) string {
	t.Helper()
	for _, f := range res.Files {
		if f.Dir != render.UnitDir || f.Name != name {
			continue
		}
		secs, err := unit.DeserializeSections(bytes.NewReader(f.Data))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, s := range secs {
			for _, e := range s.Entries {
				if s.Section == "Service" && e.Name == "StandardInputText" {
					lines = append(lines, e.Value)
				}
			}
		}
		return strings.Join(lines, "\n")
	}
	t.Fatalf("no unit %s", name)
	return ""
}

// TestLabsShareNoNamespace: the boot tiers boot every lab side by side on
// one system, so two labs with a namespace of one name would take each
// other's down (lab wires and lab bonds both had r1 and r2: the QEMU boot
// lost bonds' namespaces).
// Labs of different tiers (needsVLANKernel: QEMU, else nspawn) never meet.
func TestLabsShareNoNamespace(t *testing.T) {
	first := map[string]string{}
	for _, path := range allLabPaths(t) {
		res := compileExample(t, path)
		tier := "nspawn"
		if needsVLANKernel(res.Plan) {
			tier = "qemu"
		}
		for _, u := range res.Plan.Units {
			if u.Namespace == nil {
				continue
			}
			key := tier + " " + u.Namespace.Name
			if other, dup := first[key]; dup {
				t.Errorf("namespace %q is in %s and in %s, which boot together (%s tier)", u.Namespace.Name, other, path, tier)
			}
			first[key] = path
		}
	}
}
