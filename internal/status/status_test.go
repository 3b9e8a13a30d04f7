package status_test

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/reach"
	"github.com/netgen-lab/netgen/internal/status"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/schema"
)

const lab = `
version: 1
name: st
namespaces: {a: {}, b: {}, r: {sysctl: {net.ipv4.ip_forward: 1}}}
bridges: {br: {stp: true, forward-delay: 4}}
veths:
  - [{name: a:eth0, addresses: [10.1.0.1/24], gateway: 10.1.0.254, mtu: 1400}, {name: r:eth0, addresses: [10.1.0.254/24], mtu: 1400}]
  - [{name: b:eth0, addresses: [10.2.0.1/24]}, {name: pb, bridge: br}]
  - [{name: hb, addresses: [10.2.0.9/24]}, {name: hbp, bridge: br}]
`

// asPlanned is a system exactly as a plan says.
func asPlanned(p *generator.Plan) *status.System {
	sys := &status.System{Namespaces: map[string]*status.Namespace{"": {}}, Units: map[string]status.Unit{}}
	for _, u := range p.Units {
		if u.Kind == generator.NamespaceUnit {
			sys.Namespaces[u.Namespaces[0]] = &status.Namespace{Sysctls: map[string]string{}}
		}
	}
	for _, l := range p.Links {
		n := sys.Namespaces[l.NS]
		s := &status.Link{Name: l.Name, Kind: l.Kind.String(), MTU: 1500, MAC: l.MAC, Up: true, Addrs: l.Addresses}
		if l.MTU != 0 {
			s.MTU = l.MTU
		}
		if l.Master != nil {
			s.Master = l.Master.Name
		}
		if b := l.Bridge; b != nil {
			s.Bridge = &status.Bridge{STP: b.STP, VLANFiltering: b.VLANFiltering, ForwardDelay: 1500}
			if b.ForwardDelay != nil {
				s.Bridge.ForwardDelay = *b.ForwardDelay * 100
			}
		}
		n.Links = append(n.Links, s)
		for _, r := range l.Routes {
			n.Routes = append(n.Routes, status.Route{To: r.To, Via: r.Via, Dev: l.Name, Proto: 3})
		}
	}
	for _, u := range p.Units {
		if u.Namespace != nil {
			for _, sc := range u.Namespace.Sysctls {
				sys.Namespaces[sc.NS].Sysctls[sc.Path] = sc.Value
			}
		}
	}
	for _, u := range status.Units(p) {
		sys.Units[u] = status.Unit{Load: "loaded", Active: "active"}
	}
	return sys
}

func find(r *status.Report, kind, name string) status.Object {
	for _, o := range r.Objects {
		if o.Kind == kind && o.Name == name {
			return o
		}
	}
	return status.Object{}
}

