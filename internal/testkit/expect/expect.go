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
	"github.com/netgen-lab/netgen/internal/testkit/oracle"
	"github.com/netgen-lab/netgen/schema"
)

// Observed holds the links of each namespace ("" is the host).
type Observed map[string][]oracle.Link

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
func Check(p *generator.Plan, obs Observed) []string {
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

// Leaks returns the links of named namespaces that show up in the host
// namespace although the lab puts nothing of that name there: a bridge
// inside a namespace must be invisible from the host.
func Leaks(p *generator.Plan, obs Observed) []string {
	host := map[string]bool{}
	for _, l := range p.Links {
		if l.NS == "" {
			host[l.Name] = true
		}
	}
	seen := map[string]bool{}
	for _, l := range obs[""] {
		seen[l.Name] = true
	}
	var out []string
	for _, l := range p.Links {
		if l.NS != "" && !host[l.Name] && seen[l.Name] {
			out = append(out, fmt.Sprintf("%s: visible in the host namespace", l.Label()))
		}
	}
	return out
}

// BridgeVLANs is `bridge -j vlan show` of one namespace.
type BridgeVLANs []struct {
	IfName string `json:"ifname"`
	VLANs  []struct {
		VLAN    int      `json:"vlan"`
		VLANEnd int      `json:"vlanEnd"`
		Flags   []string `json:"flags"`
	} `json:"vlans"`
}

// vlanSet renders a port's VLANs as "10(PVID,untagged) 20 21", one entry per
// id, so that ranges and single ids compare alike.
type vlanSet map[int]string

func (s vlanSet) String() string {
	ids := make([]int, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("%d%s", id, s[id]))
	}
	return strings.Join(parts, " ")
}

func flags(pvid, untagged bool) string {
	switch {
	case pvid && untagged:
		return "(PVID,untagged)"
	case pvid:
		return "(PVID)"
	case untagged:
		return "(untagged)"
	}
	return ""
}

// CheckVLANs compares every port VLAN the plan sets with what the bridges
// report, per namespace: the exact set of VLAN ids of each port, which one
// is the PVID and which leave untagged.
func CheckVLANs(p *generator.Plan, obs map[string]BridgeVLANs) []string {
	var out []string
	for _, l := range p.Links {
		if l.PortVLANs == nil {
			continue
		}
		want := vlanSet{}
		for _, e := range l.PortVLANs.Entries {
			for id := e.From; id <= e.To; id++ {
				want[id] = flags(e.PVID, e.Untagged)
			}
		}
		got := vlanSet{}
		found := false
		for _, port := range obs[l.NS] {
			if port.IfName != l.Name {
				continue
			}
			found = true
			for _, v := range port.VLANs {
				end := v.VLANEnd
				if end == 0 {
					end = v.VLAN
				}
				pvid, untagged := false, false
				for _, f := range v.Flags {
					pvid = pvid || f == "PVID"
					untagged = untagged || f == "Egress Untagged"
				}
				for id := v.VLAN; id <= end; id++ {
					got[id] = flags(pvid, untagged)
				}
			}
		}
		if !found {
			got = vlanSet{}
		}
		if got.String() != want.String() {
			out = append(out, fmt.Sprintf("%s: port VLANs [%s], want [%s]", l.Label(), got, want))
		}
	}
	return out
}
