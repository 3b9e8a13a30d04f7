package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/testkit/expect"
	"github.com/netgen-lab/netgen/internal/testkit/oracle"
	"github.com/netgen-lab/netgen/schema"
)

// scriptUnits are the units whose work is a script, in the order systemd
// starts them: the lab's bridge wait when it keeps bridges' MTUs, then
// namespaces, the veths between them, the host ports. (The bridge wait's
// networkd-wait-online the oracle does not need: its links have settled.)
func scriptUnits(p *generator.Plan) []*generator.Unit {
	var out []*generator.Unit
	for _, u := range p.Units {
		if u.Kind == generator.BridgeWaitUnit && len(u.PinMTU) > 0 {
			out = append(out, u)
		}
	}
	for _, kind := range []generator.UnitKind{generator.NamespaceUnit, generator.LinkUnit, generator.HostUnit} {
		for _, u := range p.Units {
			if u.Kind == kind {
				out = append(out, u)
			}
		}
	}
	return out
}

// standInCmds are the shell commands that make, in the host namespace,
// the NICs a lab's uplinks stand for: a veth whose far end (up, so the
// uplink has carrier) plays the switch beyond. An uplink matched by MAC
// gets a veth of its own name with that MAC (byMAC[link]). names are every
// link the commands make; new names start with prefix and avoid used and
// the lab's.
func standInCmds(p *generator.Plan, prefix string, used map[string]bool) (cmds []string, names map[string]bool, byMAC map[*generator.Link]string) {
	names = map[string]bool{}
	byMAC = map[*generator.Link]string{}
	for _, l := range p.Links {
		if l.NS == "" {
			used[l.Name] = true
		}
	}
	n := 0
	fresh := func() string {
		for {
			name := fmt.Sprintf("%snic%d", prefix, n)
			n++
			if !used[name] {
				used[name] = true
				names[name] = true
				return name
			}
		}
	}
	for _, l := range p.Links {
		if l.Kind != schema.KindUplink {
			continue
		}
		peer := fresh()
		if l.MatchMAC != "" {
			byMAC[l] = fresh()
			cmds = append(cmds, fmt.Sprintf("ip link add name %s address %s type veth peer name %s", byMAC[l], l.MatchMAC, peer))
		} else {
			names[l.Name] = true
			cmds = append(cmds, fmt.Sprintf("ip link add name %s type veth peer name %s", l.Name, peer))
		}
		cmds = append(cmds, "ip link set dev "+peer+" up")
	}
	return cmds, names, byMAC
}

// installStandIns makes the uplinks' NICs exist at boot, before networkd
// and the lab's units start, as real NICs do.
func installStandIns(root string, cmds []string) error {
	if len(cmds) == 0 {
		return nil
	}
	script := "/usr/local/lib/netgen-e2e/standins.sh"
	unit := "netgen-e2e-standins.service"
	if err := os.MkdirAll(filepath.Join(root, filepath.Dir(script)), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, script), []byte(strings.Join(cmds, "\n")+"\n"), 0o755); err != nil {
		return err
	}
	text := "[Unit]\nDescription=netgen e2e: veths standing in for the uplinks' NICs\nDefaultDependencies=no\n" +
		"Before=systemd-networkd.service network-pre.target\nWants=network-pre.target\n\n" +
		"[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -e " + script + "\n\n" +
		"[Install]\nWantedBy=sysinit.target\n"
	if err := os.WriteFile(filepath.Join(root, "etc/systemd/system", unit), []byte(text), 0o644); err != nil {
		return err
	}
	wants := filepath.Join(root, "etc/systemd/system/sysinit.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return err
	}
	return os.Symlink("/etc/systemd/system/"+unit, filepath.Join(wants, unit))
}

// observed is what the oracle saw of a lab.
type observed struct {
	links   expect.Observed
	routes  map[string][]ipRoute
	sysctls map[string]oracle.CommandOutput // by "NS PATH"
}