// linkOf returns a link of a system's namespace; the test fails without it.
func linkOf(t *testing.T, sys *status.System, ns, name string) *status.Link {
	t.Helper()
	for _, l := range sys.Namespaces[ns].Links {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("no %s:%s", ns, name)
	return nil
}

// expectObject checks an object's state and that its line says what it
// must.
func expectObject(t *testing.T, rep *status.Report, kind, name, state, line string) {
	t.Helper()
	o := find(rep, kind, name)
	if o.State != state || !strings.Contains(o.Line(), line) {
		t.Errorf("%s %s: %q (%s), want %s with %q", kind, name, o.Line(), o.State, state, line)
	}
}

func TestCompare(t *testing.T) {
	p := testlabs.Compile(t, "st.yml", []byte(lab)).Plan
	rep := status.Compare(p, asPlanned(p))
	if !rep.OK || rep.Counts.OK != len(rep.Objects) {
		t.Fatalf("a system as planned: %+v\n%s", rep.Counts, strings.Join(rep.Problems(), "\n"))
	}
	// 3 namespaces, 7 links, 1 route, 1 sysctl, the units and target.
	kinds := map[string]int{}
	for _, o := range rep.Objects {
		kinds[o.Kind]++
	}
	if want := map[string]int{"namespace": 3, "link": 7, "route": 1, "sysctl": 1, "unit": len(status.Units(p))}; fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("objects by kind %v, want %v", kinds, want)
	}

	// Broken by hand: a link deleted, an address changed, a unit
	// stopped, a bridge's STP off, a route gone, a sysctl reset; a link
	// added in a lab namespace; a namespace, a unit and a host device left
	// by a previous build.
	sys := asPlanned(p)
	del := func(ns, name string) {
		n := sys.Namespaces[ns]
		for i, l := range n.Links {
			if l.Name == name {
				n.Links = append(n.Links[:i], n.Links[i+1:]...)
				return
			}
		}
	}
	get := func(ns, name string) *status.Link { return linkOf(t, sys, ns, name) }
	del("", "hbp")
	get("b", "eth0").Addrs = []netip.Prefix{netip.MustParsePrefix("10.2.0.7/24")}
	get("", "br").Bridge.STP = false
	sys.Namespaces["a"].Routes = nil
	sys.Namespaces["r"].Sysctls["net/ipv4/ip_forward"] = "0"
	nsUnit := ""
	for _, u := range p.Units {
		if u.Kind == generator.NamespaceUnit && u.Namespaces[0] == "b" {
			nsUnit = u.Name
		}
	}
	sys.Units[nsUnit] = status.Unit{Load: "loaded", Active: "inactive"}
	sys.Namespaces["a"].Links = append(sys.Namespaces["a"].Links, &status.Link{Name: "extra0", Kind: "veth", Up: true})
	sys.Namespaces["old"] = &status.Namespace{}
	sys.Namespaces[""].Links = append(sys.Namespaces[""].Links, &status.Link{Name: "oldbr", Kind: "bridge"})
	sys.Units["netgen-st-old.service"] = status.Unit{Load: "loaded", Active: "active"}
	sys.Previous = status.Previous{Namespaces: []string{"old"}, HostDevices: []string{"oldbr", "hb"}, Units: []string{"netgen-st-old.service"}}
	rep = status.Compare(p, sys)
	if rep.OK {
		t.Fatal("a broken system compares OK")
	}
	for _, c := range []struct{ kind, name, state, line string }{
		{"link", "hbp", status.Missing, "no such link in the host namespace"},
		{"link", "b:eth0", status.Different, "addresses 10.2.0.7/24, want 10.2.0.1/24"},
		{"link", "br", status.Different, "STP off, want on"},
		{"route", "default via 10.1.0.254 dev a:eth0", status.Missing, ""},
		{"sysctl", "r:net.ipv4.ip_forward", status.Different, "value 0, want 1"},
		{"unit", nsUnit, status.Different, "state inactive, want active"},
		{"link", "a:extra0", status.Leftover, "not in the lab"},
		{"namespace", "old", status.Leftover, "previous build"},
		{"link", "oldbr", status.Leftover, "previous build"},
		{"unit", "netgen-st-old.service", status.Leftover, "previous build, active"},
		{"link", "a:eth0", status.OK, "ok (10.1.0.1/24)"},
	} {
		expectObject(t, rep, c.kind, c.name, c.state, c.line)
	}
	if o := find(rep, "link", "hb"); o.State != status.OK {
		t.Errorf("hb, in the lab and in the previous build, is %s", o.State)
	}
	if rep.Counts.Leftover != 4 || rep.Counts.Missing != 2 {
		t.Errorf("counts %+v, want 4 leftovers and 2 missing", rep.Counts)
	}

	// After down: every object missing, nothing left over.
	gone := &status.System{Namespaces: map[string]*status.Namespace{"": {}}, Units: map[string]status.Unit{}}
	rep = status.Compare(p, gone)
	if rep.Counts.OK != 0 || rep.Counts.Leftover != 0 || rep.Counts.Missing != len(rep.Objects) {
		t.Errorf("after down: %+v, want every object missing, no leftover\n%s", rep.Counts, strings.Join(rep.Problems(), "\n"))
	}
}

