// Package packaging tests the Debian package that build-deb.sh makes: its
// contents, its metadata, lintian, its man pages and its shell completion.
// Installing and booting it is the nspawn tier's part (e2e/genmode_test.go).
package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/genmode"
)

// need skips the test, loudly, when a tool that setup.sh installs is
// missing.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("!!! %s is not installed (./setup.sh installs it): this test proves nothing in this run", tool)
		}
	}
}

func run(t *testing.T, name string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// TestDeb builds the package and checks what a user and Debian's tools see
// of it: the name build-deb.sh prints, every file in its place, the
// generator as a link to the binary, the dependencies, lintian with no
// tag at any level, and man pages that man renders without a warning.
func TestDeb(t *testing.T) {
	need(t, "dpkg-deb", "go-md2man", "lintian", "man")
	out := t.TempDir()
	stdout, _ := run(t, "./build-deb.sh", out)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	deb := lines[len(lines)-1]
	arch, _ := run(t, "dpkg", "--print-architecture")
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(out) + `/netgen_[0-9][0-9A-Za-z.+~]*_` + strings.TrimSpace(arch) + `\.deb$`).MatchString(deb) {
		t.Fatalf("last line %q is not OUTDIR/netgen_VERSION_ARCH.deb", deb)
	}

	contents, _ := run(t, "dpkg-deb", "--contents", deb)
	for _, want := range []string{
		"-rwxr-xr-x root/root .* ./usr/bin/netgen\n",
		"lrwxrwxrwx root/root .* ./usr/lib/systemd/system-generators/netgen-generator -> ../../../bin/netgen\n",
		" ./usr/share/man/man1/netgen.1.gz\n",
		" ./usr/share/man/man5/netgen-lab.5.gz\n",
		" ./usr/share/bash-completion/completions/netgen\n",
		" ./usr/share/zsh/vendor-completions/_netgen\n",
		" ./usr/share/netgen/netgen-lab.schema.json\n",
		" ./usr/share/doc/netgen/copyright\n",
		" ./usr/share/doc/netgen/changelog.gz\n",
		" ./usr/share/doc/netgen/examples/classic.yml\n",
		"drwxr-xr-x root/root .* ./etc/netgen/\n",
	} {
		if !regexp.MustCompile(want).MatchString(contents) {
			t.Errorf("the package lacks %q:\n%s", want, contents)
		}
	}
	control, _ := run(t, "dpkg-deb", "--field", deb, "Package", "Version", "Depends")
	if !strings.Contains(control, "Depends: iproute2, systemd (>= 247)\n") {
		t.Errorf("control fields:\n%s", control)
	}

	// lintian at every level, experimental tags included: nothing may
	// show but the overrides justified in lintian-overrides.
	cmd := exec.Command("lintian", "--pedantic", "--display-info", "--display-experimental",
		"--fail-on", "error,warning,info,pedantic,experimental", deb)
	lint, err := cmd.Output()
	if err != nil || len(bytes.TrimSpace(lint)) != 0 {
		t.Errorf("lintian %s: %v\n%s", filepath.Base(deb), err, lint)
	}

	// The package's files, unpacked.
	tree := t.TempDir()
	run(t, "dpkg-deb", "--extract", deb, tree)
	version, _ := run(t, filepath.Join(tree, "usr/bin/netgen"), "version")
	field, _ := run(t, "dpkg-deb", "--field", deb, "Version")
	if version != "netgen "+field {
		t.Errorf("netgen version says %q, the package %q", version, field)
	}
	for _, page := range []string{"usr/share/man/man1/netgen.1.gz", "usr/share/man/man5/netgen-lab.5.gz"} {
		cmd := exec.Command("man", "--warnings", "-l", filepath.Join(tree, page))
		cmd.Env = append(os.Environ(), "MANWIDTH=80")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		text, err := cmd.Output()
		if err != nil || stderr.Len() != 0 {
			t.Errorf("man %s: %v\n%s", page, err, stderr.String())
		}
		if !bytes.Contains(text, []byte("NAME")) || !bytes.Contains(text, []byte("netgen")) {
			t.Errorf("man %s shows no NAME section:\n%.400s", page, text)
		}
	}
	lab, _ := exec.Command("sh", "-c", "MANWIDTH=80 man -l "+filepath.Join(tree, "usr/share/man/man5/netgen-lab.5.gz")).Output()
	for _, want := range []string{"netgen-lab - the netgen lab file format", "BRIDGES", "vlan-filtering", "/etc/netgen"} {
		if !bytes.Contains(lab, []byte(want)) {
			t.Errorf("netgen-lab(5) lacks %q", want)
		}
	}
}

// TestPostinst: the package's postinst writes the marker the generator
// reads, so that its first run on a system it was installed on while
// running is taken for a daemon-reload.
func TestPostinst(t *testing.T) {
	b, err := os.ReadFile("postinst")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), ": >"+genmode.Marker+"\n") {
		t.Errorf("postinst does not write %s:\n%s", genmode.Marker, b)
	}
}

// TestBashCompletion completes command lines the way bash does on Tab,
// with Debian's bash-completion loaded.
func TestBashCompletion(t *testing.T) {
	need(t, "bash")
	const lib = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("!!! bash-completion is not installed (./setup.sh installs it): this test proves nothing in this run")
	}
	dir := t.TempDir()
	for _, f := range []string{"lab.yml", "other.yaml", "notes.txt", "sub/x"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	script, _ := filepath.Abs("netgen.bash")
	complete := func(line string) []string {
		t.Helper()
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		prog := `source ` + lib + `; source ` + script + `
COMP_WORDS=(` + strings.Join(quoted, " ") + `); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=` + "'" + line + "'" + `; COMP_POINT=${#COMP_LINE}
_netgen netgen; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command("bash", "-c", prog)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("completing %q: %v", line, err)
		}
		got := strings.Fields(string(out))
		slices.Sort(got)
		return got
	}
	for _, c := range []struct {
		line string
		want []string
	}{
		{"netgen b", []string{"build"}},
		{"netgen ", []string{"--help", "--version", "build", "down", "expand", "graph", "help", "status", "test", "validate", "version"}},
		{"netgen graph lab.yml --format ", []string{"dot", "mermaid"}},
		{"netgen build --d", []string{"--dry-run"}},
		{"netgen build ", []string{"lab.yml", "other.yaml", "sub"}},
		{"netgen build lab.yml --root ", []string{"sub"}},
		{"netgen validate --", []string{"--help"}},
	} {
		if got := complete(c.line); !slices.Equal(got, c.want) {
			t.Errorf("%q completes to %q, want %q", c.line, got, c.want)
		}
	}
}

// TestZshCompletion: zsh parses the completion function (a syntax check:
// zsh's completion system cannot be driven without a terminal).
func TestZshCompletion(t *testing.T) {
	need(t, "zsh")
	run(t, "zsh", "-n", "_netgen")
}
