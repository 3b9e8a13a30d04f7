package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/testkit/oracle"
	"github.com/netgen-lab/netgen/internal/testkit/randlab"
	"github.com/netgen-lab/netgen/internal/testkit/testbed"
	"github.com/netgen-lab/netgen/render"
)

// The random-lab tier's budget. test.sh sets the same defaults explicitly;
// NETGEN_RANDLABS=500 NETGEN_RANDSEED=7 runs longer, on another seed.
const (
	defaultRandLabs     = 25
	defaultRandLabsQEMU = 4
	defaultRandSeed     = 1
)

// randEnv reads a non-negative integer from the environment.
func randEnv(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		t.Fatalf("%s=%q: want a whole number", name, s)
	}
	return v
}

func randSeed(t *testing.T) uint64 {
	t.Helper()
	s := os.Getenv("NETGEN_RANDSEED")
	if s == "" {
		return defaultRandSeed
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("NETGEN_RANDSEED=%q: want a whole number", s)
	}
	return v
}

// randWild reads NETGEN_RANDWILD: a comma-separated list of the
// constructs randlab.Wild lists (known to fail), or "all".
func randWild(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, w := range strings.Split(os.Getenv("NETGEN_RANDWILD"), ",") {
		switch _, ok := randlab.Wild[w]; {
		case w == "":
		case w == "all":
			for k := range randlab.Wild {
				out[k] = true
			}
		case ok:
			out[w] = true
		default:
			t.Fatalf("NETGEN_RANDWILD: unknown construct %q (see randlab.Wild)", w)
		}
	}
	return out
}

// reproduce tells how to get a failing random lab back, and prints it.
func reproduce(lab *randlab.Lab, test string, env string) string {
	return fmt.Sprintf("random lab %d of seed %d failed. Re-run it alone:\n"+
		"  %s go test ./e2e -count=1 -v -run '%s'\n"+
		"print it: go run ./internal/testkit/randlab/cmd/randlab -seed %d -index %d (see its first line)\n"+
		"run a file through the same checks: NETGEN_RANDLAB_FILE=lab.yml go test ./e2e -count=1 -v -run 'TestRandLabs$'\n"+
		"%s:\n%s", lab.Index, lab.Seed, env, test, lab.Seed, lab.Index, lab.File, lab.YAML)
}

// compileRand compiles a random lab; nil with the rendered diagnostics
// when the validator refuses it.
func compileRand(t *testing.T, file string, src []byte) (*compile.Result, string) {
	t.Helper()
	res, err := compile.Compile(file, src)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if res.Diags.HasErrors() {
		var b bytes.Buffer
		res.Diags.Render(&b, src)
		return nil, b.String()
	}
	return res, ""
}

