package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgen-lab/netgen/bench/labgen"
	"github.com/netgen-lab/netgen/bench/stats"
	"github.com/netgen-lab/netgen/internal/testkit/testbed"
)

// The bring-up figure boots the test image under systemd-nspawn (systemd as
// PID 1, as on a real host) and times, inside the running container, four
// ways of making the same kernel objects for a lab of N namespaces on one
// host bridge, in turns, from the same empty state:
//
//   - netgen: `netgen build LAB --no-reload`, then `systemctl daemon-reload`,
//     `networkctl reload` and `systemctl start netgen-LAB.target`, which is
//     what a live apply has to do;
//   - netgen live apply: `netgen build LAB`, which does the same itself over
//     D-Bus (internal/apply);
//   - ip -batch: one `ip -batch` for the host (namespaces included) and one
//     `ip -n NS -batch` per namespace;
//   - ip per command: one `ip` process per command.
//
// The clock starts when the method's script starts and stops when every
// namespace has had an answer to a ping to the host's address through the
// bridge (bench/cmd/pingall, started with the script, pings from all
// namespaces at once). Then it boots images with the lab built in
// (`netgen build --root`) and times the container's start to every ping
// answered.
//
// It takes several minutes and needs root and NETGEN_BOOT=1, so it runs only
// with NETGEN_BENCH=1 too: bench/bringup.sh.

const benchDir = "/root/bench"

// envInts reads a list of positive integers from the environment.
func envInts(t *testing.T, name string, def ...int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want positive integers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}

// buildStatic builds a command without cgo, so that it runs in the image
// whatever libc the image has.
func buildStatic(t *testing.T, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, b, 0o755)
}

func specText(t *testing.T, f func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// installBench puts into an image root the binaries, the lab and the
// scripts every method runs.
func installBench(t *testing.T, root string, spec labgen.Spec, netgen, pingall string) {
	t.Helper()
	// systemd prints a status line for every unit it starts or stops at
	// boot and shutdown on the console, which systemd-nspawn
	// --console=passive does not read: once the pty's buffer is full, PID 1
	// blocks in write() (seen: 5.5 s at the boot of a 100-namespace lab, and
	// shutdowns past the 30 s limit). That would time the test harness, not
	// the lab.
	writeFile(t, filepath.Join(root, "etc/systemd/system.conf.d/netgen-bench.conf"), []byte("[Manager]\nShowStatus=no\n"), 0o644)
	copyFile(t, netgen, filepath.Join(root, "usr/local/bin/netgen"))
	copyFile(t, pingall, filepath.Join(root, "usr/local/bin/pingall"))
	dir := filepath.Join(root, benchDir)
	lab := specText(t, func(b *bytes.Buffer) error { return spec.Write(b) })
	writeFile(t, filepath.Join(dir, "lab.yml"), lab, 0o644)
	writeFile(t, filepath.Join(dir, "up-batch.sh"), specText(t, func(b *bytes.Buffer) error { return spec.IPScript(b, true) }), 0o755)
	writeFile(t, filepath.Join(dir, "up-commands.sh"), specText(t, func(b *bytes.Buffer) error { return spec.IPScript(b, false) }), 0o755)
	writeFile(t, filepath.Join(dir, "teardown.sh"), specText(t, func(b *bytes.Buffer) error { return spec.IPTeardown(b) }), 0o755)
	name := spec.Defaults().Name
	// What a live apply does, step by step, until the lab's units have run.
	writeFile(t, filepath.Join(dir, "up-netgen.sh"), []byte(fmt.Sprintf(`#!/bin/sh
set -e
netgen build %s/lab.yml --no-reload
systemctl daemon-reload
networkctl reload
systemctl start netgen-%s.target
`, benchDir, name)), 0o755)
	// netgen's own live apply (internal/apply): the same steps over D-Bus,
	// units started as jobs netgen waits for.
	writeFile(t, filepath.Join(dir, "up-live.sh"), []byte(fmt.Sprintf(`#!/bin/sh
set -e
netgen build %s/lab.yml
`, benchDir)), 0o755)
	// Back to the empty state, whatever the previous method left.
	writeFile(t, filepath.Join(dir, "down.sh"), []byte(fmt.Sprintf(`#!/bin/sh
set -e
if [ -e /etc/systemd/system/netgen-%[1]s.target ]; then
  systemctl stop netgen-%[1]s.target
  rm -rf /etc/systemd/network/50-netgen-%[1]s_* /etc/systemd/network/.netgen-%[1]s.json \
    /etc/systemd/system/netgen-%[1]s.target /etc/systemd/system/netgen-%[1]s_* \
    /etc/systemd/system/netgen-%[1]s.target.wants /etc/systemd/system/multi-user.target.wants/netgen-%[1]s.target
  systemctl daemon-reload
  systemctl reset-failed
  networkctl reload
fi
sh %[2]s/teardown.sh
`, name, benchDir)), 0o755)
}

// keyValues parses pingall's output.
func keyValues(t *testing.T, out string) map[string]float64 {
	t.Helper()
	kv := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("pingall: bad line %q", line)
			}
			kv[k] = f
		}
	}
	return kv
}

