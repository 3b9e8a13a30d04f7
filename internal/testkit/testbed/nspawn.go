package testbed

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts of the nspawn tier. A boot takes about half a second here; the
// margins are for a loaded CI machine, not for a normal run.
const (
	nspawnBootTimeout = 2 * time.Minute
	// The stop waits for every lab's units to stop: with lab pooled100 (some
	// 200 units) in the boot, poweroff took over 30 s on the loaded fresh
	// run, and nspawn forwards the console (which the generator-mode check
	// reads) only when the container has stopped.
	nspawnStopTimeout = 2 * time.Minute
	execTimeout       = 5 * time.Minute
)

// sigPoweroff is SIGRTMIN+4 as glibc numbers it (SIGRTMIN is 34 there), which
// systemd as PID 1 takes as "start poweroff.target": the same clean shutdown
// as systemctl poweroff, but it needs no working D-Bus or socket inside.
const sigPoweroff = syscall.Signal(34 + 4)

// Container is a booted systemd-nspawn container with its own network
// namespace (only lo, no way out). Exec may be called from any goroutine;
// MustExec, like t.Fatal, only from the test's.
type Container struct {
	Root    string // the directory booted
	Machine string // nspawn machine name, unique per container
	// PID is the container's PID 1 (systemd) as the host sees it.
	PID int
	// State is what systemctl is-system-running said once boot finished:
	// "running" or "degraded".
	State string
	// FailedUnits lists the failed units when State is "degraded".
	FailedUnits []string

	t        testing.TB
	cmd      *exec.Cmd
	console  *syncBuffer
	done     chan struct{}
	exitErr  error
	cgroups  []string
	stopOnce sync.Once
	stopErr  error
	// diagnosed: the console and journal were already shown with a failure.
	diagnosed bool
}

