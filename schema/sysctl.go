package schema

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/netgen-lab/netgen/diag"
)

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

// SysctlLess orders the sysctls of one namespace by their paths: from the
// most general to the most specific (fewer path components first), then
// alphabetically. Writing net.ipv4.ip_forward resets every
// net.ipv4.conf.*.forwarding, and writing a conf.all key resets conf.default
// too (disable_ipv6, forwarding): written in this order, the more specific
// key a lab sets is the one that stays.
func SysctlLess(a, b string) bool {
	na, nb := strings.Count(a, "/"), strings.Count(b, "/")
	if na != nb {
		return na < nb
	}
	return a < b
}

// The kernel's per-namespace net.* sysctls, generated from Debian 12's
// kernel: see sysctl_keys.txt's header and sysctlkeys_debian_test.go.
//
//go:generate sh -c "NETGEN_BOOT=1 flock /tmp/netgen-boot.lock go test -run '^TestSysctlKeysFromDebian$' -count=1 -timeout 60m . -update"
//go:embed sysctl_keys.txt
var sysctlKeysText string

// sysctlKey is what a network namespace of the target kernel has for a key.
type sysctlKey struct {
	// ints is how many integers the value holds at most; 0: any text.
	ints int
	// access is "rw", "ro" (read-only in a namespace) or "host" (only in
	// the root namespace).
	access string
	// module must be loaded for the key to exist; "" when built in.
	module string
}

// sysctlKeys parses the embedded list once, on the first lab that has a
// sysctl (0.3 ms for its 800 lines).
var sysctlKeys = sync.OnceValue(func() map[string]sysctlKey {
	keys := map[string]sysctlKey{}
	for _, line := range strings.Split(sysctlKeysText, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || strings.HasPrefix(line, "#") {
			continue
		}
		k := sysctlKey{access: f[2]}
		if f[3] != "-" {
			k.module = f[3]
		}
		switch {
		case f[1] == "int":
			k.ints = 1
		case strings.HasPrefix(f[1], "int"):
			k.ints, _ = strconv.Atoi(f[1][3:])
		}
		keys[f[0]] = k
	}
	return keys
})

// perIfRE splits a per-interface path into its directory, interface and key.
var perIfRE = regexp.MustCompile(`^(net/(?:ipv4|ipv6)/(?:conf|neigh)|net/mpls/conf)/([^/]+)/(.+)$`)

// genericSysctl is the path as the key list writes it: an interface's
// directory (lo included) becomes "*"; all and default stay.
func genericSysctl(path string) string {
	if m := perIfRE.FindStringSubmatch(path); m != nil && m[2] != "all" && m[2] != "default" {
		return m[1] + "/*/" + m[3]
	}
	return path
}

// sysctlIntRE is one integer as the kernel's proc_dointvec reads it
// (strtoul with base 0: decimal, 0x hex, leading-zero octal).
var sysctlIntRE = regexp.MustCompile(`^-?(0[xX][0-9a-fA-F]+|[0-9]+)$`)

// setSysctl is a sysctl a namespace of the lab sets, by its path.
type setSysctl struct {
	s     Sysctl
	path  string
	iface string
}

// sysctls checks every namespace's sysctls: the key exists in a network
// namespace of the target kernel and is writable there, the value is what
// the key takes, a per-interface key names an interface the lab creates in
// that namespace, and no key is set twice. It records what each namespace
// sets for the checks that depend on it (IPv6 switched off).
func (v *validator) sysctls() {
	// The names are grouped once, and only for a lab that has sysctls:
	// scanning every interface once per namespace made validation quadratic
	// (45 ms of 48 for 1000 namespaces).
	var byNS map[string]map[string]bool
	for _, ns := range v.lab.Namespaces {
		if len(ns.Sysctls) == 0 {
			continue
		}
		if byNS == nil {
			byNS = map[string]map[string]bool{}
			for k := range v.x.Ifaces {
				if byNS[k.NS] == nil {
					byNS[k.NS] = map[string]bool{}
				}
				byNS[k.NS][k.If] = true
			}
		}
		name := ns.Name.Value
		names := byNS[name]
		set := map[string]setSysctl{}
		for _, s := range ns.Sysctls {
			key := s.Key.Value
			if !sysctlRE.MatchString(key) {
				v.errorf(s.Key.Pos, "sysctl %q is not a net.* key", key).Hint = "only network sysctls are per namespace, e.g. net.ipv4.ip_forward"
				continue
			}
			path, iface := SysctlPath(key, names)
			if part, bad := badSysctlPart(path); bad {
				v.errorf(s.Key.Pos, "sysctl %q names /proc/sys/%s, whose part %q is no sysctl directory or key", key, path, part).Hint =
					"a dot may stay only inside the name of an interface of the namespace (net.ipv4.conf.eth0.10.rp_filter, net/ipv4/conf/a..b/rp_filter)"
				continue
			}
			if first, dup := set[path]; dup {
				v.errorf(s.Key.Pos, "sysctl %q is set twice (first at line %d)", key, first.s.Key.Pos.Line)
				continue
			}
			set[path] = setSysctl{s, path, iface}
			if iface != "" && !names[iface] {
				// Which key it is depends on where the name ends
				// (net.ipv4.conf.eth0.10.rp_filter): the name comes first.
				v.errorf(s.Key.Pos, "sysctl %q is about interface %q, which namespace %q does not have", key, iface, name)
				continue
			}
			k, ok := v.sysctlKey(s, path)
			if ok {
				v.sysctlValue(s, k)
			}
		}
		if v.nsSysctls == nil {
			v.nsSysctls = map[string]map[string]setSysctl{}
		}
		v.nsSysctls[name] = set
	}
}

