package randlab

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Words names are made of: readable, so that a failing lab is easy to
// shrink by hand, with the characters the format allows besides letters
// and digits (_ . -).
var (
	nsWords     = []string{"red", "blue", "srv", "cli", "gw", "r", "h", "Edge", "core", "lab_a", "x-y", "n.1", "DMZ", "vm", "z..z"}
	endWords    = []string{"eth", "veth", "p", "port", "v", "lan", "wan", "E", "x_", "in.", "out-", "Ge", "a..b"}
	bridgeWords = []string{"br", "sw", "virbr", "vmbr", "Br_", "s.w"}
	tapWords    = []string{"tap", "vm", "tp", "kvm"}
	vlanWords   = []string{"vl", "vlan", "tag", "V"}
	upWords     = []string{"enp", "eno", "ens", "up"}
)

const nameChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

// filler is a name of exactly n bytes (the format's limits are 15 for an
// interface, 32 for a namespace), starting with a letter or a digit.
func (g *gen) filler(n int) string {
	b := []byte{"abcdefghijklmnopqrstuvwxyz"[g.r.IntN(26)]}
	if g.chance(0.3) {
		g.form("name:digit-first")
		b[0] = "0123456789"[g.r.IntN(10)]
	}
	for len(b) < n {
		b = append(b, nameChars[g.r.IntN(len(nameChars))])
	}
	return string(b)
}

func (g *gen) nsName() string {
	for {
		var n string
		if g.chance(0.05) && len(g.opt.Prefix) < 30 {
			n = g.opt.Prefix + g.filler(32-len(g.opt.Prefix))
			g.form("name:max-length")
		} else {
			n = g.opt.Prefix + pick(g, nsWords) + strconv.Itoa(g.r.IntN(100))
		}
		if !g.nsUsed[n] && n != "host" {
			g.nsUsed[n] = true
			g.used[n] = map[string]bool{}
			return n
		}
	}
}

// ifName is a new interface name in namespace ns; host names carry the
// lab's prefix.
func (g *gen) ifName(ns string, words []string) string {
	prefix := ""
	if ns == "" {
		prefix = g.opt.Prefix
	}
	for {
		var n string
		if g.chance(0.05) {
			n = prefix + g.filler(15-len(prefix))
			g.form("name:max-length")
		} else {
			n = prefix + pick(g, words) + strconv.Itoa(g.r.IntN(100))
		}
		if len(n) <= 15 && !g.used[ns][n] {
			g.used[ns][n] = true
			return n
		}
	}
}

// nsOrHost picks the host with probability host, else a namespace.
func (g *gen) nsOrHost(host float64) string {
	if len(g.nss) == 0 || g.chance(host) {
		return ""
	}
	return pick(g, g.nss).name
}

func (g *gen) newMAC() string {
	g.macs++
	first := pick(g, []int{0x02, 0x06, 0x0a, 0x0e, 0x52})
	m := fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", first, 0x4e, g.opt.Block, g.r.IntN(256), g.macs>>8, g.macs&0xff)
	if g.chance(0.2) {
		g.form("mac:upper-case")
		m = strings.ToUpper(m)
	}
	return m
}

func (g *gen) link(i *iface, mtu bool) {
	if mtu && g.chance(0.25) {
		i.mtu = g.mtuChoice(i)
		i.set("mtu", g.int(i.mtu))
	}
	if g.chance(0.2) {
		i.mac = g.newMAC()
		i.set("mac", g.str(i.mac))
	}
}

// mtuChoice is an MTU for a new interface. In the VLAN population, bridge
// ports keep 1500 or more and bridges keep the kernel's MTU: a VLAN's MTU
// must not exceed its parent's, and a bridge takes the smallest MTU of its
// ports, which a later port could lower under a VLAN already made.
func (g *gen) mtuChoice(i *iface) int {
	if g.opt.Population == VLANs && i.port != nil {
		return pick(g, []int{1500, 9000})
	}
	m := pick(g, []int{1280, 1400, 1500, 1500, 4000, 9000, 65535})
	if m > 65521 && i.kind == "tap" { // the largest a tap takes: the validator refuses more
		m = 65521
	}
	return m
}

