package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/testkit/testbed"
)

// kernelObjectChecks is the QEMU tier's script part for lab bonds: the
// LACP partner, and a member going down. Live changes of bonds, VRFs and
// port settings have a boot of their own (TestKernelObjectsLive).
func kernelObjectChecks() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	sec := func(name string) { w("echo '%s%s'", marker, name) }
	// LACP: both ends aggregate both cables once the partners have
	// exchanged LACPDUs (every second with lacp-rate fast).
	sec("bond-lacp")
	w("for i in $(seq 60); do ip netns exec r1 grep -q 'Number of ports: 2' /proc/net/bonding/bond0 && break; sleep 0.5; done")
	w("ip netns exec r1 cat /proc/net/bonding/bond0")
	// One member down: the bond keeps the link.
	sec("bond-failover")
	w("ip -n r1 link set dev eth1 down && sleep 2")
	w("ip netns exec r2 ping -c 5 -i 0.2 -W 1 10.0.9.1 >/dev/null; echo \"ping=$?\"")
	w("ip netns exec r1 cat /proc/net/bonding/bond0 | grep -c 'MII Status: up'")
	w("ip -n r1 link set dev eth1 up")
	return b.String()
}

// judgeKernelObjects checks what kernelObjectChecks printed.
func judgeKernelObjects(t *testing.T, tier string, rep report) {
	t.Helper()
	lacp := rep["bond-lacp"]
	if !strings.Contains(lacp, "Number of ports: 2") {
		t.Errorf("%s: r1's 802.3ad bond aggregates fewer than 2 ports:\n%s", tier, lacp)
	}
	partner := regexp.MustCompile(`Partner Mac Address: ([0-9a-f:]{17})`).FindAllStringSubmatch(lacp, -1)
	if len(partner) == 0 {
		t.Errorf("%s: no LACP partner in /proc/net/bonding/bond0:\n%s", tier, lacp)
	}
	for _, m := range partner {
		if m[1] == "00:00:00:00:00:00" {
			t.Errorf("%s: r1's bond found no LACP partner (partner MAC %s):\n%s", tier, m[1], lacp)
			break
		}
	}
	if out := rep["bond-failover"]; !strings.Contains(out, "ping=0") {
		t.Errorf("%s: r2 lost r1 with one bond member down:\n%s", tier, out)
	}
}

// stpState prints the STP state of s2's two ports to the other bridges of
// lab ports (3 forwarding, 4 blocking) once they are settled: at most 30 s.
const stpState = `for i in $(seq 120); do a=$(ip netns exec pt-s2 cat /sys/class/net/to-s1/brport/state); b=$(ip netns exec pt-s2 cat /sys/class/net/to-s3/brport/state); [ "$a" = "$1" ] && [ "$b" = 3 ] && break; sleep 0.25; done; echo "to-s1=$a to-s3=$b"`

// checkSTPCost shows a port cost deciding which port STP blocks in lab
// ports' triangle: with cost 100 on s2's port to the root s1, s2 reaches
// s1 through s3 and blocks its direct port; `netgen build` without the
// cost (veth default 2) makes the direct port forward. The lab is put back
// as it was.
func checkSTPCost(t *testing.T, tier string, c interface {
	Exec(...string) (string, string, error)
}) {
	t.Helper()
	run := func(script string) string {
		out, stderr, err := c.Exec("sh", "-c", script)
		if err != nil {
			t.Errorf("%s: %s: %v\n%s%s", tier, script, err, out, stderr)
		}
		return out
	}
	if out := run("set -- 4; " + stpState); !strings.Contains(out, "to-s1=4 to-s3=3") {
		t.Errorf("%s: lab ports: with cost 100 on pt-s2:to-s1, want it blocking (4) and to-s3 forwarding (3): %s", tier, out)
	}
	run("cp /root/labs/ports.yml /root/ports.orig && sed -i 's/, port: {cost: 100}//' /root/labs/ports.yml && netgen build /root/labs/ports.yml >/dev/null")
	if out := run("set -- 3; " + stpState); !strings.Contains(out, "to-s1=3 to-s3=3") {
		t.Errorf("%s: lab ports: without the cost, want pt-s2:to-s1 forwarding (3): %s", tier, out)
	}
	run("cp /root/ports.orig /root/labs/ports.yml && netgen build /root/labs/ports.yml >/dev/null")
	if out := run("set -- 4; " + stpState); !strings.Contains(out, "to-s1=4 to-s3=3") {
		t.Errorf("%s: lab ports: cost 100 back, want pt-s2:to-s1 blocking again: %s", tier, out)
	}
}

