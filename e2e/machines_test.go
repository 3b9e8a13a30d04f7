package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/status"
	"github.com/netgen-lab/netgen/internal/testkit/oracle"
	"github.com/netgen-lab/netgen/internal/testkit/testbed"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/schema"
)

// machine is one booted container standing in for a machine of a lab for
// several machines.
type machine struct {
	name     string
	underlay string
	c        *testbed.Container
}

// bootMachines boots one container per machine, each with its own network
// namespace and host name, netgen in /usr/local/bin and the lab in
// /root/labs/NAME.yml, and joins them with an underlay: a bridge in a
// throwaway namespace the test creates (never this machine's own
// network), a veth from it into each container (ul0, 10.99.0.N/24). The
// namespace, and with it the underlay, is removed when the test ends.
// prebuild lists the machines whose part is built into the image first
// (`netgen build --root --machine`), the others are built live later.
func bootMachines(t *testing.T, lab string, names []string, prebuild map[string]bool) []*machine {
	t.Helper()
	img := testbed.EnsureImage(t)
	bin := netgenBinary(t)
	ul := "ngmul-" + fmt.Sprint(os.Getpid()%100000)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("ip", "netns", "add", ul)
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", ul).Run() })
	run("ip", "-n", ul, "link", "add", "br0", "type", "bridge")
	run("ip", "-n", ul, "link", "set", "br0", "up")
	src, err := os.ReadFile(lab)
	if err != nil {
		t.Fatal(err)
	}
	var out []*machine
	for i, name := range names {
		root := img.Copy(t)
		installNetgen(t, root, nil)
		must(t, os.WriteFile(filepath.Join(root, "etc/hostname"), []byte(name+"\n"), 0o644))
		must(t, os.MkdirAll(filepath.Join(root, "root/labs"), 0o755))
		must(t, os.WriteFile(filepath.Join(root, "root/labs", filepath.Base(lab)), src, 0o644))
		if prebuild[name] {
			run(bin, "build", lab, "--root", root, "--machine", name)
		}
		m := &machine{name: name, underlay: fmt.Sprintf("10.99.0.%d", i+1), c: testbed.BootNspawn(t, root)}
		port := fmt.Sprintf("ul%d", i+1)
		run("ip", "-n", ul, "link", "add", port, "type", "veth", "peer", "name", "ul0", "netns", fmt.Sprint(m.c.PID))
		run("ip", "-n", ul, "link", "set", port, "master", "br0", "up")
		m.c.MustExec("sh", "-ec", "ip address add "+m.underlay+"/24 dev ul0; ip link set ul0 up")
		if h := strings.TrimSpace(m.c.MustExec("hostname")); h != name {
			t.Fatalf("container for %s has host name %q", name, h)
		}
		out = append(out, m)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// pingFrom pings addr from namespace ns ("" for the root) of a machine
// until it answers, for at most 10 s.
func pingFrom(m *machine, ns, addr string) error {
	cmd := "ping -c1 -W1 " + addr
	if ns != "" {
		cmd = "ip netns exec " + ns + " " + cmd
	}
	script := fmt.Sprintf("for i in $(seq 10); do %s >/dev/null && exit 0; done; exit 1", cmd)
	if _, _, err := m.c.Exec("sh", "-c", script); err != nil {
		return fmt.Errorf("%s: %s: no answer from %s", m.name, nsLabel(ns), addr)
	}
	return nil
}

// TestMachines runs examples/machines.yml on three containers, each a
// machine of the lab: m1's part built into its image with --root
// --machine, m2's and m3's live, with the machine taken from the host
// name. Then: pings over the VXLAN cables and across the stretched switch,
// `netgen test` and `netgen status` on every machine, an unchanged re-run
// that changes nothing, a cable moved to another machine that converges
// with one more build on each, and `down` that leaves nothing.
func TestMachines(t *testing.T) {
	testbed.RequireBoot(t)
	start := time.Now()
	lab := filepath.Join(examplesDir, "machines.yml")
	ms := bootMachines(t, lab, []string{"m1", "m2", "m3"}, map[string]bool{"m1": true})
	m1, m2, m3 := ms[0], ms[1], ms[2]
	for _, m := range ms[1:] {
		if code, out, stderr := inContainer(t, m.c, "netgen build /root/labs/machines.yml"); code != 0 {
			t.Fatalf("%s: netgen build: exit %d\n%s%s", m.name, code, out, stderr)
		}
	}
	for _, m := range ms {
		waitJobs(t, m.c)
	}
	pings := []struct {
		m       *machine
		ns, dst string
	}{
		{m1, "a", "10.9.0.2"},   // cable a—b, m1 to m2
		{m2, "b", "10.9.0.1"},   // and back
		{m3, "c", "10.7.0.1"},   // cable c—m1's root namespace
		{m1, "", "10.7.0.2"},    // and back, from m1's root namespace
		{m1, "a", "10.8.0.2"},   // switch sw, m1 to m2
		{m1, "a", "10.8.0.3"},   // m1 to m3
		{m2, "", "10.8.0.2"},    // m2's root namespace to b, on one machine
		{m3, "c", "10.8.0.254"}, // m3 to m2's root namespace
		{m2, "b", "10.8.0.3"},   // m2 to m3
	}
	for _, p := range pings {
		if err := pingFrom(p.m, p.ns, p.dst); err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		for _, m := range ms {
			out, _, _ := m.c.Exec("sh", "-c", "ip -d link; ip addr; ip neigh; ip route; ip -s link; bridge fdb show; networkctl list; systemctl --failed; sysctl -a 2>/dev/null | grep -e rp_filter -e arp_ -e forwarding; for n in $(ls /run/netns); do echo == $n; ip -n $n addr; ip -n $n neigh; ip -n $n -s link; done")
			t.Logf("%s:\n%s", m.name, out)
		}
		t.FailNow()
	}
	for _, m := range ms {
		for _, cmd := range []string{"netgen status /root/labs/machines.yml", "netgen test /root/labs/machines.yml", "netgen build --check /root/labs/machines.yml"} {
			if code, out, stderr := inContainer(t, m.c, cmd); code != 0 {
				t.Errorf("%s: %s: exit %d, want 0\n%s%s", m.name, cmd, code, out, stderr)
			}
		}
	}

	// Move the cable a—b to c—b: m1 loses its end, m3 gains one, m2's end
	// is a new VXLAN (another VNI, another remote).
	moved := strings.Replace(mustRead(t, lab), "{name: a:eth0, addresses: [10.9.0.1/30]}", "{name: c:eth2, addresses: [10.9.0.1/30]}", 1)
	for _, m := range ms {
		must(t, os.WriteFile(filepath.Join("/proc", fmt.Sprint(m.c.PID), "root/root/labs/machines.yml"), []byte(moved), 0o644))
		if code, out, stderr := inContainer(t, m.c, "netgen build /root/labs/machines.yml"); code != 0 {
			t.Fatalf("%s: netgen build of the changed lab: exit %d\n%s%s", m.name, code, out, stderr)
		}
	}
	for _, m := range ms {
		waitJobs(t, m.c)
	}
	if err := pingFrom(m3, "c", "10.9.0.2"); err != nil {
		t.Errorf("after moving the cable: %v", err)
	}
	if out, _, err := m1.c.Exec("ip", "-n", "a", "link", "show", "eth0"); err == nil {
		t.Errorf("m1: a:eth0 is still there after its cable moved to m3:\n%s", out)
	}
	for _, m := range ms {
		if code, out, stderr := inContainer(t, m.c, "netgen build --check /root/labs/machines.yml"); code != 0 {
			t.Errorf("%s: the changed lab does not converge in one build: --check exits %d\n%s%s", m.name, code, out, stderr)
		}
	}

	// down removes every machine's part.
	for _, m := range ms {
		if code, out, stderr := inContainer(t, m.c, "netgen down /root/labs/machines.yml"); code != 0 {
			t.Errorf("%s: netgen down: exit %d\n%s%s", m.name, code, out, stderr)
		}
		out, _, _ := m.c.Exec("sh", "-c", "ls /run/netns; ip -br link | grep -v -e '^lo ' -e '^ul0@'; ls /etc/systemd/network /etc/systemd/system | grep netgen")
		if strings.TrimSpace(out) != "" {
			t.Errorf("%s: left after down:\n%s", m.name, out)
		}
	}
	t.Logf("three machines: %v", time.Since(start).Round(time.Second))
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNetworkdOracleMachines runs each machine's part of every example for
// several machines under the networkd oracle, as TestNetworkdOracle does
// for a lab of one machine: VXLAN devices, their FDB entries and the
// namespace units' VXLAN ends as the plan says, no networkd warning. Then
// `netgen status --machine M` in the same namespaces: every object as the
// lab says, the VXLAN devices' VNI, port, addresses and flooding entries
// (networkd's in the root namespace, the units' in namespaces) included.
func TestNetworkdOracleMachines(t *testing.T) {
	if err := oracle.Available(); err != nil {
		t.Skipf("SKIPPED networkd oracle tier: %v", err)
	}
	bin := netgenBinary(t)
	for _, path := range testlabs.MachineLabs(examplesDir) {
		src := mustRead(t, path)
		lab, _ := schema.Decode(filepath.Base(path), []byte(src))
		for _, m := range schema.Machines(lab) {
			name := strings.TrimSuffix(filepath.Base(path), ".yml") + "-" + m
			t.Run(name, func(t *testing.T) {
				res, err := compile.CompileFor(filepath.Base(path), []byte(src), m)
				if err != nil || res.Diags.HasErrors() {
					t.Fatalf("--machine %s: %v %v", m, err, res.Diags.Items)
				}
				out := oracleCheckThen(t, name, res, fmt.Sprintf("%s status %s --machine %s --json", bin, path, m))
				rep := judgeStatus(t, "netgen status --machine "+m, out[0])
				vxlans := 0
				for _, o := range rep.Objects {
					for _, l := range res.Plan.Links {
						if l.VXLAN != nil && o.Kind == "link" && o.Name == l.Label() {
							vxlans++
						}
					}
				}
				if vxlans == 0 {
					t.Errorf("netgen status --machine %s compared no VXLAN device", m)
				}
			})
		}
	}
}

// judgeStatus checks the output of `netgen status --json` run in the
// oracle's namespaces: every object as the lab says, exit 0, and units
// not checked (no systemd there).
func judgeStatus(t *testing.T, what string, out oracle.CommandOutput) *status.Report {
	t.Helper()
	var rep status.Report
	if err := json.Unmarshal([]byte(out.Output), &rep); err != nil {
		t.Fatalf("%s: exit %d, %v:\n%s", what, out.ExitCode, err, out.Output)
	}
	for _, o := range rep.Objects {
		if o.State != status.OK {
			t.Errorf("%s: %s", what, o.Line())
		}
	}
	if out.ExitCode != 0 || rep.UnitsNotChecked == "" {
		t.Errorf("%s: exit %d, units not checked: %q", what, out.ExitCode, rep.UnitsNotChecked)
	}
	return &rep
}