func (g *gen) build() {
	for n := g.r.IntN(5); n > 0; n-- {
		g.nss = append(g.nss, &namespace{name: g.nsName()})
	}
	for n := g.r.IntN(4); n > 0; n-- {
		g.bridge()
	}
	for n := g.r.IntN(3); n > 0; n-- {
		g.tap()
	}
	for n := 1 + g.r.IntN(7); n > 0; n-- {
		g.veth()
	}
	for n := g.r.IntN(3); n > 0; n-- {
		g.uplink()
	}
	full := g.opt.Population.fullKernel()
	if full {
		g.makeBonds()
	}
	if g.opt.Population == VLANs {
		for n := 1 + g.r.IntN(4); n > 0; n-- {
			g.vlan()
		}
	}
	if full {
		g.makeWires()
		g.makeDummies()
	}
	for _, b := range g.bridges {
		g.bridgeMTU(b)
	}
	g.pooling()
	g.addresses()
	if full {
		g.makeVRFs()
	}
	g.masquerade()
	for _, ns := range g.nss {
		g.namespace(ns)
	}
	g.labDNS()
	if full {
		g.netem()
	}
}

func (g *gen) add(i *iface) *iface {
	g.ifaces = append(g.ifaces, i)
	i.loop, i.seg = i, i
	return i
}

// namespace decides a namespace's settings, once every interface is known.
func (g *gen) namespace(ns *namespace) {
	switch {
	case g.chance(0.12):
		f := false
		ns.loopback = &f
		g.form("loopback:false")
	case g.chance(0.12):
		t := true
		ns.loopback = &t
	}
	if g.chance(0.45) || ns.forward4 || ns.forward6 {
		g.sysctls(ns)
	}
	g.services(ns)
	ns.dns = g.dnsMap(false)
}

// A small set of sysctls every kernel has per namespace, with values that
// do not change what the link checks see; none is an alias of another
// (ip_forward and conf.all.forwarding are), so each reads back as written.
var (
	nsSysctls = []sysctl{
		{"net.ipv4.ip_forward", []string{"0", "1"}, false},
		{"net.ipv6.conf.all.forwarding", []string{"0", "1"}, false},
		{"net.ipv4.conf.all.rp_filter", []string{"0", "1", "2"}, false},
		{"net.ipv4.conf.default.rp_filter", []string{"0", "1", "2"}, false},
		{"net.ipv6.conf.default.accept_dad", []string{"0", "1"}, false},
		{"net.ipv4.ip_local_port_range", []string{"20000 30000", "32768 60999"}, false},
		{"net.ipv4.ping_group_range", []string{"0 2147483647", "1 0"}, false},
		{"net.ipv4.tcp_syncookies", []string{"0", "1"}, false},
		{"net.ipv4.icmp_echo_ignore_broadcasts", []string{"0", "1"}, false},
		{"net.core.somaxconn", []string{"1024", "4096"}, false},
	}
	ifSysctls = []sysctl{
		{"net.ipv4.conf.%s.rp_filter", []string{"0", "1", "2"}, false},
		{"net.ipv4.conf.%s.arp_ignore", []string{"0", "1", "2"}, false},
		{"net.ipv4.conf.%s.proxy_arp", []string{"0", "1"}, false},
		{"net.ipv6.conf.%s.accept_ra", []string{"0", "1", "2"}, true},
		{"net.ipv6.conf.%s.hop_limit", []string{"64", "255"}, true},
	}
)

type sysctl struct {
	key  string
	vals []string
	v6   bool
}

func (g *gen) sysctls(ns *namespace) {
	var mine []*iface
	for _, i := range g.ifaces {
		if i.ns == ns.name {
			mine = append(mine, i)
		}
	}
	seen := map[string]bool{}
	// A router or a masquerading namespace forwards: the lab says so
	// (gateway: auto needs it, masquerade turns it on anyway).
	for _, f := range []struct {
		on  bool
		key string
	}{{ns.forward4, "net.ipv4.ip_forward"}, {ns.forward6, "net.ipv6.conf.all.forwarding"}} {
		if f.on {
			seen[f.key] = true
			ns.sysctls = append(ns.sysctls, field{f.key, g.sysctlValue("1")})
		}
	}
	for n := 1 + g.r.IntN(4); n > 0; n-- {
		var key, val string
		if len(mine) > 0 && g.chance(0.4) {
			s := pick(g, ifSysctls)
			i := pick(g, mine)
			if s.v6 && !g.v6ok(i) {
				continue
			}
			key, val = fmt.Sprintf(s.key, i.name), pick(g, s.vals)
			// Either form holds a name with an empty part ("a..b",
			// "a."): the validator matches a dotted key against the
			// namespace's names.
			if g.chance(0.2) {
				key = slashKey(s.key, i.name)
			}
			g.form("sysctl:per-interface")
		} else {
			s := pick(g, nsSysctls)
			key, val = s.key, pick(g, s.vals)
			if g.chance(0.2) {
				key = strings.ReplaceAll(key, ".", "/")
			}
		}
		norm := strings.ReplaceAll(key, "/", ".")
		if seen[norm] {
			continue
		}
		seen[norm] = true
		if strings.Contains(key, "/") {
			g.form("sysctl:slash")
		}
		if strings.Contains(val, " ") {
			g.form("sysctl:spaces")
		}
		ns.sysctls = append(ns.sysctls, field{key, g.sysctlValue(val)})
	}
}

