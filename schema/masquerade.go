package schema

import (
	"fmt"
	"net/netip"
)

// MasqueradeFamilies says which families an interface masquerades: "" for
// none.
func (l *L3) MasqueradeFamilies() (v4, v6 bool) {
	switch l.Masquerade.Value {
	case "true":
		return true, true
	case "ipv4":
		return true, false
	case "ipv6":
		return false, true
	}
	return false, false
}

// MasqueradeSubnets are the subnets an interface masquerades: those of its
// addresses in the families it names, without host bits.
func (l *L3) MasqueradeSubnets() []netip.Prefix {
	v4, v6 := l.MasqueradeFamilies()
	var out []netip.Prefix
	for _, a := range l.Addresses {
		if (a.Prefix.Addr().Is4() && v4) || (a.Prefix.Addr().Is6() && v6) {
			out = append(out, a.Prefix.Masked())
		}
	}
	return out
}

// masquerade checks every interface's `masquerade`: a known value, on an
// interface with addresses of the family it names.
func (v *validator) masquerade() {
	for _, i := range v.x.Order {
		l3 := i.L3()
		if l3 == nil || !l3.Masquerade.Set {
			continue
		}
		m := l3.Masquerade
		switch m.Value {
		case "true", "false", "ipv4", "ipv6":
		default:
			v.errorf(m.Pos, "masquerade %q is not true, false, ipv4 or ipv6", m.Value).Hint =
				"true masquerades IPv4 and IPv6, ipv4 or ipv6 one family"
			continue
		}
		if m.Value == "false" {
			continue
		}
		if i.External() {
			v.errorf(m.Pos, "%s is external: netgen configures nothing on it, masquerade included", i.Key)
			continue
		}
		if len(l3.MasqueradeSubnets()) == 0 {
			fam := map[string]string{"true": "", "ipv4": "IPv4 ", "ipv6": "IPv6 "}[m.Value]
			v.errorf(m.Pos, "%s has no %saddress to masquerade", i.Key, fam).Hint =
				fmt.Sprintf("masquerade rewrites the source of traffic from the interface's subnets; give %s an address", i.Key)
		}
	}
}
