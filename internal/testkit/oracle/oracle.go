package oracle

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultNetworkd is where Debian installs systemd-networkd.
const DefaultNetworkd = "/lib/systemd/systemd-networkd"

// ConfigDir is where networkd sees the files under test; paths in its log
// messages and in LinkState.NetworkFile start with it.
const ConfigDir = "/etc/systemd/network"

// Options tune Run. The zero value is usable.
type Options struct {
	// Timeout bounds the wait for links to settle (default 20s). The whole
	// run is also bounded by the context.
	Timeout time.Duration

	// Prepare holds shell commands run, in order, inside the namespaces
	// before networkd starts (under `sh -ex`: the first failure aborts the
	// run), e.g. to create links that stand in for physical NICs:
	// "ip link add enp3s0 type veth peer name peer0". The kernel of the
	// development VM has veth, bridge, vxlan, macvlan, tun/tap but no dummy,
	// bond or 802.1Q VLAN support.
	Prepare []string

	// WaitFor lists links that must be settled (networkd ADMIN_STATE
	// configured, unmanaged, failed or linger) before the state is captured.
	// An entry "NAME:STATE[,STATE...]" waits for one of the given admin
	// states instead, e.g. "peer0:configuring" for a DHCP client.
	// When nil, Run waits until every [NetDev] Name= (and veth [Peer] Name=)
	// of the directory's .netdev files exists and every link that exists is
	// settled. A link networkd keeps "configuring" (DHCP without a server,
	// for instance) never settles: name the links to wait for then.
	WaitFor []string

	// SettleFor is how long every awaited link must stay settled before
	// the state is captured (default 0: the first moment they all are).
	// networkd 252 takes a configured link back to "configuring" for a
	// moment when, say, its veth peer joins a bridge and it gains carrier:
	// a lab whose links all looked settled was captured with one
	// configuring in about 1 run of 30.
	SettleFor time.Duration

	// Inspect holds shell commands run inside the namespaces after the links
	// settled, while networkd still runs (e.g. "bridge -j vlan show"); see
	// Result.Inspect.
	Inspect []string

	// LogLevel is networkd's SYSTEMD_LOG_LEVEL (default "debug"; priorities
	// are exact whatever the level, see LogEntry).
	LogLevel string

	// VendorFiles keeps the distribution's networkd files
	// (/usr/lib/systemd/network, e.g. Debian's 80-container-ve.network that
	// matches veths named ve-*) and networkd.conf.d drop-ins visible, as on a
	// real host. By default they are hidden, so only the files under test
	// count.
	VendorFiles bool

	// Networkd is the networkd binary (default DefaultNetworkd).
	Networkd string
}

// LinkState is networkd's view of one link, from
// /run/systemd/netif/links/IFINDEX.
type LinkState struct {
	Index        int
	AdminState   string // "configured", "unmanaged", "failed", "configuring", "pending", "linger"
	OperState    string // "routable", "degraded", "carrier", "no-carrier", "off", ...
	CarrierState string
	AddressState string
	// NetworkFile is the path of the .network file networkd applied, as
	// networkd saw it ("/etc/systemd/network/10-br0.network"); File is the
	// same path relative to the directory under test ("10-br0.network").
	// Both are empty for an unmanaged link.
	NetworkFile string
	File        string
	// Fields holds every KEY=VALUE of the state file.
	Fields map[string]string
}

// CommandOutput is the result of one Options.Inspect command.
type CommandOutput struct {
	Command  string
	Output   string // stdout and stderr
	ExitCode int
}

