package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// QEMUOptions tunes RunQEMUOpts. Zero values take the defaults.
type QEMUOptions struct {
	Boots    int           // how many times to boot the same disk; default 1
	Timeout  time.Duration // per boot, from QEMU's start to power-off; default 5 min
	MemoryMB int           // default 1024
	CPUs     int           // default 1; 2 is faster only for a guest booted alone
	// Append is added to the kernel command line, e.g.
	// "systemd.log_level=debug" to see why a unit hangs.
	Append string
}

// QEMUBoot is what one boot of the check reported.
type QEMUBoot struct {
	N int // 1 for the first boot
	// State is what systemctl is-system-running --wait said before the check
	// ran: "running" or "degraded" (then FailedUnits lists why).
	State       string
	FailedUnits []string
	Output      string // the check's stdout and stderr
	ExitCode    int    // the check's exit status
	Console     string // the whole serial console (kernel and systemd messages)
	Duration    time.Duration
}

// qemuCPUs is 1 because tests are expected to boot guests in parallel. On a
// 2-core host, one guest boots in about 21 s with one vCPU and 16 s with two;
// but two guests at once take 21 s each with one vCPU and 49 s each with two
// (TCG's vCPU threads then fight over the cores).
const qemuCPUs = 1

// Files the check is installed as, inside the root tree.
const (
	checkDir     = "/usr/local/lib/netgen-testbed"
	checkUnit    = "netgen-testbed-check.service"
	checkCmdline = "netgen.testbed.check=1"
	markerPrefix = "@@NETGEN-TESTBED-"
)

// checkRunner runs inside the guest. It reports on the second serial port
// (ttyS1), which carries nothing else, so the kernel's and systemd's console
// messages on ttyS0 can never interleave with the check's output.
const checkRunner = `#!/bin/sh
out=/dev/ttyS1
# raw: no \n -> \r\n translation, no echo of what the host never sends.
stty -F "$out" raw -echo 2>/dev/null
mkdir -p /var/lib/netgen-testbed
n=$(cat /var/lib/netgen-testbed/boots 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >/var/lib/netgen-testbed/boots
sync
state=$(systemctl is-system-running --wait)
{
	echo "@@NETGEN-TESTBED-STATE $n $state"
	systemctl --failed --no-legend --plain | while read -r unit _; do
		echo "@@NETGEN-TESTBED-FAILED $n $unit"
	done
	echo "@@NETGEN-TESTBED-BEGIN $n"
	NETGEN_TESTBED_BOOT=$n /usr/local/lib/netgen-testbed/check 2>&1 </dev/null
	rc=$?
	# The leading newline ends an output whose last line has none; the host
	# takes it away again.
	printf '\n@@NETGEN-TESTBED-END %s %s\n' "$n" "$rc"
} >"$out" 2>&1
systemctl poweroff
`

// The unit is Type=simple, not oneshot: is-system-running --wait returns only
// when no start job is left, and a oneshot's own job would be one. It only
// runs on a kernel command line that asks for it, so the same tree still
// boots normally under nspawn.
const checkUnitText = `[Unit]
Description=netgen testbed check
After=multi-user.target
ConditionKernelCommandLine=` + checkCmdline + `

[Service]
Type=simple
ExecStart=` + checkDir + `/run

[Install]
WantedBy=multi-user.target
`

// RunQEMU boots root under QEMU (TCG, Debian's kernel, no NIC) boots times,
// runs script in each boot once the system is up, and returns what each run
// printed. Use it for what this host's kernel lacks (802.1Q, VLAN filtering,
// dummy, bonding). A boot takes about 20 s.
//
// script is run as root by /bin/sh, or by its own #! interpreter; it sees
// NETGEN_TESTBED_BOOT=N. The test fails if a boot does not complete; the
// check's exit status is returned, not judged. RunQEMU installs the check
// into root; root must not be booted elsewhere at the same time.
func RunQEMU(t testing.TB, root, script string, boots int) []QEMUBoot {
	t.Helper()
	return RunQEMUOpts(t, root, script, QEMUOptions{Boots: boots})
}

