package names

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// object is what a name stands for: which lab, which kind, which object.
type object struct{ lab, kind, a, b string }

// every returns every name a lab with these namespaces and host
// interfaces can produce, each with what it stands for.
func every(lab string, nss, ifs []string) map[string]object {
	out := map[string]object{
		Target(lab):                {lab, "target", "", ""},
		Unit(lab, KindHost, ""):    {lab, KindHost, "", ""},
		Unit(lab, KindBridges, ""): {lab, KindBridges, "", ""},
		UnmanagedFile(Unit(lab, KindHost, "")) + ".network": {lab, "unmanaged-host", "", ""},
		UnmanagedFile(Unit(lab, KindHost, "")) + ".link":    {lab, "keep-macs-host", "", ""},
	}
	for i, a := range nss {
		out[NamespaceUnit(lab, a)] = object{lab, KindNS, a, ""}
		out[UnmanagedFile(NamespaceUnit(lab, a))+".network"] = object{lab, "unmanaged-ns", a, ""}
		for _, b := range nss[i+1:] {
			out[LinkUnit(lab, a, b)] = object{lab, KindLink, min(a, b), max(a, b)}
		}
	}
	for _, n := range ifs {
		for _, kind := range []string{"bridge", "tap", "vlan", "veth", KindUplink} {
			for _, ext := range []string{".netdev", ".network"} {
				out[NetworkFile(lab, kind, n)+ext] = object{lab, kind + ext, n, ""}
			}
		}
	}
	return out
}

// TestNamesInjective: over many random labs (names drawn to be awkward:
// "-", "--", a trailing "-", "_", "."), no two objects of any two labs
// share a unit or file name, and every name parses back to its object.
func TestNamesInjective(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const nameChars = "ab-_.1"
	name := func(chars string, max int) string {
		for {
			n := make([]byte, 1+r.IntN(max))
			for i := range n {
				n[i] = chars[r.IntN(len(chars))]
			}
			if s := string(n); s[0] != '-' && s[0] != '_' && s[0] != '.' {
				return s
			}
		}
	}
	seen := map[string]object{}
	for range 300 {
		lab := name("ab-1", 6)
		var nss, ifs []string
		for range 12 {
			nss = append(nss, name(nameChars, 7))
			ifs = append(ifs, name(nameChars, 7))
		}
		nss, ifs = unique(nss), unique(ifs)
		for n, obj := range every(lab, nss, ifs) {
			if prev, ok := seen[n]; ok && prev != obj {
				t.Fatalf("%q names both %+v and %+v", n, prev, obj)
			}
			seen[n] = obj
			checkParse(t, n, obj)
		}
	}
	if len(seen) < 10000 {
		t.Fatalf("only %d names drawn", len(seen))
	}
}

// TestLinkUnitExhaustive: every pair of namespace names of up to 6
// characters from {a, -} gets its own link unit name.
func TestLinkUnitExhaustive(t *testing.T) {
	var all []string
	var grow func(s string)
	grow = func(s string) {
		all = append(all, s)
		if len(s) < 6 {
			grow(s + "a")
			grow(s + "-")
		}
	}
	grow("a")
	seen := map[string][2]string{}
	for i, a := range all {
		for _, b := range all[i+1:] {
			n := LinkUnit("x", a, b)
			pair := [2]string{min(a, b), max(a, b)}
			if prev, ok := seen[n]; ok {
				t.Fatalf("%q names both %v and %v", n, prev, pair)
			}
			seen[n] = pair
			p, ok := Parse(n)
			ga, gb, ok2 := LinkPair(p.Object)
			if !ok || !ok2 || ga != pair[0] || gb != pair[1] {
				t.Fatalf("%q parses to %q %q, want %v", n, ga, gb, pair)
			}
		}
	}
}

