package generator

import (
	"crypto/sha256"
	"strconv"

	"github.com/netgen-lab/netgen/schema"
)

// stableMACs gives every link a unit creates without a lab `mac:` a MAC
// derived from the lab (stableMAC), so that it keeps it when its unit is
// restarted (a live build that changes the unit, systemctl restart, a
// reboot). With the kernel's random MACs a neighbour that still held the
// old one in a REACHABLE entry kept sending to it: the first answer came
// 40.1 s after a namespace was made again behind a bridge (measured in
// throwaway namespaces). networkd does the same for the devices it creates
// (MACAddressPolicy=persistent), so its links are left to it, and no
// MACAddress= the lab did not ask for goes into a .netdev file.
//
// Only links with a MAC of their own get one: veths, bonds, dummies,
// VXLAN devices and taps. Not a bond's members: the kernel gives them the
// bond's (booted under QEMU, a member's derived MAC was the bond's a
// moment later), so the bond carries the derived MAC. A VLAN takes its
// parent's MAC (as on a switch; stable once that is). A bridge
// keeps the kernel's, as the format says (the smallest of its ports'
// MACs, stable once those are: a bridge given a MAC would no longer
// follow its ports'). A
// VRF's MAC never reaches the wire (it is an L3 device, it answers no
// ARP).
//
// No derived MAC equals a MAC the lab gives (uplinks' included) or another
// derived one: on a collision the hash is taken again with a counter. The
// plan holds only one machine's part of a lab with machines; the other
// machines' MACs differ from these by the hash alone (the machine is in the
// key of every root-namespace link, namespaces are lab-wide), 1 in 2^46
// per pair.
func (g *gen) stableMACs() {
	used := map[string]bool{}
	for _, l := range g.plan.Links {
		if l.MAC != "" {
			used[l.MAC] = true
		}
		if l.MatchMAC != "" {
			used[l.MatchMAC] = true
		}
	}
	for _, l := range g.plan.Links {
		// A bond member takes its bond's MAC (in every mode but
		// balance-tlb and balance-alb), so the bond gets one instead.
		if l.Owner == nil || l.MAC != "" || !ownMAC(l.Kind) || l.Bond != nil {
			continue
		}
		machine := ""
		if l.NS == "" {
			machine = g.x.Lab.Part
		}
		for n := 0; ; n++ {
			m := stableMAC(g.plan.Lab, machine, l.NS, l.Name, n)
			if !used[m] {
				used[m] = true
				l.MAC = m
				break
			}
		}
	}
}

// ownMAC reports whether a link of the kind has a MAC of its own, one the
// kernel makes up at random when it is created with none.
func ownMAC(k schema.Kind) bool {
	switch k {
	case schema.KindVeth, schema.KindBond, schema.KindDummy, schema.KindVXLAN, schema.KindTap:
		return true
	}
	return false
}

// stableMAC is the n-th candidate MAC of interface name in namespace ns
// (machine's root namespace when ns is ""): the first 6 bytes of a SHA-256
// hash of the lab, machine, namespace and name, locally administered
// unicast (first octet: bit 1 set, bit 0 clear). schema's stretched-bridge
// MACs take a 64-bit FNV-1a hash; here names that differ in their last
// character only (eth1, eth2) gave MACs that differed in their last two
// bytes only (f2:59:06:0e:8f:4f, f2:59:06:0e:91:02), SHA-256 spreads them.
// The namespace, not its machine, is in the key of a namespace's links, so
// that a namespace moved to another machine keeps its MACs.
func stableMAC(lab, machine, ns, name string, n int) string {
	key := "mac\x00" + lab + "\x00" + machine + "\x00" + ns + "\x00" + name
	if n > 0 {
		key += "\x00" + strconv.Itoa(n)
	}
	b := sha256.Sum256([]byte(key))
	b[0] = b[0]&0xfe | 0x02
	// Formatted by hand: with fmt (Sprintf of the key and of 6 %02x)
	// Generate allocated 54k times for 1000 namespaces, 39k so, 35k
	// without derived MACs (bench, BenchmarkGenerate/ns1k).
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 17)
	for i := 0; i < 6; i++ {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hexdigits[b[i]>>4], hexdigits[b[i]&15])
	}
	return string(out)
}