// TestRandLabs generates NETGEN_RANDLABS random labs (default 25) of seed
// NETGEN_RANDSEED (default 1) that this kernel can run, covering every key
// of the lab format, and runs each through the networkd oracle: the real
// networkd on the lab's files, then every unit's script, every link checked
// against the plan (kind, master, MTU, MAC, addresses, up; bridge settings,
// tap owner and queues, routes, sysctls), no networkd warning at all, every
// script exiting 0; then every unit's stop script, after which no namespace
// and no unit-owned host link may be left. A lab the validator refuses is
// logged with its diagnostics (a generator bug, or a validator too strict);
// more than 1 in 20 fails the test.
//
// NETGEN_RANDLAB_FILE=lab.yml runs one lab file through the same checks
// instead (a failing lab, shrunk by hand).
func TestRandLabs(t *testing.T) {
	if err := oracle.Available(); err != nil {
		t.Skipf("SKIPPED random labs tier: %v", err)
	}
	if path := os.Getenv("NETGEN_RANDLAB_FILE"); path != "" {
		if _, err := os.Stat(path); err != nil && !filepath.IsAbs(path) {
			path = filepath.Join("..", path) // relative to the repository, not to e2e/
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res, diags := compileRand(t, filepath.Base(path), src)
		if res == nil {
			// A lab found to break is fixed at the root when the validator
			// comes to refuse it: nothing to run then.
			t.Skipf("%s is refused by the validator, nothing to run:\n%s", path, diags)
		}
		if needsVLANKernel(res.Plan) && !kernelHasVLANs(t) {
			t.Skipf("%s needs 802.1Q or VLAN filtering, which this kernel lacks", path)
		}
		checkInOracle(t, res)
		return
	}
	seed, n, wild := randSeed(t), randEnv(t, "NETGEN_RANDLABS", defaultRandLabs), randWild(t)
	opt := randlab.Options{Population: randlab.KernelOK, Wild: wild}
	var rejected []int
	ran := 0
	for i := range n {
		lab := randlab.Generate(seed, i, opt)
		t.Run(fmt.Sprintf("lab-%04d", i), func(t *testing.T) {
			ran++
			t.Cleanup(func() {
				if t.Failed() {
					env := fmt.Sprintf("NETGEN_RANDSEED=%d NETGEN_RANDLABS=%d", seed, i+1)
					if len(wild) > 0 {
						env += " NETGEN_RANDWILD=" + os.Getenv("NETGEN_RANDWILD")
					}
					t.Log(reproduce(lab, fmt.Sprintf("TestRandLabs/lab-%04d$", i), env))
				}
			})
			res, diags := compileRand(t, lab.File, lab.YAML)
			if res == nil {
				rejected = append(rejected, i)
				t.Logf("the validator refuses random lab %d (a generator bug, or a rule too strict):\n%s\n%s", i, diags, lab.YAML)
				return
			}
			checkInOracle(t, res)
		})
	}
	t.Logf("%d random labs of seed %d run, %d refused by the validator %v", ran, seed, len(rejected), rejected)
	if len(rejected) > max(1, ran/20) {
		t.Errorf("the validator refuses %d of %d random labs %v: see each lab's log", len(rejected), ran, rejected)
	}
}

// inspection is the list of commands the oracle runs after networkd
// settled, each with a name to find its output by.
type inspection struct {
	cmds  []string
	index map[string]int
}

func (in *inspection) add(name, cmd string) {
	if in.index == nil {
		in.index = map[string]int{}
	}
	in.index[name] = len(in.cmds)
	in.cmds = append(in.cmds, cmd)
}

func (in *inspection) out(r *oracle.Result, name string) oracle.CommandOutput {
	i, ok := in.index[name]
	if !ok || i >= len(r.Inspect) {
		return oracle.CommandOutput{Command: name, ExitCode: -1}
	}
	return r.Inspect[i]
}

func unitScriptCmd(script, verb string) string {
	return fmt.Sprintf("sh -e -s %s <<'NETGEN_UNIT_EOF' 2>&1\n%s\nNETGEN_UNIT_EOF", verb, script)
}

// checkInOracle runs a compiled lab in the networkd oracle and reports
// every difference from its plan (see TestRandLabs).
func checkInOracle(t *testing.T, res *compile.Result) {
	t.Helper()
	p := res.Plan
	files := map[string][]byte{}
	for _, f := range res.Files {
		if f.Dir == render.NetworkDir {
			files[f.Name] = f.Data
		}
	}
	prepare, standIns, _ := standInCmds(p, "", map[string]bool{})
	units := scriptUnits(p)
	var in inspection
	for _, u := range units {
		in.add("start "+u.Name, unitScriptCmd(unitScript(t, res, u.Name), "start"))
	}
	nss := dumpNamespaces(p)
	for _, ns := range nss {
		n := ""
		if ns != "" {
			n = "-n " + ns + " "
		}
		in.add("link "+ns, "ip "+n+"-d -j link show")
		in.add("addr "+ns, "ip "+n+"-j addr show")
		in.add("route4 "+ns, "ip "+n+"-j -4 route show table main")
		in.add("route6 "+ns, "ip "+n+"-j -6 route show table main")
	}
	for _, s := range p.Sysctls() {
		// The host's (masquerade's forwarding) are the oracle's own
		// namespace's, where the commands run.
		cmd := "cat /proc/sys/" + s.Path
		if s.NS != "" {
			cmd = "ip netns exec " + s.NS + " " + cmd
		}
		in.add("sysctl "+s.NS+" "+s.Path, cmd)
	}
	for i := len(units) - 1; i >= 0; i-- {
		in.add("stop "+units[i].Name, unitScriptCmd(unitScript(t, res, units[i].Name), "stop"))
	}
	in.add("after netns", "ls -A /run/netns 2>/dev/null; :")
	in.add("after link", "ip -j link show")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := oracle.RunFiles(ctx, files, oracle.Options{Prepare: prepare, Inspect: in.cmds, Timeout: 60 * time.Second, SettleFor: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("networkd run: %v\n%s", err, summary(out))
	}
	for _, u := range units {
		if c := in.out(out, "start "+u.Name); c.ExitCode != 0 {
			t.Errorf("unit %s: start script failed (exit %d):\n%s", u.Name, c.ExitCode, c.Output)
		}
	}
	obs := newObserved()
	for _, ns := range nss {
		links, err := oracle.ParseIPLinks([]byte(in.out(out, "link "+ns).Output), []byte(in.out(out, "addr "+ns).Output))
		if err != nil {
			t.Fatalf("namespace %q: %v\n%s", ns, err, in.out(out, "link "+ns).Output)
		}
		obs.links[ns] = links
		obs.routes[ns] = append(parseRoutes(t, in.out(out, "route4 "+ns).Output, false), parseRoutes(t, in.out(out, "route6 "+ns).Output, true)...)
	}
	for _, s := range p.Sysctls() {
		obs.sysctls[s.NS+" "+s.Path] = in.out(out, "sysctl "+s.NS+" "+s.Path)
	}
	for _, problem := range checkRandLab(p, obs) {
		t.Error(problem)
	}
	for _, l := range p.Links {
		if l.NS != "" || l.MatchMAC != "" {
			continue
		}
		if st, ok := out.State(l.Name); ok {
			if want := networkFile(p, l); st.File != want {
				t.Errorf("%s got .network %q, want %q", l.Name, st.File, want)
			}
		}
	}
	// Every warning, not only those naming a generated file: networkd
	// manages nothing here but the lab.
	for _, w := range out.AllWarnings() {
		t.Errorf("networkd warned: %v", w)
	}
	for i := len(units) - 1; i >= 0; i-- {
		if c := in.out(out, "stop "+units[i].Name); c.ExitCode != 0 {
			t.Errorf("unit %s: stop script failed (exit %d):\n%s", units[i].Name, c.ExitCode, c.Output)
		}
	}
	after, err := oracle.ParseIPLinks([]byte(in.out(out, "after link").Output), []byte("[]"))
	if err != nil {
		t.Fatalf("links after the stop scripts: %v", err)
	}
	for _, problem := range leftBehind(p, strings.Fields(in.out(out, "after netns").Output), after, standIns) {
		t.Error(problem)
	}
	if t.Failed() {
		t.Logf("networkd: %s", out.Summary())
	}
}

// TestRandLabsQEMU boots NETGEN_RANDLABS_QEMU random labs (default 4) that
// need what this kernel lacks (802.1Q sub-interfaces on every kind of
// parent, VLAN-filtering bridges, port VLANs) under QEMU with Debian's
// kernel, up to six to a boot, installed with `netgen build --root`. Their
// uplinks' NICs are veths a unit makes early at boot. Every unit must be
// active, every link and port VLAN as the plan says, the journal free of
// warnings about the lab; then each lab's target is stopped, after which
// none of its namespaces or unit-owned host links may be left.
func TestRandLabsQEMU(t *testing.T) {
	testbed.RequireBoot(t)
	seed, k, wild := randSeed(t), randEnv(t, "NETGEN_RANDLABS_QEMU", defaultRandLabsQEMU), randWild(t)
	if k == 0 {
		t.Skip("NETGEN_RANDLABS_QEMU=0")
	}
	img := testbed.EnsureImage(t)
	bin := netgenBinary(t)
	if paths := os.Getenv("NETGEN_RANDLAB_FILE"); paths != "" {
		// A comma-separated list boots the labs together.
		var files []randLabFile
		for i, path := range strings.Split(paths, ",") {
			if _, err := os.Stat(path); err != nil && !filepath.IsAbs(path) {
				path = filepath.Join("..", path) // relative to the repository, not to e2e/
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, randLabFile{file: filepath.Base(path), src: src, prefix: fmt.Sprintf("f%ds", i)})
		}
		bootRandLabFiles(t, img, bin, files, nil)
		return
	}
	for first := 0; first < k; first += randLabsPerBoot {
		last := min(first+randLabsPerBoot, k)
		t.Run(fmt.Sprintf("labs-%04d-%04d", first, last-1), func(t *testing.T) {
			bootRandLabs(t, img, bin, seed, first, last, k, wild)
		})
	}
}

// randLabsPerBoot bounds the random labs one QEMU boot takes: with 24,
// networkd alone was still starting after 75 s of a TCG boot on a busy
// machine, and the boot did not end within its 5 minutes.
const randLabsPerBoot = 6

// bootRandLabs boots random VLAN labs first to last-1 together.
func bootRandLabs(t *testing.T, img *testbed.Image, bin string, seed uint64, first, last, k int, wild map[string]bool) {
	var files []randLabFile
	gen := map[string]*randlab.Lab{}
	for i := first; i < last; i++ {
		// Each lab has its own names and addresses; only the first of a
		// boot may have default routes in the host namespace.
		opt := randlab.Options{Population: randlab.VLANs, Prefix: fmt.Sprintf("q%d", i), Block: i%250 + 1,
			NoHostDefaults: i != first, Wild: wild}
		lab := randlab.Generate(seed, i, opt)
		gen[lab.Name] = lab
		files = append(files, randLabFile{file: lab.File, src: lab.YAML, prefix: fmt.Sprintf("q%ds", i)})
	}
	bootRandLabFiles(t, img, bin, files, func(name string) {
		env := fmt.Sprintf("NETGEN_BOOT=1 NETGEN_RANDSEED=%d NETGEN_RANDLABS_QEMU=%d", seed, k)
		if len(wild) > 0 {
			env += " NETGEN_RANDWILD=" + os.Getenv("NETGEN_RANDWILD")
		}
		test := fmt.Sprintf("TestRandLabsQEMU/labs-%04d-%04d$", first, last-1)
		t.Log(reproduce(gen[name], test, "flock /tmp/netgen-boot.lock env "+env))
	})
}

// randLabFile is a lab to boot: its file name, text and the prefix of
// the names its uplinks' NICs get.
type randLabFile struct {
	file   string
	src    []byte
	prefix string
}

// bootRandLabFiles installs labs into one image, boots it under QEMU,
// judges every lab, stops each and checks nothing of it is left. failed is
// called with the name of every lab with a problem.
func bootRandLabFiles(t *testing.T, img *testbed.Image, bin string, files []randLabFile, failed func(name string)) {
	t.Helper()
	dir := t.TempDir()
	var labs []bootLab
	used := map[string]bool{}
	var standIns []string
	standInNames := map[string]bool{}
	rejected := 0
	for _, f := range files {
		res, diags := compileRand(t, f.file, f.src)
		if res == nil {
			rejected++
			t.Logf("the validator refuses %s (a generator bug, or a rule too strict):\n%s\n%s", f.file, diags, f.src)
			continue
		}
		path := filepath.Join(dir, f.file)
		if err := os.WriteFile(path, f.src, 0o644); err != nil {
			t.Fatal(err)
		}
		cmds, names, byMAC := standInCmds(res.Plan, f.prefix, used)
		// An uplink matched by MAC has no name in the plan: give it its
		// NIC's, so that its port VLANs are found and checked.
		for l, name := range byMAC {
			l.Name = name
		}
		standIns = append(standIns, cmds...)
		for n := range names {
			standInNames[n] = true
		}
		labs = append(labs, bootLab{Name: res.Plan.Lab, Path: path, Res: res})
	}
	if rejected > max(1, len(files)/20) {
		t.Errorf("the validator refuses %d of %d random VLAN labs", rejected, len(files))
	}
	if len(labs) == 0 {
		t.Skip("every lab is refused by the validator: nothing to boot")
	}
	root := img.Copy(t)
	if err := installStandIns(root, standIns); err != nil {
		t.Fatal(err)
	}
	installLabs(t, bin, root, labs)
	boots := testbed.RunQEMUOpts(t, root, collector(labs)+extraCollector(labs)+stopCollector(labs), testbed.QEMUOptions{Timeout: 10 * time.Minute})
	rep := parseReport(boots[0].Output)
	problems := judge("qemu random labs", labs, rep)
	problems = append(problems, judgeExtras("qemu random labs", labs, rep)...)
	problems = append(problems, judgeStopped("qemu random labs", labs, rep, standInNames)...)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		var b strings.Builder
		for _, k := range sortedKeys(rep) {
			if !strings.HasPrefix(k, "link ") && !strings.HasPrefix(k, "addr ") && !strings.HasPrefix(k, "after-link ") {
				b.WriteString(marker + k + "\n" + rep[k])
			}
		}
		t.Logf("collector report (links and addresses left out):\n%s", b.String())
		if len(labs) == 1 {
			for _, k := range sortedKeys(rep) {
				if strings.HasPrefix(k, "link ") || strings.HasPrefix(k, "addr ") {
					t.Logf("%s:\n%s", k, rep[k])
				}
			}
		}
	}
	for _, lab := range labs {
		for _, p := range problems {
			if strings.Contains(p, "lab "+lab.Name+":") && failed != nil {
				failed(lab.Name)
				break
			}
		}
	}
}
