package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgen-lab/netgen/internal/testkit/oracle"
	"github.com/netgen-lab/netgen/names"
	"github.com/netgen-lab/netgen/render"
)

// The QEMU tier's checks of netem and wires (lab impair, examples wan and
// wires): what the kernel does with the qdiscs and filters netgen sets,
// measured from inside the namespaces.

// installNetprobe builds internal/testkit/netprobe statically into the
// image: LLDP frames and timed TCP transfers (the image has no netcat).
func installNetprobe(t *testing.T, root string) {
	t.Helper()
	build := exec.Command("go", "build", "-o", filepath.Join(root, "usr/local/bin/netprobe"), "../internal/testkit/netprobe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build netprobe: %v\n%s", err, out)
	}
}

// impairScript measures lab impair once every lab is up: round-trip
// times, loss, a transfer's rate, LLDP across a wire and a bridge, an
// 802.3ad bond over two wires, and a delay changed live by `netgen build`.
func impairScript(labs []bootLab) string {
	found := false
	for _, l := range labs {
		found = found || l.Name == "impair"
	}
	if !found {
		return ""
	}
	sec := func(name string) string { return "echo '" + marker + name + "'\n" }
	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\n") }
	b.WriteString(sec("impair-rtt"))
	w("ip netns exec d1 ping -c 5 -i 0.2 -q 10.61.0.2 | tail -1")
	b.WriteString(sec("impair-rtt-plain"))
	w("ip netns exec d1 ping -c 5 -i 0.2 -q 10.61.1.2 | tail -1")
	b.WriteString(sec("impair-loss"))
	w("ip netns exec l1 ping -c 200 -i 0.01 -W 1 -q 10.62.0.2 | grep 'packet loss'")
	b.WriteString(sec("impair-loss-plain"))
	w("ip netns exec l1 ping -c 200 -i 0.01 -W 1 -q 10.62.1.2 | grep 'packet loss'")
	b.WriteString(sec("impair-rate"))
	w("ip netns exec l1 netprobe sink 10.62.1.1:5001 & p=$!")
	w("ip netns exec l2 netprobe send 10.62.1.1:5001 2000000; wait $p")
	b.WriteString(sec("impair-rate-plain"))
	w("ip netns exec l2 netprobe sink 10.62.1.2:5002 & p=$!")
	w("ip netns exec l1 netprobe send 10.62.1.2:5002 2000000; wait $p")
	b.WriteString(sec("impair-qdiscs"))
	w("tc -n d1 qdisc show dev eth0; tc -n l2 qdisc show dev eth1; tc qdisc show dev wanh; tc -n branch qdisc show dev wan0")
	b.WriteString(sec("wire-filters"))
	w("tc -n wire filter show dev a0 ingress; tc filter show dev vm1tap ingress; tc filter show dev vm2tap ingress")
	b.WriteString(sec("wire-lldp"))
	w("ip netns exec wb netprobe lldp-recv eth0 5 & p=$!; sleep 0.5; ip netns exec wa netprobe lldp-send eth0; wait $p; echo \"rc=$?\"")
	b.WriteString(sec("bridge-lldp"))
	w("ip netns exec brb netprobe lldp-recv eth0 3 & p=$!; sleep 0.5; ip netns exec bra netprobe lldp-send eth0; wait $p; echo \"rc=$?\"")
	// A bond in each of ba and bb over the two wires (by hand: bonds are
	// not a lab key in this tree).
	for i, ns := range []string{"ba", "bb"} {
		w("ip -n " + ns + " link add bond0 address 02:00:00:00:0b:0" + strconv.Itoa(i+1) + " type bond mode 802.3ad lacp_rate fast miimon 100")
		w("ip -n " + ns + " link set e1 down; ip -n " + ns + " link set e1 master bond0; ip -n " + ns + " link set e2 down; ip -n " + ns + " link set e2 master bond0")
		w("ip -n " + ns + " link set bond0 up; ip -n " + ns + " addr add 10.65.0." + strconv.Itoa(i+1) + "/30 dev bond0")
	}
	w("for i in $(seq 150); do ip netns exec ba grep -q 'Partner Mac Address: 02:00:00:00:0b:02' /proc/net/bonding/bond0 && ip netns exec bb grep -q 'Partner Mac Address: 02:00:00:00:0b:01' /proc/net/bonding/bond0 && break; sleep 0.1; done")
	b.WriteString(sec("bond-ba"))
	w("ip netns exec ba cat /proc/net/bonding/bond0")
	b.WriteString(sec("bond-bb"))
	w("ip netns exec bb cat /proc/net/bonding/bond0")
	b.WriteString(sec("bond-ping"))
	w("ip netns exec ba ping -c 3 -W 2 -q 10.65.0.2 | grep 'packet loss'")
	// A namespace restart re-creates wire:b0 (its link unit is PartOf
	// wb's): the wire must come back, set up by that unit.
	b.WriteString(sec("wire-restart"))
	w("a=$(ip -n wire -o link show b0 | cut -d: -f1)")
	w("systemctl restart " + names.NamespaceUnit("impair", "wb") + "; for i in $(seq 300); do [ -z \"$(systemctl list-jobs --no-legend)\" ] && break; sleep 0.1; done")
	w("echo \"b0 ifindex $a -> $(ip -n wire -o link show b0 | cut -d: -f1)\"")
	// From wb, whose end is new: wa still has wb's old MAC in its ARP
	// cache (a re-created veth gets a new one) and would send its first
	// pings to it, for as long as the kernel trusts the entry.
	w("ip netns exec wb ping -c 5 -W 2 -q 10.63.0.1 | grep 'packet loss'")
	w("ip netns exec wa netprobe lldp-recv eth0 5 & p=$!; sleep 0.5; ip netns exec wb netprobe lldp-send eth0; wait $p; echo \"rc=$?\"")
	w("ip netns exec wb netprobe lldp-recv eth0 5 & p=$!; sleep 0.5; ip netns exec wa netprobe lldp-send eth0; wait $p; echo \"rc=$?\"")
	// Live apply: a changed delay, then the lab as it was.
	ifindex := "echo \"d1 $(ip -n d1 -o link show eth0 | cut -d: -f1) d2 $(ip -n d2 -o link show eth0 | cut -d: -f1)\"; ip -n d1 -o addr show dev eth0 | grep -c 10.61.0.1/30; ip -n d1 neigh show 10.61.0.2 dev eth0 | cut -d' ' -f1-3"
	b.WriteString(sec("live-before"))
	w(ifindex)
	w("sed 's/delay: 50ms/delay: 150ms/' /root/labs/impair.yml >/root/impair-slow.yml")
	b.WriteString(sec("live-build"))
	w("netgen build /root/impair-slow.yml 2>&1; echo \"rc=$?\"")
	b.WriteString(sec("live-after"))
	w(ifindex)
	b.WriteString(sec("live-rtt"))
	w("ip netns exec d1 ping -c 3 -i 0.3 -q 10.61.0.2 | tail -1")
	b.WriteString(sec("live-back"))
	w("netgen build /root/labs/impair.yml 2>&1; echo \"rc=$?\"")
	b.WriteString(sec("live-back-rtt"))
	w("ip netns exec d1 ping -c 3 -i 0.3 -q 10.61.0.2 | tail -1")
	return b.String()
}

