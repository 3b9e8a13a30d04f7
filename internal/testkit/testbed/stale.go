package testbed

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupPrefix starts the name of every cgroup BootNspawn makes; the test
// process's PID follows.
const cgroupPrefix = "netgen-testbed-"

// cleanStaleWork removes what test processes that died without cleaning up
// (a go test -timeout panic, a kill) left behind: their work directories
// (gigabytes each), the containers and guests still running from them (a
// TCG guest whose check hangs burns a core for ever), and the cgroups of
// those containers.
func cleanStaleWork(cache string) {
	base := filepath.Join(cache, "work")
	entries, _ := os.ReadDir(base)
	var stale []string
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.SplitN(e.Name(), "-", 2)[0])
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			stale = append(stale, filepath.Join(base, e.Name()))
		}
	}
	if len(stale) > 0 {
		killUsers(stale)
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}
	sweepCgroups()
}

// killUsers kills the nspawn containers and QEMU guests whose command line
// names one of dirs, and waits (briefly) for them to go.
func killUsers(dirs []string) {
	var victims []int
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + p.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.ReplaceAll(string(cmdline), "\x00", " ")
		comm, _ := os.ReadFile("/proc/" + p.Name() + "/comm")
		name := strings.TrimSpace(string(comm))
		if name != "systemd-nspawn" && !strings.HasPrefix(name, "qemu-system") {
			continue
		}
		for _, d := range dirs {
			if strings.Contains(args, d+"/") {
				victims = append(victims, pid)
				// The container's PID 1 survives nspawn's death: kill the PID
				// namespace through it.
				victims = append(victims, descendants(pid)...)
				break
			}
		}
	}
	for _, pid := range victims {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		alive := false
		for _, pid := range victims {
			if syscall.Kill(pid, 0) == nil {
				alive = true
			}
		}
		if !alive {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sweepCgroups removes the cgroups of containers whose test process is gone
// (their names carry its PID). Those of live test processes are left alone:
// BootNspawn creates one a moment before it moves nspawn in, and it is empty
// in between.
func sweepCgroups() {
	for _, base := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"} {
		matches, _ := filepath.Glob(filepath.Join(base, cgroupPrefix+"*"))
		for _, cg := range matches {
			owner, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(cg), cgroupPrefix), "-", 2)[0])
			if err != nil || !errors.Is(syscall.Kill(owner, 0), syscall.ESRCH) || cgroupInUse(cg) {
				continue
			}
			removeCgroups([]string{cg})
		}
	}
}

// cgroupInUse reports whether any process is in cg or below it.
func cgroupInUse(cg string) bool {
	inUse := false
	filepath.WalkDir(cg, func(p string, e os.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return nil
		}
		if procs, err := os.ReadFile(filepath.Join(p, "cgroup.procs")); err != nil || strings.TrimSpace(string(procs)) != "" {
			inUse = true
			return filepath.SkipAll
		}
		return nil
	})
	return inUse
}
