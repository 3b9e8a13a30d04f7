package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/genmode"
	"github.com/netgen-lab/netgen/internal/install"
	"github.com/netgen-lab/netgen/internal/testkit/testbed"
)

// The nspawn tier also boots the Debian package: built by
// packaging/build-deb.sh, installed with apt into the image before boot,
// with testdata/genmode/genlab.yml and a broken lab in /etc/netgen. The
// boot itself proves generator mode (the lab is judged with the others: no
// command was run for it); checkGenmode then proves the rest.

const (
	genLab    = "testdata/genmode/genlab.yml"
	brokenLab = "testdata/genmode/broken.yml"
)

// debPackage builds the Debian package and returns its path, the last line
// build-deb.sh prints.
func debPackage(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("../packaging/build-deb.sh", out)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("packaging/build-deb.sh: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	deb := lines[len(lines)-1]
	if _, err := os.Stat(deb); err != nil || filepath.Dir(deb) != out {
		t.Fatalf("build-deb.sh's last line %q is not the package it wrote in %s (%v)", deb, out, err)
	}
	return deb
}

// prepareGenmode installs the package into the image copy and puts the
// two lab files in /etc/netgen; it returns the valid lab, to be judged
// with the others after boot.
func prepareGenmode(t *testing.T, root string) bootLab {
	t.Helper()
	testbed.InstallDeb(t, root, debPackage(t))
	for _, src := range []string{genLab, brokenLab} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/netgen", filepath.Base(src)), data, 0o644); err != nil {
			t.Fatalf("the package did not make /etc/netgen: %v", err)
		}
	}
	return loadLab(t, genLab)
}

