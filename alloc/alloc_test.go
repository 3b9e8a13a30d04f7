package alloc_test

import (
	"fmt"
	"math/rand"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/alloc"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/schema"
)

func compileLab(t testing.TB, src string) *compile.Result {
	t.Helper()
	return testlabs.Compile(t, "lab.yml", []byte(src))
}

// addrs returns the addresses the lab ends up with on one interface.
func addrs(t *testing.T, res *compile.Result, ref string) []string {
	t.Helper()
	for _, l := range res.Plan.Links {
		if (schema.Key{NS: l.NS, If: l.Name}).String() == ref {
			var out []string
			for _, a := range l.Addresses {
				out = append(out, a.String())
			}
			return out
		}
	}
	t.Fatalf("no link %s", ref)
	return nil
}

func want(t *testing.T, res *compile.Result, ref string, w ...string) {
	t.Helper()
	if got := addrs(t, res, ref); !slices.Equal(got, w) {
		t.Errorf("%s: addresses %v, want %v", ref, got, w)
	}
}

// TestPointToPoint: a cable from a /31 and /127 pool gives each end one of
// the two addresses of its subnet (RFC 3021, RFC 6164), the router first;
// from a /30 the two hosts of the subnet.
func TestPointToPoint(t *testing.T) {
	res := compileLab(t, `
version: 1
pools:
  p31: {ipv4: 10.9.0.0/24, prefix: 31, ipv6: "fd00:9::/64", prefix6: 127}
  p30: {ipv4: 10.8.0.0/24, prefix: 30}
namespaces: {a: {}, r: {sysctl: {net.ipv4.ip_forward: 1}}}
veths:
  - {ends: [a:e0, r:e0], pool: p31}
  - {ends: [a:e1, r:e1], pool: p30}
`)
	seg := map[string]*alloc.Segment{}
	for _, s := range res.Alloc.Segments {
		seg[s.Pool] = s
	}
	s30, s31 := seg["p30"], seg["p31"]
	if len(res.Alloc.Segments) != 2 || s30 == nil || s31 == nil {
		t.Fatalf("segments %+v", res.Alloc.Segments)
	}
	if s31.Subnets[0].Bits() != 31 || s31.Subnets[1].Bits() != 127 || s30.Subnets[0].Bits() != 30 {
		t.Fatalf("subnets %v %v", s31.Subnets, s30.Subnets)
	}
	if s31.Index[0] != s31.Index[1] {
		t.Errorf("the /31 and the /127 have numbers %v: a dual-stack pool gives a segment one number", s31.Index)
	}
	v4, v6 := s31.Subnets[0].Addr(), s31.Subnets[1].Addr()
	want(t, res, "r:e0", netip.PrefixFrom(v4, 31).String(), netip.PrefixFrom(v6, 127).String())
	want(t, res, "a:e0", netip.PrefixFrom(v4.Next(), 31).String(), netip.PrefixFrom(v6.Next(), 127).String())
	n := s30.Subnets[0].Addr()
	want(t, res, "r:e1", netip.PrefixFrom(n.Next(), 30).String())
	want(t, res, "a:e1", netip.PrefixFrom(n.Next().Next(), 30).String())
}

