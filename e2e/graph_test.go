package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMermaidRenders: Mermaid's own command line (mmdc from
// @mermaid-js/mermaid-cli, installed by setup.sh with `npm ci` in
// internal/testkit/mermaid, driving Debian's chromium) renders every
// golden Mermaid graph of internal/graph, and says nothing but that it
// generated them. It is here, with the slow tiers, because the browser
// takes about 3 s a graph on the test machine.
func TestMermaidRenders(t *testing.T) {
	dir, _ := filepath.Abs("../internal/testkit/mermaid")
	mmdc := filepath.Join(dir, "node_modules/.bin/mmdc")
	if _, err := os.Stat(mmdc); err != nil {
		t.Fatalf("mmdc is not installed: run ./setup.sh (%v)", err)
	}
	files, _ := filepath.Glob("../internal/graph/testdata/*.mmd")
	if len(files) == 0 {
		t.Fatal("no golden .mmd files in internal/graph/testdata")
	}
	var md bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		md.WriteString("# " + filepath.Base(f) + "\n\n```mermaid\n")
		md.Write(b)
		md.WriteString("```\n\n")
	}
	tmp := t.TempDir()
	in := filepath.Join(tmp, "all.md")
	if err := os.WriteFile(in, md.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(mmdc, "-p", filepath.Join(dir, "puppeteer.json"), "-i", in, "-o", filepath.Join(tmp, "out.md"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("mmdc: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "Found ") && !strings.HasPrefix(line, " ✅") {
			t.Errorf("mmdc said: %q", line)
		}
	}
	svgs, _ := filepath.Glob(filepath.Join(tmp, "out-*.svg"))
	if len(svgs) != len(files) {
		t.Errorf("mmdc wrote %d pictures for %d graphs:\n%s", len(svgs), len(files), stdout.String())
	}
}
