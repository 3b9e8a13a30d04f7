package render

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/names"
)

// A unit's script is built as a typed model before it becomes text: a
// script holds shell statements (stmt), and a batch statement holds the
// steps one `ip -batch` or `bridge -batch` runs. Each step renders its own
// command line, so that one kind of kernel change is written in one place,
// whichever unit, namespace or order it comes in.

// step is one command of an `ip -batch` or `bridge -batch`.
type step interface{ cmd() string }

// createNamespace creates a namespace from the host's `ip -batch` (which
// goes back to the host's namespace for the next line).
type createNamespace struct{ name string }

func (s createNamespace) cmd() string { return "netns add " + s.name }

// linkParams are the settings given to `link add` and `link set`.
func linkParams(mtu int, mac string) string {
	s := ""
	if mtu != 0 {
		s += fmt.Sprintf(" mtu %d", mtu)
	}
	if mac != "" {
		s += " address " + mac
	}
	return s
}

// addBridge creates a bridge.
type addBridge struct {
	name string
	mtu  int
	mac  string
	opts *generator.BridgeOpts
}

func (s addBridge) cmd() string {
	return fmt.Sprintf("link add name %s%s type bridge%s", s.name, linkParams(s.mtu, s.mac), bridgeParams(s.opts))
}

// setBridgeMTU sets a bridge's MTU once it exists (see bridgeCreateMTU).
type setBridgeMTU struct {
	name string
	mtu  int
}

func (s setBridgeMTU) cmd() string { return fmt.Sprintf("link set dev %s mtu %d", s.name, s.mtu) }

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
		if pvid, ok := b.KernelDefaultPVID(); ok {
			s += fmt.Sprintf(" vlan_default_pvid %d", pvid)
		}
	}
	if b.GroupForwardMask != nil {
		s += fmt.Sprintf(" group_fwd_mask %d", *b.GroupForwardMask)
	}
	return s
}

// addTap creates a persistent tap device.
type addTap struct {
	name string
	tap  *generator.TapOpts
}

func (s addTap) cmd() string {
	c := fmt.Sprintf("tuntap add dev %s mode tap", s.name)
	if s.tap.User != "" {
		c += " user " + s.tap.User
	}
	if s.tap.Group != "" {
		c += " group " + s.tap.Group
	}
	if s.tap.MultiQueue {
		c += " multi_queue"
	}
	return c
}

// addVeth creates both ends of a veth, the peer directly in its namespace.
type addVeth struct{ end, peer *generator.Link }

func (s addVeth) cmd() string {
	c := fmt.Sprintf("link add name %s%s type veth peer name %s%s",
		s.end.Name, linkParams(s.end.MTU, s.end.MAC), s.peer.Name, linkParams(s.peer.MTU, s.peer.MAC))
	if s.peer.NS != s.end.NS {
		c += " netns " + s.peer.NS
	}
	return c
}

// addVLAN creates a VLAN sub-interface on its parent.
type addVLAN struct{ l *generator.Link }

func (s addVLAN) cmd() string {
	return fmt.Sprintf("link add link %s name %s%s type vlan id %d", s.l.Parent.Name, s.l.Name, linkParams(s.l.MTU, s.l.MAC), s.l.VID)
}

// setLink sets the MTU and MAC of a link the unit did not create with them
// (a tap, an uplink).
type setLink struct {
	dev string
	mtu int
	mac string
}

func (s setLink) cmd() string { return "link set dev " + s.dev + linkParams(s.mtu, s.mac) }

// setMaster makes a link a bridge port.
type setMaster struct{ dev, master string }

func (s setMaster) cmd() string { return fmt.Sprintf("link set dev %s master %s", s.dev, s.master) }

// unsetMaster takes a link off its bridge.
type unsetMaster struct{ dev string }

func (s unsetMaster) cmd() string { return "link set dev " + s.dev + " nomaster" }

// noLinkLocal keeps the kernel from giving a link an IPv6 link-local
// address; it must come before the link goes up.
type noLinkLocal struct{ dev string }

func (s noLinkLocal) cmd() string { return fmt.Sprintf("link set dev %s addrgenmode none", s.dev) }

// setUp brings a link up.
type setUp struct{ dev string }

func (s setUp) cmd() string { return fmt.Sprintf("link set dev %s up", s.dev) }

