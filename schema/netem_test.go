package schema

import "testing"

// TestDerivedLimit: a rate without a limit gets enough 1500-byte packets
// for delay + jitter + 100 ms at that rate, never fewer than 1000.
func TestDerivedLimit(t *testing.T) {
	for _, c := range []struct {
		rate, delay, jitter int64
		want                int
	}{
		{10_000_000, 0, 0, 1000},                     // 84 packets: the kernel's 1000
		{1_000_000_000, 40_000, 0, 11667},            // 1 Gbit/s × 140 ms / 12000 bit
		{1_000_000_000, 40_000, 10_000, 12500},       // jitter counts
		{100_000_000_000, 60_000_000, 0, 10_000_000}, // capped at MaxNetemLimit
	} {
		if got := DerivedLimit(c.rate, c.delay, c.jitter); got != c.want {
			t.Errorf("DerivedLimit(%d, %d, %d) = %d, want %d", c.rate, c.delay, c.jitter, got, c.want)
		}
	}
	n := &Netem{Rate: Str{Value: "1gbit", Set: true}, Delay: Str{Value: "40ms", Set: true}}
	if v := n.Values(); v.Limit != 11667 || v.Rate != 1e9 || v.Delay != 40_000 {
		t.Errorf("Values() = %+v", v)
	}
	n.Limit = Int{Value: 50, Set: true}
	if v := n.Values(); v.Limit != 50 {
		t.Errorf("a lab's limit is kept: %+v", v)
	}
}
