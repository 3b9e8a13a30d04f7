package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/testkit/expect"
	"github.com/netgen-lab/netgen/internal/testkit/oracle"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/names"
)

// Reach and Probe are a lab's reachability matrix (NAME.reach.yml).
type (
	Reach = testlabs.Reach
	Probe = testlabs.Probe
)

type bootLab struct {
	Name  string // file name without .yml
	Path  string
	Res   *compile.Result
	Reach Reach
}

// bootLabs returns every example and test lab for which keep returns true,
// with its reachability matrix.
func bootLabs(t *testing.T, keep func(p *generator.Plan) bool) []bootLab {
	t.Helper()
	var out []bootLab
	for _, path := range allLabPaths(t) {
		lab := loadLab(t, path)
		if keep(lab.Res.Plan) {
			out = append(out, lab)
		}
	}
	return out
}

// loadLab compiles a lab and reads its reachability matrix.
func loadLab(t *testing.T, path string) bootLab {
	t.Helper()
	return bootLab{Name: strings.TrimSuffix(filepath.Base(path), ".yml"), Path: path, Res: compileExample(t, path),
		Reach: testlabs.ReadReach(t, path)}
}

// netgenBinary builds the netgen command once, so that the boot tiers
// install labs exactly as a user does: `netgen build LAB --root ROOT`.
func netgenBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "netgen")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/netgen")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func installLabs(t *testing.T, bin, root string, labs []bootLab) {
	t.Helper()
	for _, lab := range labs {
		cmd := exec.Command(bin, "build", lab.Path, "--root", root)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("netgen build %s --root: %v\n%s", lab.Path, err, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("netgen build %s wrote to standard output: %q", lab.Path, stdout.String())
		}
	}
}

// installNetgen puts a static netgen and the labs' files into an image, so
// that tests run `netgen status` and `netgen test` inside the booted
// system as a user does: /usr/local/bin/netgen, /root/labs/NAME.yml.
func installNetgen(t *testing.T, root string, labs []bootLab) {
	t.Helper()
	build := exec.Command("go", "build", "-o", filepath.Join(root, "usr/local/bin/netgen"), "../cmd/netgen")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(root, "root/labs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, lab := range labs {
		src, err := os.ReadFile(lab.Path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, lab.Name+".yml"), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const marker = "@@E2E "

// probeCmd is the shell command that pings one probe's target.
func probeCmd(p Probe, count int) string {
	cmd := fmt.Sprintf("ping -c%d -W1 %s >/dev/null 2>&1", count, p.To)
	if p.From != "host" {
		cmd = fmt.Sprintf("ip netns exec %s %s", p.From, cmd)
	}
	return cmd
}

// collector is the shell script run inside the booted system: it reports
// units, namespaces, every namespace's links, addresses and port VLANs, the
// result of every probe, and the journal's warnings, each under a marker
// line, for judge to read.
func collector(labs []bootLab) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	sec := func(name string) { w("echo '%s%s'", marker, name) }
	w("#!/bin/sh")
	w("# netgen e2e collector")
	for _, lab := range labs {
		for _, c := range lab.Reach.Setup {
			w("%s || echo 'setup failed: %s' >&2", c, strings.ReplaceAll(c, "'", ""))
		}
	}
	var units []string
	nss := []string{""}
	for _, lab := range labs {
		for _, u := range lab.Res.Plan.Units {
			units = append(units, u.Name)
			if u.Kind == generator.NamespaceUnit {
				nss = append(nss, u.Namespaces[0])
			}
		}
		if lab.Res.Plan.Target != "" {
			units = append(units, lab.Res.Plan.Target)
		}
	}
	if len(units) > 0 {
		sec("units")
		// Quoted: a unit name may carry systemd's `\x2d`.
		w("systemctl show -p Id -p ActiveState '%s'", strings.Join(units, "' '"))
	}
	sec("failed")
	w("systemctl --failed --plain --no-legend")
	sec("netns")
	w("ls /run/netns 2>/dev/null")
	// Pings first: the dumps below then show the system as the pings found it.
	var probes []Probe
	for _, lab := range labs {
		probes = append(probes, lab.Reach.Ping...)
	}
	for i, p := range probes {
		w("probe_%d() { %s; }", i, probeCmd(p, 1))
	}
	if len(probes) > 0 {
		// Every probe is retried until it answers or 90 s have passed
		// altogether: STP holds ports in listening/learning for seconds.
		var all []string
		for i := range probes {
			all = append(all, fmt.Sprint(i))
		}
		w("pending='%s'", strings.Join(all, " "))
		w("end=$(( $(date +%%s) + 90 ))")
		w("while [ -n \"$pending\" ] && [ \"$(date +%%s)\" -lt \"$end\" ]; do")
		w("  next=''")
		w("  for i in $pending; do if probe_$i; then echo '%sping' \"$i\"; echo 1; else next=\"$next $i\"; fi; done", marker)
		w("  pending=$next")
		w("  [ -z \"$pending\" ] || sleep 1")
		w("done")
		w("for i in $pending; do echo '%sping' \"$i\"; echo 0; done", marker)
	}
	i := 0
	for _, lab := range labs {
		for _, p := range lab.Reach.NoPing {
			sec(fmt.Sprintf("noping %d", i))
			w("if %s; then echo 1; else echo 0; fi", probeCmd(p, 2))
			i++
		}
	}
	for _, ns := range nss {
		n, label := "", "-"
		if ns != "" {
			n, label = "-n "+ns+" ", ns
		}
		sec("link " + label)
		w("ip %s-d -j link show", n)
		sec("addr " + label)
		w("ip %s-j addr show", n)
		sec("vlan " + label)
		w("bridge %s-j vlan show 2>/dev/null || echo '[]'", n)
	}
	sec("journal")
	w("journalctl -b -p warning -o short-monotonic --no-pager")
	return b.String()
}

// report is the collector's output, by section.
type report map[string]string

func parseReport(out string) report {
	r := report{}
	key := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, marker) {
			key = strings.TrimPrefix(line, marker)
			key = strings.Join(strings.Fields(key), " ")
			r[key] += ""
			continue
		}
		if key != "" {
			r[key] += line + "\n"
		}
	}
	return r
}

