package schema

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/diag"
)

// A lab with `machines` is one lab for several machines. Each machine gets
// its part (Project): its namespaces, its root-namespace interfaces
// (written MACHINE:IFNAME) and bridges, and a VXLAN device wherever a veth
// or a bridge crosses to another machine. The part is a lab of one machine,
// validated and generated like any other.

// VXLANPort is the UDP port of every VXLAN the lab makes: IANA's (RFC 7348).
const VXLANPort = 4789

// Underlay overheads: the outer Ethernet, IP, UDP and VXLAN headers a
// frame carried over VXLAN gains (14+20+8+8 over IPv4, 14+40+8+8 over IPv6).
const (
	vxlanOverhead4 = 50
	vxlanOverhead6 = 70
)

// DefaultUnderlayMTU is a machine's underlay MTU when the lab says none.
const DefaultUnderlayMTU = 1500

var machineRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Machine is one machine of a lab with machines.
type Machine struct {
	Name        Str
	Underlay    IP
	UnderlayMTU Int
}

// MTU is the underlay MTU.
func (m *Machine) MTU() int {
	if m.UnderlayMTU.Set {
		return m.UnderlayMTU.Value
	}
	return DefaultUnderlayMTU
}

// MaxOverlayMTU is the largest MTU a frame carried over VXLAN from this
// machine may have without fragmenting on the underlay.
func (m *Machine) MaxOverlayMTU() int {
	if m.Underlay.Addr.Is6() {
		return m.MTU() - vxlanOverhead6
	}
	return m.MTU() - vxlanOverhead4
}

// Tunnel is a VXLAN device of one machine's part of a lab: a cable's end
// (on a Veth, in the end's namespace, named like the end) or a stretched
// bridge's port (in Lab.Tunnels, in the root namespace).
type Tunnel struct {
	// Name is the device's name, NS its namespace ("" for the root).
	NS, Name string
	VNI      int
	Port     int
	Local    netip.Addr
	// Remotes are the other machines' underlay addresses: one for a
	// cable (the VXLAN's remote), every other machine of a stretched
	// bridge (all-zero FDB entries: broadcast and unknown unicast go to
	// each, head-end replication).
	Remotes []netip.Addr
	// Bridge is the stretched bridge the device is a port of.
	Bridge string
	MTU    int
}

// machineKeys are the keys of a machine under `machines:`.
var machineKeys = keys([]string{"underlay", "underlay-mtu"})

func (d *decoder) machines(n *yaml.Node) []*Machine {
	var out []*Machine
	for _, e := range d.namedMap(n, "machines") {
		m := &Machine{Name: Str{Value: e.key, Pos: e.kpos, Set: true}}
		what := fmt.Sprintf("machine %q", e.key)
		d.fields(e.val, what, machineKeys, func(key string, v *yaml.Node, _ Pos) bool {
			switch key {
			case "underlay":
				m.Underlay = d.ip(v, "underlay")
			case "underlay-mtu":
				m.UnderlayMTU = d.int(v, "underlay-mtu")
			default:
				return false
			}
			return true
		})
		out = append(out, m)
	}
	return out
}

func (d *decoder) bridgeMachines(key string, v *yaml.Node, b *Bridge) {
	if key == "machine" {
		b.Machine = d.str(v, "machine")
		return
	}
	b.MachinesPos = pos(v)
	for _, c := range d.list(v, "machines") {
		if s := d.str(c, "a machine"); s.Set {
			b.Machines = append(b.Machines, s)
		}
	}
}

// machineLab is what the machine checks and the projection know of a lab.
type machineLab struct {
	lab      *Lab
	machines map[string]*Machine
	names    []string
	nsOn     map[string]string
}

func newMachineLab(lab *Lab) *machineLab {
	ml := &machineLab{lab: lab, machines: map[string]*Machine{}, nsOn: map[string]string{}}
	for _, m := range lab.Machines {
		if _, dup := ml.machines[m.Name.Value]; !dup {
			ml.machines[m.Name.Value] = m
			ml.names = append(ml.names, m.Name.Value)
		}
	}
	sort.Strings(ml.names)
	for _, ns := range lab.Namespaces {
		if _, ok := ml.nsOn[ns.Name.Value]; !ok {
			ml.nsOn[ns.Name.Value] = ns.Machine.Value
		}
	}
	return ml
}