// RunQEMUOpts is RunQEMU with options.
func RunQEMUOpts(t testing.TB, root, script string, opt QEMUOptions) []QEMUBoot {
	t.Helper()
	if opt.Boots <= 0 {
		opt.Boots = 1
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Minute
	}
	if opt.MemoryMB <= 0 {
		opt.MemoryMB = 1024
	}
	if opt.CPUs <= 0 {
		opt.CPUs = qemuCPUs
	}
	qemu, err := lookTool("qemu-system-x86_64")
	if err != nil {
		t.Fatalf("testbed: %v (call EnsureImage first: it installs qemu-system-x86)", err)
	}
	if err := installCheck(root, script); err != nil {
		t.Fatalf("testbed: installing the check: %v", err)
	}
	kernel, err := resolveInRoot(root, "vmlinuz")
	if err != nil {
		t.Fatalf("testbed: kernel: %v", err)
	}
	initrd, err := resolveInRoot(root, "initrd.img")
	if err != nil {
		t.Fatalf("testbed: initrd: %v", err)
	}

	work := workDir(t, CacheDir())
	disk := filepath.Join(work, "disk.ext4")
	start := time.Now()
	if err := makeExt4(root, disk); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	t.Logf("testbed: ext4 disk made in %v", time.Since(start).Round(10*time.Millisecond))

	var results []QEMUBoot
	for n := 1; n <= opt.Boots; n++ {
		consoleFile := filepath.Join(work, fmt.Sprintf("console-%d.log", n))
		checkFile := filepath.Join(work, fmt.Sprintf("check-%d.log", n))
		args := []string{
			// KVM hangs on this project's machines; TCG is slow but sure.
			"-accel", "tcg",
			"-m", strconv.Itoa(opt.MemoryMB),
			"-smp", strconv.Itoa(opt.CPUs),
			"-nographic", "-monitor", "none",
			// A guest that reboots or panics ends QEMU instead of looping.
			"-no-reboot",
			"-kernel", kernel, "-initrd", initrd,
			"-append", strings.TrimSpace("root=/dev/vda rw console=ttyS0 panic=-1 " + checkCmdline + " " + opt.Append),
			"-drive", "file=" + disk + ",format=raw,if=virtio",
			// No network device at all: a lab's traffic stays in the guest.
			"-nic", "none",
			"-serial", "file:" + consoleFile,
			"-serial", "file:" + checkFile,
		}
		b, err := bootQEMU(qemu, args, n, consoleFile, checkFile, opt.Timeout)
		if err != nil {
			t.Fatalf("testbed: QEMU boot %d of %d: %v\nconsole (last lines):\n%s\ncheck output:\n%s",
				n, opt.Boots, err, tail(b.Console, 60), b.Output)
		}
		t.Logf("testbed: QEMU boot %d of %d took %v: %s, check exited %d",
			n, opt.Boots, b.Duration.Round(100*time.Millisecond), b.State, b.ExitCode)
		if len(b.FailedUnits) > 0 {
			t.Logf("testbed: QEMU boot %d: failed units: %s", n, strings.Join(b.FailedUnits, " "))
		}
		results = append(results, b)
	}
	return results
}

func installCheck(root, script string) error {
	dir := filepath.Join(root, checkDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if !strings.HasPrefix(script, "#!") {
		script = "#!/bin/sh\n" + script
	}
	files := []struct {
		path, text string
		mode       os.FileMode
	}{
		{filepath.Join(dir, "check"), script, 0o755},
		{filepath.Join(dir, "run"), checkRunner, 0o755},
		{filepath.Join(root, "etc/systemd/system", checkUnit), checkUnitText, 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, []byte(f.text), f.mode); err != nil {
			return err
		}
		if err := os.Chmod(f.path, f.mode); err != nil {
			return err
		}
	}
	// What systemctl enable would do, without running the image's systemctl.
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return err
	}
	link := filepath.Join(wants, checkUnit)
	os.Remove(link)
	return os.Symlink("/etc/systemd/system/"+checkUnit, link)
}

// makeExt4 builds a file system image holding root, with room to spare for
// what the guest writes (journal, lab state).
func makeExt4(root, disk string) error {
	out, err := runCmd(5*time.Minute, "du", "-sb", "--apparent-size", root)
	if err != nil {
		return fmt.Errorf("du %s: %v\n%s", root, err, out)
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return fmt.Errorf("du %s: no output", root)
	}
	used, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return fmt.Errorf("du %s: %v", root, err)
	}
	// Inodes and block rounding of many small files take about a quarter more
	// than the apparent size.
	mb := used*5/4/(1<<20) + 512
	// The file is sparse: only what mkfs writes takes disk space.
	out, err = runCmd(10*time.Minute, "mkfs.ext4", "-q", "-F", "-L", "root", "-d", root, disk, strconv.FormatInt(mb, 10)+"M")
	if err != nil {
		return fmt.Errorf("mkfs.ext4 -d %s: %v\n%s", root, err, out)
	}
	return nil
}