// TestLAN: the router of a LAN takes its first address and is every host's
// `gateway: auto`; an explicit address inside the pool pins the segment's
// subnet and is never handed out again; on a dual-stack LAN the gateway is
// IPv4 and an IPv6 default route goes beside it.
func TestLAN(t *testing.T) {
	// Enough hosts that some hash onto the pinned address.
	var ns, veths strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&ns, "  h%d: {}\n", i)
		fmt.Fprintf(&veths, "  - [{name: h%d:eth0, addresses: auto, gateway: auto}, {name: sw-h%d, bridge: sw}]\n", i, i)
	}
	src := `
version: 1
pools:
  lan: {ipv4: 172.16.0.0/16, ipv6: "2001:db8:1::/48"}
namespaces:
  r: {sysctl: {net.ipv4.ip_forward: 1, net.ipv6.conf.all.forwarding: 1}}
  pinned: {}
` + ns.String() + `bridges:
  sw: {pool: lan}
veths:
  - [{name: r:lan, addresses: auto}, {name: sw-r, bridge: sw}]
  - [{name: pinned:eth0, addresses: [172.16.7.9/24]}, {name: sw-p, bridge: sw}]
` + veths.String()
	res := compileLab(t, src)
	want(t, res, "r:lan", "172.16.7.1/24", "2001:db8:1:7::1/64")
	seen := map[string]string{"172.16.7.9": "pinned:eth0"}
	for i := 0; i < 200; i++ {
		ref := fmt.Sprintf("h%d:eth0", i)
		got := addrs(t, res, ref)
		if len(got) != 2 {
			t.Fatalf("%s: %v", ref, got)
		}
		p4, p6 := netip.MustParsePrefix(got[0]), netip.MustParsePrefix(got[1])
		if p4.Masked().String() != "172.16.7.0/24" || p6.Masked().String() != "2001:db8:1:7::/64" {
			t.Errorf("%s: %v is not on the pinned subnet", ref, got)
		}
		if o, dup := seen[p4.Addr().String()]; dup {
			t.Errorf("%s got %s, already %s's", ref, p4.Addr(), o)
		}
		seen[p4.Addr().String()] = ref
		au := res.Alloc.Ifaces[schema.Key{NS: fmt.Sprintf("h%d", i), If: "eth0"}]
		if au.Gateway.String() != "172.16.7.1" || au.Default6.String() != "2001:db8:1:7::1" {
			t.Errorf("%s: gateway %s, IPv6 default %s", ref, au.Gateway, au.Default6)
		}
	}
}

// TestVLANAwareBridge: a pool on a VLAN-aware bridge gives each of its VLANs
// a subnet of its own, and a VLAN sub-interface with a pool (and nothing
// else) takes an address on its segment.
func TestVLANAwareBridge(t *testing.T) {
	res := compileLab(t, `
version: 1
pools:
  lan: {ipv4: 10.50.0.0/16}
namespaces: {a: {}, b: {}, r: {sysctl: {net.ipv4.ip_forward: 1}}}
bridges:
  sw: {vlan-filtering: true, pool: lan}
veths:
  - [{name: a:eth0, addresses: auto, gateway: auto}, {name: sw-a, bridge: sw, vlan: {access: 10}}]
  - [{name: b:eth0, addresses: auto, gateway: auto}, {name: sw-b, bridge: sw, vlan: {access: 20}}]
  - [r:trunk, {name: sw-r, bridge: sw, vlan: {trunk: [10, 20]}}]
vlans:
  - {parent: r:trunk, id: 10, pool: lan}
  - {parent: r:trunk, id: 20, addresses: auto}
`)
	a, b := addrs(t, res, "a:eth0"), addrs(t, res, "b:eth0")
	r10, r20 := addrs(t, res, "r:trunk.10"), addrs(t, res, "r:trunk.20")
	pa, pb := netip.MustParsePrefix(a[0]).Masked(), netip.MustParsePrefix(b[0]).Masked()
	if pa == pb {
		t.Errorf("VLANs 10 and 20 share subnet %s", pa)
	}
	if netip.MustParsePrefix(r10[0]).Masked() != pa || netip.MustParsePrefix(r20[0]).Masked() != pb {
		t.Errorf("router VLANs %v %v, hosts %v %v", r10, r20, a, b)
	}
	if gw := res.Alloc.Ifaces[schema.Key{NS: "a", If: "eth0"}].Gateway; gw != netip.MustParsePrefix(r10[0]).Addr() {
		t.Errorf("a's gateway %s, want the router's VLAN 10 address %s", gw, r10[0])
	}
}

// randomLab writes a lab of random size with a p2p pool, a LAN pool, routers
// and hosts, cables between namespaces and cables to pooled bridges; the
// order of map keys, of veths and of settings is random too.
type randomLab struct {
	rng     *rand.Rand
	routers []string
	hosts   []string
	bridges []string
	p2p     string
	lan     string
	cables  []string
	next    int
	gw      map[string]bool
}

