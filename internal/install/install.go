// Package install writes rendered files into their directories (a live
// system's or an image's) so that no reader ever sees a half-written file,
// and enables a lab's units with the symlinks `systemctl enable` makes.
package install

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/killpoint"
	"github.com/netgen-lab/netgen/names"
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

	res *resolver
}

// Resolve fills in defaults and resolves the directories inside the root
// (see root.go): a directory that leads out of the root is a *RootError.
func (d Dirs) Resolve() (Dirs, error) {
	if d.Network == "" {
		d.Network = DefaultNetworkDir
	}
	if d.Unit == "" {
		d.Unit = DefaultUnitDir
	}
	if !d.rooted() {
		return d, nil
	}
	d.res = &resolver{dirs: map[string]string{}}
	for _, dir := range []string{d.Network, d.Unit} {
		if climbs(dir) {
			return d, &RootError{Root: d.Root, Path: dir, Arg: true, Err: errAbove}
		}
		if _, err := d.dirPath(dir); err != nil {
			return d, err
		}
	}
	return d, nil
}

// NetworkPath is the networkd directory on this machine.
func (d Dirs) NetworkPath() string {
	p, err := d.dirPath(d.Network)
	if err != nil {
		// Resolve has resolved it; unresolved Dirs are only the tests'.
		return filepath.Join(d.Root, d.Network)
	}
	return p
}

func (d Dirs) unitPath() string {
	p, err := d.dirPath(d.Unit)
	if err != nil {
		return filepath.Join(d.Root, d.Unit)
	}
	return p
}

// Path returns where a file is written on this machine.
func (d Dirs) Path(f render.File) string {
	if f.Dir == render.NetnsDir {
		// /etc/netns is where `ip netns exec` looks (names.NetnsDir), so it
		// follows --root but no option.
		inside := filepath.Join(names.NetnsDir, f.Name)
		if p, err := d.hostPath(inside); err == nil {
			return p
		}
		return filepath.Join(d.Root, inside)
	}
	if f.Dir == render.UnitDir {
		return filepath.Join(d.unitPath(), f.Name)
	}
	return filepath.Join(d.NetworkPath(), f.Name)
}

// Link is an enablement symlink: Path (on this machine; Inside as the
// system sees it) points to Target (the unit's path as the booted system
// sees it).
type Link struct {
	Path, Inside, Target string
}

// EnableLinks are the symlinks `systemctl enable` makes for the lab's units:
// each unit in its WantedBy target's .wants directory, next to the units.
func EnableLinks(p *generator.Plan, d Dirs) ([]Link, error) {
	if p.Target == "" {
		return nil, nil
	}
	var links []Link
	add := func(wantedBy, unit string) error {
		inside := filepath.Join(d.Unit, wantedBy+".wants", unit)
		path, err := d.hostPath(inside)
		if err != nil {
			return err
		}
		links = append(links, Link{Path: path, Inside: inside, Target: filepath.Join(d.Unit, unit)})
		return nil
	}
	if err := add("multi-user.target", p.Target); err != nil {
		return nil, err
	}
	for _, u := range p.Units {
		if err := add(p.Target, u.Name); err != nil {
			return nil, err
		}
	}
	for _, s := range p.Services {
		if err := add(p.Target, s.Unit); err != nil {
			return nil, err
		}
	}
	return links, nil
}

// Enabled reports whether unit is enabled in the root's /etc/systemd/system
// for wantedBy (its symlink in WANTEDBY.wants).
func (d Dirs) Enabled(wantedBy, unit string) bool {
	p, err := d.hostPath(filepath.Join("/etc/systemd/system", wantedBy+".wants", unit))
	if err != nil {
		return false
	}
	_, err = os.Lstat(p)
	return err == nil
}

// Change is one file or link that a write creates, changes or deletes.
type Change struct {
	Path string
	// Old is the current content (nil when the file does not exist).
	Old, New []byte
	Mode     fs.FileMode
	Link     *Link
	Delete   bool
	// Quiet changes (the record) are carried out but not reported.
	Quiet bool
}

