package labgen

import (
	"bytes"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/schema"
)

var specs = []Spec{
	{Namespaces: 3},
	{Namespaces: 5, Neighbours: true, PortsPerBridge: 2},
	{Namespaces: 2, NoHostVeth: true},
	{Uplinks: 2, VLANs: 6, VLANBridges: 3},
	{Uplinks: 3, VLANs: 7},
	{Namespaces: 4, Neighbours: true, Uplinks: 1, VLANs: 3, VLANBridges: 1},
	{Namespaces: 3, Services: true},
	{Namespaces: 3, Netem: true},
	{Namespaces: 5, Wires: true},
	{Namespaces: 5, Machines: 2},
	{Namespaces: 4, Services: true, Netem: true, Wires: true, Machines: 3},
}

// TestFeatures: a feature flag puts its feature in the lab (a figure of
// "the lab with services" must not time the plain lab), and the features
// of the namespace shape are refused without namespaces.
func TestFeatures(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		want []string
	}{
		{Spec{Namespaces: 2, Services: true}, []string{"services: {idle: {exec: [sleep, infinity]}}"}},
		{Spec{Namespaces: 2, Netem: true}, []string{"netem: {delay: 1ms}"}},
		{Spec{Namespaces: 4, Wires: true}, []string{"wire: {}", "wires:\n  - [wire:a0, wire:b0]\n  - [wire:a1, wire:b1]\n"}},
		{Spec{Namespaces: 2, Machines: 2}, []string{"m2: {underlay: 10.99.0.2}", "ns1: {machine: m2}", "nsbr0: {machines: [m1, m2]}", "{name: m2:v1, bridge: nsbr0}"}},
	} {
		var b bytes.Buffer
		if err := c.spec.Write(&b); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%+v: no %q in\n%s", c.spec, w, b.String())
			}
		}
	}
	for _, s := range []Spec{{Services: true}, {Wires: true, Uplinks: 1, VLANs: 2}, {Namespaces: 2, Machines: 2, VLANs: 2}} {
		if err := s.Check(); err == nil {
			t.Errorf("%+v: accepted", s)
		}
	}
}

// TestLabsCompile: every shape is a valid lab, so that a benchmark never
// times netgen rejecting its input.
func TestLabsCompile(t *testing.T) {
	for _, s := range specs {
		var b bytes.Buffer
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
		res, err := compile.Compile("lab.yml", b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if res.Diags.HasErrors() {
			var out bytes.Buffer
			res.Diags.Render(&out, b.Bytes())
			t.Fatalf("%+v: the lab has errors:\n%s\n%s", s, out.String(), b.String())
		}
	}
}

// TestNetplanParses: the netplan form is YAML with the same objects.
func TestNetplanParses(t *testing.T) {
	s := Spec{Uplinks: 2, VLANs: 6, VLANBridges: 3}
	var b bytes.Buffer
	if err := s.Netplan(&b); err != nil {
		t.Fatal(err)
	}
	var np struct {
		Network struct {
			Ethernets map[string]any
			VLANs     map[string]struct{ ID int }
			Bridges   map[string]struct{ Interfaces []string }
		}
	}
	if err := yaml.Unmarshal(b.Bytes(), &np); err != nil {
		t.Fatal(err)
	}
	if len(np.Network.Ethernets) != 2 || len(np.Network.VLANs) != 6 || len(np.Network.Bridges) != 3 {
		t.Fatalf("netplan form has %d ethernets, %d vlans, %d bridges:\n%s", len(np.Network.Ethernets), len(np.Network.VLANs), len(np.Network.Bridges), b.String())
	}
	if (Spec{Namespaces: 1}).Netplan(&b) == nil {
		t.Error("a spec with namespaces has no netplan form, but Netplan did not refuse it")
	}
}

// TestIPScriptSameObjects: the iproute2 baseline creates every link
// netgen's plan has, in the same namespace.
func TestIPScriptSameObjects(t *testing.T) {
	for _, s := range specs {
		if s.VLANs > 0 || s.Services || s.Netem || s.Wires || s.Machines > 0 {
			if s.IPScript(&bytes.Buffer{}, true) == nil {
				t.Errorf("%+v: IPScript does not make these objects, but did not refuse", s)
			}
			continue
		}
		var lab, script bytes.Buffer
		if err := s.Write(&lab); err != nil {
			t.Fatal(err)
		}
		if err := s.IPScript(&script, true); err != nil {
			t.Fatal(err)
		}
		res, err := compile.Compile("lab.yml", lab.Bytes())
		if err != nil || res.Diags.HasErrors() {
			t.Fatalf("%+v: %v", s, err)
		}
		made := created(script.String())
		for _, l := range res.Plan.Links {
			if !made[schema.Key{NS: l.NS, If: l.Name}] {
				t.Errorf("%+v: the ip script does not create %s", s, l.Label())
			}
		}
		if len(made) != len(res.Plan.Links) {
			t.Errorf("%+v: the ip script creates %d links, netgen's plan has %d", s, len(made), len(res.Plan.Links))
		}
	}
}

// created lists the links an IPScript creates: "link add name X ... peer
// name Y [netns NS]", run in the host or in `ip -n NS -batch`.
func created(script string) map[schema.Key]bool {
	out := map[schema.Key]bool{}
	ns := ""
	for _, line := range strings.Split(script, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "ip" && f[1] == "-n":
			ns = f[2]
		case len(f) >= 2 && f[0] == "ip" && f[1] == "-batch":
			ns = ""
		case len(f) >= 3 && f[0] == "link" && f[1] == "add" && f[2] == "name":
			out[schema.Key{NS: ns, If: f[3]}] = true
			for i := range f {
				if f[i] == "peer" && i+2 < len(f) {
					peerNS := ns
					if i+4 < len(f) && f[i+3] == "netns" {
						peerNS = f[i+4]
					}
					out[schema.Key{NS: peerNS, If: f[i+2]}] = true
				}
			}
		}
	}
	return out
}