func newRandomLab(seed int64) *randomLab {
	rng := rand.New(rand.NewSource(seed))
	l := &randomLab{rng: rng, gw: map[string]bool{}}
	for i := 0; i < 1+rng.Intn(4); i++ {
		l.routers = append(l.routers, fmt.Sprintf("r%d", i))
	}
	for i := 0; i < 2+rng.Intn(10); i++ {
		l.hosts = append(l.hosts, fmt.Sprintf("h%d", i))
	}
	for i := 0; i < 1+rng.Intn(5); i++ {
		l.bridges = append(l.bridges, fmt.Sprintf("b%d", i))
	}
	l.p2p = []string{
		`{ipv4: 10.0.0.0/22, prefix: 31, ipv6: "fd00:2::/64", prefix6: 127}`,
		`{ipv4: 10.0.0.0/20, prefix: 30}`,
		`{ipv6: "fd00:3::/56", prefix6: 64}`,
	}[rng.Intn(3)]
	l.lan = []string{
		`{ipv4: 172.16.0.0/18, ipv6: "fd00:1::/48"}`,
		`{ipv4: 172.16.0.0/16, prefix: 26}`,
	}[rng.Intn(2)]
	// Every bridge has a router, so that `gateway: auto` finds one.
	for _, b := range l.bridges {
		l.routerToBridge(l.routers[l.rng.Intn(len(l.routers))], b)
	}
	for i := 0; i < 5+rng.Intn(40); i++ {
		l.addCable()
	}
	return l
}

func (l *randomLab) ifname() string {
	l.next++
	return fmt.Sprintf("c%d", l.next)
}

func (l *randomLab) routerToBridge(r, b string) {
	l.cables = append(l.cables, fmt.Sprintf("[{name: %s:%s, addresses: auto}, {name: %s-%s, bridge: %s}]", r, l.ifname(), b, l.ifname(), b))
}

// addCable adds a pooled cable between two namespaces or a host's cable to
// a pooled bridge (not a router's: see TestStable).
func (l *randomLab) addCable() string {
	all := append(append([]string(nil), l.routers...), l.hosts...)
	var c string
	if l.rng.Intn(2) == 0 {
		a, b := all[l.rng.Intn(len(all))], all[l.rng.Intn(len(all))]
		c = fmt.Sprintf("{pool: p2p, ends: [%s:%s, %s:%s]}", a, l.ifname(), b, l.ifname())
	} else {
		h, b := l.hosts[l.rng.Intn(len(l.hosts))], l.bridges[l.rng.Intn(len(l.bridges))]
		gw := ""
		if !l.gw[h] {
			l.gw[h] = true
			gw = ", gateway: auto"
		}
		c = fmt.Sprintf("[{name: %s:%s, addresses: auto%s}, {name: %s-%s, bridge: %s}]", h, l.ifname(), gw, b, l.ifname(), b)
	}
	l.cables = append(l.cables, c)
	return c
}

// source writes the lab, its maps and list in an order drawn from rng.
func (l *randomLab) source(rng *rand.Rand) string {
	var top []string
	top = append(top, "version: 1", "name: rand")
	pools := []string{"  p2p: " + l.p2p, "  lan: " + l.lan}
	rng.Shuffle(len(pools), func(i, j int) { pools[i], pools[j] = pools[j], pools[i] })
	top = append(top, "pools:\n"+strings.Join(pools, "\n"))
	var ns []string
	for _, r := range l.routers {
		ns = append(ns, fmt.Sprintf("  %s: {sysctl: {net.ipv4.ip_forward: 1, net.ipv6.conf.all.forwarding: 1}}", r))
	}
	for _, h := range l.hosts {
		ns = append(ns, fmt.Sprintf("  %s: {}", h))
	}
	rng.Shuffle(len(ns), func(i, j int) { ns[i], ns[j] = ns[j], ns[i] })
	top = append(top, "namespaces:\n"+strings.Join(ns, "\n"))
	var br []string
	for _, b := range l.bridges {
		br = append(br, fmt.Sprintf("  %s: {pool: lan}", b))
	}
	rng.Shuffle(len(br), func(i, j int) { br[i], br[j] = br[j], br[i] })
	top = append(top, "bridges:\n"+strings.Join(br, "\n"))
	cables := slices.Clone(l.cables)
	rng.Shuffle(len(cables), func(i, j int) { cables[i], cables[j] = cables[j], cables[i] })
	top = append(top, "veths:\n  - "+strings.Join(cables, "\n  - "))
	rng.Shuffle(len(top)-1, func(i, j int) { top[i+1], top[j+1] = top[j+1], top[i+1] })
	return strings.Join(top, "\n") + "\n"
}

// automatic returns every automatic address and gateway of a lab by
// interface.
func automatic(res *compile.Result) map[schema.Key]string {
	out := map[schema.Key]string{}
	for k, a := range res.Alloc.Ifaces {
		out[k] = fmt.Sprint(a.Addresses, a.Gateway, a.Default6)
	}
	return out
}