// brokenByHand breaks, at the end of the QEMU check, one object of each
// kind `netgen status` reads with its own dump (this host's kernel has
// none of them): a bond member released and the bond's MII monitor
// changed, a VRF member released, a wire's redirect deleted, two netems
// changed. Each lab's status must then name them, exit 6.
func brokenByHand() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("ip -n r1 link set dev eth2 nomaster; ip -n r2 link set dev bond0 type bond miimon 200")
	w("ip -n pe link set dev lo-blue nomaster")
	w("tc -n lab filter del dev p1 ingress; tc -n lab qdisc change dev p2 root netem delay 20ms")
	w("tc -n l1 qdisc change dev eth0 root netem loss 5%%")
	for _, lab := range []string{"bonds", "vrfs", "wires", "impair"} {
		w("echo '%sbroken-%s'", marker, lab)
		w("netgen status /root/labs/%s.yml; echo \"rc=$?\"", lab)
	}
	return b.String()
}

// judgeBroken checks that status named what brokenByHand broke.
func judgeBroken(t *testing.T, tier string, rep report) {
	t.Helper()
	// The table pads the object column to the lab's longest name.
	for _, c := range []struct{ lab, want string }{
		{"bonds", `rc=6`},
		{"bonds", `link r1:bond0 +(.*; )?members eth1, want eth1 eth2`},
		{"bonds", `link r1:eth2 +master none, want bond0`},
		{"bonds", `link r2:bond0 +MII monitor \(ms\) 200, want 100`},
		{"vrfs", `rc=6`},
		{"vrfs", `link pe:blue +members b1 b2, want b1 b2 lo-blue`},
		{"vrfs", `link pe:lo-blue +master none, want blue`},
		{"wires", `rc=6`},
		{"wires", `wire lab:p1 <-> lab:p2 +redirect of p1 none, want p2`},
		{"wires", `qdisc lab:p2 +delay 20ms, want 10ms`},
		{"impair", `rc=6`},
		{"impair", `qdisc l1:eth0 +loss 5%, want 20%`},
	} {
		if out := rep["broken-"+c.lab]; !regexp.MustCompile(c.want).MatchString(out) {
			t.Errorf("%s: netgen status %s after breaking it by hand: no %q in:\n%s", tier, c.lab, c.want, out)
		}
	}
}