// Plan compares the lab's files and links with what is on disk and with the
// record of the previous build (old), and returns what must change: files
// and links to write, and files the previous build wrote that the lab no
// longer has. A file in the way that netgen did not write for this lab is a
// *ConflictError.
func Plan(files []render.File, links []Link, d Dirs, old, rec *Record) ([]Change, error) {
	var out []Change
	owned := map[string]bool{}
	for _, p := range append(append([]string{}, old.Files...), old.Links...) {
		hp, err := d.hostPath(p)
		if err != nil {
			return nil, err
		}
		owned[hp] = true
	}
	keep := map[string]bool{}
	listed := map[string]map[string]bool{}
	for _, f := range files {
		path := d.Path(f)
		keep[path] = true
		cur, err := readIfListed(path, listed)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			cur = nil
		case errors.Is(err, errNotRegular):
			return nil, &ConflictError{Path: path}
		case err != nil:
			return nil, err
		case !owned[path] && !d.ownedBy(path, rec.Lab, false):
			return nil, &ConflictError{Path: path}
		case bytes.Equal(cur, f.Data):
			if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() && st.Mode().Perm() == f.Mode {
				continue
			}
		}
		out = append(out, Change{Path: path, Old: cur, New: f.Data, Mode: f.Mode})
	}
	for _, l := range links {
		keep[l.Path] = true
		t, err := os.Readlink(l.Path)
		if err == nil && t == l.Target {
			continue
		}
		if _, serr := os.Lstat(l.Path); serr == nil && !owned[l.Path] && !d.ownedBy(l.Path, rec.Lab, false) {
			return nil, &ConflictError{Path: l.Path}
		}
		l := l
		out = append(out, Change{Path: l.Path, Link: &l})
	}
	var gone []string
	for p := range owned {
		if !keep[p] {
			gone = append(gone, p)
		}
	}
	sort.Strings(gone)
	for _, p := range gone {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if !d.ownedBy(p, rec.Lab, true) {
			continue // no longer ours: someone replaced it; leave it
		}
		cur, _ := readRegular(p)
		out = append(out, Change{Path: p, Old: cur, Delete: true})
	}
	recPath := d.RecordPath(rec.Lab)
	cur, _ := readRegular(recPath)
	if b := rec.Bytes(); !bytes.Equal(cur, b) {
		out = append(out, Change{Path: recPath, Old: cur, New: b, Mode: 0o644, Quiet: true})
	}
	return out, nil
}

var errNotRegular = errors.New("not a regular file")