// firstChoiceFree reports whether the allocation of grown, the lab with one
// more cable, gave the cable's new segment or new member its first choice
// in a place the smaller lab left free. That is the case the allocator
// promises to leave every other address alone (docs/lab-format.md): the
// other case, a collision, may move the interfaces it collides with.
func firstChoiceFree(small, grown *alloc.Result, key schema.Key) bool {
	au := grown.Ifaces[key]
	seg := au.Segment
	var old *alloc.Segment
	taken := map[string]bool{}
	for _, s := range small.Segments {
		if s.ID == seg.ID {
			old = s
		}
		if s.Pool == seg.Pool {
			for i, idx := range s.Index {
				taken[fmt.Sprint(i, idx)] = true
			}
		}
	}
	if old == nil || len(old.Members) == 0 {
		// A new segment: its subnet number must have been free.
		for i := range seg.Index {
			if taken[fmt.Sprint(i, seg.First)] {
				return false
			}
		}
		return true
	}
	if seg.Cable || au.Router {
		return true // ends of a new cable; routers are not added here
	}
	for _, m := range old.Members {
		if small.Ifaces[m].Slots[0] == au.First {
			return false
		}
	}
	return true
}

// TestStable is the property automatic addressing exists for: for random
// labs, adding one random cable (a pooled cable between namespaces, or a
// host's cable to a pooled bridge) leaves every other automatic address and
// gateway where it was, whenever the new segment or interface finds its
// first choice free; and the allocation does not depend on the order of the
// lab's keys and cables. Read backwards, each pair also shows that removing
// the cable moves nothing.
func TestStable(t *testing.T) {
	const labs = 300
	free, collided := 0, 0
	for seed := int64(1); seed <= labs; seed++ {
		l := newRandomLab(seed)
		rng := rand.New(rand.NewSource(seed))
		small := compileLab(t, l.source(rng))
		again := compileLab(t, l.source(rng))
		if a, b := fmt.Sprint(automatic(small)), fmt.Sprint(automatic(again)); a != b {
			t.Fatalf("seed %d: allocation depends on the order of keys and cables:\n%s\n%s", seed, a, b)
		}
		c := l.addCable()
		grown := compileLab(t, l.source(rng))
		var added schema.Key
		before, after := automatic(small), automatic(grown)
		for k := range after {
			if _, ok := before[k]; !ok && grown.Alloc.Ifaces[k].Segment != nil {
				added = k
			}
		}
		if added == (schema.Key{}) {
			t.Fatalf("seed %d: cable %s has no automatic address", seed, c)
		}
		if !firstChoiceFree(small.Alloc, grown.Alloc, added) {
			collided++
			continue
		}
		free++
		for k, v := range before {
			if after[k] != v {
				t.Errorf("seed %d: adding %s moved %s from %s to %s", seed, c, k, v, after[k])
			}
		}
	}
	// The property must not hold vacuously: most additions find their
	// first choice free in pools this sparse.
	t.Logf("%d additions found their first choice free, %d collided", free, collided)
	if free < labs*3/4 {
		t.Errorf("only %d of %d additions found their first choice free", free, labs)
	}
}

// BenchmarkCompile1000 compiles a lab of 1000 hosts on 10 pooled bridges
// and 1000 pooled cables (between the hosts and 10 routers), with and
// without its allocation written out: the difference is what automatic
// addressing costs.
func BenchmarkCompile1000(b *testing.B) {
	var s strings.Builder
	s.WriteString("version: 1\npools:\n  lan: {ipv4: 10.128.0.0/9, ipv6: \"fd00:1::/48\"}\n  p2p: {ipv4: 10.0.0.0/16, prefix: 31}\nnamespaces:\n")
	for r := 0; r < 10; r++ {
		fmt.Fprintf(&s, "  r%d: {sysctl: {net.ipv4.ip_forward: 1}}\n", r)
	}
	for h := 0; h < 1000; h++ {
		fmt.Fprintf(&s, "  h%d: {}\n", h)
	}
	s.WriteString("bridges:\n")
	for r := 0; r < 10; r++ {
		fmt.Fprintf(&s, "  sw%d: {pool: lan}\n", r)
	}
	s.WriteString("veths:\n")
	for r := 0; r < 10; r++ {
		fmt.Fprintf(&s, "  - [{name: r%d:lan, addresses: auto}, {name: sw%d-r, bridge: sw%d}]\n", r, r, r)
	}
	for h := 0; h < 1000; h++ {
		fmt.Fprintf(&s, "  - [{name: h%d:eth0, addresses: auto, gateway: auto}, {name: sw%d-h%d, bridge: sw%d}]\n", h, h%10, h, h%10)
		fmt.Fprintf(&s, "  - {ends: [h%d:up, r%d:h%d], pool: p2p}\n", h, h%10, h)
	}
	src := []byte(s.String())
	res := testlabs.Compile(b, "big.yml", src)
	exp, err := alloc.Expand(src, res.Lab, res.Alloc)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		src  []byte
	}{{"pools", src}, {"expanded", exp}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				testlabs.Compile(b, "big.yml", c.src)
			}
		})
	}
	b.Run("allocate", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			lab, diags := schema.Decode("big.yml", src)
			schema.Validate(lab, diags)
			b.StartTimer()
			alloc.Allocate(lab, diags)
		}
	})
}

