package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// kernelObjectChecks is the QEMU tier's script part for bonds and VRFs
// (labs bonds and vrfs): the LACP partner and a member going down, then
// live changes applied by `netgen build` (a namespace bond's LACP rate, the
// host bonds' mode, a VRF's table), each undone the same way, so that the
// next boot finds the labs as installed.
func kernelObjectChecks() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	sec := func(name string) { w("echo '%s%s'", marker, name) }
	started := func(unit string) string {
		return "systemctl show -p ActiveEnterTimestampMonotonic --value " + unit
	}
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
	// Live: the LACP rate of the namespace bonds, the mode of the host
	// bonds; h1's unit must not restart.
	sec("live-bonds")
	w("cp /root/labs/bonds.yml /root/bonds.orig")
	w("h1=$(%s)", started("netgen-bonds_ns-h1.service"))
	w("sed -i 's/lacp-rate: fast/lacp-rate: slow/; s/mode: active-backup/mode: balance-xor/g' /root/labs/bonds.yml")
	w("netgen build /root/labs/bonds.yml >/dev/null; echo \"build=$?\"")
	w("ip netns exec r1 grep 'LACP rate' /proc/net/bonding/bond0 | head -1")
	w("echo \"hbond0=$(cut -d' ' -f1 /sys/class/net/hbond0/bonding/mode) hbond1=$(cut -d' ' -f1 /sys/class/net/hbond1/bonding/mode)\"")
	w("[ \"$h1\" = \"$(%s)\" ] && echo h1-untouched", started("netgen-bonds_ns-h1.service"))
	w("for i in $(seq 30); do ip netns exec h1 ping -c 1 -W 1 10.0.20.1 >/dev/null && break; done; echo \"h1-ping=$?\"")
	w("cp /root/bonds.orig /root/labs/bonds.yml && netgen build /root/labs/bonds.yml >/dev/null; echo \"restore=$?\"")
	// Live: blue's table 100 becomes 101, its routes follow; cr1's unit
	// must not restart.
	sec("live-vrfs")
	w("cp /root/labs/vrfs.yml /root/vrfs.orig")
	w("cr1=$(%s)", started("netgen-vrfs_ns-cr1.service"))
	w("sed -i 's/table: 100/table: 101/' /root/labs/vrfs.yml")
	w("netgen build /root/labs/vrfs.yml >/dev/null; echo \"build=$?\"")
	w("ip -n pe -d link show dev blue | grep -o 'vrf table [0-9]*'")
	w("ip -n pe route show table 101 | grep -o '^10.60.0.0/24 via 10.2.0.11'")
	w("for i in $(seq 30); do ip netns exec cb1 ping -c 1 -W 1 10.60.0.1 >/dev/null && break; done; echo \"cb1-ping=$?\"")
	w("[ \"$cr1\" = \"$(%s)\" ] && echo cr1-untouched", started("netgen-vrfs_ns-cr1.service"))
	w("cp /root/vrfs.orig /root/labs/vrfs.yml && netgen build /root/labs/vrfs.yml >/dev/null; echo \"restore=$?\"")
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
	for _, c := range []struct{ sec, want string }{
		{"live-bonds", "build=0"}, {"live-bonds", "LACP rate: slow"}, {"live-bonds", "hbond0=balance-xor hbond1=balance-xor"},
		{"live-bonds", "h1-untouched"}, {"live-bonds", "h1-ping=0"}, {"live-bonds", "restore=0"},
		{"live-vrfs", "build=0"}, {"live-vrfs", "vrf table 101"}, {"live-vrfs", "10.60.0.0/24 via 10.2.0.11"},
		{"live-vrfs", "cb1-ping=0"}, {"live-vrfs", "cr1-untouched"}, {"live-vrfs", "restore=0"},
	} {
		if out := rep[c.sec]; !strings.Contains(out, c.want) {
			t.Errorf("%s: %s: no %q in:\n%s", tier, c.sec, c.want, out)
		}
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
