// Package install writes rendered files into their directories (a live
// system's or an image's) so that no reader ever sees a half-written file,
// and enables a lab's units with the symlinks `systemctl enable` makes.
package install

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/render"
)

// Defaults of the output directories.
const (
	DefaultNetworkDir = "/etc/systemd/network"
	DefaultUnitDir    = "/etc/systemd/system"
)

// Dirs are where a lab's files go.
type Dirs struct {
	// Root is the image root ("" or "/" for the running system). Network and
	// Unit are paths inside it.
	Root    string
	Network string
	Unit    string
}

// Resolve fills in defaults.
func (d Dirs) Resolve() Dirs {
	if d.Network == "" {
		d.Network = DefaultNetworkDir
	}
	if d.Unit == "" {
		d.Unit = DefaultUnitDir
	}
	return d
}

// host returns the path on this machine of a path inside the root.
func (d Dirs) host(p string) string {
	if d.Root == "" || d.Root == "/" {
		return p
	}
	return filepath.Join(d.Root, p)
}

// Path returns where a file is written on this machine.
func (d Dirs) Path(f render.File) string {
	dir := d.Network
	if f.Dir == render.UnitDir {
		dir = d.Unit
	}
	return d.host(filepath.Join(dir, f.Name))
}

// Link is an enablement symlink: Path (on this machine) points to Target
// (the unit's path as the booted system sees it).
type Link struct {
	Path, Target string
}

// EnableLinks are the symlinks `systemctl enable` makes for the lab's units:
// each unit in its WantedBy target's .wants directory, next to the units.
func EnableLinks(p *generator.Plan, d Dirs) []Link {
	if p.Target == "" {
		return nil
	}
	mk := func(wantedBy, unit string) Link {
		return Link{
			Path:   d.host(filepath.Join(d.Unit, wantedBy+".wants", unit)),
			Target: filepath.Join(d.Unit, unit),
		}
	}
	links := []Link{mk("multi-user.target", p.Target)}
	for _, u := range p.Units {
		links = append(links, mk(p.Target, u.Name))
	}
	return links
}

// Change is one file or link that a write creates or changes.
type Change struct {
	Path string
	// Old is the current content (nil when the file does not exist).
	Old, New []byte
	Link     *Link
}

// Plan compares the files and links with what is on disk and returns what
// would change.
func Plan(files []render.File, links []Link, d Dirs) ([]Change, error) {
	var out []Change
	for _, f := range files {
		path := d.Path(f)
		old, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			old = nil
		case err != nil:
			return nil, err
		case bytes.Equal(old, f.Data):
			if st, err := os.Stat(path); err == nil && st.Mode().Perm() == f.Mode {
				continue
			}
		}
		out = append(out, Change{Path: path, Old: old, New: f.Data})
	}
	for _, l := range links {
		if t, err := os.Readlink(l.Path); err == nil && t == l.Target {
			continue
		}
		l := l
		out = append(out, Change{Path: l.Path, Link: &l})
	}
	return out, nil
}

// Apply carries out changes. Every file goes through a temporary file in its
// own directory and a rename, so a failure part-way (disk full, a kill)
// leaves each file either old or new, never torn.
func Apply(changes []Change, files []render.File, d Dirs) error {
	mode := map[string]fs.FileMode{}
	for _, f := range files {
		mode[d.Path(f)] = f.Mode
	}
	for _, c := range changes {
		if err := os.MkdirAll(filepath.Dir(c.Path), 0o755); err != nil {
			return err
		}
		if c.Link != nil {
			if err := replaceSymlink(c.Link.Target, c.Path); err != nil {
				return err
			}
			continue
		}
		if err := WriteFile(c.Path, c.New, mode[c.Path]); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile replaces path atomically with data.
func WriteFile(path string, data []byte, mode fs.FileMode) error {
	if mode == 0 {
		mode = 0o644
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".netgen-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	return nil
}

func replaceSymlink(target, path string) error {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.netgen-link", filepath.Base(path)))
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Describe lists changes for humans, sorted by path.
func Describe(changes []Change) []string {
	var out []string
	for _, c := range changes {
		verb := "update"
		switch {
		case c.Link != nil:
			verb = "link"
			out = append(out, fmt.Sprintf("%s %s -> %s", verb, c.Path, c.Link.Target))
			continue
		case c.Old == nil:
			verb = "create"
		}
		out = append(out, verb+" "+c.Path)
	}
	sort.Strings(out)
	return out
}

// Diff renders a change as a minimal unified-style diff of whole lines.
func Diff(c Change) string {
	var b strings.Builder
	oldLines := splitLines(c.Old)
	newLines := splitLines(c.New)
	from := c.Path
	if c.Old == nil {
		from = "/dev/null"
	}
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, c.Path)
	for _, op := range lineDiff(oldLines, newLines) {
		b.WriteString(op)
		b.WriteByte('\n')
	}
	return b.String()
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// lineDiff is a longest-common-subsequence diff; generated files are small.
func lineDiff(a, b []string) []string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, " "+a[i])
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, "+"+b[j])
			j++
		default:
			out = append(out, "-"+a[i])
			i++
		}
	}
	return out
}
