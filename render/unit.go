package render

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/schema"
)

// WaitOnline is networkd's own tool for "this link is configured"; the
// /lib path works on merged-/usr systems and on Debian's split ones.
const WaitOnline = "/lib/systemd/systemd-networkd-wait-online"

// unit writes a namespace or link unit. Its work is a POSIX shell script
// given to `sh -s` on standard input (StandardInputText=), so the unit file is
// the whole truth about what it does.
func (r *renderer) unit(u *generator.Unit) {
	p := r.plan
	if u.Kind == generator.BridgeWaitUnit {
		r.bridgeWait(u)
		return
	}
	unitSec := newSection("Unit")
	var requires, after, partOf []string
	switch u.Kind {
	case generator.NamespaceUnit:
		unitSec.add("Description", fmt.Sprintf("netgen lab %s: namespace %s", p.Lab, u.Namespaces[0]))
	case generator.HostUnit:
		unitSec.add("Description", fmt.Sprintf("netgen lab %s: host bridge ports off the default VLAN", p.Lab))
	case generator.LinkUnit:
		unitSec.add("Description", fmt.Sprintf("netgen lab %s: veths between namespaces %s and %s", p.Lab, u.Namespaces[0], u.Namespaces[1]))
		requires = append(requires, u.Requires...)
		after = append(after, u.Requires...)
		// Restarting either namespace destroys the veths: restart with it.
		partOf = append(partOf, u.Requires...)
	}
	unitSec.add("Documentation", "man:ip-netns(8) man:ip-link(8)")
	if u.Wait != nil {
		// The lab's one wait for networkd's host bridges: at boot and on
		// `systemctl start` of the target, this unit's script then finds
		// its bridges configured and waits for nothing.
		unitSec.add("Wants", u.Wait.Name)
		after = append(after, u.Wait.Name)
	}
	unitSec.add("Requires", strings.Join(requires, " "))
	unitSec.add("After", strings.Join(after, " "))
	partOf = append(partOf, p.Target)
	unitSec.add("PartOf", strings.Join(partOf, " "))
	unitSec.add("Before", p.Target)

	lines := script(u)
	svc := newSection("Service")
	svc.add("Type", "oneshot").
		add("RemainAfterExit", "yes").
		add("TimeoutStartSec", "180").
		add("ExecStart", "/bin/sh -e -s start").
		add("ExecStop", "/bin/sh -e -s stop").
		add("StandardInput", "data").
		add("StandardOutput", "journal")
	for _, line := range lines {
		svc.add("StandardInputText", line)
	}
	install := newSection("Install").add("WantedBy", p.Target)
	r.write(UnitDir, u.Name, unitSec, svc, install)
}

// bridgeWait writes the lab's BridgeWaitUnit: one
// systemd-networkd-wait-online for every host bridge the lab's units attach
// links to, however many units there are.
func (r *renderer) bridgeWait(u *generator.Unit) {
	p := r.plan
	unitSec := newSection("Unit").
		add("Description", fmt.Sprintf("netgen lab %s: wait until systemd-networkd has configured the host bridges", p.Lab)).
		add("Documentation", "man:systemd-networkd-wait-online.service(8)").
		add("Wants", "systemd-networkd.service").
		add("After", "systemd-networkd.service").
		add("PartOf", p.Target).
		add("Before", p.Target)
	svc := newSection("Service").
		add("Type", "oneshot").
		add("RemainAfterExit", "yes").
		add("TimeoutStartSec", "180")
	// Several ExecStart= lines, run in turn, wait for the same as one: the
	// lines stay short enough to re-read (maxMatchLine).
	line := ""
	for _, b := range u.HostBridges {
		arg := " -i " + b + ":no-carrier"
		if line != "" && len(line)+len(arg) > maxMatchLine {
			svc.add("ExecStart", WaitOnline+" -q --timeout=120"+line)
			line = ""
		}
		line += arg
	}
	svc.add("ExecStart", WaitOnline+" -q --timeout=120"+line)
	install := newSection("Install").add("WantedBy", p.Target)
	r.write(UnitDir, u.Name, unitSec, svc, install)
}

