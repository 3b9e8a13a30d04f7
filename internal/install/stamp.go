package install

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

func fileStamp(path string) (string, bool) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return "", false
	}
	return fmt.Sprintf("%d %d %d %s", st.Size, st.Mtim.Nano(), st.Ino, path), true
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
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	if !sc.Scan() || sc.Text() != stampHead(id, src, d) {
		return "", nil, false
	}
	var files []string
	for sc.Scan() {
		line := sc.Text()
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
// are CPUs: the lstats are most of an unchanged re-run.
func unchanged(lines []string) bool {
	workers := min(runtime.NumCPU(), 1+len(lines)/256)
	var bad atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(lines) && !bad.Load(); i += workers {
				fields := strings.SplitN(lines[i], " ", 4)
				if len(fields) != 4 {
					bad.Store(true)
					return
				}
				if now, ok := fileStamp(fields[3]); !ok || now != lines[i] {
					bad.Store(true)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	return !bad.Load()
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
	for _, p := range paths {
		line, ok := fileStamp(p)
		if !ok {
			return
		}
		b.WriteString(line + "\n")
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
