package randlab_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/testkit/randlab"
	"github.com/netgen-lab/netgen/schema"
)

// coverageLabs is how many labs of each population the coverage test
// reads: every key and form shows up before (about 300 labs since the
// additions to version 1: a VLAN port with native VLAN is the rarest).
const coverageLabs = 400

// validLabs is how many labs of each population TestValid compiles: a
// generator bug that made 1 lab in 300 invalid (two bridges of one name
// in different namespaces) went unseen in 300.
const validLabs = 2000

// TestCoverage fails when some key of the format, or some form the
// generator claims to write, is never written in coverageLabs labs of
// each population, and when a lab uses a key the format's list lacks
// (the list and the generator disagree).
func TestCoverage(t *testing.T) {
	keys := map[string]int{}
	forms := map[string]int{}
	for _, pop := range []randlab.Population{randlab.KernelOK, randlab.VLANs} {
		for i := range coverageLabs {
			lab := randlab.Generate(1, i, randlab.Options{Population: pop})
			k, err := randlab.KeysOf(lab.YAML)
			if err != nil {
				t.Fatalf("lab %d (%s) does not read back: %v\n%s", i, pop, err, lab.YAML)
			}
			for p := range k {
				keys[p]++
			}
			for f := range lab.Forms {
				forms[f]++
			}
		}
	}
	all := randlab.FormatKeys()
	for _, k := range all {
		if keys[k] == 0 {
			t.Errorf("key %s is never generated", k)
		}
	}
	for k := range keys {
		if !slices.Contains(all, k) {
			t.Errorf("key %s is generated but not in the format's list (keys.go)", k)
		}
	}
	for _, f := range randlab.Forms {
		if forms[f] == 0 {
			t.Errorf("form %s is never generated", f)
		}
	}
	for f := range forms {
		if !slices.Contains(randlab.Forms, f) {
			t.Errorf("form %s is generated but not listed in randlab.Forms", f)
		}
	}
	if t.Failed() {
		t.Logf("keys seen: %v\nforms seen: %v", keys, forms)
	}
}

// TestValid compiles labs of both populations: each must pass validation
// (warnings allowed), and a VLAN lab must need the VLAN kernel while a
// kernel-OK lab must not. A rejected lab is a generator bug or an
// over-strict validator; the diagnostics say which.
func TestValid(t *testing.T) {
	for _, pop := range []randlab.Population{randlab.KernelOK, randlab.VLANs} {
		rejected := 0
		for i := range validLabs {
			lab := randlab.Generate(1, i, randlab.Options{Population: pop})
			res, err := compile.Compile(lab.File, lab.YAML)
			if err != nil {
				t.Fatalf("%s lab %d: %v\n%s", pop, i, err, lab.YAML)
			}
			if res.Diags.HasErrors() {
				rejected++
				var b bytes.Buffer
				res.Diags.Render(&b, lab.YAML)
				t.Logf("%s lab %d rejected:\n%s\n%s", pop, i, b.String(), lab.YAML)
				continue
			}
			if res.Plan.Lab != lab.Name {
				t.Errorf("%s lab %d is named %q, want %q", pop, i, res.Plan.Lab, lab.Name)
			}
			if got := needsVLANKernel(res.Plan); got != (pop == randlab.VLANs) {
				t.Errorf("%s lab %d: needs the VLAN kernel: %v\n%s", pop, i, got, lab.YAML)
			}
		}
		// Other rules may come to refuse a rare corner the generator
		// makes: a few are logged above, more fail.
		if rejected > validLabs/50 {
			t.Errorf("%s: %d labs of %d rejected", pop, rejected, validLabs)
		}
	}
}

// needsVLANKernel reports whether the lab needs what the development
// machines' kernel lacks: 802.1Q, VLAN filtering, bonding, dummies, VRFs,
// netem, tc actions (wires).
func needsVLANKernel(p *generator.Plan) bool {
	for _, l := range p.Links {
		if l.Kind == schema.KindVLAN || (l.Bridge != nil && l.Bridge.VLANFiltering) || l.PortVLANs != nil || l.Netem != nil ||
			l.Kind == schema.KindBond || l.Kind == schema.KindDummy || l.Kind == schema.KindVRF {
			return true
		}
	}
	return len(p.Wires) > 0
}

// TestDeterministic: a lab depends on its seed, index and options only.
func TestDeterministic(t *testing.T) {
	opt := randlab.Options{Population: randlab.VLANs, Prefix: "q1", Block: 7}
	a := randlab.Generate(42, 5, opt)
	for range 3 {
		randlab.Generate(42, 4, opt)
	}
	b := randlab.Generate(42, 5, opt)
	if !bytes.Equal(a.YAML, b.YAML) {
		t.Fatalf("lab 5 of seed 42 differs between two runs:\n%s\n---\n%s", a.YAML, b.YAML)
	}
	if c := randlab.Generate(43, 5, opt); bytes.Equal(a.YAML, c.YAML) {
		t.Error("seeds 42 and 43 gave the same lab")
	}
}

// TestPrefix: with a prefix, every namespace and host interface name
// starts with it, so labs on one system do not meet.
func TestPrefix(t *testing.T) {
	for i := range 50 {
		lab := randlab.Generate(3, i, randlab.Options{Population: randlab.VLANs, Prefix: "q7", Block: 8})
		res, err := compile.Compile(lab.File, lab.YAML)
		if err != nil || res.Diags.HasErrors() {
			continue // TestValid reports those
		}
		for _, l := range res.Plan.Links {
			if l.MatchMAC != "" {
				continue
			}
			if l.NS == "" && !strings.HasPrefix(l.Name, "q7") {
				t.Errorf("lab %d: host link %s lacks the prefix", i, l.Name)
			}
			if l.NS != "" && !strings.HasPrefix(l.NS, "q7") {
				t.Errorf("lab %d: namespace %s lacks the prefix", i, l.NS)
			}
		}
		if !strings.HasPrefix(res.Plan.Lab, "q7") {
			t.Errorf("lab %d is named %s", i, res.Plan.Lab)
		}
	}
}

// TestWild: every switch of randlab.Wild changes some lab, so none is a
// name without effect.
func TestWild(t *testing.T) {
	if len(randlab.Wild) == 0 {
		t.Skip("randlab.Wild is empty: no open random-lab finding")
	}
	for w := range randlab.Wild {
		on := map[string]bool{w: true}
		off := map[string]bool{}
		changed := false
		for i := 0; i < 6000 && !changed; i++ {
			pop := randlab.Population(i % 2)
			a := randlab.Generate(1, i, randlab.Options{Population: pop, Wild: off})
			b := randlab.Generate(1, i, randlab.Options{Population: pop, Wild: on})
			// The first line names the options: skip it.
			_, ay, _ := bytes.Cut(a.YAML, []byte("\n"))
			_, by, _ := bytes.Cut(b.YAML, []byte("\n"))
			changed = !bytes.Equal(ay, by)
		}
		if !changed {
			t.Errorf("switch %s changes none of 6000 labs", w)
		}
	}
}
