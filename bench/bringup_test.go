package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want integers ≥ 0 separated by commas", name, v)
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
func installBench(t *testing.T, root string, spec labgen.Spec, netgen, pingall string, features []string) {
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
	upNetgen := func(lab string) []byte {
		return []byte(fmt.Sprintf(`#!/bin/sh
set -e
netgen build %s/%s --no-reload
systemctl daemon-reload
networkctl reload
systemctl start netgen-%s.target
`, benchDir, lab, name))
	}
	writeFile(t, filepath.Join(dir, "up-netgen.sh"), upNetgen("lab.yml"), 0o755)
	// The same lab with a feature (labgen.Spec's Services, Wires, ...).
	for _, f := range features {
		fs := spec
		setFeature(t, &fs, f)
		writeFile(t, filepath.Join(dir, "lab-"+f+".yml"), specText(t, func(b *bytes.Buffer) error { return fs.Write(b) }), 0o644)
		writeFile(t, filepath.Join(dir, "up-netgen-"+f+".sh"), upNetgen("lab-"+f+".yml"), 0o755)
	}
	// The same without daemon-reload: systemd loads a unit it has not
	// seen yet from disk when it is first asked for (and retries one it
	// found missing once its unit directories changed), so starting a lab
	// whose units are all new needs no reload.
	writeFile(t, filepath.Join(dir, "up-noreload.sh"), []byte(fmt.Sprintf(`#!/bin/sh
set -e
netgen build %s/lab.yml --no-reload
networkctl reload
systemctl start netgen-%s.target
`, benchDir, name)), 0o755)
	// netgen's own unit scripts without systemd units: after the build and
	// networkd's reload, one awk writes every namespace unit's script to a
	// file, and one sh per namespace runs it, all at once. What a lab-wide
	// fast path that kept the scripts but not a unit per namespace would
	// take.
	writeFile(t, filepath.Join(dir, "up-scripts.sh"), []byte(fmt.Sprintf(`#!/bin/sh
set -e
netgen build %[1]s/lab.yml --no-reload
networkctl reload
/lib/systemd/systemd-networkd-wait-online -q --timeout=120 $(awk -F'[ =]' '/^ExecStart=/ { for (i = 2; i <= NF; i++) if ($i == "-i") print "-i", $(i+1) }' /etc/systemd/system/netgen-%[2]s_bridges.service)
rm -rf /run/bench-scripts && mkdir /run/bench-scripts
awk 'FNR == 1 { if (out != "") close(out); out = "/run/bench-scripts/" FILENAME; gsub("/etc/systemd/system/", "", out) } /^StandardInputText=/ { sub(/^StandardInputText=/, ""); print > out }' /etc/systemd/system/netgen-%[2]s_ns-*.service
for s in /run/bench-scripts/*; do sh -e "$s" start & done
wait
`, benchDir, name)), 0o755)
	// Where the time of up-netgen.sh goes: the same steps, each timed
	// (date(1) adds a process per step, a millisecond or two).
	writeFile(t, filepath.Join(dir, "steps.sh"), []byte(fmt.Sprintf(`#!/bin/sh
set -e
t0=$(date +%%s%%N)
netgen build %s/lab.yml --no-reload 2>/dev/null
t1=$(date +%%s%%N)
systemctl daemon-reload
t2=$(date +%%s%%N)
networkctl reload
t3=$(date +%%s%%N)
systemctl start netgen-%s.target
t4=$(date +%%s%%N)
printf 'build=%%d\ndaemon-reload=%%d\nnetworkctl-reload=%%d\nstart=%%d\n' $(( (t1-t0)/1000 )) $(( (t2-t1)/1000 )) $(( (t3-t2)/1000 )) $(( (t4-t3)/1000 ))
`, benchDir, name)), 0o755)
	// systemd's own cost: N oneshot units under a target running EXEC
	// (/bin/true, or sh with as many ip processes as a namespace unit
	// runs), made known by a daemon-reload and started like a lab.
	writeFile(t, filepath.Join(dir, "floor.sh"), []byte(`#!/bin/sh
# floor.sh N EXEC: microseconds of the daemon-reload and of the start
set -e
N=$1; EXEC=$2
rm -rf /etc/systemd/system/benchfloor*
mkdir -p /etc/systemd/system/benchfloor.target.wants
printf '[Unit]
Description=bench floor
' >/etc/systemd/system/benchfloor.target
i=0; while [ $i -lt $N ]; do
  printf '[Unit]
PartOf=benchfloor.target
Before=benchfloor.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=%s
' "$EXEC" >/etc/systemd/system/benchfloor_$i.service
  ln -s ../benchfloor_$i.service /etc/systemd/system/benchfloor.target.wants/
  i=$((i+1))
done
t1=$(date +%s%N)
systemctl daemon-reload
t2=$(date +%s%N)
systemctl start benchfloor.target
t3=$(date +%s%N)
systemctl stop benchfloor.target
rm -rf /etc/systemd/system/benchfloor*
systemctl daemon-reload
printf 'daemon-reload=%d\nstart=%d\n' $(( (t2-t1)/1000 )) $(( (t3-t2)/1000 ))
`), 0o755)
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

var allMethods = []method{
	{"netgen", "up-netgen.sh"},
	{"netgen live apply", "up-live.sh"},
	{"netgen, no daemon-reload", "up-noreload.sh"},
	{"netgen's scripts, no units", "up-scripts.sh"},
	{"ip -batch", "up-batch.sh"},
	{"ip per command", "up-commands.sh"},
}

// setFeature turns on one feature of the lab by name.
func setFeature(t *testing.T, s *labgen.Spec, f string) {
	switch f {
	case "services":
		s.Services = true
	case "wires":
		s.Wires = true
	case "netem":
		s.Netem = true
	default:
		t.Fatalf("NETGEN_BENCH_FEATURES: unknown feature %q (services, wires, netem; several machines need several machines)", f)
	}
}

// benchMethods are the methods NETGEN_BENCH_METHODS names (substrings of
// the script names, e.g. "netgen.sh,batch"; all by default; ip -batch
// always, every ratio is to it), and one "netgen, +FEATURE" per feature.
func benchMethods(t *testing.T, features []string) []method {
	var out []method
	sel := os.Getenv("NETGEN_BENCH_METHODS")
	for _, m := range allMethods {
		keep := sel == "" || m.script == "up-batch.sh"
		for _, f := range strings.Split(sel, ",") {
			keep = keep || (f != "" && strings.Contains(m.script, f))
		}
		if keep {
			out = append(out, m)
		}
	}
	for _, f := range features {
		out = append(out, method{"netgen, +" + f, "up-netgen-" + f + ".sh"})
	}
	return out
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
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
	profiles := envInts(t, "NETGEN_BENCH_PROFILE", 3)[0]
	var features []string
	if f := os.Getenv("NETGEN_BENCH_FEATURES"); f != "" {
		features = strings.Split(f, ",")
	}
	methods := benchMethods(t, features)

	var systemdVersion string
	live := &stats.Table{Header: []string{"namespaces", "method", "median", "range", "× ip -batch (median of ratios)"}}
	boot := &stats.Table{Header: []string{"namespaces", "container start to", "median", "range"}}
	prof := &stats.Table{Header: []string{"namespaces", "step", "median", "range"}}
	var loads []string
	for _, n := range sizes {
		spec := labgen.Spec{Namespaces: n}
		host := spec.HostAddr(0).Addr().String()
		pingArgs := []string{"/usr/local/bin/pingall", "-prefix", "ns", "-count", strconv.Itoa(n), "-to", host, "-timeout", "120s"}

		// Live: one container, the methods in turns.
		root := img.Copy(t)
		installBench(t, root, spec, netgen, pingall, features)
		c := testbed.BootNspawn(t, root)
		load := loadavg()
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
		loads = append(loads, fmt.Sprintf("%d namespaces: load average %s at the start, %s at the end of the rounds", n, load, loadavg()))
		// Where netgen's time goes: its steps timed one by one, and
		// systemd's cost for as many units doing nothing, or running as
		// many processes as a namespace unit (sh and three ip).
		steps := map[string][]float64{}
		var order []string
		add := func(prefix, out string) {
			for k, v := range keyValues(t, out) {
				name := prefix + k
				if _, ok := steps[name]; !ok {
					order = append(order, name)
				}
				steps[name] = append(steps[name], v/1000)
			}
		}
		for r := 0; r < profiles; r++ {
			c.MustExec("sh", benchDir+"/down.sh")
			time.Sleep(time.Second)
			add("netgen: ", c.MustExec("sh", benchDir+"/steps.sh"))
			c.MustExec("sh", benchDir+"/down.sh")
			add(fmt.Sprintf("%d units running /bin/true: ", n), c.MustExec("sh", benchDir+"/floor.sh", strconv.Itoa(n), "/bin/true"))
			add(fmt.Sprintf("%d units running sh and 3 × ip -V: ", n), c.MustExec("sh", benchDir+"/floor.sh", strconv.Itoa(n), "/bin/sh -c 'ip -V >/dev/null; ip -V >/dev/null; ip -V >/dev/null'"))
		}
		sort.Strings(order)
		for _, k := range order {
			prof.Add(n, k, stats.Ms(stats.Median(steps[k])), stats.Range(steps[k], "%.0f"))
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
		if boots == 0 {
			continue
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
	fmt.Printf("\n%s\n", strings.Join(loads, "\n"))
	if profiles > 0 {
		fmt.Printf("\nWhere the time goes, %d runs each: netgen's steps (`netgen build --no-reload`, `systemctl daemon-reload`, `networkctl reload`, `systemctl start` of the target), and systemd's floor (a daemon-reload with N more units, and the start of N oneshot units under a target)\n\n", profiles)
		prof.Write(os.Stdout)
	}
	if boots > 0 {
		fmt.Printf("\nContainer start (systemd-nspawn started) to the lab up, %d boots each\n\n", boots)
		boot.Write(os.Stdout)
	}
}
