package apply

import (
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/install"
)

func compiled(t *testing.T, src string) *install.Record {
	t.Helper()
	res, err := compile.Compile("q.yml", []byte(src))
	if err != nil || res.Plan == nil {
		t.Fatalf("compile: %v %v", err, res.Diags.Sorted())
	}
	return install.NewRecord(res.Plan, res.Files, nil, install.Dirs{Network: "/n", Unit: "/u"})
}

// TestComputeNetemInPlace: a build that changes only a netem changes the
// qdisc with tc and restarts nothing (the link keeps its ifindex,
// addresses and neighbours), for unit-owned links as for networkd's; a
// change to anything else still restarts the unit, which sets its netem
// itself.
func TestComputeNetemInPlace(t *testing.T) {
	lab := func(ns, host, extra string) string {
		return `version: 1
name: q
namespaces: {a: {}, b: {}}
veths:
  - ends: [{name: a:e0, addresses: [10.0.0.1/30]}, {name: b:e0, addresses: [10.0.0.2/30]` + extra + `}]
    ` + ns + `
  - [{name: h0, addresses: [10.0.1.1/30]` + host + `}, {name: h1, addresses: [10.0.1.2/30]}]
`
	}
	active := map[string]string{"q.target": "active"}
	d := install.Dirs{Network: "/n", Unit: "/u"}
	run := func(from, to string) []string {
		a := Compute(compiled(t, from), compiled(t, to), nil, d, nil, nil)
		_ = active
		return a.Describe()
	}
	v1 := lab("netem: {delay: 10ms}", ", netem: {delay: 5ms}", "")
	v2 := lab("netem: {delay: 30ms, loss: 20%}", ", netem: {delay: 7ms}", "")
	got := run(v1, v2)
	want := []string{
		"set the netem of a:e0 to `netem delay 30ms loss 20` (the link stays)",
		"set the netem of b:e0 to `netem delay 30ms loss 20` (the link stays)",
		"set the netem of h0 to `netem delay 7ms` (the link stays)",
	}
	if !sameSet(got, want) {
		t.Errorf("netem change:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Removing it deletes the qdiscs, in place too.
	got = run(v2, lab("", "", ""))
	want = []string{"remove the netem of a:e0 (the link stays)", "remove the netem of b:e0 (the link stays)", "remove the netem of h0 (the link stays)"}
	if !sameSet(got, want) {
		t.Errorf("netem removal:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Another change to the unit restarts it, and the restart sets the
	// new netem: no tc of apply's own.
	got = run(v1, lab("netem: {delay: 30ms}", ", netem: {delay: 5ms}", ", mtu: 1400"))
	if strings.Join(got, "\n") != "restart netgen-q_link-a--b.service" {
		t.Errorf("unit change with netem: %q, want only the restart", got)
	}
}
