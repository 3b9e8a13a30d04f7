package testbed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// recipeVersion is part of the cache key: bump it whenever the image must be
// rebuilt for a reason the package list and setupScript do not show (for
// example a change in how debootstrap is called).
const recipeVersion = "1"

// suite is the Debian release the image is built from.
const suite = "bookworm"

// packages are installed on top of debootstrap's minbase. Every one costs
// build time and image size, which every test pays for again when it copies
// the image, so only what lab tests need is listed: systemd and its
// networkd, iproute2 for the units netgen writes, ping to prove connectivity,
// nftables for the units of a lab that masquerades, and a kernel (with kmod
// and udev) for the QEMU tier.
var packages = []string{
	"dbus",
	"iproute2",
	"iputils-ping",
	"kmod",
	"linux-image-amd64",
	"nftables",
	"procps",
	"systemd",
	"systemd-sysv",
	"udev",
}

// setupScript turns a fresh debootstrap tree ($1) into the test image. It runs
// on the host as root; its text is part of the cache key.
const setupScript = `
img=$1
ch() { chroot "$img" "$@"; }

# Nothing in the image may reach a package mirror, and the lists and debs are
# the bulk of what every copy would otherwise carry.
ch apt-get clean
rm -rf "$img"/var/lib/apt/lists/* "$img"/etc/apt/sources.list "$img"/etc/apt/sources.list.d/*
rm -rf "$img"/usr/share/doc/* "$img"/usr/share/man/* "$img"/usr/share/info/* "$img"/usr/share/locale/*

# Drivers no lab and no QEMU guest uses: about 150 MB less for every copy
# and every ext4 image. drivers/net stays whole (dummy, bonding, macvlan...).
kver=$(ls "$img/lib/modules")
k="$img/lib/modules/$kver/kernel"
rm -rf "$k/sound" "$k/drivers/gpu" "$k/drivers/media" "$k/drivers/infiniband" \
	"$k/drivers/iio" "$k/drivers/staging" "$k/drivers/comedi" "$k/drivers/net/wireless" \
	"$k/drivers/bluetooth" "$k/net/bluetooth" "$k/drivers/isdn" "$k/drivers/usb" \
	"$k/drivers/hid" "$k/drivers/hwmon" "$k/drivers/input" "$k/drivers/platform" \
	"$k/drivers/thunderbolt" "$k/drivers/misc" "$k/drivers/mmc" "$k/drivers/nfc"
ch depmod -a "$kver"

# MODULES=most makes a 36 MB initrd that TCG spends seconds unpacking;
# MODULES=dep would pick this build host's drivers. QEMU's root disk only
# needs these three.
sed -i 's/^MODULES=.*/MODULES=list/' "$img/etc/initramfs-tools/initramfs.conf"
printf '%s\n' virtio_pci virtio_blk ext4 >>"$img/etc/initramfs-tools/modules"
ch update-initramfs -u -k "$kver"

echo netgen-testbed >"$img/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tnetgen-testbed\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$img/etc/hosts"
# An empty machine-id would make every boot a first boot (systemd-firstboot
# may then prompt on the console and hang); a fixed one also makes
# networkd's generated MAC addresses the same in every copy.
[ -s "$img/etc/machine-id" ] || ch systemd-machine-id-setup
# Lets a person log in on the QEMU serial console when debugging by hand.
ch passwd -d root

ch systemctl enable systemd-networkd.service
# Timers that would start work in the middle of a test, and units that only
# make sense on real hardware.
ch systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
	e2scrub_all.timer e2scrub_reap.service fstrim.timer systemd-tmpfiles-clean.timer \
	systemd-firstboot.service
# wait-online waits 2 minutes when no link is managed; a lab that needs
# network-online.target should fail fast, not stall the boot.
mkdir -p "$img/etc/systemd/system/systemd-networkd-wait-online.service.d"
printf '[Service]\nTimeoutStartSec=30s\n' >"$img/etc/systemd/system/systemd-networkd-wait-online.service.d/netgen-testbed.conf"
mkdir -p "$img/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=persistent\nSystemMaxUse=32M\n' >"$img/etc/systemd/journald.conf.d/netgen-testbed.conf"
`

