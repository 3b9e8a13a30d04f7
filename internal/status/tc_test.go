package status

import (
	"encoding/binary"
	"math"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/netgen-lab/netgen/schema"
)

// attr encodes one netlink attribute, padded as the kernel pads it.
func attr(t uint16, v []byte) []byte {
	b := make([]byte, 4, 4+len(v)+3)
	binary.NativeEndian.PutUint16(b, uint16(4+len(v)))
	binary.NativeEndian.PutUint16(b[2:], t)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func le32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	return b
}

func le64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func tcmsg(ifindex int, parent uint32) []byte {
	b := make([]byte, sizeofTcMsg)
	binary.NativeEndian.PutUint32(b[4:], uint32(ifindex))
	binary.NativeEndian.PutUint32(b[12:], parent)
	return b
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// pct is a percentage as tc hands it to the kernel (2^32-1 is 100%).
func pct(p float64) uint32 { return uint32(math.Round(p / 100 * math.MaxUint32)) }

// TestParseNetem: a netem qdisc message laid out as netem_dump (Linux 6.1,
// Debian's) writes it: tcmsg, TCA_KIND, then TCA_OPTIONS holding struct
// tc_netem_qopt followed by the 64-bit latency and jitter, the rate and
// the corruption, as `tc qdisc add dev eth0 root netem limit 5000 delay
// 40ms 5ms loss 20% corrupt 0.1% rate 10mbit` leaves it.
func TestParseNetem(t *testing.T) {
	opts := cat(le32(40000*15, 5000, pct(20), 0, 0, 5000*15), // latency and jitter in ticks: not read
		attr(tcaNetemLatency, le64(40_000_000)), attr(tcaNetemJitter, le64(5_000_000)),
		attr(tcaNetemRate, le32(10_000_000/8, 0, 0, 0)), attr(tcaNetemCorrupt, le32(pct(0.1), 0)))
	msg := cat(tcmsg(7, tcHRoot), attr(unix.TCA_KIND, []byte("netem\x00")), attr(unix.TCA_OPTIONS, opts))
	ifindex, parent, v, ok := parseNetem(msg)
	if !ok || ifindex != 7 || parent != tcHRoot {
		t.Fatalf("parseNetem: %d %#x %v", ifindex, parent, ok)
	}
	want := schema.NetemValues{Delay: 40000, Jitter: 5000, Rate: 10_000_000, Limit: 5000}
	if got := v.String(); got != "delay 40ms jitter 5ms loss 20% corrupt 0.1% rate 10mbit limit 5000" {
		t.Errorf("netem read as %q", got)
	}
	w := want
	w.Loss, w.Corrupt = 20, 0.1
	if d := netemDiffs(&w, v); len(d) != 0 {
		t.Errorf("as set, differences %v", d)
	}
	w.Delay = 50000
	if d := netemDiffs(&w, v); len(d) != 1 || d[0].String() != "delay 40ms, want 50ms" {
		t.Errorf("delay 50ms wanted: %v", d)
	}
	// Another qdisc (noqueue, ingress) is no netem.
	if _, _, _, ok := parseNetem(cat(tcmsg(7, tcHRoot), attr(unix.TCA_KIND, []byte("noqueue\x00")))); ok {
		t.Error("noqueue parsed as a netem")
	}
}

// TestParseRedirect: a matchall filter with a mirred egress redirect, as
// `tc filter add dev a0 parent ffff: matchall action mirred egress
// redirect dev b0` leaves it (b0 is ifindex 9); a mirror is no redirect.
func TestParseRedirect(t *testing.T) {
	filter := func(eaction uint32) []byte {
		parms := cat(le32(1, 0, 4 /* TC_ACT_STOLEN */, 1, 1), le32(eaction, 9))
		act := cat(attr(tcaActKind, []byte("mirred\x00")), attr(tcaActOptions, attr(tcaMirredParms, parms)))
		opts := attr(tcaMatchallAct, attr(1, act))
		return cat(tcmsg(8, tcHIngress), attr(unix.TCA_KIND, []byte("matchall\x00")), attr(unix.TCA_OPTIONS, opts))
	}
	if to := parseRedirect(filter(tcaEgressRedir)); to != 9 {
		t.Errorf("redirect to %d, want 9", to)
	}
	if to := parseRedirect(filter(2 /* TCA_EGRESS_MIRROR */)); to != 0 {
		t.Errorf("a mirror read as a redirect to %d", to)
	}
}
