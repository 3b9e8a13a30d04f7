package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/testkit/expect"
	"github.com/netgen-lab/netgen/internal/testkit/oracle"
	"github.com/netgen-lab/netgen/names"
	"github.com/netgen-lab/netgen/render"
	"github.com/netgen-lab/netgen/schema"
)

// kernelHasVLANs reports whether this kernel has 802.1Q sub-interfaces,
// VLAN-filtering bridges, bonds, dummies and VRFs (the development
// machines' kernel has none of them; the QEMU tier checks those labs on
// Debian's kernel).
func kernelHasVLANs(t *testing.T) bool {
	t.Helper()
	probe := `ip link add vp0 type veth peer name vp1 && ip link add link vp0 name vp0.5 type vlan id 5 && ip link add vb0 type bridge vlan_filtering 1 && ip link add bo0 type bond && ip link add du0 type dummy && ip link add vr0 type vrf table 10`
	err := exec.Command("unshare", "--net", "sh", "-ec", probe).Run()
	return err == nil
}

func needsVLANKernel(p *generator.Plan) bool {
	for _, l := range p.Links {
		// Bonds, dummies and VRFs need modules this machine's kernel
		// lacks, as 802.1Q and netem do: the QEMU tier boots Debian's.
		if l.Kind == schema.KindVLAN || (l.Bridge != nil && l.Bridge.VLANFiltering) || l.PortVLANs != nil || l.Netem != nil ||
			l.Kind == schema.KindBond || l.Kind == schema.KindDummy || l.Kind == schema.KindVRF {
			return true
		}
	}
	// netem and wires (tc actions) are missing from this host's kernel too.
	return len(p.Wires) > 0
}

// TestNetworkdOracle gives every example's networkd files to the real
// systemd-networkd in a throwaway namespace, then runs every generated
// unit's script there too (in dependency order, as systemd would), and
// checks every link of the lab, host and namespaces alike: kind, master,
// MTU, MAC, addresses, no link-local address where none is wanted, up. It
// also checks which .network file networkd gave each host link it owns,
// that networkd logged no warning about any generated file, and that
// `netgen status` there finds every object as the lab says.
func TestNetworkdOracle(t *testing.T) {
	if err := oracle.Available(); err != nil {
		t.Skipf("SKIPPED networkd oracle tier: %v", err)
	}
	vlanKernel := kernelHasVLANs(t)
	bin := netgenBinary(t)
	for _, path := range allLabPaths(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yml")
		t.Run(name, func(t *testing.T) {
			res := compileExample(t, path)
			if needsVLANKernel(res.Plan) && !vlanKernel {
				t.Skipf("lab %s needs 802.1Q and VLAN filtering, which this kernel lacks: the QEMU tier checks it", name)
			}
			out := oracleCheckThen(t, name, res, bin+" status "+path+" --json")
			judgeStatus(t, "netgen status "+name, out[0])
		})
	}
}