// readIfListed is readRegular for a path whose directory is listed once
// (in listed): a name the listing does not have is not opened, which saves
// a fresh build a failed open per file. The listing is as much a snapshot
// as the reads are: whatever is in a path when it is replaced, the rename
// replaces it whole.
func readIfListed(path string, listed map[string]map[string]bool) ([]byte, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	names, ok := listed[dir]
	if !ok {
		names = map[string]bool{}
		f, err := os.Open(dir)
		if err == nil {
			all, err := f.Readdirnames(-1)
			f.Close()
			if err != nil {
				names = nil // unknown: open every file
			}
			for _, n := range all {
				names[n] = true
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			names = nil
		}
		listed[dir] = names
	}
	if names != nil && !names[base] {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return readRegular(path)
}

// readRegular reads the regular file at path without following a symlink
// there (it might lead out of the root); anything else is errNotRegular.
// Raw system calls: os.OpenFile adds three fcntls and an epoll_ctl per
// file, which a build reading 2400 files pays in milliseconds.
func readRegular(path string) ([]byte, error) {
	fd, err := openNoFollow(unix.AT_FDCWD, path)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
	buf := make([]byte, 0, st.Size+1)
	for {
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

func openNoFollow(dirfd int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// Visible returns the changes a user is told about.
func Visible(changes []Change) []Change {
	var out []Change
	for _, c := range changes {
		if !c.Quiet {
			out = append(out, c)
		}
	}
	return out
}

// Staged holds new files written beside their final paths, not yet in place.
type Staged struct {
	changes []Change
	temps   []string // parallel to the writes, in order
	writes  []Change
	// dirs holds an fd of each directory written to, so that each file's
	// create and rename walk one name, not its whole path.
	dirs *dirFDs
	// whole maps a directory that did not exist to the temporary directory
	// (.NAME.netgen-dir beside it) that holds its files under their own
	// names: Commit renames it into place whole.
	whole map[string]string
}

// dirFDs opens each directory once (O_PATH).
type dirFDs map[string]int

func (m dirFDs) open(dir string) (int, error) {
	if fd, ok := m[dir]; ok {
		return fd, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	m[dir] = fd
	return fd, nil
}

func (m dirFDs) openErr(dir string) error {
	_, err := m.open(dir)
	return err
}

func (m dirFDs) close() {
	for _, fd := range m {
		unix.Close(fd)
	}
	clear(m)
}

// Stage writes every new file and link to a temporary file in its own
// directory, then flushes them to disk. Nothing visible changes: if any of
// it fails (a read-only or full disk), the temporary files are removed and
// the previous configuration is untouched.
func Stage(changes []Change) (*Staged, error) {
	st := &Staged{changes: changes, dirs: &dirFDs{}}
	writes := map[string]map[string]bool{} // dir → base names written there
	for _, c := range changes {
		if !c.Delete && !c.Quiet {
			dir := filepath.Dir(c.Path)
			if writes[dir] == nil {
				writes[dir] = map[string]bool{}
			}
			writes[dir][filepath.Base(c.Path)] = true
		}
	}
	for dir, bases := range writes {
		removeStaleTemps(dir, bases)
		os.RemoveAll(wholeTemp(dir)) // a killed run's
	}
	// A directory that does not exist yet (an image's first build) is
	// written whole under a temporary name and renamed into place once:
	// it appears with every file in it, and its files need no rename each
	// (2411 renames were 13% of a fresh build). Only when no other
	// directory written to is inside it or around it.
	st.whole = map[string]string{}
	for dir := range writes {
		if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		nested := false
		for other := range writes {
			nested = nested || other != dir && (strings.HasPrefix(other, dir+"/") || strings.HasPrefix(dir, other+"/"))
		}
		if nested {
			continue
		}
		tmp := wholeTemp(dir)
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			st.Abort()
			return nil, err
		}
		if err := os.Mkdir(tmp, 0o755); err != nil {
			st.Abort()
			return nil, err
		}
		st.whole[dir] = tmp
		fd, err := unix.Open(tmp, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			st.Abort()
			return nil, &fs.PathError{Op: "open", Path: tmp, Err: err}
		}
		(*st.dirs)[dir] = fd
	}
	for _, c := range changes {
		if c.Delete || c.Quiet {
			continue
		}
		dir := filepath.Dir(c.Path)
		if _, ok := (*st.dirs)[dir]; !ok {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				st.Abort()
				return nil, err
			}
			if _, err := st.dirs.open(dir); err != nil {
				st.Abort()
				return nil, err
			}
		}
		st.writes = append(st.writes, c)
	}
	// The files are written by two goroutines (when there are two CPUs and
	// enough files): creating a name takes the directory's lock, writing
	// the bytes does not.
	st.temps = make([]string, len(st.writes))
	errs := make([]error, len(st.writes))
	workers := min(runtime.NumCPU(), 2, 1+len(st.writes)/512)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(st.writes); i += workers {
				c := st.writes[i]
				dir, base := filepath.Dir(c.Path), filepath.Base(c.Path)
				tmpDir, whole := st.whole[dir]
				switch {
				case whole && c.Link != nil:
					st.temps[i] = filepath.Join(tmpDir, base)
					if err := unix.Symlinkat(c.Link.Target, (*st.dirs)[dir], base); err != nil {
						errs[i] = &os.LinkError{Op: "symlink", Old: c.Link.Target, New: st.temps[i], Err: err}
					}
				case whole:
					st.temps[i], errs[i] = stageAt((*st.dirs)[dir], tmpDir, base, base, c.New, c.Mode)
				case c.Link != nil:
					st.temps[i], errs[i] = stageSymlink(c.Link.Target, c.Path)
				default:
					st.temps[i], errs[i] = stageAt((*st.dirs)[dir], dir, base, "", c.New, c.Mode)
				}
				if errs[i] != nil {
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		st.Abort()
		return nil, err
	}
	// The new contents must be on disk before a rename can make them the
	// configuration. One syncfs(2) per file system does for every file
	// what an fsync per file did, at a fraction of the cost (2400 fsyncs
	// took about a second on a disk).
	synced := map[uint64]bool{}
	for dir := range *st.dirs {
		if tmp, ok := st.whole[dir]; ok {
			dir = tmp
		}
		if err := syncFS(dir, synced); err != nil {
			st.Abort()
			return nil, err
		}
	}
	return st, nil
}

// wholeTemp is the temporary name of a directory written whole.
func wholeTemp(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".netgen-dir")
}

// stageAt writes data to a new file in the directory dfd (dir) and returns
// its path: named final when final is not "" (in a directory written
// whole, nobody sees it before its directory is renamed), else a temporary
// file .BASE.netgen-tmp. The name is fixed, so no
// random name is made and retried per file; one that exists (another run
// at the same moment: Stage has removed those a killed run left) gets a
// random one. The file is created with its mode, and chmodded only when
// the umask would have taken bits away. Raw system calls: an os.File costs
// three fcntls and an epoll_ctl more per file.
func stageAt(dfd int, dir, base, final string, data []byte, mode fs.FileMode) (string, error) {
	if mode == 0 {
		mode = 0o644
	}
	name := "." + base + ".netgen-tmp"
	if final != "" {
		name = final
	}
	fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(mode.Perm()))
	for i := 0; err == unix.EEXIST || err == unix.EINTR; i++ {
		if i == 100 {
			break
		}
		name = "." + base + ".netgen-" + strconv.FormatUint(rand.Uint64(), 36)
		fd, err = unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(mode.Perm()))
	}
	path := filepath.Join(dir, name)
	if err != nil {
		return "", &fs.PathError{Op: "create", Path: path, Err: err}
	}
	fail := func(op string, err error) (string, error) {
		unix.Close(fd)
		unix.Unlinkat(dfd, name, 0)
		return "", &fs.PathError{Op: op, Path: path, Err: err}
	}
	for rest := data; len(rest) > 0; {
		n, err := unix.Write(fd, rest)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fail("write", err)
		}
		rest = rest[n:]
	}
	if um, ok := processUmask(); !ok || uint32(mode.Perm())&um != 0 {
		if err := unix.Fchmod(fd, uint32(mode.Perm())); err != nil {
			return fail("chmod", err)
		}
	}
	if err := unix.Close(fd); err != nil {
		unix.Unlinkat(dfd, name, 0)
		return "", &fs.PathError{Op: "close", Path: path, Err: err}
	}
	return path, nil
}

// processUmask is the process's umask, read from /proc/self/status (Linux
// 4.7 and later) without changing it; ok is false when it cannot be read.
var processUmask = sync.OnceValues(func() (uint32, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			u, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return uint32(u), err == nil
		}
	}
	return 0, false
})

