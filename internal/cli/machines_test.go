package cli

import (
	"os"
	"slices"
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