var (
	rttRE  = regexp.MustCompile(`= ([0-9.]+)/([0-9.]+)/([0-9.]+)/`)
	lossRE = regexp.MustCompile(`([0-9.]+)% packet loss`)
	rateRE = regexp.MustCompile(`mbit=([0-9.]+)`)
)

// firstFloat returns the n-th group of re's first match in s, -1 when none.
func firstFloat(re *regexp.Regexp, s string, n int) float64 {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return -1
	}
	f, _ := strconv.ParseFloat(m[n], 64)
	return f
}

// judgeImpair checks what impairScript printed, and logs the figures.
func judgeImpair(t *testing.T, tier string, rep report) {
	t.Helper()
	if _, ok := rep["impair-rtt"]; !ok {
		t.Errorf("%s: the netem checks did not run", tier)
		return
	}
	errorf := func(format string, args ...any) { t.Errorf(tier+": "+format, args...) }
	rtt, plain := firstFloat(rttRE, rep["impair-rtt"], 1), firstFloat(rttRE, rep["impair-rtt-plain"], 2)
	t.Logf("%s: RTT through 50 ms each way: min %.1f ms; on the plain cable: avg %.2f ms", tier, rtt, plain)
	if rtt < 100 || rtt > 150 {
		errorf("the smallest RTT through netem delay 50ms each way is %v ms, want 100-150:\n%s", rtt, rep["impair-rtt"])
	}
	if plain < 0 || plain > 10 {
		errorf("the RTT on the plain cable between the same namespaces is %v ms, want below 10:\n%s", plain, rep["impair-rtt-plain"])
	}
	loss, lossPlain := firstFloat(lossRE, rep["impair-loss"], 1), firstFloat(lossRE, rep["impair-loss-plain"], 1)
	t.Logf("%s: loss over 200 pings through netem loss 20%%: %.1f%%; plain: %.1f%%", tier, loss, lossPlain)
	if loss < 8 || loss > 35 {
		errorf("loss through netem loss 20%% is %v%%, want 8-35%% (200 pings):\n%s", loss, rep["impair-loss"])
	}
	if lossPlain != 0 {
		errorf("loss on the plain cable is %v%%, want 0:\n%s", lossPlain, rep["impair-loss-plain"])
	}
	rate, ratePlain := firstFloat(rateRE, rep["impair-rate"], 1), firstFloat(rateRE, rep["impair-rate-plain"], 1)
	t.Logf("%s: 2 MB over TCP through netem rate 10mbit: %.2f Mbit/s; the other way (no netem): %.1f Mbit/s", tier, rate, ratePlain)
	if rate < 5 || rate > 10.5 {
		errorf("2 MB through netem rate 10mbit went at %v Mbit/s, want 5-10.5:\n%s", rate, rep["impair-rate"])
	}
	if ratePlain < 50 {
		errorf("2 MB without netem went at %v Mbit/s, want over 50:\n%s", ratePlain, rep["impair-rate-plain"])
	}
	q := rep["impair-qdiscs"]
	for _, want := range []string{"delay 50ms", "limit 1000 rate 10Mbit", "delay 20ms", "loss 0.5%", "delay 40ms  5ms", "loss 1%"} {
		if !strings.Contains(q, want) {
			errorf("no %q in the qdiscs:\n%s", want, q)
		}
	}
	if f := rep["wire-filters"]; strings.Count(f, "mirred (Egress Redirect to device") != 3 {
		errorf("want a mirred redirect on wire:a0, vm1tap and vm2tap:\n%s", f)
	}
	if out := rep["wire-lldp"]; !strings.Contains(out, "rc=0") || !strings.Contains(out, "lldp frame from") {
		errorf("LLDP did not cross the wire:\n%s", out)
	}
	if out := rep["bridge-lldp"]; !strings.Contains(out, "rc=1") {
		errorf("LLDP crossed a bridge without group_fwd_mask (or the check failed otherwise):\n%s", out)
	}
	out := rep["wire-restart"]
	m := regexp.MustCompile(`b0 ifindex (\d+) -> (\d+)`).FindStringSubmatch(out)
	if l := firstFloat(lossRE, out, 1); m == nil || l < 0 || l >= 100 || strings.Count(out, "rc=0") != 2 {
		errorf("after a restart of namespace wb, the wire does not carry pings and LLDP again:\n%s", out)
	} else if m[1] == m[2] {
		errorf("the restart of namespace wb did not re-create wire:b0 (ifindex %s), so it proves nothing:\n%s", m[1], out)
	}
	for ns, partner := range map[string]string{"ba": "02:00:00:00:0b:02", "bb": "02:00:00:00:0b:01"} {
		out := rep["bond-"+ns]
		if !strings.Contains(out, "Partner Mac Address: "+partner) || !strings.Contains(out, "Number of ports: 2") {
			errorf("the 802.3ad bond in %s has not found its partner %s on both wires:\n%s", ns, partner, out)
		}
	}
	if loss := firstFloat(lossRE, rep["bond-ping"], 1); loss != 0 {
		errorf("ping across the bonds: %v%% loss:\n%s", loss, rep["bond-ping"])
	}
	before, after := rep["live-before"], rep["live-after"]
	t.Logf("%s: live apply: before %q, after %q", tier, strings.TrimSpace(before), strings.TrimSpace(after))
	if before == "" || before != after {
		errorf("the links, their addresses or neighbours changed with the delay (before, after):\n%s\n%s", before, after)
	}
	build := rep["live-build"]
	if !strings.Contains(build, "rc=0") || !strings.Contains(build, "set the netem of d1:eth0 to `netem delay 150ms`") || strings.Contains(build, "restart") {
		errorf("netgen build with a changed delay: want rc=0, the netem set in place, no restart:\n%s", build)
	}
	slow, back := firstFloat(rttRE, rep["live-rtt"], 1), firstFloat(rttRE, rep["live-back-rtt"], 1)
	t.Logf("%s: live apply: min RTT at 150 ms each way %.1f ms, back at 50 ms %.1f ms", tier, slow, back)
	if slow < 300 || back < 100 || back > 150 || !strings.Contains(rep["live-back"], "rc=0") {
		errorf("RTT after the live change to 150 ms: %v ms (want ≥ 300), back at 50 ms: %v (want 100-150):\n%s%s", slow, back, rep["live-rtt"], rep["live-back"])
	}
}

