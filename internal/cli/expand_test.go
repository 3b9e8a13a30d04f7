package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExpand: `netgen expand` prints the lab with its addresses written out
// on standard output and nothing else; built, that output writes the same
// files as the lab itself, and `build --dry-run` of the lab shows the
// addresses chosen.
func TestExpand(t *testing.T) {
	const lab = "../../examples/pools.yml"
	r := netgen(t, "", "expand", lab)
	if r.code != ExitOK || r.stder != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stder)
	}
	if strings.Contains(r.stdout, "auto}") || strings.Contains(r.stdout, "auto,") || strings.Contains(r.stdout, "pool: ") || !strings.Contains(r.stdout, "addresses: [10.") {
		t.Fatalf("addresses not written out:\n%s", r.stdout)
	}
	expanded := filepath.Join(t.TempDir(), "pools.yml")
	if err := os.WriteFile(expanded, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	var trees [2]map[string]string
	for i, path := range []string{lab, expanded} {
		net, units, args := dirs(t)
		if b := netgen(t, "", append([]string{"build", path}, args...)...); b.code != ExitOK {
			t.Fatalf("build %s: exit %d: %s", path, b.code, b.stder)
		}
		trees[i] = map[string]string{}
		for _, d := range []string{net, units} {
			for _, f := range list(t, d) {
				if strings.HasPrefix(f, ".netgen-") {
					continue // the record holds the paths of the two directories
				}
				data, _ := os.ReadFile(filepath.Join(d, f))
				trees[i][f] = string(data)
			}
		}
	}
	if len(trees[0]) == 0 || len(trees[0]) != len(trees[1]) {
		t.Fatalf("%d files, expanded %d", len(trees[0]), len(trees[1]))
	}
	for f, data := range trees[0] {
		if trees[1][f] != data {
			t.Errorf("%s differs when built from the expanded lab", f)
		}
	}

	_, _, args := dirs(t)
	dry := netgen(t, "", append([]string{"build", lab, "--dry-run"}, args...)...)
	if dry.code != ExitOK || !strings.Contains(dry.stdout, "+Address=10.100.20.188/24") {
		t.Errorf("build --dry-run does not show the automatic address (exit %d):\n%s", dry.code, dry.stdout)
	}
}

func TestExpandErrors(t *testing.T) {
	for _, c := range []struct {
		args  []string
		stdin string
		code  int
	}{
		{[]string{"expand"}, "", ExitUsage},
		{[]string{"expand", "a.yml", "b.yml"}, "", ExitUsage},
		{[]string{"expand", "/nonexistent/lab.yml"}, "", ExitLab},
		{[]string{"expand", "-"}, "version: 1\nveths:\n  - [{name: a, addresses: auto}, b]\n", ExitLab},
	} {
		r := netgen(t, c.stdin, c.args...)
		if r.code != c.code || r.stdout != "" || r.stder == "" {
			t.Errorf("netgen %v: exit %d (want %d), stdout %q, stderr %q", c.args, r.code, c.code, r.stdout, r.stder)
		}
	}
	r := netgen(t, "version: 1\nveths:\n  - [{name: a, addresses: auto}, b]\n", "expand", "-")
	if !strings.Contains(r.stder, "<stdin>:3:27: error: a has `addresses: auto`, but no pool gives its segment a subnet") {
		t.Errorf("stderr %q", r.stder)
	}
}

// TestGrowPooledLab: a host added to a pooled LAN changes nothing that was
// there: `build --check` of the grown lab lists the new host's files only,
// so applying it live starts one unit and restarts none.
func TestGrowPooledLab(t *testing.T) {
	src, err := os.ReadFile("../../examples/pools.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, _, args := dirs(t)
	dir := t.TempDir()
	lab := filepath.Join(dir, "pools.yml")
	if err := os.WriteFile(lab, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := netgen(t, "", append([]string{"build", lab}, args...)...); r.code != ExitOK {
		t.Fatalf("build: exit %d: %s", r.code, r.stder)
	}
	grown := strings.Replace(string(src), "  pc3: {}\n", "  pc3: {}\n  pc4: {}\n", 1) +
		"  - [{name: pc4:eth0, addresses: auto, gateway: auto}, {name: lan1-pc4, bridge: lan1}]\n"
	if err := os.WriteFile(lab, []byte(grown), 0o644); err != nil {
		t.Fatal(err)
	}
	r := netgen(t, "", append([]string{"build", lab, "--check"}, args...)...)
	if r.code != ExitChanges {
		t.Fatalf("build --check: exit %d, want %d: %s", r.code, ExitChanges, r.stder)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, l := range lines {
		if !strings.Contains(l, "pc4") {
			t.Errorf("growing the lab by pc4 changes %q", l)
		}
	}
	if len(lines) != 3 {
		t.Errorf("want pc4's unit, its .network and its symlink, got:\n%s", r.stdout)
	}
}