func slashKey(pattern, ifname string) string {
	before, after, _ := strings.Cut(pattern, "%s")
	return strings.ReplaceAll(before, ".", "/") + ifname + strings.ReplaceAll(after, ".", "/")
}

// vidPool makes VLAN ids meet: the same few ids on many ports.
func (g *gen) vid() int {
	if g.chance(0.15) {
		return 1 + g.r.IntN(4094)
	}
	return pick(g, []int{1, 2, 10, 20, 30, 100, 4094})
}

func (g *gen) bridge() {
	b := g.add(&iface{kind: "bridge", ns: g.nsOrHost(0.5), pvid: 1})
	// Bridges are keys of one map: their names are unique lab-wide.
	for b.name == "" || g.bridgeNames[b.name] {
		if b.name != "" {
			delete(g.used[b.ns], b.name)
		}
		b.name = g.ifName(b.ns, bridgeWords)
	}
	g.bridgeNames[b.name] = true
	g.bridges = append(g.bridges, b)
	if b.ns != "" {
		g.form("bridge:ns")
		b.set("namespace", g.str(b.ns))
	} else {
		g.form("bridge:host")
		if g.chance(0.2) {
			g.form("bridge:namespace-host")
			b.set("namespace", g.str("host"))
		}
	}
	if g.chance(0.5) {
		b.stp = g.chance(0.5)
		b.set("stp", g.bool(b.stp))
	}
	timers := 0.3
	if !b.stp {
		timers = 0.08
	}
	if g.chance(timers) {
		lo := 0
		if b.stp {
			lo = 2
		}
		b.set("forward-delay", g.int(lo+g.r.IntN(31-lo)))
	}
	if g.chance(timers) {
		b.set("hello-time", g.int(1+g.r.IntN(10)))
	}
	if g.chance(timers) {
		b.set("max-age", g.int(6+g.r.IntN(35)))
	}
	if g.chance(0.2) {
		prio := pick(g, []int{0, 1, 4096, 32768, 61440, 65535})
		if prio == 0 && b.ns == "" { // networkd 252 never sends 0: the validator refuses it
			prio = 1
		}
		b.set("priority", g.int(prio))
	}
	if g.chance(0.2) {
		b.set("ageing-time", g.int(pick(g, []int{0, 10, 300, 3600, 1000000})))
	}
	if g.opt.Population == VLANs && g.chance(0.6) {
		b.filtering = true
		b.set("vlan-filtering", g.bool(true))
	} else if g.chance(0.15) {
		b.set("vlan-filtering", g.bool(false))
	}
	switch {
	case b.filtering && g.chance(0.5):
		if g.chance(0.3) {
			b.pvid = 0
			g.form("default-pvid:none")
			b.set("default-pvid", g.str("none"))
		} else {
			b.pvid = g.vid()
			g.form("default-pvid:id")
			b.set("default-pvid", g.int(b.pvid))
		}
	case !b.filtering && g.chance(0.08):
		// A warning: it does nothing without VLAN filtering.
		b.set("default-pvid", g.int(g.vid()))
	}
	if g.chance(0.3) {
		mask := 0
		for mask == 0 || g.chance(0.3) {
			mask |= 1 << (3 + g.r.IntN(13))
		}
		b.set("group-forward-mask", g.hex(mask))
	}
	g.link(b, false) // the MTU once the ports are known: bridgeMTU
	// Allowed with a warning: host access belongs on a veth.
	b.wantL3 = g.chance(0.12)
}

// bridgeMTU gives some bridges an MTU, whatever their ports' (netgen keeps
// it: the kernel would move it to the smallest port's). In the VLAN
// population bridges keep the kernel's: see mtuChoice.
func (g *gen) bridgeMTU(b *iface) {
	if g.opt.Population == VLANs || !g.chance(0.3) {
		return
	}
	b.mtu = g.mtuChoice(b)
	b.set("mtu", g.int(b.mtu))
}

