package status

import (
	"testing"

	"github.com/netgen-lab/netgen/internal/reach"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
)

// TestChooseKeepsTheNeighbourBudget: with room for 8 IPv4 neighbour
// entries, the first source pings everyone (2 entries a pair), the others
// every pair whose entries exist already (the first source and
// themselves), and the rest is skipped; nothing is skipped with room.
func TestChooseKeepsTheNeighbourBudget(t *testing.T) {
	res := testlabs.Compile(t, "mesh.yml", []byte(`
version: 1
namespaces: {a: {}, b: {}, c: {}, d: {}, e: {}}
bridges: {br: {}}
veths:
  - [{name: a:eth0, addresses: [10.0.0.1/24]}, {name: pa, bridge: br}]
  - [{name: b:eth0, addresses: [10.0.0.2/24]}, {name: pb, bridge: br}]
  - [{name: c:eth0, addresses: [10.0.0.3/24]}, {name: pc, bridge: br}]
  - [{name: d:eth0, addresses: [10.0.0.4/24]}, {name: pd, bridge: br}]
  - [{name: e:eth0, addresses: [10.0.0.5/24]}, {name: pe, bridge: br}]
`))
	exps := reach.Derive(res.Plan)
	checks := func() []Check {
		out := make([]Check, len(exps))
		for i, e := range exps {
			out[i].Expectation = e
		}
		return out
	}
	if n := choose(checks(), [2]int{100, 100}); n != 0 {
		t.Errorf("with room for 100 entries, %d of %d pairs skipped", n, len(exps))
	}
	out := checks()
	n := choose(out, [2]int{8, 8})
	kept := map[string]bool{}
	for _, c := range out {
		if !c.Skipped {
			kept[c.Name()] = true
		}
	}
	for _, want := range []string{"a -> 10.0.0.5", "e -> 10.0.0.1", "e -> 10.0.0.5", "c -> 10.0.0.1"} {
		if !kept[want] {
			t.Errorf("%s skipped; kept %v", want, kept)
		}
	}
	if kept["b -> 10.0.0.3"] || n != len(exps)-len(kept) || len(kept) != 5+4+4 {
		t.Errorf("kept %d pairs %v, want a's 5, the 4 others to a and to themselves", len(kept), kept)
	}
}
