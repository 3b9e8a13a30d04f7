package status

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netgen-lab/netgen/internal/reach"
)

// Check is one expectation checked on the running system.
type Check struct {
	reach.Expectation
	OK bool
	// Skipped says the pair was not pinged: pinging it too would have
	// overflowed the kernel's neighbour table (see ProbeOptions.Neighbours).
	Skipped bool
	// Detail says what was seen: "answered in 3 ms", "no answer in 10 s",
	// "the route to 10.0.0.2 leaves through eth1, not eth0".
	Detail string
}

// ProbeOptions bound a run.
type ProbeOptions struct {
	// Timeout is how long an address that must answer has to answer,
	// from its first echo request.
	Timeout time.Duration
	// Quiet is how long an address that must not answer is listened to
	// (at most Timeout).
	Quiet time.Duration
	// Window is how many addresses are pinged at once over all
	// namespaces (default 256).
	Window int
	// Limit ends the whole run; what has not been pinged by then fails
	// (default 3 Timeouts).
	Limit time.Duration
	// Neighbours is how many neighbour entries the run may make, for
	// IPv4 and IPv6 (default: half of the kernel's gc_thresh3 of each).
	Neighbours [2]int
}

// neighbourBudget is half of what the kernel's neighbour tables hold. The
// tables are shared by every namespace of the machine, the host's own
// included, and a new entry past gc_thresh3 (1024 by default) fails with
// ENOBUFS: a full mesh of 50 namespaces on one bridge (2500 entries) made
// most pings of the run fail that way on the test machine, and would have
// kept the host itself from resolving a new neighbour for seconds.
func neighbourBudget() [2]int {
	out := [2]int{512, 512}
	for i, fam := range []string{"ipv4", "ipv6"} {
		b, err := os.ReadFile("/proc/sys/net/" + fam + "/neigh/default/gc_thresh3")
		if n, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil && n > 1 {
			out[i] = n / 2
		}
	}
	return out
}

// choose marks the expectations that are not pinged: in the order of the
// derivation (by source, then address), a pair is pinged when the
// neighbour entries it adds still fit the budget. On a big segment this
// keeps every pair with the first sources (the host first), and then
// every pair whose entries exist already: a star around the first
// namespaces rather than a full mesh.
func choose(out []Check, budget [2]int) int {
	used := map[reach.Neighbour]bool{}
	var count [2]int
	skipped := 0
	for i := range out {
		var add [2]int
		var fresh []reach.Neighbour
		for _, n := range out[i].Neighbours {
			if !used[n] && !slices.Contains(fresh, n) {
				fresh = append(fresh, n)
				add[family(n.Addr)]++
			}
		}
		if count[0]+add[0] > budget[0] || count[1]+add[1] > budget[1] {
			out[i].Skipped = true
			skipped++
			continue
		}
		for _, n := range fresh {
			used[n] = true
		}
		count[0], count[1] = count[0]+add[0], count[1]+add[1]
	}
	return skipped
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

// Probe checks expectations from inside their namespaces, all namespaces
// at once: each has a thread that entered it, asks the kernel for its
// route to every address first (a request that would leave through
// another interface than the lab's is not sent: it could leave the lab),
// then sends ICMP echo requests from raw sockets, again every 200 ms,
// until the address answers (or, for one that must not, stays silent for
// Quiet) or Timeout passes.
//
// At most Window addresses are pinged at once over the whole lab. A full
// mesh of 50 namespaces on one bridge, pinged all at once, failed for most
// pairs on the test machine: every first ping is an ARP broadcast flooded
// to every port, 50 × 52 of them at once overflowed the per-CPU backlog
// (1000 frames), the ARP answers were lost and the neighbours went to
// FAILED. With a window, each pair costs one resolution and a round trip
// of milliseconds (docs/performance.md).
func Probe(exps []reach.Expectation, o ProbeOptions) []Check {
	if o.Window <= 0 {
		o.Window = 256
	}
	if o.Limit <= 0 {
		o.Limit = 3 * o.Timeout
	}
	out := make([]Check, len(exps))
	for i, e := range exps {
		out[i].Expectation = e
	}
	if o.Neighbours == [2]int{} {
		o.Neighbours = neighbourBudget()
	}
	if n := choose(out, o.Neighbours); n > 0 {
		for i := range out {
			if out[i].Skipped {
				out[i].Detail = fmt.Sprintf("not pinged: pinging every pair would overflow the kernel's neighbour tables, which every namespace shares (a run makes at most %d IPv4 and %d IPv6 entries, half of net.ipv{4,6}.neigh.default.gc_thresh3)", o.Neighbours[0], o.Neighbours[1])
			}
		}
	}
	bySrc := map[string][]int{}
	var srcs []string
	for i, c := range out {
		if c.Skipped {
			continue
		}
		if bySrc[c.From] == nil {
			srcs = append(srcs, c.From)
		}
		bySrc[c.From] = append(bySrc[c.From], i)
	}
	w := &window{slots: make(chan struct{}, o.Window), end: time.Now().Add(o.Limit)}
	var wg sync.WaitGroup
	for _, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			probeFrom(src, bySrc[src], out, o, w)
		}()
	}
	wg.Wait()
	return out
}

