// Package status holds a lab against the running system: Compare, for
// `netgen status`, is the one definition of "as the lab says" that the test
// tiers use too (internal/testkit/expect adapts what they collect), and
// Probe, for `netgen test`, pings what internal/reach derives from inside
// the namespaces.
//
// Every object of the plan (namespace, link with its settings, route,
// impairment, wire, sysctl, unit) is present and as the lab says, different (each property
// that differs, with what the lab wants and what the system has), or
// missing; objects the system holds in the lab's name that the lab does not
// have (links in its namespaces, or units, namespaces and host devices its
// previous build left) are leftovers.
//
// The system is read in-process (Read): one netlink socket per namespace,
// one dump each of links, addresses, routes and qdiscs (and of port VLANs,
// the FDB and each wire end's filters where the lab has them), so a
// 200-namespace lab is read in milliseconds rather than by hundreds of `ip`
// processes.
package status

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/names"
	"github.com/netgen-lab/netgen/schema"
)

// Namespace is what one namespace holds.
type Namespace struct {
	Links  []*Link
	Routes []Route
	// Sysctls are the values read, by /proc/sys-relative path.
	Sysctls map[string]string
	// VLANsRead says the port VLANs were read (Link.VLANs is meaningful);
	// QdiscsRead the same of Link.Netem and Link.Redirect, FDBRead of
	// VXLANInfo.FDB.
	VLANsRead, QdiscsRead, FDBRead bool
	// Err is a failure to read it.
	Err string
}

// Link is one network interface as the kernel reports it.
type Link struct {
	Name string
	// Kind is the kernel's link kind ("veth", "bridge", "tun", "vlan"; ""
	// for a physical NIC or lo); TunType is "tap" or "tun" for a tun.
	Kind, TunType string
	Master        string
	MTU           int
	MAC           string
	Up            bool
	// Addrs are the addresses other than IPv6 link-local ones, which are
	// in LinkLocal.
	Addrs, LinkLocal []netip.Prefix
	VLANID           int
	Bridge           *Bridge
	// VLANs are the port's (or the bridge's own) VLANs.
	VLANs []PortVLAN
	// BondMode is a bond's mode in the kernel's words ("802.3ad");
	// VRFTable a VRF's table.
	BondMode string
	VRFTable int
	// Port is a bridge port's settings; nil when not read.
	Port *PortInfo
	// BondOpts are a bond's other settings; VXLAN a VXLAN device's.
	BondOpts *BondInfo
	VXLAN    *VXLANInfo
	// Netem is the root netem qdisc, nil for none; Redirect the link an
	// ingress matchall filter redirects every frame to ("" for none): a
	// wire's end. Both are read only where Request.Qdiscs says so
	// (Namespace.QdiscsRead).
	Netem    *schema.NetemValues
	Redirect string
	index    int
}

// PortInfo is what a bridge port's `port:` settings set.
type PortInfo struct {
	Cost, Priority                                           int
	Isolated, Learning, Flood, Hairpin, BPDUGuard, RootGuard bool
}

// Bridge holds a bridge's settings; times are in hundredths of a second,
// as the kernel reports them.
type Bridge struct {
	STP, VLANFiltering                          bool
	DefaultPVID, Priority, GroupFwdMask         int
	ForwardDelay, HelloTime, MaxAge, AgeingTime int
	// NonRoot: STP runs and another bridge is the root. Such a bridge runs
	// on the root's forward delay, hello time and max age, and the kernel
	// reports those (IFLA_BR_HELLO_TIME is br->hello_time, not the
	// configured br->bridge_hello_time), so its own are not to be seen.
	NonRoot bool
}

// PortVLAN is one VLAN of a bridge port.
type PortVLAN struct {
	ID             int
	PVID, Untagged bool
}

// Route is a route of the main table.
type Route struct {
	To     netip.Prefix
	Via    netip.Addr
	Dev    string
	Metric int
	// Proto is the rtnetlink protocol: 2 kernel, 3 boot (ip route add),
	// 4 static (networkd).
	Proto  int
	OnLink bool
	// Table is the routing table (254 or 0: main).
	Table int
}

// Unit is a unit's state as systemd reports it.
type Unit struct {
	Load, Active string
}

