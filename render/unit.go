package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/names"
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
		what := "host bridge ports off the default VLAN"
		if hostQdiscs(u) {
			what = "host links whose VLANs or qdiscs networkd cannot set"
		}
		unitSec.add("Description", fmt.Sprintf("netgen lab %s: %s", p.Lab, what))
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

	lines := buildScript(u).lines()
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
	pinned := ""
	if len(u.PinMTU) > 0 {
		pinned = ", and keep the bridges' MTUs"
	}
	unitSec := newSection("Unit").
		add("Description", fmt.Sprintf("netgen lab %s: wait until systemd-networkd has configured the host bridges, bonds and VRFs the units use%s", p.Lab, pinned)).
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
	if len(u.PinMTU) > 0 {
		// After the waits: networkd has configured every bridge.
		svc.add("ExecStart", "/bin/sh -e -s").
			add("StandardInput", "data").
			add("StandardOutput", "journal")
		for _, line := range pinMTUScript(u) {
			svc.add("StandardInputText", line)
		}
	}
	install := newSection("Install").add("WantedBy", p.Target)
	r.write(UnitDir, u.Name, unitSec, svc, install)
}

// pinMTUScript sets the MTU of each host bridge of u.PinMTU to another
// value and back (generator: bridgeWait), so that the kernel keeps it
// whatever MTU a port that joins later has. The other value stays at 1280
// or more, or the kernel would take IPv6 off the bridge for that moment.
// It has no "stop": the MTU is networkd's bridge's own, nothing to undo.
func pinMTUScript(u *generator.Unit) []string {
	var steps []step
	for _, b := range u.PinMTU {
		other := b.MTU + 1
		if other > schema.MaxMTU {
			other = b.MTU - 1
		}
		steps = append(steps, setBridgeMTU{b.Name, other}, setBridgeMTU{b.Name, b.MTU})
	}
	head := fmt.Sprintf("# %s: sets networkd's host bridges' MTUs again, which the kernel then keeps.", names.Unescape(u.Name))
	return append([]string{head}, batch{tool: "ip", steps: steps}.sh()...)
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

// buildScript is the unit's script as a model (script.go): "down" deletes
// what the unit creates, "up" creates it.
func buildScript(u *generator.Unit) *script {
	s := &script{unit: u.Name, configured: len(u.HostBridges) > 0}
	joins := joinedPorts(u)
	for ns, ports := range joins {
		if _, l3 := configSteps(u, ns); len(ports) > 0 && len(l3) > 0 {
			s.joined = true
			break
		}
	}
	s.down = downStmts(u)
	s.up = upStmts(u, joins)
	return s
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

// downStmts delete what the unit created even when a process still pins
// the namespace (then deleting the namespace alone would leave its veths,
// and their host ends, alive). Every step is guarded by a test of the
// shell's own, so that a first start, with nothing to delete, runs no
// process: at boot, every unit of the lab starts at once.
func downStmts(u *generator.Unit) []stmt {
	var out []stmt
	for _, ns := range namespaces(u) {
		var steps []step
		var names []string
		for _, l := range u.Links {
			if l.NS != ns {
				continue
			}
			switch {
			case (l.Kind == schema.KindVeth && l.Creator) || l.Kind == schema.KindBridge || l.Kind == schema.KindTap || l.Kind == schema.KindVXLAN || kernelObjectCreate(l) != nil:
				steps = append(steps, deleteLink{l.Name})
				names = append(names, l.Name)
			case l.Kind == schema.KindUplink && l.Master != nil:
				// Not ours to delete: only take it off the bridge.
				steps = append(steps, unsetMaster{l.Name})
				names = append(names, l.Name)
			case l.Kind == schema.KindVLAN && (l.Parent.Kind == schema.KindUplink || l.Parent.Owner != u):
				// Other VLANs die with the parent the unit deletes; an
				// uplink stays, and so does a networkd bridge, and so
				// would their VLANs: the next start would fail to create
				// them again ("File exists").
				steps = append(steps, deleteLink{l.Name})
				names = append(names, l.Name)
			}
		}
		del := batch{tool: "ip", ns: ns, force: true, steps: steps}
		nat := natIn(u, ns)
		if ns == "" {
			if nat != nil {
				out = append(out, deleteNAT{nat})
			}
			if len(steps) > 0 {
				out = append(out, ifAnyLink{names: names, body: []stmt{del}})
			}
			continue
		}
		nsUnit := u.Kind == generator.NamespaceUnit && ns == u.Namespaces[0]
		if len(steps) == 0 && !nsUnit && nat == nil {
			continue
		}
		body := []stmt{del}
		if nsUnit {
			body = append(body, deleteNetns{ns})
		} else if nat != nil {
			// The namespace stays: the table goes by itself.
			body = append([]stmt{deleteNAT{nat}}, body...)
		}
		out = append(out, ifNetns{ns: ns, body: body})
	}
	return append(out, wireDownStmts(u)...)
}

// upStmts create the unit's namespace and links, one `ip -batch` per
// namespace, then set port VLANs and per-interface sysctls.
func upStmts(u *generator.Unit, joins map[string][]string) []stmt {
	var out []stmt
	// batches[ns] runs first; when the namespace's ends wait for their
	// host bridge ports to join (see joinedPorts), its addresses and
	// routes go to a second batch, l3[ns], after the wait.
	batches := map[string][]step{}
	l3 := map[string][]step{}
	for _, ns := range namespaces(u) {
		var steps []step
		if u.Kind == generator.NamespaceUnit && ns == u.Namespaces[0] && u.Namespace.Loopback {
			steps = append(steps, setUp{"lo"})
		}
		steps = append(steps, createSteps(u, ns)...)
		links, addrs := configSteps(u, ns)
		steps = append(steps, links...)
		if len(joins[ns]) > 0 && len(addrs) > 0 {
			l3[ns] = addrs
		} else {
			steps = append(steps, addrs...)
		}
		batches[ns] = steps
	}
	if u.Kind == generator.NamespaceUnit {
		ns := u.Namespace
		if len(ns.Sysctls) == 0 && len(batches[""]) > 0 {
			// `ip -batch` creates the namespace too, and goes back to the
			// host's before the next line: one process less. Namespace-wide
			// sysctls must come between the two, so then it stays apart.
			batches[""] = append([]step{createNamespace{ns.Name}}, batches[""]...)
		} else {
			out = append(out, addNetns{ns.Name}, setSysctls{ns.Name, ns.Sysctls})
		}
	}
	if len(u.HostBridges) > 0 {
		out = append(out, waitForBridges{u.HostBridges})
	}
	for _, ns := range namespaces(u) {
		out = append(out, batch{tool: "ip", ns: ns, steps: batches[ns]})
		if len(l3[ns]) > 0 {
			for _, port := range joins[ns] {
				out = append(out, waitForPort{port})
			}
			out = append(out, batch{tool: "ip", ns: ns, steps: l3[ns]})
		}
	}
	for _, ns := range namespaces(u) {
		out = append(out, batch{tool: "bridge", ns: ns, steps: bridgeVLANSteps(u, ns)})
	}
	byNS := map[string][]generator.Sysctl{}
	for _, s := range u.Sysctls {
		byNS[s.NS] = append(byNS[s.NS], s)
	}
	for _, ns := range namespaces(u) {
		out = append(out, setSysctls{ns, byNS[ns]})
	}
	out = append(out, netemStmts(u)...)
	out = append(out, wireStmts(u)...)
	for _, n := range u.NATs {
		out = append(out, addNAT{n})
	}
	return out
}

// createdIn is the namespace whose `ip` creates the link: a veth's
// non-creator end is created by its peer's command.
func createdIn(l *generator.Link) (string, bool) {
	if l.Kind == schema.KindVeth && !l.Creator {
		return "", false
	}
	if l.Kind == schema.KindVXLAN {
		// Its UDP socket is in the namespace it is created from (addVXLAN).
		return "", true
	}
	return l.NS, true
}

// createSteps create the unit's links in ns, in the plan's order (bridges,
// taps, veths, then VLANs after their parents).
func createSteps(u *generator.Unit, ns string) []step {
	var steps []step
	for _, l := range u.Links {
		if cns, ok := createdIn(l); !ok || cns != ns {
			continue
		}
		switch l.Kind {
		case schema.KindBridge:
			steps = append(steps, addBridge{name: l.Name, mtu: bridgeCreateMTU(l.MTU), mac: l.MAC, opts: l.Bridge})
			if l.MTU != 0 {
				steps = append(steps, setBridgeMTU{l.Name, l.MTU})
			}
		case schema.KindTap:
			steps = append(steps, addTap{name: l.Name, tap: l.Tap})
		case schema.KindVeth:
			steps = append(steps, addVeth{end: l, peer: l.Peer})
		case schema.KindVLAN:
			steps = append(steps, addVLAN{l})
		case schema.KindVXLAN:
			steps = append(steps, addVXLAN{l})
		default:
			if st := kernelObjectCreate(l); st != nil {
				steps = append(steps, st)
			}
		}
	}
	return steps
}

// configSteps configure the unit's links in ns in two parts: links
// (masters, link-local mode, then every `up`), and addresses then routes (a
// route needs its addresses). Usually both go into one batch.
//
// No link goes up before every link's addrgenmode is set: the kernel
// brings a device's VLANs up with it (vlan_device_event, NETDEV_UP), so a
// parent's `up` before its VLAN's `addrgenmode none` gave the VLAN an
// EUI-64 link-local address it keeps (found by the random-lab tier: a
// VLAN bridge port on a veth end the host unit owns).
func configSteps(u *generator.Unit, ns string) (links, l3 []step) {
	var ups, addrs, routes []step
	for _, l := range u.Links {
		if l.NS != ns {
			continue
		}
		if (l.Kind == schema.KindTap || l.Kind == schema.KindUplink) && (l.MTU != 0 || l.MAC != "") {
			links = append(links, setLink{dev: l.Name, mtu: l.MTU, mac: l.MAC})
		}
		if l.Bond != nil {
			// A member joins its bond down (the kernel refuses an up
			// one); its own `up` below follows.
			links = append(links, setDown{l.Name}, setMaster{l.Name, l.Bond.Name})
		}
		if l.Master != nil {
			links = append(links, setMaster{l.Name, l.Master.Name})
		}
		if l.VRF != nil {
			links = append(links, setMaster{l.Name, l.VRF.Name})
		}
		if !l.LinkLocal {
			links = append(links, noLinkLocal{l.Name})
		}
		ups = append(ups, setUp{l.Name})
		for _, a := range l.Addresses {
			addrs = append(addrs, addAddress{l.Name, a})
		}
		for _, rt := range l.Routes {
			routes = append(routes, addRoute{l.Name, rt, routeTable(l)})
		}
	}
	return append(links, ups...), append(addrs, routes...)
}

// bridgeVLANSteps set the VLANs of the unit's bridges (for their own VLAN
// sub-interfaces) and bridge ports in ns.
func bridgeVLANSteps(u *generator.Unit, ns string) []step {
	var steps []step
	for _, l := range u.Links {
		if l.NS != ns {
			continue
		}
		if l.Bridge != nil {
			if d := l.Bridge.SelfPVID(); d != 0 {
				steps = append(steps, addSelfVLAN{l.Name, d, true})
			}
			for _, vid := range l.Bridge.SelfVLANs {
				steps = append(steps, addSelfVLAN{l.Name, vid, false})
			}
		}
		if l.PortOpts != nil && l.Master != nil {
			steps = append(steps, setPort{l.Name, l.PortOpts})
		}
		if l.PortVLANs == nil {
			continue
		}
		for _, e := range l.PortVLANs.Entries {
			steps = append(steps, addPortVLAN{l.Name, e})
		}
		if d := l.PortVLANs.DeleteDefault; d != 0 {
			steps = append(steps, delPortVLAN{l.Name, d})
		}
	}
	return steps
}