// TestNetworkdNetemSyntax gives networkd 252 the [NetworkEmulator]
// sections netgen writes (wan.yml's host pair: DelaySec=, LossRate= in
// basis points) and checks it parsed every key: this kernel has no
// sch_netem, so networkd's attempt to add the qdisc may fail, but a key it
// could not read would be logged against the file. The QEMU tier sees the
// qdisc itself ("loss 0.5%").
func TestNetworkdNetemSyntax(t *testing.T) {
	if err := oracle.Available(); err != nil {
		t.Skipf("SKIPPED networkd oracle tier: %v", err)
	}
	res := compileExample(t, "../examples/wan.yml")
	files := map[string][]byte{}
	for _, f := range res.Files {
		if f.Dir == render.NetworkDir && strings.Contains(f.Name, "veth-wanh") {
			files[f.Name] = f.Data
		}
	}
	if len(files) != 3 || !strings.Contains(string(files["50-netgen-wan_veth-wanh.network"]), "LossRate=50‱") {
		t.Fatalf("wan.yml's host pair: want its .netdev and two .network files, wanh's with LossRate=50‱, got %d files", len(files))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := oracle.RunFiles(ctx, files, oracle.Options{WaitFor: []string{"wanh:configured,failed", "wanhp:configured,failed"}, Timeout: 30 * time.Second})
	if out == nil {
		t.Fatalf("networkd run: %v", err)
	}
	for _, e := range out.Log {
		if m := e.String(); strings.Contains(m, "Failed to parse") || strings.Contains(m, "Invalid") || strings.Contains(m, "Unknown key") {
			t.Errorf("networkd could not read a key: %s", m)
		}
	}
	for _, e := range out.LinkLog("wanh", oracle.PriWarning) {
		t.Logf("networkd about wanh (this kernel has no sch_netem): %s", e.String())
	}
}