// Result is what the oracle saw.
type Result struct {
	// Settled is true when every awaited link settled before the timeout.
	// Status is "settled", "timeout", "exited" (networkd exited by itself) or
	// "failed" (networkd could not create some awaited netdev).
	Settled bool
	Status  string
	// Pending describes awaited links that did not settle: "NAME: STATE" or
	// "NAME: does not exist".
	Pending []string
	// Elapsed is how long networkd took to settle (or the timeout).
	Elapsed time.Duration

	// Links are the namespace's links, in ifindex order, with addresses.
	Links []Link
	// States maps a link name to networkd's state of it.
	States map[string]LinkState

	// Log is every message networkd logged, in order.
	Log []LogEntry
	// BadLogDatagrams counts datagrams on the journal socket that could not
	// be parsed (should be 0).
	BadLogDatagrams int
	// Stderr is networkd's own stdout/stderr: empty unless it could not
	// reach the journal socket (then its log is here, without priorities) or
	// crashed.
	Stderr string
	// NetworkdExit is networkd's exit status after SIGTERM (0 normally).
	NetworkdExit int

	// PrepareLog is the `sh -x` trace and output of the Prepare commands.
	PrepareLog string
	// Inspect holds the outputs of Options.Inspect, in order.
	Inspect []CommandOutput

	// Files lists the files under test, relative to the directory, sorted.
	Files []string

	// LinkJSON and AddrJSON are the raw outputs of `ip -d -j link show` and
	// `ip -j addr show`.
	LinkJSON, AddrJSON []byte
}

// ErrNotSettled is returned (wrapped, with the Result) when some awaited link
// did not settle before the timeout or networkd exited early.
var ErrNotSettled = errors.New("oracle: links did not settle")

// Available reports why the oracle cannot run on this machine (nil if it can):
// it needs root, networkd and util-linux unshare, iproute2 and sh.
func Available() error { return available(DefaultNetworkd) }

func available(networkd string) error {
	if os.Geteuid() != 0 {
		return errors.New("oracle: needs root (network and mount namespaces, networkd)")
	}
	if _, err := os.Stat(networkd); err != nil {
		return fmt.Errorf("oracle: systemd-networkd not available: %w", err)
	}
	for _, tool := range []string{"unshare", "ip", "sh", "sed", "date", "sleep"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("oracle: %s not found: %w", tool, err)
		}
	}
	return nil
}

// Run copies the files of networkDir (recursively, keeping their modes, so a
// file networkd cannot read is a finding) into a scratch directory, starts
// systemd-networkd on them in fresh network, mount and PID namespaces, waits
// for the links to settle, captures the links, addresses, networkd's states
// and log, and tears everything down. The host's network configuration is
// neither read nor touched.
//
// When links do not settle, Run returns the Result together with an error
// wrapping ErrNotSettled; other errors mean the harness itself failed.
func Run(ctx context.Context, networkDir string, opt Options) (*Result, error) {
	return run(ctx, opt, func(dst string) error { return copyTree(networkDir, dst) })
}

