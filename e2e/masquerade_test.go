package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/testkit/testbed"
)

// TestNftTables loads every masquerade table the examples' units write
// into nftables, twice (the second load replaces the first: a restarted
// unit), in a throwaway network namespace of this kernel, and lists it.
func TestNftTables(t *testing.T) {
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("no nft here (./setup.sh installs nftables)")
	}
	re := regexp.MustCompile(`(?s)nft -f - <<'EOF'\n(.*?)\nEOF`)
	n := 0
	for _, path := range examplePaths(t) {
		res := compileExample(t, path)
		for _, u := range res.Plan.Units {
			if len(u.NATs) == 0 {
				continue
			}
			for _, m := range re.FindAllStringSubmatch(unitScript(t, res, u.Name), -1) {
				n++
				text := m[1]
				file := filepath.Join(t.TempDir(), "table.nft")
				if err := os.WriteFile(file, []byte(text+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command("unshare", "-n", "sh", "-ec", `nft -f "$0"; nft -f "$0"; nft list ruleset`, file)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("%s: nft refuses the table of %s: %v\n%s\n%s", path, u.Name, err, out, text)
					continue
				}
				if strings.Count(string(out), "table inet ") != 1 || !strings.Contains(string(out), "masquerade") {
					t.Errorf("%s: %s: after two loads, want one table with masquerade rules:\n%s", path, u.Name, out)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no example masquerades in a unit: examples/masquerade.yml is gone?")
	}
}

// checkMasquerade proves lab "masq" (examples/masquerade.yml) on a booted
// system, built live over a firewall rule of the host's own: an
// "outside" namespace made here (the internet: no route back to the lab)
// answers a ping from pc only through both NATs (the router's, inside its
// namespace, and the host's) and sees the host's address as the source;
// the host's own table is unchanged after build and after down, and down
// leaves no table of the lab.
func checkMasquerade(t *testing.T, c *testbed.Container) {
	t.Helper()
	sh := func(cmd string) (int, string) {
		t.Helper()
		code, out, stderr := inContainer(t, c, cmd)
		return code, out + stderr
	}
	must := func(cmd string) string {
		t.Helper()
		code, out := sh(cmd)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", cmd, code, out)
		}
		return out
	}
	// Down first: the host's rule must be there before the lab is built.
	must("netgen down masq")
	must(`nft -f - <<'EOF'
table inet keep {
chain input {
type filter hook input priority 0; policy accept;
tcp dport 9 counter accept
}
}
EOF
:`) // the EOF line alone: inContainer appends "; echo ..."
	keep := must("nft list table inet keep")
	must("netgen build /root/labs/masquerade.yml")
	if out := must("nft list tables"); !strings.Contains(out, "netgen-masq_ns-router") {
		t.Errorf("no table of the lab on the host after build:\n%s", out)
	}
	if out := must("cat /proc/sys/net/ipv4/ip_forward; ip netns exec router cat /proc/sys/net/ipv4/ip_forward"); out != "1\n1\n" {
		t.Errorf("forwarding on the host and in router: %q, want on in both", out)
	}
	must(`ip netns add outside
ip link add out0 type veth peer name eth0 netns outside
ip addr add 198.51.100.1/24 dev out0
ip link set out0 up
ip -n outside addr add 198.51.100.2/24 dev eth0
ip -n outside link set eth0 up
ip -n outside link set lo up
ip netns exec outside nft -f - <<'EOF'
table inet seen {
chain input {
type filter hook input priority 0; policy accept;
ip saddr 198.51.100.1 icmp type echo-request counter
ip saddr != 198.51.100.1 icmp type echo-request counter
}
}
EOF
:`) // the EOF line alone: inContainer appends "; echo ..."
	if code, out := sh("ip netns exec pc ping -c 2 -W 2 198.51.100.2"); code != 0 {
		t.Errorf("pc cannot reach the outside namespace through the NATs: exit %d\n%s", code, out)
	}
	seen := must("ip netns exec outside nft list table inet seen")
	if !regexp.MustCompile(`ip saddr 198\.51\.100\.1 icmp type echo-request counter packets [1-9]`).MatchString(seen) ||
		!strings.Contains(seen, "ip saddr != 198.51.100.1 icmp type echo-request counter packets 0 ") {
		t.Errorf("the outside namespace must see pc's pings from the host's address only:\n%s", seen)
	}
	if out := must("nft list table inet keep"); out != keep {
		t.Errorf("the host's own table changed with the lab's build:\n%s\nwas:\n%s", out, keep)
	}
	must("netgen down masq")
	if out := must("nft list tables"); strings.Contains(out, "netgen-") {
		t.Errorf("a table of the lab is left after down:\n%s", out)
	}
	if out := must("nft list table inet keep"); out != keep {
		t.Errorf("the host's own table changed with the lab's down:\n%s\nwas:\n%s", out, keep)
	}
	must("ip netns delete outside; ip link del out0 2>/dev/null || :; nft delete table inet keep")
}
