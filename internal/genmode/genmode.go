// Package genmode runs netgen as a systemd generator: every lab file in
// /etc/netgen comes up at boot with no command run, as netplan's files do.
//
// systemd runs /usr/lib/systemd/system-generators/netgen-generator (a
// symlink to the netgen binary, which recognises the name) at boot and at
// every daemon-reload, before it loads any unit. The generator writes each
// lab's units and enablement symlinks into the directory systemd gives it
// (normal-dir, /run/systemd/generator) and the lab's networkd files, with
// its record, into /run/systemd/network, which networkd reads too. Nothing
// under /etc is written: /etc may still be read-only at that point.
//
// `netgen build /etc/netgen/NAME.yml` writes to the same two runtime
// directories and reads and writes the same record, so the generator's
// boot and a live build meet on one copy of the lab (docs/design.md,
// "Labs in /etc/netgen").
package genmode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/install"
	"github.com/netgen-lab/netgen/render"
)

// Paths of generator mode, as the running system sees them.
const (
	// LabDir holds the labs the generator brings up.
	LabDir = "/etc/netgen"
	// NetworkDir is where generator-mode labs keep their networkd files and
	// record: networkd reads it, and it is gone at the next boot.
	NetworkDir = "/run/systemd/network"
	// UnitDir is the system generators' normal-dir.
	UnitDir = "/run/systemd/generator"
	// Name is the generator's file name; the netgen binary acts as the
	// generator when it is called by this name.
	Name = "netgen-generator"
	// Marker exists once the generator has run in this boot (or netgen
	// was installed or used on the running system): from then on a run is
	// a daemon-reload, not a boot.
	Marker = "/run/netgen/generator-ran"
)

// generatorPaths are where systemd looks for system generators.
var generatorPaths = []string{
	"/run/systemd/system-generators/",
	"/etc/systemd/system-generators/",
	"/usr/local/lib/systemd/system-generators/",
	"/usr/lib/systemd/system-generators/",
	"/lib/systemd/system-generators/",
}