// RunFiles is Run on in-memory files: names (which may contain "/" for
// drop-in directories such as "10-a.network.d/x.conf") relative to the
// networkd directory, mode 0644.
func RunFiles(ctx context.Context, files map[string][]byte, opt Options) (*Result, error) {
	return run(ctx, opt, func(dst string) error {
		for name, data := range files {
			if !filepath.IsLocal(name) {
				return fmt.Errorf("oracle: file name %q is not local", name)
			}
			p := filepath.Join(dst, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

func run(ctx context.Context, opt Options, populate func(dst string) error) (*Result, error) {
	if opt.Networkd == "" {
		opt.Networkd = DefaultNetworkd
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 20 * time.Second
	}
	if opt.LogLevel == "" {
		opt.LogLevel = "debug"
	}
	if err := available(opt.Networkd); err != nil {
		return nil, err
	}

	wd, err := os.MkdirTemp("", "netgen-oracle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(wd)
	if err := checkVisible(wd); err != nil {
		return nil, err
	}
	netDir := filepath.Join(wd, "network")
	if err := os.Mkdir(netDir, 0o755); err != nil {
		return nil, err
	}
	// Whatever the umask, the directory must be like /etc/systemd/network:
	// readable by systemd-network, as which networkd loads its files.
	if err := os.Chmod(netDir, 0o755); err != nil {
		return nil, err
	}
	if err := populate(netDir); err != nil {
		return nil, fmt.Errorf("oracle: copy files: %w", err)
	}
	files, err := listFiles(netDir)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"out", "inspect"} {
		if err := os.Mkdir(filepath.Join(wd, d), 0o755); err != nil {
			return nil, err
		}
	}

	var prep strings.Builder
	for _, c := range opt.Prepare {
		prep.WriteString(c)
		prep.WriteString("\n")
	}
	if err := os.WriteFile(filepath.Join(wd, "prepare.sh"), []byte(prep.String()), 0o644); err != nil {
		return nil, err
	}
	waitAll := opt.WaitFor == nil
	wait := opt.WaitFor
	if waitAll {
		wait, err = netdevNames(netDir, files)
		if err != nil {
			return nil, err
		}
	}
	// wantStates maps an awaited link to the admin states that end the wait
	// for it (nil: the default, settled states).
	wantStates := make(map[string][]string)
	var waitNames []string
	for _, w := range wait {
		n, states, _ := strings.Cut(w, ":")
		if n == "" || strings.ContainsAny(n, "/: \t\n") || strings.ContainsAny(states, " \t\n") {
			return nil, fmt.Errorf("oracle: bad WaitFor entry %q", w)
		}
		if states != "" {
			wantStates[n] = strings.Split(states, ",")
		}
		waitNames = append(waitNames, n)
	}
	if err := os.WriteFile(filepath.Join(wd, "waitfor"), []byte(strings.Join(wait, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	for i, c := range opt.Inspect {
		if err := os.WriteFile(filepath.Join(wd, "inspect", fmt.Sprintf("%03d.sh", i)), []byte(c+"\n"), 0o644); err != nil {
			return nil, err
		}
	}

	// A netdev networkd fails to create never appears: stop waiting for it
	// as soon as networkd says so (the script treats names in WD/failed as
	// settled).
	var failedMu sync.Mutex
	failed := make(map[string]string)
	failedPath := filepath.Join(wd, "failed")
	onEntry := func(e LogEntry) {
		if e.Interface == "" || e.Priority > PriWarning || !slices.Contains(waitNames, e.Interface) || !isNetdevFailure(e.Message) {
			return
		}
		failedMu.Lock()
		defer failedMu.Unlock()
		if _, ok := failed[e.Interface]; ok {
			return
		}
		failed[e.Interface] = e.Message
		var b strings.Builder
		for n := range failed {
			b.WriteString(n + "\n")
		}
		tmp := failedPath + ".tmp"
		if os.WriteFile(tmp, []byte(b.String()), 0o644) == nil {
			_ = os.Rename(tmp, failedPath)
		}
	}
	jl, err := listenJournal(filepath.Join(wd, "journal.sock"), onEntry)
	if err != nil {
		return nil, fmt.Errorf("oracle: journal socket: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, opt.Timeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--mount", "--pid", "--fork",
		"--kill-child", "--mount-proc", "--propagation", "private",
		"sh", "-c", harnessScript, "netgen-oracle")
	// A clean environment: nothing of the caller's (NOTIFY_SOCKET,
	// SYSTEMD_*, JOURNAL_STREAM, locale) reaches networkd; C locale keeps
	// strerror texts matchable.
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C",
		"WD=" + wd,
		"NETDIR=" + netDir,
		"NETWORKD=" + opt.Networkd,
		"LOGLEVEL=" + opt.LogLevel,
		"TIMEOUT_MS=" + strconv.FormatInt(opt.Timeout.Milliseconds(), 10),
		"VENDOR=" + boolStr(opt.VendorFiles),
		"WAITALL=" + boolStr(waitAll),
		"STABLE_MS=" + strconv.FormatInt(opt.SettleFor.Milliseconds(), 10),
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// If this process dies, unshare dies, and --kill-child kills the PID
	// namespace's init, hence everything in it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()

	res := &Result{Files: files}
	if runErr != nil {
		res.Log, res.BadLogDatagrams = jl.abort()
		return nil, fmt.Errorf("oracle: harness failed: %w\n%s%s%s", runErr,
			stderr.String(), stdout.String(), tail(res.Log, 20))
	}
	res.Log, res.BadLogDatagrams = jl.finish()

	out := filepath.Join(wd, "out")
	read := func(name string) []byte {
		b, _ := os.ReadFile(filepath.Join(out, name))
		return b
	}
	res.Status = strings.TrimSpace(string(read("status")))
	res.Settled = res.Status == "settled"
	if ms, err := strconv.Atoi(strings.TrimSpace(string(read("elapsed_ms")))); err == nil {
		res.Elapsed = time.Duration(ms) * time.Millisecond
	}
	res.NetworkdExit, _ = strconv.Atoi(strings.TrimSpace(string(read("networkd.rc"))))
	res.Stderr = string(read("networkd.stderr"))
	res.PrepareLog = string(read("prepare.log"))
	res.LinkJSON, res.AddrJSON = read("link.json"), read("addr.json")
	if res.Links, err = ParseIPLinks(res.LinkJSON, res.AddrJSON); err != nil {
		return nil, fmt.Errorf("oracle: %w (%s)", err, read("harness.err"))
	}
	res.States = make(map[string]LinkState)
	for _, l := range res.Links {
		b, err := os.ReadFile(filepath.Join(out, "states", strconv.Itoa(l.Index)))
		if err != nil {
			continue
		}
		res.States[l.Name] = parseState(l.Index, b)
	}
	for i, c := range opt.Inspect {
		p := filepath.Join(wd, "inspect", fmt.Sprintf("%03d.sh", i))
		o, _ := os.ReadFile(p + ".out")
		rc, _ := os.ReadFile(p + ".rc")
		code, err := strconv.Atoi(strings.TrimSpace(string(rc)))
		if err != nil {
			code = -1
		}
		res.Inspect = append(res.Inspect, CommandOutput{Command: c, Output: string(o), ExitCode: code})
	}

	names := slices.Clone(waitNames)
	if waitAll {
		for _, l := range res.Links {
			if !slices.Contains(names, l.Name) {
				names = append(names, l.Name)
			}
		}
	}
	for _, n := range names {
		st, ok := res.States[n]
		switch {
		case failed[n] != "" && res.Link(n) == nil:
			res.Pending = append(res.Pending, n+": not created: "+failed[n])
		case res.Link(n) == nil:
			res.Pending = append(res.Pending, n+": does not exist")
		case !ok:
			res.Pending = append(res.Pending, n+": no networkd state")
		case wantStates[n] != nil && !slices.Contains(wantStates[n], st.AdminState),
			wantStates[n] == nil && !settledState(st.AdminState):
			res.Pending = append(res.Pending, n+": "+st.AdminState)
		}
	}
	if res.Settled && len(res.Pending) > 0 {
		// Only netdevs networkd failed to create: the wait ended early.
		res.Settled, res.Status = false, "failed"
	}
	if !res.Settled {
		return res, fmt.Errorf("%w (%s after %v): %s\n%s", ErrNotSettled, res.Status, res.Elapsed,
			strings.Join(res.Pending, ", "), tail(res.AllWarnings(), 20))
	}
	return res, nil
}

// isNetdevFailure reports whether a message of networkd 252 says it could not
// create a netdev (tap without /dev/net/tun access, kind unsupported by the
// kernel, ...).
func isNetdevFailure(msg string) bool {
	return strings.Contains(msg, "netdev could not be created") || strings.Contains(msg, "Failed to create netdev")
}

func settledState(s string) bool {
	switch s {
	case "configured", "unmanaged", "failed", "linger":
		return true
	}
	return false
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// checkVisible rejects scratch directories the harness would cover with its
// own mounts.
func checkVisible(dir string) error {
	for _, p := range []string{"/run", "/sys", "/proc", "/etc/systemd", "/usr/lib/systemd", "/lib/systemd", "/usr/local/lib/systemd"} {
		if dir == p || strings.HasPrefix(dir, p+"/") {
			return fmt.Errorf("oracle: scratch directory %s is under %s, which the harness hides; set TMPDIR", dir, p)
		}
	}
	return nil
}

func tail(entries []LogEntry, n int) string {
	if len(entries) > n {
		entries = entries[len(entries)-n:]
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString("  ")
		b.WriteString(e.String())
		b.WriteString("\n")
	}
	return b.String()
}

func parseState(index int, b []byte) LinkState {
	st := LinkState{Index: index, Fields: make(map[string]string)}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		st.Fields[k] = v
	}
	st.AdminState = st.Fields["ADMIN_STATE"]
	st.OperState = st.Fields["OPER_STATE"]
	st.CarrierState = st.Fields["CARRIER_STATE"]
	st.AddressState = st.Fields["ADDRESS_STATE"]
	st.NetworkFile = st.Fields["NETWORK_FILE"]
	st.File = strings.TrimPrefix(st.NetworkFile, ConfigDir+"/")
	return st
}

// copyTree copies src into the existing directory dst: regular files and
// directories keep their permission bits, symbolic links (e.g. masks to
// /dev/null) are copied as links.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode().Perm())
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode().Perm())
		default:
			return nil // sockets, fifos: networkd ignores them too
		}
	})
}

func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(files)
	return files, err
}

// netdevNames returns the names of the links the .netdev files in dir ask
// networkd to create: [NetDev] Name= and, for veths, [Peer] Name=. Drop-ins
// are not considered.
func netdevNames(dir string, files []string) ([]string, error) {
	var names []string
	for _, f := range files {
		if strings.Contains(f, "/") || !strings.HasSuffix(f, ".netdev") {
			continue
		}
		p := filepath.Join(dir, f)
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue // dangling or masked (/dev/null)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		sect := ""
		var netdev, peer string
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || line[0] == '#' || line[0] == ';':
			case line[0] == '[':
				sect = strings.Trim(line, "[]")
			default:
				k, v, ok := strings.Cut(line, "=")
				if !ok || strings.TrimSpace(k) != "Name" {
					continue
				}
				v = strings.TrimSpace(v)
				switch sect {
				case "NetDev":
					netdev = v
				case "Peer":
					peer = v
				}
			}
		}
		for _, n := range []string{netdev, peer} {
			if n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names, nil
}

// Link returns the link called name, or nil.
func (r *Result) Link(name string) *Link {
	for i := range r.Links {
		if r.Links[i].Name == name {
			return &r.Links[i]
		}
	}
	return nil
}

// State returns networkd's state of the link called name (zero LinkState,
// false if networkd has none).
func (r *Result) State(name string) (LinkState, bool) {
	st, ok := r.States[name]
	return st, ok
}

// Lines returns the log as "PRIORITY: MESSAGE" lines.
func (r *Result) Lines() []string {
	out := make([]string, len(r.Log))
	for i, e := range r.Log {
		out[i] = e.String()
	}
	return out
}

// AllWarnings returns every log entry at warning priority or worse.
func (r *Result) AllWarnings() []LogEntry {
	var out []LogEntry
	for _, e := range r.Log {
		if e.Priority <= PriWarning {
			out = append(out, e)
		}
	}
	return out
}

// Warnings returns the log entries at warning priority or worse that concern
// one of the given files (names relative to the directory under test, e.g.
// "10-br0.network"; a base name also matches a drop-in of that name), or any
// file of the directory when none is given. An entry concerns a file when its
// CONFIG_FILE= is that file or its message mentions the file's name.
func (r *Result) Warnings(fileNames ...string) []LogEntry {
	if len(fileNames) == 0 {
		fileNames = r.Files
	}
	var out []LogEntry
	for _, e := range r.Log {
		if e.Priority > PriWarning {
			continue
		}
		for _, f := range fileNames {
			if mentions(e, f) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// LinkLog returns the log entries of priority p or worse about the link
// called name (INTERFACE= field).
func (r *Result) LinkLog(name string, p int) []LogEntry {
	var out []LogEntry
	for _, e := range r.Log {
		if e.Priority <= p && e.Interface == name {
			out = append(out, e)
		}
	}
	return out
}

func mentions(e LogEntry, f string) bool {
	if f == "" {
		return false
	}
	if e.ConfigFile != "" {
		cf := strings.TrimPrefix(e.ConfigFile, ConfigDir+"/")
		if cf == f || strings.HasSuffix(cf, "/"+f) {
			return true
		}
	}
	return strings.Contains(e.Message, f)
}

// Summary renders the links, their networkd states and the warnings, for
// test failure messages.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %s after %v", r.Status, r.Elapsed)
	if len(r.Pending) > 0 {
		fmt.Fprintf(&b, " (pending: %s)", strings.Join(r.Pending, ", "))
	}
	b.WriteString("\n")
	for _, l := range r.Links {
		st := r.States[l.Name]
		fmt.Fprintf(&b, "  %d %s kind=%s master=%s mtu=%d %s admin=%s oper=%s file=%s addrs=%v\n",
			l.Index, l.Name, l.Kind, l.Master, l.MTU, l.OperState, st.AdminState, st.OperState, st.File, l.Prefixes())
	}
	if w := r.AllWarnings(); len(w) > 0 {
		b.WriteString("warnings:\n")
		b.WriteString(tail(w, len(w)))
	}
	if r.Stderr != "" {
		b.WriteString("networkd stderr:\n")
		b.WriteString(r.Stderr)
	}
	return b.String()
}