func newObserved() observed {
	return observed{links: expect.Observed{}, routes: map[string][]ipRoute{}, sysctls: map[string]oracle.CommandOutput{}}
}

// ipRoute is one route of `ip -j route show`.
type ipRoute struct {
	Dst     string   `json:"dst"`
	Gateway string   `json:"gateway"`
	Dev     string   `json:"dev"`
	Metric  int      `json:"metric"`
	Flags   []string `json:"flags"`
	v6      bool
}

func parseRoutes(t *testing.T, out string, v6 bool) []ipRoute {
	t.Helper()
	var rs []ipRoute
	if strings.TrimSpace(out) == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("ip -j route show: %v\n%s", err, out)
	}
	for i := range rs {
		rs[i].v6 = v6
	}
	return rs
}

// prefix is the route's destination as a prefix.
func (r ipRoute) prefix() (netip.Prefix, error) {
	switch {
	case r.Dst == "default" && r.v6:
		return netip.MustParsePrefix("::/0"), nil
	case r.Dst == "default":
		return netip.MustParsePrefix("0.0.0.0/0"), nil
	case !strings.Contains(r.Dst, "/"):
		a, err := netip.ParseAddr(r.Dst)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.ParsePrefix(r.Dst)
}

func (r ipRoute) String() string {
	s := r.Dst
	if r.Gateway != "" {
		s += " via " + r.Gateway
	}
	s += " dev " + r.Dev
	if r.Metric != 0 {
		s += fmt.Sprintf(" metric %d", r.Metric)
	}
	if len(r.Flags) > 0 {
		s += " " + strings.Join(r.Flags, ",")
	}
	return s
}

func planRoute(rt generator.Route) string {
	s := rt.To.String()
	if rt.Via.IsValid() {
		s += " via " + rt.Via.String()
	}
	if rt.Metric != 0 {
		s += fmt.Sprintf(" metric %d", rt.Metric)
	}
	if rt.OnLink {
		s += " onlink"
	}
	return s
}

// checkRandLab is the oracle's verdict on a lab: what expect checks of
// every tier, and what only the oracle sees cheaply: loopback, bridge
// settings, taps' owners and queues, routes and sysctls.
func checkRandLab(p *generator.Plan, obs observed) []string {
	out := expect.Check(p, obs.links, nil)
	out = append(out, expect.Leaks(p, obs.links)...)
	index := map[string]map[string]*oracle.Link{}
	for ns, links := range obs.links {
		index[ns] = map[string]*oracle.Link{}
		for i := range links {
			index[ns][links[i].Name] = &links[i]
		}
	}
	bad := func(l *generator.Link, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", l.Label(), fmt.Sprintf(format, args...)))
	}
	for _, u := range p.Units {
		if u.Namespace == nil {
			continue
		}
		lo := index[u.Namespace.Name]["lo"]
		if lo == nil {
			out = append(out, fmt.Sprintf("namespace %s: no lo (the namespace is missing?)", u.Namespace.Name))
		} else if lo.HasFlag("UP") != u.Namespace.Loopback {
			out = append(out, fmt.Sprintf("namespace %s: lo up is %v, want %v", u.Namespace.Name, lo.HasFlag("UP"), u.Namespace.Loopback))
		}
	}
	for _, l := range p.Links {
		seen := index[l.NS][l.Name]
		if seen == nil || l.MatchMAC != "" {
			continue // expect.Check reported it
		}
		if b := l.Bridge; b != nil && seen.Bridge != nil {
			for _, c := range []struct {
				name      string
				want      *int
				got, unit int
			}{
				{"priority", b.Priority, seen.Bridge.Priority, 1},
				{"hello_time", b.HelloTime, seen.Bridge.HelloTime, 100},
				{"max_age", b.MaxAge, seen.Bridge.MaxAge, 100},
				{"ageing_time", b.AgeingTime, seen.Bridge.AgeingTime, 100},
			} {
				if c.want != nil && c.got != *c.want*c.unit {
					bad(l, "%s %d, want %d", c.name, c.got, *c.want*c.unit)
				}
			}
			if m := b.GroupForwardMask; m != nil {
				got, err := strconv.ParseInt(seen.Bridge.GroupFwdMask, 0, 64)
				if err != nil || int(got) != *m {
					bad(l, "group_fwd_mask %s, want %#x", seen.Bridge.GroupFwdMask, *m)
				}
			}
		}
		if tap := l.Tap; tap != nil && seen.InfoData != nil {
			if mq, _ := seen.InfoData["multi_queue"].(bool); mq != tap.MultiQueue {
				bad(l, "multi_queue %v, want %v", mq, tap.MultiQueue)
			}
			for _, o := range []struct{ key, want string }{{"user", tap.User}, {"group", tap.Group}} {
				got, _ := seen.InfoData[o.key].(string)
				if f, ok := seen.InfoData[o.key].(float64); ok {
					got = strconv.Itoa(int(f))
				}
				if ownerID(o.key, got) != ownerID(o.key, o.want) {
					bad(l, "tap %s %q, want %q", o.key, got, o.want)
				}
			}
		}
		for _, rt := range l.Routes {
			found := false
			for _, r := range obs.routes[l.NS] {
				dst, err := r.prefix()
				if err != nil || r.Dev != l.Name || dst != rt.To {
					continue
				}
				gw, _ := netip.ParseAddr(r.Gateway)
				if gw != rt.Via || (rt.Metric != 0 && r.Metric != rt.Metric) || (rt.OnLink && !slices.Contains(r.Flags, "onlink")) {
					continue
				}
				found = true
			}
			if !found {
				var routes []string
				for _, r := range obs.routes[l.NS] {
					if r.Dev == l.Name {
						routes = append(routes, r.String())
					}
				}
				bad(l, "no route %s; it has [%s]", planRoute(rt), strings.Join(routes, "; "))
			}
		}
	}
	for _, s := range p.Sysctls() {
		c := obs.sysctls[s.NS+" "+s.Path]
		if c.ExitCode != 0 {
			out = append(out, fmt.Sprintf("namespace %s: cannot read sysctl %s: %s", s.NS, s.Path, strings.TrimSpace(c.Output)))
		} else if got := strings.Join(strings.Fields(c.Output), " "); got != s.Value {
			out = append(out, fmt.Sprintf("namespace %s: sysctl %s is %q, want %q", s.NS, s.Path, got, s.Value))
		}
	}
	return out
}

// ownerID is the id a tap owner name or number stands for ("" for none).
func ownerID(kind, s string) string {
	if s == "" {
		return ""
	}
	if _, err := strconv.Atoi(s); err == nil {
		return s
	}
	if kind == "user" {
		if u, err := user.Lookup(s); err == nil {
			return u.Uid
		}
	} else if g, err := user.LookupGroup(s); err == nil {
		return g.Gid
	}
	return s
}

// leftBehind reports what the units' stop scripts left: any namespace, and
// in the host namespace any link that is not networkd's (which stays until
// `netgen down`), an uplink's NIC or lo.
func leftBehind(p *generator.Plan, netns []string, host []oracle.Link, standIns map[string]bool) []string {
	var out []string
	for _, ns := range netns {
		out = append(out, fmt.Sprintf("namespace %s left behind by the stop scripts", ns))
	}
	owner := map[string]*generator.Link{}
	for _, l := range p.Links {
		if l.NS == "" {
			owner[l.Name] = l
		}
	}
	for _, h := range host {
		l := owner[h.Name]
		switch {
		case h.Name == "lo" || standIns[h.Name] || (l != nil && l.Kind == schema.KindUplink):
			// An uplink is the machine's NIC: it stays.
		case l == nil:
			out = append(out, fmt.Sprintf("host link %s, which the lab does not have, is left after the stop scripts", h.Name))
		case l.Owner != nil:
			out = append(out, fmt.Sprintf("host link %s (of %s) left behind by the stop scripts", h.Name, l.Owner.Name))
		}
	}
	return out
}

// stopCollector stops each lab's target, then reports its units, the
// namespaces and the host's links, for judgeStopped.
func stopCollector(labs []bootLab) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	for _, lab := range labs {
		p := lab.Res.Plan
		if p.Target == "" {
			continue
		}
		var units []string
		for _, u := range p.Units {
			units = append(units, u.Name)
		}
		w("echo '%sstop %s'", marker, lab.Name)
		w("systemctl stop %s 2>&1; echo \"rc=$?\"", p.Target)
		// The stop propagates to the lab's units (PartOf=) as jobs of
		// their own, which `systemctl stop` does not wait for.
		w("for i in $(seq 600); do [ -z \"$(systemctl list-jobs --no-legend)\" ] && break; sleep 0.1; done")
		w("echo '%sstopped %s'", marker, lab.Name)
		w("systemctl show -p Id -p ActiveState %s", strings.Join(units, " "))
		w("echo '%safter-netns %s'", marker, lab.Name)
		w("ls -A /run/netns 2>/dev/null; :")
		w("echo '%safter-link %s'", marker, lab.Name)
		w("ip -j link show")
	}
	return b.String()
}

