package status

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/netgen-lab/netgen/schema"
)

// Constants of linux/pkt_sched.h, pkt_cls.h and tc_act/tc_mirred.h that
// x/sys/unix does not name.
const (
	sizeofTcMsg     = 20 // struct tcmsg
	sizeofNetemQopt = 24 // struct tc_netem_qopt: latency, limit, loss, gap, duplicate, jitter
	tcHRoot         = 0xffffffff
	tcHIngress      = 0xffff0000 // the ingress qdisc's handle, ffff:
	tcaNetemReorder = 3
	tcaNetemCorrupt = 4
	tcaNetemRate    = 6
	tcaNetemRate64  = 8
	tcaNetemLatency = 10 // TCA_NETEM_LATENCY64, in ns
	tcaNetemJitter  = 11 // TCA_NETEM_JITTER64, in ns
	tcaMatchallAct  = 2
	tcaActKind      = 1
	tcaActOptions   = 2
	tcaMirredParms  = 2
	sizeofTcGen     = 20 // index, capab, action, refcnt, bindcnt
	tcaEgressRedir  = 1
)

// xmitHashPolicies are the kernel's transmit hash policies by number
// (IFLA_BOND_XMIT_HASH_POLICY).
var xmitHashPolicies = []string{"layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"}

// BondInfo are a bond's settings besides its mode, in the lab's words.
type BondInfo struct {
	LACPRate, XmitHashPolicy string
	MIIMon                   int
}

// VXLANInfo are a VXLAN device's settings; FDB are the destinations of its
// all-zero FDB entries (where the frames no entry names are flooded to).
type VXLANInfo struct {
	VNI, Port     int
	Local, Remote netip.Addr
	FDB           []netip.Addr
}

func bondInfo(data map[uint16][]byte) *BondInfo {
	b := &BondInfo{MIIMon: u32(data[unix.IFLA_BOND_MIIMON])}
	if v, ok := data[unix.IFLA_BOND_AD_LACP_RATE]; ok {
		b.LACPRate = map[int]string{0: "slow", 1: "fast"}[u8(v)]
	}
	if v, ok := data[unix.IFLA_BOND_XMIT_HASH_POLICY]; ok {
		if i := u8(v); i < len(xmitHashPolicies) {
			b.XmitHashPolicy = xmitHashPolicies[i]
		}
	}
	return b
}

func vxlanInfo(data map[uint16][]byte) *VXLANInfo {
	x := &VXLANInfo{VNI: u32(data[unix.IFLA_VXLAN_ID])}
	if p := data[unix.IFLA_VXLAN_PORT]; len(p) == 2 {
		x.Port = int(binary.BigEndian.Uint16(p))
	}
	addr := func(v4, v6 uint16) netip.Addr {
		for _, t := range []uint16{v4, v6} {
			if a, ok := netip.AddrFromSlice(data[t]); ok && !a.IsUnspecified() {
				return a
			}
		}
		return netip.Addr{}
	}
	x.Local = addr(unix.IFLA_VXLAN_LOCAL, unix.IFLA_VXLAN_LOCAL6)
	x.Remote = addr(unix.IFLA_VXLAN_GROUP, unix.IFLA_VXLAN_GROUP6)
	return x
}

