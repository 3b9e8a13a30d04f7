package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/render"
)

// TestSystemdAnalyzeVerify runs `systemd-analyze verify` on every unit of
// every example: systemd must accept each unit without a single complaint.
func TestSystemdAnalyzeVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skipf("SKIPPED: systemd-analyze is not installed: %v", err)
	}
	for _, path := range allLabPaths(t) {
		res := compileExample(t, path)
		dir := t.TempDir()
		var units []string
		for _, f := range res.Files {
			if f.Dir != render.UnitDir {
				continue
			}
			p := filepath.Join(dir, f.Name)
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			units = append(units, p)
		}
		if len(units) == 0 {
			continue
		}
		cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no"}, units...)...)
		// The lab's target must be found on the unit path for [Install].
		cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=notice", "SYSTEMD_UNIT_PATH="+dir+":")
		out, err := cmd.CombinedOutput()
		var problems []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, dir) || strings.Contains(line, "netgen-") {
				problems = append(problems, line)
			}
		}
		if err != nil || len(problems) > 0 {
			t.Errorf("%s: systemd-analyze verify (%v):\n%s", filepath.Base(path), err, out)
		}
	}
}
