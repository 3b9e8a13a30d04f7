package apply

import "testing"

// TestUp: a lab's service between two runs counts as up; a namespace unit
// that is still activating does not, nor does a failed service.
func TestUp(t *testing.T) {
	for _, c := range []struct {
		unit, state string
		up          bool
	}{
		{"netgen-l_svc-ns--web.service", "activating", true},
		{"netgen-l_svc-ns--web.service", "active", true},
		{"netgen-l_svc-ns--web.service", "failed", false},
		{"netgen-l_ns-web.service", "activating", false},
		{"netgen-l_ns-web.service", "active", true},
	} {
		if got := Up(c.unit, c.state); got != c.up {
			t.Errorf("Up(%s, %s) = %v, want %v", c.unit, c.state, got, c.up)
		}
	}
}
