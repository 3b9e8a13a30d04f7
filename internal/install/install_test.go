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

// TestStageNewDirectoryWhole: files for a directory that does not exist
// are invisible until Commit, then all there with their modes; a directory
// that appears in between keeps its files and gets ours; Abort leaves
// nothing; a killed run's temporary directory goes.
func TestStageNewDirectoryWhole(t *testing.T) {
	for _, how := range []string{"commit", "appeared", "abort"} {
		root := t.TempDir()
		dir := filepath.Join(root, "etc/systemd/network")
		os.MkdirAll(filepath.Dir(dir), 0o755)
		os.Mkdir(wholeTemp(dir), 0o755) // a killed run's
		os.WriteFile(filepath.Join(wholeTemp(dir), "stale"), nil, 0o644)
		st, err := Stage([]Change{
			{Path: filepath.Join(dir, "a.network"), New: []byte("a\n"), Mode: 0o644},
			{Path: filepath.Join(dir, "b.sh"), New: []byte("b\n"), Mode: 0o755},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(dir); err == nil {
			t.Fatalf("%s: the directory is visible before Commit", how)
		}
		switch how {
		case "abort":
			st.Abort()
			if ents, _ := os.ReadDir(filepath.Dir(dir)); len(ents) != 0 {
				t.Errorf("abort left %v", ents)
			}
			continue
		case "appeared":
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "theirs.network"), []byte("t\n"), 0o644)
		}
		if err := st.Commit(); err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		want := map[string]string{"a.network": "a\n -rw-r--r--", "b.sh": "b\n -rwxr-xr-x"}
		if how == "appeared" {
			want["theirs.network"] = "t\n -rw-r--r--"
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != len(want) {
			t.Errorf("%s: %v, want %v", how, ents, want)
		}
		for n, w := range want {
			b, _ := os.ReadFile(filepath.Join(dir, n))
			fi, err := os.Lstat(filepath.Join(dir, n))
			if err != nil || string(b)+" "+fi.Mode().String() != w {
				t.Errorf("%s: %s is %q %v", how, n, b, err)
			}
		}
		if _, err := os.Lstat(wholeTemp(dir)); err == nil {
			t.Errorf("%s: %s is left", how, wholeTemp(dir))
		}
	}
}
