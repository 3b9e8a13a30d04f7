package testbed

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// InstallDeb installs a Debian package into an image copy (root, from Copy)
// the way an administrator would, `apt install ./PACKAGE.deb`, run in a
// chroot of the tree. The image has no package lists: the package's
// dependencies must already be installed, as the image's are. Nothing runs
// from the tree on the host but apt and the package's maintainer scripts,
// and systemd is not running there, so a postinst sees an offline system.
func InstallDeb(t testing.TB, root, deb string) {
	t.Helper()
	data, err := os.ReadFile(deb)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	inside := "/tmp/" + filepath.Base(deb)
	if err := os.WriteFile(filepath.Join(root, inside), data, 0o644); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	defer os.Remove(filepath.Join(root, inside))
	out, err := runCmd(5*time.Minute, "chroot", root, "apt-get", "install", "-y", "-q", "--no-install-recommends", inside)
	if err != nil {
		t.Fatalf("testbed: apt-get install %s in %s: %v\n%s", filepath.Base(deb), root, err, tail(out, 30))
	}
}
