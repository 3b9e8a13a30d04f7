package randlab

import (
	"fmt"
	"net/netip"

	"gopkg.in/yaml.v3"
)

// Services and name resolution: programs inside namespaces and what they
// see as resolv.conf and hosts. Every service runs until stopped (a tier
// checks that its unit is active), with the users and groups every Debian
// system has.

var serviceWords = []string{"web", "dhcp", "echo", "agent_", "svc.", "x-y", "Tick"}

// services gives some namespaces one to three services.
func (g *gen) services(ns *namespace) {
	if !g.chance(0.3) {
		return
	}
	seen := map[string]bool{}
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		name := fmt.Sprintf("%s%d", pick(g, serviceWords), g.r.IntN(100))
		if g.chance(0.05) {
			g.form("name:max-length")
			name = g.filler(32)
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		var f []field
		switch g.r.IntN(5) {
		case 0:
			g.form("exec:string")
			f = append(f, field{"exec", g.str("sleep infinity")})
		case 1:
			g.form("exec:string")
			f = append(f, field{"exec", g.str(`sh -c 'exec sleep "infinity"'`)})
		case 2:
			g.form("exec:list")
			f = append(f, field{"exec", g.seq(g.str("/bin/sleep"), g.str("1000000"))})
		default:
			// $ and % are the program's, not systemd's: netgen escapes them.
			g.form("exec:list")
			f = append(f, field{"exec", g.seq(g.str("sh"), g.str("-c"), g.str(`echo "$WHERE at 100% as $(id -un)"; exec sleep infinity`))})
		}
		if g.chance(0.3) {
			f = append(f, field{"user", g.str(pick(g, []string{"root", "nobody", "daemon", "0", "65534"}))})
		}
		if g.chance(0.3) {
			f = append(f, field{"group", g.str(pick(g, []string{"root", "nogroup", "daemon", "0"}))})
		}
		if g.chance(0.4) {
			f = append(f, field{"restart", g.str(pick(g, []string{"on-failure", "always", "no"}))})
		}
		if g.chance(0.4) {
			var env []field
			for _, kv := range [][2]string{{"WHERE", "namespace " + ns.name}, {"_X1", "100% $HOME"}, {"lower", ""}} {
				if g.chance(0.6) {
					env = append(env, field{kv[0], g.str(kv[1])})
				}
			}
			f = append(f, field{"environment", g.mapping(env)})
		}
		ns.services = append(ns.services, field{name, g.mapping(f)})
	}
}

// labDNS decides the lab-wide dns.
func (g *gen) labDNS() {
	g.dns = g.dnsMap(true)
}

// dnsMap is a lab's (top) or a namespace's dns, nil for none.
func (g *gen) dnsMap(top bool) *yaml.Node {
	if !g.chance(map[bool]float64{true: 0.3, false: 0.12}[top]) {
		return nil
	}
	var f []field
	for len(f) == 0 {
		if g.chance(0.5) {
			var ns []*yaml.Node
			for n := g.r.IntN(4); n > 0; n-- {
				ns = append(ns, g.str(g.docAddr(g.chance(0.3)).String()))
			}
			if len(ns) == 0 {
				g.form("dns:no-nameservers")
			}
			f = append(f, field{"nameservers", g.seq(ns...)})
		}
		if g.chance(0.4) {
			var s []*yaml.Node
			for n := 1 + g.r.IntN(2); n > 0; n-- {
				s = append(s, g.str(pick(g, []string{"lab.test", "example.org", "a-b.c_d.test", "x"})))
			}
			f = append(f, field{"search", g.seq(s...)})
		}
		if g.chance(0.4) {
			var h []field
			seen := map[string]bool{}
			for n := 1 + g.r.IntN(3); n > 0; n-- {
				name := pick(g, []string{"gw.lab.test", "db", "h_1.lab", "a-b.example", "ns1"})
				if seen[name] {
					continue
				}
				seen[name] = true
				if g.chance(0.3) {
					g.form("dns:host-list")
					h = append(h, field{name, g.seq(g.str(g.docAddr(false).String()), g.str(g.docAddr(true).String()))})
				} else {
					h = append(h, field{name, g.str(g.docAddr(g.chance(0.3)).String())})
				}
			}
			f = append(f, field{"hosts", g.mapping(h)})
		}
		if top && g.chance(0.5) {
			f = append(f, field{"names", g.bool(g.chance(0.7))})
		}
	}
	return g.mapping(f)
}

// docAddr is an address of the documentation ranges (192.0.2.0/24,
// 2001:db8:ffff::/48): never one of the lab's.
func (g *gen) docAddr(v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 14: byte(g.opt.Block), 15: byte(1 + g.r.IntN(254))})
	}
	return netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + g.r.IntN(254))})
}