// Installed reports whether a netgen generator is installed under root, so
// that systemd runs it at boot and at every daemon-reload.
func Installed(root string) bool {
	for _, d := range generatorPaths {
		if fi, err := os.Stat(filepath.Join(root, d, Name)); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}

// RuntimeDirs are the directories of generator-mode labs (not resolved).
func RuntimeDirs(root string) install.Dirs {
	return install.Dirs{Root: root, Network: NetworkDir, Unit: UnitDir}
}

// PersistentDirs are the directories `netgen build` writes by default
// (not resolved).
func PersistentDirs(root string) install.Dirs {
	return install.Dirs{Root: root, Network: install.DefaultNetworkDir, Unit: install.DefaultUnitDir}
}

// InstalledIn reports whether d, resolved, holds a record of lab: the lab is
// installed there.
func InstalledIn(d install.Dirs, lab string) bool {
	r, err := d.Resolve()
	if err != nil {
		return false
	}
	rec, err := install.ReadRecord(r, lab)
	return err == nil && !rec.Empty()
}

// IsLabFile reports whether path names a lab file of /etc/netgen (after
// making it absolute and resolving symlinks in its directory).
func IsLabFile(path string) bool {
	if path == "-" || filepath.Ext(path) != ".yml" {
		return false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	dir := filepath.Dir(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return dir == LabDir
}

// MarkBooted records that the system is up: later generator runs are
// daemon-reloads, which bring up no lab that is not up already.
func MarkBooted(root string) error {
	p := filepath.Join(root, Marker)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, nil, 0o644)
}

func booted(root string) bool {
	_, err := os.Stat(filepath.Join(root, Marker))
	return err == nil
}

// Config is one generator run.
type Config struct {
	// Root is "" on a running system; tests use a directory that stands in
	// for /.
	Root string
	// UnitDir is normal-dir as systemd passed it, a path inside Root.
	UnitDir string
	Log     *Log
}

// labFile is one lab found in LabDir.
type labFile struct {
	path string // as the system sees it
	res  *compile.Result
}

// Run brings up every valid lab of /etc/netgen and reports whether every
// lab file was valid and written. A broken lab is logged with its
// diagnostics and skipped; the others still come up.
//
// At boot (no marker yet) each lab gets its units, enablement symlinks,
// networkd files and record. On a daemon-reload systemd has just emptied
// normal-dir, so each lab that is up (has a record in NetworkDir) gets its
// units and symlinks again; its networkd files and record are left as they
// are, because they describe what runs: `netgen build` compares the lab
// with them to know what to reload and restart. A lab file added since
// boot is left to `netgen build` (or the next boot).
func Run(c Config) bool {
	ok := true
	boot := !booted(c.Root)
	labs, bad := c.readLabs()
	ok = ok && !bad
	enableNetworkd := false
	seen := map[string]bool{}
	for _, lf := range labs {
		lab := lf.res.Plan.Lab
		seen[lab] = true
		if InstalledIn(PersistentDirs(c.Root), lab) {
			c.Log.Warning("%s: lab %s is also installed in %s by netgen build; this file is skipped so that the lab is on the system once (netgen down %s, then reboot or netgen build %s)",
				lf.path, lab, install.DefaultNetworkDir, lab, lf.path)
			continue
		}
		dirs, err := install.Dirs{Root: c.Root, Network: NetworkDir, Unit: c.UnitDir}.Resolve()
		if err != nil {
			c.Log.Error("%s: lab %s: %v; skipped", lf.path, lab, err)
			ok = false
			continue
		}
		old, err := install.ReadRecord(dirs, lab)
		if err != nil {
			c.Log.Error("%s: lab %s: %v; skipped", lf.path, lab, err)
			ok = false
			continue
		}
		if old.Empty() && !boot {
			c.Log.Notice("%s: lab %s is new since boot: netgen build %s brings it up now, or it comes up at the next boot", lf.path, lab, lf.path)
			continue
		}
		if err := c.write(lf, dirs, old, boot); err != nil {
			c.Log.Error("%s: lab %s could not be written: %v; nothing of it comes up", lf.path, lab, err)
			ok = false
			continue
		}
		for _, f := range lf.res.Files {
			if f.Dir == render.NetworkDir {
				enableNetworkd = true
			}
		}
	}
	if !boot {
		c.orphans(seen)
	}
	if enableNetworkd {
		if err := c.enableNetworkd(); err != nil {
			c.Log.Error("%v", err)
			ok = false
		}
	}
	if boot {
		if err := MarkBooted(c.Root); err != nil {
			c.Log.Error("%v", err)
			ok = false
		}
	}
	return ok
}

// readLabs compiles every lab file, logging the diagnostics of each; bad
// reports whether any file was left out for its errors.
func (c Config) readLabs() (labs []labFile, bad bool) {
	ents, err := os.ReadDir(filepath.Join(c.Root, LabDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		c.Log.Error("%s: %v", LabDir, err)
		return nil, true
	}
	byName := map[string]string{}
	for _, e := range ents {
		name := e.Name()
		path := filepath.Join(LabDir, name)
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		if filepath.Ext(name) != ".yml" {
			if filepath.Ext(name) == ".yaml" {
				c.Log.Warning("%s: skipped: lab files in %s end in .yml", path, LabDir)
			}
			continue
		}
		src, err := os.ReadFile(filepath.Join(c.Root, path))
		if err != nil {
			c.Log.Error("%s: %v; skipped", path, err)
			bad = true
			continue
		}
		res, err := compile.Compile(path, src)
		if err != nil {
			c.Log.Error("%s: %v; skipped", path, err)
			bad = true
			continue
		}
		c.Log.Diagnostics(res.Diags, src)
		if res.Diags.HasErrors() {
			e, _ := res.Diags.Count()
			c.Log.Error("%s: lab skipped for %s: nothing of it comes up (netgen validate %s shows every problem)", path, plural(e, "error"), path)
			bad = true
			continue
		}
		lab := res.Plan.Lab
		if first, dup := byName[lab]; dup {
			c.Log.Error("%s: lab %s is already defined by %s; skipped", path, lab, first)
			bad = true
			continue
		}
		byName[lab] = path
		labs = append(labs, labFile{path: path, res: res})
	}
	return labs, bad
}

// write puts a lab's files in place: everything at boot, only the units
// and their symlinks on a daemon-reload.
func (c Config) write(lf labFile, dirs install.Dirs, old *install.Record, boot bool) error {
	links, err := install.EnableLinks(lf.res.Plan, dirs)
	if err != nil {
		return err
	}
	if boot {
		rec := install.NewRecord(lf.res.Plan, lf.res.Files, links, dirs)
		changes, err := install.Plan(lf.res.Files, links, dirs, old, rec)
		if err != nil {
			return err
		}
		return install.Apply(changes)
	}
	var changes []install.Change
	for _, f := range lf.res.Files {
		if f.Dir == render.UnitDir {
			changes = append(changes, install.Change{Path: dirs.Path(f), New: f.Data, Mode: f.Mode})
		}
	}
	for _, l := range links {
		changes = append(changes, install.Change{Path: l.Path, Link: &l})
	}
	return install.Apply(changes)
}

// orphans reports labs that are up from /etc/netgen but whose file is gone
// or broken: their units keep running, without unit files, until
// `netgen down`.
func (c Config) orphans(seen map[string]bool) {
	ents, _ := os.ReadDir(filepath.Join(c.Root, NetworkDir))
	var labs []string
	for _, e := range ents {
		if lab, ok := strings.CutPrefix(e.Name(), ".netgen-"); ok && strings.HasSuffix(lab, ".json") {
			lab = strings.TrimSuffix(lab, ".json")
			if install.RecordName(lab) == e.Name() && !seen[lab] {
				labs = append(labs, lab)
			}
		}
	}
	slices.Sort(labs)
	for _, lab := range labs {
		c.Log.Warning("lab %s is up but has no valid lab file in %s any more: its units keep running until netgen down %s", lab, LabDir, lab)
	}
}

// networkdUnits are where Debian installs systemd-networkd.service.
var networkdUnits = []string{
	"/usr/lib/systemd/system/systemd-networkd.service",
	"/lib/systemd/system/systemd-networkd.service",
}

// enableNetworkd makes this boot start systemd-networkd, which owns the
// labs' host objects (Debian installs it disabled). The symlink lives in
// normal-dir, like the labs' own: it lasts as long as a lab needs it.
func (c Config) enableNetworkd() error {
	target := ""
	for _, p := range networkdUnits {
		if _, err := os.Stat(filepath.Join(c.Root, p)); err == nil {
			target = p
			break
		}
	}
	if target == "" {
		return fmt.Errorf("systemd-networkd.service is not installed: the labs' host bridges, taps and veths will not come up")
	}
	link := filepath.Join(c.Root, c.UnitDir, "multi-user.target.wants", filepath.Base(target))
	if _, err := os.Lstat(link); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	return os.Symlink(target, link)
}

func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return fmt.Sprintf("%d %ss", n, s)
}