// TestKernelObjectsLive boots lab kolive (e2e/testdata/kolive) v1 under
// QEMU, then applies v2 and v3 with `netgen build` in the running system.
// v2 changes what needs no host device re-created: the members of host
// bonds (networkd's reload), a namespace bond's mode and members (its link
// unit), a namespace VRF's table (its namespace's unit), bridge port cost,
// priority and isolation on a host tap (networkd) and on a namespace
// bridge's ports (their link units). v3 changes a host bond's mode and a
// host VRF's table, which networkd 252 applies only to a new device. After
// each build it checks the kernel state, that every link not expected to
// be re-created keeps its ifindex in the same namespace, and that pings
// running throughout in namespaces the change does not concern lose
// nothing; at the end, that `netgen down` leaves no bond, dummy, VRF or
// namespace of the lab.
func TestKernelObjectsLive(t *testing.T) {
	testbed.RequireBoot(t)
	img := testbed.EnsureImage(t)
	var labs []bootLab
	for _, v := range []string{"v1", "v2", "v3"} {
		labs = append(labs, loadLab(t, "testdata/kolive/"+v+".yml"))
	}
	root := img.Copy(t)
	installLabs(t, netgenBinary(t), root, labs[:1])
	installNetgen(t, root, labs)
	// Under TCG on a busy host, loading the bonding module when networkd
	// asks for the first bond took longer than networkd's netlink timeout
	// ("hbond0: netdev could not be created: Connection timed out", the
	// device appearing later with no members): load the modules first.
	if err := os.MkdirAll(filepath.Join(root, "etc/modules-load.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/modules-load.d/netgen-e2e.conf"), []byte("bonding\ndummy\nvrf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	boots := testbed.RunQEMUOpts(t, root, koliveScript(labs), testbed.QEMUOptions{Timeout: 10 * time.Minute})
	var reps []report
	for i, part := range strings.Split(boots[0].Output, marker+"phase\n") {
		rep := parseReport(part)
		reps = append(reps, rep)
		if i >= len(labs) {
			break
		}
		var problems []string
		for _, p := range judge("kolive "+labs[i].Name, labs[i:i+1], rep) {
			// The boot's warnings stay in the journal; v1 was judged on them.
			if i == 0 || !strings.Contains(p, "journal warning") {
				problems = append(problems, p)
			}
		}
		failWith(t, problems, rep)
		if !strings.Contains(rep["status"], "rc=0") {
			t.Errorf("kolive %s: netgen status: %s", labs[i].Name, rep["status"])
		}
	}
	if len(reps) != len(labs)+1 {
		t.Fatalf("the check did not get through v3 and down:\n%s", boots[0].Output)
	}
	judgeKoliveV2(t, reps[1])
	judgeKoliveV3(t, reps[2])
	if !strings.Contains(reps[3]["down"], "down=0") {
		t.Errorf("netgen down kolive: %s", reps[3]["down"])
	}
	if left := strings.TrimSpace(reps[3]["left"]); left != "" {
		t.Errorf("left after netgen down kolive:\n%s", left)
	}
}

// kolivePings run in the background while a build applies a version.
var kolivePings = []struct{ name, ns, to string }{
	{"bystander", "kby1", "10.73.0.2"},
	{"red", "kc2", "10.71.0.2"},      // in kpe, beside VRF blue
	{"hostbond", "khb", "10.74.0.1"}, // through hbr, hbond1, hb1a-hb0a, hbond0
}

// koliveScript is TestKernelObjectsLive's check, in parts separated by a
// "phase" marker: v1's collector, status and ifindexes; then for v2 and
// v3 each: the build with pings running, the kernel state, the collector,
// status and ifindexes; last `netgen down` and what is left.
func koliveScript(labs []bootLab) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	sec := func(name string) { w("echo '%s%s'", marker, name) }
	var nss []string
	for _, u := range labs[0].Res.Plan.Units {
		if u.Kind == generator.NamespaceUnit {
			nss = append(nss, u.Namespaces[0])
		}
	}
	// Every link of the host and of each namespace: "NS NAME IFINDEX@MARK".
	// A namespace made anew numbers its links from 1 again and may even get
	// the same inode, so each is marked before a build (net.core.somaxconn,
	// which the lab leaves alone, set to 4097): one made anew has the
	// default again.
	w("mark() { for ns in %s; do ip netns exec $ns sh -c 'echo 4097 >/proc/sys/net/core/somaxconn'; done; }", strings.Join(nss, " "))
	w("ifindexes() {")
	w("  ip -o link show | awk '{sub(/@.*/, \"\", $2); sub(/:$/, \"\", $2); print \"-\", $2, ($1+0) \"@-\"}'")
	w("  for ns in %s; do m=$(ip netns exec $ns cat /proc/sys/net/core/somaxconn); ip -n $ns -o link show | awk -v ns=$ns -v m=$m '{sub(/@.*/, \"\", $2); sub(/:$/, \"\", $2); print ns, $2, ($1+0) \"@\" m}'; done", strings.Join(nss, " "))
	w("}")
	for i, lab := range labs {
		if i > 0 {
			w("mark")
			sec("ifindex-before")
			w("ifindexes")
			for _, p := range kolivePings {
				w("ip netns exec %s ping -n -i 0.2 %s >/run/ping-%s 2>&1 & echo $! >/run/ping-%s.pid", p.ns, p.to, p.name, p.name)
			}
			w("sleep 2")
			sec("build")
			w("netgen build /root/labs/%s.yml 2>&1; echo \"build=$?\"", lab.Name)
			w("sleep 2")
			for _, p := range kolivePings {
				w("kill -INT $(cat /run/ping-%s.pid); sleep 0.5", p.name)
				sec("ping " + p.name)
				w("grep -E 'transmitted|From' /run/ping-%s", p.name)
			}
			sec("bonds")
			w("for b in hbond0 hbond1 hbond2; do echo \"== $b\"; grep -E '^(Bonding Mode|Slave Interface)' /proc/net/bonding/$b | sort; done")
			w("for ns in kr1 kr2; do echo \"== $ns:bond0\"; ip netns exec $ns grep -E '^(Bonding Mode|Slave Interface)' /proc/net/bonding/bond0 | sort; done")
			w("for l in hb0b hb1b; do echo \"master of $l: $(ip -o link show dev $l | grep -o 'master [a-z0-9]*' || echo none)\"; done")
			w("for ns in kr1 kr2; do echo \"master of $ns:eth2: $(ip -n $ns -o link show dev eth2 | grep -o 'master [a-z0-9]*' || echo none)\"; done")
			w("ip -d link show dev hbond2 | grep -o 'bond mode [a-z-]*'")
			sec("vrfs")
			w("ip vrf show; ip -n kpe vrf show")
			for _, tb := range []string{"300", "301"} {
				w("echo \"== host table %s\"; ip route show table %s 2>/dev/null", tb, tb)
			}
			for _, tb := range []string{"100", "101"} {
				w("echo \"== kpe table %s\"; ip -n kpe route show table %s 2>/dev/null", tb, tb)
			}
			sec("ports")
			w("bridge -d link show dev ktap0")
			w("bridge -n ksw -d link show")
		}
		b.WriteString(collector(labs[i : i+1]))
		sec("status")
		w("netgen status /root/labs/%s.yml; echo \"rc=$?\"", lab.Name)
		if i > 0 {
			sec("ifindex")
			w("ifindexes")
		}
		b.WriteString("echo '" + marker + "phase'\n")
	}
	sec("down")
	w("netgen down kolive 2>&1; echo \"down=$?\"")
	sec("left")
	w("ip -o link show | grep -E ': (hb[0-9]|hbond|hvrf|hlo|hbr|ktap)'")
	w("ls /run/netns")
	w("ls /etc/systemd/network /etc/systemd/system | grep kolive")
	w("systemctl list-units --all --plain --no-legend 'netgen-kolive*' | grep -v not-found")
	w("true")
	return b.String()
}

// koliveChanges checks one live build: the build succeeded; the links it
// re-created (ifindex or namespace changed) are exactly want; the pings in
// lossless lost nothing.
func koliveChanges(t *testing.T, stage string, rep report, want []string, lossless ...string) {
	t.Helper()
	if !strings.Contains(rep["build"], "build=0") {
		t.Fatalf("%s: netgen build: %s", stage, rep["build"])
	}
	t.Logf("%s: netgen build:\n%s", stage, rep["build"])
	idx := func(s string) map[string]string {
		m := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if f := strings.Fields(l); len(f) == 3 {
				m[f[0]+" "+f[1]] = f[2]
			}
		}
		return m
	}
	old, cur := idx(rep["ifindex-before"]), idx(rep["ifindex"])
	if len(old) < 40 || !strings.Contains(rep["ifindex-before"], "kpe lo 1@4097") {
		t.Errorf("%s: %d links before, or not marked:\n%s", stage, len(old), rep["ifindex-before"])
	}
	var changed []string
	for k, v := range old {
		if nv, ok := cur[k]; ok && nv != v {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	slices.Sort(want)
	if !slices.Equal(changed, want) {
		t.Errorf("%s: re-created\n  %s\nwant\n  %s", stage, strings.Join(changed, ", "), strings.Join(want, ", "))
	}
	for _, p := range kolivePings {
		out := strings.TrimSpace(rep["ping "+p.name])
		t.Logf("%s: ping %s (%s → %s) during the build: %s", stage, p.name, p.ns, p.to, out)
		if slices.Contains(lossless, p.name) && !strings.Contains(out, " 0% packet loss") {
			t.Errorf("%s: ping %s lost packets during the build: %s", stage, p.name, out)
		}
	}
}

// koliveNSRecreated are the links of namespace kpe and the cables into
// it: VRF blue is made by kpe's unit, whose restart makes the namespace anew.
var koliveNSRecreated = []string{"kpe lo", "kpe blue", "kpe red", "kpe lo-blue", "kpe b1", "kpe r1", "kc1 eth0", "kc2 eth0"}

// judgeKoliveV2 checks v1 → v2: host bond members changed by networkd's
// reload alone, the namespace bonds and ports by their link units, VRF
// blue by its namespace's unit.
func judgeKoliveV2(t *testing.T, v2 report) {
	t.Helper()
	want := append([]string{
		"kr1 bond0", "kr1 eth1", "kr1 eth2", "kr1 eth3", "kr2 bond0", "kr2 eth1", "kr2 eth2", "kr2 eth3",
		"ksw p1", "ksw p2", "kh1 eth0", "kh2 eth0",
	}, koliveNSRecreated...)
	koliveChanges(t, "v1 → v2", v2, want, "bystander")
	if out := v2["build"]; strings.Contains(out, "re-creat") || strings.Contains(out, "restart systemd-networkd") {
		t.Errorf("v1 → v2: networkd restarted or a host device re-created:\n%s", out)
	}
	for _, c := range []struct{ sec, want string }{
		{"bonds", "== hbond0\nBonding Mode: fault-tolerance (active-backup)\nSlave Interface: hb0a\nSlave Interface: hb0c\n"},
		{"bonds", "== hbond1\nBonding Mode: fault-tolerance (active-backup)\nSlave Interface: hb1a\nSlave Interface: hb1c\n"},
		{"bonds", "== hbond2\nBonding Mode: fault-tolerance (active-backup)\nSlave Interface: hb2a\n"},
		{"bonds", "== kr1:bond0\nBonding Mode: fault-tolerance (active-backup)\nSlave Interface: eth1\nSlave Interface: eth3\n"},
		{"bonds", "== kr2:bond0\nBonding Mode: fault-tolerance (active-backup)\nSlave Interface: eth1\nSlave Interface: eth3\n"},
		{"bonds", "master of hb0b: none"}, {"bonds", "master of hb1b: none"},
		{"bonds", "master of kr1:eth2: none"}, {"bonds", "master of kr2:eth2: none"},
		{"vrfs", "== kpe table 100\n== kpe table 101\n10.71.0.0/24 dev b1"},
		{"vrfs", "local 10.255.72.1 dev lo-blue"},
	} {
		if !strings.Contains(v2[c.sec], c.want) {
			t.Errorf("v2: %s: no %q in:\n%s", c.sec, c.want, v2[c.sec])
		}
	}
	for _, re := range []string{`\bhvrf\s+300\b`, `\bblue\s+101\b`, `\bred\s+200\b`} {
		if !regexp.MustCompile(re).MatchString(v2["vrfs"]) {
			t.Errorf("v2: ip vrf show: no %s in:\n%s", re, v2["vrfs"])
		}
	}
	ports := v2["ports"]
	for _, re := range []string{
		`ktap0[^\n]*master hbr[^\n]*priority 24 cost 70\s+[^\n]*isolated on`,
		`p1[^\n]*master kbr[^\n]*priority 40 cost 30\s+[^\n]*isolated on`,
		`p2[^\n]*master kbr[^\n]*priority 32 cost 2\s+[^\n]*isolated on`,
	} {
		if !regexp.MustCompile(re).MatchString(ports) {
			t.Errorf("v2: bridge ports: no %s in:\n%s", re, ports)
		}
	}
}

// judgeKoliveV3 checks v2 → v3: networkd re-creates hbond2 and hvrf, and
// nothing else.
func judgeKoliveV3(t *testing.T, v3 report) {
	t.Helper()
	koliveChanges(t, "v2 → v3", v3, []string{"- hbond2", "- hvrf"}, "bystander", "red")
	for _, c := range []struct{ sec, want string }{
		{"bonds", "== hbond0\nBonding Mode: fault-tolerance (active-backup)\nSlave Interface: hb0a\nSlave Interface: hb0c\n"},
		{"bonds", "== hbond2\nBonding Mode: load balancing (round-robin)\nSlave Interface: hb2a\n"},
		{"bonds", "bond mode balance-rr"},
		{"vrfs", "== host table 300\n== host table 301\nlocal 10.255.74.1 dev hlo"},
	} {
		if !strings.Contains(v3[c.sec], c.want) {
			t.Errorf("v3: %s: no %q in:\n%s", c.sec, c.want, v3[c.sec])
		}
	}
	if !regexp.MustCompile(`\bhvrf\s+301\b`).MatchString(v3["vrfs"]) {
		t.Errorf("v3: ip vrf show: no hvrf with table 301:\n%s", v3["vrfs"])
	}
}
