package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseDeb822(t *testing.T) {
	text := `# comment
Types: deb deb-src
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main

Enabled: no
Types: deb
URIs: http://disabled.invalid/debian
Suites: bookworm
Components: main

Types: deb-src
URIs: http://src.invalid/debian
Suites: bookworm
Components: main

Types: deb
URIs: https://inline.invalid/repo
Suites: stable
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 -----END PGP PUBLIC KEY BLOCK-----
`
	got := parseDeb822(text)
	if len(got) != 3 {
		t.Fatalf("parsed %d sources, want 3: %+v", len(got), got)
	}
	if got[0].uri != "http://mirror.invalid/debian" || strings.Join(got[0].suites, ",") != "bookworm,bookworm-updates" ||
		got[0].signedBy != "/usr/share/keyrings/debian-archive-keyring.gpg" {
		t.Errorf("first source: %+v", got[0])
	}
	if !strings.Contains(got[2].signedBy, "BEGIN PGP") {
		t.Errorf("inline key lost: %+v", got[2])
	}
	src, ok := pickMirror(got, "bookworm")
	if !ok || src.uri != "http://mirror.invalid/debian" {
		t.Errorf("pickMirror = %+v, %v", src, ok)
	}
}

func TestParseOneLineAndPick(t *testing.T) {
	text := `
deb http://security.invalid/debian-security bookworm-security main
deb [arch=amd64 signed-by=/k.gpg] https://other.invalid/apt nodistro main
deb [ arch=amd64 ] http://mirror.invalid/debian trixie main # trailing comment
# deb http://commented.invalid/debian bookworm main
deb cdrom:[Debian]/ bookworm main
`
	got := parseOneLine(text)
	if len(got) != 4 {
		t.Fatalf("parsed %d sources, want 4: %+v", len(got), got)
	}
	if got[1].signedBy != "/k.gpg" || got[1].uri != "https://other.invalid/apt" {
		t.Errorf("options: %+v", got[1])
	}
	// No source has bookworm itself: a Debian base suite's mirror serves it too,
	// and beats a third-party repository; security archives never qualify.
	src, ok := pickMirror(got, "bookworm")
	if !ok || src.uri != "http://mirror.invalid/debian" {
		t.Errorf("pickMirror = %+v, %v", src, ok)
	}
	if _, ok := pickMirror(got[:1], "bookworm"); ok {
		t.Errorf("a security archive was picked as the mirror")
	}
}

func TestImageKeyFollowsRecipe(t *testing.T) {
	before := imageKey()
	saved := packages
	t.Cleanup(func() { packages = saved })
	packages = append(append([]string{}, saved...), "tcpdump")
	if imageKey() == before {
		t.Errorf("changing the package list kept the cache key %s", before)
	}
}

