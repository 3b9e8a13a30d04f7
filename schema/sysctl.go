package schema

import "strings"

// perIfPrefixes are the sysctl directories that have one entry per interface.
var perIfPrefixes = []string{"net/ipv4/conf/", "net/ipv6/conf/", "net/ipv4/neigh/", "net/ipv6/neigh/", "net/mpls/conf/"}

// SysctlPath returns the /proc/sys-relative path of a sysctl key and, when the
// key is about one interface of the namespace, that interface's name.
//
// Keys are written with dots (net.ipv4.conf.eth0.rp_filter) or, like
// sysctl(8) allows, with slashes. Interface names may themselves contain
// dots (eth0.10), so a dotted key is matched against the namespace's
// interface names, longest first.
func SysctlPath(key string, ifnames map[string]bool) (path, iface string) {
	if strings.Contains(key, "/") {
		path = strings.TrimPrefix(key, "/")
		for _, p := range perIfPrefixes {
			if rest, ok := strings.CutPrefix(path, p); ok {
				name, _, _ := strings.Cut(rest, "/")
				return path, perIfName(name)
			}
		}
		return path, ""
	}
	for _, p := range perIfPrefixes {
		dotted := strings.ReplaceAll(p, "/", ".")
		rest, ok := strings.CutPrefix(key, dotted)
		if !ok {
			continue
		}
		best := ""
		for name := range ifnames {
			if strings.HasPrefix(rest, name+".") && len(name) > len(best) {
				best = name
			}
		}
		if best == "" {
			best, _, _ = strings.Cut(rest, ".")
		}
		tail := strings.TrimPrefix(rest, best+".")
		return p + best + "/" + strings.ReplaceAll(tail, ".", "/"), perIfName(best)
	}
	return strings.ReplaceAll(key, ".", "/"), ""
}

// perIfName is "" for the directories that are not interfaces.
func perIfName(name string) string {
	switch name {
	case "all", "default", "lo":
		return ""
	}
	return name
}
