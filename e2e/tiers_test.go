package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/testkit/testbed"
)

// failWith reports every problem, and the raw report once when there are any.
func failWith(t *testing.T, problems []string, rep report) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		var b strings.Builder
		for _, k := range sortedKeys(rep) {
			if strings.HasPrefix(k, "link ") || strings.HasPrefix(k, "addr ") {
				continue
			}
			b.WriteString(marker + k + "\n" + rep[k])
		}
		t.Logf("collector report (links and addresses left out):\n%s", b.String())
	}
}

// runCollector runs the collector inside a booted container.
func runCollector(t *testing.T, c *testbed.Container, labs []bootLab) report {
	t.Helper()
	path := "/run/netgen-e2e-collector.sh"
	if err := os.WriteFile(filepath.Join("/proc", strconv.Itoa(c.PID), "root", path), []byte(collector(labs)), 0o755); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := c.Exec("sh", path)
	if err != nil {
		t.Fatalf("collector: %v\n%s", err, stderr)
	}
	return parseReport(out)
}

// waitJobs waits until systemd in the container has no job left.
func waitJobs(t *testing.T, c *testbed.Container) {
	t.Helper()
	script := "for i in $(seq 300); do [ -z \"$(systemctl list-jobs --no-legend)\" ] && exit 0; sleep 0.1; done; systemctl list-jobs; exit 1"
	if out, _, err := c.Exec("sh", "-c", script); err != nil {
		t.Fatalf("jobs still running after 30 s:\n%s", out)
	}
}