// on returns the machine a reference is on and the reference as the
// machine sees it (MACHINE:IFNAME becomes IFNAME); "" when it is on none.
func (ml *machineLab) on(r Ref) (string, Ref) {
	if _, ok := ml.machines[r.NS]; ok {
		m := r.NS
		r.NS = ""
		return m, r
	}
	if r.NS == "" {
		return "", r
	}
	return ml.nsOn[r.NS], r
}

// bridgeOn lists the machines a bridge is on.
func (ml *machineLab) bridgeOn(b *Bridge) []string {
	if b.NS() != "" {
		return []string{ml.nsOn[b.NS()]}
	}
	if b.Machine.Set {
		return []string{b.Machine.Value}
	}
	var out []string
	for _, m := range b.Machines {
		out = append(out, m.Value)
	}
	return out
}

// Machines returns the names of a lab's machines, sorted.
func Machines(lab *Lab) []string { return newMachineLab(lab).names }

// VNI is the VXLAN network identifier of a cable or a stretched bridge: a
// hash of the lab's name and the object's (its two ends, sorted; the
// bridge's name), so that it depends on the lab alone, not on key order,
// and other labs' tunnels between the same machines get others.
// Collisions within the lab are an error (validateMachines).
func VNI(lab, object string) int {
	h := fnv.New32a()
	h.Write([]byte(lab + "\x00" + object))
	// 1..2^24-2: 0 and the all-ones VNI are kept out.
	return int(h.Sum32()%(1<<24-2)) + 1
}

// MaxVNI is the largest VNI (24 bits).
const MaxVNI = 1<<24 - 1

// tunnelID is the VNI and UDP port of a cable or a stretched bridge: those
// the lab gives, or the derived VNI and VXLANPort.
func tunnelID(lab, object string, k VXLANKeys) (vni, port int) {
	vni, port = VNI(lab, object), VXLANPort
	if k.VNI.Set {
		vni = k.VNI.Value
	}
	if k.Port.Set {
		port = k.Port.Value
	}
	return vni, port
}

// each calls f with each key that is given.
func (k VXLANKeys) each(f func(key string, i Int)) {
	if k.VNI.Set {
		f("vni", k.VNI)
	}
	if k.Port.Set {
		f("vxlan-port", k.Port)
	}
}

// checkVXLANKeys checks the range of a given VNI and UDP port.
func (v *validator) checkVXLANKeys(k VXLANKeys) {
	if k.VNI.Set && (k.VNI.Value < 1 || k.VNI.Value > MaxVNI) {
		v.errorf(k.VNI.Pos, "vni %d is out of range (1-%d)", k.VNI.Value, MaxVNI)
	}
	if k.Port.Set && (k.Port.Value < 1 || k.Port.Value > 65535) {
		v.errorf(k.Port.Pos, "vxlan-port %d is out of range (1-65535)", k.Port.Value)
	}
}

func cableObject(a, b Ref) string {
	s := []string{a.String(), b.String()}
	sort.Strings(s)
	return "cable\x00" + s[0] + "\x00" + s[1]
}

// StretchName is the name of a stretched bridge's VXLAN port on each
// machine: "vx-" and the bridge's name, or when that is too long, "vx-"
// and a hash of it.
func StretchName(bridge string) string {
	if n := "vx-" + bridge; len(n) <= MaxIfName {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(bridge))
	return fmt.Sprintf("vx-%08x", h.Sum32())
}