type method struct{ name, script string }

var methods = []method{
	{"netgen", "up-netgen.sh"},
	{"netgen live apply", "up-live.sh"},
	{"ip -batch", "up-batch.sh"},
	{"ip per command", "up-commands.sh"},
}

func TestBringUp(t *testing.T) {
	if os.Getenv("NETGEN_BENCH") != "1" {
		t.Skip("the bring-up figure runs only with NETGEN_BENCH=1, as root with NETGEN_BOOT=1: bench/bringup.sh")
	}
	testbed.RequireBoot(t)
	img := testbed.EnsureImage(t)
	// NETGEN_BENCH_NETGEN times another netgen binary (static, e.g. an
	// older build) instead of this tree's, for before/after comparisons.
	netgen := os.Getenv("NETGEN_BENCH_NETGEN")
	if netgen == "" {
		netgen = buildStatic(t, "netgen", "../cmd/netgen")
	}
	pingall := buildStatic(t, "pingall", "./cmd/pingall")
	sizes := envInts(t, "NETGEN_BENCH_SIZES", 100, 200)
	rounds := envInts(t, "NETGEN_BENCH_ROUNDS", 5)[0]
	boots := envInts(t, "NETGEN_BENCH_BOOTS", 5)[0]

	var systemdVersion string
	live := &stats.Table{Header: []string{"namespaces", "method", "median", "range", "× ip -batch (median of ratios)"}}
	boot := &stats.Table{Header: []string{"namespaces", "container start to", "median", "range"}}
	for _, n := range sizes {
		spec := labgen.Spec{Namespaces: n}
		host := spec.HostAddr(0).Addr().String()
		pingArgs := []string{"/usr/local/bin/pingall", "-prefix", "ns", "-count", strconv.Itoa(n), "-to", host, "-timeout", "120s"}

		// Live: one container, the methods in turns.
		root := img.Copy(t)
		installBench(t, root, spec, netgen, pingall)
		c := testbed.BootNspawn(t, root)
		if v, _, err := c.Exec("systemctl", "--version"); err == nil {
			systemdVersion, _, _ = strings.Cut(strings.TrimSpace(v), "\n")
		}
		times := map[string][]float64{}
		for r := 0; r < rounds; r++ {
			for k := range methods {
				m := methods[(r+k)%len(methods)]
				c.MustExec("sh", benchDir+"/down.sh")
				// The kernel finishes destroying the namespaces in the
				// background: let it, so that no method pays for the last.
				time.Sleep(time.Second)
				args := append(append([]string{}, pingArgs...), "--", "sh", benchDir+"/"+m.script)
				out, stderr, err := c.Exec(args...)
				if err != nil {
					failed, _, _ := c.Exec("sh", "-c", "for u in $(systemctl --failed --no-legend --plain | cut -d' ' -f1); do journalctl --no-pager -o short-monotonic -u $u; done")
					t.Fatalf("%d namespaces, %s: %v\n%s%s\nfailed units:\n%s", n, m.name, err, out, stderr, failed)
				}
				kv := keyValues(t, out)
				times[m.name] = append(times[m.name], kv["all_ms"])
				t.Logf("%d namespaces, round %d, %s: %s (command %s)", n, r+1, m.name, stats.Ms(kv["all_ms"]), stats.Ms(kv["command_ms"]))
			}
		}
		// Leave no namespace for the kernel to destroy while the next
		// container boots.
		c.MustExec("sh", benchDir+"/down.sh")
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		for _, m := range methods {
			ratio := stats.Median(stats.Ratios(times[m.name], times["ip -batch"]))
			live.Add(n, m.name, stats.Ms(stats.Median(times[m.name])), stats.Range(times[m.name], "%.0f"), fmt.Sprintf("%.2f", ratio))
		}

		// Boot: the same copy, first as it is (the time to a booted
		// system, for reference), then with the lab built in.
		var plain, labUp, labBooted []float64
		// Every boot starts with an empty journal: the live rounds above
		// logged thousands of lines, and journald reading them back at
		// boot would be timed too.
		// And every boot waits 2 s after the previous container's, whose
		// lab was taken down first: the kernel destroys namespaces in the
		// background, and a boot while it destroys hundreds is 3 to 8
		// times slower.
		clearJournal := func() {
			dir := filepath.Join(root, "var/log/journal")
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
			time.Sleep(2 * time.Second)
		}
		for r := 0; r < boots; r++ {
			clearJournal()
			start := time.Now()
			c := testbed.BootNspawn(t, root)
			plain = append(plain, float64(time.Since(start).Microseconds())/1000)
			if err := c.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		build := exec.Command(netgen, "build", filepath.Join(root, benchDir, "lab.yml"), "--root", root)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("netgen build --root: %v\n%s", err, out)
		}
		unit := fmt.Sprintf(`[Unit]
Description=netgen bench: time until every namespace answers
DefaultDependencies=no

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=150
ExecStart=%s
StandardOutput=file:/run/bench-pingall.out

[Install]
WantedBy=multi-user.target
`, strings.Join(pingArgs, " "))
		writeFile(t, filepath.Join(root, "etc/systemd/system/bench-pingall.service"), []byte(unit), 0o644)
		wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants/bench-pingall.service")
		os.Remove(wants)
		if err := os.Symlink("/etc/systemd/system/bench-pingall.service", wants); err != nil {
			t.Fatal(err)
		}
		for r := 0; r < boots; r++ {
			clearJournal()
			start := time.Now()
			c := testbed.BootNspawn(t, root)
			labBooted = append(labBooted, float64(time.Since(start).Microseconds())/1000)
			out := c.MustExec("cat", "/run/bench-pingall.out")
			kv := keyValues(t, out)
			if kv["done_unix_ns"] == 0 {
				t.Fatalf("pingall in the booted container did not finish:\n%s", out)
			}
			labUp = append(labUp, (kv["done_unix_ns"]-float64(start.UnixNano()))/1e6)
			c.MustExec("sh", "-c", fmt.Sprintf("systemctl stop netgen-%s.target && sh %s/teardown.sh", spec.Defaults().Name, benchDir))
			if err := c.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		boot.Add(n, "system running, no lab", stats.Ms(stats.Median(plain)), stats.Range(plain, "%.0f"))
		boot.Add(n, "every ping answered, lab built in", stats.Ms(stats.Median(labUp)), stats.Range(labUp, "%.0f"))
		boot.Add(n, "system running, lab built in", stats.Ms(stats.Median(labBooted)), stats.Range(labBooted, "%.0f"))
	}
	fmt.Printf("\nBring-up in a booted container (systemd-nspawn; %s as PID 1), %d rounds, methods in turns\n%s\n",
		systemdVersion, rounds, stats.Machine())
	fmt.Printf("From the start of the method's script until every namespace has had an answer from the host (%s) through the bridge\n\n",
		labgen.Spec{}.HostAddr(0).Addr())
	live.Write(os.Stdout)
	fmt.Printf("\nContainer start (systemd-nspawn started) to the lab up, %d boots each\n\n", boots)
	boot.Write(os.Stdout)
}
