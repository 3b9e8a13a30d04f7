package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// A path inside --root is resolved the way the system booted from that
// root would resolve it, as `systemctl --root` does (systemd's
// chase(3)-style lookup): component by component, an absolute symlink
// target taken from the root, a relative one from the link's directory.
// Unlike systemd, which stops ".." at the root, a path that would climb
// above the root is refused: an image whose /etc/systemd/network is
// `../../../etc/systemd/network` is broken, and netgen writes nothing rather
// than guess. The final component is never followed: netgen replaces or
// removes that entry itself (rename(2) and unlink(2) do not follow links),
// and a symlink where a generated file belongs is a file in the way.
//
// A directory that does not exist yet is taken as written and created
// later; no symlink can hide in it.

// maxHops is the kernel's limit on symlinks in one lookup (MAXSYMLINKS).
const maxHops = 40

// RootError is a path inside the root that cannot be resolved inside it.
type RootError struct {
	Root, Path string
	// Arg is true when the path as given (-o, --unit-dir) climbs above the
	// root, false when a symlink in the root does, or loops.
	Arg bool
	Err error
}

func (e *RootError) Error() string {
	return fmt.Sprintf("%s inside --root %s: %v; nothing was changed", e.Path, e.Root, e.Err)
}

func (e *RootError) Unwrap() error { return e.Err }

var errAbove = errors.New("leads outside the root")

// resolver caches resolved directories; Dirs.Resolve makes one.
type resolver struct {
	mu   sync.Mutex
	dirs map[string]string
}

func (d Dirs) rooted() bool { return d.Root != "" && d.Root != "/" }

// dirPath returns where directory dir (inside the root) is on this machine.
func (d Dirs) dirPath(dir string) (string, error) {
	if !d.rooted() {
		return dir, nil
	}
	if d.res != nil {
		d.res.mu.Lock()
		p, ok := d.res.dirs[dir]
		d.res.mu.Unlock()
		if ok {
			return p, nil
		}
	}
	p, err := chase(d.Root, dir)
	if err != nil {
		return "", &RootError{Root: d.Root, Path: dir, Err: err}
	}
	if d.res != nil {
		d.res.mu.Lock()
		d.res.dirs[dir] = p
		d.res.mu.Unlock()
	}
	return p, nil
}

// hostPath returns where path p (inside the root) is on this machine: its
// directory resolved, its last component as it is.
func (d Dirs) hostPath(p string) (string, error) {
	if !d.rooted() {
		return p, nil
	}
	dir, err := d.dirPath(filepath.Dir(filepath.Join("/", p)))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(p)), nil
}

// climbs reports whether p, taken from the root, goes above it by its
// own "..", before any symlink.
func climbs(p string) bool {
	depth := 0
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// chase resolves p inside root, following every component.
func chase(root, p string) (string, error) {
	var done []string
	todo := strings.Split(p, "/")
	hops := 0
	via := "" // the last symlink followed, for the error
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 && via != "" {
				return "", fmt.Errorf("%w (through the symlink %s)", errAbove, via)
			}
			if len(done) == 0 {
				return "", errAbove
			}
			done = done[:len(done)-1]
			continue
		}
		next := append(done[:len(done):len(done)], c)
		host := filepath.Join(root, filepath.Join(next...))
		fi, err := os.Lstat(host)
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			if hops++; hops > maxHops {
				return "", fmt.Errorf("%s: %w", "/"+filepath.Join(next...), syscall.ELOOP)
			}
			t, err := os.Readlink(host)
			if err != nil {
				return "", err
			}
			via = "/" + filepath.Join(next...) + " -> " + t
			if filepath.IsAbs(t) {
				done = nil
			}
			todo = append(strings.Split(t, "/"), todo...)
			continue
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
		done = next
	}
	return filepath.Join(root, filepath.Join(done...)), nil
}