// configuredFunc is a shell function that succeeds when systemd-networkd
// has configured link $1: the setup state in networkd's state file, which
// is what sd_network_link_get_setup_state(3) and wait-online read. It runs
// no process (shell builtins only); when it cannot tell, the script falls
// back to systemd-networkd-wait-online, so a networkd that writes its state
// differently only costs time.
var configuredFunc = []string{
	"configured() {",
	"[ -r /sys/class/net/$1/ifindex ] || return 1",
	"read -r i </sys/class/net/$1/ifindex || return 1",
	"[ -r /run/systemd/netif/links/$i ] || return 1",
	"while read -r l; do [ \"$l\" != ADMIN_STATE=configured ] || return 0; done </run/systemd/netif/links/$i",
	"return 1",
	"}",
}

// joinedPorts lists, by namespace, the unit's host bridge ports whose veth
// peer is in that namespace: the namespace gets its addresses only once
// the bridge has taken these ports out of the "disabled" state.
//
// Why: when dozens of units start at once, the bridge learns of a new
// port's carrier late (the kernel's linkwatch waits for the RTNL lock that
// the units' `ip` processes keep taking). A namespace whose address is
// already there sends its first ARP request through a port still
// "disabled", loses it, and retries only a second later: in a 100-namespace
// bring-up, 3 runs in 5 had such a straggler, answering 0.7 to 2 s after
// every other namespace. It costs one more `ip` process per such unit.
func joinedPorts(u *generator.Unit) map[string][]string {
	out := map[string][]string{}
	for _, l := range u.Links {
		if l.Kind == schema.KindVeth && l.Creator && l.NS == "" && l.Master != nil && l.Peer.NS != "" {
			out[l.Peer.NS] = append(out[l.Peer.NS], l.Name)
		}
	}
	return out
}

// joinedFunc waits until the bridge has taken port $1 out of the
// "disabled" state (0), at most 3 s: after that the unit goes on as it
// would have without waiting. Other states are fine: with STP on, a port
// listens and learns for seconds before it forwards, and that is STP's
// business. The test is a shell builtin; only a port not there yet costs a
// `sleep` (a busy loop would starve the kernel worker it waits for).
var joinedFunc = []string{
	"joined() {",
	"n=0",
	"while read -r s </sys/class/net/$1/brport/state && [ \"$s\" = 0 ] && [ $n -lt 300 ]; do n=$((n+1)); sleep 0.01; done",
	"}",
}

// waitLine waits for the unit's host bridges: nothing to do when networkd
// has configured them already (the BridgeWaitUnit ran first), else, as
// after a bridge was re-created, systemd-networkd-wait-online.
func waitLine(bridges []string) string {
	var checks []string
	args := ""
	for _, b := range bridges {
		checks = append(checks, "configured "+b)
		args += " -i " + b + ":no-carrier"
	}
	return strings.Join(checks, " && ") + " || " + WaitOnline + " -q --timeout=120" + args
}

// script is the unit's shell script, one line per element. No line is
// empty: an empty StandardInputText= would reset the text.
func script(u *generator.Unit) []string {
	s := make([]string, 0, 32+4*len(u.Links))
	add := func(lines ...string) { s = append(s, lines...) }
	add(fmt.Sprintf("# %s: \"start\" builds from nothing, \"stop\" removes everything.", u.Name))
	if len(u.HostBridges) > 0 {
		add(configuredFunc...)
	}
	for ns, ports := range joinedPorts(u) {
		if _, l3 := configSplit(u, ns); len(ports) > 0 && len(l3) > 0 {
			add(joinedFunc...)
			break
		}
	}
	add("down() {")
	add(downLines(u)...)
	add(":", "}", "up() {")
	add(upLines(u)...)
	add(":", "}")
	add(`case "$1" in`, "start) down; up ;;", "stop) down ;;", `*) echo "usage: start|stop" >&2; exit 2 ;;`, "esac")
	return s
}

