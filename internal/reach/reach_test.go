package reach_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/reach"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
)

// labDirs are every directory whose labs have a hand-written reachability
// matrix beside them.
var labDirs = []string{"../../examples", "../../e2e/testdata/labs", "../../e2e/testdata/apply"}

// TestHandMatricesAgree cross-checks the derivation with the matrices
// written by hand for the boot tiers: every ping they expect to answer is
// derived as answering, none they expect silent is derived as answering,
// and what they expect silent because of the same subnet on another
// segment is derived as silent. Probes from namespaces the lab does not
// have (made by the matrix's own setup commands) are outside the lab and
// left out.
func TestHandMatricesAgree(t *testing.T) {
	for _, dir := range labDirs {
		for _, path := range testlabs.Labs(t, dir) {
			if _, err := os.Stat(strings.TrimSuffix(path, ".yml") + ".reach.yml"); err != nil {
				continue // e2e/testdata/apply/failing.yml cannot come up
			}
			t.Run(filepath.Base(path), func(t *testing.T) {
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				res := testlabs.Compile(t, filepath.Base(path), src)
				got := map[string]reach.Expectation{}
				nodes := map[string]bool{reach.Host: true}
				for _, u := range res.Plan.Units {
					if u.Namespace != nil {
						nodes[u.Namespace.Name] = true
					}
				}
				for _, e := range reach.Derive(res.Plan) {
					got[e.Name()] = e
				}
				hand := testlabs.ReadReach(t, path)
				check := func(p testlabs.Probe, answer bool) {
					if !nodes[p.From] {
						return
					}
					name := p.From + " -> " + netip.MustParseAddr(p.To).String()
					e, ok := got[name]
					switch {
					case answer && (!ok || !e.Answer):
						t.Errorf("%s: the matrix expects an answer, the lab implies none (%+v)", name, e)
					case !answer && ok && e.Answer:
						t.Errorf("%s: the matrix expects no answer, the lab implies one: %s", name, e.Why)
					}
				}
				for _, p := range hand.Ping {
					check(p, true)
				}
				for _, p := range hand.NoPing {
					check(p, false)
				}
			})
		}
	}
}

func derive(t *testing.T, lab string) map[string]reach.Expectation {
	t.Helper()
	res := testlabs.Compile(t, "lab.yml", []byte(lab))
	out := map[string]reach.Expectation{}
	for _, e := range reach.Derive(res.Plan) {
		out[e.Name()] = e
	}
	return out
}

func want(t *testing.T, got map[string]reach.Expectation, name string, answer bool, why string) {
	t.Helper()
	e, ok := got[name]
	if !ok {
		t.Errorf("%s: no expectation, want answer=%v", name, answer)
		return
	}
	if e.Answer != answer || !strings.Contains(e.Why, why) {
		t.Errorf("%s: answer=%v (%s), want answer=%v (%q)", name, e.Answer, e.Why, answer, why)
	}
}

func none(t *testing.T, got map[string]reach.Expectation, name string) {
	t.Helper()
	if e, ok := got[name]; ok {
		t.Errorf("%s: %+v, want no expectation", name, e)
	}
}

// TestVLANsAndRouters: hosts on one VLAN answer each other; across VLANs
// only through a namespace that forwards, and the same subnet on another
// VLAN must stay silent.
func TestVLANsAndRouters(t *testing.T) {
	got := derive(t, `
version: 1
namespaces: {a: {}, b: {}, c: {}, x: {}, r: {sysctl: {net.ipv4.ip_forward: 1}}}
bridges: {sw: {vlan-filtering: true}}
veths:
  - [{name: a:eth0, addresses: [10.1.0.1/24], gateway: 10.1.0.254}, {name: sw-a, bridge: sw, vlan: {access: 10}}]
  - [{name: b:eth0, addresses: [10.1.0.2/24]}, {name: sw-b, bridge: sw, vlan: {access: 10}}]
  - [{name: c:eth0, addresses: [10.2.0.1/24], gateway: 10.2.0.254}, {name: sw-c, bridge: sw, vlan: {access: 20}}]
  - [{name: x:eth0, addresses: [10.1.0.3/24]}, {name: sw-x, bridge: sw, vlan: {access: 20}}]
  - [r:trunk, {name: sw-r, bridge: sw, vlan: {trunk: [10, 20]}}]
vlans:
  - {parent: r:trunk, id: 10, addresses: [10.1.0.254/24]}
  - {parent: r:trunk, id: 20, addresses: [10.2.0.254/24]}
`)
	want(t, got, "a -> 10.1.0.2", true, "VLAN 10 of bridge sw")
	want(t, got, "a -> 10.2.0.1", true, "through 10.1.0.254 (r)")
	want(t, got, "c -> 10.1.0.1", true, "through 10.2.0.254 (r)")
	want(t, got, "a -> 10.1.0.1", true, "its own address")
	want(t, got, "a -> 10.1.0.3", false, "VLAN 20 of bridge sw, not VLAN 10 of bridge sw")
	want(t, got, "x -> 10.1.0.2", false, "another segment")
	if n := fmt.Sprint(got["a -> 10.2.0.1"].Neighbours); n != "[{a 10.1.0.254} {r 10.2.0.1} {c 10.2.0.254} {r 10.1.0.1}]" {
		t.Errorf("a -> 10.2.0.1 makes neighbour entries %s", n)
	}
	// b has no gateway: the reply to c has no way back.
	none(t, got, "c -> 10.1.0.2")
	// x is on VLAN 20 with VLAN 10's subnet and no gateway.
	none(t, got, "x -> 10.2.0.1")
}