// TestBootNspawn installs every lab this kernel can run into one copy of
// the Debian image with `netgen build --root`, boots it with systemd as PID
// 1 under systemd-nspawn, and checks every lab from inside: units active,
// namespaces present, every link as the plan says, the reachability
// matrices, and no warning in the journal. Then it restarts a namespace's
// unit (its links come back and rejoin their bridges, the rest keeps
// working) and stops one (its namespace and links are gone).
func TestBootNspawn(t *testing.T) {
	testbed.RequireBoot(t)
	img := testbed.EnsureImage(t)
	labs := bootLabs(t, func(p *generator.Plan) bool { return !needsVLANKernel(p) })
	root := img.Copy(t)
	installLabs(t, netgenBinary(t), root, labs)
	installNetgen(t, root, labs)
	gen := prepareGenmode(t, root)
	// A catch-all .network, as distributions and cloud images ship, must
	// grab none of the lab's links: it would give each one this address,
	// which the link checks would see.
	catchAll := "[Match]\nName=*\n\n[Network]\nAddress=198.51.100.99/32\nLinkLocalAddressing=ipv6\n"
	if err := os.WriteFile(filepath.Join(root, "etc/systemd/network/99-catchall.network"), []byte(catchAll), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testbed.BootNspawn(t, root)

	// The generator's lab is judged with the others: no command was run
	// for it.
	booted := append(labs[:len(labs):len(labs)], gen)
	rep := runCollector(t, c, booted)
	failWith(t, judge("nspawn boot", booted, rep), rep)
	if t.Failed() {
		return
	}
	// netgen status and netgen test inside the booted system: every lab as
	// the lab says, every ping it implies as it implies.
	for _, lab := range labs {
		if code, out, stderr := inContainer(t, c, "netgen status /root/labs/"+lab.Name+".yml"); code != 0 || !strings.Contains(out, "as the lab says (") {
			t.Errorf("nspawn: netgen status %s: exit %d, want 0\n%s%s", lab.Name, code, out, stderr)
		}
		if code, out, stderr := inContainer(t, c, "netgen test /root/labs/"+lab.Name+".yml"); code != 0 || !strings.Contains(out, "checks passed") {
			t.Errorf("nspawn: netgen test %s: exit %d, want 0\n%s%s", lab.Name, code, out, stderr)
		}
	}
	checkGenmode(t, c, gen)

	checkServices(t, c, root)
	checkMasquerade(t, c)

	checkSTPCost(t, "nspawn", c)

	byName := map[string]bootLab{}
	for _, l := range labs {
		byName[l.Name] = l
	}
	// A namespace unit with link units (netns3 holds brx) and one whose
	// veths end on a host bridge (guest1, on virbr14).
	for _, u := range []struct{ lab, unit string }{
		{"classic", "netgen-fun_ns-netns3.service"},
		{"host-veth", "netgen-hostveth_ns-guest1.service"},
	} {
		// guest1 comes back with the MACs it had (its host end g1port's
		// too), so guest2, which has just reached it (a REACHABLE
		// neighbour entry), reaches it again at once: with random MACs it
		// sent to the old one for up to ~40 s (docs/design.md, "Stable MACs").
		const (
			macs     = "ip -br link show dev g1port; ip -n guest1 -br link show dev eth0"
			neighbor = "ip netns exec guest2 ping -c 1 -W 2 192.168.35.12"
		)
		var before string
		if u.lab == "host-veth" {
			if code, out, _ := inContainer(t, c, neighbor); code != 0 {
				t.Errorf("nspawn: guest2 cannot ping guest1 before the restart:\n%s", out)
			}
			_, before, _ = inContainer(t, c, macs)
		}
		if _, stderr, err := c.Exec("systemctl", "restart", u.unit); err != nil {
			t.Fatalf("systemctl restart %s: %v\n%s", u.unit, err, stderr)
		}
		// The restart propagates to the link units (PartOf=) as jobs of
		// their own, which `systemctl restart` does not wait for.
		waitJobs(t, c)
		if u.lab == "host-veth" {
			if code, out, _ := inContainer(t, c, neighbor); code != 0 {
				_, neigh, _ := inContainer(t, c, "ip -n guest2 neigh show 192.168.35.12")
				t.Errorf("nspawn: guest2 cannot ping guest1 within 2 s of its restart (guest2's entry: %s):\n%s", neigh, out)
			}
			if _, after, _ := inContainer(t, c, macs); macFields(after) != macFields(before) || macFields(before) == "" {
				t.Errorf("nspawn: guest1's MACs changed with the restart of %s:\nbefore:\n%safter:\n%s", u.unit, before, after)
			}
		}
		rep := runCollector(t, c, []bootLab{byName[u.lab]})
		failWith(t, judge("nspawn after restart of "+u.unit, []bootLab{byName[u.lab]}, rep), rep)
	}

	// Stop guest1: its namespace and every link it owned disappear, host
	// side included, while the rest of its lab keeps working.
	unit := "netgen-hostveth_ns-guest1.service"
	if _, stderr, err := c.Exec("systemctl", "stop", unit); err != nil {
		t.Fatalf("systemctl stop %s: %v\n%s", unit, err, stderr)
	}
	lab := byName["host-veth"]
	if out, _, _ := c.Exec("ls", "/run/netns"); strings.Contains(out, "guest1") {
		t.Errorf("nspawn: lab host-veth: /run/netns/guest1 still exists after stopping %s", unit)
	}
	if out, _, err := c.Exec("ip", "link", "show", "g1port"); err == nil {
		t.Errorf("nspawn: lab host-veth: host end g1port still exists after stopping %s:\n%s", unit, out)
	}
	rest := lab
	rest.Reach = Reach{Ping: []Probe{{From: "host", To: "192.168.35.13"}}, NoPing: []Probe{{From: "host", To: "192.168.35.12"}}}
	rep = runCollector(t, c, []bootLab{rest})
	var problems []string
	for _, p := range judge("nspawn after stop of "+unit, []bootLab{rest}, rep) {
		// The stopped unit and its links are expected to be gone.
		if !strings.Contains(p, "guest1") && !strings.Contains(p, "g1port") && !strings.Contains(p, "netgen-hostveth.target") {
			problems = append(problems, p)
		}
	}
	failWith(t, problems, rep)

	// A stale /run/netns/guest1 (a plain file, as a crash between creating
	// and mounting it leaves) must not block the next start.
	if _, stderr, err := c.Exec("touch", "/run/netns/guest1"); err != nil {
		t.Fatalf("touch: %v %s", err, stderr)
	}
	if _, stderr, err := c.Exec("systemctl", "start", unit); err != nil {
		t.Fatalf("systemctl start %s over a stale /run/netns/guest1: %v\n%s", unit, err, stderr)
	}
	waitJobs(t, c)
	rep = runCollector(t, c, []bootLab{lab})
	failWith(t, judge("nspawn after start over a stale /run/netns/guest1", []bootLab{lab}, rep), rep)
}

// macFields is the MAC column of `ip -br link` lines (the name column
// carries the peer's ifindex, which a restart changes).
func macFields(brief string) string {
	var macs []string
	for _, line := range strings.Split(brief, "\n") {
		if f := strings.Fields(line); len(f) >= 3 {
			macs = append(macs, f[2])
		}
	}
	return strings.Join(macs, " ")
}

// TestBootQEMU boots the labs that need a full kernel (802.1Q
// sub-interfaces, VLAN-filtering bridges) under QEMU with Debian's kernel,
// twice: the second boot shows the lab comes back by itself.
func TestBootQEMU(t *testing.T) {
	testbed.RequireBoot(t)
	img := testbed.EnsureImage(t)
	labs := bootLabs(t, needsVLANKernel)
	if len(labs) == 0 {
		t.Fatal("no lab needs the QEMU tier: the VLAN examples are gone?")
	}
	root := img.Copy(t)
	installLabs(t, netgenBinary(t), root, labs)
	installNetgen(t, root, labs)
	prepareKmsg(t, root)
	installNetprobe(t, root)
	boots := testbed.RunQEMU(t, root, collector(labs)+qemuTests(t, labs)+impairScript(labs)+brokenByHand(), 2)
	for _, b := range boots {
		rep := parseReport(b.Output)
		failWith(t, judge("qemu boot "+strconv.Itoa(b.N), labs, rep), rep)
		judgeTests(t, "qemu boot "+strconv.Itoa(b.N), labs, rep)
		checkKmsg(t, "qemu boot "+strconv.Itoa(b.N), rep)
		judgeImpair(t, "qemu boot "+strconv.Itoa(b.N), rep)
		judgeKernelObjects(t, "qemu boot "+strconv.Itoa(b.N), rep)
		judgeBroken(t, "qemu boot "+strconv.Itoa(b.N), rep)
	}
}

// movedPort is the port whose VLAN the QEMU tier moves by hand: red2's
// access port on VLAN 10 of lab vlans goes to VLAN 20.
const movedPort = "sw-red2"

// qemuTests is the end of the QEMU check: `netgen status` and `netgen
// test` on every lab (port VLANs, VLAN ids and a router's sysctl are read
// only here: this host's kernel has none of them), then
// red2 moved by hand from VLAN 10 to VLAN 20 and lab vlans tested again.
func qemuTests(t *testing.T, labs []bootLab) string {
	t.Helper()
	var b strings.Builder
	found := false
	for _, lab := range labs {
		fmt.Fprintf(&b, "echo '%snetgen-status %s'\nnetgen status /root/labs/%s.yml; echo \"rc=$?\"\n", marker, lab.Name, lab.Name)
		fmt.Fprintf(&b, "echo '%snetgen-test %s'\nnetgen test /root/labs/%s.yml; echo \"rc=$?\"\n", marker, lab.Name, lab.Name)
		if lab.Name == "vlans" {
			found = true
		}
	}
	if !found {
		t.Fatal("the QEMU tier moves a port of lab vlans, which is gone")
	}
	fmt.Fprintf(&b, "bridge vlan del dev %[1]s vid 10 && bridge vlan add dev %[1]s vid 20 pvid untagged\n", movedPort)
	fmt.Fprintf(&b, "echo '%snetgen-test moved'\nnetgen test /root/labs/vlans.yml --timeout 5s; echo \"rc=$?\"\n", marker)
	b.WriteString(kernelObjectChecks())
	return b.String()
}

// judgeTests checks what qemuTests printed.
func judgeTests(t *testing.T, tier string, labs []bootLab, rep report) {
	t.Helper()
	for _, lab := range labs {
		if out := rep["netgen-status "+lab.Name]; !strings.Contains(out, "rc=0") || !strings.Contains(out, "as the lab says (") {
			t.Errorf("%s: netgen status %s: want exit 0:\n%s", tier, lab.Name, out)
		}
		out := rep["netgen-test "+lab.Name]
		if !strings.Contains(out, "rc=0") || !strings.Contains(out, "checks passed") {
			t.Errorf("%s: netgen test %s: want exit 0:\n%s", tier, lab.Name, out)
		}
	}
	// red2 (10.10.0.2) is now on VLAN 20: red1 and the router's VLAN 10
	// lose it, and blue1 reaches it only through the router, which has no
	// way to it either.
	out := rep["netgen-test moved"]
	for _, want := range []string{"rc=6", "FAIL red1 -> 10.10.0.2: must answer", "FAIL red2 -> 10.10.0.1: must answer", "FAIL router -> 10.10.0.2: must answer"} {
		if !strings.Contains(out, want) {
			t.Errorf("%s: netgen test vlans after moving %s to VLAN 20: no %q in:\n%s", tier, movedPort, want, out)
		}
	}
}
