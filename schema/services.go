package schema

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Service is a program the lab runs inside a namespace (`services:`).
type Service struct {
	Name Str
	// Exec is the command as written: ExecStr for the string form, ExecList
	// for the list form; Args is the command split into words (by
	// validation, for the string form).
	ExecStr  Str
	ExecList []Str
	ExecPos  Pos
	ExecSet  bool
	Args     []string
	User     Str
	Group    Str
	Restart  Str
	Env      []EnvVar
}

// EnvVar is one `environment:` entry of a service.
type EnvVar struct {
	Name, Value Str
}

// DNS is a `dns:` map, lab-wide or a namespace's own. A key not written is
// nil (NameserversSet and SearchSet tell "not written" from "empty list",
// which replaces the lab's default with nothing).
type DNS struct {
	Pos            Pos
	Nameservers    []IP
	NameserversSet bool
	Search         []Str
	SearchSet      bool
	Hosts          []HostEntry
	HostsSet       bool
	Names          Bool
}

// HostEntry is one `hosts:` entry: a host name and its addresses.
type HostEntry struct {
	Name  Str
	Addrs []IP
	// Empty says no address was written (an invalid one is reported by
	// decoding).
	Empty bool
}

// service decodes one `services:` entry.
func (d *decoder) service(e entry) *Service {
	s := &Service{Name: Str{Value: e.key, Pos: e.kpos, Set: true}}
	what := fmt.Sprintf("service %q", e.key)
	d.fields(e.val, what, serviceKeys, func(key string, v *yaml.Node, kpos Pos) bool {
		switch key {
		case "exec":
			s.ExecPos, s.ExecSet = pos(v), true
			if v.Kind == yaml.SequenceNode {
				for _, c := range d.list(v, "exec") {
					if a := d.str(c, "an argument of exec"); a.Set {
						s.ExecList = append(s.ExecList, a)
					}
				}
			} else {
				s.ExecStr = d.str(v, "exec")
			}
		case "user":
			s.User = d.str(v, "user")
		case "group":
			s.Group = d.str(v, "group")
		case "restart":
			s.Restart = d.str(v, "restart")
		case "environment":
			for _, ev := range d.namedMap(v, "environment") {
				val := d.str(ev.val, fmt.Sprintf("the value of %q", ev.key))
				if val.Set {
					s.Env = append(s.Env, EnvVar{Name: Str{Value: ev.key, Pos: ev.kpos, Set: true}, Value: val})
				}
			}
		default:
			return false
		}
		return true
	})
	if missing(e.val, "exec") {
		d.errorf(e.kpos, "service %q has no `exec`", e.key).Hint = "give the command: `exec: \"nc -lk 8080\"` or a list of arguments"
	}
	return s
}

// dns decodes a `dns:` map; top says it is the lab-wide one (only it takes
// `names`).
func (d *decoder) dns(n *yaml.Node, what string, top bool) *DNS {
	out := &DNS{Pos: pos(n)}
	d.fields(n, what, dnsKeys, func(key string, v *yaml.Node, kpos Pos) bool {
		if isNull(v) {
			// Not written, like every key with no value: an empty
			// list (`search: []`) is what replaces the lab's default.
			return true
		}
		switch key {
		case "nameservers":
			out.NameserversSet = true
			for _, c := range d.list(v, "nameservers") {
				if ip := d.ip(c, "a nameserver"); ip.Set {
					out.Nameservers = append(out.Nameservers, ip)
				}
			}
		case "search":
			out.SearchSet = true
			for _, c := range d.list(v, "search") {
				if s := d.str(c, "a search domain"); s.Set {
					out.Search = append(out.Search, s)
				}
			}
		case "hosts":
			out.HostsSet = true
			for _, h := range d.namedMap(v, "hosts") {
				he := HostEntry{Name: Str{Value: h.key, Pos: h.kpos, Set: true},
					Empty: isNull(h.val) || (h.val.Kind == yaml.SequenceNode && len(h.val.Content) == 0)}
				what := fmt.Sprintf("the address of host %q", h.key)
				if h.val.Kind == yaml.SequenceNode {
					for _, c := range d.list(h.val, what) {
						if ip := d.ip(c, what); ip.Set {
							he.Addrs = append(he.Addrs, ip)
						}
					}
				} else if ip := d.ip(h.val, what); ip.Set {
					he.Addrs = append(he.Addrs, ip)
				}
				out.Hosts = append(out.Hosts, he)
			}
		case "names":
			if !top {
				d.errorf(kpos, "`names` is a lab-wide setting").Hint = "move `names: true` to the top-level `dns:`; it makes every namespace's name resolve in every namespace"
				return true
			}
			out.Names = d.bool(v, "names")
		default:
			return false
		}
		return true
	})
	return out
}