func unique(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func checkParse(t *testing.T, n string, obj object) {
	t.Helper()
	p, ok := Parse(n)
	if !ok || p.Lab != obj.lab {
		t.Fatalf("Parse(%q) = %+v, %v; want lab %q", n, p, ok, obj.lab)
	}
	if !Belongs(n, obj.lab) {
		t.Fatalf("Belongs(%q, %q) is false", n, obj.lab)
	}
	if obj.kind == KindLink {
		a, b, ok := LinkPair(p.Object)
		if !ok || a != obj.a || b != obj.b {
			t.Fatalf("LinkPair(%q) = %q, %q; want %q, %q", p.Object, a, b, obj.a, obj.b)
		}
	}
}

// TestCollisionsOfTheOldScheme are the cases the old names (LAB-KIND-NAME,
// A--B, a MAC without colons) confused.
func TestCollisionsOfTheOldScheme(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		// lab x with bridge bridge-z, lab x-bridge with bridge z
		{NetworkFile("x", "bridge", "bridge-z"), NetworkFile("x-bridge", "bridge", "z")},
		{NamespaceUnit("x", "ns-y"), NamespaceUnit("x-ns", "y")},
		{LinkUnit("x", "a--b", "c"), LinkUnit("x", "a", "b--c")},
		{LinkUnit("x", "a-", "b"), LinkUnit("x", "a", "-b")},
		{NetworkFile("x", KindUplink, "02aabbccddee"), NetworkFile("x", KindUplink, "02:aa:bb:cc:dd:ee")},
		{Target("x-ns"), NamespaceUnit("x", "ns")},
	} {
		if c.a == c.b {
			t.Errorf("both are %q", c.a)
		}
	}
	if got, want := LinkUnit("x", "c", "a--b"), `netgen-x_link-a\x2d\x2db--c.service`; got != want {
		t.Errorf("LinkUnit = %q, want %q (systemd's \\x2d escape)", got, want)
	}
	if got := LinkUnit("x", "netns1", "netns2"); got != "netgen-x_link-netns1--netns2.service" {
		t.Errorf("an ordinary pair is escaped: %q", got)
	}
}

func TestBelongsIsExact(t *testing.T) {
	for _, n := range []string{Target("ab"), Target("a-b"), NamespaceUnit("ab", "x"), NamespaceUnit("a-b", "x"),
		NetworkFile("a-b", "bridge", "x") + ".netdev", TargetWants("a-b"), "netgen-a-ns-x.service", "50-netgen-a-bridge-x.netdev",
		"netgen-.target", "netgen-_ns-x.service", "netgen-a_.service", "netgen-A_ns-x.service"} {
		if Belongs(n, "a") {
			t.Errorf("%q belongs to lab a", n)
		}
	}
	for _, n := range []string{Target("a"), TargetWants("a"), NamespaceUnit("a", "x_y"), LinkUnit("a", "b", "c"), NetworkFile("a", "bridge", "a-b") + ".netdev",
		UnmanagedFile(NamespaceUnit("a", "x")) + ".network", UnmanagedFile(Unit("a", KindHost, "")) + ".link"} {
		if !Belongs(n, "a") {
			t.Errorf("%q does not belong to lab a", n)
		}
	}
}

func TestHeader(t *testing.T) {
	h := []byte(Header("a-b"))
	if !HasHeader(h, "a-b") || HasHeader(h, "a") || HasHeader([]byte(Header("a")), "a-b") {
		t.Error("HasHeader confuses labs a and a-b")
	}
	if len(Header(strings.Repeat("a", MaxLab))) > HeaderLen {
		t.Errorf("the header of the longest lab name is longer than HeaderLen")
	}
}

func TestCheckLab(t *testing.T) {
	for _, bad := range []string{"", "a_b", "A", "-a", "a.b", "a/b", strings.Repeat("a", MaxLab+1)} {
		if CheckLab(bad) == nil {
			t.Errorf("CheckLab(%q) accepted it", bad)
		}
	}
	for _, good := range []string{"a", "a-b", "0", "a--", strings.Repeat("a", MaxLab)} {
		if err := CheckLab(good); err != nil {
			t.Errorf("CheckLab(%q): %v", good, err)
		}
	}
}

// FuzzLinkUnit: two different pairs never share a link unit name.
func FuzzLinkUnit(f *testing.F) {
	f.Add("a--b", "c", "a", "b--c")
	f.Add("a-", "b", "a", "-b")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		for _, n := range []string{a, b, c, d} {
			if n == "" || strings.ContainsAny(n, `\/`) {
				return
			}
		}
		p1 := [2]string{min(a, b), max(a, b)}
		p2 := [2]string{min(c, d), max(c, d)}
		if p1 != p2 && LinkUnit("x", a, b) == LinkUnit("x", c, d) {
			t.Fatalf("%v and %v share %q", p1, p2, LinkUnit("x", a, b))
		}
	})
}
