package status

import (
	"strconv"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/schema"
)

// bondModes are the kernel's bond modes by number (IFLA_BOND_MODE).
var bondModes = []string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}

// kernelObjectDiffs compares a bond's mode, a VRF's table and a bridge
// port's `port:` settings (those the lab sets; the rest are the kernel's).
func kernelObjectDiffs(l *generator.Link, s *Link, diff func(prop, want, have string)) {
	if l.Kind == schema.KindBond && l.BondOpts != nil && s.Kind == "bond" && s.BondMode != "" {
		diff("bond mode", l.BondOpts.Mode, s.BondMode)
	}
	if l.Kind == schema.KindVRF && s.Kind == "vrf" {
		diff("VRF table", strconv.Itoa(l.Table), strconv.Itoa(s.VRFTable))
	}
	o, p := l.PortOpts, s.Port
	if o == nil || p == nil || l.External {
		return
	}
	num := func(prop string, want *int, have int) {
		if want != nil {
			diff(prop, strconv.Itoa(*want), strconv.Itoa(have))
		}
	}
	flag := func(prop string, want *bool, have bool) {
		if want != nil {
			diff(prop, strconv.FormatBool(*want), strconv.FormatBool(have))
		}
	}
	num("port cost", o.Cost, p.Cost)
	num("port priority", o.Priority, p.Priority)
	flag("isolated", o.Isolated, p.Isolated)
	flag("learning", o.Learning, p.Learning)
	flag("flood", o.Flood, p.Flood)
	flag("hairpin", o.Hairpin, p.Hairpin)
	flag("bpdu-guard", o.BPDUGuard, p.BPDUGuard)
	flag("root-guard", o.RootGuard, p.RootGuard)
}
