package render_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"
	"golang.org/x/tools/txtar"

	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/names"
	"github.com/netgen-lab/netgen/render"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txtar with the current output")

// labDirs hold every lab the script checks run on: the examples, the
// boot tiers' test labs, the live-apply labs and render's own.
var labDirs = []string{"../examples", "../e2e/testdata/labs", "../e2e/testdata/apply", "testdata"}

func compileFile(t testing.TB, path string) *compile.Result {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return testlabs.Compile(t, filepath.Base(path), src)
}

// TestGolden compares the output of each focused lab in testdata/NAME.yml
// with testdata/NAME.txtar (go test -update rewrites them). These labs
// reach what the examples do not: per-interface sysctls, every bridge and
// tap option of a namespace unit, the host unit with uplinks. A lab whose
// scripts do not pass the checks of TestScripts is not written, -update or
// not.
func TestGolden(t *testing.T) {
	for _, path := range testlabs.Labs(t, "testdata") {
		name := strings.TrimSuffix(filepath.Base(path), ".yml")
		t.Run(name, func(t *testing.T) {
			res := compileFile(t, path)
			checkScripts(t, map[string]*compile.Result{name: res})
			if t.Failed() {
				return
			}
			a := &txtar.Archive{}
			for _, f := range res.Files {
				a.Files = append(a.Files, txtar.File{Name: f.Dir.String() + "/" + f.Name, Data: f.Data})
			}
			got := txtar.Format(a)
			golden := strings.TrimSuffix(path, ".yml") + ".txtar"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./render -update creates it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output of %s differs from %s (go test ./render -update rewrites it):\n%s", path, golden, firstDiff(string(want), string(got)))
			}
		})
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %q\n  got:  %q", i+1, w, g)
		}
	}
	return "(same lines, different bytes)"
}

// unitScripts returns the script of every unit that carries one, by unit
// name: its StandardInputText= values joined by newlines, as systemd joins
// them before handing them to `sh -s`.
func unitScripts(t testing.TB, res *compile.Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range res.Files {
		if f.Dir != render.UnitDir {
			continue
		}
		secs, err := unit.DeserializeSections(bytes.NewReader(f.Data))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		var lines []string
		for _, s := range secs {
			for _, e := range s.Entries {
				if s.Section == "Service" && e.Name == "StandardInputText" {
					lines = append(lines, e.Value)
				}
			}
		}
		if len(lines) > 0 {
			out[f.Name] = strings.Join(lines, "\n") + "\n"
		}
	}
	return out
}

// shellcheckArgs run shellcheck at its strictest severity (style) for the
// shell units run, POSIX sh (Debian's dash), with one exclusion:
//
//   - SC2086 (quote to prevent word splitting and globbing): the script's
//     words are interface and namespace names (validated as
//     [A-Za-z0-9_.-], no space and no glob character can reach a script)
//     and the numbers of its own counters; the functions take a link name as
//     $1. Quoting them would change every unit for nothing.
//   - SC2015 (A && B || C is not if-then-else): every such line means "C
//     unless both A and B hold", so C must run when B fails: `configured a
//     && configured b || wait-online ...`, and `[ -e X ] && found=1 || :`,
//     whose C only keeps `sh -e` going.
var shellcheckArgs = []string{"--shell=sh", "--severity=style", "--format=gcc", "--exclude=SC2086,SC2015"}

