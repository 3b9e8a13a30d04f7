package install

import (
	"testing"

	"github.com/netgen-lab/netgen/internal/compile"
)

// TestRecordNetdevs: each networkd device is recorded with the hash of its
// own .netdev, even when another device's name ends with its name.
func TestRecordNetdevs(t *testing.T) {
	lab := func(stp string) []byte {
		return []byte("version: 1\nname: r\nbridges:\n  a: {stp: " + stp + "}\n  x-a: {}\n")
	}
	rec := func(src []byte) *Record {
		res, err := compile.Compile("r.yml", src)
		if err != nil || res.Diags.HasErrors() {
			t.Fatalf("compile: %v %v", err, res.Diags.Items)
		}
		return NewRecord(res.Plan, res.Files, nil, Dirs{Network: "/n", Unit: "/u"})
	}
	off, on := rec(lab("false")), rec(lab("true"))
	if off.Netdevs["a"] == off.Netdevs["x-a"] {
		t.Errorf("a and x-a recorded with one hash: %v", off.Netdevs)
	}
	if off.Netdevs["a"] == on.Netdevs["a"] {
		t.Error("a change of a's .netdev does not change its recorded hash")
	}
	if off.Netdevs["x-a"] != on.Netdevs["x-a"] {
		t.Error("a change of a's .netdev changed x-a's recorded hash")
	}
}
