package schema

import (
	"strings"
	"testing"
)

// TestNumbers: the forms of a number netgen takes and the value each gives;
// every other form YAML 1.1 reads as a number is an error at its position
// (testdata/errors/numbers.yml shows the messages).
func TestNumbers(t *testing.T) {
	for _, c := range []struct {
		mask, pvid string
		want       int // -1: refused
	}{
		{"0x4000", "10", 0x4000},
		{"0X4000", "10", 0x4000},
		{"16384", "10", 16384},
		{"0", "10", 0},
		{"0x0", "10", 0},
		{"040000", "10", -1},
		{"0o40000", "10", -1},
		{"-0x4000", "10", -1},
		{"0x4000", "010", -1},
		{"0x4000", "0x10", -1},
		{"0x4000", "+10", -1},
		{"0x4000", "1_0", -1},
		{"0x4000", "10.0", -1},
		{"0x4000", "'10'", -1},
	} {
		src := "version: 1\nbridges:\n  br0: {group-forward-mask: " + c.mask + ", default-pvid: " + c.pvid + "}\n"
		lab, diags := Decode("lab.yml", []byte(src))
		if c.want < 0 {
			if len(diags.Items) != 1 || diags.Items[0].Pos.Line != 3 {
				t.Errorf("%q: want one error on line 3, got %v", src, diags.Items)
			}
			continue
		}
		if len(diags.Items) != 0 {
			t.Errorf("%q: %v", src, diags.Items)
			continue
		}
		b := lab.Bridges[0]
		if b.GroupForwardMask.Value != c.want || b.DefaultPVID.Value != 10 {
			t.Errorf("%q: mask %d pvid %d, want %d 10", src, b.GroupForwardMask.Value, b.DefaultPVID.Value, c.want)
		}
	}
}

// TestTrunkRanges: a trunk entry is an id or an inclusive range in plain
// decimal.
func TestTrunkRanges(t *testing.T) {
	for entry, want := range map[string]VIDRange{
		"10":        {From: 10, To: 10},
		"20-29":     {From: 20, To: 29},
		"'20 - 29'": {From: 20, To: 29},
		"010":       {},
		"'010-20'":  {},
		"'+1-2'":    {},
		"'1--2'":    {},
		"0x10":      {},
	} {
		src := "version: 1\nveths:\n  - [a, {name: b, bridge: br, vlan: {trunk: [" + entry + "]}}]\n"
		lab, diags := Decode("lab.yml", []byte(src))
		trunk := lab.Veths[0].Ends[1].Port.VLAN.Trunk
		if want.From == 0 {
			if len(trunk) != 0 || !diags.HasErrors() {
				t.Errorf("%s: taken as %v", entry, trunk)
			}
			continue
		}
		if len(trunk) != 1 || trunk[0].From != want.From || trunk[0].To != want.To || diags.HasErrors() {
			t.Errorf("%s: got %v %v, want %d-%d", entry, trunk, diags.Items, want.From, want.To)
		}
	}
}

// TestEmptyNamespace: `namespace: ""` is an error, not the host.
func TestEmptyNamespace(t *testing.T) {
	_, diags := Decode("lab.yml", []byte("version: 1\nbridges:\n  br0: {namespace: \"\"}\n"))
	if len(diags.Items) != 1 || !strings.Contains(diags.Items[0].Message, "namespace is empty") || diags.Items[0].Pos != (Pos{Line: 3, Col: 20}) {
		t.Errorf("got %v", diags.Items)
	}
}
