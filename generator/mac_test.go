package generator_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/schema"
)

const macLab = `version: 1
name: NAME
namespaces: {pc: {}, sw: {}}
bridges: {br0: {namespace: sw}, hb: {}}
taps: [{name: pc:t0}, {name: ht}]
veths:
  - [{name: pc:a MACA}, {name: sw:pa, bridge: br0}]
  - [pc:b, {name: hb-pc, bridge: hb}]
  - [{name: hx, bridge: hb}, hy]
vlans:
  - {parent: pc:b, id: 10}
`

func macPlan(t *testing.T, name, macA string) map[string]*generator.Link {
	t.Helper()
	src := strings.NewReplacer("NAME", name, " MACA", macA).Replace(macLab)
	p := testlabs.Compile(t, name+".yml", []byte(src)).Plan
	links := map[string]*generator.Link{}
	for _, l := range p.Links {
		links[l.Label()] = l
	}
	return links
}

// TestStableMACs: every veth end and tap a unit creates gets a MAC derived
// from the lab (the same in every build, locally administered unicast,
// another in another lab); a VLAN keeps its parent's, a bridge the kernel's
// (its ports'), and what networkd creates is left to networkd's own
// persistent MACs.
func TestStableMACs(t *testing.T) {
	one, again, other := macPlan(t, "one", ""), macPlan(t, "one", ""), macPlan(t, "other", "")
	derived := []string{"pc:a", "sw:pa", "pc:b", "hb-pc", "pc:t0"}
	seen := map[string]string{}
	for _, n := range derived {
		l := one[n]
		if l == nil || l.Owner == nil {
			t.Fatalf("%s: not a link a unit creates: %+v", n, l)
		}
		first, err := strconv.ParseUint(l.MAC[:2], 16, 8)
		if len(l.MAC) != 17 || err != nil || first&1 != 0 || first&2 == 0 {
			t.Errorf("%s: MAC %q, want a locally administered unicast one", n, l.MAC)
		}
		if again[n].MAC != l.MAC {
			t.Errorf("%s: MAC %s in one build, %s in the next", n, l.MAC, again[n].MAC)
		}
		if other[n].MAC == l.MAC {
			t.Errorf("%s: the same MAC %s in labs one and other", n, l.MAC)
		}
		if s, ok := seen[l.MAC]; ok {
			t.Errorf("%s and %s share MAC %s", s, n, l.MAC)
		}
		seen[l.MAC] = n
	}
	for _, n := range []string{"pc:b.10", "sw:br0", "hb", "hx", "hy", "ht"} {
		if l := one[n]; l == nil || l.MAC != "" {
			t.Errorf("%s: %+v, want a link with no MAC of netgen's", n, l)
		}
	}
	if one["pc:b.10"].Kind != schema.KindVLAN || one["hb"].Owner != nil {
		t.Fatalf("the lab is not what the test needs: pc:b.10 %v, hb owned by %v", one["pc:b.10"].Kind, one["hb"].Owner)
	}

	// A MAC the lab gives is never derived for another link: with pc:b's
	// derived MAC given to pc:a, pc:b gets another.
	taken := one["pc:b"].MAC
	given := macPlan(t, "one", ", mac: "+taken)
	if given["pc:a"].MAC != taken || given["pc:b"].MAC == taken || given["pc:b"].MAC == "" {
		t.Errorf("pc:a given %s: pc:a has %s, pc:b %s; want pc:b another", taken, given["pc:a"].MAC, given["pc:b"].MAC)
	}
}