// TestNoForwarding: a gateway that does not forward carries nothing
// beyond its own addresses.
func TestNoForwarding(t *testing.T) {
	got := derive(t, `
version: 1
namespaces: {a: {}, r: {}, b: {}}
veths:
  - [{name: a:eth0, addresses: [10.1.0.1/24], gateway: 10.1.0.254}, {name: r:eth0, addresses: [10.1.0.254/24]}]
  - [{name: b:eth0, addresses: [10.2.0.1/24], gateway: 10.2.0.254}, {name: r:eth1, addresses: [10.2.0.254/24]}]
`)
	none(t, got, "a -> 10.2.0.1")
	// r's other address is r's own: no forwarding needed.
	want(t, got, "a -> 10.2.0.254", true, "through 10.1.0.254 (r)")
}

// TestUnconnectedBridges: one subnet on two bridges that nothing joins.
func TestUnconnectedBridges(t *testing.T) {
	got := derive(t, `
version: 1
namespaces: {a: {}, b: {}}
bridges: {br1: {}, br2: {}}
veths:
  - [{name: a:eth0, addresses: [10.1.0.1/24, "fd00::1/64"]}, {name: pa, bridge: br1}]
  - [{name: b:eth0, addresses: [10.1.0.2/24, "fd00::2/64"]}, {name: pb, bridge: br2}]
`)
	want(t, got, "a -> 10.1.0.2", false, "bridge br2, not bridge br1")
	want(t, got, "b -> fd00::1", false, "another segment")
	want(t, got, "a -> fd00::1", true, "its own address")
}

// TestOutsideMayJoin: two segments that both leave the lab (here through
// uplinks) may be joined outside it: nothing is expected between them.
func TestOutsideMayJoin(t *testing.T) {
	got := derive(t, `
version: 1
namespaces: {a: {}, b: {}}
bridges: {br1: {}, br2: {}}
veths:
  - [{name: a:eth0, addresses: [10.1.0.1/24]}, {name: pa, bridge: br1}]
  - [{name: b:eth0, addresses: [10.1.0.2/24]}, {name: pb, bridge: br2}]
uplinks:
  - {interface: eth1, bridge: br1}
  - {interface: eth2, bridge: br2}
`)
	none(t, got, "a -> 10.1.0.2")
}

// TestDeterministic: the derivation does not depend on the lab's order.
func TestDeterministic(t *testing.T) {
	a := `
version: 1
namespaces: {a: {}, b: {}, c: {}}
bridges: {br: {}}
veths:
  - [{name: a:eth0, addresses: [10.1.0.1/24]}, {name: pa, bridge: br}]
  - [{name: b:eth0, addresses: [10.1.0.2/24]}, {name: pb, bridge: br}]
  - [{name: c:eth0, addresses: [10.1.0.3/24]}, {name: pc, bridge: br}]
`
	b := `
version: 1
bridges: {br: {}}
namespaces: {c: {}, b: {}, a: {}}
veths:
  - [{name: c:eth0, addresses: [10.1.0.3/24]}, {name: pc, bridge: br}]
  - [{name: pa, bridge: br}, {name: a:eth0, addresses: [10.1.0.1/24]}]
  - [{name: b:eth0, addresses: [10.1.0.2/24]}, {name: pb, bridge: br}]
`
	ra := reach.Derive(testlabs.Compile(t, "a.yml", []byte(a)).Plan)
	rb := reach.Derive(testlabs.Compile(t, "b.yml", []byte(b)).Plan)
	if !reflect.DeepEqual(ra, rb) {
		t.Errorf("order changed the derivation:\n%v\n%v", ra, rb)
	}
	if len(ra) != 9 {
		t.Errorf("%d expectations, want 9 (3 namespaces × 3 addresses): %v", len(ra), ra)
	}
}

