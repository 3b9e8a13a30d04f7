package testbed

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// layerScript installs packages ($4...) into an image copy ($1) from the
// host's mirror ($2) for suite $3. It runs in a mount namespace of its own
// (unshare), so /proc mounted for the maintainer scripts goes away with it
// whatever happens. Like the image, the layer keeps no package lists, no
// sources and no downloaded packages, and the image's resolv.conf comes
// back: nothing in a copy reaches a mirror.
const layerScript = `
root=$1 mirror=$2 suite=$3
shift 3
mount -t proc proc "$root/proc"
mv "$root/etc/resolv.conf" "$root/etc/resolv.conf.netgen-layer"
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
chroot "$root" apt-get update -q
chroot "$root" apt-get install -y -q --no-install-recommends "$@"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root/etc/apt/sources.list"
mv "$root/etc/resolv.conf.netgen-layer" "$root/etc/resolv.conf"
umount "$root/proc"
`

// With returns the image with pkgs installed on top, for the few tests that
// need more than every test should copy (python3 and openssh-server for
// Ansible over SSH: 45 MB more in every copy). It is cached beside the
// image in layer-KEY (built once, 15 s here: apt in a chroot of a copy,
// from the host's mirror) and keyed by the image's key, the packages and
// the script, so the base image and its cache key stay as they are: a
// change of the base package list would make every test of every branch
// rebuild it. Copy, BootNspawn and the rest take the result as they take
// the image. Whatever the packages' maintainer scripts generate once (an
// SSH server's host keys) is the same in every copy.
func (img *Image) With(t testing.TB, pkgs ...string) *Image {
	t.Helper()
	pkgs = slices.Sorted(slices.Values(pkgs))
	h := sha256.Sum256([]byte(img.Key + "\n" + strings.Join(pkgs, ",") + "\n" + layerScript))
	key := img.Key + "-" + hex.EncodeToString(h[:])[:8]
	l := &Image{Key: key, cache: img.cache, Dir: filepath.Join(img.cache, "layer-"+key), Kernel: img.Kernel, Initrd: img.Initrd}
	l.Root = filepath.Join(l.Dir, "root")
	unlock, err := lockCache(img.cache)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(l.Dir, "ready")); err == nil {
		return l
	}
	if err := buildLayer(t, img, l, pkgs); err != nil {
		t.Fatalf("testbed: adding %s to the boot image: %v", strings.Join(pkgs, " "), err)
	}
	return l
}

func buildLayer(t testing.TB, img, l *Image, pkgs []string) error {
	t.Helper()
	start := time.Now()
	mirror, _, err := hostMirror()
	if err != nil {
		return err
	}
	tmp, discard, keep, err := buildDir(img.cache, "build-layer-")
	if err != nil {
		return err
	}
	defer discard()
	root := filepath.Join(tmp, "root")
	if out, err := runCmd(10*time.Minute, "cp", "-a", "--reflink=auto", img.Root, root); err != nil {
		return fmt.Errorf("copying the image: %v\n%s", err, tail(out, 20))
	}
	args := append([]string{"--mount", "--propagation", "private", "sh", "-euc", layerScript, "sh", root, mirror, suite}, pkgs...)
	if out, err := runCmd(10*time.Minute, "unshare", args...); err != nil {
		return fmt.Errorf("apt-get in a chroot of the copy: %v\n%s", err, tail(out, 40))
	}
	recipe := fmt.Sprintf("key %s\nimage %s\nmirror %s\npackages %s\nbuilt %s in %v\n", l.Key, img.Key, mirror,
		strings.Join(pkgs, " "), time.Now().UTC().Format(time.RFC3339), time.Since(start).Round(time.Second))
	if err := os.WriteFile(filepath.Join(tmp, "ready"), []byte(recipe), 0o644); err != nil {
		return err
	}
	os.RemoveAll(l.Dir)
	if err := os.Rename(tmp, l.Dir); err != nil {
		return err
	}
	keep()
	// Layers of an image that is gone are never used again.
	entries, _ := os.ReadDir(img.cache)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "layer-") && !strings.HasPrefix(e.Name(), "layer-"+img.Key+"-") {
			removeBuild(filepath.Join(img.cache, e.Name()))
		}
	}
	t.Logf("testbed: layer %s (%s) built in %v", l.Key, strings.Join(pkgs, " "), time.Since(start).Round(time.Second))
	return nil
}