// window is the number of addresses being pinged at once, and the end of
// the run.
type window struct {
	slots chan struct{}
	end   time.Time
}

// probeFrom checks the expectations idx (all from one source), writing
// into out[idx]; nothing else touches those entries.
func probeFrom(src string, idx []int, out []Check, o ProbeOptions, w *window) {
	fail := func(format string, args ...any) {
		for _, i := range idx {
			out[i].Detail = fmt.Sprintf(format, args...)
		}
	}
	if src != reach.Host {
		runtime.LockOSThread() // never unlocked: see readNS
		if err := enter(src); err != nil {
			fail("cannot enter namespace %s: %v", src, err)
			return
		}
	}
	nl, err := dial()
	if err != nil {
		fail("%v", err)
		return
	}
	defer unix.Close(nl)
	names, err := linkNames(nl)
	if err != nil {
		fail("%v", err)
		return
	}
	var pending []int
	for _, i := range idx {
		e := out[i].Expectation
		dev, err := routeDev(nl, e.To, names)
		switch {
		case err != nil:
			out[i].Detail = fmt.Sprintf("no route to %s (%v): not pinged", e.To, err)
		case dev != e.Dev:
			out[i].Detail = fmt.Sprintf("the route to %s leaves through %s, not %s: not pinged", e.To, orNone(dev), e.Dev)
		default:
			pending = append(pending, i)
		}
	}
	if len(pending) == 0 {
		return
	}
	p, err := newPinger()
	if err != nil {
		fail("%v", err)
		return
	}
	defer p.close()
	p.run(pending, out, o, w)
}

// linkNames maps interface indexes to names.
func linkNames(s int) (map[int]string, error) {
	msgs, err := request(s, unix.RTM_GETLINK, unix.NLM_F_DUMP, make([]byte, unix.SizeofIfInfomsg))
	if err != nil {
		return nil, fmt.Errorf("link dump: %w", err)
	}
	out := map[int]string{}
	for _, m := range msgs {
		if len(m.Data) >= unix.SizeofIfInfomsg {
			out[int(binary.NativeEndian.Uint32(m.Data[4:]))] = cstring(attrs(m.Data[unix.SizeofIfInfomsg:])[unix.IFLA_IFNAME])
		}
	}
	return out, nil
}

// routeDev is the interface the kernel would send a packet for dst through
// ("lo" for a local address).
func routeDev(s int, dst netip.Addr, names map[int]string) (string, error) {
	rtm := make([]byte, unix.SizeofRtMsg)
	rtm[0] = unix.AF_INET
	if dst.Is6() {
		rtm[0] = unix.AF_INET6
	}
	rtm[1] = byte(dst.BitLen())
	raw := dst.AsSlice()
	attr := make([]byte, 4+len(raw))
	binary.NativeEndian.PutUint16(attr, uint16(4+len(raw)))
	binary.NativeEndian.PutUint16(attr[2:], unix.RTA_DST)
	copy(attr[4:], raw)
	msgs, err := request(s, unix.RTM_GETROUTE, 0, append(rtm, attr...))
	if err != nil {
		return "", err
	}
	for _, m := range msgs {
		if len(m.Data) < unix.SizeofRtMsg {
			continue
		}
		if m.Data[7] == unix.RTN_LOCAL {
			return "lo", nil
		}
		a := attrs(m.Data[unix.SizeofRtMsg:])
		return names[u32(a[unix.RTA_OIF])], nil
	}
	return "", errors.New("no answer from the kernel")
}

// pinger sends echo requests from raw sockets of the namespace its thread
// is in and matches the replies by a random token and the expectation's
// index carried in the payload.
type pinger struct {
	s4, s6 int
	id     uint16
	token  uint32
}

func newPinger() (*pinger, error) {
	var b [6]byte
	rand.Read(b[:])
	p := &pinger{s4: -1, s6: -1, id: binary.BigEndian.Uint16(b[:]), token: binary.BigEndian.Uint32(b[2:])}
	var err error
	if p.s4, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMP); err != nil {
		return nil, fmt.Errorf("raw ICMP socket (netgen test needs root): %w", err)
	}
	if p.s6, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMPV6); err != nil {
		unix.Close(p.s4)
		return nil, fmt.Errorf("raw ICMPv6 socket: %w", err)
	}
	return p, nil
}