// batch feeds commands to one `ip`/`bridge` process. ns "" is the host.
func batch(tool, ns string, force bool, cmds []string) []string {
	if len(cmds) == 0 {
		return nil
	}
	head := tool
	if ns != "" {
		head += " -n " + ns
	}
	if force {
		head += " -force"
	}
	head += " -batch - <<'EOF'"
	if force {
		// Teardown: a link that is already gone is not an error.
		head += " 2>/dev/null || :"
	}
	out := append([]string{head}, cmds...)
	return append(out, "EOF")
}

// namespaces returns the namespaces a unit works in, host ("") first when
// it owns host links, in the order its batches run.
func namespaces(u *generator.Unit) []string {
	seen := map[string]bool{}
	for _, l := range u.Links {
		seen[l.NS] = true
	}
	for _, ns := range u.Namespaces {
		seen[ns] = true
	}
	var out []string
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

func netnsPath(ns string) string { return "/run/netns/" + ns }

// downLines delete what the unit created even when a process still pins the
// namespace (then deleting the namespace alone would leave its veths, and
// their host ends, alive). Every step is guarded by a test of the shell's
// own, so that a first start, with nothing to delete, runs no process:
// at boot, every unit of the lab starts at once.
func downLines(u *generator.Unit) []string {
	var out []string
	for _, ns := range namespaces(u) {
		var cmds, names []string
		for _, l := range u.Links {
			if l.NS != ns {
				continue
			}
			switch {
			case (l.Kind == schema.KindVeth && l.Creator) || l.Kind == schema.KindBridge || l.Kind == schema.KindTap:
				cmds = append(cmds, "link delete dev "+l.Name)
				names = append(names, l.Name)
			case l.Kind == schema.KindUplink && l.Master != nil:
				// Not ours to delete: only take it off the bridge.
				cmds = append(cmds, "link set dev "+l.Name+" nomaster")
				names = append(names, l.Name)
			}
		}
		b := batch("ip", ns, true, cmds)
		if ns == "" {
			if len(b) > 0 {
				out = append(out, anyLinkLines(names)...)
				out = append(out, b...)
				out = append(out, "fi")
			}
			continue
		}
		nsUnit := u.Kind == generator.NamespaceUnit && ns == u.Namespaces[0]
		if len(b) == 0 && !nsUnit {
			continue
		}
		out = append(out, fmt.Sprintf("if [ -e %s ]; then", netnsPath(ns)))
		out = append(out, b...)
		if nsUnit {
			out = append(out, fmt.Sprintf("ip netns delete %s 2>/dev/null || rm -f %s", ns, netnsPath(ns)))
		}
		out = append(out, "fi")
	}
	return out
}

// anyLinkLines open an `if` that holds when any of the host links exists
// (sysfs lists the links of the namespace it was mounted in: the host's,
// where units run). One line while it stays short, else one test a line.
func anyLinkLines(names []string) []string {
	var tests []string
	n := 0
	for _, name := range names {
		t := "[ -e /sys/class/net/" + name + " ]"
		tests = append(tests, t)
		n += len(t) + 4
	}
	if n <= maxMatchLine {
		return []string{"if " + strings.Join(tests, " || ") + "; then"}
	}
	out := []string{"found="}
	for _, t := range tests {
		out = append(out, t+" && found=1 || :")
	}
	return append(out, `if [ -n "$found" ]; then`)
}

func upLines(u *generator.Unit) []string {
	var out []string
	// batches[ns] runs first; when the namespace's ends wait for their
	// host bridge ports to join (see joinedPorts), its addresses and
	// routes go to a second batch, l3[ns], after the wait.
	batches := map[string][]string{}
	l3 := map[string][]string{}
	joins := joinedPorts(u)
	for _, ns := range namespaces(u) {
		var cmds []string
		if u.Kind == generator.NamespaceUnit && ns == u.Namespaces[0] && u.Namespace.Loopback {
			cmds = append(cmds, "link set dev lo up")
		}
		cmds = append(cmds, createCmds(u, ns)...)
		links, addrs := configSplit(u, ns)
		cmds = append(cmds, links...)
		if len(joins[ns]) > 0 && len(addrs) > 0 {
			l3[ns] = addrs
		} else {
			cmds = append(cmds, addrs...)
		}
		batches[ns] = cmds
	}
	if u.Kind == generator.NamespaceUnit {
		ns := u.Namespace
		if len(ns.Sysctls) == 0 && len(batches[""]) > 0 {
			// `ip -batch` creates the namespace too, and goes back to the
			// host's before the next line: one process less. Namespace-wide
			// sysctls must come between the two, so then it stays apart.
			batches[""] = append([]string{"netns add " + ns.Name}, batches[""]...)
		} else {
			out = append(out, "ip netns add "+ns.Name)
			out = append(out, sysctlLines(ns.Name, ns.Sysctls)...)
		}
	}
	if len(u.HostBridges) > 0 {
		out = append(out, waitLine(u.HostBridges))
	}
	for _, ns := range namespaces(u) {
		out = append(out, batch("ip", ns, false, batches[ns])...)
		if len(l3[ns]) > 0 {
			for _, port := range joins[ns] {
				out = append(out, "joined "+port)
			}
			out = append(out, batch("ip", ns, false, l3[ns])...)
		}
	}
	for _, ns := range namespaces(u) {
		out = append(out, batch("bridge", ns, false, bridgeVLANCmds(u, ns))...)
	}
	byNS := map[string][]generator.Sysctl{}
	for _, s := range u.Sysctls {
		byNS[s.NS] = append(byNS[s.NS], s)
	}
	for _, ns := range namespaces(u) {
		out = append(out, sysctlLines(ns, byNS[ns])...)
	}
	return out
}

func sysctlLines(ns string, list []generator.Sysctl) []string {
	if len(list) == 0 {
		return nil
	}
	var parts []string
	for _, s := range list {
		parts = append(parts, fmt.Sprintf("echo %s >/proc/sys/%s", s.Value, s.Path))
	}
	return []string{fmt.Sprintf("ip netns exec %s sh -ec '%s'", ns, strings.Join(parts, "; "))}
}

// createdIn is the namespace whose `ip` creates the link: a veth's
// non-creator end is created by its peer's command.
func createdIn(l *generator.Link) (string, bool) {
	if l.Kind == schema.KindVeth && !l.Creator {
		return "", false
	}
	return l.NS, true
}

func linkParams(l *generator.Link) string {
	s := ""
	if l.MTU != 0 {
		s += fmt.Sprintf(" mtu %d", l.MTU)
	}
	if l.MAC != "" {
		s += " address " + l.MAC
	}
	return s
}

func createCmds(u *generator.Unit, ns string) []string {
	var cmds []string
	for _, l := range u.Links {
		if cns, ok := createdIn(l); !ok || cns != ns {
			continue
		}
		switch l.Kind {
		case schema.KindBridge:
			cmds = append(cmds, fmt.Sprintf("link add name %s%s type bridge%s", l.Name, linkParams(l), bridgeParams(l.Bridge)))
		case schema.KindTap:
			c := fmt.Sprintf("tuntap add dev %s mode tap", l.Name)
			if l.Tap.User != "" {
				c += " user " + l.Tap.User
			}
			if l.Tap.Group != "" {
				c += " group " + l.Tap.Group
			}
			if l.Tap.MultiQueue {
				c += " multi_queue"
			}
			cmds = append(cmds, c)
		case schema.KindVeth:
			peer := l.Peer
			c := fmt.Sprintf("link add name %s%s type veth peer name %s%s", l.Name, linkParams(l), peer.Name, linkParams(peer))
			if peer.NS != l.NS {
				c += " netns " + peer.NS
			}
			cmds = append(cmds, c)
		case schema.KindVLAN:
			cmds = append(cmds, fmt.Sprintf("link add link %s name %s%s type vlan id %d", l.Parent.Name, l.Name, linkParams(l), l.VID))
		}
	}
	return cmds
}

// bridgeParams are the `ip link add ... type bridge` options; timers are
// given to ip in hundredths of a second.
func bridgeParams(b *generator.BridgeOpts) string {
	s := fmt.Sprintf(" stp_state %d", map[bool]int{false: 0, true: 1}[b.STP])
	cs := func(name string, p *int) {
		if p != nil {
			s += fmt.Sprintf(" %s %d", name, *p*100)
		}
	}
	if b.Priority != nil {
		s += fmt.Sprintf(" priority %d", *b.Priority)
	}
	cs("forward_delay", b.ForwardDelay)
	cs("hello_time", b.HelloTime)
	cs("max_age", b.MaxAge)
	cs("ageing_time", b.AgeingTime)
	if b.VLANFiltering {
		s += " vlan_filtering 1"
		if b.DefaultPVID != nil {
			s += fmt.Sprintf(" vlan_default_pvid %d", *b.DefaultPVID)
		}
	}
	if b.GroupForwardMask != nil {
		s += fmt.Sprintf(" group_fwd_mask %d", *b.GroupForwardMask)
	}
	return s
}

// configSplit configures the unit's links in ns in two parts: links
// (masters, link-local mode, up), and addresses then routes (a route needs
// its addresses). Usually both go into one batch.
func configSplit(u *generator.Unit, ns string) (links, l3 []string) {
	var cmds, addrs, routes []string
	for _, l := range u.Links {
		if l.NS != ns {
			continue
		}
		if (l.Kind == schema.KindTap || l.Kind == schema.KindUplink) && (l.MTU != 0 || l.MAC != "") {
			cmds = append(cmds, "link set dev "+l.Name+linkParams(l))
		}
		if l.Master != nil {
			cmds = append(cmds, fmt.Sprintf("link set dev %s master %s", l.Name, l.Master.Name))
		}
		if !l.LinkLocal {
			cmds = append(cmds, fmt.Sprintf("link set dev %s addrgenmode none", l.Name))
		}
		cmds = append(cmds, fmt.Sprintf("link set dev %s up", l.Name))
		for _, a := range l.Addresses {
			addrs = append(addrs, addressCmd(l.Name, a))
		}
		for _, rt := range l.Routes {
			c := "route add " + rt.To.String()
			if rt.Via.IsValid() {
				c += " via " + rt.Via.String()
			}
			c += " dev " + l.Name
			if rt.Metric != 0 {
				c += fmt.Sprintf(" metric %d", rt.Metric)
			}
			if rt.OnLink {
				c += " onlink"
			}
			routes = append(routes, c)
		}
	}
	return cmds, append(addrs, routes...)
}

// addressCmd adds an address the way networkd would: with its IPv4
// broadcast address, and IPv6 without duplicate address detection (the
// lab's addresses are planned; DAD would only delay the first ping).
func addressCmd(dev string, a netip.Prefix) string {
	c := fmt.Sprintf("address add %s dev %s", a, dev)
	if a.Addr().Is4() && a.Bits() < 31 {
		c += " broadcast +"
	}
	if a.Addr().Is6() {
		c += " nodad"
	}
	return c
}

func bridgeVLANCmds(u *generator.Unit, ns string) []string {
	var cmds []string
	for _, l := range u.Links {
		if l.NS != ns || l.PortVLANs == nil {
			continue
		}
		for _, e := range l.PortVLANs.Entries {
			c := fmt.Sprintf("vlan add dev %s vid %s", l.Name, vidString(e))
			if e.PVID {
				c += " pvid"
			}
			if e.Untagged {
				c += " untagged"
			}
			cmds = append(cmds, c)
		}
		if d := l.PortVLANs.DeleteDefault; d != 0 {
			cmds = append(cmds, fmt.Sprintf("vlan del dev %s vid %d", l.Name, d))
		}
	}
	return cmds
}
