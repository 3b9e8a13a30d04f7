package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

type run struct {
	code          int
	stdout, stder string
}

func netgen(t *testing.T, stdin string, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return run{code, out.String(), errb.String()}
}

const example = "../../examples/classic.yml"

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"frobnicate"},
		{"build"},
		{"build", "a.yml", "b.yml"},
		{"build", "--no-such-flag", example},
		{"validate"},
		{"build", example, "--root", "/nonexistent/root"},
	} {
		r := netgen(t, "", args...)
		if r.code != ExitUsage {
			t.Errorf("netgen %v: exit %d, want %d (stderr %q)", args, r.code, ExitUsage, r.stder)
		}
		if r.stdout != "" {
			t.Errorf("netgen %v wrote to stdout: %q", args, r.stdout)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"build", "--help"}, {"validate", "-h"}, {"--version"}} {
		r := netgen(t, "", args...)
		if r.code != ExitOK || r.stdout == "" {
			t.Errorf("netgen %v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	if r := netgen(t, "", "build", "--help"); !strings.Contains(r.stdout, "--unit-dir") {
		t.Errorf("build --help does not list --unit-dir:\n%s", r.stdout)
	}
}

func dirs(t *testing.T) (net, units string, args []string) {
	d := t.TempDir()
	net, units = filepath.Join(d, "network"), filepath.Join(d, "system")
	return net, units, []string{"-o", net, "--unit-dir", units, "--no-reload"}
}

func list(t *testing.T, dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			out = append(out, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	return out
}

func TestBuildWritesAndIsIdempotent(t *testing.T) {
	net, units, args := dirs(t)
	r := netgen(t, "", append([]string{"build", example}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if r.stdout != "" {
		t.Errorf("build wrote to stdout: %q", r.stdout)
	}
	files := list(t, net)
	if len(files) == 0 || len(list(t, units)) == 0 {
		t.Fatalf("nothing written: %v %v", files, list(t, units))
	}
	st := map[string]syscall.Stat_t{}
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(net, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", f, fi.Mode())
		}
		st[f] = *fi.Sys().(*syscall.Stat_t)
	}
	r = netgen(t, "", append([]string{"build", example}, args...)...)
	if r.code != ExitOK || !strings.Contains(r.stder, "up to date") {
		t.Fatalf("second build: exit %d, %q", r.code, r.stder)
	}
	for f, before := range st {
		fi, _ := os.Stat(filepath.Join(net, f))
		after := fi.Sys().(*syscall.Stat_t)
		if after.Ino != before.Ino || after.Mtim != before.Mtim {
			t.Errorf("%s was rewritten by an unchanged build", f)
		}
	}
	if r := netgen(t, "", append([]string{"build", example, "--check"}, args...)...); r.code != ExitOK {
		t.Errorf("--check on an up-to-date lab: exit %d", r.code)
	}
}

func TestBadLabWritesNothing(t *testing.T) {
	net, units, args := dirs(t)
	bad := "version: 1\nnamespaces: {host: {}}\n"
	r := netgen(t, bad, append([]string{"build", "-"}, args...)...)
	if r.code != ExitLab {
		t.Fatalf("exit %d, want %d", r.code, ExitLab)
	}
	if !strings.Contains(r.stder, "<stdin>:2:14: error:") || !strings.Contains(r.stder, "^") {
		t.Errorf("diagnostic not positioned with a caret:\n%s", r.stder)
	}
	if f := append(list(t, net), list(t, units)...); len(f) != 0 {
		t.Errorf("a bad lab wrote %v", f)
	}
}

func TestDryRunAndCheckChangeNothing(t *testing.T) {
	net, _, args := dirs(t)
	r := netgen(t, "", append([]string{"build", example, "--dry-run"}, args...)...)
	if r.code != ExitOK || !strings.Contains(r.stdout, "+[NetDev]") {
		t.Fatalf("--dry-run: exit %d, stdout:\n%s", r.code, r.stdout)
	}
	r = netgen(t, "", append([]string{"build", example, "--check"}, args...)...)
	if r.code != ExitChanges || !strings.Contains(r.stdout, "create ") {
		t.Fatalf("--check: exit %d, stdout %q", r.code, r.stdout)
	}
	if f := list(t, net); len(f) != 0 {
		t.Errorf("--dry-run/--check wrote %v", f)
	}
}

// TestRootEnablesUnits checks --root: files inside the image, and the same
// enablement symlinks `systemctl --root=ROOT enable` makes.
func TestRootEnablesUnits(t *testing.T) {
	root := t.TempDir()
	r := netgen(t, "", "build", example, "--root", root)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/network/50-netgen-fun_bridge-virbr4.netdev")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(r.stder, "systemd-networkd.service is not enabled") {
		t.Errorf("--root into an image without networkd enabled gave no warning:\n%s", r.stder)
	}
	os.MkdirAll(filepath.Join(root, "etc/systemd/system/multi-user.target.wants"), 0o755)
	os.Symlink("/lib/systemd/system/systemd-networkd.service", filepath.Join(root, "etc/systemd/system/multi-user.target.wants/systemd-networkd.service"))
	os.Remove(filepath.Join(root, "etc/systemd/network/50-netgen-fun_bridge-virbr4.netdev"))
	if r := netgen(t, "", "build", example, "--root", root); strings.Contains(r.stder, "not enabled") {
		t.Errorf("warned although networkd is enabled:\n%s", r.stder)
	}
	for link, target := range map[string]string{
		"etc/systemd/system/multi-user.target.wants/netgen-fun.target":            "/etc/systemd/system/netgen-fun.target",
		"etc/systemd/system/netgen-fun.target.wants/netgen-fun_ns-netns1.service": "/etc/systemd/system/netgen-fun_ns-netns1.service",
	} {
		got, err := os.Readlink(filepath.Join(root, link))
		if err != nil || got != target {
			t.Errorf("%s -> %q (%v), want %s", link, got, err, target)
		}
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	lab := "version: 1\nnamespaces: {a: {}}\nbridges: {br0: {sttp: true}}\nveths:\n  - [a:e0, b:e1]\n"
	r := netgen(t, lab, "validate", "-")
	if r.code != ExitLab {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"<stdin>:3:17: error: unknown key \"sttp\"", "did you mean \"stp\"", "<stdin>:5:12: error: namespace \"b\" is not defined"} {
		if !strings.Contains(r.stder, want) {
			t.Errorf("missing %q in:\n%s", want, r.stder)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout: %q", r.stdout)
	}
}

// TestDownRoot removes a lab from an image: its files, symlinks and record
// go; another lab's files and a file netgen did not write stay.
func TestDownRoot(t *testing.T) {
	root := t.TempDir()
	for _, lab := range []string{example, "../../examples/two-namespaces.yml"} {
		if r := netgen(t, "", "build", lab, "--root", root); r.code != ExitOK {
			t.Fatalf("build %s: %d %s", lab, r.code, r.stder)
		}
	}
	foreign := filepath.Join(root, "etc/systemd/network/10-mine.network")
	os.WriteFile(foreign, []byte("[Match]\nName=eth0\n"), 0o644)
	if r := netgen(t, "", "down", example, "--root", root); r.code != ExitOK {
		t.Fatalf("down: exit %d: %s", r.code, r.stder)
	}
	for _, f := range append(list(t, filepath.Join(root, "etc/systemd/network")), list(t, filepath.Join(root, "etc/systemd/system"))...) {
		if strings.Contains(f, "fun") {
			t.Errorf("left after down: %s", f)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("down removed a file netgen did not write: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/netgen-pair_ns-left.service")); err != nil {
		t.Errorf("down of lab fun removed lab pair's unit: %v", err)
	}
	// A foreign file in netgen's way is refused, and nothing is written.
	os.WriteFile(filepath.Join(root, "etc/systemd/network/50-netgen-fun_bridge-virbr4.netdev"), []byte("[NetDev]\nName=virbr4\nKind=bridge\n"), 0o644)
	if r := netgen(t, "", "build", example, "--root", root); r.code != ExitWrite || !strings.Contains(r.stder, "not generated by netgen") {
		t.Errorf("build over a foreign file: exit %d, want %d:\n%s", r.code, ExitWrite, r.stder)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/netgen-fun.target")); err == nil {
		t.Error("a refused build wrote files")
	}
}

// TestUnchangedRerunSkipsCompile: with a build ID, an unchanged re-run
// answers from the stamp without compiling; a touched file, an edited lab
// or another build sends it down the full path again.
func TestUnchangedRerunSkipsCompile(t *testing.T) {
	old := buildID
	defer func() { buildID = old }()
	id := "test-build-1"
	buildID = func() string { return id }

	dir := t.TempDir()
	lab := filepath.Join(dir, "lab.yml")
	src, _ := os.ReadFile(example)
	os.WriteFile(lab, src, 0o644)
	net, _, args := dirs(t)
	build := func() run { return netgen(t, "", append([]string{"build", lab}, args...)...) }

	if r := build(); r.code != ExitOK {
		t.Fatalf("first build: %d %s", r.code, r.stder)
	}
	n := compiles
	if r := build(); r.code != ExitOK || !strings.Contains(r.stder, "up to date") || compiles != n {
		t.Fatalf("unchanged re-run: exit %d, compiled %d times, %q", r.code, compiles-n, r.stder)
	}
	if r := netgen(t, "", append([]string{"build", lab, "--check"}, args...)...); r.code != ExitOK || compiles != n {
		t.Errorf("--check on an unchanged lab: exit %d, compiled %d times", r.code, compiles-n)
	}

	// A generated file edited by hand: the full path puts it back.
	f := filepath.Join(net, "50-netgen-fun_bridge-virbr4.netdev")
	good, _ := os.ReadFile(f)
	os.WriteFile(f, []byte("# edited\n"), 0o644)
	if r := build(); r.code != ExitOK || compiles == n {
		t.Fatalf("after a hand edit: exit %d, compiled: %v", r.code, compiles != n)
	}
	if b, _ := os.ReadFile(f); !bytes.Equal(b, good) {
		t.Errorf("the hand-edited file was not restored")
	}

	// Another netgen build, or an edited lab: compiled again.
	n = compiles
	id = "test-build-2"
	build()
	if compiles == n {
		t.Error("a different build ID trusted the stamp")
	}
	n = compiles
	os.WriteFile(lab, append(src, []byte("# comment\n")...), 0o644)
	build()
	if compiles == n {
		t.Error("an edited lab trusted the stamp")
	}
	// down removes the stamp with the lab.
	netgen(t, "", append([]string{"down", lab}, args...)...)
	if m, _ := filepath.Glob(filepath.Join(net, ".netgen-src-*")); len(m) != 0 {
		t.Errorf("down left %v", m)
	}
}