// validateMachines checks what is particular to a lab with machines, then
// each machine's part as a lab of its own.
func validateMachines(lab *Lab, diags *diag.List) *Index {
	ml := newMachineLab(lab)
	v := &validator{lab: lab, x: NewIndex(lab), d: diags}
	seen := map[string]Pos{}
	under := map[netip.Addr]string{}
	family := map[bool]string{}
	for _, m := range lab.Machines {
		name := m.Name.Value
		if p, dup := seen[name]; dup {
			v.errorf(m.Name.Pos, "machine %q is already defined", name).Hint = fmt.Sprintf("first defined at line %d", p.Line)
			continue
		}
		seen[name] = m.Name.Pos
		if msg := nameProblem(name, 63, machineRE, "a machine name", "a-z 0-9 -"); msg != "" {
			v.errorf(m.Name.Pos, "%s", msg).Hint = "a machine is named like its host name"
		}
		if name == HostNS {
			v.errorf(m.Name.Pos, "machine name %q is reserved", HostNS).Hint = "with machines, a root namespace is written MACHINE:IFNAME"
		}
		if _, clash := ml.nsOn[name]; clash {
			v.errorf(m.Name.Pos, "machine %q has the name of a namespace", name).Hint = "MACHINE:IFNAME and NAMESPACE:IFNAME must not be ambiguous: rename one"
		}
		if !m.Underlay.Set {
			v.errorf(m.Name.Pos, "machine %q has no `underlay` address", name).Hint = "the address the other machines reach it at, e.g. {underlay: 192.0.2.11}"
		} else {
			a := m.Underlay.Addr
			if other, dup := under[a]; dup {
				v.errorf(m.Underlay.Pos, "underlay %s is machine %q's already", a, other)
			}
			under[a] = name
			if other, ok := family[!a.Is4()]; ok {
				v.errorf(m.Underlay.Pos, "machine %q has an %s underlay and machine %q an %s one: VXLAN joins one family", name, fam(a.Is4()), other, fam(!a.Is4()))
			}
			if _, ok := family[a.Is4()]; !ok {
				family[a.Is4()] = name
			}
			if !a.IsGlobalUnicast() && !a.IsPrivate() {
				v.errorf(m.Underlay.Pos, "underlay %s is not a unicast address", a)
			}
		}
		if u := m.UnderlayMTU; u.Set && (u.Value < 1280 || u.Value > MaxMTU) {
			v.errorf(u.Pos, "underlay-mtu %d is out of range (1280-%d)", u.Value, MaxMTU)
		}
	}
	machine := func(s Str, what string) bool {
		if _, ok := ml.machines[s.Value]; ok {
			return true
		}
		dg := v.errorf(s.Pos, "%s is on machine %q, which is not defined", what, s.Value)
		if dg.Hint = diag.DidYouMean(s.Value, ml.names); dg.Hint == "" {
			dg.Hint = "declare it under `machines:`"
		}
		return false
	}
	for _, ns := range lab.Namespaces {
		if !ns.Machine.Set {
			v.errorf(ns.Name.Pos, "namespace %q says no `machine:`", ns.Name.Value).Hint = fmt.Sprintf("in a lab with machines, each namespace is on one of them (%s)", strings.Join(ml.names, ", "))
			continue
		}
		machine(ns.Machine, fmt.Sprintf("namespace %q", ns.Name.Value))
	}
	for _, b := range lab.Bridges {
		what := fmt.Sprintf("bridge %q", b.Name.Value)
		switch {
		case b.NS() != "" && (b.Machine.Set || b.Machines != nil):
			p := b.Machine.Pos
			if !b.Machine.Set {
				p = b.MachinesPos
			}
			v.errorf(p, "%s is in namespace %q and so on that namespace's machine", what, b.NS()).Hint = "leave `machine`/`machines` out of a bridge in a namespace"
		case b.NS() != "":
		case b.Machine.Set && b.Machines != nil:
			v.errorf(b.MachinesPos, "%s says both `machine` and `machines`", what).Hint = "one machine: `machine: M`; stretched over several: `machines: [M1, M2]`"
		case b.Machine.Set:
			machine(b.Machine, what)
		case b.Machines != nil:
			dup := map[string]bool{}
			for _, m := range b.Machines {
				if dup[m.Value] {
					v.errorf(m.Pos, "machine %q is listed twice", m.Value)
				}
				dup[m.Value] = true
				machine(m, what)
			}
			if len(b.Machines) > 1 {
				if b.VLANFiltering.Value {
					v.errorf(b.VLANFiltering.Pos, "%s is stretched over machines and VLAN-filtering: not supported yet", what).Hint = "its VXLAN port would carry only the default VLAN; use one bridge per VLAN"
				}
				if b.MTU.Set {
					if max := ml.maxMTU(ml.bridgeOn(b)); b.MTU.Value > max {
						v.errorf(b.MTU.Pos, "%s is stretched over machines: its MTU %d is larger than the underlay carries (%d)", what, b.MTU.Value, max).Hint = "VXLAN adds 50 bytes (70 over IPv6) to every frame; lower mtu or raise underlay-mtu"
					}
				}
			}
		default:
			v.errorf(b.Name.Pos, "%s says no `machine:` or `machines:`", what).Hint = "in a lab with machines, a root-namespace bridge is on one machine (`machine: M`) or stretched (`machines: [M1, M2]`)"
		}
	}
	// References: each on a machine.
	ref := func(r Ref, what string) string {
		if !r.Set {
			return ""
		}
		if _, ok := ml.machines[r.NS]; ok {
			return r.NS
		}
		if r.NS == "" {
			dg := v.errorf(r.Pos, "%s %q: which machine? In a lab with machines, a root namespace is written MACHINE:IFNAME", what, r.If)
			dg.Hint = fmt.Sprintf("e.g. %s:%s", ml.first(), r.If)
			return ""
		}
		if m, ok := ml.nsOn[r.NS]; ok {
			return m
		}
		dg := v.errorf(r.NSPos, "%q is neither a namespace nor a machine", r.NS)
		dg.Hint = diag.DidYouMean(r.NS, append(append([]string(nil), ml.names...), v.x.NamespaceNames()...))
		return ""
	}
	bridgeOnMachine := func(p *Port, ns, m string, what string) {
		if !p.Bridge.Set || m == "" {
			return
		}
		for _, b := range v.x.BridgeNames[p.Bridge.Value] {
			if b.NS() != ns {
				continue
			}
			for _, bm := range ml.bridgeOn(b) {
				if bm == m {
					return
				}
			}
			v.errorf(p.Bridge.Pos, "%s is on machine %q, bridge %q is not", what, m, p.Bridge.Value).Hint = fmt.Sprintf("a bridge port is on the bridge's machine: add %q to the bridge's `machines`", m)
		}
	}
	// A machine's VXLAN devices share one UDP socket per port in its root
	// namespace (the kernel keeps a VXLAN's socket where the device was
	// made), which hands each packet to the device of its VNI: on one
	// machine, no two tunnels may have the same VNI and port.
	type tunnelKey struct{ vni, port int }
	type tunnelUse struct {
		label string
		given bool
		pos   Pos
	}
	uses := map[string]map[tunnelKey]tunnelUse{}
	reported := map[[2]string]bool{}
	tunnel := func(obj string, k VXLANKeys, p Pos, label string, on []string) {
		vni, port := tunnelID(lab.Name.Value, obj, k)
		if k.VNI.Set {
			p = k.VNI.Pos
		}
		for _, m := range on {
			if uses[m] == nil {
				uses[m] = map[tunnelKey]tunnelUse{}
			}
			key := tunnelKey{vni, port}
			this := tunnelUse{label, k.VNI.Set || k.Port.Set, p}
			other, dup := uses[m][key]
			if !dup {
				uses[m][key] = this
				continue
			}
			if reported[[2]string{other.label, label}] {
				continue
			}
			reported[[2]string{other.label, label}] = true
			// Reported at the later of the two in the file.
			if other.pos.Line > p.Line || other.pos.Line == p.Line && other.pos.Col > p.Col {
				this, other = other, this
			}
			dg := v.errorf(this.pos, "%s has VNI %d on UDP port %d, as %s does on machine %q", this.label, vni, port, other.label, m)
			if this.given || other.given {
				dg.Hint = "a machine tells its VXLAN tunnels apart by VNI and port: give another `vni` (or `vxlan-port`)"
			} else {
				dg.Hint = "a hash collision of the two names: rename one of them, or give one a `vni`"
			}
		}
	}
	notTunnel := func(k VXLANKeys, why, hint string) {
		k.each(func(key string, i Int) { v.errorf(i.Pos, "`%s`: %s", key, why).Hint = hint })
	}
	for _, veth := range lab.Veths {
		v.checkVXLANKeys(veth.VXLAN)
	}
	for _, b := range lab.Bridges {
		v.checkVXLANKeys(b.VXLAN)
	}
	for _, veth := range lab.Veths {
		var ms [2]string
		for i, e := range veth.Ends {
			if e == nil {
				continue
			}
			ms[i] = ref(e.Name, "interface")
			_, local := ml.on(e.Name)
			bridgeOnMachine(&e.Port, local.NS, ms[i], e.Name.String())
		}
		if ms[0] == "" || ms[1] == "" {
			continue
		}
		if ms[0] == ms[1] {
			notTunnel(veth.VXLAN, fmt.Sprintf("both ends of this cable are on machine %q: it is a veth, not a VXLAN tunnel", ms[0]), "`vni` and `vxlan-port` are for a cable between two machines")
			continue
		}
		max := ml.maxMTU(ms[:])
		for _, e := range veth.Ends {
			if e.External.Value {
				v.errorf(e.External.Pos, "%s is external, but its cable runs over VXLAN to another machine", e.Name).Hint = "an external end must be on the same machine as its peer"
			}
			if e.MTU.Set && e.MTU.Value > max {
				v.errorf(e.MTU.Pos, "%s is on a cable between machines %q and %q: MTU %d is larger than the underlay carries (%d)", e.Name, ms[0], ms[1], e.MTU.Value, max).Hint = "VXLAN adds 50 bytes (70 over IPv6) to every frame; lower mtu or raise underlay-mtu"
			}
		}
		if veth.MTU.Set && veth.MTU.Value > max {
			v.errorf(veth.MTU.Pos, "this cable runs between machines %q and %q: MTU %d is larger than the underlay carries (%d)", ms[0], ms[1], veth.MTU.Value, max).Hint = "VXLAN adds 50 bytes (70 over IPv6) to every frame; lower mtu or raise underlay-mtu"
		}
		tunnel(cableObject(veth.Ends[0].Name, veth.Ends[1].Name), veth.VXLAN, veth.Pos, fmt.Sprintf("the cable %s—%s", veth.Ends[0].Name, veth.Ends[1].Name), ms[:])
	}
	for _, b := range lab.Bridges {
		if b.NS() != "" || len(b.Machines) < 2 {
			notTunnel(b.VXLAN, fmt.Sprintf("bridge %q is on one machine: it has no VXLAN port", b.Name.Value), "`vni` and `vxlan-port` are for a bridge stretched over machines (`machines: [M1, M2]`)")
		}
		if b.NS() == "" && len(b.Machines) > 1 {
			var on []string
			for _, m := range b.Machines {
				on = append(on, m.Value)
			}
			tunnel("bridge\x00"+b.Name.Value, b.VXLAN, b.Name.Pos, fmt.Sprintf("bridge %q", b.Name.Value), on)
			name := StretchName(b.Name.Value)
			for _, m := range b.Machines {
				if i, taken := v.x.Ifaces[Key{m.Value, name}]; taken {
					v.errorf(i.Pos, "%s:%s is the name of bridge %q's VXLAN port on machine %q", m.Value, name, b.Name.Value, m.Value).Hint = "rename the interface"
				}
			}
		}
	}
	for _, t := range lab.Taps {
		m := ref(t.Name, "tap")
		_, local := ml.on(t.Name)
		bridgeOnMachine(&t.Port, local.NS, m, t.Name.String())
	}
	for _, vl := range lab.VLANs {
		ref(vl.Parent, "parent")
	}
	for _, u := range lab.Uplinks {
		if !u.Interface.Set {
			if u.MAC.Set {
				v.errorf(u.MAC.Pos, "an uplink matched by MAC: which machine?").Hint = "with machines, name the uplink's interface: `interface: MACHINE:IFNAME`"
			}
			continue
		}
		r := uplinkRef(u)
		if m := ref(r, "uplink"); m != "" {
			if r.NS != m {
				v.errorf(u.Interface.Pos, "an uplink is a root-namespace interface: write MACHINE:IFNAME").Hint = fmt.Sprintf("e.g. %s:%s", m, r.If)
			}
			bridgeOnMachine(&u.Port, "", m, u.Interface.Value)
		}
	}
	if diags.HasErrors() {
		// A part of a lab that is wrong as a whole would only repeat the
		// errors above in other words.
		return v.x
	}
	for _, m := range ml.names {
		Validate(Project(lab, m), diags)
	}
	return v.x
}

