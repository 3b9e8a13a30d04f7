package oracle

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseJournalDatagram(t *testing.T) {
	msg := []byte("PRIORITY=4\nINTERFACE=br0\n")
	msg = append(msg, "MESSAGE\n"...)
	val := "line one\nline=two"
	msg = binary.LittleEndian.AppendUint64(msg, uint64(len(val)))
	msg = append(msg, val...)
	msg = append(msg, "\nCONFIG_FILE=/etc/systemd/network/a.network\nCONFIG_LINE=7\n"...)
	f, err := parseJournalDatagram(msg)
	if err != nil {
		t.Fatal(err)
	}
	e := entryFromFields(f)
	if e.Priority != PriWarning || e.Message != val || e.Interface != "br0" ||
		e.ConfigFile != "/etc/systemd/network/a.network" || e.ConfigLine != 7 {
		t.Errorf("%+v", e)
	}
	if e.String() != "warning: "+val {
		t.Errorf("String() = %q", e.String())
	}
	for _, bad := range []string{"MESSAGE\n\x01", "NOVALUE", "MESSAGE\n\x05\x00\x00\x00\x00\x00\x00\x00ab"} {
		if _, err := parseJournalDatagram([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseIPLinks(t *testing.T) {
	link := `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"mtu":65536,"operstate":"UNKNOWN","address":"00:00:00:00:00:00"},
{"ifindex":2,"ifname":"br0","flags":["BROADCAST","UP"],"mtu":1400,"operstate":"DOWN","address":"8a:84:a1:a9:af:66","linkinfo":{"info_kind":"bridge","info_data":{"forward_delay":400,"hello_time":100,"stp_state":1,"priority":4096,"vlan_filtering":0,"hello_timer":0.00,"group_fwd_mask":"0x8"}},"inet6_addr_gen_mode":"none"},
{"ifindex":4,"link":"v1","ifname":"v0","flags":["BROADCAST"],"mtu":1400,"master":"br0","operstate":"DOWN","address":"8a:84:a1:a9:af:66","linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"disabled","priority":32,"cost":2,"learning":true}}}]`
	addr := `[{"ifindex":4,"ifname":"v0","addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":24,"scope":"global","label":"v0"},{"family":"inet6","local":"fd00::1","prefixlen":64,"scope":"global","nodad":true},{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link","tentative":true}]}]`
	links, err := ParseIPLinks([]byte(link), []byte(addr))
	if err != nil {
		t.Fatal(err)
	}
	r := &Result{Links: links}
	br := r.Link("br0")
	if br.Kind != "bridge" || br.Bridge == nil || br.Bridge.STPState != 1 || br.Bridge.GroupFwdMask != "0x8" || br.AddrGenMode != "none" {
		t.Errorf("br0 %+v bridge %+v", br, br.Bridge)
	}
	v0 := r.Link("v0")
	if v0.Master != "br0" || v0.Peer != "v1" || v0.Port == nil || v0.Port.Cost != 2 || !v0.Port.Learning {
		t.Errorf("v0 %+v port %+v", v0, v0.Port)
	}
	if got := v0.Prefixes(); !slices.Equal(got, []string{"10.0.0.1/24", "fd00::1/64"}) {
		t.Errorf("prefixes %v", got)
	}
	if ll := v0.AddrsOf("inet6", "link"); len(ll) != 1 || !ll[0].HasFlag("tentative") {
		t.Errorf("link-local %+v", ll)
	}
	if !r.Link("lo").HasFlag("UP") || r.Link("nope") != nil {
		t.Error("lo / nope")
	}
}

func TestNetdevNamesAndState(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.netdev", "# c\n[NetDev]\nName = v0\nKind=veth\n[Peer]\nName=v0p\n")
	write("b.netdev", "[NetDev]\nName=br0\nKind=bridge\n")
	write("b.network", "[Match]\nName=br0\n")
	if err := os.Symlink("/dev/null", filepath.Join(dir, "c.netdev")); err != nil {
		t.Fatal(err)
	}
	files, err := listFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	names, err := netdevNames(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"v0", "v0p", "br0"}) {
		t.Errorf("names %v", names)
	}

	st := parseState(3, []byte("# This is private data. Do not parse.\nADMIN_STATE=configured\nOPER_STATE=routable\nNETWORK_FILE=/etc/systemd/network/50-x.network\n"))
	if st.AdminState != "configured" || st.OperState != "routable" || st.File != "50-x.network" || st.Index != 3 {
		t.Errorf("%+v", st)
	}

	r := &Result{Files: []string{"50-x.network", "50-y.netdev"}, Log: []LogEntry{
		{Priority: PriWarning, Message: "/etc/systemd/network/50-x.network:3: Unknown key", ConfigFile: "/etc/systemd/network/50-x.network"},
		{Priority: PriInfo, Message: "/etc/systemd/network/50-y.netdev: info"},
		{Priority: PriErr, Message: "br0: something", Interface: "br0"},
	}}
	if w := r.Warnings(); len(w) != 1 || w[0].ConfigFile == "" {
		t.Errorf("Warnings() = %v", w)
	}
	if w := r.Warnings("50-y.netdev"); len(w) != 0 {
		t.Errorf("Warnings(y) = %v", w)
	}
	if w := r.AllWarnings(); len(w) != 2 {
		t.Errorf("AllWarnings() = %v", w)
	}
	if w := r.LinkLog("br0", PriWarning); len(w) != 1 {
		t.Errorf("LinkLog = %v", w)
	}
}