// BootNspawn boots root with systemd-nspawn and returns once systemd inside
// has finished starting up (is-system-running says running or degraded).
// The container is powered off when the test ends. root must not be the
// image's own tree: pass a Copy.
func BootNspawn(t testing.TB, root string) *Container {
	t.Helper()
	nspawn, err := lookTool("systemd-nspawn")
	if err != nil {
		t.Fatalf("testbed: %v (call EnsureImage first: it installs systemd-container)", err)
	}
	sh, err := lookTool("sh")
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	raiseInotifyLimit(t)
	c := &Container{
		Root:    root,
		Machine: "netgen-tb-" + randHex(4),
		t:       t,
		console: &syncBuffer{},
		done:    make(chan struct{}),
	}
	args := []string{
		"--quiet",
		"--directory=" + root,
		"--machine=" + c.Machine,
		"--boot",
		// Only lo inside: nothing a test does can reach the host's networks.
		"--private-network",
		// Registering needs machined, which a host without systemd lacks,
		// and a test has no use for it.
		"--register=no",
		// The container's console goes to c.console. Not "passive": that
		// allocates a pseudo-TTY nobody reads, and once systemd's status
		// lines fill its buffer, PID 1 blocks writing to it (n_tty_write):
		// with the examples and a 100-cable lab (some 120 units) the boot
		// took 7 s instead of 1 and the power-off never finished.
		"--console=read-only",
		// Keep the host's journal, resolver and clock settings out of the
		// tree, so a test sees the image as QEMU would boot it.
		"--link-journal=no",
		"--resolv-conf=off",
		"--timezone=off",
	}
	// With systemd as the host's PID 1, nspawn asks it for a scope of its own.
	// Without it (this project's machines), nspawn would split the cgroup it
	// runs in into payload/ and supervisor/; run from the hierarchy's root,
	// every container would share /payload and a second container's systemd
	// would see the first one's processes. So each container is started in a
	// cgroup of its own, in every hierarchy that nspawn touches.
	wrapper := []string{sh, "-c", `n=$1; shift
while [ "$n" -gt 0 ]; do echo $$ >"$1" || exit 125; shift; n=$((n-1)); done
exec "$@"`, "sh"}
	if hostHasSystemd() {
		wrapper = append(wrapper, "0")
	} else {
		args = append(args, "--keep-unit")
		cgs, err := makeCgroups(cgroupPrefix + strconv.Itoa(os.Getpid()) + "-" + c.Machine)
		if err != nil {
			t.Fatalf("testbed: %v", err)
		}
		c.cgroups = cgs
		wrapper = append(wrapper, strconv.Itoa(len(cgs)))
		for _, cg := range cgs {
			wrapper = append(wrapper, filepath.Join(cg, "cgroup.procs"))
		}
	}
	wrapper = append(wrapper, nspawn)
	wrapper = append(wrapper, args...)

	c.cmd = exec.Command(wrapper[0], wrapper[1:]...)
	c.cmd.Env = hostEnv
	c.cmd.Stdout = c.console
	c.cmd.Stderr = c.console
	// Its own process group, so that a ^C meant for go test does not hit
	// nspawn. The test process's death (^C, a -timeout panic: no cleanup runs)
	// reaches nspawn as SIGTERM instead, which it turns into a clean halt of
	// the container; what is left after that is swept by the next
	// EnsureImage.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	c.cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := c.cmd.Start(); err != nil {
		removeCgroups(c.cgroups)
		t.Fatalf("testbed: starting systemd-nspawn: %v", err)
	}
	go func() {
		c.exitErr = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		failed := t.Failed() && !c.diagnosed
		if failed {
			c.t.Logf("testbed: container %s journal (last lines):\n%s", c.Machine, tail(c.Journal(), 80))
		}
		if err := c.Stop(); err != nil {
			t.Errorf("testbed: %v", err)
		}
		if failed {
			c.t.Logf("testbed: container %s console (last lines):\n%s", c.Machine, tail(c.Console(), 40))
		}
	})

	deadline := time.Now().Add(nspawnBootTimeout)
	pid, err := c.findInit(deadline)
	if err == nil {
		c.PID = pid
		err = c.waitRunning(deadline)
	}
	if err != nil {
		// The journal is read from the tree once nspawn is gone, and the
		// console only then holds everything.
		c.Stop()
		c.diagnosed = true
		t.Fatalf("testbed: booting %s: %v\nconsole (last lines):\n%s\njournal (last lines):\n%s", root, err,
			tail(c.Console(), 40), tail(c.Journal(), 60))
	}
	t.Logf("testbed: container %s booted in %v: %s", c.Machine, time.Since(start).Round(10*time.Millisecond), c.State)
	if len(c.FailedUnits) > 0 {
		t.Logf("testbed: container %s has failed units: %s", c.Machine, strings.Join(c.FailedUnits, " "))
	}
	return c
}

// findInit waits for nspawn's descendant that runs systemd in the new PID
// namespace.
func (c *Container) findInit(deadline time.Time) (int, error) {
	myPidNS, _ := os.Readlink("/proc/self/ns/pid")
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return 0, fmt.Errorf("systemd-nspawn exited: %v", c.exitErr)
		default:
		}
		for _, pid := range descendants(c.cmd.Process.Pid) {
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
			if strings.TrimSpace(string(comm)) == "systemd" && ns != "" && ns != myPidNS {
				return pid, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, errors.New("timed out waiting for systemd to start in the container")
}

// descendants lists the processes below pid. /proc/PID/task/TID/children
// needs CONFIG_PROC_CHILDREN, which not every kernel has, so parent links are
// read from /proc/*/stat instead.
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces and parentheses; fields resume
		// after the last ')'.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[p] = pp
	}
	var out []int
	want := map[int]bool{pid: true}
	for changed := true; changed; {
		changed = false
		for p, pp := range parent {
			if want[pp] && !want[p] {
				want[p] = true
				out = append(out, p)
				changed = true
			}
		}
	}
	return out
}

