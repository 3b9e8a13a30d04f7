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

// TestRecordVLANOnBridge: the host unit that makes a VLAN on a networkd
// bridge (a port that must leave its VLAN-filtering bridge's default VLAN)
// is recorded with the bridge, so that re-creating the bridge, which takes
// the VLAN with it, restarts the unit; the bridge stays networkd's, with a
// .netdev.
func TestRecordVLANOnBridge(t *testing.T) {
	src := []byte(`version: 1
name: r
bridges:
  br0: {}
  sw: {vlan-filtering: true}
veths:
  - [{name: p0, bridge: br0}, p1]
vlans:
  - {parent: br0, id: 30, bridge: sw, vlan: {access: 10}}
`)
	res, err := compile.Compile("r.yml", src)
	if err != nil || res.Diags.HasErrors() {
		t.Fatalf("compile: %v %v", err, res.Diags.Items)
	}
	rec := NewRecord(res.Plan, res.Files, nil, Dirs{Network: "/n", Unit: "/u"})
	if got := rec.HostBridgePorts["br0"]; len(got) != 1 || got[0] != "netgen-r_host.service" {
		t.Errorf("bridge br0's dependent units %v, want [netgen-r_host.service]", got)
	}
	if rec.Netdevs["br0"] == "" {
		t.Errorf("br0 has no recorded .netdev (netdevs %v): it left networkd", rec.Netdevs)
	}
}

// TestRecordUnitMembers: the host unit that enslaves its links to a bond
// and a VRF networkd owns (links whose netem networkd 252 cannot say) is
// recorded with each, so that re-creating one (a changed .netdev), which
// drops the unit's member from it, restarts the unit; the bond and the
// VRF stay networkd's, with a .netdev.
func TestRecordUnitMembers(t *testing.T) {
	src := []byte(`version: 1
name: r
veths:
  - [{name: v1, addresses: [10.9.0.1/24], netem: {corrupt: 1%}}, v2]
  - [m1, p1]
  - ends: [m2, p2]
    netem: {rate: 64kbit}
vrfs:
  - {name: red, table: 100, members: [v1]}
bonds:
  - {name: lag, members: [m1, m2], addresses: [10.9.2.1/24]}
`)
	res, err := compile.Compile("r.yml", src)
	if err != nil || res.Diags.HasErrors() {
		t.Fatalf("compile: %v %v", err, res.Diags.Items)
	}
	rec := NewRecord(res.Plan, res.Files, nil, Dirs{Network: "/n", Unit: "/u"})
	for _, dev := range []string{"lag", "red"} {
		if got := rec.HostBridgePorts[dev]; len(got) != 1 || got[0] != "netgen-r_host.service" {
			t.Errorf("%s's dependent units %v, want [netgen-r_host.service]", dev, got)
		}
		if rec.Netdevs[dev] == "" {
			t.Errorf("%s has no recorded .netdev (netdevs %v): it left networkd", dev, rec.Netdevs)
		}
	}
}