// judgeStopped checks what stopCollector reported: the stop went through,
// every unit is inactive, and none of the lab's namespaces or unit-owned
// host links is left.
func judgeStopped(tier string, labs []bootLab, rep report, standIns map[string]bool) []string {
	var out []string
	for _, lab := range labs {
		p := lab.Res.Plan
		if p.Target == "" {
			continue
		}
		bad := func(format string, args ...any) {
			out = append(out, fmt.Sprintf("%s: lab %s: %s", tier, lab.Name, fmt.Sprintf(format, args...)))
		}
		if s := rep["stop "+lab.Name]; !strings.Contains(s, "rc=0") {
			bad("systemctl stop %s: %s", p.Target, strings.TrimSpace(s))
		}
		for _, block := range strings.Split(rep["stopped "+lab.Name], "\n\n") {
			if strings.Contains(block, "ActiveState=") && !strings.Contains(block, "ActiveState=inactive") {
				bad("after stopping %s: %s", p.Target, strings.Join(strings.Fields(block), " "))
			}
		}
		mine := map[string]bool{}
		for _, u := range p.Units {
			if u.Kind == generator.NamespaceUnit {
				mine[u.Namespaces[0]] = true
			}
		}
		var netns []string
		for _, ns := range strings.Fields(rep["after-netns "+lab.Name]) {
			if mine[ns] {
				netns = append(netns, ns)
			}
		}
		host, err := oracle.ParseIPLinks([]byte(rep["after-link "+lab.Name]), []byte("[]"))
		if err != nil {
			bad("cannot read the host's links after the stop: %v", err)
			continue
		}
		for _, problem := range leftBehind(p, netns, host, standIns) {
			// Other labs' links are still there: only this lab's count.
			if strings.Contains(problem, "which the lab does not have") {
				continue
			}
			bad("%s", problem)
		}
	}
	return out
}