// TestOwnAddressesOnBondsAndDummies: a namespace's own IPv6 addresses on a
// bond of veths and on a dummy answer (both have a carrier at once, so the
// addresses leave the tentative state); on a bond whose only member is a
// tap nobody opened, they do not.
func TestOwnAddressesOnBondsAndDummies(t *testing.T) {
	got := derive(t, `
version: 1
namespaces: {r1: {}, r2: {}}
veths:
  - [r1:eth1, r2:eth1]
  - [r1:eth2, r2:eth2]
taps:
  - {name: r1:t0}
bonds:
  - {name: r1:bond0, members: [r1:eth1, r1:eth2], addresses: [10.0.9.1/30, "fd09::1/64"]}
  - {name: r2:bond0, members: [r2:eth1, r2:eth2], addresses: [10.0.9.2/30, "fd09::2/64"]}
  - {name: r1:bond1, members: [r1:t0], mode: active-backup, addresses: ["fd0a::1/64"]}
dummies:
  - {name: r1:lo0, addresses: [10.255.0.1/32, "fd0f::1/128"]}
`)
	want(t, got, "r1 -> fd09::1", true, "its own address on r1:bond0")
	want(t, got, "r1 -> fd0f::1", true, "its own address on r1:lo0")
	want(t, got, "r2 -> fd09::1", true, "share")
	none(t, got, "r1 -> fd0a::1")
}

// TestWire: a wire joins the segments of its two ends, and names it.
func TestWire(t *testing.T) {
	got := derive(t, `
version: 1
namespaces: {a: {}, b: {}, w: {}}
veths:
  - [{name: a:eth0, addresses: [10.3.0.1/24]}, w:p1]
  - [{name: b:eth0, addresses: [10.3.0.2/24]}, w:p2]
wires:
  - [w:p1, w:p2]
`)
	want(t, got, "a -> 10.3.0.2", true, "a:eth0 and b:eth0 share the wire w:p1 -- w:p2")
}

// TestVRFs: two VRFs of one namespace are two routers: one reaches the
// other only where the lab routes it (here through namespace x, both
// ways), and the same subnet in each is two segments (must not answer).
func TestVRFs(t *testing.T) {
	lab := `
version: 1
namespaces: {pe: {sysctl: {net.ipv4.ip_forward: 1}}, c1: {}, c2: {}, c3: {}, x: {sysctl: {net.ipv4.ip_forward: 1}}}
veths:
  - [{name: pe:b1, addresses: [10.1.0.1/24]}, {name: c1:eth0, addresses: [10.1.0.11/24], gateway: 10.1.0.1}]
  - [{name: pe:r1, addresses: [10.2.0.1/24]}, {name: c2:eth0, addresses: [10.2.0.11/24], gateway: 10.2.0.1}]
  - - {name: pe:b2, addresses: [10.9.0.1/30], routes: [{to: 10.2.0.0/24, via: 10.9.0.2}]}
    - {name: x:e1, addresses: [10.9.0.2/30], routes: [{to: 10.1.0.0/24, via: 10.9.0.1}]}
  - - {name: pe:r2, addresses: [10.9.1.1/30], routes: [{to: 10.1.0.0/24, via: 10.9.1.2}]}
    - {name: x:e2, addresses: [10.9.1.2/30], routes: [{to: 10.2.0.0/24, via: 10.9.1.1}]}
vrfs:
  - {name: pe:blue, table: 100, members: [pe:b1, pe:b2]}
  - {name: pe:red, table: 200, members: [pe:r1, pe:r2]}
`
	got := derive(t, lab)
	want(t, got, "c1 -> 10.2.0.11", true, "through 10.1.0.1 (pe), 10.9.0.2 (x), 10.9.1.1 (pe) to c2:eth0")
	want(t, got, "c2 -> 10.1.0.11", true, "to c1:eth0")
	// pe's main table has none of the VRFs' addresses and sends nothing.
	for name := range got {
		if strings.HasPrefix(name, "pe ") {
			t.Errorf("%s: pe's main table has no route, yet %+v", name, got[name])
		}
	}
	// Red gets blue's subnet on a port of its own instead of the route
	// back: the same subnet on two segments, and c2's answers to c1 go
	// to red's port.
	lab = strings.Replace(lab, ", routes: [{to: 10.1.0.0/24, via: 10.9.1.2}]", "", 1)
	lab = strings.Replace(lab, "vrfs:", `  - [{name: pe:r3, addresses: [10.1.0.2/24]}, {name: c3:eth0, addresses: [10.1.0.12/24], gateway: 10.1.0.2}]
vrfs:`, 1)
	lab = strings.Replace(lab, "members: [pe:r1, pe:r2]", "members: [pe:r1, pe:r2, pe:r3]", 1)
	got = derive(t, lab)
	want(t, got, "c1 -> 10.1.0.12", false, "another segment")
	none(t, got, "c1 -> 10.2.0.11")
	want(t, got, "c3 -> 10.2.0.11", true, "through 10.1.0.2 (pe) to c2:eth0")
}