var (
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// hostNameRE is a host name as resolvers take it: dot-separated labels
	// of letters, digits, - and _ (namespace names may hold _), each 1-63
	// bytes, not starting or ending with -.
	hostLabelRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$`)
)

// Restart values of a service.
var restartValues = []string{"on-failure", "always", "no"}

// services validates every namespace's services and the lab's dns.
func (v *validator) services() {
	if v.lab.DNS != nil {
		v.dns(v.lab.DNS)
	}
	for _, ns := range v.lab.Namespaces {
		if ns.DNS != nil {
			v.dns(ns.DNS)
		}
		for _, s := range ns.Services {
			v.service(ns, s)
		}
	}
}

func (v *validator) service(ns *Namespace, s *Service) {
	if msg := nameProblem(s.Name.Value, MaxNSName, ifNameRE, "service name", "A-Z a-z 0-9 _ . -"); msg != "" {
		v.errorf(s.Name.Pos, "%s", msg)
	}
	if s.ExecSet {
		s.Args = v.execArgs(s)
	}
	for _, x := range []Str{s.User, s.Group} {
		if msg := userGroupProblem(x.Value); x.Set && msg != "" {
			v.errorf(x.Pos, "%q is not a user or group name or number: %s", x.Value, msg).Hint =
				"a name starts with a letter or _ and goes on with letters, digits, _ . - (at most 31 bytes); a number is a uid or gid"
		}
	}
	if s.Restart.Set && !slices.Contains(restartValues, s.Restart.Value) {
		v.errorf(s.Restart.Pos, "restart %q is not one of %s", s.Restart.Value, strings.Join(restartValues, ", ")).Hint =
			"on-failure (the default) restarts a service that fails, always also one that exits cleanly, no never"
	}
	for _, e := range s.Env {
		if !envNameRE.MatchString(e.Name.Value) {
			v.errorf(e.Name.Pos, "environment variable name %q is not a name", e.Name.Value).Hint = "a name is a letter or _ followed by letters, digits and _"
		}
		if strings.ContainsAny(e.Value.Value, "\x00\n\r") {
			v.errorf(e.Value.Pos, "the value of %q contains a line break or NUL, which an environment cannot carry to systemd", e.Name.Value)
		}
	}
}

// execArgs checks a service's command and returns its words, nil when it
// has errors.
func (v *validator) execArgs(s *Service) []string {
	var args []string
	var argPos []Pos
	if s.ExecList != nil || !s.ExecStr.Set {
		for _, a := range s.ExecList {
			args = append(args, a.Value)
			argPos = append(argPos, a.Pos)
		}
	} else {
		words, msg := SplitExec(s.ExecStr.Value)
		if msg != "" {
			v.errorf(s.ExecStr.Pos, "exec %q: %s", s.ExecStr.Value, msg).Hint = "write the command as a list of arguments to pass any character but NUL"
			return nil
		}
		args = words
		for range words {
			argPos = append(argPos, s.ExecStr.Pos)
		}
	}
	if len(args) == 0 {
		v.errorf(s.ExecPos, "exec of service %q is empty", s.Name.Value).Hint = "give the program and its arguments"
		return nil
	}
	ok := true
	for i, a := range args {
		switch {
		case strings.ContainsRune(a, 0):
			v.errorf(argPos[i], "an argument of exec contains a NUL byte")
			ok = false
		case strings.ContainsAny(a, "\n\r"):
			v.errorf(argPos[i], "an argument of exec contains a line break").Hint = "a unit file line cannot carry one"
			ok = false
		case a == ";":
			v.errorf(argPos[i], "a lone `;` in exec would separate two commands for systemd").Hint = "a service runs one program; run a shell (`[sh, -c, \"a; b\"]`) for more"
			ok = false
		}
	}
	prog := args[0]
	switch {
	case !ok:
	case prog == "":
		v.errorf(argPos[0], "the program of exec is empty")
		ok = false
	case strings.ContainsAny(prog[:1], "@-:+!|"):
		v.errorf(argPos[0], "program %q starts with %q, which systemd reads as a prefix of ExecStart=", prog, prog[:1]).Hint = "give the program by its path or name"
		ok = false
	case strings.Contains(prog, "/") && !strings.HasPrefix(prog, "/"):
		v.errorf(argPos[0], "program %q is a relative path", prog).Hint = "give an absolute path, or a bare name found on PATH"
		ok = false
	}
	if !ok {
		return nil
	}
	return args
}

