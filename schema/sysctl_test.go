package schema

import (
	"sort"
	"testing"
)

// TestSysctlOrder checks the order a namespace's sysctls are written in:
// the more general key first, so that the more specific one stays.
func TestSysctlOrder(t *testing.T) {
	got := []string{
		"net/ipv6/conf/default/disable_ipv6",
		"net/ipv4/conf/default/forwarding",
		"net/ipv4/ip_forward",
		"net/ipv6/conf/all/disable_ipv6",
		"net/ipv4/conf/all/forwarding",
		"net/core/somaxconn",
	}
	sort.SliceStable(got, func(i, j int) bool { return SysctlLess(got[i], got[j]) })
	want := []string{
		"net/core/somaxconn",
		"net/ipv4/ip_forward",
		"net/ipv4/conf/all/forwarding",
		"net/ipv4/conf/default/forwarding",
		"net/ipv6/conf/all/disable_ipv6",
		"net/ipv6/conf/default/disable_ipv6",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %q, want %q", got, want)
		}
	}
}

// TestSysctlKeysEmbedded checks that the embedded key list parses into what
// validation relies on, per interface keys included.
func TestSysctlKeysEmbedded(t *testing.T) {
	keys := sysctlKeys()
	if len(keys) < 500 {
		t.Fatalf("%d keys: the embedded list did not parse", len(keys))
	}
	for path, want := range map[string]sysctlKey{
		"net/ipv4/ip_forward":                            {ints: 1, access: "rw"},
		"net/ipv4/tcp_rmem":                              {ints: 3, access: "rw"},
		"net/ipv4/tcp_congestion_control":                {access: "rw"},
		"net/core/rmem_max":                              {access: "host"},
		"net/netfilter/nf_conntrack_max":                 {ints: 1, access: "ro", module: "nf_conntrack"},
		"net/bridge/bridge-nf-call-iptables":             {ints: 1, access: "rw", module: "br_netfilter"},
		genericSysctl("net/ipv4/conf/eth0.10/rp_filter"): {ints: 1, access: "rw"},
		genericSysctl("net/ipv6/conf/lo/disable_ipv6"):   {ints: 1, access: "rw"},
		"net/ipv4/neigh/default/gc_thresh1":              {access: "host"},
	} {
		if got := keys[path]; got != want {
			t.Errorf("%s: %+v, want %+v", path, got, want)
		}
	}
	if _, ok := keys[genericSysctl("net/ipv4/neigh/eth0/gc_thresh1")]; ok {
		t.Errorf("gc_thresh1 is in net.ipv4.neigh.default only, not per interface")
	}
}