// readTC dumps the namespace's qdiscs (the root netem of each link), the
// ingress filters of the links named (a wire end's redirect) and the
// bridge FDB (a VXLAN device's flooding entries), as asked.
func (n *Namespace) readTC(s int, qdiscs bool, wires []string, fdb bool) error {
	byIndex := map[int]*Link{}
	byName := map[string]*Link{}
	for _, l := range n.Links {
		byIndex[l.index], byName[l.Name] = l, l
	}
	if qdiscs {
		msgs, err := request(s, unix.RTM_GETQDISC, unix.NLM_F_DUMP, make([]byte, sizeofTcMsg))
		if err != nil {
			return fmt.Errorf("qdisc dump: %w", err)
		}
		n.QdiscsRead = true
		for _, m := range msgs {
			ifindex, parent, v, ok := parseNetem(m.Data)
			if l := byIndex[ifindex]; ok && l != nil && parent == tcHRoot {
				l.Netem = v
			}
		}
	}
	for _, name := range wires {
		l := byName[name]
		if l == nil {
			continue
		}
		req := make([]byte, sizeofTcMsg)
		binary.NativeEndian.PutUint32(req[4:], uint32(l.index))
		binary.NativeEndian.PutUint32(req[12:], tcHIngress)
		msgs, err := request(s, unix.RTM_GETTFILTER, unix.NLM_F_DUMP, req)
		if err != nil {
			// No ingress qdisc: no filter, no redirect.
			if err == unix.EINVAL || err == unix.ENOENT {
				continue
			}
			return fmt.Errorf("filter dump of %s: %w", name, err)
		}
		for _, m := range msgs {
			if to := byIndex[parseRedirect(m.Data)]; to != nil {
				l.Redirect = to.Name
			}
		}
	}
	if fdb {
		nd := make([]byte, unix.SizeofNdMsg)
		nd[0] = unix.AF_BRIDGE
		msgs, err := request(s, unix.RTM_GETNEIGH, unix.NLM_F_DUMP, nd)
		if err != nil {
			return fmt.Errorf("FDB dump: %w", err)
		}
		n.FDBRead = true
		for _, m := range msgs {
			if len(m.Data) < unix.SizeofNdMsg {
				continue
			}
			l := byIndex[int(int32(binary.NativeEndian.Uint32(m.Data[4:])))]
			if l == nil || l.VXLAN == nil {
				continue
			}
			a := attrs(m.Data[unix.SizeofNdMsg:])
			if mac := a[unix.NDA_LLADDR]; len(mac) != 6 || [6]byte(mac) != [6]byte{} {
				continue
			}
			if dst, ok := netip.AddrFromSlice(a[unix.NDA_DST]); ok {
				l.VXLAN.FDB = append(l.VXLAN.FDB, dst.Unmap())
			}
		}
	}
	return nil
}

// parseNetem reads a qdisc message (struct tcmsg, then attributes): its
// device, parent and, for a netem, its values. TCA_OPTIONS of a netem is
// a struct tc_netem_qopt followed by attributes (nla_nest_compat); the
// kernel always adds the 64-bit latency and jitter in ns.
func parseNetem(b []byte) (ifindex int, parent uint32, v *schema.NetemValues, ok bool) {
	if len(b) < sizeofTcMsg {
		return 0, 0, nil, false
	}
	ifindex = int(int32(binary.NativeEndian.Uint32(b[4:])))
	parent = binary.NativeEndian.Uint32(b[12:])
	a := attrs(b[sizeofTcMsg:])
	opts := a[unix.TCA_OPTIONS]
	if cstring(a[unix.TCA_KIND]) != "netem" || len(opts) < sizeofNetemQopt {
		return ifindex, parent, nil, false
	}
	v = &schema.NetemValues{Limit: u32(opts[4:]), Loss: prob(opts[8:]), Duplicate: prob(opts[16:])}
	na := attrs(opts[sizeofNetemQopt:])
	if d := na[tcaNetemLatency]; len(d) == 8 {
		v.Delay = int64(binary.NativeEndian.Uint64(d)) / 1000
	}
	if d := na[tcaNetemJitter]; len(d) == 8 {
		v.Jitter = int64(binary.NativeEndian.Uint64(d)) / 1000
	}
	v.Corrupt, v.Reorder = prob(na[tcaNetemCorrupt]), prob(na[tcaNetemReorder])
	// struct tc_netem_rate: rate (bytes/s), packet_overhead, cell_size,
	// cell_overhead; the rate in TCA_NETEM_RATE64 when it does not fit.
	v.Rate = int64(u32(na[tcaNetemRate])) * 8
	if r := na[tcaNetemRate64]; len(r) == 8 {
		v.Rate = int64(binary.NativeEndian.Uint64(r)) * 8
	}
	return ifindex, parent, v, true
}

// prob is a netem probability (a u32 where 2^32-1 is 100%) in percent.
func prob(b []byte) float64 {
	if len(b) < 4 {
		return 0
	}
	return float64(binary.NativeEndian.Uint32(b)) / math.MaxUint32 * 100
}

// parseRedirect reads a filter message: the ifindex a matchall filter's
// mirred action redirects to (egress), or 0.
func parseRedirect(b []byte) int {
	if len(b) < sizeofTcMsg {
		return 0
	}
	a := attrs(b[sizeofTcMsg:])
	if cstring(a[unix.TCA_KIND]) != "matchall" {
		return 0
	}
	to := 0
	each(attrs(a[unix.TCA_OPTIONS])[tcaMatchallAct], func(_ uint16, act []byte) {
		aa := attrs(act)
		if cstring(aa[tcaActKind]) != "mirred" {
			return
		}
		p := attrs(aa[tcaActOptions])[tcaMirredParms]
		if len(p) >= sizeofTcGen+8 && int32(binary.NativeEndian.Uint32(p[sizeofTcGen:])) == tcaEgressRedir {
			to = u32(p[sizeofTcGen+4:])
		}
	})
	return to
}
