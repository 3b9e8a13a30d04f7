package schema

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/diag"
)

// Pool is one address pool of `pools:`: the ranges automatic addresses come
// from and the size of the subnets cut from them.
type Pool struct {
	Name Str
	IPv4 PoolRange
	IPv6 PoolRange
	// Prefix and Prefix6 are the length of the subnets cut from IPv4 and
	// IPv6; see Cut for the defaults.
	Prefix, Prefix6 Int
	// Used is where the lab first says `pool: NAME` (Set false: nowhere).
	Used Str
}

// PoolRange is a pool's IPv4 or IPv6 range.
type PoolRange struct {
	Prefix netip.Prefix
	Pos    Pos
	Set    bool
}

// Default subnet sizes of a pool: a LAN of 254 hosts, and the one IPv6
// subnet size SLAAC and every router expect.
const (
	DefaultPoolPrefix  = 24
	DefaultPoolPrefix6 = 64
)

// Range returns the pool's range of one family (6 false: IPv4).
func (p *Pool) Range(v6 bool) PoolRange {
	if v6 {
		return p.IPv6
	}
	return p.IPv4
}

// Cut returns the length of the subnets the pool cuts in one family.
func (p *Pool) Cut(v6 bool) int {
	switch {
	case v6 && p.Prefix6.Set:
		return p.Prefix6.Value
	case v6:
		return DefaultPoolPrefix6
	case p.Prefix.Set:
		return p.Prefix.Value
	}
	return DefaultPoolPrefix
}

// maxPoolSplit bounds how many subnets a pool cuts (2^64): subnet numbers
// are 64-bit. fd00::/8 in /64s, 2^56 subnets, is allowed.
const maxPoolSplit = 64

var poolKeys = keys([]string{"ipv4", "ipv6", "prefix", "prefix6"})

// pools decodes the top-level `pools:` map.
func (d *decoder) pools(v *yaml.Node, lab *Lab) {
	for _, e := range d.namedMap(v, "pools") {
		p := &Pool{Name: Str{Value: e.key, Pos: e.kpos, Set: true}}
		what := fmt.Sprintf("pool %q", e.key)
		d.fields(e.val, what, poolKeys, func(key string, v *yaml.Node, _ Pos) bool {
			switch key {
			case "ipv4":
				p.IPv4 = d.poolRange(v, key)
			case "ipv6":
				p.IPv6 = d.poolRange(v, key)
			case "prefix":
				p.Prefix = d.int(v, "prefix")
			case "prefix6":
				p.Prefix6 = d.int(v, "prefix6")
			default:
				return false
			}
			return true
		})
		lab.Pools = append(lab.Pools, p)
	}
}

func (d *decoder) poolRange(n *yaml.Node, what string) PoolRange {
	s := d.str(n, what)
	if !s.Set {
		return PoolRange{}
	}
	pfx, err := netip.ParsePrefix(s.Value)
	if err != nil || pfx.Addr().Zone() != "" {
		d.errorf(s.Pos, "%s range %q is not a prefix in CIDR notation", what, s.Value).Hint = map[string]string{
			"ipv4": "write e.g. 10.1.0.0/16", "ipv6": "write e.g. 2001:db8:1::/48"}[what]
		return PoolRange{Pos: s.Pos} // written, if wrongly: the pool is not empty
	}
	return PoolRange{Prefix: pfx, Pos: s.Pos, Set: true}
}

// autoField decodes `addresses: auto` and `gateway: auto`; false when the
// value is not `auto`.
func (d *decoder) autoField(key string, v *yaml.Node, l *L3) bool {
	if v.Kind != yaml.ScalarNode || v.Value != "auto" || (key != "addresses" && key != "gateway") {
		return false
	}
	b := Bool{Value: true, Pos: pos(v), Set: true}
	if key == "addresses" {
		l.Auto = b
	} else {
		l.GatewayAuto = b
	}
	return true
}

