package oracle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func skipUnlessAvailable(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("networkd oracle unavailable: %v", err)
	}
}

// writeFiles writes name → content into a fresh directory, the way netgen
// installs them (0644).
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runLab(t *testing.T, files map[string]string, opt Options) *Result {
	t.Helper()
	if opt.Timeout == 0 {
		opt.Timeout = 15 * time.Second
	}
	res, err := Run(context.Background(), writeFiles(t, files), opt)
	if err != nil {
		if res != nil {
			t.Log(res.Summary())
		}
		t.Fatal(err)
	}
	t.Logf("settled in %v", res.Elapsed)
	return res
}

func mustLink(t *testing.T, r *Result, name string) *Link {
	t.Helper()
	l := r.Link(name)
	if l == nil {
		t.Fatalf("no link %s\n%s", name, r.Summary())
	}
	return l
}

var bridgeLab = map[string]string{
	"50-t-bridge-br0.netdev": `
[NetDev]
Name=br0
Kind=bridge
MTUBytes=1400

[Bridge]
STP=yes
ForwardDelaySec=4
HelloTimeSec=1
Priority=4096
`,
	"50-t-bridge-br0.network": `
[Match]
Name=br0

[Link]
RequiredForOnline=no

[Network]
LinkLocalAddressing=no
ConfigureWithoutCarrier=yes
`,
	"50-t-veth-v0.netdev": `
[NetDev]
Name=v0
Kind=veth
MTUBytes=1400

[Peer]
Name=v0p
`,
	"50-t-veth-v0.network": `
[Match]
Name=v0

[Network]
Bridge=br0
LinkLocalAddressing=no
ConfigureWithoutCarrier=yes
`,
	"50-t-veth-v0p.network": `
[Match]
Name=v0p

[Network]
ConfigureWithoutCarrier=yes

[Address]
Address=192.0.2.1/24

[Address]
Address=2001:db8::1/64
DuplicateAddressDetection=none
`,
}

func TestBridgeAndVeth(t *testing.T) {
	skipUnlessAvailable(t)
	t.Parallel()
	r := runLab(t, bridgeLab, Options{})

	br := mustLink(t, r, "br0")
	if br.Kind != "bridge" {
		t.Errorf("br0 kind %q", br.Kind)
	}
	if br.MTU != 1400 {
		t.Errorf("br0 mtu %d", br.MTU)
	}
	if br.Bridge == nil || br.Bridge.STPState != 1 {
		t.Errorf("br0 STP not on: %+v", br.Bridge)
	} else {
		if br.Bridge.ForwardDelay != 400 || br.Bridge.HelloTime != 100 || br.Bridge.Priority != 4096 {
			t.Errorf("br0 timers/priority: %+v", *br.Bridge)
		}
	}
	if got := br.AddrsOf("inet6", "link"); len(got) != 0 || br.AddrGenMode != "none" {
		t.Errorf("br0 has IPv6 link-local %v (addrgenmode %s)", got, br.AddrGenMode)
	}

	port := mustLink(t, r, "v0")
	if port.Kind != "veth" || port.Peer != "v0p" {
		t.Errorf("v0: kind %q peer %q", port.Kind, port.Peer)
	}
	if port.Master != "br0" || port.SlaveKind != "bridge" || port.Port == nil {
		t.Errorf("v0 is not a port of br0: master %q slave kind %q", port.Master, port.SlaveKind)
	}
	if port.MTU != 1400 {
		t.Errorf("v0 mtu %d", port.MTU)
	}
	if len(port.Addrs) != 0 {
		t.Errorf("v0 has addresses %+v", port.Addrs)
	}

	end := mustLink(t, r, "v0p")
	if end.Kind != "veth" || end.Master != "" {
		t.Errorf("v0p: kind %q master %q", end.Kind, end.Master)
	}
	if got, want := end.Prefixes(), []string{"192.0.2.1/24", "2001:db8::1/64"}; !sameSet(got, want) {
		t.Errorf("v0p addresses %v, want %v", got, want)
	}
	for _, a := range end.AddrsOf("inet6", "global") {
		if !a.HasFlag("nodad") || a.HasFlag("tentative") {
			t.Errorf("v0p %s flags %v, want nodad and not tentative", a.Prefix(), a.Flags)
		}
	}
	if len(end.AddrsOf("inet6", "link")) != 1 {
		t.Errorf("v0p should keep its IPv6 link-local address: %+v", end.Addrs)
	}

	for name, file := range map[string]string{
		"br0": "50-t-bridge-br0.network",
		"v0":  "50-t-veth-v0.network",
		"v0p": "50-t-veth-v0p.network",
	} {
		st, ok := r.State(name)
		if !ok || st.AdminState != "configured" || st.File != file {
			t.Errorf("%s: networkd state %+v, want configured by %s", name, st, file)
		}
	}
	if st := r.States["lo"]; st.AdminState != "unmanaged" {
		t.Errorf("lo: %+v", st)
	}

	if w := r.Warnings(); len(w) != 0 {
		t.Errorf("warnings about the files: %v", w)
	}
	if w := r.AllWarnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	if r.Stderr != "" || r.BadLogDatagrams != 0 || r.NetworkdExit != 0 {
		t.Errorf("stderr %q, bad datagrams %d, exit %d", r.Stderr, r.BadLogDatagrams, r.NetworkdExit)
	}
}

