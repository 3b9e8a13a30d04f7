package generator

import (
	"net/netip"
	"sort"

	"github.com/netgen-lab/netgen/names"
	"github.com/netgen-lab/netgen/schema"
)

// Service is a program the lab runs inside a namespace, owned by a unit of
// its own.
type Service struct {
	// Unit is the service's unit name; Name is the service's name in the lab.
	Unit, Name string
	NS         string
	// Needs are the units that make the namespace and its links: the
	// namespace's unit first, then the link units of its veths.
	Needs []string
	// Args is the command, word by word, taken literally.
	Args        []string
	User, Group string
	Restart     string
	Env         [][2]string
	ResolvConf  bool
	Hosts       bool
}

// Resolver is what programs in one namespace see as /etc/resolv.conf and
// /etc/hosts, written to /etc/netns/NS/ (names.NetnsDir).
type Resolver struct {
	NS          string
	Nameservers []netip.Addr
	Search      []string
	// Hosts are the host-name lines of /etc/hosts, after localhost's; nil
	// means the namespace gets no hosts file.
	Hosts []HostLine
	// HasHosts says the namespace gets a hosts file (with localhost) even
	// when it has no other line.
	HasHosts bool
}

// HasResolvConf says the namespace gets a resolv.conf.
func (r *Resolver) HasResolvConf() bool { return len(r.Nameservers) > 0 || len(r.Search) > 0 }

// HostLine is one line of a hosts file.
type HostLine struct {
	Addr netip.Addr
	Name string
}

// services adds the lab's services and resolvers to the plan; the units
// must be final (finish has run).
func (g *gen) services() {
	lab := g.x.Lab
	nsAddrs := map[string][]netip.Addr{}
	for _, l := range g.plan.Links {
		if l.NS == "" {
			continue
		}
		for _, a := range l.Addresses {
			nsAddrs[l.NS] = append(nsAddrs[l.NS], a.Addr())
		}
	}
	byName := map[string]*schema.Namespace{}
	for _, ns := range lab.Namespaces {
		byName[ns.Name.Value] = ns
	}
	resolvers := map[string]*Resolver{}
	for _, name := range g.x.NamespaceNames() {
		ns := byName[name]
		r := schema.ResolverOf(lab, ns)
		if r == nil {
			continue
		}
		res := &Resolver{NS: name, Nameservers: r.Nameservers, Search: r.Search}
		if r.Names {
			for _, other := range g.x.NamespaceNames() {
				for _, a := range nsAddrs[other] {
					res.Hosts = append(res.Hosts, HostLine{Addr: a, Name: other})
				}
			}
			res.HasHosts = true
		}
		for _, h := range r.Hosts {
			for _, a := range h.Addrs {
				res.Hosts = append(res.Hosts, HostLine{Addr: a, Name: h.Name})
			}
			res.HasHosts = true
		}
		if !res.HasResolvConf() && !res.HasHosts {
			continue
		}
		resolvers[name] = res
		g.plan.Resolvers = append(g.plan.Resolvers, res)
	}
	for _, name := range g.x.NamespaceNames() {
		ns := byName[name]
		nsUnit := names.NamespaceUnit(g.plan.Lab, name)
		needs := []string{nsUnit}
		for _, u := range g.plan.Units {
			if u.Kind == LinkUnit && (u.Namespaces[0] == name || u.Namespaces[1] == name) {
				needs = append(needs, u.Name)
			}
		}
		svcs := append([]*schema.Service(nil), ns.Services...)
		sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name.Value < svcs[j].Name.Value })
		for _, s := range svcs {
			sv := &Service{
				Unit: names.ServiceUnit(g.plan.Lab, name, s.Name.Value), Name: s.Name.Value, NS: name,
				Needs: needs, Args: s.Args, User: s.User.Value, Group: s.Group.Value, Restart: "on-failure",
			}
			if s.Restart.Set {
				sv.Restart = s.Restart.Value
			}
			for _, e := range s.Env {
				sv.Env = append(sv.Env, [2]string{e.Name.Value, e.Value.Value})
			}
			sort.Slice(sv.Env, func(i, j int) bool { return sv.Env[i][0] < sv.Env[j][0] })
			if r := resolvers[name]; r != nil {
				sv.ResolvConf, sv.Hosts = r.HasResolvConf(), r.HasHosts
			}
			g.plan.Services = append(g.plan.Services, sv)
		}
	}
}