func (p *pinger) close() {
	unix.Close(p.s4)
	unix.Close(p.s6)
}

func (p *pinger) send(i int, dst netip.Addr) {
	msg := make([]byte, 16)
	msg[0] = 8 // echo request
	var sock int
	var to unix.Sockaddr
	if dst.Is4() {
		sock, to = p.s4, &unix.SockaddrInet4{Addr: dst.As4()}
	} else {
		msg[0] = 128 // ICMPv6 echo request; the kernel fills the checksum in
		sock, to = p.s6, &unix.SockaddrInet6{Addr: dst.As16()}
	}
	binary.BigEndian.PutUint16(msg[4:], p.id)
	binary.BigEndian.PutUint32(msg[8:], p.token)
	binary.BigEndian.PutUint32(msg[12:], uint32(i))
	if dst.Is4() {
		binary.BigEndian.PutUint16(msg[2:], checksum(msg))
	}
	// A send that fails (no neighbour yet, no route) is tried again in
	// the next round.
	unix.Sendto(sock, msg, 0, to)
}

// recv returns the index carried by an echo reply waiting on a socket, and
// the address it came from.
func (p *pinger) recv(sock int) (int, netip.Addr, bool) {
	buf := make([]byte, 1500)
	for {
		n, from, err := unix.Recvfrom(sock, buf, 0)
		if err != nil {
			return 0, netip.Addr{}, false
		}
		b := buf[:n]
		var src netip.Addr
		reply := byte(129)
		switch f := from.(type) {
		case *unix.SockaddrInet4:
			src, reply = netip.AddrFrom4(f.Addr), 0
			if len(b) < 20 || len(b) < int(b[0]&0x0f)*4 {
				continue
			}
			b = b[int(b[0]&0x0f)*4:]
		case *unix.SockaddrInet6:
			src = netip.AddrFrom16(f.Addr)
		}
		if len(b) < 16 || b[0] != reply || binary.BigEndian.Uint16(b[4:]) != p.id || binary.BigEndian.Uint32(b[8:]) != p.token {
			continue
		}
		return int(binary.BigEndian.Uint32(b[12:])), src, true
	}
}

func (p *pinger) run(queue []int, out []Check, o ProbeOptions, w *window) {
	quiet := min(o.Quiet, o.Timeout)
	type probe struct{ start, sent time.Time }
	active := map[int]*probe{}
	finish := func(i int, ok bool, detail string) {
		out[i].OK, out[i].Detail = ok, detail
		delete(active, i)
		<-w.slots
	}
	for len(queue) > 0 || len(active) > 0 {
		now := time.Now()
		if now.After(w.end) {
			for i := range active {
				finish(i, false, fmt.Sprintf("no answer when the run ended, after %s", now.Sub(active[i].start).Round(100*time.Millisecond)))
			}
			for _, i := range queue {
				out[i].Detail = fmt.Sprintf("not pinged: the run ended after %s with %d addresses still to ping", o.Limit, len(queue))
			}
			return
		}
		// Take what the window gives; wait for a slot only when there is
		// nothing to listen for.
		for len(queue) > 0 {
			if len(active) == 0 {
				select {
				case w.slots <- struct{}{}:
				case <-time.After(time.Until(w.end)):
				}
				if time.Now().After(w.end) {
					break
				}
			} else {
				select {
				case w.slots <- struct{}{}:
				default:
					goto started
				}
			}
			active[queue[0]] = &probe{start: time.Now()}
			queue = queue[1:]
		}
	started:
		for i, pr := range active {
			age := time.Since(pr.start)
			switch {
			case out[i].Answer && age >= o.Timeout:
				finish(i, false, fmt.Sprintf("no answer in %s, want an answer", o.Timeout))
			case !out[i].Answer && age >= quiet:
				finish(i, true, fmt.Sprintf("no answer in %s", quiet))
			case time.Since(pr.sent) >= 200*time.Millisecond:
				p.send(i, out[i].To)
				pr.sent = time.Now()
			}
		}
		if len(active) == 0 {
			continue
		}
		fds := []unix.PollFd{{Fd: int32(p.s4), Events: unix.POLLIN}, {Fd: int32(p.s6), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 20); err != nil || n == 0 {
			continue
		}
		for _, fd := range fds {
			if fd.Revents&unix.POLLIN == 0 {
				continue
			}
			for {
				i, src, ok := p.recv(int(fd.Fd))
				if !ok {
					break
				}
				pr := active[i]
				if pr == nil || out[i].To != src {
					continue
				}
				at := time.Since(pr.start).Round(time.Millisecond)
				if out[i].Answer {
					finish(i, true, fmt.Sprintf("answered in %s", at))
				} else {
					finish(i, false, fmt.Sprintf("answered in %s, want no answer", at))
				}
			}
		}
	}
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
