package install

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/netgen-lab/netgen/internal/compile"
)

// TestChase resolves paths inside a root as the image's system would.
func TestChase(t *testing.T) {
	root := t.TempDir()
	mk := func(p, target string) {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "real/d"), 0o755)
	mk("abs", "/real")
	mk("rel", "real/d/..")
	mk("chain", "abs/d")
	mk("up", "../../..")
	mk("loop1", "loop2")
	mk("loop2", "/loop1")
	for _, c := range []struct {
		in, want string
		err      error
	}{
		{"/abs/d/x", "real/d/x", nil},
		{"/rel/d", "real/d", nil},
		{"/chain/new/dirs", "real/d/new/dirs", nil},
		{"/real/../abs", "real", nil},
		{"/up/x", "", errAbove},
		{"/..", "", errAbove},
		{"/loop1/x", "", syscall.ELOOP},
	} {
		got, err := chase(root, c.in)
		switch {
		case c.err != nil && !errors.Is(err, c.err):
			t.Errorf("chase(%q) = %q, %v; want error %v", c.in, got, err, c.err)
		case c.err == nil && (err != nil || got != filepath.Join(root, c.want)):
			t.Errorf("chase(%q) = %q, %v; want %s", c.in, got, err, c.want)
		}
	}
}

// TestPendingDefeatsTheStamp: while a lab has pending runtime work, its
// stamp never says it is up to date.
func TestPendingDefeatsTheStamp(t *testing.T) {
	dir := t.TempDir()
	d, err := Dirs{Network: filepath.Join(dir, "n"), Unit: filepath.Join(dir, "u")}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	src := []byte("version: 1\nname: s\nnamespaces: {a: {}}\n")
	labPath := filepath.Join(dir, "s.yml")
	os.WriteFile(labPath, src, 0o644)
	res, err := compile.Compile("s.yml", src)
	if err != nil {
		t.Fatal(err)
	}
	links, _ := EnableLinks(res.Plan, d)
	rec := NewRecord(res.Plan, res.Files, links, d)
	changes, err := Plan(res.Files, links, d, &Record{Lab: "s"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(changes); err != nil {
		t.Fatal(err)
	}
	WriteStamp(d, "build-1", labPath, src, rec)
	if _, _, ok := UpToDate(d, "build-1", labPath, src); !ok {
		t.Fatal("the fresh stamp does not hold")
	}
	if err := WritePending(d, "s", []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := UpToDate(d, "build-1", labPath, src); ok {
		t.Error("up to date with work pending")
	}
	if err := ClearPending(d, "s"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := UpToDate(d, "build-1", labPath, src); !ok {
		t.Error("the stamp does not hold once the work is done")
	}
	WritePending(d, "s", []byte("{}\n"))
	down, _ := PlanDown(d, rec)
	if !slices.ContainsFunc(down, func(c Change) bool { return c.Path == d.PendingPath("s") && c.Delete }) {
		t.Error("down keeps the pending work of the lab it removes")
	}
}

// TestStageRemovesStaleTemps: the temporary files of a killed run beside
// the files a run writes go; anything else stays.
func TestStageRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	stale := []string{".50-netgen-s_bridge-b.netdev.netgen-123", ".netgen-s_ns-a.service.netgen-link"}
	keep := []string{".50-netgen-t_bridge-b.netdev.netgen-123", ".other", "x.netgen-1"}
	for _, n := range append(append([]string{}, stale...), keep...) {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	st, err := Stage([]Change{
		{Path: filepath.Join(dir, "50-netgen-s_bridge-b.netdev"), New: []byte("x"), Mode: 0o644},
		{Path: filepath.Join(dir, "netgen-s_ns-a.service"), New: []byte("x"), Mode: 0o644},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s is still there", n)
		}
	}
	for _, n := range keep {
		if _, err := os.Lstat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s went: %v", n, err)
		}
	}
}