// bridgesFor are the bridges i may join: in its namespace, and not already
// reachable from it (a second path would be a loop).
func (g *gen) bridgesFor(i *iface, other *iface) []*iface {
	var out []*iface
	for _, b := range g.bridges {
		if b.ns != i.ns || find(loopOf, b) == find(loopOf, i) {
			continue
		}
		if other != nil && other.port != nil && find(loopOf, other.port) == find(loopOf, b) {
			continue
		}
		out = append(out, b)
	}
	return out
}

// port makes i a port of bridge b.
func (g *gen) port(i, b *iface) {
	i.port = b
	b.ports = append(b.ports, i)
	i.set("bridge", g.str(b.name))
	union(loopOf, i, b)
	union(segOf, i, b)
	g.portSettings(i)
	if b.filtering && g.chance(0.85) {
		i.set("vlan", g.portVLAN())
	}
}

// portVLAN writes a port's VLANs.
func (g *gen) portVLAN() *yaml.Node {
	if g.chance(0.45) {
		g.form("port:access")
		return g.mapping([]field{{"access", g.int(g.vid())}})
	}
	g.form("port:trunk")
	var entries []*yaml.Node
	for n := g.r.IntN(4); n > 0; n-- {
		if g.chance(0.3) {
			from := g.vid()
			to := min(from+g.r.IntN(20), 4094)
			g.form("trunk:range")
			entries = append(entries, g.plain(fmt.Sprintf("%d-%d", from, to)))
		} else {
			entries = append(entries, g.int(g.vid()))
		}
	}
	out := []field{}
	if len(entries) == 0 || g.chance(0.35) {
		g.form("port:native")
		out = append(out, field{"native", g.int(g.vid())})
	}
	if len(entries) == 1 && g.chance(0.3) {
		g.form("trunk:scalar")
		out = append(out, field{"trunk", entries[0]})
	} else {
		out = append(out, field{"trunk", g.seq(entries...)})
	}
	return g.mapping(out)
}

func (g *gen) tap() {
	t := g.add(&iface{kind: "tap", ns: g.nsOrHost(0.5)})
	t.name = g.ifName(t.ns, tapWords)
	g.taps = append(g.taps, t)
	g.form("tap:" + map[bool]string{true: "host", false: "ns"}[t.ns == ""])
	if g.chance(0.4) {
		t.set("user", g.str(pick(g, []string{"root", "nobody", "0", "65534", "daemon"})))
	}
	if g.chance(0.3) {
		t.set("group", g.str(pick(g, []string{"root", "nogroup", "0", "daemon"})))
	}
	if g.chance(0.3) {
		t.set("multi-queue", g.bool(g.chance(0.7)))
	}
	if bs := g.bridgesFor(t, nil); len(bs) > 0 && g.chance(0.4) {
		g.port(t, pick(g, bs))
	} else {
		t.wantL3 = g.chance(0.5)
	}
	g.link(t, true)
}

var vethKinds = []string{"host-host", "host-ns", "ns-ns-same", "ns-ns"}

func (g *gen) veth() {
	kind := pick(g, vethKinds)
	switch {
	case len(g.nss) == 0:
		kind = "host-host"
	case len(g.nss) == 1 && kind == "ns-ns":
		kind = "ns-ns-same"
	}
	g.form("veth:" + kind)
	var nsA, nsB string
	switch kind {
	case "host-ns":
		nsB = pick(g, g.nss).name
		if g.chance(0.5) {
			nsA, nsB = nsB, nsA
		}
	case "ns-ns-same":
		nsA = pick(g, g.nss).name
		nsB = nsA
	case "ns-ns":
		a := g.r.Perm(len(g.nss))
		nsA, nsB = g.nss[a[0]].name, g.nss[a[1]].name
	}
	v := &veth{asMap: g.chance(0.35)}
	if v.asMap {
		g.form("veth:map")
		if g.chance(0.5) {
			v.mtu = g.mtuChoice(&iface{})
			if g.opt.Population == VLANs {
				v.mtu = pick(g, []int{1500, 9000})
			}
		}
	} else {
		g.form("veth:list")
	}
	for i, ns := range []string{nsA, nsB} {
		v.ends[i] = g.add(&iface{kind: "veth", ns: ns, mtu: v.mtu})
		v.ends[i].name = g.ifName(ns, endWords)
	}
	// The same name on both ends, in two namespaces.
	if a := v.ends[0].name; nsA != nsB && !g.used[nsB][a] && (nsB != "" || strings.HasPrefix(a, g.opt.Prefix)) && g.chance(0.15) {
		delete(g.used[nsB], v.ends[1].name)
		g.used[nsB][a] = true
		v.ends[1].name = a
		g.form("veth:same-names")
	}
	v.ends[0].peer, v.ends[1].peer = v.ends[1], v.ends[0]
	union(loopOf, v.ends[0], v.ends[1])
	union(segOf, v.ends[0], v.ends[1])
	g.end(v.ends[0], v.ends[1])
	g.end(v.ends[1], v.ends[0])
	g.veths = append(g.veths, v)
}