// addAddress adds an address the way networkd would: with its IPv4
// broadcast address, and IPv6 without duplicate address detection (the
// lab's addresses are planned; DAD would only delay the first ping).
type addAddress struct {
	dev    string
	prefix netip.Prefix
}

func (s addAddress) cmd() string {
	c := fmt.Sprintf("address add %s dev %s", s.prefix, s.dev)
	if s.prefix.Addr().Is4() && s.prefix.Bits() < 31 {
		c += " broadcast +"
	}
	if s.prefix.Addr().Is6() {
		c += " nodad"
	}
	return c
}

// addRoute adds a route through one link.
type addRoute struct {
	dev   string
	route generator.Route
	// table is the VRF's routing table, 0 for the main one.
	table int
}

func (s addRoute) cmd() string {
	rt := s.route
	c := "route add " + rt.To.String()
	if rt.Via.IsValid() {
		c += " via " + rt.Via.String()
	}
	c += " dev " + s.dev
	if rt.Metric != 0 {
		c += fmt.Sprintf(" metric %d", rt.Metric)
	}
	if rt.OnLink {
		c += " onlink"
	}
	if s.table != 0 {
		c += fmt.Sprintf(" table %d", s.table)
	}
	return c
}

// deleteLink deletes a link (a veth with its peer).
type deleteLink struct{ dev string }

func (s deleteLink) cmd() string { return "link delete dev " + s.dev }

// addPortVLAN puts a bridge port on a VLAN id or range (`bridge -batch`).
type addPortVLAN struct {
	dev   string
	entry generator.VLANEntry
}

func (s addPortVLAN) cmd() string {
	c := fmt.Sprintf("vlan add dev %s vid %s", s.dev, vidString(s.entry))
	if s.entry.PVID {
		c += " pvid"
	}
	if s.entry.Untagged {
		c += " untagged"
	}
	return c
}

// addSelfVLAN makes the bridge device itself a member of a VLAN, tagged,
// for its VLAN sub-interface, or as its PVID, untagged (`bridge -batch`).
type addSelfVLAN struct {
	bridge string
	vid    int
	pvid   bool
}

func (s addSelfVLAN) cmd() string {
	c := fmt.Sprintf("vlan add dev %s vid %d", s.bridge, s.vid)
	if s.pvid {
		c += " pvid untagged"
	}
	return c + " self"
}

// delPortVLAN takes a bridge port off a VLAN (`bridge -batch`).
type delPortVLAN struct {
	dev string
	vid int
}

func (s delPortVLAN) cmd() string { return fmt.Sprintf("vlan del dev %s vid %d", s.dev, s.vid) }

// stmt is one shell statement of a script, one line or more.
type stmt interface{ sh() []string }

// batch feeds its steps to one `ip`/`bridge` process from a here-document.
// ns "" is the host.
type batch struct {
	tool  string // "ip" or "bridge"
	ns    string
	force bool // teardown: a link that is already gone is not an error
	steps []step
}

func (b batch) sh() []string {
	if len(b.steps) == 0 {
		return nil
	}
	head := b.tool
	if b.ns != "" {
		head += " -n " + b.ns
	}
	if b.force {
		head += " -force"
	}
	head += " -batch - <<'EOF'"
	if b.force {
		head += " 2>/dev/null || :"
	}
	out := make([]string, 0, len(b.steps)+2)
	out = append(out, head)
	for _, s := range b.steps {
		out = append(out, s.cmd())
	}
	return append(out, "EOF")
}

// addNetns creates a namespace with a process of its own (when
// namespace-wide sysctls must come between it and the first link).
type addNetns struct{ name string }

func (s addNetns) sh() []string { return []string{"ip netns add " + s.name} }

// deleteNetns deletes a namespace; a stale /run/netns file (a crash between
// creating and mounting it) is removed too.
type deleteNetns struct{ name string }

func (s deleteNetns) sh() []string {
	return []string{fmt.Sprintf("ip netns delete %s 2>/dev/null || rm -f %s", s.name, netnsPath(s.name))}
}

func netnsPath(ns string) string { return "/run/netns/" + ns }

// setSysctls writes sysctls inside a namespace, with one process for all.
type setSysctls struct {
	ns   string
	list []generator.Sysctl
}

