package render

import (
	"fmt"

	"github.com/netgen-lab/netgen/generator"
)

// vxlanSection is a VXLAN .netdev's [VXLAN]. Independent=yes: the device
// is bound to no underlay link (networkd would otherwise create it only
// when a .network names it in VXLAN=, and the underlay is the machine's,
// not the lab's); Local= is the machine's underlay address.
func vxlanSection(x *generator.VXLANOpts) *section {
	s := newSection("VXLAN").add("VNI", fmt.Sprint(x.VNI))
	if x.Remote.IsValid() {
		s.add("Remote", x.Remote.String())
	}
	s.add("Local", x.Local.String()).add("DestinationPort", fmt.Sprint(x.Port))
	if len(x.FDB) > 0 {
		// A stretched bridge's port learns where each MAC is and floods
		// the rest to every other machine (fdbSections).
		s.add("MacLearning", "yes")
	}
	return s.add("Independent", "yes")
}

// fdbSections are the all-zero [BridgeFDB] entries of a stretched
// bridge's VXLAN port: broadcast, multicast and unknown unicast go to
// every other machine of the bridge.
func fdbSections(l *generator.Link) []*section {
	if l.VXLAN == nil {
		return nil
	}
	var out []*section
	for _, r := range l.VXLAN.FDB {
		out = append(out, newSection("BridgeFDB").add("MACAddress", "00:00:00:00:00:00").add("Destination", r.String()))
	}
	return out
}

// addVXLAN creates a VXLAN device in its namespace from the root
// namespace's `ip -batch`: the kernel opens a VXLAN's UDP socket in the
// namespace the device was created from (its link-netns), which is where
// the machine's underlay is, and the device itself appears in the lab's
// namespace. It is what `ip link add` in the root namespace and then `ip
// link set ... netns NS` does, without the name ever existing in the root
// namespace, where it could meet one of the machine's own links.
type addVXLAN struct{ l *generator.Link }

func (s addVXLAN) cmd() string {
	l, x := s.l, s.l.VXLAN
	c := "link add name " + l.Name
	if l.NS != "" {
		c += " netns " + l.NS
	}
	c += linkParams(l.MTU, l.MAC) + fmt.Sprintf(" type vxlan id %d", x.VNI)
	if x.Remote.IsValid() {
		c += " remote " + x.Remote.String()
	}
	return c + fmt.Sprintf(" local %s dstport %d", x.Local, x.Port)
}