// end decides one veth end's role: external, a bridge port, a host on a
// subnet, or a plain link.
func (g *gen) end(e, peer *iface) {
	if g.chance(0.08) {
		e.external = true
		g.form("end:external")
		e.set("external", g.bool(true))
		g.link(e, true)
		return
	}
	if bs := g.bridgesFor(e, peer); len(bs) > 0 && g.chance(0.45) {
		g.port(e, pick(g, bs))
	} else {
		e.wantL3 = g.chance(0.6)
	}
	g.link(e, true)
}

func (g *gen) uplink() {
	u := g.add(&iface{kind: "uplink"})
	g.uplinks = append(g.uplinks, u)
	if g.chance(0.3) {
		u.byMAC = true
		u.mac = g.newMAC()
		g.form("uplink:mac")
		u.set("mac", g.str(u.mac))
	} else {
		u.name = g.ifName("", upWords)
		g.form("uplink:interface")
		u.set("interface", g.str(u.name))
	}
	if bs := g.bridgesFor(u, nil); len(bs) > 0 && g.chance(0.7) {
		g.port(u, pick(g, bs))
	}
	if g.chance(0.25) {
		u.mtu = g.mtuChoice(u)
		u.set("mtu", g.int(u.mtu))
	}
}

// vlan adds an 802.1Q sub-interface on any kind of parent.
func (g *gen) vlan() {
	var parents []*iface
	for len(parents) == 0 {
		for _, i := range g.ifaces {
			depth := 0
			for p := i; p.kind == "vlan"; p = p.parent {
				depth++
			}
			if !i.external && !i.byMAC && depth < 2 && i.member == nil {
				parents = append(parents, i)
			}
		}
		if len(parents) == 0 {
			g.veth() // every end external so far: one more cable
		}
	}
	p := pick(g, parents)
	if p.vids == nil {
		p.vids = map[int]bool{}
	}
	id := g.vid()
	// Not a filtering bridge's default PVID: the bridge itself is its
	// interface there, and the validator refuses a sub-interface.
	for p.vids[id] || (p.kind == "bridge" && p.filtering && p.pvid != 0 && id == p.pvid) {
		id = 1 + g.r.IntN(4094)
	}
	p.vids[id] = true
	v := g.add(&iface{kind: "vlan", ns: p.ns, parent: p, vid: id})
	g.vlans = append(g.vlans, v)
	g.form("vlan-parent:" + p.kind)
	v.set("parent", g.str(g.ref(p)))
	v.set("id", g.int(id))
	def := p.name + "." + strconv.Itoa(id)
	if len(def) <= 15 && !g.used[p.ns][def] && g.chance(0.7) {
		g.used[p.ns][def] = true
		v.name = def
		g.form("vlan:default-name")
	} else {
		v.name = g.ifName(p.ns, vlanWords)
		g.form("vlan:named")
		v.set("name", g.str(v.name))
	}
	union(loopOf, v, p)
	if bs := g.bridgesFor(v, nil); len(bs) > 0 && g.chance(0.35) {
		g.port(v, pick(g, bs))
	} else {
		v.wantL3 = g.chance(0.7)
	}
	if v.port == nil && g.chance(0.3) {
		// At most the parent's MTU, as the lab knows it (1500 unless it
		// says otherwise) and as the kernel will have it.
		limit := p.kernelMTU()
		if p.kind != "uplink" && labMTU(p) < limit {
			limit = labMTU(p)
		}
		var ok []int
		for _, m := range []int{1280, 1400, 1500, 9000} {
			if m <= limit {
				ok = append(ok, m)
			}
		}
		if len(ok) > 0 {
			v.mtu = pick(g, ok)
			v.set("mtu", g.int(v.mtu))
		}
	}
	if g.chance(0.2) {
		v.mac = g.newMAC()
		v.set("mac", g.str(v.mac))
	}
}

// labMTU is the MTU the validator assumes for a VLAN parent: the lab's, the
// parent's own parent's for a VLAN, else 1500.
func labMTU(i *iface) int {
	if i.mtu != 0 {
		return i.mtu
	}
	if i.kind == "vlan" {
		return labMTU(i.parent)
	}
	return 1500
}