// checkGenmode checks, on the booted container, what the boot's judge does
// not: the broken lab left nothing and was logged with its positioned
// errors, the lab is on the system once (in the runtime directories), and
// netgen build of the same file finds it up to date, applies a change
// live, and still finds it up to date after a daemon-reload (which re-runs
// the generator).
func checkGenmode(t *testing.T, c *testbed.Container, lab bootLab) {
	t.Helper()
	target := lab.Res.Plan.Target
	bad := func(format string, args ...any) {
		t.Errorf("nspawn generator mode: %s", fmt.Sprintf(format, args...))
	}
	// The generator runs with PID 1's standard error, the console, where
	// nspawn gives no /dev/kmsg; nspawn passes the console on at the end.
	t.Cleanup(func() {
		c.Stop()
		console := c.Console()
		for _, want := range []string{
			`netgen-generator: /etc/netgen/broken.yml:6:14: error: unknown key "sttp" in bridge "brokenbr"`,
			`netgen-generator: /etc/netgen/broken.yml:8:34: error: "10.77.0.300/24" is not an address in CIDR notation`,
			"netgen-generator: error: /etc/netgen/broken.yml: lab skipped for 2 errors: nothing of it comes up",
		} {
			if !strings.Contains(console, want) {
				bad("the console lacks %q; console:\n%s", want, console)
			}
		}
	})

	where := func() {
		t.Helper()
		if out, _, _ := c.Exec("grep", "-rl", `lab "broken"`, "/run/systemd", "/etc/systemd"); out != "" {
			bad("the broken lab left files:\n%s", out)
		}
		if out, _, _ := c.Exec("grep", "-rl", `lab "genlab"`, "/etc/systemd"); out != "" {
			bad("lab genlab has files in /etc/systemd besides the generator's:\n%s", out)
		}
		if _, _, err := c.Exec("test", "-f", filepath.Join(genmode.NetworkDir, install.RecordName(lab.Res.Plan.Lab))); err != nil {
			bad("no record in /run/systemd/network: %v", err)
		}
		out, _, _ := c.Exec("systemctl", "show", "-P", "FragmentPath", target)
		if got := strings.TrimSpace(out); got != filepath.Join(genmode.UnitDir, target) {
			bad("%s is loaded from %q, want the generator's directory", target, got)
		}
	}
	where()

	build := func(args ...string) (string, string, error) {
		return c.Exec(append([]string{"/usr/bin/netgen", "build", "/etc/netgen/genlab.yml"}, args...)...)
	}
	if stdout, stderr, err := build(); err != nil || !strings.Contains(stderr, "netgen: lab genlab is up to date") || stdout != "" {
		bad("netgen build after boot: %v, stdout %q, stderr %q; want up to date", err, stdout, stderr)
	}

	// A change applied live to the file the generator reads.
	if _, stderr, err := c.Exec("sed", "-i", "s|192.168.77.12/24|192.168.77.13/24|", "/etc/netgen/genlab.yml"); err != nil {
		t.Fatalf("sed: %v %s", err, stderr)
	}
	if _, stderr, err := build(); err != nil {
		bad("netgen build of the changed lab: %v\n%s", err, stderr)
	}
	ping := "for i in $(seq 30); do ip netns exec gen1 ping -c1 -W1 192.168.77.13 >/dev/null && exit 0; done; exit 1"
	if _, _, err := c.Exec("sh", "-c", ping); err != nil {
		bad("gen1 does not reach gen2's new address 192.168.77.13 after netgen build")
	}
	if out, _, _ := c.Exec("ip", "-n", "gen2", "-br", "addr", "show", "eth0"); !strings.Contains(out, "192.168.77.13/24") || strings.Contains(out, "192.168.77.12/") {
		bad("gen2:eth0 after the change: %s", out)
	}
	where()
	if stdout, stderr, err := c.Exec("/usr/bin/netgen", "status", "/etc/netgen/genlab.yml"); err != nil || !strings.Contains(stdout, "as the lab says (") {
		bad("netgen status after the change: %v\n%s%s", err, stdout, stderr)
	}

	// A daemon-reload empties the generator's directory and runs the
	// generator again: the lab's units come back, and the system still
	// matches the lab.
	if _, stderr, err := c.Exec("systemctl", "daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v %s", err, stderr)
	}
	if stdout, stderr, err := build("--check"); err != nil || stdout != "" {
		bad("netgen build --check after daemon-reload: %v, stdout %q, stderr %q; want up to date", err, stdout, stderr)
	}
	if out, _, _ := c.Exec("systemctl", "is-active", target); strings.TrimSpace(out) != "active" {
		bad("%s is %q after daemon-reload", target, strings.TrimSpace(out))
	}
	where()

	// netgen down by name finds the lab in /run, takes it down and says
	// that the file brings it back at the next boot; a daemon-reload does
	// not bring it back before that.
	_, stderr, err := c.Exec("/usr/bin/netgen", "down", lab.Res.Plan.Lab)
	if err != nil || !strings.Contains(stderr, "remove its file there too, or it comes back at the next boot") {
		bad("netgen down %s: %v\n%s", lab.Res.Plan.Lab, err, stderr)
	}
	if _, stderr, err := c.Exec("systemctl", "daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v %s", err, stderr)
	}
	if out, _, _ := c.Exec("grep", "-rl", `lab "genlab"`, "/run/systemd", "/etc/systemd"); out != "" {
		bad("files of the lab after netgen down and daemon-reload:\n%s", out)
	}
	if out, _, _ := c.Exec("ls", "/run/netns"); strings.Contains(out, "gen1") || strings.Contains(out, "gen2") {
		bad("namespaces of the lab after netgen down: %s", out)
	}
	if out, _, _ := c.Exec("systemctl", "is-active", target); strings.TrimSpace(out) == "active" {
		bad("%s is active after netgen down and daemon-reload", target)
	}
}

// prepareKmsg installs the package and the broken lab into an image for
// the QEMU tier, whose guest has a real /dev/kmsg (nspawn gives a
// container none): the generator's errors must reach the journal there.
func prepareKmsg(t *testing.T, root string) {
	t.Helper()
	testbed.InstallDeb(t, root, debPackage(t))
	data, err := os.ReadFile(brokenLab)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/netgen", filepath.Base(brokenLab)), data, 0o644); err != nil {
		t.Fatalf("the package did not make /etc/netgen: %v", err)
	}
}

// checkKmsg looks for the broken lab's errors among the boot's journal
// warnings: logged by the generator to the kernel log, imported by
// journald under the generator's name.
func checkKmsg(t *testing.T, tier string, rep report) {
	t.Helper()
	for _, want := range []string{
		`netgen-generator[`,
		`]: /etc/netgen/broken.yml:6:14: error: unknown key "sttp" in bridge "brokenbr"`,
		`]: /etc/netgen/broken.yml:8:34: error: "10.77.0.300/24" is not an address in CIDR notation`,
		"]: error: /etc/netgen/broken.yml: lab skipped for 2 errors: nothing of it comes up",
	} {
		if !strings.Contains(rep["journal"], want) {
			t.Errorf("%s: the journal lacks the generator's %q:\n%s", tier, want, rep["journal"])
		}
	}
}