// extraCollector reports, for randlab's labs under QEMU, what the link
// checks do not see: every service's unit, every namespace's qdiscs
// (netem), the ingress filters of wire ends, and the resolv.conf and
// hosts that programs in each namespace see. judgeExtras reads it.
func extraCollector(labs []bootLab) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	var units []string
	nss := map[string]bool{}
	for _, lab := range labs {
		p := lab.Res.Plan
		for _, s := range p.Services {
			units = append(units, s.Unit)
		}
		for _, l := range p.Links {
			if l.Netem != nil {
				nss[l.NS] = true
			}
		}
		for _, wr := range p.Wires {
			for _, e := range []*generator.Link{wr.A, wr.B} {
				w("echo '%srl-filter %s %s'", marker, nsLabel(e.NS), e.Name)
				w("tc %s-j filter show dev '%s' ingress 2>&1", tcNS(e.NS), e.Name)
			}
		}
		for _, r := range p.Resolvers {
			w("echo '%srl-resolv %s'", marker, r.NS)
			w("ip netns exec '%s' cat /etc/resolv.conf 2>&1", r.NS)
			w("echo '%srl-hosts %s'", marker, r.NS)
			w("ip netns exec '%s' cat /etc/hosts 2>&1", r.NS)
		}
	}
	if len(units) > 0 {
		w("echo '%srl-services'", marker)
		w("systemctl show -p Id -p ActiveState '%s'", strings.Join(units, "' '"))
	}
	for _, ns := range slices.Sorted(maps.Keys(nss)) {
		w("echo '%srl-qdisc %s'", marker, nsLabel(ns))
		w("tc %s-j qdisc show 2>&1", tcNS(ns))
	}
	return b.String()
}