// judge returns every difference between the labs and the report, each
// naming the tier, the lab, the check and what was seen.
func judge(tier string, labs []bootLab, rep report) []string {
	var out []string
	active := activeStates(rep["units"])
	netns := map[string]bool{}
	for _, n := range strings.Fields(rep["netns"]) {
		netns[n] = true
	}
	obs := expect.Observed{}
	vlans := map[string]expect.BridgeVLANs{}
	for key, body := range rep {
		kind, ns, ok := strings.Cut(key, " ")
		if !ok {
			continue
		}
		if ns == "-" {
			ns = ""
		}
		switch kind {
		case "link":
			links, err := oracle.ParseIPLinks([]byte(body), []byte(rep["addr "+nsLabel(ns)]))
			if err != nil {
				out = append(out, fmt.Sprintf("%s: cannot read the links of %q: %v", tier, ns, err))
				continue
			}
			obs[ns] = links
		case "vlan":
			var v expect.BridgeVLANs
			if strings.TrimSpace(body) != "" {
				if err := json.Unmarshal([]byte(body), &v); err != nil {
					out = append(out, fmt.Sprintf("%s: cannot read the port VLANs of %q: %v: %s", tier, ns, err, body))
				}
			}
			vlans[ns] = v
		}
	}
	probe := 0
	noprobe := 0
	for _, lab := range labs {
		p := lab.Res.Plan
		bad := func(format string, args ...any) {
			out = append(out, fmt.Sprintf("%s: lab %s: %s", tier, lab.Name, fmt.Sprintf(format, args...)))
		}
		for _, u := range p.Units {
			if s := active[u.Name]; s != "active" {
				bad("unit %s is %q, want active (journalctl -u %s)", u.Name, s, u.Name)
			}
			if u.Kind == generator.NamespaceUnit && !netns[u.Namespaces[0]] {
				bad("namespace %s is missing from /run/netns", u.Namespaces[0])
			}
		}
		if p.Target != "" && active[p.Target] != "active" {
			bad("%s is %q, want active", p.Target, active[p.Target])
		}
		for _, l := range strings.Split(rep["failed"], "\n") {
			if mentionsUnit(l, p.Lab) {
				bad("failed unit: %s", strings.TrimSpace(l))
			}
		}
		for _, problem := range expect.Check(p, obs, vlans) {
			bad("%s", problem)
		}
		for _, problem := range expect.Leaks(p, obs) {
			bad("%s", problem)
		}
		for _, pr := range lab.Reach.Ping {
			if strings.TrimSpace(rep[fmt.Sprintf("ping %d", probe)]) != "1" {
				bad("ping from %s to %s failed, want an answer (90 s of tries)", pr.From, pr.To)
			}
			probe++
		}
		for _, pr := range lab.Reach.NoPing {
			if strings.TrimSpace(rep[fmt.Sprintf("noping %d", noprobe)]) != "0" {
				bad("ping from %s to %s was answered, want no answer", pr.From, pr.To)
			}
			noprobe++
		}
		for _, line := range strings.Split(rep["journal"], "\n") {
			if mentionsLab(line, p) {
				bad("journal warning: %s", strings.TrimSpace(line))
			}
		}
	}
	return out
}

// activeStates reads `systemctl show -p Id -p ActiveState`: each unit's
// state by name.
func activeStates(show string) map[string]string {
	active := map[string]string{}
	for _, block := range strings.Split(show, "\n\n") {
		var id, state string
		for _, l := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(l, "Id="); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(l, "ActiveState="); ok {
				state = v
			}
		}
		if id != "" {
			active[id] = state
		}
	}
	return active
}

// mentionsUnit reports whether text names one of lab's units or files
// (netgen-LAB_..., 50-netgen-LAB_..., netgen-LAB.target), and no other
// lab's ("fun" is not "fun-2").
func mentionsUnit(text, lab string) bool {
	return strings.Contains(text, names.UnitPrefix+lab+"_") || strings.Contains(text, names.Target(lab))
}

func nsLabel(ns string) string {
	if ns == "" {
		return "-"
	}
	return ns
}

// mentionsLab reports whether a journal line (priority warning or worse) is
// about the lab: one of its files or units, or one of its host links as
// networkd names them ("vmh1: ...").
func mentionsLab(line string, p *generator.Plan) bool {
	if mentionsUnit(line, p.Lab) {
		return true
	}
	if !strings.Contains(line, "systemd-networkd[") {
		return false
	}
	for _, l := range p.Links {
		if l.NS == "" && strings.Contains(line, "]: "+l.Name+": ") {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