func uplinkRef(u *Uplink) Ref {
	r := Ref{Pos: u.Interface.Pos, NSPos: u.Interface.Pos, IfPos: u.Interface.Pos, Set: true}
	if ns, ifname, ok := strings.Cut(u.Interface.Value, ":"); ok {
		r.NS, r.If = ns, ifname
	} else {
		r.If = u.Interface.Value
	}
	return r
}

func fam(is4 bool) string {
	if is4 {
		return "IPv4"
	}
	return "IPv6"
}

func (ml *machineLab) first() string {
	if len(ml.names) == 0 {
		return "MACHINE"
	}
	return ml.names[0]
}

// maxMTU is the largest overlay MTU every one of the machines carries.
func (ml *machineLab) maxMTU(ms []string) int {
	max := MaxMTU
	for _, n := range ms {
		if m, ok := ml.machines[n]; ok && m.MaxOverlayMTU() < max {
			max = m.MaxOverlayMTU()
		}
	}
	return max
}

// noMachineKeys reports `machine:`/`machines:` in a lab without machines.
func (v *validator) noMachineKeys() {
	if v.lab.Part != "" {
		return
	}
	hint := "declare the lab's machines under `machines:` first"
	for _, ns := range v.lab.Namespaces {
		if ns.Machine.Set {
			v.errorf(ns.Machine.Pos, "namespace %q is on machine %q, but the lab has no `machines`", ns.Name.Value, ns.Machine.Value).Hint = hint
		}
	}
	vxlan := func(k VXLANKeys) {
		k.each(func(key string, i Int) {
			v.errorf(i.Pos, "`%s` is for a VXLAN tunnel between machines, but the lab has no `machines`", key).Hint = hint
		})
	}
	for _, veth := range v.lab.Veths {
		vxlan(veth.VXLAN)
	}
	for _, b := range v.lab.Bridges {
		vxlan(b.VXLAN)
	}
	for _, b := range v.lab.Bridges {
		switch {
		case b.Machine.Set:
			v.errorf(b.Machine.Pos, "bridge %q is on machine %q, but the lab has no `machines`", b.Name.Value, b.Machine.Value).Hint = hint
		case b.Machines != nil:
			v.errorf(b.MachinesPos, "bridge %q is on machines, but the lab has no `machines`", b.Name.Value).Hint = hint
		}
	}
}