// badSysctlPart returns the first part of a sysctl path that is empty, "."
// or "..": a path that would leave net/ or that names no file. A ".."
// inside a part is fine: "a..b" is a valid interface name, and SysctlPath
// has already matched the dotted form against the namespace's names (an
// unmatched "a..b" splits into an empty part).
func badSysctlPart(path string) (string, bool) {
	for _, part := range strings.Split(path, "/") {
		if part == "" || part == "." || part == ".." {
			return part, true
		}
	}
	return "", false
}

// sysctlKey checks that the key exists and can be written in a namespace.
func (v *validator) sysctlKey(s Sysctl, path string) (sysctlKey, bool) {
	key := s.Key.Value
	keys := sysctlKeys()
	generic := genericSysctl(path)
	k, ok := keys[generic]
	if !ok {
		dg := v.errorf(s.Key.Pos, "unknown sysctl %q: Debian 12's kernel has no such key in a network namespace", key)
		dg.Hint = sysctlHint(key, path, generic, keys)
		return k, false
	}
	switch k.access {
	case "host":
		v.errorf(s.Key.Pos, "sysctl %q is not per network namespace: only the host's root namespace has it", key).Hint =
			"it is global: set it on the host (/etc/sysctl.d/), it applies to every namespace"
		return k, false
	case "ro":
		v.errorf(s.Key.Pos, "sysctl %q is read-only inside a network namespace", key).Hint = "only the host's root namespace can set it, if anything can"
		return k, false
	}
	if k.module != "" {
		v.warnf(s.Key.Pos, "sysctl %q exists only once kernel module %s is loaded: without it the namespace's unit fails", key, k.module).Hint =
			fmt.Sprintf("load it at boot: echo %s >/etc/modules-load.d/%s.conf", k.module, k.module)
	}
	return k, true
}

// sysctlHint suggests what an unknown key may have meant.
func sysctlHint(key, path, generic string, keys map[string]sysctlKey) string {
	slashes := strings.Contains(key, "/")
	show := func(p string) string {
		if slashes {
			return p
		}
		return strings.ReplaceAll(p, "/", ".")
	}
	if slashes && strings.Contains(key, ".") {
		if alt := strings.ReplaceAll(path, ".", "/"); keys[genericSysctl(alt)].access != "" {
			return fmt.Sprintf("the key mixes `.` and `/`, which names /proc/sys/%s; write %s or %s (a dot stays only inside an interface name: net/ipv4/conf/eth0.10/rp_filter)",
				path, strings.ReplaceAll(alt, "/", "."), alt)
		}
	}
	if m := perIfRE.FindStringSubmatch(path); m != nil && m[2] != "all" && m[2] != "default" {
		// net.ipv4.neigh.default.gc_thresh1 and its kin: in the default
		// directory only, and global.
		if def := m[1] + "/default/" + m[3]; keys[def].access == "host" {
			return fmt.Sprintf("no interface has %s of its own, and %s is global: set it on the host (/etc/sysctl.d/)", m[3], show(def))
		}
	}
	candidates := make([]string, 0, len(keys))
	for p := range keys {
		candidates = append(candidates, p)
	}
	sort.Strings(candidates)
	best := diag.Suggest(generic, candidates)
	if best == "" {
		return ""
	}
	if m := perIfRE.FindStringSubmatch(path); m != nil {
		best = strings.Replace(best, "/*/", "/"+m[2]+"/", 1)
	}
	return fmt.Sprintf("did you mean %s?", show(best))
}

// sysctlValue checks a value against what the key takes.
func (v *validator) sysctlValue(s Sysctl, k sysctlKey) {
	val := s.Value.Value
	switch {
	case val == "true" || val == "false":
		v.errorf(s.Value.Pos, "sysctl values are numbers or words the kernel reads, not %s", val).Hint = map[string]string{"true": "write 1", "false": "write 0"}[val]
		return
	case !sysValRE.MatchString(val):
		v.errorf(s.Value.Pos, "sysctl value %q contains characters the kernel does not take here", val)
		return
	}
	if k.ints == 0 {
		return
	}
	f := strings.Fields(val)
	ok := len(f) >= 1 && len(f) <= k.ints
	for _, x := range f {
		ok = ok && sysctlIntRE.MatchString(x)
	}
	if ok {
		return
	}
	what := "an integer"
	if k.ints > 1 {
		what = fmt.Sprintf("up to %d integers separated by spaces", k.ints)
	}
	dg := v.errorf(s.Value.Pos, "sysctl %q takes %s, not %q", s.Key.Value, what, val)
	switch strings.ToLower(val) {
	case "yes", "on", "y", "enable", "enabled":
		dg.Hint = "write 1"
	case "no", "off", "n", "disable", "disabled":
		dg.Hint = "write 0"
	default:
		if n, err := strconv.ParseFloat(val, 64); err == nil && k.ints == 1 && n == float64(int64(n)) {
			dg.Hint = fmt.Sprintf("write %d", int64(n))
		}
	}
}

// sysctlInt is the integer value a namespace sets for path, and whether it
// sets one.
func (v *validator) sysctlInt(ns, path string) (int64, setSysctl, bool) {
	s, ok := v.nsSysctls[ns][path]
	if !ok {
		return 0, s, false
	}
	f := strings.Fields(s.s.Value.Value)
	if len(f) == 0 {
		return 0, s, false
	}
	n, err := strconv.ParseInt(f[0], 0, 64)
	if err != nil {
		return 0, s, false
	}
	return n, s, true
}
