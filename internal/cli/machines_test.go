package cli

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/schema"
)

// TestMachineExpectations: `netgen test` on one machine of a lab with
// machines pings from that machine's namespaces and root namespace only,
// and to addresses on the other machines too (over VXLAN cables and
// stretched bridges).
func TestMachineExpectations(t *testing.T) {
	src, err := os.ReadFile("../../examples/machines.yml")
	if err != nil {
		t.Fatal(err)
	}
	lab, _ := schema.Decode("machines.yml", src)
	want := map[string][]string{
		"m1": {"a -> 10.8.0.1", "a -> 10.8.0.2", "a -> 10.8.0.3", "a -> 10.8.0.254", "a -> 10.9.0.1", "a -> 10.9.0.2", "host -> 10.7.0.1", "host -> 10.7.0.2"},
		"m2": {"b -> 10.8.0.1", "b -> 10.8.0.2", "b -> 10.8.0.3", "b -> 10.8.0.254", "b -> 10.9.0.1", "b -> 10.9.0.2",
			"host -> 10.8.0.1", "host -> 10.8.0.2", "host -> 10.8.0.3", "host -> 10.8.0.254"},
		"m3": {"c -> 10.7.0.1", "c -> 10.7.0.2", "c -> 10.8.0.1", "c -> 10.8.0.2", "c -> 10.8.0.3", "c -> 10.8.0.254"},
	}
	for m, names := range want {
		var got []string
		for _, e := range machineExpectations(lab, m) {
			if !e.Answer {
				t.Errorf("%s: %s must not answer? (%s)", m, e.Name(), e.Why)
			}
			got = append(got, e.Name())
		}
		if !slices.Equal(got, names) {
			t.Errorf("%s: pings\n%q\nwant\n%q", m, got, names)
		}
	}
}

// TestMachinesCommands: graph draws the whole lab without --machine and
// one part with it; build and test refuse a host name that is none of the
// lab's machines, and a --machine the lab lacks, writing nothing.
func TestMachinesCommands(t *testing.T) {
	lab := "../../examples/machines.yml"
	r := netgen(t, "", "graph", lab)
	if r.code != 0 || !strings.Contains(r.stdout, "vxlan-m2") || !strings.Contains(r.stdout, "10.7.0.2/30") || !strings.Contains(r.stdout, "10.8.0.254/24") {
		t.Errorf("graph of the whole lab: exit %d\n%s%s", r.code, r.stdout, r.stder)
	}
	r = netgen(t, "", "graph", lab, "--machine", "m3")
	if r.code != 0 || strings.Contains(r.stdout, "10.8.0.254/24") || !strings.Contains(r.stdout, "10.8.0.3/24") {
		t.Errorf("graph of m3's part: exit %d\n%s", r.code, r.stdout)
	}
	old := hostName
	hostName = func() string { return "elsewhere" }
	defer func() { hostName = old }()
	root := t.TempDir()
	r = netgen(t, "", "build", lab, "--root", root)
	if r.code != ExitUsage || !strings.Contains(r.stder, `this system's host name "elsewhere" is none of them`) {
		t.Errorf("build on a host that is no machine: exit %d\n%s", r.code, r.stder)
	}
	r = netgen(t, "", "build", lab, "--root", root, "--machine", "m7")
	if r.code != ExitLab || !strings.Contains(r.stder, `machine "m7" is not one of the lab's machines (m1, m2, m3)`) {
		t.Errorf("build --machine m7: exit %d\n%s", r.code, r.stder)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a refused build wrote %d entries into --root", len(entries))
	}
	hostName = func() string { return "m2" }
	r = netgen(t, "", "build", lab, "--root", root)
	if r.code != 0 {
		t.Fatalf("build as m2: exit %d\n%s", r.code, r.stder)
	}
	if _, err := os.Stat(root + "/etc/systemd/network/50-netgen-machines_veth-vmh1.netdev"); err != nil {
		t.Errorf("build on host m2 did not build m2's part: %v", err)
	}
}
