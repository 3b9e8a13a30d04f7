package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAnsibleRole runs the role ansible/roles/netgen with Debian's
// ansible-playbook against three hosts m1, m2, m3 that are directories on
// this machine (connection local, netgen_root: `netgen build --root`, so
// that nothing running is touched): the first run builds every machine's
// part and reports changes, the second reports none and changes no file,
// check mode with a changed lab reports changes and writes nothing, the
// real run converges, and netgen_state=absent removes every part.
func TestAnsibleRole(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("!!! ansible-playbook is missing (setup.sh installs Debian's ansible): the role is NOT tested")
	}
	dir := t.TempDir()
	bin := netgenBinary(t)
	lab := filepath.Join(dir, "machines.yml")
	src := mustRead(t, filepath.Join(examplesDir, "machines.yml"))
	must(t, os.WriteFile(lab, []byte(src), 0o644))
	var inv strings.Builder
	inv.WriteString("[lab]\n")
	roots := map[string]string{}
	for _, m := range []string{"m1", "m2", "m3"} {
		root := filepath.Join(dir, m)
		for _, d := range []string{"etc/systemd/network", "etc/systemd/system", "var/lib/netgen"} {
			must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
		}
		roots[m] = root
		fmt.Fprintf(&inv, "%s ansible_connection=local netgen_root=%s netgen_lab_dir=%s/var/lib/netgen\n", m, root, root)
	}
	fmt.Fprintf(&inv, "[lab:vars]\nansible_python_interpreter=/usr/bin/python3\nnetgen_bin=%s\nnetgen_lab=%s\n", bin, lab)
	must(t, os.WriteFile(filepath.Join(dir, "inventory.ini"), []byte(inv.String()), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "play.yml"), []byte("- hosts: lab\n  gather_facts: false\n  roles: [netgen]\n"), 0o644))
	run := func(args ...string) map[string]int {
		t.Helper()
		return playbook(t, dir, "play.yml", nil, []string{"m1", "m2", "m3"}, args...)
	}
	tree := func() string {
		var b strings.Builder
		for _, m := range []string{"m1", "m2", "m3"} {
			filepath.Walk(roots[m], func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() && !strings.Contains(p, ".netgen-src-") {
					data, _ := os.ReadFile(p)
					fmt.Fprintf(&b, "%s %d %s\n%s\n", p, fi.Size(), fi.ModTime(), data)
				}
				return nil
			})
		}
		return b.String()
	}
	netdev := func(m, name string) string {
		return filepath.Join(roots[m], "etc/systemd/network", "50-netgen-machines_"+name+".netdev")
	}

	for m, n := range run() {
		if n == 0 {
			t.Errorf("%s: the first run changed nothing", m)
		}
	}
	if _, err := os.Stat(netdev("m1", "vxlan-to-c")); err != nil {
		t.Errorf("m1's part is not built: %v", err)
	}
	if _, err := os.Stat(netdev("m2", "vxlan-to-c")); err == nil {
		t.Errorf("m2 has m1's cable end")
	}
	before := tree()
	for m, n := range run() {
		if n != 0 {
			t.Errorf("%s: the unchanged re-run reports %d changes", m, n)
		}
	}
	if tree() != before {
		t.Errorf("the unchanged re-run changed files")
	}

	// The cable a—b moves to c—b: m1, m2 and m3 change.
	moved := strings.Replace(src, "{name: a:eth0, addresses: [10.9.0.1/30]}", "{name: c:eth2, addresses: [10.9.0.1/30]}", 1)
	must(t, os.WriteFile(lab, []byte(moved), 0o644))
	for m, n := range run("--check", "--diff") {
		if n == 0 {
			t.Errorf("%s: check mode with a changed lab reports no change", m)
		}
	}
	if tree() != before {
		t.Errorf("check mode changed files")
	}
	run()
	if _, err := os.Stat(filepath.Join(roots["m3"], "etc/systemd/system/netgen-machines_ns-c.service")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mustRead(t, filepath.Join(roots["m3"], "etc/systemd/system/netgen-machines_ns-c.service")), "link add name eth2 netns c") {
		t.Errorf("m3 did not get the moved cable's end")
	}
	for m, n := range run() {
		if n != 0 {
			t.Errorf("%s: the changed lab did not converge in one run: %d more changes", m, n)
		}
	}

	for m, n := range run("-e", "netgen_state=absent") {
		if n == 0 {
			t.Errorf("%s: netgen_state=absent changed nothing", m)
		}
	}
	if left := tree(); left != "" {
		t.Errorf("left after netgen_state=absent:\n%s", left)
	}
}

// playbook runs Debian's ansible-playbook with this repository's roles on
// play and inventory.ini in dir, its command line after wrap (`ip netns
// exec NS` puts the controller on the machines' underlay), and returns
// each host's changed count from the recap. A run that fails, or a recap
// that misses a host, fails the test.
func playbook(t *testing.T, dir, play string, wrap, hosts []string, args ...string) map[string]int {
	t.Helper()
	roles, _ := filepath.Abs("../ansible/roles")
	argv := append(append(slices.Clone(wrap), "ansible-playbook", "-i", "inventory.ini", play), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	// Nothing of the run lands in this machine's ~/.ansible or ~/.ssh.
	cmd.Env = append(os.Environ(), "ANSIBLE_ROLES_PATH="+roles, "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, ".ansible"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(dir, ".ansible-remote"), "ANSIBLE_SSH_CONTROL_PATH_DIR="+filepath.Join(dir, ".ansible-cp"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ansible-playbook %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	changed := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^(\S+)\s+: ok=\d+\s+changed=(\d+)`).FindAllStringSubmatch(string(out), -1) {
		changed[m[1]], _ = strconv.Atoi(m[2])
	}
	for _, h := range hosts {
		if _, ok := changed[h]; !ok {
			t.Fatalf("ansible-playbook %s: no recap for %s:\n%s", strings.Join(args, " "), h, out)
		}
	}
	t.Logf("ansible-playbook %s: changed %v", strings.Join(args, " "), changed)
	return changed
}

// readmePlaybook is the playbook the README shows for the role: the
// YAML block that starts with its ansible-playbook command line.
func readmePlaybook(t *testing.T) string {
	t.Helper()
	readme := mustRead(t, "../README.md")
	i := strings.Index(readme, "# ansible-playbook -i inventory.ini site.yml")
	if i < 0 {
		t.Fatal("README.md shows no playbook for the role (a YAML block starting `# ansible-playbook -i inventory.ini site.yml`)")
	}
	end := strings.Index(readme[i:], "```")
	if end < 0 {
		t.Fatal("README.md: the playbook's block does not end")
	}
	return readme[i : i+end]
}
