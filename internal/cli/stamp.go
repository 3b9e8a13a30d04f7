package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/netgen-lab/netgen/internal/apply"
	"github.com/netgen-lab/netgen/internal/install"
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
// .netgen-src-HASH.stamp, HASH naming the lab file's absolute path.

// buildID identifies this netgen's code; "" disables stamps. Only a build
// from a clean VCS tree has one: a dev build's "version" says nothing
// about the code that wrote the files.
var buildID = func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				return ""
			}
		}
	}
	return rev
}

const stampVersion = "netgen-stamp-1"

func stampPath(d install.Dirs, labPath string) (string, bool) {
	abs, err := filepath.Abs(labPath)
	if err != nil || labPath == "-" {
		return "", false
	}
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(d.Root, d.Network, ".netgen-src-"+hex.EncodeToString(h[:6])+".stamp"), true
}

func stampHead(id string, src []byte, d install.Dirs) string {
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

// upToDate reports whether the stamp shows the lab installed from exactly
// this source and untouched since; units are the lab's units, which a live
// caller still checks are running.
func upToDate(labPath string, src []byte, d install.Dirs) (lab string, units []string, ok bool) {
	id := buildID()
	path, okPath := stampPath(d, labPath)
	if id == "" || !okPath {
		return "", nil, false
	}
	b, err := os.ReadFile(path)
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
	return lab, units, lab != "" && unchanged(files)
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

// writeStamp records the lab's files as they are now; a failure only costs
// the next run its shortcut.
func writeStamp(labPath string, src []byte, d install.Dirs, rec *install.Record) {
	id := buildID()
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
		paths = append(paths, filepath.Join(d.Root, p))
	}
	for _, p := range paths {
		line, ok := fileStamp(p)
		if !ok {
			return
		}
		b.WriteString(line + "\n")
	}
	_ = install.WriteFile(path, []byte(b.String()), 0o644)
}

// removeStamps deletes the stamps of a lab (netgen down).
func removeStamps(d install.Dirs, lab string) {
	matches, _ := filepath.Glob(filepath.Join(d.Root, d.Network, ".netgen-src-*.stamp"))
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err == nil && bytes.Contains(b, []byte("\nlab "+lab+"\n")) {
			os.Remove(m)
		}
	}
}

// fastUpToDate is the unchanged re-run: no compile when the stamp holds and,
// on a running host, every unit of the lab is active.
func fastUpToDate(labPath string, src []byte, o buildOpts, st IO) bool {
	lab, units, ok := upToDate(labPath, src, o.dirs)
	if !ok {
		return false
	}
	if o.dirs.Root == "" && !o.noReload && apply.SystemdRunning() && len(units) > 0 {
		sys, err := apply.Connect(context.Background(), st.Err)
		if err != nil {
			return false
		}
		defer sys.Close()
		for _, s := range sys.States(context.Background(), units) {
			if s != "active" {
				return false
			}
		}
	}
	if !o.check {
		fmt.Fprintf(st.Err, "netgen: lab %s is up to date\n", lab)
	}
	return true
}