func TestParseReport(t *testing.T) {
	report := "@@NETGEN-TESTBED-STATE 2 degraded\n" +
		"@@NETGEN-TESTBED-FAILED 2 foo.service\n" +
		"@@NETGEN-TESTBED-BEGIN 2\n" +
		"line one\nno newline" +
		"\n@@NETGEN-TESTBED-END 2 3\n"
	b := QEMUBoot{N: 2}
	if err := b.parse(report); err != nil {
		t.Fatal(err)
	}
	if b.State != "degraded" || strings.Join(b.FailedUnits, ",") != "foo.service" ||
		b.Output != "line one\nno newline" || b.ExitCode != 3 {
		t.Errorf("parsed %+v", b)
	}
	// A report numbered for another boot means the disk lost its state.
	if err := (&QEMUBoot{N: 1}).parse(report); err == nil {
		t.Errorf("a report of boot 2 was taken for boot 1")
	}
	if err := (&QEMUBoot{N: 2}).parse(strings.Split(report, "\n@@NETGEN-TESTBED-END")[0]); err == nil {
		t.Errorf("a report without END was taken as complete")
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	if got := unescapeMountinfo(`/a\040b\011c\134d`); got != "/a b\tc\\d" {
		t.Errorf("got %q", got)
	}
}

// TestRemoveBuildUnmounts guards the host: a build killed while debootstrap
// had /proc or /dev mounted in the tree must not make RemoveAll walk into
// them.
func TestRemoveBuildUnmounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	dir := t.TempDir()
	build := filepath.Join(dir, "build-x")
	inner := filepath.Join(build, "root", "proc")
	if err := os.MkdirAll(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", inner, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount here: %v", err)
	}
	outside := filepath.Join(dir, "keep")
	if err := os.WriteFile(outside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A file that lives only in the mounted file system: after removeBuild
	// the mount must be gone, not merely emptied.
	if err := os.WriteFile(filepath.Join(inner, "canary"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	removeBuild(build)
	if _, err := os.Stat(build); !os.IsNotExist(err) {
		t.Errorf("build directory left: %v", err)
	}
	if data, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(data), build) {
		syscall.Unmount(inner, syscall.MNT_DETACH)
		t.Errorf("mount under the build directory left")
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("removeBuild touched a sibling: %v", err)
	}
}

// TestNspawnLab proves the nspawn tier: the image boots to "running" with
// systemd-networkd up, and a small lab of two namespaces works inside, cut
// off from the host's networks.
func TestNspawnLab(t *testing.T) {
	img := EnsureImage(t)
	c := BootNspawn(t, img.Copy(t))
	if c.State != "running" {
		t.Errorf("system state %q, failed units %v", c.State, c.FailedUnits)
	}
	if out, _, err := c.Exec("systemctl", "is-active", "systemd-networkd.service"); strings.TrimSpace(out) != "active" {
		t.Errorf("systemd-networkd: %q %v", out, err)
	}
	// Only lo: the container must have no way to the host's networks.
	links := c.MustExec("ip", "-o", "link", "show")
	if n := strings.Count(strings.TrimSpace(links), "\n") + 1; n != 1 || !strings.Contains(links, " lo:") {
		t.Errorf("container links, want lo alone:\n%s", links)
	}
	c.MustExec("sh", "-ec", `
ip netns add a
ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 192.0.2.1/24 dev va
ip -n b addr add 192.0.2.2/24 dev vb
ip -n a addr add 2001:db8::1/64 dev va nodad
ip -n b addr add 2001:db8::2/64 dev vb nodad
ip -n a link set va up
ip -n b link set vb up
`)
	for _, dst := range []string{"192.0.2.2", "2001:db8::2"} {
		out, errOut, err := c.Exec("ip", "netns", "exec", "a", "ping", "-c", "2", "-i", "0.2", "-W", "2", dst)
		if err != nil || !strings.Contains(out, "2 received") {
			t.Errorf("ping %s from netns a: %v\n%s%s", dst, err, out, errOut)
		}
	}
	if j := c.Journal(); !strings.Contains(j, "Startup finished") {
		t.Errorf("journal lacks the end of startup:\n%s", tail(j, 30))
	}
}

// TestNspawnTwoAtOnce guards the cgroup set-up: on a host without systemd,
// two containers started from the same cgroup would share one, and the
// second's systemd would take the first's processes for its own.
func TestNspawnTwoAtOnce(t *testing.T) {
	img := EnsureImage(t)
	a := BootNspawn(t, img.Copy(t))
	b := BootNspawn(t, img.Copy(t))
	for _, c := range []*Container{a, b} {
		if c.State != "running" {
			t.Errorf("%s: state %q, failed units %v", c.Machine, c.State, c.FailedUnits)
		}
		cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", c.PID))
		if err == nil && !hostHasSystemd() && !strings.Contains(string(cg), c.Machine) {
			t.Errorf("%s: PID 1 is not in its own cgroup:\n%s", c.Machine, cg)
		}
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if out := b.MustExec("systemctl", "is-system-running"); strings.TrimSpace(out) != "running" {
		t.Errorf("%s after stopping %s: %q", b.Machine, a.Machine, out)
	}
	// A stopped container's journal is still readable from its tree.
	if j := a.Journal(); !strings.Contains(j, "Startup finished") {
		t.Errorf("journal of the stopped container:\n%s", tail(j, 20))
	}
}

// TestStaleWorkIsReaped checks what a test process killed mid-test (say by
// go test -timeout) leaves behind: the next EnsureImage must leave no
// container running, no copy on disk and no cgroup.
func TestStaleWorkIsReaped(t *testing.T) {
	if os.Getenv("NETGEN_TESTBED_ORPHAN") == "1" {
		// The child: boot, report, and die without any cleanup.
		img := EnsureImage(t)
		c := BootNspawn(t, img.Copy(t))
		fmt.Printf("ORPHAN %d %s %s\n", c.PID, c.Machine, c.Root)
		os.Exit(0)
	}
	EnsureImage(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestStaleWorkIsReaped$", "-test.v")
	cmd.Env = append(os.Environ(), "NETGEN_TESTBED_ORPHAN=1")
	out, err := cmd.CombinedOutput()
	var pid int
	var machine, root string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "ORPHAN ") {
			fmt.Sscan(strings.TrimPrefix(line, "ORPHAN "), &pid, &machine, &root)
		}
	}
	if err != nil || pid == 0 {
		t.Fatalf("child test: %v\n%s", err, out)
	}
	EnsureImage(t)
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("container %s (PID %d) of the dead test still runs", machine, pid)
		}
		// Pdeathsig halts it, and the sweep runs again at every EnsureImage.
		EnsureImage(t)
	}
	EnsureImage(t)
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("the dead test's copy %s is still there (%v)", root, err)
	}
	for _, base := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"} {
		if m, _ := filepath.Glob(filepath.Join(base, cgroupPrefix+"*-"+machine)); len(m) > 0 {
			t.Errorf("cgroup of the dead test's container left: %v", m)
		}
	}
}