// hostTools maps each host command the testbed runs to the Debian package
// that provides it.
var hostTools = []struct{ cmd, pkg string }{
	{"debootstrap", "debootstrap"},
	{"systemd-nspawn", "systemd-container"},
	{"qemu-system-x86_64", "qemu-system-x86"},
	{"mkfs.ext4", "e2fsprogs"},
	{"nsenter", "util-linux"},
	{"chroot", "coreutils"},
}

// hostEnv is the environment of every command the testbed runs, so that a
// test runner's PATH (often without sbin) or locale does not change results.
var hostEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C.UTF-8",
	"DEBIAN_FRONTEND=noninteractive",
	"SYSTEMD_PAGER=",
	"SYSTEMD_COLORS=0",
	"TERM=dumb",
}

// Image is a cached, booted-never Debian root tree plus the kernel and
// initrd to boot it under QEMU. Its files are shared by every test: use
// Copy, never modify Root.
type Image struct {
	Key    string // cache key: hash of the recipe
	Dir    string // $NETGEN_TEST_CACHE/image-KEY
	Root   string // Dir/root, the pristine tree
	Kernel string // Dir/vmlinuz
	Initrd string // Dir/initrd.img
	cache  string
}

// CacheDir is where images and test copies live: $NETGEN_TEST_CACHE, or
// /var/cache/netgen-test.
func CacheDir() string {
	if d := os.Getenv("NETGEN_TEST_CACHE"); d != "" {
		return d
	}
	return "/var/cache/netgen-test"
}