// bootQEMU runs one boot and parses the check's report. The returned boot
// holds the console and any output even on error.
func bootQEMU(qemu string, args []string, n int, consoleFile, checkFile string, timeout time.Duration) (QEMUBoot, error) {
	b := QEMUBoot{N: n}
	cmd := exec.Command(qemu, args...)
	cmd.Env = hostEnv
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	// A guest outliving its test would burn a core until its check ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return b, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// After the check has reported, the guest gets a minute to power off: a
	// lab whose units hang at shutdown is a bug worth failing for.
	const shutdownGrace = time.Minute
	deadline := time.Now().Add(timeout)
	var runErr error
	finished, reported := false, false
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case runErr = <-done:
			finished = true
			break wait
		case <-tick.C:
			if !reported && b.reported(checkFile) {
				reported = true
				deadline = time.Now().Add(shutdownGrace)
			}
			if time.Now().After(deadline) {
				break wait
			}
		}
	}
	if !finished {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	b.Duration = time.Since(start)
	console, _ := os.ReadFile(consoleFile)
	b.Console = strings.ReplaceAll(string(console), "\r\n", "\n")
	check, _ := os.ReadFile(checkFile)
	perr := b.parse(strings.ReplaceAll(string(check), "\r\n", "\n"))
	switch {
	case !finished && perr == nil:
		return b, fmt.Errorf("the check finished but the guest did not power off within %v", shutdownGrace)
	case !finished:
		return b, fmt.Errorf("timed out after %v (%v)", timeout, perr)
	case runErr != nil:
		return b, fmt.Errorf("qemu: %v\n%s", runErr, out.String())
	case perr != nil:
		return b, fmt.Errorf("guest powered off without a complete report: %v", perr)
	}
	return b, nil
}

// reported tells whether the check's END marker has reached the file yet.
func (b *QEMUBoot) reported(checkFile string) bool {
	data, _ := os.ReadFile(checkFile)
	return strings.Contains(string(data), markerPrefix+"END ")
}

// parse reads the runner's report: STATE, FAILED..., BEGIN, the check's
// output, END with its exit status. Each marker carries the boot number, and
// a report from another boot than the one expected is an error: it means the
// disk did not keep its state across the reboot.
func (b *QEMUBoot) parse(text string) error {
	begin := strings.Index(text, markerPrefix+"BEGIN ")
	if begin < 0 {
		return fmt.Errorf("no BEGIN marker")
	}
	head := text[:begin]
	for _, line := range strings.Split(head, "\n") {
		f := strings.Fields(strings.TrimPrefix(line, markerPrefix))
		if len(f) < 3 || !strings.HasPrefix(line, markerPrefix) {
			continue
		}
		if f[1] != strconv.Itoa(b.N) {
			return fmt.Errorf("report of boot %s, expected boot %d", f[1], b.N)
		}
		switch f[0] {
		case "STATE":
			b.State = f[2]
		case "FAILED":
			b.FailedUnits = append(b.FailedUnits, f[2])
		}
	}
	rest := text[begin:]
	nl := strings.IndexByte(rest, '\n')
	if nl < 0 {
		return fmt.Errorf("no output after BEGIN")
	}
	if f := strings.Fields(rest[:nl]); len(f) < 2 || f[1] != strconv.Itoa(b.N) {
		return fmt.Errorf("BEGIN marker %q, expected boot %d", rest[:nl], b.N)
	}
	body := rest[nl+1:]
	end := strings.Index(body, "\n"+markerPrefix+"END ")
	if end < 0 {
		b.Output = body
		return fmt.Errorf("no END marker (the check did not finish)")
	}
	b.Output = body[:end]
	endLine := body[end+1:]
	if i := strings.IndexByte(endLine, '\n'); i >= 0 {
		endLine = endLine[:i]
	}
	f := strings.Fields(endLine)
	if len(f) < 3 || f[1] != strconv.Itoa(b.N) {
		return fmt.Errorf("END marker %q, expected boot %d", endLine, b.N)
	}
	code, err := strconv.Atoi(f[2])
	if err != nil {
		return fmt.Errorf("END marker %q: %v", endLine, err)
	}
	b.ExitCode = code
	return nil
}