// TestTableAndJSON: the table names every object and ends with the
// verdict; colour only when asked; the JSON has the documented keys.
func TestTableAndJSON(t *testing.T) {
	p := testlabs.Compile(t, "st.yml", []byte(lab)).Plan
	sys := asPlanned(p)
	sys.Namespaces[""].Links = sys.Namespaces[""].Links[1:]
	rep := status.Compare(p, sys)
	var b strings.Builder
	rep.Table(&b, false)
	out := b.String()
	if strings.Contains(out, "\x1b[") || !strings.HasPrefix(out, "STATE") || !strings.Contains(out, "missing  link br") ||
		!strings.HasSuffix(out, "lab st: not as the lab says (17 ok, 0 different, 1 missing, 0 leftover)\n") {
		t.Errorf("table:\n%s", out)
	}
	b.Reset()
	rep.Table(&b, true)
	if !strings.Contains(b.String(), "\x1b[31mmissing") {
		t.Errorf("coloured table has no red 'missing':\n%s", b.String())
	}
	b.Reset()
	if err := rep.JSON(&b); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"lab": "st"`, `"ok": false`, `"missing": 1`, `"kind": "link"`, `"state": "missing"`, `"detail": "no such link in the host namespace"`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON lacks %s:\n%s", key, b.String())
		}
	}
}

// netns runs ip commands; the test namespaces are throwaway ones of this
// test, deleted at its end.
func netns(t *testing.T, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if out, err := exec.Command("sh", "-c", c).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
}

// TestReadAndProbe reads real namespaces (throwaway ones) and pings inside
// them: the lab's pairs answer, a changed address is reported as a
// difference, and the pair it breaks is named.
func TestReadAndProbe(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("SKIPPED: reading and pinging inside namespaces needs root")
	}
	a, b := fmt.Sprintf("ngst%da", os.Getpid()), fmt.Sprintf("ngst%db", os.Getpid())
	t.Cleanup(func() { exec.Command("ip", "netns", "del", a).Run(); exec.Command("ip", "netns", "del", b).Run() })
	// Built by hand as the plan says, with the MACs it derives.
	src := fmt.Sprintf(`
version: 1
name: st
namespaces: {%[1]s: {}, %[2]s: {}}
bridges: {br0: {namespace: %[2]s, forward-delay: 4}}
veths:
  - [{name: "%[1]s:eth0", addresses: [10.9.0.1/24, "fd09::1/64"], routes: [{to: 10.8.0.0/16, via: 10.9.0.2, metric: 7}], mtu: 1400}, {name: "%[2]s:p0", bridge: br0, mtu: 1400}]
  - [{name: "%[2]s:eth1", addresses: [10.9.0.2/24, "fd09::2/64"]}, {name: "%[2]s:p1", bridge: br0}]
`, a, b)
	p := testlabs.Compile(t, "st.yml", []byte(src)).Plan
	mac := func(ns, name string) string { return planMAC(t, p, ns, name) }
	netns(t,
		"ip netns add "+a, "ip netns add "+b,
		"ip -n "+a+" link set lo up", "ip -n "+b+" link set lo up",
		"ip -n "+a+" link add eth0 mtu 1400 address "+mac(a, "eth0")+" type veth peer name p0 mtu 1400 address "+mac(b, "p0")+" netns "+b,
		"ip -n "+b+" link add br0 type bridge forward_delay 400",
		"ip -n "+b+" link set p0 master br0",
		"ip -n "+b+" link add eth1 address "+mac(b, "eth1")+" type veth peer name p1 address "+mac(b, "p1"),
		"ip -n "+b+" link set p1 master br0",
		"ip -n "+a+" addr add 10.9.0.1/24 dev eth0",
		"ip -n "+a+" addr add fd09::1/64 dev eth0 nodad",
		"ip -n "+b+" addr add 10.9.0.2/24 dev eth1",
		"ip -n "+b+" addr add fd09::2/64 dev eth1 nodad",
		"ip -n "+b+" link set addrgenmode none dev p0", "ip -n "+b+" link set addrgenmode none dev p1", "ip -n "+b+" link set addrgenmode none dev br0",
		"ip -n "+a+" link set eth0 up", "ip -n "+b+" link set p0 up", "ip -n "+b+" link set p1 up", "ip -n "+b+" link set eth1 up", "ip -n "+b+" link set br0 up",
		"ip -n "+a+" route add 10.8.0.0/16 via 10.9.0.2 metric 7",
	)
	read := func() *status.Report {
		sys := &status.System{Namespaces: status.Read(status.Want(p, status.Previous{})), UnitsErr: "not asked"}
		delete(sys.Namespaces, "") // this machine's own namespace is not the lab's business here
		sys.Namespaces[""] = &status.Namespace{}
		return status.Compare(p, sys)
	}
	rep := read()
	if !rep.OK {
		t.Fatalf("as built:\n%s", strings.Join(rep.Problems(), "\n"))
	}
	if o := find(rep, "route", "10.8.0.0/16 via 10.9.0.2 dev "+a+":eth0"); o.State != status.OK {
		t.Errorf("route: %s", o.Line())
	}
	exps := reach.Derive(p)
	checks := status.Probe(exps, status.ProbeOptions{Timeout: 10 * time.Second, Quiet: time.Second})
	for _, c := range checks {
		if !c.OK {
			t.Errorf("%s: %s", c.Name(), c.Detail)
		}
	}
	if len(checks) != 8 {
		t.Errorf("%d checks, want 8: %v", len(checks), exps)
	}

	netns(t, "ip -n "+b+" addr del 10.9.0.2/24 dev eth1", "ip -n "+b+" addr add 10.9.0.3/24 dev eth1", "ip -n "+b+" link set p1 nomaster")
	rep = read()
	for _, want := range []string{
		"link " + b + ":eth1: addresses 10.9.0.3/24 fd09::2/64, want 10.9.0.2/24 fd09::2/64",
		"link " + b + ":p1: master none, want br0",
	} {
		if !strings.Contains(strings.Join(rep.Problems(), "\n"), want) {
			t.Errorf("after changes, no %q in:\n%s", want, strings.Join(rep.Problems(), "\n"))
		}
	}
	checks = status.Probe(exps, status.ProbeOptions{Timeout: 2 * time.Second, Quiet: time.Second})
	failed := map[string]string{}
	for _, c := range checks {
		if !c.OK {
			failed[c.Name()] = c.Detail
		}
	}
	if d := failed[a+" -> 10.9.0.2"]; !strings.Contains(d, "no answer") {
		t.Errorf("%s -> 10.9.0.2: %q, want no answer", a, d)
	}
	if d := failed[b+" -> 10.9.0.2"]; !strings.Contains(d, "leaves through") && !strings.Contains(d, "no route") {
		t.Errorf("%s -> 10.9.0.2 (its old own address): %q, want no local route", b, d)
	}
	// a <-> b's eth1 in both families (p1 left the bridge), and b's own
	// old address.
	if len(failed) != 5 {
		t.Errorf("failed %v, want 5", failed)
	}
}

const kernelLab = `
version: 1
name: ko
namespaces: {r1: {}, r2: {}, pe: {}, w: {}}
bridges: {br: {namespace: r2}}
veths:
  - [r1:eth1, r2:eth1]
  - [r1:eth2, r2:eth2]
  - [{name: pe:b1, addresses: [10.1.0.1/24], netem: {delay: 40ms, loss: 20%}}, {name: r2:p1, bridge: br, port: {cost: 20, isolated: true}}]
  - [w:a0, {name: r1:eth3, addresses: [10.3.0.1/24]}]
  - [w:b0, {name: r2:eth3, addresses: [10.3.0.2/24]}]
bonds:
  - {name: r1:bond0, members: [r1:eth1, r1:eth2], mode: 802.3ad, lacp-rate: fast, xmit-hash-policy: layer3+4, addresses: [10.0.9.1/30]}
  - {name: r2:bond0, members: [r2:eth1, r2:eth2], mode: active-backup, addresses: [10.0.9.2/30]}
dummies:
  - {name: pe:lo0, addresses: [10.255.0.1/32]}
vrfs:
  - {name: pe:blue, table: 100, members: [pe:b1, pe:lo0]}
wires:
  - [w:a0, w:b0]
`

// withKernelObjects completes asPlanned's system with what the kernel
// reports of bonds, VRFs, port settings, netem and wires, as planned.
func withKernelObjects(p *generator.Plan, sys *status.System) {
	for _, n := range sys.Namespaces {
		n.QdiscsRead = true
	}
	links := map[*generator.Link]*status.Link{}
	for _, l := range p.Links {
		for _, s := range sys.Namespaces[l.NS].Links {
			if s.Name == l.Name {
				links[l] = s
			}
		}
	}
	for l, s := range links {
		switch {
		case l.Bond != nil:
			s.Master = l.Bond.Name
		case l.VRF != nil:
			s.Master = l.VRF.Name
		}
		if o := l.BondOpts; o != nil {
			s.BondMode = o.Mode
			s.BondOpts = &status.BondInfo{LACPRate: o.LACPRate, XmitHashPolicy: o.XmitHashPolicy, MIIMon: o.MIIMon}
		}
		s.VRFTable = l.Table
		if o := l.PortOpts; o != nil {
			s.Port = &status.PortInfo{Cost: *o.Cost, Isolated: *o.Isolated}
		}
		if l.Netem != nil {
			v := *l.Netem
			s.Netem = &v
		}
	}
	for _, w := range p.Wires {
		links[w.A].Redirect, links[w.B].Redirect = w.B.Name, w.A.Name
	}
}

// TestCompareKernelObjects: bonds (mode, options, members), a VRF (table,
// members), a dummy, port settings, an impairment and a wire, each as the
// lab says, then each broken as one would by hand and named.
func TestCompareKernelObjects(t *testing.T) {
	p := testlabs.Compile(t, "ko.yml", []byte(kernelLab)).Plan
	planned := func() *status.System {
		sys := asPlanned(p)
		withKernelObjects(p, sys)
		return sys
	}
	rep := status.Compare(p, planned())
	if !rep.OK {
		t.Fatalf("a system as planned:\n%s", strings.Join(rep.Problems(), "\n"))
	}
	for _, o := range []struct{ kind, name string }{{"qdisc", "pe:b1"}, {"wire", "w:a0 <-> w:b0"}, {"link", "pe:lo0"}, {"link", "r1:bond0"}} {
		if got := find(rep, o.kind, o.name); got.State != status.OK {
			t.Errorf("%s %s: %q, want ok", o.kind, o.name, got.Line())
		}
	}
	if o := find(rep, "qdisc", "pe:b1"); o.Detail != "delay 40ms loss 20%" {
		t.Errorf("qdisc pe:b1 detail %q, want what the netem does", o.Detail)
	}

	sys := planned()
	get := func(ns, name string) *status.Link { return linkOf(t, sys, ns, name) }
	get("r1", "bond0").BondOpts.LACPRate = "slow"
	get("r1", "bond0").BondOpts.XmitHashPolicy = "layer2"
	get("r2", "bond0").BondMode = "balance-rr"
	get("r2", "eth2").Master = ""
	get("pe", "blue").VRFTable = 101
	get("pe", "lo0").Master = ""
	get("r2", "p1").Port.Cost = 100
	get("pe", "b1").Netem.Delay = 10000
	get("w", "b0").Redirect = ""
	get("r1", "eth3").Netem = &schema.NetemValues{Rate: 1_000_000}
	rep = status.Compare(p, sys)
	for _, c := range []struct{ kind, name, state, line string }{
		{"link", "r1:bond0", status.Different, "LACP rate slow, want fast; transmit hash policy layer2, want layer3+4"},
		{"link", "r2:bond0", status.Different, "bond mode balance-rr, want active-backup; members eth1, want eth1 eth2"},
		{"link", "r2:eth2", status.Different, "master none, want bond0"},
		{"link", "pe:blue", status.Different, "VRF table 101, want 100; members b1, want b1 lo0"},
		{"link", "pe:lo0", status.Different, "master none, want blue"},
		{"link", "r2:p1", status.Different, "port cost 100, want 20"},
		{"qdisc", "pe:b1", status.Different, "delay 10ms, want 40ms"},
		{"wire", "w:a0 <-> w:b0", status.Different, "redirect of b0 none, want a0"},
		{"qdisc", "r1:eth3", status.Leftover, "a netem the lab does not set: rate 1mbit"},
	} {
		expectObject(t, rep, c.kind, c.name, c.state, c.line)
	}

	// The qdisc gone, a wire end gone.
	sys = planned()
	get("pe", "b1").Netem = nil
	n := sys.Namespaces["w"]
	n.Links = slices.DeleteFunc(n.Links, func(l *status.Link) bool { return l.Name == "a0" })
	rep = status.Compare(p, sys)
	if o := find(rep, "qdisc", "pe:b1"); o.State != status.Missing || o.Detail != "no netem qdisc on pe:b1" {
		t.Errorf("netem deleted: %q", o.Line())
	}
	if o := find(rep, "wire", "w:a0 <-> w:b0"); o.State != status.Missing || o.Detail != "no link w:a0" {
		t.Errorf("wire end deleted: %q", o.Line())
	}

	// Qdiscs not read (the test tiers' collector): no qdisc or wire object.
	sys = planned()
	for _, n := range sys.Namespaces {
		n.QdiscsRead = false
	}
	rep = status.Compare(p, sys)
	if o := find(rep, "wire", "w:a0 <-> w:b0"); o.Kind != "" {
		t.Errorf("qdiscs not read, yet %q", o.Line())
	}
}

// TestReadVXLAN reads VXLAN devices in a throwaway namespace (this kernel
// has vxlan): a cable's end (VNI, remote, local, port) and a stretched
// bridge's port with its flooding entries, then one changed by hand.
func TestReadVXLAN(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("SKIPPED: making namespaces needs root")
	}
	ns := fmt.Sprintf("ngvx%d", os.Getpid())
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	netns(t, "ip netns add "+ns,
		"ip -n "+ns+" link add vx0 type vxlan id 4242 remote 10.99.0.2 local 10.99.0.1 dstport 4790",
		"ip -n "+ns+" link add vx1 type vxlan id 77 local 10.99.0.1 dstport 4789",
		"bridge -n "+ns+" fdb append 00:00:00:00:00:00 dev vx1 dst 10.99.0.3",
		"bridge -n "+ns+" fdb append 00:00:00:00:00:00 dev vx1 dst 10.99.0.2",
	)
	sys := status.Read(status.Request{Namespaces: []string{ns}, Qdiscs: map[string]bool{ns: true}, FDB: map[string]bool{ns: true}})
	n := sys[ns]
	if n == nil || n.Err != "" || !n.QdiscsRead || !n.FDBRead {
		t.Fatalf("read: %+v", n)
	}
	got := map[string]string{}
	for _, l := range n.Links {
		if x := l.VXLAN; x != nil {
			got[l.Name] = fmt.Sprintf("%d %d %v %v %v", x.VNI, x.Port, x.Local, x.Remote, x.FDB)
		}
	}
	// The kernel gives a device with a remote an all-zero entry to it.
	want := map[string]string{"vx0": "4242 4790 10.99.0.1 10.99.0.2 [10.99.0.2]", "vx1": "77 4789 10.99.0.1 invalid IP [10.99.0.3 10.99.0.2]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("VXLAN devices read as %v, want %v", got, want)
	}
}

// TestCompareBridgeOwnVLANs: a bridge whose VLANs netgen gives explicitly
// (an uplink matched by MAC leaves its default VLAN) must have no kernel
// default PVID and carry its default VLAN untagged and its SVI's tagged;
// the kernel's defaults left in place are a difference.
func TestCompareBridgeOwnVLANs(t *testing.T) {
	p := testlabs.Compile(t, "st.yml", []byte(`version: 1
name: st
bridges: {sx: {vlan-filtering: true}}
uplinks:
  - {mac: "02:00:00:00:01:01", bridge: sx, vlan: {access: 20}}
vlans:
  - {parent: sx, id: 20, addresses: [10.77.20.1/24]}
`)).Plan
	sys := asPlanned(p)
	sys.Namespaces[""].VLANsRead = true
	var sx *status.Link
	for _, l := range sys.Namespaces[""].Links {
		if l.Name == "sx" {
			sx = l
		}
	}
	sx.VLANs = []status.PortVLAN{{ID: 1, PVID: true, Untagged: true}, {ID: 20}}
	if o := find(status.Compare(p, sys), "link", "sx"); o.State != status.OK {
		t.Fatalf("sx as planned: %s", o.Line())
	}
	sx.Bridge.DefaultPVID = 1
	sx.VLANs = []status.PortVLAN{{ID: 20}}
	o := find(status.Compare(p, sys), "link", "sx")
	for _, want := range []string{"default PVID 1, want 0", "bridge's own VLANs 20, want 1(PVID,untagged) 20"} {
		if !strings.Contains(o.Line(), want) {
			t.Errorf("sx: %q, want %q in it", o.Line(), want)
		}
	}
}

// TestNonRootBridgeTimers: of two STP bridges in one spanning tree, the one
// that is not the root runs on the root's timers, and the kernel reports
// those. Read from a throwaway namespace, the non-root bridge (lab 014 of
// the random-lab tier: hello time 3 s, max age 38 s) says the root's 2 s
// and 20 s and is marked NonRoot, and status does not call its timers
// different; the root's own timers are still compared.
func TestNonRootBridgeTimers(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("SKIPPED: making namespaces needs root")
	}
	ns := fmt.Sprintf("ngstp%d", os.Getpid())
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	p := testlabs.Compile(t, "found-014.yml", []byte(`version: 1
name: found-014
namespaces: {x: {}}
bridges:
  root: {namespace: x, stp: true, priority: 4096, hello-time: 2}
  stub: {namespace: x, stp: true, priority: 61440, hello-time: 3, max-age: 38}
veths:
  - [{name: x:r-s, bridge: root}, {name: x:s-r, bridge: stub}]
`)).Plan
	netns(t, "ip netns add "+ns,
		"ip -n "+ns+" link add root type bridge stp_state 1 priority 4096",
		"ip -n "+ns+" link add stub type bridge stp_state 1 priority 61440 hello_time 300 max_age 3800",
		"ip -n "+ns+" link add r-s address "+planMAC(t, p, "x", "r-s")+" type veth peer name s-r address "+planMAC(t, p, "x", "s-r"),
		"ip -n "+ns+" link set r-s master root", "ip -n "+ns+" link set s-r master stub",
		"ip -n "+ns+" link set root up", "ip -n "+ns+" link set stub up",
		"ip -n "+ns+" link set r-s up", "ip -n "+ns+" link set s-r up")
	// The root's first BPDU comes within its hello time (2 s).
	var n *status.Namespace
	for deadline := time.Now().Add(15 * time.Second); ; {
		n = status.Read(status.Request{Namespaces: []string{ns}})[ns]
		if n == nil || n.Err != "" {
			t.Fatalf("read: %+v", n)
		}
		if b := bridgeOf(n, "stub"); b != nil && b.NonRoot && b.HelloTime == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	stub, root := bridgeOf(n, "stub"), bridgeOf(n, "root")
	if stub == nil || root == nil || !stub.NonRoot || root.NonRoot || stub.HelloTime != 200 || stub.MaxAge != 2000 {
		t.Fatalf("read stub %+v, root %+v; want stub not the root, on the root's 200 and 2000", stub, root)
	}
	sys := asPlanned(p)
	sys.Namespaces["x"].Links = n.Links
	if o := find(status.Compare(p, sys), "link", "x:stub"); o.State != status.OK {
		t.Errorf("the non-root bridge: %s", o.Line())
	}
	// A root bridge's timers are its own: a wrong one is a difference.
	root.HelloTime = 300
	if o := find(status.Compare(p, sys), "link", "x:root"); !strings.Contains(o.Line(), "hello time (1/100 s) 300, want 200") {
		t.Errorf("the root bridge with another hello time: %q", o.Line())
	}
}

// planMAC is the MAC the plan gives link ns:name (netgen derives one for
// every veth a unit creates); the test fails without one.
func planMAC(t *testing.T, p *generator.Plan, ns, name string) string {
	t.Helper()
	for _, l := range p.Links {
		if l.NS == ns && l.Name == name && l.MAC != "" {
			return l.MAC
		}
	}
	t.Fatalf("the plan gives %s:%s no MAC", ns, name)
	return ""
}

func bridgeOf(n *status.Namespace, name string) *status.Bridge {
	for _, l := range n.Links {
		if l.Name == name {
			return l.Bridge
		}
	}
	return nil
}
