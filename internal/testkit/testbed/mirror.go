package testbed

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// aptSource is one "deb" entry of the host's apt configuration.
type aptSource struct {
	uri        string
	suites     []string
	components []string
	signedBy   string
}

// hostMirror picks the Debian mirror to debootstrap from out of the host's own
// apt configuration. The project never names a mirror host in its files: the
// machine already knows which mirror it may reach, and CI machines may be
// given another one. NETGEN_TEST_MIRROR overrides the choice.
func hostMirror() (uri, keyring string, err error) {
	if m := os.Getenv("NETGEN_TEST_MIRROR"); m != "" {
		return m, "", nil
	}
	var all []aptSource
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil {
			all = append(all, parseDeb822(string(data))...)
		}
	}
	lists, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	for _, f := range append([]string{"/etc/apt/sources.list"}, lists...) {
		data, err := os.ReadFile(f)
		if err == nil {
			all = append(all, parseOneLine(string(data))...)
		}
	}
	src, ok := pickMirror(all, suite)
	if !ok {
		return "", "", fmt.Errorf("no Debian mirror for %q in the host's apt sources "+
			"(/etc/apt/sources.list, /etc/apt/sources.list.d/); set NETGEN_TEST_MIRROR", suite)
	}
	if src.signedBy != "" && !strings.Contains(src.signedBy, "\n") {
		if _, err := os.Stat(src.signedBy); err == nil {
			keyring = src.signedBy
		}
	}
	return src.uri, keyring, nil
}

// pickMirror prefers a source that already carries the wanted suite; failing
// that, a base suite's mirror, one that looks like Debian's first (a trixie
// host's mirror also serves bookworm). Security and update archives ("bookworm-security") never qualify:
// they hold no complete release.
func pickMirror(srcs []aptSource, want string) (aptSource, bool) {
	type cand struct {
		src   aptSource
		score int
		order int
	}
	var cands []cand
	for i, s := range srcs {
		if !strings.HasPrefix(s.uri, "http://") && !strings.HasPrefix(s.uri, "https://") &&
			!strings.HasPrefix(s.uri, "file:") && !strings.HasPrefix(s.uri, "ftp://") {
			continue
		}
		if len(s.components) > 0 && !contains(s.components, "main") {
			continue
		}
		score := 0
		for _, su := range s.suites {
			switch {
			case su == want:
				score = max(score, 3)
			case strings.ContainsAny(su, "-/"):
			case strings.Contains(s.uri, "debian"):
				score = max(score, 2)
			default:
				score = max(score, 1)
			}
		}
		if score > 0 {
			cands = append(cands, cand{s, score, i})
		}
	}
	if len(cands) == 0 {
		return aptSource{}, false
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	return cands[0].src, true
}

// parseDeb822 reads the stanzas of a .sources file (man sources.list,
// "DEB822-STYLE FORMAT").
func parseDeb822(text string) []aptSource {
	var out []aptSource
	flush := func(fields map[string]string) {
		if len(fields) == 0 {
			return
		}
		if strings.EqualFold(fields["enabled"], "no") || !contains(strings.Fields(fields["types"]), "deb") {
			return
		}
		for _, uri := range strings.Fields(fields["uris"]) {
			out = append(out, aptSource{
				uri:        uri,
				suites:     strings.Fields(fields["suites"]),
				components: strings.Fields(fields["components"]),
				signedBy:   strings.TrimSpace(fields["signed-by"]),
			})
		}
	}
	fields := map[string]string{}
	last := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush(fields)
			fields = map[string]string{}
			last = ""
		case strings.HasPrefix(line, "#"):
		case line[0] == ' ' || line[0] == '\t':
			// Continuation (an inline Signed-By key block, a long URIs list).
			if last != "" {
				fields[last] += "\n" + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
	}
	flush(fields)
	return out
}

// parseOneLine reads the classic "deb [options] uri suite component..."
// format.
func parseOneLine(text string) []aptSource {
	var out []aptSource
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		var signedBy string
		if strings.HasPrefix(f[0], "[") {
			// Options may be written "[a=b c=d]" or "[ a=b ]".
			var opts []string
			for len(f) > 0 {
				tok := f[0]
				f = f[1:]
				opts = append(opts, strings.Trim(tok, "[]"))
				if strings.HasSuffix(tok, "]") {
					break
				}
			}
			for _, o := range opts {
				if v, ok := strings.CutPrefix(o, "signed-by="); ok {
					signedBy = v
				}
			}
		}
		if len(f) < 2 {
			continue
		}
		out = append(out, aptSource{uri: f[0], suites: []string{f[1]}, components: f[2:], signedBy: signedBy})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