// SplitExec splits a command string into words the way systemd's
// ExecStart= does for the forms netgen takes: words separated by white
// space, each possibly (partly) in "double" or 'single' quotes. A
// backslash is refused (systemd's C escapes are more than a lab needs; the
// list form passes any character), so are specifiers (%) and variables
// ($), which netgen writes literally (see render): "a $HOME" is the two
// words a and $HOME.
func SplitExec(s string) ([]string, string) {
	var words []string
	var cur strings.Builder
	in := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			return nil, "contains a NUL byte"
		case c == '\n' || c == '\r':
			return nil, "contains a line break"
		case c == '\\':
			return nil, "contains a backslash"
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Sprintf("has an unclosed %c quote", quote)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, ""
}

func (v *validator) dns(d *DNS) {
	for _, s := range d.Search {
		if msg := hostNameProblem(s.Value); msg != "" {
			v.errorf(s.Pos, "search domain %q %s", s.Value, msg)
		}
	}
	if len(d.Search) > 6 {
		v.warnf(d.Search[6].Pos, "the resolver reads at most 6 search domains (glibc before 2.26); the rest may be ignored")
	}
	if len(d.Nameservers) > 3 {
		v.warnf(d.Nameservers[3].Pos, "the resolver reads at most 3 nameservers; the rest are ignored")
	}
	for _, ns := range d.Nameservers {
		if ns.Addr.Zone() != "" || ns.Addr.IsUnspecified() {
			v.errorf(ns.Pos, "%s cannot be a nameserver", ns.Addr)
		}
	}
	for _, h := range d.Hosts {
		if msg := hostNameProblem(h.Name.Value); msg != "" {
			v.errorf(h.Name.Pos, "host name %q %s", h.Name.Value, msg)
		}
		if h.Empty {
			v.errorf(h.Name.Pos, "host %q has no address", h.Name.Value)
		}
	}
}

// hostNameProblem says what is wrong with a host or domain name, "" when
// nothing is.
func hostNameProblem(n string) string {
	if n == "" {
		return "is empty"
	}
	if len(n) > 253 {
		return fmt.Sprintf("is %d bytes long; the limit is 253", len(n))
	}
	for _, l := range strings.Split(strings.TrimSuffix(n, "."), ".") {
		if !hostLabelRE.MatchString(l) {
			return "is not a host name: dot-separated labels of letters, digits, - and _, 1-63 bytes each, not starting or ending with -"
		}
	}
	return ""
}

// Resolver is what programs in one namespace see: the lab's dns with the
// namespace's own replacing it key by key, and the lab's namespace names
// when `names: true`.
type Resolver struct {
	Nameservers []netip.Addr
	Search      []string
	// Hosts maps a host name to its addresses, in the lab's order.
	Hosts []ResolvedHost
	Names bool
}

// ResolvedHost is one host name and its addresses.
type ResolvedHost struct {
	Name  string
	Addrs []netip.Addr
}

// ResolverOf is the effective dns of namespace ns, nil when the lab and
// the namespace say nothing about it.
func ResolverOf(lab *Lab, ns *Namespace) *Resolver {
	top, own := lab.DNS, ns.DNS
	if top == nil && own == nil {
		return nil
	}
	r := &Resolver{}
	pick := func(f func(*DNS) bool) *DNS {
		if own != nil && f(own) {
			return own
		}
		if top != nil && f(top) {
			return top
		}
		return nil
	}
	if d := pick(func(d *DNS) bool { return d.NameserversSet }); d != nil {
		for _, ip := range d.Nameservers {
			r.Nameservers = append(r.Nameservers, ip.Addr)
		}
	}
	if d := pick(func(d *DNS) bool { return d.SearchSet }); d != nil {
		for _, s := range d.Search {
			r.Search = append(r.Search, s.Value)
		}
	}
	if d := pick(func(d *DNS) bool { return d.HostsSet }); d != nil {
		for _, h := range d.Hosts {
			rh := ResolvedHost{Name: h.Name.Value}
			for _, a := range h.Addrs {
				rh.Addrs = append(rh.Addrs, a.Addr)
			}
			r.Hosts = append(r.Hosts, rh)
		}
		sort.SliceStable(r.Hosts, func(i, j int) bool { return r.Hosts[i].Name < r.Hosts[j].Name })
	}
	r.Names = top != nil && top.Names.Value
	return r
}
