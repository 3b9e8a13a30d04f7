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
// namespace and host name, python3 and an SSH server (the image's layer
// for Ansible) and root's authorized_keys holding pubkey, and joins them
// with an underlay: a bridge in a throwaway namespace the test creates
// (never this machine's own network), a veth from it into each container
// (ul0, 10.99.0.N/24), and 10.99.0.254 on the bridge for the controller,
// which runs in that namespace. It returns the machines and the underlay
// namespace, removed when the test ends. prebuild lists the machines whose
// part is built into the image first (`netgen build --root --machine`);
// netgen itself is not in the image: the role ships it.
func bootMachines(t *testing.T, lab, pubkey string, names []string, prebuild map[string]bool) ([]*machine, string) {
	t.Helper()
	img := testbed.EnsureImage(t).With(t, "python3", "openssh-server")
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
	run("ip", "-n", ul, "link", "set", "lo", "up")
	run("ip", "-n", ul, "address", "add", "10.99.0.254/24", "dev", "br0")
	var out []*machine
	for i, name := range names {
		root := img.Copy(t)
		must(t, os.WriteFile(filepath.Join(root, "etc/hostname"), []byte(name+"\n"), 0o644))
		must(t, os.MkdirAll(filepath.Join(root, "root/.ssh"), 0o700))
		must(t, os.WriteFile(filepath.Join(root, "root/.ssh/authorized_keys"), []byte(pubkey), 0o600))
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
	return out, ul
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
// machine of the lab, through the Ansible role alone: Debian's
// ansible-playbook, running in the underlay's namespace, connects to each
// container over SSH (docs/testing.md says why SSH), ships netgen and the
// lab and builds each machine's part; m1's part was built into its image
// first with --root --machine. Then: pings over the VXLAN cables and
// across the stretched switch, `netgen test` and `netgen status` on every
// machine, a re-run of the playbook that reports no change and changes
// nothing, check mode with a changed lab (a cable moved to another
// machine) that changes nothing, one real run that converges, and
// netgen_state=absent that leaves nothing of the lab on any machine.
func TestMachines(t *testing.T) {
	testbed.RequireBoot(t)
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Fatal("ansible-playbook is missing (setup.sh installs Debian's ansible): the role cannot be run into the machines")
	}
	start := time.Now()
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "netgen-e2e", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	// The README's playbook as it stands, with the lab and netgen where it
	// says.
	must(t, os.WriteFile(filepath.Join(dir, "site.yml"), []byte(readmePlaybook(t)), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "labs"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	src := mustRead(t, filepath.Join(examplesDir, "machines.yml"))
	lab := filepath.Join(dir, "labs/machines.yml")
	must(t, os.WriteFile(lab, []byte(src), 0o644))
	ms, ul := bootMachines(t, lab, mustRead(t, key+".pub"), []string{"m1", "m2", "m3"}, map[string]bool{"m1": true})
	m1, m2, m3 := ms[0], ms[1], ms[2]

	// A static netgen for the role to ship: the containers are not this
	// machine.
	bin := filepath.Join(dir, "bin/netgen")
	build := exec.Command("go", "build", "-o", bin, "../cmd/netgen")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var inv strings.Builder
	inv.WriteString("[lab]\n")
	for _, m := range ms {
		fmt.Fprintf(&inv, "%s ansible_host=%s\n", m.name, m.underlay)
	}
	fmt.Fprintf(&inv, "[lab:vars]\nansible_connection=ssh\nansible_user=root\nansible_ssh_private_key_file=%s\n"+
		"ansible_ssh_common_args='-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no'\n"+
		"ansible_python_interpreter=/usr/bin/python3\n", key)
	must(t, os.WriteFile(filepath.Join(dir, "inventory.ini"), []byte(inv.String()), 0o644))
	hosts := []string{"m1", "m2", "m3"}
	run := func(args ...string) map[string]int {
		t.Helper()
		return playbook(t, dir, "site.yml", []string{"ip", "netns", "exec", ul}, hosts, args...)
	}
	state := func() map[string]string {
		t.Helper()
		s := map[string]string{}
		for _, m := range ms {
			s[m.name] = machineState(t, m)
		}
		return s
	}
	same := func(what string, before map[string]string) {
		t.Helper()
		for name, now := range state() {
			if now != before[name] {
				t.Errorf("%s: %s changed the machine:\nbefore:\n%s\nafter:\n%s", name, what, before[name], now)
			}
		}
	}

	for m, n := range run() {
		if n == 0 {
			t.Errorf("%s: the first run reports no change", m)
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
	// Without --machine, netgen takes the machine named like the host: the
	// role's part is that one.
	for _, m := range ms {
		for _, cmd := range []string{"netgen status /var/lib/netgen/machines.yml", "netgen test /var/lib/netgen/machines.yml", "netgen build --check /var/lib/netgen/machines.yml"} {
			if code, out, stderr := inContainer(t, m.c, cmd); code != 0 {
				t.Errorf("%s: %s: exit %d, want 0\n%s%s", m.name, cmd, code, out, stderr)
			}
		}
	}

	before := state()
	for m, n := range run() {
		if n != 0 {
			t.Errorf("%s: the unchanged re-run reports %d changes", m, n)
		}
	}
	same("the unchanged re-run", before)

	// Move the cable a—b to c—b: m1 loses its end, m3 gains one, m2's end
	// is a new VXLAN (another VNI, another remote).
	must(t, os.WriteFile(lab, []byte(strings.Replace(src, "{name: a:eth0, addresses: [10.9.0.1/30]}", "{name: c:eth2, addresses: [10.9.0.1/30]}", 1)), 0o644))
	for m, n := range run("--check", "--diff") {
		if n == 0 {
			t.Errorf("%s: check mode with a changed lab reports no change", m)
		}
	}
	same("check mode", before)
	run()
	for _, m := range ms {
		waitJobs(t, m.c)
	}
	if err := pingFrom(m3, "c", "10.9.0.2"); err != nil {
		t.Errorf("after moving the cable: %v", err)
	}
	if out, _, err := m1.c.Exec("ip", "-n", "a", "link", "show", "eth0"); err == nil {
		t.Errorf("m1: a:eth0 is still there after its cable moved to m3:\n%s", out)
	}
	for m, n := range run() {
		if n != 0 {
			t.Errorf("%s: the changed lab did not converge in one run: %d more changes", m, n)
		}
	}
	// m3's namespace c was made again (its unit changed), and its
	// interfaces with it, under new random MACs: the other machines'
	// neighbour entries for c's addresses name the old ones until the
	// kernel finds them unreachable and asks again (up to about a
	// minute). The first `netgen test` shows whether that happened, with
	// the neighbour tables; the second gives it a minute.
	for _, m := range ms {
		code, out, stderr := inContainer(t, m.c, "netgen test /var/lib/netgen/machines.yml")
		if code == 0 {
			continue
		}
		neigh, _, _ := m.c.Exec("sh", "-c", "ip neigh; for n in $(ls /run/netns); do echo == $n; ip -n $n neigh; done")
		links, _, _ := m3.c.Exec("ip", "-n", "c", "-br", "link")
		t.Logf("%s: netgen test right after the changed lab: exit %d\n%s%s\n%s neighbours:\n%s\nm3, namespace c:\n%s", m.name, code, out, stderr, m.name, neigh, links)
		start := time.Now()
		if code, out, stderr := inContainer(t, m.c, "netgen test --timeout 60s /var/lib/netgen/machines.yml"); code != 0 {
			t.Errorf("%s: netgen test of the changed lab, a minute later: exit %d\n%s%s", m.name, code, out, stderr)
		} else {
			t.Logf("%s: netgen test of the changed lab passes after %v more", m.name, time.Since(start).Round(time.Second))
		}
	}

	// netgen_state=absent (netgen down) removes every machine's part.
	for m, n := range run("-e", "netgen_state=absent") {
		if n == 0 {
			t.Errorf("%s: netgen_state=absent reports no change", m)
		}
	}
	for _, m := range ms {
		out, _, _ := m.c.Exec("sh", "-c", "ls /run/netns; ls /var/lib/netgen; ip -br link | grep -v -e '^lo ' -e '^ul0@'; ls /etc/systemd/network /etc/systemd/system | grep netgen")
		if strings.TrimSpace(out) != "" {
			t.Errorf("%s: left after netgen_state=absent:\n%s", m.name, out)
		}
	}
	t.Logf("three machines through the role: %v", time.Since(start).Round(time.Second))
}

// machineState prints what an unchanged run must not change on a machine:
// each of the lab's files (inode, mtime), every link's ifindex in every
// namespace, each namespace's inode, each unit's start time.
func machineState(t *testing.T, m *machine) string {
	t.Helper()
	out, stderr, err := m.c.Exec("sh", "-c", `
for f in /etc/systemd/network/*netgen-machines* /etc/systemd/system/netgen-machines* /etc/systemd/system/*.wants/netgen-machines* /var/lib/netgen/* /usr/local/bin/netgen; do
  [ -e "$f" ] && stat -c '%n %i %Y' "$f"
done
ip -o link | awk '{print "root", $1, $2}'
for ns in $(ls /run/netns); do
  ip -n $ns -o link | awk -v ns=$ns '{print ns, $1, $2}'
  stat -L -c "netns %n %i" /run/netns/$ns
done
systemctl show -p Id -p ActiveEnterTimestampMonotonic $(cd /etc/systemd/system && ls -d netgen-machines* 2>/dev/null)
`)
	if err != nil {
		t.Fatalf("%s: state: %v\n%s", m.name, err, stderr)
	}
	return out
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
