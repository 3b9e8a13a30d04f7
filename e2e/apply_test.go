package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/testkit/testbed"
)

// inContainer runs netgen inside the container and returns its exit status
// and output.
func inContainer(t *testing.T, c *testbed.Container, cmdline string) (code int, stdout, stderr string) {
	t.Helper()
	out, errOut, _ := c.Exec("sh", "-c", cmdline+"; echo \"@@rc=$?\"")
	m := regexp.MustCompile(`@@rc=(\d+)\s*$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s: no exit status in output:\n%s\n%s", cmdline, out, errOut)
	}
	code, _ = strconv.Atoi(m[1])
	return code, strings.TrimSuffix(out, m[0]), errOut
}

// snapshot prints what must not change when an unchanged lab is applied
// again: each file's inode and mtime, each link's ifindex, each namespace's
// inode, each unit's start time.
func snapshot(t *testing.T, c *testbed.Container, l bootLab) string {
	t.Helper()
	lab := l.Res.Plan.Lab
	var nss, host []string
	for _, u := range l.Res.Plan.Units {
		if len(u.Namespaces) == 1 {
			nss = append(nss, u.Namespaces[0])
		}
	}
	for _, k := range l.Res.Plan.Links {
		if k.NS == "" {
			host = append(host, k.Name)
		}
	}
	script := fmt.Sprintf(`
for f in /etc/systemd/network/50-netgen-%[1]s_* /etc/systemd/system/netgen-%[1]s_* /etc/systemd/system/netgen-%[1]s.target* /etc/systemd/system/*.wants/netgen-%[1]s_* /etc/systemd/system/*.wants/netgen-%[1]s.target; do
  [ -e "$f" ] && stat -c '%%n %%i %%Y' "$f"
done
for l in %[2]s; do ip -o link show dev $l 2>&1 | awk '{print "host", $1, $2}'; done
for ns in %[3]s; do
  ip -n $ns -o link show 2>&1 | awk -v ns=$ns '{print ns, $1, $2}'
  stat -L -c "netns %%n %%i" /run/netns/$ns 2>&1
done
systemctl show -p Id -p ActiveEnterTimestampMonotonic $(cd /etc/systemd/system && ls -d netgen-%[1]s_* netgen-%[1]s.target 2>/dev/null)
`, lab, strings.Join(host, " "), strings.Join(nss, " "))
	out, stderr, err := c.Exec("sh", "-c", script)
	if err != nil {
		t.Fatalf("snapshot: %v\n%s", err, stderr)
	}
	return out
}

// TestApplyLive is the live-apply scenario on a booted system (systemd as
// PID 1, real D-Bus): apply a lab next to a bystander lab; apply a second
// version (an address changed, a namespace removed and one added, a
// bridge's STP switched on, MTUs changed) and check the live system equals
// it without a reboot; apply it again and check nothing at all changed;
// --check and --dry-run; a write failure leaves the previous files intact;
// down removes everything of the lab and nothing of the bystander, whose
// name (evolve-by) starts with the lab's.
func TestApplyLive(t *testing.T) {
	testbed.RequireBoot(t)
	img := testbed.EnsureImage(t)
	root := img.Copy(t)
	bin := filepath.Join(root, "usr/local/bin/netgen")
	build := exec.Command("go", "build", "-o", bin, "../cmd/netgen")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	labDir := filepath.Join(root, "root/labs")
	if err := os.MkdirAll(labDir, 0o755); err != nil {
		t.Fatal(err)
	}
	labs := map[string]bootLab{}
	for _, name := range []string{"bystander", "v1", "v2", "failing"} {
		path := filepath.Join("testdata/apply", name+".yml")
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(labDir, name+".yml"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		if name != "failing" {
			labs[name] = loadLab(t, path)
		}
	}
	c := testbed.BootNspawn(t, root)
	check := func(stage string, ls ...bootLab) {
		t.Helper()
		rep := runCollector(t, c, ls)
		failWith(t, judge("apply: "+stage, ls, rep), rep)
	}
	mustBuild := func(lab string) string {
		t.Helper()
		code, out, stderr := inContainer(t, c, "netgen build /root/labs/"+lab+".yml 2>&1")
		if code != 0 {
			t.Fatalf("netgen build %s: exit %d\n%s%s", lab, code, out, stderr)
		}
		return out
	}

	mustBuild("bystander")
	mustBuild("v1")
	check("v1 applied", labs["bystander"], labs["v1"])
	bystander := snapshot(t, c, labs["bystander"])

	out := mustBuild("v2")
	for _, want := range []string{"re-creating evbr", "stopping netgen-evolve_ns-c.service"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply v2 did not say %q:\n%s", want, out)
		}
	}
	check("v2 applied over v1", labs["bystander"], labs["v2"])
	if o, _, _ := c.Exec("ls", "/run/netns"); strings.Contains(o, "c\n") || strings.HasSuffix(o, "c") {
		t.Errorf("namespace c still exists after v2:\n%s", o)
	}
	if o, _, err := c.Exec("ip", "link", "show", "evpc"); err == nil {
		t.Errorf("evpc (of the removed namespace c) still exists:\n%s", o)
	}

	before := snapshot(t, c, labs["v2"])
	out = mustBuild("v2")
	if !strings.Contains(out, "up to date") {
		t.Errorf("re-applying v2 did not say up to date:\n%s", out)
	}
	if after := snapshot(t, c, labs["v2"]); after != before {
		t.Errorf("re-applying an unchanged lab changed the system:\n--- before\n%s--- after\n%s", before, after)
	}
	if code, out, _ := inContainer(t, c, "netgen build /root/labs/v2.yml --check"); code != 0 {
		t.Errorf("--check on the applied lab: exit %d, want 0\n%s", code, out)
	}
	if code, out, _ := inContainer(t, c, "netgen build /root/labs/v1.yml --check"); code != 5 || !strings.Contains(out, "start netgen-evolve_ns-c.service") {
		t.Errorf("--check against v1: exit %d, want 5, and the actions listed:\n%s", code, out)
	}
	if code, out, _ := inContainer(t, c, "netgen build /root/labs/v1.yml --dry-run"); code != 0 || !strings.Contains(out, "+Address=10.88.0.1/24") && !strings.Contains(out, "10.88.0.1/24") || !strings.Contains(out, "would re-create device evbr") {
		t.Errorf("--dry-run against v1: exit %d, output:\n%s", code, out)
	}
	if after := snapshot(t, c, labs["v2"]); after != before {
		t.Errorf("--check/--dry-run changed the system:\n--- before\n%s--- after\n%s", before, after)
	}

	// A write failure part-way: the network directory is read-only.
	if _, stderr, err := c.Exec("mount", "--bind", "-o", "ro", "/etc/systemd/network", "/etc/systemd/network"); err != nil {
		t.Fatalf("read-only bind mount: %v %s", err, stderr)
	}
	code, out, _ := inContainer(t, c, "netgen build /root/labs/v1.yml 2>&1")
	c.Exec("umount", "/etc/systemd/network")
	if code != 3 {
		t.Errorf("build onto a read-only directory: exit %d, want 3\n%s", code, out)
	}
	if after := snapshot(t, c, labs["v2"]); after != before {
		t.Errorf("a failed write changed the system:\n--- before\n%s--- after\n%s", before, after)
	}
	check("v2 still whole after a failed write", labs["v2"])

	// netgen status: the lab as built, then broken by hand (a link
	// deleted, an address changed, a namespace unit stopped), then after
	// down: every object named, exit 6.
	if code, out, _ := inContainer(t, c, "netgen status /root/labs/v2.yml"); code != 0 || !strings.Contains(out, "lab evolve: as the lab says") {
		t.Errorf("netgen status on v2 as built: exit %d, want 0:\n%s", code, out)
	}
	dUnit := ""
	for _, u := range labs["v2"].Res.Plan.Units {
		if u.Namespace != nil && u.Namespace.Name == "d" {
			dUnit = u.Name
		}
	}
	for _, cmd := range []string{"ip link del evh0", "ip -n a addr del 10.88.0.11/24 dev eth0", "ip -n a addr add 10.88.0.99/24 dev eth0", "systemctl stop " + dUnit} {
		if _, stderr, err := c.Exec("sh", "-c", cmd); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, stderr)
		}
	}
	code, out, _ = inContainer(t, c, "netgen status /root/labs/v2.yml")
	for _, want := range []string{
		"missing    link evh0 ",
		"missing    link evh1 ", // the peer goes with it
		"different  link a:eth0 ",
		"addresses 10.88.0.99/24, want 10.88.0.11/24",
		"missing    namespace d ",
		"missing    link d:eth0 ",
		"different  unit " + dUnit + " ",
		"state inactive, want active",
		"lab evolve: not as the lab says",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("netgen status after breaking v2 by hand: no %q in:\n%s", want, out)
		}
	}
	if code != 6 || strings.Contains(out, "leftover ") {
		t.Errorf("netgen status after breaking v2 by hand: exit %d, want 6 and no leftover:\n%s", code, out)
	}

	// down: nothing of evolve is left, the bystander is untouched.
	code, out, _ = inContainer(t, c, "netgen down evolve 2>&1")
	if code != 0 {
		t.Fatalf("netgen down evolve: exit %d\n%s", code, out)
	}
	code, out, _ = inContainer(t, c, "netgen status /root/labs/v2.yml --json")
	var st struct {
		OK      bool
		Counts  map[string]int
		Objects []struct{ Kind, Name, State string }
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("netgen status --json after down: %v\n%s", err, out)
	}
	if code != 6 || st.OK || st.Counts["ok"] != 0 || st.Counts["leftover"] != 0 || st.Counts["missing"] != len(st.Objects) {
		t.Errorf("netgen status after down: exit %d, counts %v, want 6 and every object missing, no leftover:\n%s", code, st.Counts, out)
	}
	// The bystander is lab "evolve-by": under the old names its files and
	// units started with evolve's prefix.
	left, _, _ := c.Exec("sh", "-c", `ls /etc/systemd/network /etc/systemd/system /etc/systemd/system/*.wants | grep evolve | grep -v evolve-by; ls /run/netns; ip -o link show | grep -E 'evbr|evh0|evh1|evp'; systemctl list-units --all --plain --no-legend 'netgen-evolve_*' 'netgen-evolve.target' | grep -v 'not-found'`)
	for _, l := range strings.Split(strings.TrimSpace(left), "\n") {
		if l != "" && !strings.HasPrefix(l, "by") {
			t.Errorf("left after down: %s", l)
		}
	}
	if code, out, _ := inContainer(t, c, "netgen down evolve 2>&1"); code != 0 || !strings.Contains(out, "not installed") {
		t.Errorf("a second netgen down evolve: exit %d, want 0 and \"not installed\"\n%s", code, out)
	}
	if after := snapshot(t, c, labs["bystander"]); after != bystander {
		t.Errorf("the bystander lab changed:\n--- before\n%s--- after\n%s", bystander, after)
	}
	check("bystander after evolve went down", labs["bystander"])

	// A unit that fails to start: named, with the command to read why.
	code, out, _ = inContainer(t, c, "netgen build /root/labs/failing.yml 2>&1")
	if code != 4 || !strings.Contains(out, "netgen-failing_ns-fx.service") || !strings.Contains(out, "journalctl -u netgen-failing_ns-fx.service") {
		t.Errorf("a lab whose unit fails: exit %d, want 4 and the unit with its journalctl command:\n%s", code, out)
	}
	inContainer(t, c, "netgen down failing")

	// No D-Bus: the files are written, the message says what to do, exit 4.
	c.Exec("systemctl", "stop", "dbus.socket", "dbus.service")
	code, out, _ = inContainer(t, c, "netgen build /root/labs/v1.yml 2>&1")
	c.Exec("systemctl", "start", "dbus.socket", "dbus.service")
	if code != 4 || !strings.Contains(out, "D-Bus") {
		t.Errorf("build without D-Bus: exit %d, want 4 and a message about D-Bus:\n%s", code, out)
	}
	if o, _, err := c.Exec("test", "-e", "/etc/systemd/network/50-netgen-evolve_bridge-evbr.netdev"); err != nil {
		t.Errorf("build without D-Bus did not write the files: %v %s", err, o)
	}
}

// TestApplyInterrupted kills `netgen build` at every step of a live
// apply (NETGEN_KILL_AT, internal/killpoint: SIGKILL, no cleanup, as a
// kill or a power loss would leave it) and checks that the next, clean
// run brings the system to exactly the new lab: links, addresses, STP of
// the re-created bridge, units active, reachability, nothing pending, no
// temporary file left, and `--check` finding nothing to do. Each round
// starts from lab v1 applied and goes to v2 (a bridge re-created, a
// namespace removed and one added, addresses and MTUs changed). Each round
// takes about 30 s, so by default the test kills at six steps spread over
// the whole apply (the first, the last and four between: writes, renames,
// reloads, device re-creation, unit restarts); NETGEN_KILL_STEPS=all runs
// every step and NETGEN_KILL_STEPS=3,15 only those.
func TestApplyInterrupted(t *testing.T) {
	testbed.RequireBoot(t)
	img := testbed.EnsureImage(t)
	root := img.Copy(t)
	bin := filepath.Join(root, "usr/local/bin/netgen")
	build := exec.Command("go", "build", "-o", bin, "../cmd/netgen")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	labDir := filepath.Join(root, "root/labs")
	if err := os.MkdirAll(labDir, 0o755); err != nil {
		t.Fatal(err)
	}
	labs := map[string]bootLab{}
	for _, name := range []string{"v1", "v2"} {
		path := filepath.Join("testdata/apply", name+".yml")
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(labDir, name+".yml"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		labs[name] = loadLab(t, path)
	}
	c := testbed.BootNspawn(t, root)
	mustBuild := func(stage, lab string) string {
		t.Helper()
		code, out, stderr := inContainer(t, c, "netgen build /root/labs/"+lab+".yml 2>&1")
		if code != 0 {
			t.Fatalf("%s: netgen build %s: exit %d\n%s%s", stage, lab, code, out, stderr)
		}
		return out
	}

	mustBuild("setup", "v1")
	// How many steps v1 → v2 has: a traced run, undone again.
	code, out, _ := inContainer(t, c, "NETGEN_KILL_AT=trace netgen build /root/labs/v2.yml 2>&1")
	if code != 0 {
		t.Fatalf("traced build of v2: exit %d\n%s", code, out)
	}
	steps := strings.Count(out, "netgen: step ")
	if steps < 10 {
		t.Fatalf("only %d steps traced:\n%s", steps, out)
	}
	t.Logf("v1 → v2 has %d steps:\n%s", steps, out)
	mustBuild("reset", "v1")

	leftovers := `ls -a /etc/systemd/network /etc/systemd/system /etc/systemd/system/*.wants | grep -E '\.netgen-([0-9]+|link)$|\.pending$'`
	for _, k := range killSteps(steps, os.Getenv("NETGEN_KILL_STEPS")) {
		stage := fmt.Sprintf("killed at step %d of %d", k, steps)
		code, out, _ := inContainer(t, c, fmt.Sprintf("NETGEN_KILL_AT=%d netgen build /root/labs/v2.yml 2>&1", k))
		if code != 137 {
			t.Fatalf("%s: exit %d, want 137 (SIGKILL)\n%s", stage, code, out)
		}
		mustBuild(stage, "v2")
		rep := runCollector(t, c, []bootLab{labs["v2"]})
		var problems []string
		for _, p := range judge("apply "+stage, []bootLab{labs["v2"]}, rep) {
			// Warnings of earlier rounds stay in the boot's journal.
			if !strings.Contains(p, "journal warning") {
				problems = append(problems, p)
			}
		}
		failWith(t, problems, rep)
		if left, _, _ := c.Exec("sh", "-c", leftovers); strings.TrimSpace(left) != "" {
			t.Errorf("%s: left after the clean run:\n%s", stage, left)
		}
		if code, out, _ := inContainer(t, c, "netgen build /root/labs/v2.yml --check"); code != 0 {
			t.Errorf("%s: --check after the clean run: exit %d, want 0:\n%s", stage, code, out)
		}
		if t.Failed() {
			t.FailNow()
		}
		mustBuild(stage+": back to v1", "v1")
	}
}

// killSteps is which of steps 1..n TestApplyInterrupted kills at, by
// NETGEN_KILL_STEPS: "all", a list, or (empty) six spread evenly.
func killSteps(n int, env string) []int {
	var ks []int
	for k := 1; k <= n; k++ {
		switch {
		case env == "all":
		case env != "":
			if !slices.Contains(strings.Split(env, ","), strconv.Itoa(k)) {
				continue
			}
		case k != n && (k-1)%((n+4)/5) != 0:
			continue
		}
		ks = append(ks, k)
	}
	return ks
}
