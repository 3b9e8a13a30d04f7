package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/testkit/oracle"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/names"
)

// restartLab puts two namespaces on a host bridge; pc2's unit creates both
// ends of its veth (the host end too).
const restartLab = `version: 1
name: mrestart
namespaces: {pc1: {}, pc2: {}}
bridges: {hb: {}}
veths:
  - [{name: pc1:eth0, addresses: [10.9.0.1/24]}, {name: h-pc1, bridge: hb}]
  - [{name: pc2:eth0, addresses: [10.9.0.2/24]}, {name: h-pc2, bridge: hb}]
`

// TestNamespaceRestartKeepsMACs restarts a namespace's unit (its script's
// stop, then start, as systemctl restart runs them) twice under networkd
// 252 in throwaway namespaces: its interfaces, the host end included, come
// back with the MACs they had, and a neighbour that had just reached it
// (a REACHABLE neighbour entry naming the old MAC) reaches it again within
// 2 s. With the kernel's random MACs that ping failed: the neighbour kept
// sending to the old MAC for up to ~40 s (docs/design.md).
func TestNamespaceRestartKeepsMACs(t *testing.T) {
	if err := oracle.Available(); err != nil {
		t.Skipf("SKIPPED networkd oracle tier: %v", err)
	}
	res := testlabs.Compile(t, "mrestart.yml", []byte(restartLab))
	unit := names.NamespaceUnit(res.Plan.Lab, "pc2")
	script := unitScript(t, res, unit)
	run := func(arg string) string {
		return fmt.Sprintf("sh -e -s %s <<'NETGEN_UNIT_EOF' 2>&1\n%s\nNETGEN_UNIT_EOF", arg, script)
	}
	const (
		ping = "ip netns exec pc1 ping -c 1 -W 2 10.9.0.2"
		macs = "cat /sys/class/net/h-pc2/address && ip netns exec pc2 cat /sys/class/net/eth0/address"
	)
	neigh := "ip -n pc1 neigh show 10.9.0.2"
	out := oracleCheckThen(t, "mrestart", res,
		ping, macs,
		run("stop"), run("start"), neigh, ping, macs,
		run("stop"), run("start"), neigh, ping, macs)
	for i, c := range out {
		if c.ExitCode != 0 {
			t.Errorf("command %d failed (exit %d): %s\n%s", i, c.ExitCode, firstLine(c.Command), c.Output)
		}
	}
	want := ""
	for _, n := range []string{"h-pc2", "pc2:eth0"} {
		for _, l := range res.Plan.Links {
			if l.Label() == n {
				want += l.MAC + "\n"
			}
		}
	}
	for i := 1; i < len(out); i += 5 {
		if got := out[i].Output; got != want {
			t.Errorf("MACs of h-pc2 and pc2:eth0 after %d restarts:\n%swant the plan's\n%s(pc1's neighbour entry: %s)", i/5, got, want, out[max(i-2, 0)].Output)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