// oracleCheckThen runs a compiled lab's networkd files under networkd 252 in
// throwaway namespaces, with its unit scripts, and checks every link.
// Then it runs more commands in the lab's namespaces (the unit scripts'
// namespaces still up) and returns their outputs. TestPooledLabOracle
// runs its pings this way too: four minutes are the ceiling of its 100
// cables and their pings, more than any example needs.
func oracleCheckThen(t *testing.T, name string, res *compileResult, then ...string) []oracle.CommandOutput {
	files := map[string][]byte{}
	for _, f := range res.Files {
		if f.Dir == render.NetworkDir {
			files[f.Name] = f.Data
		}
	}
	prepare := uplinkStandIns(res.Plan)
	inspect, dumpAt := unitCommands(t, res)
	thenAt := len(inspect)
	inspect = append(inspect, then...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := oracle.RunFiles(ctx, files, oracle.Options{Prepare: prepare, Inspect: inspect, Timeout: 60 * time.Second, SettleFor: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("networkd run: %v\n%s", err, summary(out))
	}
	for i, c := range out.Inspect[:dumpAt] {
		if c.ExitCode != 0 {
			t.Fatalf("unit script %d failed (exit %d):\n%s", i, c.ExitCode, c.Output)
		}
	}
	obs := expect.Observed{}
	for i, ns := range dumpNamespaces(res.Plan) {
		link, addr := out.Inspect[dumpAt+2*i], out.Inspect[dumpAt+2*i+1]
		links, err := oracle.ParseIPLinks([]byte(link.Output), []byte(addr.Output))
		if err != nil {
			t.Fatalf("namespace %q: %v\n%s", ns, err, link.Output)
		}
		obs[ns] = links
	}
	for _, problem := range expect.Check(res.Plan, obs, nil) {
		t.Errorf("lab %s: %s", name, problem)
	}
	for ns, links := range obs {
		if ns == "" {
			continue
		}
		for _, l := range links {
			if l.Name == "lo" && !l.HasFlag("UP") {
				t.Errorf("lab %s: lo is down in namespace %s", name, ns)
			}
		}
	}
	for _, l := range res.Plan.Links {
		if l.NS != "" || l.MatchMAC != "" {
			continue
		}
		st, ok := out.State(l.Name)
		if !ok {
			continue // a unit-owned link created after networkd settled
		}
		want := networkFile(res.Plan, l)
		if st.File != want {
			t.Errorf("lab %s: %s got .network %q, want %q", name, l.Name, st.File, want)
		}
	}
	for _, w := range out.Warnings() {
		t.Errorf("lab %s: networkd warned about a generated file: %v", name, w)
	}
	return out.Inspect[thenAt:]
}

func summary(r *oracle.Result) string {
	if r == nil {
		return ""
	}
	return r.Summary()
}

// uplinkStandIns create, before networkd starts, a veth end for every uplink
// so that the uplink's .network has a NIC to match.
func uplinkStandIns(p *generator.Plan) []string {
	var cmds []string
	for i, l := range p.Links {
		if l.Kind != schema.KindUplink {
			continue
		}
		c := fmt.Sprintf("ip link add name %s type veth peer name upl%d", l.Name, i)
		if l.MatchMAC != "" {
			c = fmt.Sprintf("ip link add name upm%d address %s type veth peer name upl%d", i, l.MatchMAC, i)
		}
		cmds = append(cmds, c, fmt.Sprintf("ip link set dev upl%d up", i))
	}
	return cmds
}

// unitCommands returns the shell commands that start every unit the way
// systemd would (namespace units first, then link units, each unit's script
// exactly as its StandardInputText= lines give it), followed by the dumps
// of every namespace; dumpAt is the index of the first dump.
func unitCommands(t *testing.T, res *compileResult) (cmds []string, dumpAt int) {
	for _, kind := range []generator.UnitKind{generator.BridgeWaitUnit, generator.NamespaceUnit, generator.LinkUnit} {
		for _, u := range res.Plan.Units {
			if u.Kind != kind || kind == generator.BridgeWaitUnit && len(u.PinMTU) == 0 {
				continue
			}
			script := unitScript(t, res, u.Name)
			cmds = append(cmds, fmt.Sprintf("sh -e -s start <<'NETGEN_UNIT_EOF' 2>&1\n%s\nNETGEN_UNIT_EOF", script))
		}
	}
	dumpAt = len(cmds)
	for _, ns := range dumpNamespaces(res.Plan) {
		n := ""
		if ns != "" {
			n = "-n " + ns + " "
		}
		cmds = append(cmds, "ip "+n+"-d -j link show", "ip "+n+"-j addr show")
	}
	return cmds, dumpAt
}

func dumpNamespaces(p *generator.Plan) []string {
	out := []string{""}
	for _, u := range p.Units {
		if u.Kind == generator.NamespaceUnit {
			out = append(out, u.Namespaces[0])
		}
	}
	return out
}

// networkFile is the .network file a host link owned by networkd (or by a
// unit: its Unmanaged= file) must get.
func networkFile(p *generator.Plan, l *generator.Link) string {
	if l.Owner != nil {
		return names.UnmanagedFile(l.Owner.Name) + ".network"
	}
	return render.FileBase(p.Lab, l) + ".network"
}