// pools checks the pools and every `pool:`, `addresses: auto` and
// `gateway: auto` of the lab, as far as the lab alone says: whether an
// address can be found is the allocator's business (package alloc).
func (v *validator) pools() {
	byName := map[string]*Pool{}
	var names []string
	for _, p := range v.lab.Pools {
		name := p.Name.Value
		if msg := nameProblem(name, MaxNSName, ifNameRE, "pool name", "A-Z a-z 0-9 _ . -"); msg != "" {
			v.errorf(p.Name.Pos, "%s", msg)
		}
		if _, dup := byName[name]; !dup {
			byName[name] = p
			names = append(names, name)
		}
		if !p.IPv4.Set && !p.IPv6.Set && p.IPv4.Pos.Line == 0 && p.IPv6.Pos.Line == 0 {
			v.errorf(p.Name.Pos, "pool %q has no range", name).Hint = "give it `ipv4: 10.1.0.0/16`, `ipv6: 2001:db8:1::/48` or both"
		}
		v.poolFamily(p, false)
		v.poolFamily(p, true)
	}
	sort.Strings(names)
	v.poolOverlaps()

	use := func(s Str) {
		if !s.Set {
			return
		}
		p, ok := byName[s.Value]
		if !ok {
			dg := v.errorf(s.Pos, "pool %q is not defined", s.Value)
			if dg.Hint = diag.DidYouMean(s.Value, names); dg.Hint == "" {
				dg.Hint = fmt.Sprintf("declare it under `pools:` (%s: {ipv4: 10.1.0.0/16})", s.Value)
			}
			return
		}
		if !p.Used.Set || s.Pos.Before(p.Used.Pos) {
			p.Used = s
		}
	}
	for _, b := range v.lab.Bridges {
		use(b.Pool)
	}
	for _, vl := range v.lab.VLANs {
		use(vl.Pool)
	}
	for _, veth := range v.lab.Veths {
		use(veth.Pool)
		if !veth.Pool.Set {
			continue
		}
		for _, e := range veth.Ends {
			if e != nil && e.Bridge.Set {
				v.errorf(veth.Pool.Pos, "a veth with `pool:` gives both ends an address, but %s is a port of bridge %q", e.Name, e.Bridge.Value).Hint =
					fmt.Sprintf("put `pool:` on bridge %q and `addresses: auto` on the other end", e.Bridge.Value)
			}
		}
	}
	for _, p := range v.lab.Pools {
		if !p.Used.Set && p.Name.Value != "" {
			v.warnf(p.Name.Pos, "pool %q is not used", p.Name.Value).Hint = "give a veth entry, bridge or VLAN `pool: " + p.Name.Value + "`, or remove the pool"
		}
	}
	for _, b := range v.lab.Bridges {
		if b.Auto.Set {
			v.warnf(b.Auto.Pos, "bridge %q has an address: the bridge itself becomes a host on every segment it switches", b.Name.Value).Hint =
				"host access belongs on a veth attached to the bridge, e.g. - [{name: br-host, addresses: auto}, {name: br-port, bridge: " + b.Name.Value + "}]"
		}
	}
	for _, i := range v.x.Order {
		l3 := i.L3()
		if l3 == nil || (!l3.Auto.Set && !l3.GatewayAuto.Set) {
			continue
		}
		p := i.Port()
		switch {
		case i.External():
			at := l3.Auto
			if !at.Set {
				at = l3.GatewayAuto
			}
			v.errorf(at.Pos, "%s is external (another program configures it) and so has no automatic address or gateway", i.Key)
		case p != nil && p.Bridge.Set:
			if l3.Auto.Set {
				v.errorf(l3.Auto.Pos, "%s is a port of bridge %q and carries no address", i.Key, p.Bridge.Value).Hint =
					"`addresses: auto` belongs on the other end of the veth: it takes an address on the bridge's segment"
			}
			if l3.GatewayAuto.Set {
				v.errorf(l3.GatewayAuto.Pos, "%s is a port of bridge %q and has no gateway", i.Key, p.Bridge.Value)
			}
		case l3.GatewayAuto.Set && l3.Gateway.Set:
			// Cannot happen: one key. Kept for labs built in code.
			v.errorf(l3.GatewayAuto.Pos, "%s has two gateways", i.Key)
		}
	}
}

// poolFamily checks one family's range and subnet size.
func (v *validator) poolFamily(p *Pool, v6 bool) {
	r := p.Range(v6)
	cut, key, fam, bits := p.Prefix, "prefix", "IPv4", 32
	if v6 {
		cut, key, fam, bits = p.Prefix6, "prefix6", "IPv6", 128
	}
	if !r.Set {
		if cut.Set {
			v.errorf(cut.Pos, "`%s` is the size of the %s subnets, but pool %q has no %s range", key, fam, p.Name.Value, strings.ToLower(fam)).Hint =
				fmt.Sprintf("add `%s: RANGE`, or remove `%s`", strings.ToLower(fam), key)
		}
		return
	}
	a := r.Prefix.Addr()
	switch {
	case a.Is4() != !v6 || a.Is4In6():
		v.errorf(r.Pos, "%s range %s is not an %s prefix", strings.ToLower(fam), r.Prefix, fam)
		return
	case r.Prefix.Masked() != r.Prefix:
		v.errorf(r.Pos, "pool range %s has host bits set", r.Prefix).Hint = fmt.Sprintf("did you mean %s?", r.Prefix.Masked())
		return
	case a.IsMulticast() || a.IsLoopback() || (v6 && a.IsLinkLocalUnicast()):
		v.errorf(r.Pos, "pool range %s is not for interface addresses", r.Prefix)
		return
	}
	c := p.Cut(v6)
	switch {
	case c < r.Prefix.Bits() || c > bits:
		at := cut.Pos
		if !cut.Set {
			at = r.Pos
		}
		v.errorf(at, "pool %q cannot cut /%d subnets from %s", p.Name.Value, c, r.Prefix).Hint =
			fmt.Sprintf("`%s` is between %d (the whole range) and %d", key, r.Prefix.Bits(), bits)
	case c-r.Prefix.Bits() > maxPoolSplit:
		v.errorf(cut.Pos, "pool %q would cut 2^%d subnets from %s; at most 2^%d", p.Name.Value, c-r.Prefix.Bits(), r.Prefix, maxPoolSplit)
	}
}

// poolOverlaps reports pools whose ranges overlap: an address would belong
// to two pools. The later pool in the file is the one reported.
func (v *validator) poolOverlaps() {
	for _, v6 := range []bool{false, true} {
		var rs []*Pool
		for _, p := range v.lab.Pools {
			if r := p.Range(v6); r.Set && r.Prefix.Masked() == r.Prefix && r.Prefix.Addr().Is4() == !v6 {
				rs = append(rs, p)
			}
		}
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Range(v6).Pos.Before(rs[j].Range(v6).Pos) })
		for j, b := range rs {
			for _, a := range rs[:j] {
				if ra, rb := a.Range(v6), b.Range(v6); ra.Prefix.Overlaps(rb.Prefix) {
					v.errorf(rb.Pos, "the range %s of pool %q overlaps %s of pool %q", rb.Prefix, b.Name.Value, ra.Prefix, a.Name.Value).Hint =
						fmt.Sprintf("pools own their ranges; make them disjoint (%q is at line %d)", a.Name.Value, ra.Pos.Line)
					break
				}
			}
		}
	}
}
