package render

import (
	"fmt"
	"strconv"

	"github.com/netgen-lab/netgen/generator"
)

// ipMasquerade is networkd's IPMasquerade= for a link it owns: networkd
// masquerades traffic from the link's subnets leaving by any other
// interface, and switches forwarding on, in rules of its own.
func ipMasquerade(l *generator.Link) string {
	v4, v6 := false, false
	for _, s := range l.Masquerade {
		v4, v6 = v4 || s.Addr().Is4(), v6 || s.Addr().Is6()
	}
	switch {
	case v4 && v6:
		return "both"
	case v4:
		return "ipv4"
	case v6:
		return "ipv6"
	}
	return ""
}

// natIn is the unit's NAT table in namespace ns, nil when it has none.
func natIn(u *generator.Unit, ns string) *generator.NAT {
	for _, n := range u.NATs {
		if n.NS == ns {
			return n
		}
	}
	return nil
}

// nftPrefix runs nft in the NAT's namespace.
func nftPrefix(n *generator.NAT) string {
	if n.NS == "" {
		return "nft"
	}
	return "ip netns exec " + n.NS + " nft"
}

// addNAT loads the unit's table in one nft transaction: declaring and
// deleting it first replaces a table a previous start left, atomically,
// and touches no other table.
type addNAT struct{ n *generator.NAT }

func (s addNAT) sh() []string {
	// Table names are nft identifiers as they are: letters, digits, - _ .
	t := s.n.Table
	out := []string{
		nftPrefix(s.n) + " -f - <<'EOF'",
		"table inet " + t,
		"delete table inet " + t,
		"table inet " + t + " {",
		"chain postrouting {",
		"type nat hook postrouting priority srcnat; policy accept;",
	}
	for _, r := range s.n.Rules {
		fam := "ip"
		if r.Subnet.Addr().Is6() {
			fam = "ip6"
		}
		out = append(out, fmt.Sprintf("%s saddr %s oifname != %s masquerade", fam, r.Subnet, strconv.Quote(r.Iface)))
	}
	return append(out, "}", "}", "EOF")
}

// deleteNAT deletes the unit's table; it is not there on a first start.
type deleteNAT struct{ n *generator.NAT }

func (s deleteNAT) sh() []string {
	return []string{fmt.Sprintf("%s delete table inet %s 2>/dev/null || :", nftPrefix(s.n), s.n.Table)}
}
