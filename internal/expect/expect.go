// Package expect compares what a lab's plan says must exist with the links a
// real system reports (`ip -d -j link` / `ip -j addr` per namespace). The
// networkd oracle, the nspawn boot and the QEMU boot all check labs with it,
// so every tier holds a lab to the same definition of "up".
package expect

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/oracle"
	"github.com/netgen-lab/netgen/schema"
)

// Observed holds the links of each namespace ("" is the host).
type Observed map[string][]oracle.Link

// Options select what a tier can check.
type Options struct {
	// Skip leaves out links for which it returns true (e.g. links of units
	// that did not run).
	Skip func(l *generator.Link) bool
}

// kernelKind is the linkinfo kind ip reports for a lab kind.
func kernelKind(k schema.Kind) string {
	switch k {
	case schema.KindTap:
		return "tun"
	case schema.KindUplink:
		return ""
	}
	return k.String()
}

// Check returns one line per difference between plan and observed, naming
// the link, the property, what was expected and what was seen.
func Check(p *generator.Plan, obs Observed, opt Options) []string {
	var out []string
	bad := func(l *generator.Link, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", l.Label(), fmt.Sprintf(format, args...)))
	}
	index := map[string]map[string]*oracle.Link{}
	for ns, links := range obs {
		index[ns] = map[string]*oracle.Link{}
		for i := range links {
			index[ns][links[i].Name] = &links[i]
		}
	}
	for _, l := range p.Links {
		if opt.Skip != nil && opt.Skip(l) {
			continue
		}
		if l.MatchMAC != "" {
			// Found by MAC: its name is the machine's business.
			continue
		}
		seen := index[l.NS][l.Name]
		if seen == nil {
			bad(l, "missing (no such link in %s)", nsName(l.NS))
			continue
		}
		if k := kernelKind(l.Kind); k != "" && seen.Kind != k {
			bad(l, "kind %q, want %q", seen.Kind, k)
		}
		if l.Kind == schema.KindTap && seen.InfoData != nil && seen.InfoData["type"] != nil && seen.InfoData["type"] != "tap" {
			bad(l, "tun type %v, want tap", seen.InfoData["type"])
		}
		wantMaster := ""
		if l.Master != nil {
			wantMaster = l.Master.Name
		}
		if seen.Master != wantMaster {
			bad(l, "master %q, want %q", seen.Master, wantMaster)
		}
		if l.MTU != 0 && seen.MTU != l.MTU {
			bad(l, "MTU %d, want %d", seen.MTU, l.MTU)
		}
		if l.MAC != "" && !strings.EqualFold(seen.MAC, l.MAC) {
			bad(l, "MAC %s, want %s", seen.MAC, l.MAC)
		}
		if !seen.HasFlag("UP") {
			bad(l, "is down (flags %v)", seen.Flags)
		}
		if got, want := globalAddrs(seen), planAddrs(l); got != want {
			bad(l, "addresses [%s], want [%s]", got, want)
		}
		if !l.LinkLocal {
			if ll := seen.AddrsOf("inet6", "link"); len(ll) > 0 {
				bad(l, "has IPv6 link-local address %s, want none", ll[0].Prefix())
			}
		}
		if l.Bridge != nil && seen.Bridge != nil {
			if want := map[bool]int{false: 0, true: 1}[l.Bridge.STP]; seen.Bridge.STPState != want {
				bad(l, "stp_state %d, want %d", seen.Bridge.STPState, want)
			}
			if want := map[bool]int{false: 0, true: 1}[l.Bridge.VLANFiltering]; seen.Bridge.VLANFiltering != want {
				bad(l, "vlan_filtering %d, want %d", seen.Bridge.VLANFiltering, want)
			}
			if l.Bridge.ForwardDelay != nil && seen.Bridge.ForwardDelay != *l.Bridge.ForwardDelay*100 {
				bad(l, "forward_delay %d, want %d", seen.Bridge.ForwardDelay, *l.Bridge.ForwardDelay*100)
			}
		}
		if l.Kind == schema.KindVLAN && seen.InfoData != nil {
			if id, ok := seen.InfoData["id"].(float64); ok && int(id) != l.VID {
				bad(l, "VLAN id %v, want %d", id, l.VID)
			}
		}
	}
	return out
}

func nsName(ns string) string {
	if ns == "" {
		return "the host namespace"
	}
	return "namespace " + ns
}

// globalAddrs are the link's addresses other than IPv6 link-local ones, sorted.
func globalAddrs(l *oracle.Link) string {
	var out []string
	for _, a := range l.Addrs {
		if a.Family == "inet6" && a.Scope == "link" {
			continue
		}
		p, err := netip.ParsePrefix(a.Prefix())
		if err != nil {
			out = append(out, a.Prefix())
			continue
		}
		out = append(out, p.String())
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func planAddrs(l *generator.Link) string {
	var out []string
	for _, a := range l.Addresses {
		if a.Addr().Is6() && a.Addr().IsLinkLocalUnicast() {
			continue
		}
		out = append(out, a.String())
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
