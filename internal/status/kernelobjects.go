package status

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

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
	if o, h := l.BondOpts, s.BondOpts; o != nil && h != nil && s.Kind == "bond" {
		// The LACP rate and hash policy the lab leaves to the kernel are
		// the kernel's business; the rate means something only in 802.3ad.
		if o.LACPRate != "" && o.Mode == "802.3ad" {
			diff("LACP rate", o.LACPRate, h.LACPRate)
		}
		if o.XmitHashPolicy != "" {
			diff("transmit hash policy", o.XmitHashPolicy, h.XmitHashPolicy)
		}
		diff("MII monitor (ms)", strconv.Itoa(o.MIIMon), strconv.Itoa(h.MIIMon))
	}
	if x, h := l.VXLAN, s.VXLAN; x != nil && h != nil {
		diff("VNI", strconv.Itoa(x.VNI), strconv.Itoa(h.VNI))
		diff("UDP port", strconv.Itoa(x.Port), strconv.Itoa(h.Port))
		diff("local", addrString(x.Local), addrString(h.Local))
		diff("remote", addrString(x.Remote), addrString(h.Remote))
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

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func addrs(as []netip.Addr) string {
	var out []string
	for _, a := range as {
		out = append(out, a.String())
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// memberDiffs compares a bond's or VRF's members with the links of its
// namespace whose master it is (a member with another master is also
// reported on the member itself).
func memberDiffs(l *generator.Link, n *Namespace, diff func(prop, want, have string)) {
	if (l.Kind != schema.KindBond && l.Kind != schema.KindVRF) || n == nil {
		return
	}
	var want, have []string
	for _, m := range l.Members {
		want = append(want, m.Name)
	}
	for _, s := range n.Links {
		if s.Master == l.Name {
			have = append(have, s.Name)
		}
	}
	slices.Sort(want)
	slices.Sort(have)
	diff("members", strings.Join(want, " "), strings.Join(have, " "))
}

// qdiscs compares every impairment of the lab with the root netem of its
// link, and reports a netem on a lab link that the lab does not impair.
func (c *comparer) qdiscs() {
	for _, l := range c.p.Links {
		n := c.sys.Namespaces[l.NS]
		if n != nil && !n.QdiscsRead {
			continue
		}
		s := c.find(l)
		if l.Netem == nil {
			if s != nil && s.Netem != nil {
				c.add(Object{Kind: "qdisc", Name: linkName(l), Namespace: l.NS, State: Leftover, Detail: "a netem the lab does not set: " + s.Netem.String()})
			}
			continue
		}
		o := Object{Kind: "qdisc", Name: linkName(l), Namespace: l.NS, State: OK, Detail: l.Netem.String()}
		switch {
		case n == nil:
			o.State, o.Detail = Missing, nsLabel(l.NS)+" is missing"
		case s == nil:
			o.State, o.Detail = Missing, "no link "+l.Label()
		case s.Netem == nil:
			o.State, o.Detail = Missing, "no netem qdisc on "+l.Label()
		default:
			o.Differences = netemDiffs(l.Netem, s.Netem)
			if len(o.Differences) > 0 {
				o.State, o.Detail = Different, ""
			}
		}
		c.add(o)
	}
}

func netemDiffs(w, h *schema.NetemValues) []Difference {
	var out []Difference
	hf := h.Fields()
	for i, f := range w.Fields() {
		// No limit in the lab leaves the kernel's (1000 packets).
		if f.Name == "limit" && f.Value == "" {
			continue
		}
		if f.Value != hf[i].Value {
			out = append(out, Difference{f.Name, f.Value, hf[i].Value})
		}
	}
	return out
}

// wires compares each wire with the ingress redirects of its ends: every
// frame arriving on one end leaves by the other, both ways.
func (c *comparer) wires() {
	for _, w := range c.p.Wires {
		o := Object{Kind: "wire", Name: w.A.Label() + " <-> " + w.B.Label(), Namespace: w.NS(), State: OK}
		n := c.sys.Namespaces[w.NS()]
		if n != nil && !n.QdiscsRead {
			continue
		}
		a, b := c.find(w.A), c.find(w.B)
		switch {
		case n == nil:
			o.State, o.Detail = Missing, nsLabel(w.NS())+" is missing"
		case a == nil || b == nil:
			var gone []string
			for _, e := range []struct {
				l *generator.Link
				s *Link
			}{{w.A, a}, {w.B, b}} {
				if e.s == nil {
					gone = append(gone, e.l.Label())
				}
			}
			o.State, o.Detail = Missing, "no link "+strings.Join(gone, ", no link ")
		default:
			for _, e := range []struct {
				s  *Link
				to string
			}{{a, w.B.Name}, {b, w.A.Name}} {
				if e.s.Redirect != e.to {
					o.Differences = append(o.Differences, Difference{"redirect of " + e.s.Name, e.to, e.s.Redirect})
				}
			}
			if len(o.Differences) > 0 {
				o.State = Different
			}
		}
		c.add(o)
	}
}

// fdbDiffs compares a stretched bridge's VXLAN flooding entries. A
// cable's end has none of its own: the kernel's default entry is its
// remote, compared as such.
func fdbDiffs(l *generator.Link, s *Link, n *Namespace, diff func(prop, want, have string)) {
	if l.VXLAN == nil || l.VXLAN.Remote.IsValid() || s.VXLAN == nil || n == nil || !n.FDBRead {
		return
	}
	diff("flooding to", addrs(l.VXLAN.FDB), addrs(s.VXLAN.FDB))
}
