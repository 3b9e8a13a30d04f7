package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/install"
)

// nftPaths are where Debian and the other distributions put nft(8).
var nftPaths = []string{"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"}

// checkTools says, before anything is written, that the target (the
// image with --root, else this machine) lacks a program the lab's units
// run: nft for a masquerade that a unit owns. A unit without it would fail
// at every start.
func checkTools(p *generator.Plan, d install.Dirs) error {
	if !p.NeedsNft() {
		return nil
	}
	for _, path := range nftPaths {
		if fi, err := os.Stat(filepath.Join(d.Root, path)); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return nil
		}
	}
	if d.Root == "" || d.Root == "/" {
		if _, err := exec.LookPath("nft"); err == nil {
			return nil
		}
	}
	where := "this machine"
	if d.Root != "" && d.Root != "/" {
		where = "the image in " + d.Root
	}
	return &toolError{fmt.Sprintf("lab %s masquerades inside a namespace (or on a host end a namespace's unit owns), which needs nft(8), and %s has none (looked in %v); install nftables there; nothing was written", p.Lab, where, nftPaths)}
}

// toolError is a program missing on the target. It is found before
// anything is written, so its exit status is ExitWrite's "nothing was
// changed", not ExitApply's "written, but not running".
type toolError struct{ msg string }

func (e *toolError) Error() string { return e.msg }