// Project returns machine m's part of a lab with machines that passed
// validation: a lab of one machine, whose cables to other machines end in
// VXLAN devices (Veth.Tunnel) and whose stretched bridges have a VXLAN port
// (Lab.Tunnels). Nothing of the lab given is changed.
func Project(lab *Lab, m string) *Lab {
	ml := newMachineLab(lab)
	me := ml.machines[m]
	out := &Lab{File: lab.File, Version: lab.Version, Name: lab.Name, Part: m}
	if me == nil {
		return out
	}
	for _, ns := range lab.Namespaces {
		if ns.Machine.Value == m {
			out.Namespaces = append(out.Namespaces, ns)
		}
	}
	for _, b := range lab.Bridges {
		on := ml.bridgeOn(b)
		if !slices.Contains(on, m) {
			continue
		}
		if b.NS() != "" || len(on) < 2 {
			out.Bridges = append(out.Bridges, b)
			continue
		}
		c := *b
		if !c.MTU.Set {
			c.MTU = Int{Value: ml.maxMTU(on), Pos: b.Name.Pos, Set: true}
		}
		if !c.MAC.Set {
			c.MAC = Str{Value: machineMAC(lab.Name.Value, m, b.Name.Value), Pos: b.Name.Pos, Set: true}
		}
		out.Bridges = append(out.Bridges, &c)
		vni, port := tunnelID(lab.Name.Value, "bridge\x00"+b.Name.Value, b.VXLAN)
		t := &Tunnel{Name: StretchName(b.Name.Value), VNI: vni, Port: port, Local: me.Underlay.Addr, Bridge: b.Name.Value, MTU: c.MTU.Value}
		for _, o := range on {
			if o != m {
				t.Remotes = append(t.Remotes, ml.machines[o].Underlay.Addr)
			}
		}
		out.Tunnels = append(out.Tunnels, t)
	}
	end := func(e *End) *End {
		c := *e
		_, c.Name = ml.on(e.Name)
		return &c
	}
	for _, v := range lab.Veths {
		ma, _ := ml.on(v.Ends[0].Name)
		mb, _ := ml.on(v.Ends[1].Name)
		switch {
		case ma == m && mb == m:
			c := *v
			c.Ends = [2]*End{end(v.Ends[0]), end(v.Ends[1])}
			out.Veths = append(out.Veths, &c)
		case ma == m || mb == m:
			local, remote := v.Ends[0], mb
			if mb == m {
				local, remote = v.Ends[1], ma
			}
			c := *v
			e := end(local)
			mtu := ml.maxMTU([]string{m, remote})
			if !e.MTU.Set && !v.MTU.Set {
				// Unset, a VXLAN's MTU is its underlay device's less the
				// overhead; there is no underlay device here: set it.
				e.MTU = Int{Value: mtu, Pos: e.Pos, Set: true}
			}
			if e.Name.NS == "" && !e.MAC.Set {
				// networkd makes it: see machineMAC.
				e.MAC = Str{Value: machineMAC(lab.Name.Value, m, e.Name.If), Pos: e.Pos, Set: true}
			}
			c.Ends = [2]*End{e, nil}
			vni, port := tunnelID(lab.Name.Value, cableObject(v.Ends[0].Name, v.Ends[1].Name), v.VXLAN)
			c.Tunnel = &Tunnel{NS: e.Name.NS, Name: e.Name.If, VNI: vni, Port: port, Local: me.Underlay.Addr,
				Remotes: []netip.Addr{ml.machines[remote].Underlay.Addr}}
			out.Veths = append(out.Veths, &c)
		}
	}
	for _, t := range lab.Taps {
		if tm, r := ml.on(t.Name); tm == m {
			c := *t
			c.Name = r
			out.Taps = append(out.Taps, &c)
		}
	}
	for _, vl := range lab.VLANs {
		if vm, r := ml.on(vl.Parent); vm == m {
			c := *vl
			c.Parent = r
			out.VLANs = append(out.VLANs, &c)
		}
	}
	for _, u := range lab.Uplinks {
		if !u.Interface.Set {
			continue
		}
		if um, r := ml.on(uplinkRef(u)); um == m {
			c := *u
			c.Interface.Value = r.If
			out.Uplinks = append(out.Uplinks, &c)
		}
	}
	return out
}

