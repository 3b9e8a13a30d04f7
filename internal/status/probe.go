package status

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netgen-lab/netgen/internal/reach"
)

// Check is one expectation checked on the running system.
type Check struct {
	reach.Expectation
	OK bool
	// Detail says what was seen: "answered in 3 ms", "no answer in 10 s",
	// "the route to 10.0.0.2 leaves through eth1, not eth0".
	Detail string
}

// ProbeOptions bound a run.
type ProbeOptions struct {
	// Timeout is how long an address that must answer has to answer.
	Timeout time.Duration
	// Quiet is how long an address that must not answer is listened to
	// (at most Timeout).
	Quiet time.Duration
}

// Probe checks expectations from inside their namespaces, all namespaces
// at once: each has a thread that entered it, asks the kernel for its
// route to every address first (a request that would leave through
// another interface than the lab's is not sent: it could leave the lab),
// then sends ICMP echo requests from raw sockets, again every 200 ms,
// until every address that must answer has, and every address that must
// not has stayed silent for Quiet, or Timeout has passed.
func Probe(exps []reach.Expectation, o ProbeOptions) []Check {
	bySrc := map[string][]int{}
	var srcs []string
	for i, e := range exps {
		if bySrc[e.From] == nil {
			srcs = append(srcs, e.From)
		}
		bySrc[e.From] = append(bySrc[e.From], i)
	}
	out := make([]Check, len(exps))
	for i, e := range exps {
		out[i].Expectation = e
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8*runtime.GOMAXPROCS(0))
	for _, src := range srcs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			probeFrom(src, bySrc[src], out, o)
		}()
	}
	wg.Wait()
	return out
}

// probeFrom checks the expectations idx (all from one source), writing
// into out[idx]; nothing else touches those entries.
func probeFrom(src string, idx []int, out []Check, o ProbeOptions) {
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
	p.run(pending, out, o)
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

func (p *pinger) run(pending []int, out []Check, o ProbeOptions) {
	start := time.Now()
	quiet := min(o.Quiet, o.Timeout)
	answered := map[int]time.Duration{}
	mine := map[int]bool{}
	for _, i := range pending {
		mine[i] = true
	}
	waiting := func() bool {
		for _, i := range pending {
			if _, ok := answered[i]; !ok && (out[i].Answer || time.Since(start) < quiet) {
				return true
			}
		}
		return false
	}
	for time.Since(start) < o.Timeout && waiting() {
		for _, i := range pending {
			if _, ok := answered[i]; !ok {
				p.send(i, out[i].To)
			}
		}
		round := time.Now().Add(200 * time.Millisecond)
		for time.Now().Before(round) {
			fds := []unix.PollFd{{Fd: int32(p.s4), Events: unix.POLLIN}, {Fd: int32(p.s6), Events: unix.POLLIN}}
			ms := int(time.Until(round).Milliseconds()) + 1
			if n, err := unix.Poll(fds, ms); err != nil || n == 0 {
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
					if mine[i] && out[i].To == src {
						if _, seen := answered[i]; !seen {
							answered[i] = time.Since(start)
						}
					}
				}
			}
		}
	}
	elapsed := time.Since(start)
	for _, i := range pending {
		at, ok := answered[i]
		switch {
		case out[i].Answer && ok:
			out[i].OK, out[i].Detail = true, fmt.Sprintf("answered in %s", at.Round(time.Millisecond))
		case out[i].Answer:
			out[i].Detail = fmt.Sprintf("no answer in %s, want an answer", elapsed.Round(100*time.Millisecond))
		case ok:
			out[i].Detail = fmt.Sprintf("answered in %s, want no answer", at.Round(time.Millisecond))
		default:
			out[i].OK, out[i].Detail = true, fmt.Sprintf("no answer in %s", min(elapsed, quiet).Round(100*time.Millisecond))
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