// imageKey changes whenever anything that shapes the image's content does.
func imageKey() string {
	h := sha256.New()
	fmt.Fprintf(h, "recipe %s\nsuite %s\npackages %s\n%s", recipeVersion, suite,
		strings.Join(packages, ","), setupScript)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// RequireBoot skips the test, loudly, unless boot tests were asked for and
// can run. A silent skip would let a CI run look green while proving nothing
// about real boots.
func RequireBoot(t testing.TB) {
	t.Helper()
	var why []string
	if os.Getenv("NETGEN_BOOT") != "1" {
		why = append(why, "NETGEN_BOOT is not 1")
	}
	if os.Geteuid() != 0 {
		why = append(why, "not running as root (euid "+strconv.Itoa(os.Geteuid())+")")
	}
	if len(why) == 0 {
		return
	}
	bar := strings.Repeat("!", 72)
	t.Skipf("\n%s\n!!! BOOT TEST SKIPPED: %s.\n!!! Nothing was booted; this test proves nothing in this run.\n"+
		"!!! Run as root with NETGEN_BOOT=1 to boot labs under systemd-nspawn and QEMU.\n%s",
		bar, strings.Join(why, " and "), bar)
}

// EnsureImage returns the test image, building it first if the cache holds
// none for the current recipe (about 1.5 minutes; later calls take
// milliseconds). It installs missing host tools with apt-get. It skips the
// test unless NETGEN_BOOT=1 and running as root.
func EnsureImage(t testing.TB) *Image {
	t.Helper()
	RequireBoot(t)
	cache := CacheDir()
	key := imageKey()
	img := &Image{Key: key, cache: cache, Dir: filepath.Join(cache, "image-"+key)}
	img.Root = filepath.Join(img.Dir, "root")
	img.Kernel = filepath.Join(img.Dir, "vmlinuz")
	img.Initrd = filepath.Join(img.Dir, "initrd.img")

	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	unlock, err := lockCache(cache)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	defer unlock()
	// Tools are checked even when the image exists: the QEMU and nspawn tiers
	// need them, and a cache directory can outlive a machine's packages.
	if err := ensureHostTools(t); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	cleanStaleWork(cache)
	// Under the lock, any build directory is one whose builder died.
	if stale, _ := filepath.Glob(filepath.Join(cache, "build-*")); len(stale) > 0 {
		for _, d := range stale {
			removeBuild(d)
		}
	}
	if _, err := os.Stat(filepath.Join(img.Dir, "ready")); err == nil {
		return img
	}
	if err := buildImage(t, img); err != nil {
		t.Fatalf("testbed: building the boot image: %v", err)
	}
	return img
}

// lockCache serialises image builds and apt-get runs between test processes
// (go test runs packages in parallel). The lock dies with the process, so a
// crashed build never wedges later runs.
func lockCache(cache string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(cache, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// lookTool finds a host command, also in the sbin directories that a
// non-login root shell or a CI runner may leave out of PATH.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func ensureHostTools(t testing.TB) error {
	t.Helper()
	var missing []string
	for _, tool := range hostTools {
		if _, err := lookTool(tool.cmd); err != nil {
			missing = append(missing, tool.pkg)
		}
	}
	// Without it debootstrap cannot check what it downloads.
	if _, err := os.Stat("/usr/share/keyrings/debian-archive-keyring.gpg"); err != nil {
		missing = append(missing, "debian-archive-keyring")
	}
	if len(missing) == 0 {
		return nil
	}
	t.Logf("testbed: installing host packages: %s", strings.Join(missing, " "))
	// Recommends would pull a GTK front-end for QEMU: hundreds of MB for nothing.
	// Lock::Timeout: wait for, rather than fail on, an apt run that another
	// program started.
	args := append([]string{"install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300"}, missing...)
	out, err := runCmd(10*time.Minute, "apt-get", args...)
	if err != nil {
		// A fresh machine may have no package lists yet, or stale ones.
		if uout, uerr := runCmd(10*time.Minute, "apt-get", "update", "-q"); uerr != nil {
			return fmt.Errorf("apt-get update: %v\n%s", uerr, tail(uout, 30))
		}
		out, err = runCmd(10*time.Minute, "apt-get", args...)
	}
	if err != nil {
		return fmt.Errorf("apt-get install %s: %v\n%s", strings.Join(missing, " "), err, tail(out, 30))
	}
	return nil
}

// runCmd runs a host command with hostEnv and returns its combined output.
func runCmd(timeout time.Duration, name string, args ...string) (string, error) {
	path, err := lookTool(name)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = hostEnv
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = runKilled(cmd, timeout, name)
	return out.String(), err
}

func buildImage(t testing.TB, img *Image) error {
	t.Helper()
	start := time.Now()
	mirror, keyring, err := hostMirror()
	if err != nil {
		return err
	}
	t.Logf("testbed: building Debian %s boot image %s from the host's mirror (one time, about 1.5 min)", suite, img.Key)

	tmp, discard, keep, err := buildDir(img.cache, "build-")
	if err != nil {
		return err
	}
	defer discard()
	debs := filepath.Join(img.cache, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return err
	}
	root := filepath.Join(tmp, "root")
	args := []string{
		"--variant=minbase",
		"--include=" + strings.Join(packages, ","),
		"--components=main",
		// Keeps the downloaded packages so a recipe change rebuilds without
		// fetching everything again.
		"--cache-dir=" + debs,
	}
	if keyring != "" {
		args = append(args, "--keyring="+keyring)
	}
	args = append(args, suite, root, mirror)
	if out, err := runCmd(20*time.Minute, "debootstrap", args...); err != nil {
		return fmt.Errorf("debootstrap %s: %v\n%s", strings.Join(args, " "), err, tail(out, 40))
	}
	t.Logf("testbed: debootstrap done after %v", time.Since(start).Round(time.Second))

	if out, err := runCmd(10*time.Minute, "sh", "-euc", setupScript, "sh", root); err != nil {
		return fmt.Errorf("image setup script: %v\n%s", err, tail(out, 40))
	}
	for _, f := range []struct{ link, dst string }{{"vmlinuz", "vmlinuz"}, {"initrd.img", "initrd.img"}} {
		src, err := resolveInRoot(root, f.link)
		if err != nil {
			return err
		}
		if out, err := runCmd(time.Minute, "cp", src, filepath.Join(tmp, f.dst)); err != nil {
			return fmt.Errorf("copying %s: %v\n%s", src, err, out)
		}
	}
	recipe := fmt.Sprintf("key %s\nrecipe %s\nsuite %s\nmirror %s\npackages %s\nbuilt %s in %v\n",
		img.Key, recipeVersion, suite, mirror, strings.Join(packages, " "),
		time.Now().UTC().Format(time.RFC3339), time.Since(start).Round(time.Second))
	if err := os.WriteFile(filepath.Join(tmp, "ready"), []byte(recipe), 0o644); err != nil {
		return err
	}
	// A half-built image is never visible under the final name, so a build
	// killed at any point is simply redone.
	os.RemoveAll(img.Dir)
	if err := os.Rename(tmp, img.Dir); err != nil {
		return err
	}
	keep()
	removeStaleImages(img)
	t.Logf("testbed: boot image %s built in %v (%s)", img.Key, time.Since(start).Round(time.Second), duSize(img.Dir))
	return nil
}

// buildDir makes a directory in the cache to build in, readable like any
// cache (MkdirTemp makes it 0700). discard, deferred, removes it unless keep
// was called first.
func buildDir(cache, prefix string) (dir string, discard, keep func(), err error) {
	dir, err = os.MkdirTemp(cache, prefix)
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		return "", nil, nil, err
	}
	kept := false
	return dir, func() {
		if !kept {
			removeBuild(dir)
		}
	}, func() { kept = true }, nil
}

// removeBuild deletes a build directory. debootstrap mounts /proc and /sys
// (and may bind /dev) inside the tree and unmounts them only if it ends
// normally; deleting through such a mount would delete the host's files, so
// whatever is mounted below dir is detached first.
func removeBuild(dir string) {
	unmountUnder(dir)
	os.RemoveAll(dir)
}

func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		// Field 5 is the mount point, with spaces and such octal-escaped.
		p := unescapeMountinfo(f[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	// Deepest first: a mount cannot go before those on top of it.
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

func unescapeMountinfo(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// resolveInRoot follows a symlink inside root the way the image would see it,
// never escaping to the host's files.
func resolveInRoot(root, name string) (string, error) {
	p := name
	for range 10 {
		full := filepath.Join(root, p)
		target, err := os.Readlink(full)
		if errors.Is(err, syscall.EINVAL) {
			return full, nil
		}
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			p = target
		} else {
			p = filepath.Join(filepath.Dir(p), target)
		}
	}
	return "", fmt.Errorf("%s: too many symlinks in %s", name, root)
}

// removeStaleImages deletes images of other recipes and builds that died: at
// about 450 MB each they would otherwise pile up with every recipe change.
// The caller holds the cache lock, so no other build is running.
func removeStaleImages(keep *Image) {
	entries, _ := os.ReadDir(keep.cache)
	for _, e := range entries {
		name := e.Name()
		if (strings.HasPrefix(name, "image-") || strings.HasPrefix(name, "build-")) &&
			filepath.Join(keep.cache, name) != keep.Dir {
			removeBuild(filepath.Join(keep.cache, name))
		}
	}
}

func duSize(path string) string {
	out, err := runCmd(time.Minute, "du", "-sh", path)
	if err != nil {
		return "size unknown"
	}
	if f := strings.Fields(out); len(f) > 0 {
		return f[0]
	}
	return "size unknown"
}

// Copy returns a fresh, writable copy of the image's root tree, removed when
// the test ends. Copies live in the cache directory, next to the image, so
// that cp can share blocks where the file system supports reflinks.
func (img *Image) Copy(t testing.TB) string {
	t.Helper()
	dir := workDir(t, img.cache)
	dst := filepath.Join(dir, "root")
	start := time.Now()
	if out, err := runCmd(10*time.Minute, "cp", "-a", "--reflink=auto", img.Root, dst); err != nil {
		t.Fatalf("testbed: copying the image: %v\n%s", err, tail(out, 20))
	}
	t.Logf("testbed: image copied to %s in %v", dst, time.Since(start).Round(10*time.Millisecond))
	return dst
}

// workDir makes a directory under CACHE/work named after this process, so
// that cleanStaleWork can tell a crashed run's leftovers from a live one's.
func workDir(t testing.TB, cache string) string {
	t.Helper()
	base := filepath.Join(cache, "work")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	dir, err := os.MkdirTemp(base, strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("testbed: removing %s: %v", dir, err)
		}
	})
	return dir
}

// tail returns the last n lines of s: enough to see why a command failed
// without flooding the test log.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// runKilled runs cmd (which must set Setpgid) and kills its whole process
// group when it outlives timeout: a stuck debootstrap or nsenter must not
// hang the test run.
func runKilled(cmd *exec.Cmd, timeout time.Duration, what string) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return fmt.Errorf("%s: timed out after %v", what, timeout)
	}
}