// removeStaleTemps removes the temporary files a killed run left beside the
// files about to be written (.NAME.netgen-*): only those, so that nothing
// of another lab or program is touched.
func removeStaleTemps(dir string, bases map[string]bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name, ok := strings.CutPrefix(e.Name(), ".")
		if !ok {
			continue
		}
		if i := strings.LastIndex(name, ".netgen-"); i > 0 && bases[name[:i]] {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// syncFS flushes the file system holding dir, once per file system.
func syncFS(dir string, done map[uint64]bool) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	var stat unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &stat); err != nil {
		return err
	}
	if done[stat.Dev] {
		return nil
	}
	done[stat.Dev] = true
	return unix.Syncfs(int(f.Fd()))
}

// Abort removes the temporary files.
func (st *Staged) Abort() {
	for _, t := range st.temps {
		os.Remove(t)
	}
	st.temps = nil
	st.dirs.close()
	for _, tmp := range st.whole {
		os.RemoveAll(tmp)
	}
	st.whole = nil
}

// Commit renames the staged files into place, deletes stale files and
// writes the record last, so that the record never names a file that is
// not there yet.
func (st *Staged) Commit() error {
	defer st.dirs.close()
	for dir, tmp := range st.whole {
		if err := commitWhole(tmp, dir); err != nil {
			return err
		}
		delete(st.whole, dir)
		killpoint.Step("rename " + dir)
	}
	for i, tmp := range st.temps {
		dir, path := filepath.Dir(tmp), st.writes[i].Path
		if _, ok := (*st.dirs)[dir]; !ok {
			continue // in a directory written whole
		}
		dfd := (*st.dirs)[dir]
		if err := unix.Renameat(dfd, filepath.Base(tmp), dfd, filepath.Base(path)); err != nil {
			for _, rest := range st.temps[i:] {
				os.Remove(rest)
			}
			return &os.LinkError{Op: "rename", Old: tmp, New: path, Err: err}
		}
		killpoint.Step("rename " + path)
	}
	st.temps = nil
	for _, c := range st.changes {
		if c.Delete {
			if err := os.Remove(c.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removeEmptyWants(filepath.Dir(c.Path))
			removeEmptyNetns(filepath.Dir(c.Path))
			killpoint.Step("delete " + c.Path)
		}
	}
	for _, c := range st.changes {
		if c.Quiet && !c.Delete {
			if err := WriteFile(c.Path, c.New, c.Mode); err != nil {
				return err
			}
			killpoint.Step("record " + c.Path)
		}
	}
	return nil
}

// commitWhole renames the directory tmp, written whole, to dir; if dir has
// appeared meanwhile, its files move one by one.
func commitWhole(tmp, dir string) error {
	err := os.Rename(tmp, dir)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EEXIST) && !errors.Is(err, unix.ENOTEMPTY) {
		return err
	}
	names, err := readDirNames(tmp)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return os.Remove(tmp)
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// removeEmptyWants removes a .wants directory of a netgen target once its
// last link is gone, as systemctl disable does.
func removeEmptyWants(dir string) {
	if base := filepath.Base(dir); strings.HasPrefix(base, names.UnitPrefix) && strings.HasSuffix(base, ".wants") {
		os.Remove(dir) // fails, harmlessly, while it is not empty
	}
}

// removeEmptyNetns removes /etc/netns/NS once the last file netgen wrote
// there is gone, so that `down` leaves no empty directory behind; a
// directory with files of anyone else's stays.
func removeEmptyNetns(dir string) {
	if filepath.Base(filepath.Dir(dir)) == filepath.Base(names.NetnsDir) {
		os.Remove(dir) // fails, harmlessly, while it is not empty
	}
}

// Apply stages and commits changes in one go.
func Apply(changes []Change) error {
	st, err := Stage(changes)
	if err != nil {
		return err
	}
	return st.Commit()
}

// WriteFile replaces path atomically with data.
func WriteFile(path string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := stageFile(path, data, mode, true)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// stageFile writes data to a temporary file beside path; sync flushes it
// (Stage flushes all its files at once instead).
func stageFile(path string, data []byte, mode fs.FileMode, sync bool) (string, error) {
	if mode == 0 {
		mode = 0o644
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".netgen-*")
	if err != nil {
		return "", err
	}
	name := tmp.Name()
	fail := func(err error) (string, error) {
		tmp.Close()
		os.Remove(name)
		return "", err
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

func stageSymlink(target, path string) (string, error) {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.netgen-link", filepath.Base(path)))
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return "", err
	}
	return tmp, nil
}

// Describe lists changes for humans, sorted by path.
func Describe(changes []Change) []string {
	var out []string
	for _, c := range changes {
		if c.Quiet {
			continue
		}
		verb := "update"
		switch {
		case c.Delete:
			verb = "delete"
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
	to := c.Path
	if c.Delete {
		to = "/dev/null"
	}
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
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