func tcNS(ns string) string {
	if ns == "" {
		return ""
	}
	return "-n '" + ns + "' "
}

// judgeExtras checks what extraCollector reported: every service active,
// a netem qdisc at the root of every link with netem, a mirred redirect to
// the other end on each wire end's ingress, and every nameserver, search
// domain and host line of the plan where programs in the namespace look.
// (netem's parameters and the wire's traffic are not checked here: see
// docs/testing.md.)
func judgeExtras(tier string, labs []bootLab, rep report) []string {
	var out []string
	active := activeStates(rep["rl-services"])
	for _, lab := range labs {
		p := lab.Res.Plan
		bad := func(format string, args ...any) {
			out = append(out, fmt.Sprintf("%s: lab %s: %s", tier, lab.Name, fmt.Sprintf(format, args...)))
		}
		for _, s := range p.Services {
			if st := active[s.Unit]; st != "active" {
				bad("service %s of namespace %s: unit %s is %q, want active (journalctl -u %s)", s.Name, s.NS, s.Unit, st, s.Unit)
			}
		}
		for _, l := range p.Links {
			if l.Netem == nil {
				continue
			}
			var qdiscs []struct {
				Kind string `json:"kind"`
				Dev  string `json:"dev"`
				Root bool   `json:"root"`
			}
			body := rep["rl-qdisc "+nsLabel(l.NS)]
			if err := json.Unmarshal([]byte(body), &qdiscs); err != nil {
				bad("%s: cannot read the qdiscs: %v: %s", l.Label(), err, body)
				continue
			}
			found := false
			for _, q := range qdiscs {
				found = found || (q.Dev == l.Name && q.Root && q.Kind == "netem")
			}
			if !found {
				bad("%s: no root netem qdisc (the lab impairs it)", l.Label())
			}
		}
		for _, wr := range p.Wires {
			for _, e := range [][2]*generator.Link{{wr.A, wr.B}, {wr.B, wr.A}} {
				body := rep["rl-filter "+nsLabel(e[0].NS)+" "+e[0].Name]
				if !strings.Contains(body, "mirred") || !strings.Contains(body, `"`+e[1].Name+`"`) {
					bad("wire end %s: no mirred redirect to %s on its ingress: %s", e[0].Label(), e[1].Name, strings.TrimSpace(body))
				}
			}
		}
		for _, r := range p.Resolvers {
			conf, hosts := rep["rl-resolv "+r.NS], rep["rl-hosts "+r.NS]
			for _, a := range r.Nameservers {
				if !slices.Contains(strings.Split(conf, "\n"), "nameserver "+a.String()) {
					bad("namespace %s: resolv.conf lacks nameserver %s:\n%s", r.NS, a, conf)
				}
			}
			if len(r.Search) > 0 && !strings.Contains(conf, "search "+strings.Join(r.Search, " ")+"\n") {
				bad("namespace %s: resolv.conf lacks search %s:\n%s", r.NS, strings.Join(r.Search, " "), conf)
			}
			for _, h := range r.Hosts {
				if !slices.Contains(strings.Split(hosts, "\n"), h.Addr.String()+"\t"+h.Name) {
					bad("namespace %s: hosts lacks %s %s:\n%s", r.NS, h.Addr, h.Name, hosts)
				}
			}
		}
	}
	return out
}
