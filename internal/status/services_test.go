package status_test

import (
	"os"
	"testing"

	"github.com/netgen-lab/netgen/internal/status"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
)

// TestServices: a lab's services are its units; one between two runs
// (activating) is as the lab says, a failed one is not, and none is taken
// for a leftover of a previous build.
func TestServices(t *testing.T) {
	src, err := os.ReadFile("../../examples/services.yml")
	if err != nil {
		t.Fatal(err)
	}
	p := testlabs.Compile(t, "services.yml", src).Plan
	if len(p.Services) == 0 {
		t.Fatal("examples/services.yml has no service")
	}
	unit := p.Services[0].Unit
	sys := asPlanned(p)
	sys.Units[unit] = status.Unit{Load: "loaded", Active: "activating"}
	// The previous build had the same units: none is a leftover.
	sys.Previous = status.Previous{Units: status.Units(p)}
	if rep := status.Compare(p, sys); !rep.OK {
		t.Errorf("a service between two runs: not as the lab says:\n%v", rep.Problems())
	}
	sys.Units[unit] = status.Unit{Load: "loaded", Active: "failed"}
	rep := status.Compare(p, sys)
	if o := find(rep, "unit", unit); o.State != status.Different {
		t.Errorf("a failed service: %+v, want different", o)
	}
}