func TestWarningsAreAttributedToFiles(t *testing.T) {
	skipUnlessAvailable(t)
	t.Parallel()
	files := map[string]string{
		"10-br0.netdev": `
[NetDev]
Name=br0
Kind=bridge
`,
		"10-br0.network": `
[Match]
Name=br0

[Network]
ConfigureWithoutCarrier=yes
LinkLocalAddressing=no
Foo=bar

[Address]
Address=10.0.0.300/24
`,
		"20-good.network": `
[Match]
Name=nothing-matches-this

[Network]
DHCP=no
`,
	}
	r := runLab(t, files, Options{})

	w := r.Warnings("10-br0.network")
	var unknownKey, badAddr bool
	for _, e := range w {
		if e.Priority > PriWarning {
			t.Errorf("Warnings returned %v", e)
		}
		if e.ConfigFile != ConfigDir+"/10-br0.network" {
			t.Errorf("entry without CONFIG_FILE: %+v", e)
		}
		switch {
		case strings.Contains(e.Message, "Foo") && e.ConfigLine == 7:
			unknownKey = true
		case strings.Contains(e.Message, "10.0.0.300") && e.ConfigLine == 10:
			badAddr = true
		}
	}
	if !unknownKey || !badAddr {
		t.Errorf("warnings for 10-br0.network: unknown key %v, bad address %v: %v", unknownKey, badAddr, w)
	}
	if got := r.Warnings(); len(got) != len(w) {
		t.Errorf("Warnings() = %v, want %v", got, w)
	}
	if got := r.Warnings("20-good.network", "10-br0.netdev"); len(got) != 0 {
		t.Errorf("warnings for good files: %v", got)
	}
	// The same message was not a warning before: the level is real.
	for _, e := range r.Log {
		if strings.Contains(e.Message, "Unknown key 'Foo'") && e.PriorityName() != "warning" {
			t.Errorf("unknown key at %s", e.PriorityName())
		}
	}
	// The bad key is ignored, the rest of the file applies.
	if st := r.States["br0"]; st.AdminState != "configured" || st.File != "10-br0.network" {
		t.Errorf("br0 state %+v", st)
	}
}

func TestUnmanagedIsNotGrabbedByCatchAll(t *testing.T) {
	skipUnlessAvailable(t)
	t.Parallel()
	files := map[string]string{
		"50-t-uplink.network": `
[Match]
Name=enp3s0

[Link]
Unmanaged=yes
`,
		"99-catchall.network": `
[Match]
Name=*

[Network]
DHCP=yes
`,
	}
	r := runLab(t, files, Options{
		Prepare: []string{
			"ip link add enp3s0 type veth peer name peer0",
			"ip link set enp3s0 up",
		},
		// peer0 falls to the catch-all and stays "configuring" (no DHCP
		// server).
		WaitFor: []string{"enp3s0", "peer0:configuring"},
	})
	st, ok := r.State("enp3s0")
	if !ok || st.AdminState != "unmanaged" || st.NetworkFile != "" {
		t.Errorf("enp3s0: %+v, want unmanaged without a network file", st)
	}
	l := mustLink(t, r, "enp3s0")
	if got := l.AddrsOf("inet", ""); len(got) != 0 {
		t.Errorf("enp3s0 got IPv4 addresses %v", got)
	}
	for _, e := range r.Log {
		if e.Interface == "enp3s0" && strings.Contains(e.Message, "DHCP") {
			t.Errorf("networkd did DHCP on enp3s0: %v", e)
		}
	}
	// The catch-all does apply to the other links: proof it was loaded.
	if st := r.States["peer0"]; st.File != "99-catchall.network" {
		t.Errorf("peer0: %+v, want the catch-all", st)
	}
	if w := r.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
}

