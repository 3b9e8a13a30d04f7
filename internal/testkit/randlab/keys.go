package randlab

import (
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

// objectKeys are the keys of each object of the lab format, version 1, as
// the format's tables list them. A key path names the object, then the key:
// "bridges.*.stp" (a bridge's stp), "veths.end.vlan.trunk" (the trunk of a
// veth end's port VLANs), "vlans.routes.via".
var objectKeys = map[string][]string{
	"": {"version", "name", "namespaces", "bridges", "veths", "vlans", "taps", "uplinks",
		"dns", "bonds", "dummies", "vrfs", "wires", "pools"},
	"namespaces.*":            {"loopback", "sysctl", "services", "dns"},
	"namespaces.*.services.*": {"exec", "user", "group", "restart", "environment"},
	"namespaces.*.dns":        {"nameservers", "search", "hosts"},
	"dns":                     {"nameservers", "search", "hosts", "names"},
	"bridges.*": {"namespace", "stp", "priority", "forward-delay", "hello-time", "max-age", "ageing-time",
		"vlan-filtering", "default-pvid", "group-forward-mask", "mtu", "mac", "addresses", "gateway", "routes",
		"masquerade", "pool"},
	"veths":     {"ends", "mtu", "netem", "pool"},
	"veths.end": {"name", "addresses", "gateway", "routes", "bridge", "vlan", "mtu", "mac", "external", "masquerade", "netem", "port"},
	"vlans": {"parent", "id", "name", "addresses", "gateway", "routes", "bridge", "vlan", "mtu", "mac",
		"masquerade", "netem", "port", "pool"},
	"taps": {"name", "user", "group", "multi-queue", "bridge", "vlan", "addresses", "gateway", "routes", "mtu", "mac",
		"masquerade", "netem", "port"},
	"uplinks": {"interface", "mac", "bridge", "vlan", "mtu", "port"},
	"bonds": {"name", "members", "mode", "lacp-rate", "xmit-hash-policy", "miimon",
		"addresses", "gateway", "routes", "bridge", "vlan", "mtu", "mac", "port", "masquerade"},
	"dummies": {"name", "addresses", "mtu", "mac"},
	"vrfs":    {"name", "table", "members"},
	"pools.*": {"ipv4", "ipv6", "prefix", "prefix6"},
}

// routeKeys and portVLANKeys are the keys of a route and of a port's VLANs,
// under every object that has routes or port VLANs.
var (
	routeKeys    = []string{"to", "via", "metric"}
	portVLANKeys = []string{"access", "trunk", "native"}
	netemKeys    = []string{"delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "rate", "limit"}
	portOptKeys  = []string{"cost", "priority", "isolated", "learning", "flood", "hairpin", "bpdu-guard", "root-guard"}
	// subKeys are the keys of the maps under these keys, wherever they are.
	subKeys = map[string][]string{"routes": routeKeys, "vlan": portVLANKeys, "netem": netemKeys, "port": portOptKeys}
)

// FormatKeys returns every key path of the format, sorted.
func FormatKeys() []string {
	var out []string
	for obj, keys := range objectKeys {
		for _, k := range keys {
			p := join(obj, k)
			out = append(out, p)
			for _, sk := range subKeys[k] {
				out = append(out, p+"."+sk)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Forms are the choices the generator records in Lab.Forms: every one must
// show up in a few hundred labs (the coverage test), as every key must.
var Forms = []string{
	"name:omitted", "name:max-length", "name:digit-first",
	"ref:bare", "ref:host", "ref:ns",
	"veth:list", "veth:map", "veth:host-host", "veth:host-ns", "veth:ns-ns-same", "veth:ns-ns", "veth:same-names",
	"end:scalar", "end:map", "end:external",
	"bridge:host", "bridge:ns", "bridge:namespace-host",
	"tap:host", "tap:ns", "tap:scalar", "tap:map",
	"uplink:interface", "uplink:mac", "uplink:scalar",
	"loopback:false",
	"sysctl:per-interface", "sysctl:slash", "sysctl:spaces",
	"addr:v4", "addr:v6", "addr:p2p", "addr:host-prefix", "addr:secondary",
	"gateway:v4", "gateway:v6", "gateway:link-local", "gateway:on-link",
	"route:default", "route:cidr", "route:host", "route:device", "route:metric", "route:link-local-via",
	"mac:upper-case",
	"yaml:flow", "yaml:block", "yaml:quoted", "yaml:alias", "bool:word", "int:hex",
	// The VLAN population only.
	"vlan-parent:veth", "vlan-parent:tap", "vlan-parent:bridge", "vlan-parent:uplink", "vlan-parent:vlan", "vlan-parent:bond",
	"vlan:default-name", "vlan:named",
	"port:access", "port:trunk", "port:native", "trunk:range", "trunk:scalar",
	"default-pvid:none", "default-pvid:id",
	// The additions to version 1.
	"exec:string", "exec:list", "dns:no-nameservers", "dns:host-list",
	"masquerade:true", "masquerade:false", "masquerade:ipv4", "masquerade:ipv6",
	"pool:bridge", "pool:veth", "pool:vlan", "pool:p2p", "pool:veth-end-auto", "addr:auto", "gateway:auto",
	// The full kernel only.
	"netem:entry", "netem:end", "netem:end-empty",
}

func join(obj, key string) string {
	if obj == "" {
		return key
	}
	return obj + "." + key
}

// KeysOf returns the key paths a lab's YAML uses, read back from its text
// (aliases and merge keys resolved), so the coverage test counts what was
// written, not what the generator meant to write.
func KeysOf(src []byte) (map[string]bool, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 {
		return nil, fmt.Errorf("randlab: %d YAML documents", len(doc.Content))
	}
	keys := map[string]bool{}
	object(doc.Content[0], "", keys, func(key string, v *yaml.Node) {
		switch key {
		case "namespaces":
			each(v, func(_ string, o *yaml.Node) {
				object(o, "namespaces.*", keys, func(k string, v *yaml.Node) {
					switch k {
					case "services":
						each(v, func(_ string, s *yaml.Node) { object(s, "namespaces.*.services.*", keys, nil) })
					case "dns":
						object(v, "namespaces.*.dns", keys, nil)
					}
				})
			})
		case "bridges", "pools":
			obj := key + ".*"
			each(v, func(_ string, o *yaml.Node) { object(o, obj, keys, nil) })
		case "dns":
			object(v, "dns", keys, nil)
		case "veths":
			for _, e := range items(v) {
				ends := e
				if e.Kind == yaml.MappingNode {
					ends = nil
					object(e, "veths", keys, func(k string, v *yaml.Node) {
						if k == "ends" {
							ends = v
						}
					})
				}
				for _, end := range items(ends) {
					object(end, "veths.end", keys, nil)
				}
			}
		case "vlans", "taps", "uplinks", "bonds", "dummies", "vrfs":
			for _, o := range items(v) {
				object(o, key, keys, nil)
			}
		}
	})
	return keys, nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out []*yaml.Node
	for _, c := range n.Content {
		out = append(out, resolve(c))
	}
	return out
}

// each calls f for every key of a mapping, merge keys (<<) resolved.
func each(n *yaml.Node, f func(key string, v *yaml.Node)) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, resolve(n.Content[i+1])
		if k == "<<" {
			if v.Kind == yaml.SequenceNode {
				for _, m := range items(v) {
					each(m, f)
				}
			} else {
				each(v, f)
			}
			continue
		}
		f(k, v)
	}
}

// object records the keys of one object at path obj, and those of its
// routes and port VLANs; more, if set, sees every key and value too.
func object(n *yaml.Node, obj string, keys map[string]bool, more func(key string, v *yaml.Node)) {
	each(n, func(k string, v *yaml.Node) {
		p := join(obj, k)
		keys[p] = true
		switch k {
		case "routes":
			for _, r := range items(v) {
				each(r, func(rk string, _ *yaml.Node) { keys[p+"."+rk] = true })
			}
		case "vlan", "netem", "port":
			each(v, func(vk string, _ *yaml.Node) { keys[p+"."+vk] = true })
		}
		if more != nil {
			more(k, v)
		}
	})
}