// Flatten returns a lab with machines as one lab of namespaces, for
// working out what the whole lab implies (`netgen test` pings addresses on
// other machines too): each machine's root namespace is a namespace named
// like the machine (MACHINE:IFNAME already reads as one), a bridge on a
// machine is in that namespace, and a stretched bridge is one bridge in
// each, joined by veths from its first machine to each other one (the
// flooding mesh joins the same segment). Uplinks, which lead out of the
// lab, are left out. The result is for the reachability model only: it is
// not validated and never built.
func Flatten(lab *Lab) *Lab {
	ml := newMachineLab(lab)
	out := &Lab{File: lab.File, Version: lab.Version, Name: lab.Name,
		Namespaces: append([]*Namespace(nil), lab.Namespaces...), Veths: append([]*Veth(nil), lab.Veths...),
		Taps: lab.Taps, VLANs: lab.VLANs}
	for _, m := range ml.names {
		out.Namespaces = append(out.Namespaces, &Namespace{Name: Str{Value: m, Set: true}})
	}
	for bi, b := range lab.Bridges {
		if b.NS() != "" {
			out.Bridges = append(out.Bridges, b)
			continue
		}
		on := ml.bridgeOn(b)
		for i, m := range on {
			c := *b
			c.Namespace = Str{Value: m, Set: true}
			out.Bridges = append(out.Bridges, &c)
			if i == 0 {
				continue
			}
			// Named after the far machine, as `graph` shows them.
			end := func(ns, far string) *End {
				name := "vxlan-" + far
				if len(name) > MaxIfName {
					name = fmt.Sprintf("vxlan%d-%d", bi, i)
				}
				return &End{Name: Ref{NS: ns, If: name, Set: true}, Port: Port{Bridge: Str{Value: b.Name.Value, Set: true}}}
			}
			out.Veths = append(out.Veths, &Veth{Ends: [2]*End{end(on[0], m), end(m, on[0])}})
		}
	}
	return out
}

// machineMAC is the MAC address of a stretched bridge, or of a cable's
// VXLAN end in a root namespace, on one machine when the lab gives none: locally administered, from a hash of the lab, the
// machine and the bridge. networkd would derive one from the machine ID and
// the name, the same on machines cloned from one image (as the test's
// containers are): the bridges of one segment then share a MAC, and the
// root namespace of a machine, answering ARP on the bridge device too
// (Linux's weak host model), hands out a MAC that every other machine
// takes for its own. Measured: the ping from c on m3 to m2's root
// namespace on the stretched switch failed until the MACs differed.
func machineMAC(lab, machine, name string) string {
	h := fnv.New64a()
	h.Write([]byte(lab + "\x00" + machine + "\x00" + name))
	b := h.Sum64()
	mac := []byte{byte(b>>40)&0xfe | 0x02, byte(b >> 32), byte(b >> 24), byte(b >> 16), byte(b >> 8), byte(b)}
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5])
}