// Previous is what the lab's previous build put on the system (its install
// record, or the files that name the lab): what no longer in the lab is a
// leftover if it still runs or exists.
type Previous struct {
	Units, Namespaces, HostDevices []string
}

// System is the running system as far as a lab is concerned.
type System struct {
	// Namespaces maps a namespace ("" for the host) to what it holds; nil
	// for a namespace that does not exist.
	Namespaces map[string]*Namespace
	// Units are the states of the lab's units (and of those of Previous);
	// nil when systemd could not be asked, with UnitsErr saying why.
	Units    map[string]Unit
	UnitsErr string
	Previous Previous
	// LinksOnly compares namespaces and links only (the test tiers collect
	// no more than that).
	LinksOnly bool
}

// States of an object.
const (
	OK        = "ok"
	Different = "different"
	Missing   = "missing"
	Leftover  = "leftover"
)

// Object is one object of the lab, or a leftover, and how it is.
type Object struct {
	// Kind is "namespace", "link", "route", "qdisc", "wire", "sysctl" or
	// "unit".
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Namespace is where the object is, "" for the host.
	Namespace   string       `json:"namespace,omitempty"`
	State       string       `json:"state"`
	Differences []Difference `json:"differences,omitempty"`
	// Detail says more: why it is missing, or what it is.
	Detail string `json:"detail,omitempty"`
}

// Difference is one property that is not as the lab says.
type Difference struct {
	Property string `json:"property"`
	Want     string `json:"want"`
	Have     string `json:"have"`
}

