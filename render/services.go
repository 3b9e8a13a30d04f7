package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/names"
)

// services writes each namespace's resolver files and each service's unit.
func (r *renderer) services() {
	files := map[string][]byte{}
	for _, res := range r.plan.Resolvers {
		if res.HasResolvConf() {
			f := r.resolvConf(res)
			files[res.NS] = append(files[res.NS], f...)
		}
		if res.HasHosts {
			f := r.hosts(res)
			files[res.NS] = append(files[res.NS], f...)
		}
	}
	for _, s := range r.plan.Services {
		r.service(s, files[s.NS])
	}
}

func (r *renderer) etcFile(ns, name string, lines []string) []byte {
	data := Header(r.plan) + strings.Join(lines, "\n") + "\n"
	r.files = append(r.files, File{Dir: NetnsDir, Name: ns + "/" + name, Data: []byte(data), Mode: 0o644})
	return []byte(data)
}

// resolvConf is resolv.conf(5) for a namespace.
func (r *renderer) resolvConf(res *generator.Resolver) []byte {
	var lines []string
	for _, a := range res.Nameservers {
		lines = append(lines, "nameserver "+a.String())
	}
	if len(res.Search) > 0 {
		lines = append(lines, "search "+strings.Join(res.Search, " "))
	}
	return r.etcFile(res.NS, "resolv.conf", lines)
}

// hosts is hosts(5) for a namespace: localhost first, as every system has
// it (a hosts file without it breaks `ping localhost`), then the lab's.
func (r *renderer) hosts(res *generator.Resolver) []byte {
	lines := []string{"127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"}
	for _, h := range res.Hosts {
		lines = append(lines, h.Addr.String()+"\t"+h.Name)
	}
	return r.etcFile(res.NS, "hosts", lines)
}

// service writes a service's unit. etc is the content of the namespace's
// resolver files: a service sees the files that were there when it
// started (a bind mount holds the file, and netgen replaces files whole),
// so their hash is in the unit and a change restarts the service.
func (r *renderer) service(s *generator.Service, etc []byte) {
	p := r.plan
	needs := strings.Join(s.Needs, " ")
	unitSec := newSection("Unit").
		add("Description", fmt.Sprintf("netgen lab %s: service %s in namespace %s", p.Lab, s.Name, s.NS)).
		add("Documentation", "man:systemd.exec(5) man:ip-netns(8)").
		// BindsTo: the service dies with its namespace; PartOf: a
		// restart of the namespace (or of a veth unit of it, which
		// re-creates its links) restarts the service in the new one.
		add("BindsTo", needs).
		add("After", needs).
		add("PartOf", needs+" "+p.Target).
		// A service that keeps failing is retried for as long as it
		// fails, once a second, as `restart` asks: no start limit.
		add("StartLimitIntervalSec", "0")
	if len(etc) > 0 {
		h := sha256.Sum256(etc)
		unitSec.add("X-Netgen-Resolver", hex.EncodeToString(h[:8]))
	}
	svc := newSection("Service").
		add("Type", "exec").
		add("NetworkNamespacePath", "/run/netns/"+s.NS)
	// What `ip netns exec` does (ip-netns(8)): the namespace's files over
	// the host's.
	if s.ResolvConf {
		svc.add("BindReadOnlyPaths", path.Join(names.NetnsDir, s.NS, "resolv.conf")+":/etc/resolv.conf")
	}
	if s.Hosts {
		svc.add("BindReadOnlyPaths", path.Join(names.NetnsDir, s.NS, "hosts")+":/etc/hosts")
	}
	svc.addQuoted("ExecStart", systemdWords(s.Args))
	svc.add("User", s.User).add("Group", s.Group)
	for _, e := range s.Env {
		svc.addQuoted("Environment", systemdQuote(e[0]+"="+e[1], false))
	}
	svc.add("Restart", s.Restart).
		add("RestartSec", "1").
		add("StandardOutput", "journal")
	install := newSection("Install").add("WantedBy", p.Target)
	r.write(UnitDir, s.Unit, unitSec, svc, install)
}

// addQuoted adds an entry whose value systemdWords or systemdQuote made:
// the write check lets its escapes through.
func (s *section) addQuoted(name, value string) *section {
	e := &unit.UnitEntry{Name: name, Value: value}
	s.s.Entries = append(s.s.Entries, e)
	if s.quoted == nil {
		s.quoted = map[*unit.UnitEntry]bool{}
	}
	s.quoted[e] = true
	return s
}

// systemdWords writes a command for ExecStart= so that systemd runs
// exactly these words: each is quoted as systemdQuote does, and "$" is
// doubled too, so no variable is expanded.
func systemdWords(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = systemdQuote(a, true)
	}
	return strings.Join(out, " ")
}

// systemdQuote writes one word for a unit file: "%" doubled (no
// specifier), with dollars "$" doubled (no variable; ExecStart= only), in
// double quotes with "\" and `"` escaped when it is empty or holds white
// space, a quote or a backslash (systemd's extract_first_word with
// EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE reads it back).
func systemdQuote(w string, dollar bool) string {
	w = strings.ReplaceAll(w, "%", "%%")
	if dollar {
		w = strings.ReplaceAll(w, "$", "$$")
	}
	if w != "" && !strings.ContainsAny(w, " \t\"'\\") {
		return w
	}
	w = strings.ReplaceAll(w, `\`, `\\`)
	w = strings.ReplaceAll(w, `"`, `\"`)
	return `"` + w + `"`
}