func (c *Container) waitRunning(deadline time.Time) error {
	for {
		select {
		case <-c.done:
			return fmt.Errorf("systemd-nspawn exited: %v", c.exitErr)
		default:
		}
		// Before systemd inside has opened its private socket, systemctl
		// fails at once ("offline"); --wait then blocks until startup is done.
		out, _, err := c.execTimeout(time.Until(deadline), "systemctl", "is-system-running", "--wait")
		state := strings.TrimSpace(out)
		switch state {
		case "running", "degraded":
			c.State = state
			if state == "degraded" {
				failed, _, _ := c.Exec("systemctl", "--failed", "--no-legend", "--plain")
				for _, line := range strings.Split(failed, "\n") {
					if f := strings.Fields(line); len(f) > 0 {
						c.FailedUnits = append(c.FailedUnits, f[0])
					}
				}
			}
			return nil
		case "maintenance", "stopping":
			return fmt.Errorf("system state %q", state)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for the system to finish booting (last state %q, %v)", state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Exec runs a command inside the container, in all of its namespaces, and
// returns its output. err is non-nil if the command could not run or exited
// non-zero; a command still running after 5 minutes is killed.
func (c *Container) Exec(args ...string) (stdout, stderr string, err error) {
	return c.execTimeout(execTimeout, args...)
}

func (c *Container) execTimeout(timeout time.Duration, args ...string) (stdout, stderr string, err error) {
	if len(args) == 0 {
		return "", "", errors.New("testbed: Exec needs a command")
	}
	select {
	case <-c.done:
		return "", "", fmt.Errorf("testbed: container %s is not running", c.Machine)
	default:
	}
	nsenter, err := lookTool("nsenter")
	if err != nil {
		return "", "", err
	}
	// -r and -w: run from the container's / even where entering the mount
	// namespace alone would not move us there.
	cmd := exec.Command(nsenter, append([]string{"-t", strconv.Itoa(c.PID), "-a", "-r", "-w", "--"}, args...)...)
	cmd.Env = hostEnv
	var o, e bytes.Buffer
	cmd.Stdout = &o
	cmd.Stderr = &e
	// nsenter forks the command into the container's PID namespace; killing
	// the whole process group is what reaches it on a timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A command may leave a child running in the background (a daemon, a
	// "ping &") that holds the output pipes open; its output is not waited for.
	cmd.WaitDelay = 2 * time.Second
	err = runKilled(cmd, timeout, strings.Join(args, " "))
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = fmt.Errorf("%s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), err
}

// MustExec is Exec that fails the test, with the command's stderr, when the
// command fails. It returns stdout.
func (c *Container) MustExec(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.Exec(args...)
	if err != nil {
		c.t.Fatalf("in container %s: %v\nstdout:\n%s\nstderr:\n%s", c.Machine, err, out, errOut)
	}
	return out
}

// Journal returns the container's journal of this boot, or, once it is
// stopped, what its journal files hold. Errors are returned as text: the
// journal is read to explain a failure, which must not hide it.
func (c *Container) Journal() string {
	select {
	case <-c.done:
		out, err := runCmd(time.Minute, "journalctl", "--no-pager", "-o", "short-monotonic",
			"--directory="+filepath.Join(c.Root, "var/log/journal"))
		if err != nil {
			return fmt.Sprintf("(journal unavailable: %v)\n%s", err, out)
		}
		return out
	default:
	}
	out, errOut, err := c.Exec("journalctl", "--no-pager", "-b", "-o", "short-monotonic")
	if err != nil {
		return fmt.Sprintf("(journal unavailable: %v)\n%s%s", err, out, errOut)
	}
	return out
}

// Console returns what the container printed on its console so far
// (systemd's status lines): the place to look when it did not boot at all.
func (c *Container) Console() string { return c.console.String() }

// Stop powers the container off and waits for nspawn to exit; after 30
// seconds it kills it. It is called at test cleanup; calling it earlier (to
// look at the tree after shutdown) is fine, and later calls do nothing.
func (c *Container) Stop() error {
	c.stopOnce.Do(func() {
		defer removeCgroups(c.cgroups)
		select {
		case <-c.done:
			return
		default:
		}
		if c.PID > 0 {
			syscall.Kill(c.PID, sigPoweroff)
		} else {
			// Not booted yet: nspawn turns SIGTERM into a halt request.
			syscall.Kill(c.cmd.Process.Pid, syscall.SIGTERM)
		}
		select {
		case <-c.done:
			return
		case <-time.After(nspawnStopTimeout):
		}
		// Killing nspawn alone would leave the container running, orphaned:
		// the PID namespace dies with its PID 1.
		if c.PID > 0 {
			syscall.Kill(c.PID, syscall.SIGKILL)
		}
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
		c.stopErr = fmt.Errorf("container %s did not power off within %v; killed\nconsole:\n%s",
			c.Machine, nspawnStopTimeout, tail(c.console.String(), 30))
	})
	return c.stopErr
}

// hostHasSystemd reports whether the host runs systemd as PID 1 (the test
// sd_booted() makes).
func hostHasSystemd() bool {
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

const (
	cgroup2Magic = 0x63677270
	cgroup1Magic = 0x27e0eb
)

// makeCgroups creates name in the hierarchies nspawn manages on a host
// without systemd: the unified one (at /sys/fs/cgroup itself, or at
// /sys/fs/cgroup/unified on a hybrid host) and the named v1 "systemd" one.
func makeCgroups(name string) ([]string, error) {
	var bases []string
	if isFS("/sys/fs/cgroup", cgroup2Magic) {
		bases = []string{"/sys/fs/cgroup"}
	} else {
		if isFS("/sys/fs/cgroup/unified", cgroup2Magic) {
			bases = append(bases, "/sys/fs/cgroup/unified")
		}
		if isFS("/sys/fs/cgroup/systemd", cgroup1Magic) {
			bases = append(bases, "/sys/fs/cgroup/systemd")
		}
	}
	if len(bases) == 0 {
		return nil, errors.New("no cgroup hierarchy for systemd found under /sys/fs/cgroup")
	}
	var made []string
	for _, b := range bases {
		d := filepath.Join(b, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			removeCgroups(made)
			return nil, fmt.Errorf("creating cgroup: %w", err)
		}
		made = append(made, d)
	}
	return made, nil
}

func isFS(path string, magic int64) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && int64(st.Type) == magic
}

// removeCgroups removes the cgroups and what nspawn and the container's
// systemd made below them, deepest first (rmdir is the only way to delete
// a cgroup, and only an empty one).
func removeCgroups(dirs []string) {
	for _, d := range dirs {
		var all []string
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			// A process that has just died may still count as a member for a
			// moment.
			for try := 0; try < 50; try++ {
				err := syscall.Rmdir(all[i])
				if err == nil || errors.Is(err, syscall.ENOENT) || !errors.Is(err, syscall.EBUSY) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// minInotifyInstances is what several booted containers need at once: every
// systemd, journald and networkd inside takes inotify instances from the
// same per-user budget as the host (128 by default), and a container whose
// systemd gets none exits at once ("Too many open files").
const minInotifyInstances = 1024

// raiseInotifyLimit raises fs.inotify.max_user_instances on this test
// machine when it is below what containers need; it never lowers it.
func raiseInotifyLimit(t testing.TB) {
	const path = "/proc/sys/fs/inotify/max_user_instances"
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n < minInotifyInstances {
		if err := os.WriteFile(path, []byte(strconv.Itoa(minInotifyInstances)), 0o644); err != nil {
			t.Logf("testbed: cannot raise %s from %d: %v", path, n, err)
		}
	}
}
