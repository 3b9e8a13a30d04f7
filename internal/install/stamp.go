package install

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// A stamp lets a pipeline's unchanged re-run finish without compiling: it
// says which lab source, built by which netgen into which directories,
// gave which files, with each file's size, mtime and inode as written. When
// the source's digest and the build match and one lstat per file finds
// every file as it was left, nothing can have changed (the bet make and git
// make on mtime and inode). Anything else, or any doubt, takes the full
// path, which compares contents.
//
// Stamps live beside the record, one per lab file:
// .netgen-src-HASH.stamp, HASH naming the lab file's absolute path. A lab
// with pending runtime work (pending.go) is never up to date.
//
// build identifies the netgen that writes and reads a stamp; "" disables
// stamps (a dev build's version says nothing about its code).

const stampVersion = "netgen-stamp-1"

func stampPath(d Dirs, labPath string) (string, bool) {
	abs, err := filepath.Abs(labPath)
	if err != nil || labPath == "-" {
		return "", false
	}
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(d.NetworkPath(), ".netgen-src-"+hex.EncodeToString(h[:6])+".stamp"), true
}

func stampHead(id string, src []byte, d Dirs) string {
	h := sha256.Sum256(src)
	return fmt.Sprintf("%s %s %s %s|%s|%s", stampVersion, id, hex.EncodeToString(h[:]), d.Root, d.Network, d.Unit)
}

// UpToDate reports whether the stamp shows the lab installed from exactly
// this source by this build, untouched since and with no work pending;
// units are the lab's units, which a live caller still checks are running.
func UpToDate(d Dirs, id, labPath string, src []byte) (lab string, units []string, ok bool) {
	path, okPath := stampPath(d, labPath)
	if id == "" || !okPath {
		return "", nil, false
	}
	b, err := readRegular(path)
	if err != nil {
		return "", nil, false
	}
	// One string for the whole stamp; its lines are substrings of it.
	text := string(b)
	head, rest, _ := strings.Cut(text, "\n")
	if head != stampHead(id, src, d) {
		return "", nil, false
	}
	files := make([]string, 0, strings.Count(rest, "\n"))
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		switch {
		case strings.HasPrefix(line, "lab "):
			lab = strings.TrimPrefix(line, "lab ")
		case strings.HasPrefix(line, "units "):
			units = strings.Fields(strings.TrimPrefix(line, "units "))
		default:
			files = append(files, line)
		}
	}
	return lab, units, lab != "" && !HasPending(d, lab) && unchanged(files)
}

// unchanged lstats every file of the stamp, on as many goroutines as there
// are CPUs: the lstats are most of an unchanged re-run. Each file is
// looked up from its directory, opened once (fstatat): the kernel walks one
// name instead of the whole path, which halved the lstats' time on tmpfs
// (2412 files under --root /dev/shm/...: 2.6 → 1.2 ms in-process).
func unchanged(lines []string) bool {
	type entry struct {
		size, mtime int64
		ino         uint64
		dfd         int
		base        string
	}
	dirs := dirFDs{}
	defer dirs.close()
	entries := make([]entry, len(lines))
	for i, line := range lines {
		size, mtime, ino, path, ok := parseStampLine(line)
		if !ok {
			return false
		}
		dir, base := splitPath(path)
		dfd, err := dirs.open(dir)
		if err != nil {
			return false
		}
		entries[i] = entry{size, mtime, ino, dfd, base}
	}
	workers := min(runtime.NumCPU(), 1+len(entries)/256)
	var bad atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var st unix.Stat_t
			for i := w; i < len(entries) && !bad.Load(); i += workers {
				e := &entries[i]
				err := unix.Fstatat(e.dfd, e.base, &st, unix.AT_SYMLINK_NOFOLLOW)
				if err != nil || st.Size != e.size || st.Mtim.Nano() != e.mtime || st.Ino != e.ino {
					bad.Store(true)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	return !bad.Load()
}

// splitPath splits an absolute path at its last slash, without the
// allocations of filepath.Dir.
func splitPath(path string) (dir, base string) {
	i := strings.LastIndexByte(path, '/')
	if i == 0 {
		return "/", path[1:]
	}
	return path[:i], path[i+1:]
}

// parseStampLine splits a line WriteStamp wrote: size, mtime, inode, path.
func parseStampLine(line string) (size, mtime int64, ino uint64, path string, ok bool) {
	f0, rest, ok0 := strings.Cut(line, " ")
	f1, rest, ok1 := strings.Cut(rest, " ")
	f2, path, ok2 := strings.Cut(rest, " ")
	var e0, e1, e2 error
	size, e0 = strconv.ParseInt(f0, 10, 64)
	mtime, e1 = strconv.ParseInt(f1, 10, 64)
	ino, e2 = strconv.ParseUint(f2, 10, 64)
	ok = ok0 && ok1 && ok2 && e0 == nil && e1 == nil && e2 == nil && strings.HasPrefix(path, "/") && !strings.HasSuffix(path, "/")
	return
}

// WriteStamp records the lab's files as they are now; a failure only costs
// the next run its shortcut.
func WriteStamp(d Dirs, id, labPath string, src []byte, rec *Record) {
	path, ok := stampPath(d, labPath)
	if id == "" || !ok {
		return
	}
	var b strings.Builder
	b.WriteString(stampHead(id, src, d) + "\n")
	b.WriteString("lab " + rec.Lab + "\n")
	b.WriteString("units " + strings.Join(rec.Units, " ") + "\n")
	paths := []string{d.RecordPath(rec.Lab)}
	for _, p := range append(append([]string{}, rec.Files...), rec.Links...) {
		hp, err := d.hostPath(p)
		if err != nil {
			return
		}
		paths = append(paths, hp)
	}
	// The lstats, from each directory's fd and on as many goroutines as
	// there are CPUs, as in unchanged: they are most of WriteStamp, which
	// was 8% of a fresh build of 2400 files.
	dirs := dirFDs{}
	defer dirs.close()
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return
		}
		if dir, _ := splitPath(p); dirs.openErr(dir) != nil {
			return
		}
	}
	lines := make([][]byte, len(paths))
	workers := min(runtime.NumCPU(), 1+len(paths)/256)
	var bad atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var st unix.Stat_t
			for i := w; i < len(paths) && !bad.Load(); i += workers {
				dir, base := splitPath(paths[i])
				if unix.Fstatat(dirs[dir], base, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
					bad.Store(true)
					return
				}
				l := make([]byte, 0, 48+len(paths[i]))
				l = strconv.AppendInt(l, st.Size, 10)
				l = append(l, ' ')
				l = strconv.AppendInt(l, st.Mtim.Nano(), 10)
				l = append(l, ' ')
				l = strconv.AppendUint(l, st.Ino, 10)
				l = append(l, ' ')
				l = append(l, paths[i]...)
				lines[i] = append(l, '\n')
			}
		}(w)
	}
	wg.Wait()
	if bad.Load() {
		return
	}
	for _, l := range lines {
		b.Write(l)
	}
	_ = WriteFile(path, []byte(b.String()), 0o644)
}

// RemoveStamps deletes the stamps of a lab (netgen down).
func RemoveStamps(d Dirs, lab string) {
	matches, _ := filepath.Glob(filepath.Join(d.NetworkPath(), ".netgen-src-*.stamp"))
	for _, m := range matches {
		b, err := readRegular(m)
		if err == nil && bytes.Contains(b, []byte("\nlab "+lab+"\n")) {
			os.Remove(m)
		}
	}
}