// TestQEMUFeatures proves the QEMU tier: Debian's kernel has what this host's
// lacks, and a second boot of the same disk sees what the first one left.
func TestQEMUFeatures(t *testing.T) {
	img := EnsureImage(t)
	root := img.Copy(t)
	if err := os.WriteFile(filepath.Join(root, "etc/systemd/network/50-tb-dummy.netdev"),
		[]byte("[NetDev]\nName=tbdummy0\nKind=dummy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `set -e
echo "boot $NETGEN_TESTBED_BOOT"
if [ "$NETGEN_TESTBED_BOOT" = 1 ]; then
	# Names of their own: loading dummy and bonding creates dummy0 and bond0.
	ip link add tb-dummy type dummy
	ip link add tb-v0 type veth peer name tb-v1
	ip link add link tb-v0 name tb-v0.10 type vlan id 10
	ip link add tb-br type bridge vlan_filtering 1
	ip link set tb-v1 master tb-br
	bridge vlan add dev tb-v1 vid 10
	ip link add tb-bond type bond mode active-backup
	for l in tb-dummy tb-v0 tb-v1 tb-v0.10 tb-br tb-bond; do ip link set "$l" up; done
	echo "vlan_filtering=$(cat /sys/class/net/tb-br/bridge/vlan_filtering)"
	ip -d -o link show tb-v0.10 | grep -o 'vlan protocol 802.1Q id 10'
	bridge -o vlan show dev tb-v1 | grep -o ' 10'
	echo first-boot >/var/lib/netgen-testbed/marker
else
	cat /var/lib/netgen-testbed/marker
fi
echo "networkd=$(systemctl is-active systemd-networkd)"
ip -o link show tbdummy0 >/dev/null && echo tbdummy0=present
echo "devices=$(ls -d /sys/class/net/*/device 2>/dev/null | wc -l)"
`
	boots := RunQEMU(t, root, script, 2)
	if len(boots) != 2 {
		t.Fatalf("got %d boots, want 2", len(boots))
	}
	for _, b := range boots {
		t.Logf("boot %d output:\n%s", b.N, b.Output)
		if b.ExitCode != 0 || b.State != "running" {
			t.Errorf("boot %d: exit %d, state %q, failed %v, output:\n%s", b.N, b.ExitCode, b.State, b.FailedUnits, b.Output)
		}
		// devices=0: no NIC in the guest, only virtual links.
		for _, want := range []string{"networkd=active", "tbdummy0=present", "devices=0"} {
			if !strings.Contains(b.Output, want) {
				t.Errorf("boot %d: output lacks %q:\n%s", b.N, want, b.Output)
			}
		}
	}
	for _, want := range []string{"boot 1", "vlan_filtering=1", "vlan protocol 802.1Q id 10", " 10"} {
		if !strings.Contains(boots[0].Output, want) {
			t.Errorf("boot 1: output lacks %q:\n%s", want, boots[0].Output)
		}
	}
	for _, want := range []string{"boot 2", "first-boot"} {
		if !strings.Contains(boots[1].Output, want) {
			t.Errorf("boot 2: output lacks %q:\n%s", want, boots[1].Output)
		}
	}
}