// TestGatewayWithoutPools: `gateway: auto` needs no pool, only a router on
// the segment; of several, the lowest address in the interface's subnet,
// never the interface's own namespace, and per family.
func TestGatewayWithoutPools(t *testing.T) {
	res := compileLab(t, `
version: 1
namespaces:
  r1: {sysctl: {net.ipv4.ip_forward: 1}}
  r2: {sysctl: {net.ipv4.ip_forward: 1, net.ipv6.conf.all.forwarding: 1}}
  h: {}
bridges:
  sw: {}
veths:
  - [{name: r1:lan, addresses: [10.5.0.3/24, "fd00:5::1/64"], gateway: auto}, {name: sw-r1, bridge: sw}]
  - [{name: r2:lan, addresses: [10.5.0.7/24, "fd00:5::9/64"]}, {name: sw-r2, bridge: sw}]
  - [{name: r2:other, addresses: [10.5.9.1/24]}, {name: sw-r2b, bridge: sw}]
  - [{name: h:eth0, addresses: [10.5.0.100/24, "fd00:5::100/64"], gateway: auto}, {name: sw-h, bridge: sw}]
`)
	h := res.Alloc.Ifaces[schema.Key{NS: "h", If: "eth0"}]
	// r1 forwards IPv4 only: its IPv6 address is no gateway.
	if h.Gateway.String() != "10.5.0.3" || h.Default6.String() != "fd00:5::9" {
		t.Errorf("h: gateway %s, IPv6 default %s; want 10.5.0.3 and fd00:5::9", h.Gateway, h.Default6)
	}
	if r1 := res.Alloc.Ifaces[schema.Key{NS: "r1", If: "lan"}]; r1.Gateway.String() != "10.5.0.7" {
		t.Errorf("r1: gateway %s, want r2's 10.5.0.7 (not its own 10.5.0.3)", r1.Gateway)
	}
}

// TestSegmentThroughWire: an interface behind a wire from a pooled bridge
// is on that bridge's segment (as `netgen test` sees it, both ask package
// l2), so `addresses: auto` takes an address of the bridge's subnet. With
// alloc's own copy of the segment model, which knew no wires, the lab was
// refused: "no pool gives its segment a subnet".
func TestSegmentThroughWire(t *testing.T) {
	res := compileLab(t, `version: 1
name: pw
pools: {lan: {ipv4: 10.70.0.0/16}}
namespaces: {wv: {}, h: {}, sw: {}}
bridges: {br: {namespace: sw, pool: lan}}
veths:
  - [{name: sw:p1, bridge: br}, {name: h:e0, addresses: auto}]
  - [{name: sw:p2, bridge: br}, wv:y]
  - [wv:z, {name: h:e1, addresses: auto}]
wires:
  - [wv:y, wv:z]
`)
	a, b := addrs(t, res, "h:e0"), addrs(t, res, "h:e1")
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("h:e0 %v, h:e1 %v: want one address each", a, b)
	}
	pa, pb := netip.MustParsePrefix(a[0]), netip.MustParsePrefix(b[0])
	if pa.Masked() != pb.Masked() || pa.Addr() == pb.Addr() {
		t.Errorf("h:e0 %v and h:e1 %v: want two addresses of one subnet", pa, pb)
	}
}