func TestRunFilesAndInspect(t *testing.T) {
	skipUnlessAvailable(t)
	t.Parallel()
	r, err := RunFiles(context.Background(), map[string][]byte{
		"10-br0.netdev":  []byte("[NetDev]\nName=br0\nKind=bridge\n"),
		"10-br0.network": []byte("[Match]\nName=br0\n[Network]\nConfigureWithoutCarrier=yes\nLinkLocalAddressing=no\n"),
	}, Options{Inspect: []string{"cat /sys/class/net/br0/bridge/stp_state", "exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Inspect) != 2 || strings.TrimSpace(r.Inspect[0].Output) != "0" || r.Inspect[1].ExitCode != 3 {
		t.Errorf("inspect: %+v", r.Inspect)
	}
	if !slices.Equal(r.Files, []string{"10-br0.netdev", "10-br0.network"}) {
		t.Errorf("files %v", r.Files)
	}
}

func TestNotSettled(t *testing.T) {
	skipUnlessAvailable(t)
	t.Parallel()
	res, err := Run(context.Background(), writeFiles(t, map[string]string{
		"99-catchall.network": "[Match]\nName=*\n[Network]\nDHCP=yes\n",
	}), Options{
		Prepare: []string{"ip link add enp3s0 type veth peer name peer0"},
		Timeout: 2 * time.Second,
	})
	if !errors.Is(err, ErrNotSettled) || res == nil {
		t.Fatalf("err %v, res %v", err, res)
	}
	if !slices.Contains(res.Pending, "enp3s0: configuring") {
		t.Errorf("pending %v", res.Pending)
	}
}

func TestHostIsUntouched(t *testing.T) {
	skipUnlessAvailable(t)
	t.Parallel()
	before, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	runLab(t, bridgeLab, Options{})
	after, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != len(after) {
		t.Errorf("host links changed: %d before, %d after", len(before), len(after))
	}
	for _, e := range after {
		if e.Name() == "br0" || e.Name() == "v0" {
			t.Errorf("%s leaked into the host namespace", e.Name())
		}
	}
}

func TestTapAndFailedNetdev(t *testing.T) {
	skipUnlessAvailable(t)
	t.Parallel()
	files := map[string]string{
		"10-t0.netdev":  "[NetDev]\nName=t0\nKind=tap\n\n[Tap]\nUser=nobody\nGroup=nogroup\nMultiQueue=yes\n",
		"10-t0.network": "[Match]\nName=t0\n\n[Link]\nMTUBytes=1300\n\n[Network]\nConfigureWithoutCarrier=yes\nLinkLocalAddressing=no\n",
		"10-t1.netdev":  "[NetDev]\nName=t1\nKind=tap\n\n[Tap]\nUser=no-such-user\n",
	}
	timeout := 10 * time.Second
	res, err := Run(context.Background(), writeFiles(t, files), Options{Timeout: timeout})
	if !errors.Is(err, ErrNotSettled) || res == nil {
		t.Fatalf("err %v", err)
	}
	if res.Status != "failed" || res.Elapsed >= timeout/2 {
		t.Errorf("status %s after %v, want failed early", res.Status, res.Elapsed)
	}
	if len(res.Pending) != 1 || !strings.HasPrefix(res.Pending[0], "t1: not created") {
		t.Errorf("pending %v", res.Pending)
	}
	if len(res.LinkLog("t1", PriWarning)) == 0 {
		t.Errorf("no warning about t1")
	}
	tap := mustLink(t, res, "t0")
	if tap.Kind != "tun" || tap.InfoData["type"] != "tap" || tap.InfoData["user"] != "nobody" ||
		tap.InfoData["group"] != "nogroup" || tap.InfoData["multi_queue"] != true {
		t.Errorf("t0: kind %s info %v", tap.Kind, tap.InfoData)
	}
	if tap.MTU != 1300 || res.States["t0"].AdminState != "configured" {
		t.Errorf("t0: mtu %d state %+v", tap.MTU, res.States["t0"])
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