func (d Difference) String() string {
	return fmt.Sprintf("%s %s, want %s", d.Property, orNone(d.Have), orNone(d.Want))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Report is the comparison of a lab with the system.
type Report struct {
	Lab string `json:"lab"`
	// OK is true when every object is as the lab says and nothing is left over.
	OK      bool     `json:"ok"`
	Counts  Counts   `json:"counts"`
	Objects []Object `json:"objects"`
	// Units says why units were not checked, when they were not.
	UnitsNotChecked string `json:"units_not_checked,omitempty"`
}

// Counts are the number of objects in each state.
type Counts struct {
	OK        int `json:"ok"`
	Different int `json:"different"`
	Missing   int `json:"missing"`
	Leftover  int `json:"leftover"`
}

// Problems returns one line per object that is not as the lab says.
func (r *Report) Problems() []string {
	var out []string
	for _, o := range r.Objects {
		if o.State != OK {
			out = append(out, o.Line())
		}
	}
	return out
}

// Line describes an object on one line: "link vmh1: master none, want virbr4".
func (o Object) Line() string {
	s := o.Kind + " " + o.Name + ": " + o.State
	if len(o.Differences) > 0 {
		parts := make([]string, len(o.Differences))
		for i, d := range o.Differences {
			parts[i] = d.String()
		}
		s = o.Kind + " " + o.Name + ": " + strings.Join(parts, "; ")
	}
	if o.Detail != "" {
		s += " (" + o.Detail + ")"
	}
	return s
}

// Namespaces returns the namespaces a plan's comparison reads: the host,
// the lab's, and those its previous build had.
func Namespaces(p *generator.Plan, prev Previous) []string {
	out := []string{""}
	for _, u := range p.Units {
		if u.Kind == generator.NamespaceUnit {
			out = append(out, u.Namespaces[0])
		}
	}
	for _, ns := range prev.Namespaces {
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out
}

// Want is what to read for a plan: its namespaces (the qdiscs of each),
// their sysctls, which namespaces have ports with VLANs or VXLAN devices
// with flooding entries, and the wire ends whose filters to read.
func Want(p *generator.Plan, prev Previous) Request {
	req := Request{Namespaces: Namespaces(p, prev), Sysctls: map[string][]string{}, VLANs: map[string]bool{},
		Qdiscs: map[string]bool{}, Wires: map[string][]string{}, FDB: map[string]bool{}}
	for _, ns := range req.Namespaces {
		req.Qdiscs[ns] = true
	}
	for _, w := range p.Wires {
		req.Wires[w.NS()] = append(req.Wires[w.NS()], w.A.Name, w.B.Name)
	}
	for _, sc := range p.Sysctls() {
		req.Sysctls[sc.NS] = append(req.Sysctls[sc.NS], sc.Path)
	}
	for _, l := range p.Links {
		if l.PortVLANs != nil {
			req.VLANs[l.NS] = true
		}
		if l.VXLAN != nil && len(l.VXLAN.FDB) > 0 {
			req.FDB[l.NS] = true
		}
	}
	return req
}

// Units returns the lab's unit names: every unit and the target.
func Units(p *generator.Plan) []string {
	var out []string
	for _, u := range p.Units {
		out = append(out, u.Name)
	}
	for _, sv := range p.Services {
		out = append(out, sv.Unit)
	}
	if p.Target != "" {
		out = append(out, p.Target)
	}
	return out
}

// Compare compares a plan with the system.
func Compare(p *generator.Plan, sys *System) *Report {
	c := &comparer{p: p, sys: sys, r: &Report{Lab: p.Lab}}
	c.namespaces()
	c.links()
	if !sys.LinksOnly {
		c.routes()
		c.qdiscs()
		c.wires()
		c.sysctls()
		c.units()
		c.leftovers()
	}
	for _, o := range c.r.Objects {
		switch o.State {
		case OK:
			c.r.Counts.OK++
		case Different:
			c.r.Counts.Different++
		case Missing:
			c.r.Counts.Missing++
		case Leftover:
			c.r.Counts.Leftover++
		}
	}
	c.r.OK = c.r.Counts.Different+c.r.Counts.Missing+c.r.Counts.Leftover == 0
	return c.r
}

type comparer struct {
	p   *generator.Plan
	sys *System
	r   *Report
}

func (c *comparer) add(o Object) { c.r.Objects = append(c.r.Objects, o) }

func nsLabel(ns string) string {
	if ns == "" {
		return "the host namespace"
	}
	return "namespace " + ns
}

func (c *comparer) namespaces() {
	for _, u := range c.p.Units {
		if u.Kind != generator.NamespaceUnit {
			continue
		}
		ns := u.Namespaces[0]
		o := Object{Kind: "namespace", Name: ns, Namespace: ns, State: OK}
		switch n := c.sys.Namespaces[ns]; {
		case n == nil:
			o.State, o.Detail = Missing, "no /run/netns/"+ns
		case n.Err != "":
			o.State, o.Detail = Different, n.Err
		}
		c.add(o)
	}
}

// find returns the link of a namespace by name, or (for an uplink matched
// by MAC) by MAC.
func (c *comparer) find(l *generator.Link) *Link {
	n := c.sys.Namespaces[l.NS]
	if n == nil {
		return nil
	}
	for _, s := range n.Links {
		if l.MatchMAC != "" && strings.EqualFold(s.MAC, l.MatchMAC) || l.MatchMAC == "" && s.Name == l.Name {
			return s
		}
	}
	return nil
}

// kernelKind is the kernel's kind for a lab kind ("" for any).
func kernelKind(k schema.Kind) string {
	switch k {
	case schema.KindTap:
		return "tun"
	case schema.KindUplink:
		return ""
	}
	return k.String()
}

func linkName(l *generator.Link) string {
	if l.MatchMAC != "" {
		return "uplink " + l.MatchMAC
	}
	return l.Label()
}

func (c *comparer) links() {
	for _, l := range c.p.Links {
		o := Object{Kind: "link", Name: linkName(l), Namespace: l.NS, State: OK}
		s := c.find(l)
		if s == nil {
			o.State, o.Detail = Missing, "no such link in "+nsLabel(l.NS)
			if c.sys.Namespaces[l.NS] == nil {
				o.Detail = nsLabel(l.NS) + " is missing"
			}
			c.add(o)
			continue
		}
		o.Differences = c.linkDiffs(l, s)
		if len(o.Differences) > 0 {
			o.State = Different
		} else if !l.External && l.Kind != schema.KindUplink {
			// Its addresses, automatic ones (pools) included: what a
			// user of the lab most often looks for.
			o.Detail = planAddrs(l)
		}
		c.add(o)
	}
}

func (c *comparer) linkDiffs(l *generator.Link, s *Link) []Difference {
	var out []Difference
	diff := func(prop, want, have string) {
		if want != have {
			out = append(out, Difference{prop, want, have})
		}
	}
	if k := kernelKind(l.Kind); k != "" {
		diff("kind", k, s.Kind)
	}
	if l.Kind == schema.KindTap && s.TunType != "" {
		diff("tun type", "tap", s.TunType)
	}
	if !l.External {
		// An external end is another program's: its master and
		// addresses are that program's business.
		want := ""
		switch {
		case l.Bond != nil:
			want = l.Bond.Name
		case l.Master != nil:
			want = l.Master.Name
		case l.VRF != nil:
			want = l.VRF.Name
		}
		diff("master", want, s.Master)
	}
	kernelObjectDiffs(l, s, diff)
	memberDiffs(l, c.sys.Namespaces[l.NS], diff)
	fdbDiffs(l, s, c.sys.Namespaces[l.NS], diff)
	if l.MTU != 0 {
		diff("MTU", strconv.Itoa(l.MTU), strconv.Itoa(s.MTU))
	}
	if l.MAC != "" {
		diff("MAC", strings.ToLower(l.MAC), strings.ToLower(s.MAC))
	}
	diff("state", "up", map[bool]string{true: "up", false: "down"}[s.Up])
	if !l.External && l.Kind != schema.KindUplink {
		diff("addresses", planAddrs(l), prefixes(s.Addrs))
		if !l.LinkLocal && len(s.LinkLocal) > 0 {
			diff("IPv6 link-local address", "", s.LinkLocal[0].String())
		}
	}
	if b := l.Bridge; b != nil && s.Bridge != nil {
		o := s.Bridge
		diff("STP", onOff(b.STP), onOff(o.STP))
		diff("VLAN filtering", onOff(b.VLANFiltering), onOff(o.VLANFiltering))
		seconds := func(prop string, want *int, have int) {
			if want != nil {
				diff(prop, strconv.Itoa(*want*100), strconv.Itoa(have))
			}
		}
		if !o.NonRoot {
			seconds("forward delay (1/100 s)", b.ForwardDelay, o.ForwardDelay)
			seconds("hello time (1/100 s)", b.HelloTime, o.HelloTime)
			seconds("max age (1/100 s)", b.MaxAge, o.MaxAge)
		}
		seconds("ageing time (1/100 s)", b.AgeingTime, o.AgeingTime)
		if b.Priority != nil {
			diff("priority", strconv.Itoa(*b.Priority), strconv.Itoa(o.Priority))
		}
		if b.GroupForwardMask != nil {
			diff("group forward mask", fmt.Sprintf("%#x", *b.GroupForwardMask), fmt.Sprintf("%#x", o.GroupFwdMask))
		}
		if pvid, ok := b.KernelDefaultPVID(); ok {
			diff("default PVID", strconv.Itoa(pvid), strconv.Itoa(o.DefaultPVID))
		}
	}
	if l.Kind == schema.KindVLAN && s.Kind == "vlan" {
		diff("VLAN id", strconv.Itoa(l.VID), strconv.Itoa(s.VLANID))
	}
	if n := c.sys.Namespaces[l.NS]; l.PortVLANs != nil && n != nil && n.VLANsRead {
		diff("port VLANs", wantVLANs(l.PortVLANs), haveVLANs(s.VLANs))
	}
	if n := c.sys.Namespaces[l.NS]; l.Bridge != nil && l.Bridge.SelfPVID() != 0 && n != nil && n.VLANsRead {
		// A bridge given its own VLANs explicitly (no default PVID from
		// the kernel): its default VLAN untagged, its SVIs' tagged.
		own := &generator.PortVLANs{Entries: []generator.VLANEntry{{From: l.Bridge.SelfPVID(), To: l.Bridge.SelfPVID(), PVID: true, Untagged: true}}}
		for _, vid := range l.Bridge.SelfVLANs {
			own.Entries = append(own.Entries, generator.VLANEntry{From: vid, To: vid})
		}
		diff("bridge's own VLANs", wantVLANs(own), haveVLANs(s.VLANs))
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func prefixes(ps []netip.Prefix) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func planAddrs(l *generator.Link) string {
	var ps []netip.Prefix
	for _, a := range l.Addresses {
		if !(a.Addr().Is6() && a.Addr().IsLinkLocalUnicast()) {
			ps = append(ps, a)
		}
	}
	return prefixes(ps)
}

// vlanSet renders VLANs as "10(PVID,untagged) 20 21", one entry per id, so
// that ranges and single ids compare alike.
type vlanSet map[int]string

func (s vlanSet) String() string {
	ids := make([]int, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var parts []string
	for _, id := range ids {
		parts = append(parts, strconv.Itoa(id)+s[id])
	}
	return strings.Join(parts, " ")
}

func vlanFlags(pvid, untagged bool) string {
	switch {
	case pvid && untagged:
		return "(PVID,untagged)"
	case pvid:
		return "(PVID)"
	case untagged:
		return "(untagged)"
	}
	return ""
}

func wantVLANs(p *generator.PortVLANs) string {
	s := vlanSet{}
	for _, e := range p.Entries {
		for id := e.From; id <= e.To; id++ {
			s[id] = vlanFlags(e.PVID, e.Untagged)
		}
	}
	return s.String()
}

func haveVLANs(vs []PortVLAN) string {
	s := vlanSet{}
	for _, v := range vs {
		s[v.ID] = vlanFlags(v.PVID, v.Untagged)
	}
	return s.String()
}

// routeName is how a route is named: "default via 10.0.0.1 dev netns2:big2".
func routeName(to netip.Prefix, via netip.Addr, dev string) string {
	s := to.String()
	if to.Bits() == 0 {
		s = "default"
	}
	if via.IsValid() {
		s += " via " + via.String()
	}
	return s + " dev " + dev
}

func (c *comparer) routes() {
	for _, l := range c.p.Links {
		for _, r := range l.Routes {
			o := Object{Kind: "route", Name: routeName(r.To, r.Via, l.Label()), Namespace: l.NS, State: Missing}
			n := c.sys.Namespaces[l.NS]
			if n == nil {
				o.Detail = nsLabel(l.NS) + " is missing"
				c.add(o)
				continue
			}
			for _, s := range n.Routes {
				if s.Dev != l.Name || s.To != r.To.Masked() || s.Via != r.Via || tableOf(s) != routeTable(l) {
					continue
				}
				o.State = OK
				if r.Metric != 0 && s.Metric != r.Metric {
					o.State = Different
					o.Differences = append(o.Differences, Difference{"metric", strconv.Itoa(r.Metric), strconv.Itoa(s.Metric)})
				}
				break
			}
			c.add(o)
		}
	}
}

func (c *comparer) sysctls() {
	for _, sc := range c.p.Sysctls() {
		name := sc.NS + ":" + strings.ReplaceAll(sc.Path, "/", ".")
		o := Object{Kind: "sysctl", Name: name, Namespace: sc.NS, State: OK}
		n := c.sys.Namespaces[sc.NS]
		have, ok := "", false
		if n != nil {
			have, ok = n.Sysctls[sc.Path]
		}
		want := strings.Join(strings.Fields(sc.Value), " ")
		switch {
		case n == nil:
			o.State, o.Detail = Missing, nsLabel(sc.NS)+" is missing"
		case !ok:
			o.State, o.Detail = Missing, "no /proc/sys/"+sc.Path+" in "+nsLabel(sc.NS)
		case have != want:
			o.State = Different
			o.Differences = []Difference{{"value", want, have}}
		}
		c.add(o)
	}
}

// serviceBetweenRuns says a lab's service is activating: between two runs
// of a service that restarts, or still starting (apply.Up says the same).
func serviceBetweenRuns(unit, state string) bool {
	n, _ := names.Parse(unit)
	return n.Kind == names.KindService && state == "activating"
}

func (c *comparer) units() {
	if c.sys.Units == nil {
		c.r.UnitsNotChecked = c.sys.UnitsErr
		return
	}
	for _, name := range Units(c.p) {
		o := Object{Kind: "unit", Name: name, State: OK}
		u, ok := c.sys.Units[name]
		switch {
		case !ok || u.Load == "not-found" || u.Load == "":
			o.State, o.Detail = Missing, "systemd does not know it"
		case u.Active != "active" && !serviceBetweenRuns(name, u.Active):
			o.State = Different
			o.Differences = []Difference{{"state", "active", u.Active}}
			o.Detail = "journalctl -u " + name
		}
		c.add(o)
	}
}

// fallbackTunnels are the devices the kernel puts in every new namespace
// when a tunnel module is loaded: not the lab's, not leftovers.
var fallbackTunnels = map[string]bool{"lo": true, "tunl0": true, "sit0": true, "ip6tnl0": true,
	"gre0": true, "gretap0": true, "erspan0": true, "ip6gre0": true, "ip_vti0": true, "ip6_vti0": true}

func (c *comparer) leftovers() {
	lab := map[schema.Key]bool{}
	nss := map[string]bool{}
	for _, l := range c.p.Links {
		lab[schema.Key{NS: l.NS, If: l.Name}] = true
	}
	for _, u := range c.p.Units {
		if u.Kind == generator.NamespaceUnit {
			nss[u.Namespaces[0]] = true
		}
	}
	// Links in the lab's namespaces that the lab does not have.
	for _, ns := range Namespaces(c.p, Previous{}) {
		n := c.sys.Namespaces[ns]
		if ns == "" || n == nil {
			continue
		}
		var extra []string
		for _, s := range n.Links {
			if !lab[schema.Key{NS: ns, If: s.Name}] && !fallbackTunnels[s.Name] {
				extra = append(extra, s.Name)
			}
		}
		slices.Sort(extra)
		for _, name := range extra {
			c.add(Object{Kind: "link", Name: ns + ":" + name, Namespace: ns, State: Leftover, Detail: "not in the lab"})
		}
	}
	// Routes the lab does not have on its links (connected and
	// router-advertised routes are the kernel's own).
	for _, ns := range Namespaces(c.p, Previous{}) {
		n := c.sys.Namespaces[ns]
		if n == nil {
			continue
		}
		for _, s := range n.Routes {
			if s.Proto == 2 || s.Proto == 9 || s.Dev == "" || !lab[schema.Key{NS: ns, If: s.Dev}] {
				continue
			}
			if !c.planRoute(ns, s) {
				c.add(Object{Kind: "route", Name: routeName(s.To, s.Via, schema.Key{NS: ns, If: s.Dev}.String()), Namespace: ns, State: Leftover, Detail: "not in the lab"})
			}
		}
	}
	prev := c.sys.Previous
	for _, ns := range prev.Namespaces {
		if !nss[ns] && c.sys.Namespaces[ns] != nil {
			c.add(Object{Kind: "namespace", Name: ns, Namespace: ns, State: Leftover, Detail: "from the lab's previous build"})
		}
	}
	if host := c.sys.Namespaces[""]; host != nil {
		for _, d := range prev.HostDevices {
			if lab[schema.Key{If: d}] {
				continue
			}
			for _, s := range host.Links {
				if s.Name == d {
					c.add(Object{Kind: "link", Name: d, State: Leftover, Detail: "from the lab's previous build"})
				}
			}
		}
	}
	if c.sys.Units != nil {
		units := map[string]bool{}
		for _, u := range Units(c.p) {
			units[u] = true
		}
		for _, name := range prev.Units {
			u, ok := c.sys.Units[name]
			if units[name] || !ok || u.Load == "not-found" || u.Load == "" || u.Active == "inactive" {
				continue
			}
			c.add(Object{Kind: "unit", Name: name, State: Leftover, Detail: "from the lab's previous build, " + u.Active})
		}
	}
}

func (c *comparer) planRoute(ns string, s Route) bool {
	for _, l := range c.p.Links {
		if l.NS != ns || l.Name != s.Dev {
			continue
		}
		for _, r := range l.Routes {
			if r.To.Masked() == s.To && r.Via == s.Via {
				return true
			}
		}
	}
	return false
}

// routeTable is the table a link's routes are in: its VRF's, else main.
func routeTable(l *generator.Link) int {
	if l.VRF != nil {
		return l.VRF.Table
	}
	return 254 // RT_TABLE_MAIN
}

func tableOf(r Route) int {
	if r.Table == 0 {
		return 254
	}
	return r.Table
}