// checkScripts checks the script of every unit of the labs with `sh -n`
// (the shell that runs them: /bin/sh) and with shellcheck. A problem names
// the lab, the unit, the line and the line's text.
func checkScripts(t *testing.T, labs map[string]*compile.Result) {
	t.Helper()
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatalf("shellcheck is not installed (./setup.sh installs it): every generated script is checked with it")
	}
	dir := t.TempDir()
	type script struct{ lab, unit, text string }
	files := map[string]script{}
	var names []string
	for _, lab := range sortedKeys(labs) {
		scripts := unitScripts(t, labs[lab])
		for _, u := range sortedKeys(scripts) {
			name := filepath.Join(dir, strconv.Itoa(len(files))+".sh")
			if err := os.WriteFile(name, []byte(scripts[u]), 0o644); err != nil {
				t.Fatal(err)
			}
			files[name] = script{lab, u, scripts[u]}
			names = append(names, name)
			if out, err := exec.Command("/bin/sh", "-n", name).CombinedOutput(); err != nil {
				t.Errorf("lab %s: unit %s: sh -n: %v\n%s", lab, u, err, strings.ReplaceAll(string(out), name, u))
			}
		}
	}
	if len(names) == 0 {
		return
	}
	out, err := exec.Command(sc, append(shellcheckArgs, names...)...).CombinedOutput()
	if err == nil {
		return
	}
	// FILE:LINE:COL: LEVEL: MESSAGE [SCnnnn]
	re := regexp.MustCompile(`^(.+?):(\d+):(\d+): (.*)$`)
	found := false
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s, ok := files[m[1]]
		if !ok {
			continue
		}
		found = true
		n, _ := strconv.Atoi(m[2])
		text := ""
		if lines := strings.Split(s.text, "\n"); n >= 1 && n <= len(lines) {
			text = lines[n-1]
		}
		t.Errorf("lab %s: unit %s: script line %d: %s\n    %s", s.lab, s.unit, n, m[4], text)
	}
	if !found {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestScripts checks every unit script of every lab the project has with
// `sh -n` and shellcheck: a script with a syntax error fails here, whatever
// a golden file says.
func TestScripts(t *testing.T) {
	labs := map[string]*compile.Result{}
	for _, dir := range labDirs {
		for _, path := range testlabs.Labs(t, dir) {
			labs[path] = compileFile(t, path)
		}
	}
	labs["(generated) many host links"] = testlabs.Compile(t, "long.yml", longLab())
	checkScripts(t, labs)
}

// longLab is a namespace with 80 veths to 80 host bridges: long enough that
// every list render wraps (the teardown's test for host links, the
// .network that marks them unmanaged, the wait for the host bridges) must
// wrap.
func longLab() []byte {
	var b strings.Builder
	b.WriteString("version: 1\nname: long\nnamespaces: {n: {}}\nbridges:\n")
	for i := 0; i < 80; i++ {
		fmt.Fprintf(&b, "  hostbridge%05d: {}\n", i)
	}
	b.WriteString("veths:\n")
	for i := 0; i < 80; i++ {
		fmt.Fprintf(&b, "  - [{name: n:e%d}, {name: hostport%07d, bridge: hostbridge%05d}]\n", i, i, i)
	}
	return []byte(b.String())
}

// TestLongLists checks the wrapped lists of a lab with many host links: no
// line reaches go-systemd's 2048-byte limit (so every file re-reads), and
// each list still names every link exactly once.
func TestLongLists(t *testing.T) {
	res := testlabs.Compile(t, "long.yml", longLab())
	var ports, bridges []string
	for i := 0; i < 80; i++ {
		ports = append(ports, fmt.Sprintf("hostport%07d", i))
		bridges = append(bridges, fmt.Sprintf("hostbridge%05d", i))
	}
	files := map[string][]byte{}
	for _, f := range res.Files {
		files[f.Name] = f.Data
		for i, l := range strings.Split(string(f.Data), "\n") {
			if len(l) >= 2048 {
				t.Errorf("%s:%d: line of %d bytes", f.Name, i+1, len(l))
			}
		}
	}

	// The .network that hands the host ends to the unit: several Name=
	// lines, which networkd adds up.
	var matched []string
	secs, err := unit.DeserializeSections(bytes.NewReader(files[names.UnmanagedFile(names.NamespaceUnit("long", "n"))+".network"]))
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, s := range secs {
		for _, e := range s.Entries {
			if s.Section == "Match" && e.Name == "Name" {
				matched = append(matched, strings.Fields(e.Value)...)
				lines++
			}
		}
	}
	if lines < 2 {
		t.Errorf("unmanaged .network: %d Name= line(s), want the list wrapped", lines)
	}
	sameSet(t, "unmanaged .network Name=", matched, ports)

	// The lab's wait for its host bridges: several ExecStart= lines.
	var waited []string
	execs := 0
	secs, err = unit.DeserializeSections(bytes.NewReader(files[names.Unit("long", names.KindBridges, "")]))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		for _, e := range s.Entries {
			if e.Name != "ExecStart" {
				continue
			}
			execs++
			f := strings.Fields(e.Value)
			for i := range f {
				if f[i] == "-i" && i+1 < len(f) {
					waited = append(waited, strings.TrimSuffix(f[i+1], ":no-carrier"))
				}
			}
		}
	}
	if execs < 2 {
		t.Errorf("bridge wait unit: %d ExecStart= line(s), want the list wrapped", execs)
	}
	sameSet(t, "bridge wait unit -i", waited, bridges)

	// The teardown tests for the host links one line each, and deletes
	// every one of them.
	script := unitScripts(t, res)[names.NamespaceUnit("long", "n")]
	var tested, deleted []string
	testRE := regexp.MustCompile(`^\[ -e /sys/class/net/(\S+) \] && found=1 \|\| :$`)
	for _, l := range strings.Split(script, "\n") {
		if m := testRE.FindStringSubmatch(l); m != nil {
			tested = append(tested, m[1])
		}
		if n, ok := strings.CutPrefix(l, "link delete dev "); ok {
			deleted = append(deleted, n)
		}
	}
	sameSet(t, "teardown tests", tested, ports)
	sameSet(t, "teardown deletes", deleted, ports)
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g := append([]string(nil), got...)
	sort.Strings(g)
	w := append([]string(nil), want...)
	sort.Strings(w)
	if strings.Join(g, " ") != strings.Join(w, " ") {
		t.Errorf("%s: got %d names %v, want %d names %v", what, len(g), g, len(w), w)
	}
}

// TestNoLinkUpBeforeAddrgenmode: in every `ip -batch` of every unit of
// every lab, each `addrgenmode none` comes before any link goes up (`lo`
// aside). The kernel brings a device's VLANs up with it, so a parent's `up`
// before its VLAN's `addrgenmode none` left the VLAN with an IPv6
// link-local address (found by the random-lab tier,
// e2e/testdata/randlab-found/010, fixed in configSteps).
func TestNoLinkUpBeforeAddrgenmode(t *testing.T) {
	for _, dir := range labDirs {
		for _, path := range testlabs.Labs(t, dir) {
			for u, text := range unitScripts(t, compileFile(t, path)) {
				up := ""
				for _, line := range strings.Split(text, "\n") {
					f := strings.Fields(line)
					switch {
					case strings.Contains(line, "-batch - <<'EOF'"), line == "EOF":
						up = ""
					case len(f) == 5 && f[0] == "link" && f[1] == "set" && f[4] == "up" && f[3] != "lo":
						if up == "" {
							up = f[3]
						}
					case len(f) == 6 && f[4] == "addrgenmode" && up != "":
						t.Errorf("%s: unit %s: %q comes after `link set dev %s up` in one batch", path, u, line, up)
					}
				}
			}
		}
	}
}
