package alloc_test

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/alloc"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
)

// files is a compiled lab's whole output, comparable as one string.
func files(res *compile.Result) string {
	var b strings.Builder
	for _, f := range res.Files {
		b.WriteString("-- " + f.Dir.String() + "/" + f.Name + " --\n")
		b.Write(f.Data)
	}
	return b.String()
}

// checkExpand expands a lab and checks the promise of `netgen expand`: the
// result is a lab without automatic addressing that builds to the same
// files, and expanding it again changes nothing.
func checkExpand(t *testing.T, name string, src []byte) []byte {
	t.Helper()
	res := testlabs.Compile(t, name, src)
	out, err := alloc.Expand(src, res.Lab, res.Alloc)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	again, err := compile.Compile(name, out)
	if err != nil {
		t.Fatal(err)
	}
	if again.Diags.HasErrors() {
		var b bytes.Buffer
		again.Diags.Render(&b, out)
		t.Fatalf("%s: the expanded lab has errors:\n%s\n%s", name, b.String(), out)
	}
	if alloc.Uses(again.Lab) {
		t.Errorf("%s: the expanded lab still uses automatic addressing:\n%s", name, out)
	}
	if a, b := files(res), files(again); a != b {
		t.Errorf("%s: the expanded lab builds to other files:\n%s", name, out)
	}
	twice, err := alloc.Expand(out, again.Lab, again.Alloc)
	if err != nil || !bytes.Equal(twice, out) {
		t.Errorf("%s: expanding the expanded lab changes it (%v):\n%s\n----\n%s", name, err, out, twice)
	}
	return out
}

// TestExpandExamples: every example expands to a lab with the same output;
// one without automatic addressing comes back byte for byte.
func TestExpandExamples(t *testing.T) {
	for _, path := range testlabs.Labs(t, "../examples") {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		out := checkExpand(t, name, src)
		if lab := testlabs.Compile(t, name, src).Lab; !alloc.Uses(lab) && !bytes.Equal(out, src) {
			t.Errorf("%s uses no automatic addressing, but expand changed it:\n%s", name, out)
		}
	}
}

// TestExpandRandom expands the random labs of TestStable.
func TestExpandRandom(t *testing.T) {
	for seed := int64(1); seed <= 50; seed++ {
		l := newRandomLab(seed)
		checkExpand(t, "rand.yml", []byte(l.source(rand.New(rand.NewSource(seed)))))
	}
}

// TestExpandKeepsTheText: comments, blank lines, the order of keys and the
// text of every part expand has no business with stay as written; anchors
// and merge keys keep working, also when their anchor was in `pools:`.
func TestExpandKeepsTheText(t *testing.T) {
	src := `# A lab with pools.
version: 1
name: keep   # the lab's name

# pools come first
pools:
  lan: {ipv4: &lan4 10.60.0.0/16}   # LANs
  p2p: {ipv4: 10.61.0.0/24, prefix: 31}

namespaces:
  r:   {sysctl: {net.ipv4.ip_forward: 1}}   # the router
  h1:  {}
  h2:  {}

bridges:
  sw: {pool: lan}      # one LAN
  plain: {}

x-host: &host {addresses: auto, gateway: auto}

veths:
  # the router's leg
  - [{name: r:lan, addresses: auto, routes: [{to: *lan4, via: 10.60.255.254}]}, {name: sw-r, bridge: sw}]

  # two hosts, their settings merged in
  - [{<<: *host, name: h1:eth0}, {name: sw-h1, bridge: sw}]
  - [{<<: *host, name: h2:eth0, mtu: 1400}, {name: sw-h2, bridge: sw}]

  # a cable to the router
  - ends: [h1:up, r:down]
    pool: p2p   # a /31
  - [h2:plain, {name: plain-h2, bridge: plain}]
`
	// x-host is not a key of the format: the lab keeps its anchor where
	// the format allows one.
	src = strings.Replace(src, "x-host: &host {addresses: auto, gateway: auto}\n\n", "", 1)
	src = strings.Replace(src, "  # two hosts, their settings merged in\n  - [{<<: *host, name: h1:eth0}",
		"  # two hosts, their settings merged in\n  - [{<<: &host {addresses: auto, gateway: auto}, name: h1:eth0}", 1)
	out := string(checkExpand(t, "keep.yml", []byte(src)))
	for _, keep := range []string{
		"# A lab with pools.\nversion: 1\nname: keep   # the lab's name\n\nnamespaces:\n  r:   {sysctl: {net.ipv4.ip_forward: 1}}   # the router\n  h1:  {}\n  h2:  {}\n\nbridges:\n",
		"  plain: {}\n\nveths:\n  # the router's leg\n",
		"\n\n  # two hosts, their settings merged in\n",
		"\n\n  # a cable to the router\n",
		"  - [h2:plain, {name: plain-h2, bridge: plain}]\n",
		"# one LAN",
	} {
		if !strings.Contains(out, keep) {
			t.Errorf("the expanded lab lost %q:\n%s", keep, out)
		}
	}
	for _, gone := range []string{"pool:", "pools:", "auto", "*lan4"} {
		if strings.Contains(out, gone) {
			t.Errorf("the expanded lab still says %q:\n%s", gone, out)
		}
	}
	if !strings.Contains(out, "to: 10.60.0.0/16") {
		t.Errorf("the route to the alias of the pool's range is gone:\n%s", out)
	}
}

// TestExpandFlowLab: a lab written as one flow map is written again by the
// encoder, references unquoted as the lab wrote them.
func TestExpandFlowLab(t *testing.T) {
	src := "{version: 1, pools: {p: {ipv4: 10.7.0.0/24, prefix: 31}}, namespaces: {a: {}, b: {}}, veths: [{ends: [a:x, b:x], pool: p}]}\n"
	out := string(checkExpand(t, "flow.yml", []byte(src)))
	if !strings.HasPrefix(out, "{version: 1, namespaces: {a: {}, b: {}}, veths: [{ends: [{name: a:x, addresses: [10.7.0.") {
		t.Errorf("expanded:\n%s", out)
	}
}
