// Package expect is the test tiers' adapter to internal/status: it turns
// what a tier collected with `ip -d -j link show`, `ip -j addr show` and
// `bridge -j vlan show` (inside a container, a VM or the networkd oracle's
// namespaces) into status's view of a system and compares the plan with it,
// so that every tier and `netgen status` hold a lab to the same definition
// of "as the lab says".
package expect

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/status"
	"github.com/netgen-lab/netgen/internal/testkit/oracle"
)

// Observed holds the links of each namespace ("" is the host).
type Observed map[string][]oracle.Link

// BridgeVLANs is `bridge -j vlan show` of one namespace.
type BridgeVLANs []struct {
	IfName string `json:"ifname"`
	VLANs  []struct {
		VLAN    int      `json:"vlan"`
		VLANEnd int      `json:"vlanEnd"`
		Flags   []string `json:"flags"`
	} `json:"vlans"`
}

// Check returns one line per link of the plan that is not as the plan
// says (missing, or each property that differs), as status.Compare finds
// it. vlans, when not nil, are the port VLANs of each namespace.
func Check(p *generator.Plan, obs Observed, vlans map[string]BridgeVLANs) []string {
	sys := &status.System{Namespaces: map[string]*status.Namespace{}, LinksOnly: true}
	for ns, links := range obs {
		n := &status.Namespace{}
		v, read := vlans[ns]
		n.VLANsRead = vlans != nil && read
		for i := range links {
			n.Links = append(n.Links, convert(&links[i], v))
		}
		sys.Namespaces[ns] = n
	}
	return status.Compare(p, sys).Problems()
}

func convert(l *oracle.Link, vlans BridgeVLANs) *status.Link {
	s := &status.Link{Name: l.Name, Kind: l.Kind, Master: l.Master, MTU: l.MTU, MAC: l.MAC, Up: l.HasFlag("UP")}
	for _, a := range l.Addrs {
		p, err := netip.ParsePrefix(a.Prefix())
		if err != nil {
			continue
		}
		if a.Family == "inet6" && a.Scope == "link" {
			s.LinkLocal = append(s.LinkLocal, p)
			continue
		}
		s.Addrs = append(s.Addrs, p)
	}
	if id, ok := l.InfoData["id"].(float64); ok && l.Kind == "vlan" {
		s.VLANID = int(id)
	}
	if t, ok := l.InfoData["type"].(string); ok && l.Kind == "tun" {
		s.TunType = t
	}
	if b := l.Bridge; b != nil {
		mask, _ := strconv.ParseInt(b.GroupFwdMask, 0, 32)
		s.Bridge = &status.Bridge{STP: b.STPState != 0, VLANFiltering: b.VLANFiltering != 0, DefaultPVID: b.VLANDefaultPVID,
			Priority: b.Priority, GroupFwdMask: int(mask), ForwardDelay: b.ForwardDelay, HelloTime: b.HelloTime,
			MaxAge: b.MaxAge, AgeingTime: b.AgeingTime}
	}
	for _, port := range vlans {
		if port.IfName != l.Name {
			continue
		}
		for _, v := range port.VLANs {
			end := max(v.VLANEnd, v.VLAN)
			pvid, untagged := false, false
			for _, f := range v.Flags {
				pvid = pvid || f == "PVID"
				untagged = untagged || f == "Egress Untagged"
			}
			for id := v.VLAN; id <= end; id++ {
				s.VLANs = append(s.VLANs, status.PortVLAN{ID: id, PVID: pvid, Untagged: untagged})
			}
		}
	}
	return s
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