func (s setSysctls) sh() []string {
	if len(s.list) == 0 {
		return nil
	}
	var parts []string
	for _, sc := range s.list {
		parts = append(parts, fmt.Sprintf("echo %s >/proc/sys/%s", sc.Value, sc.Path))
	}
	if s.ns == "" {
		// The host's (forwarding for a masquerading host end).
		return parts
	}
	return []string{fmt.Sprintf("ip netns exec %s sh -ec '%s'", s.ns, strings.Join(parts, "; "))}
}

// waitForBridges waits for the unit's host bridges: nothing to do when
// networkd has configured them already (the BridgeWaitUnit ran first),
// else, as after a bridge was re-created, systemd-networkd-wait-online.
// One line while it stays short (maxMatchLine), else one test a line,
// collecting the bridges to wait for.
type waitForBridges struct{ bridges []string }

func (s waitForBridges) sh() []string {
	var checks []string
	args := ""
	for _, b := range s.bridges {
		checks = append(checks, "configured "+b)
		args += " -i " + b + ":no-carrier"
	}
	wait := WaitOnline + " -q --timeout=120"
	if line := strings.Join(checks, " && ") + " || " + wait + args; len(line) <= maxMatchLine {
		return []string{line}
	}
	out := []string{"w="}
	for _, b := range s.bridges {
		out = append(out, fmt.Sprintf(`configured %s || w="$w -i %s:no-carrier"`, b, b))
	}
	return append(out, `[ -z "$w" ] || `+wait+" $w")
}

// waitForPort waits until a host bridge has taken a port out of the
// "disabled" state (joinedFunc).
type waitForPort struct{ port string }

func (s waitForPort) sh() []string { return []string{"joined " + s.port} }

// ifNetns runs its body only when the namespace exists.
type ifNetns struct {
	ns   string
	body []stmt
}

func (s ifNetns) sh() []string {
	out := []string{fmt.Sprintf("if [ -e %s ]; then", netnsPath(s.ns))}
	for _, b := range s.body {
		out = append(out, b.sh()...)
	}
	return append(out, "fi")
}

// ifAnyLink runs its body only when any of the host links exists (sysfs
// lists the links of the namespace it was mounted in: the host's, where
// units run). The test is one line while it stays short, else one test a
// line (maxMatchLine).
type ifAnyLink struct {
	names []string
	body  []stmt
}

func (s ifAnyLink) sh() []string {
	var tests []string
	n := 0
	for _, name := range s.names {
		t := "[ -e /sys/class/net/" + name + " ]"
		tests = append(tests, t)
		n += len(t) + 4
	}
	var out []string
	if n <= maxMatchLine {
		out = []string{"if " + strings.Join(tests, " || ") + "; then"}
	} else {
		out = []string{"found="}
		for _, t := range tests {
			out = append(out, t+" && found=1 || :")
		}
		out = append(out, `if [ -n "$found" ]; then`)
	}
	for _, b := range s.body {
		out = append(out, b.sh()...)
	}
	return append(out, "fi")
}

// script is a unit's whole script: "start" runs down then up, "stop" runs
// down.
type script struct {
	unit string
	// configured and joined say which helper functions up needs.
	configured, joined bool
	down, up           []stmt
}

// lines renders the script, one line per element. No line is empty: an
// empty StandardInputText= would reset the text.
func (s *script) lines() []string {
	out := make([]string, 0, 64)
	add := func(lines ...string) { out = append(out, lines...) }
	// The unit's name unescaped: StandardInputText= would resolve a
	// `\x2d` anyway, and the write check keeps backslashes out of it.
	add(fmt.Sprintf("# %s: \"start\" builds from nothing, \"stop\" removes everything.", names.Unescape(s.unit)))
	if s.configured {
		add(configuredFunc...)
	}
	if s.joined {
		add(joinedFunc...)
	}
	add("down() {")
	for _, st := range s.down {
		add(st.sh()...)
	}
	add(":", "}", "up() {")
	for _, st := range s.up {
		add(st.sh()...)
	}
	add(":", "}")
	add(`case "$1" in`, "start) down; up ;;", "stop) down ;;", `*) echo "usage: start|stop" >&2; exit 2 ;;`, "esac")
	return out
}
