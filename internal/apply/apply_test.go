package apply

import (
	"slices"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/install"
)

func record(units map[string]string, netdevs map[string]string) *install.Record {
	r := &install.Record{Lab: "l", UnitHashes: units, Netdevs: netdevs,
		HostBridgePorts: map[string][]string{"br": {"netgen-l_ns-a.service"}}}
	for u := range units {
		r.Units = append(r.Units, u)
	}
	slices.Sort(r.Units)
	return r
}

// TestComputeFinishesPendingWork: a run interrupted after its files and
// record were in place left work pending; the next run, which finds the
// files current, still does it (as far as the lab still wants it).
func TestComputeFinishesPendingWork(t *testing.T) {
	units := map[string]string{"netgen-l.target": "t", "netgen-l_ns-a.service": "a2", "netgen-l_ns-b.service": "b2"}
	rec := record(units, map[string]string{"br": "h2"})
	active := map[string]string{"netgen-l.target": "active", "netgen-l_ns-a.service": "active", "netgen-l_ns-b.service": "active",
		"netgen-l_ns-c.service": "inactive", "netgen-l_ns-d.service": "active"}
	d := install.Dirs{Network: "/n", Unit: "/u"}

	if a := Compute(rec, rec, nil, d, active, nil); !a.Empty() {
		t.Fatalf("no change and nothing pending: %v", a.Describe())
	}
	pending := &Actions{
		Stop: []string{"netgen-l_ns-c.service"}, DaemonReload: true, Recreate: []string{"br", "gone"},
		NetworkdReload: true, Start: []string{"netgen-l_ns-d.service"}, Restart: []string{"netgen-l_ns-b.service"},
	}
	a := Compute(rec, rec, nil, d, active, pending)
	want := []string{
		"reload systemd (daemon-reload)",
		"re-create device br (its .netdev changed)",
		"delete device gone (no longer in the lab)",
		"restart systemd-networkd",
		"restart netgen-l_ns-a.service", // a port of the re-created br
		"restart netgen-l_ns-b.service",
		"stop and disable netgen-l_ns-d.service", // the lab no longer has it
	}
	if got := a.Describe(); !sameSet(got, want) {
		t.Errorf("actions:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// ns-c: pending stop, already inactive: nothing to do.
	if slices.Contains(a.Stop, "netgen-l_ns-c.service") {
		t.Errorf("stops netgen-l_ns-c.service, which is inactive")
	}
	// A unit pending a restart that is not running is started.
	active["netgen-l_ns-b.service"] = "failed"
	a = Compute(rec, rec, nil, d, active, &Actions{Restart: []string{"netgen-l_ns-b.service"}})
	if !slices.Equal(a.Start, []string{"netgen-l_ns-b.service"}) || len(a.Restart) != 0 {
		t.Errorf("start %v, restart %v; want start of netgen-l_ns-b.service", a.Start, a.Restart)
	}
	// Round trip through the pending file.
	b, err := ParsePending(pending.Bytes())
	if err != nil || !slices.Equal(b.Describe(), pending.Describe()) {
		t.Errorf("ParsePending(Bytes()) = %v, %v", b, err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
