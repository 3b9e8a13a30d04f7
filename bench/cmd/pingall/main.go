// Command pingall measures when a lab is up: it pings one address from
// inside every namespace of a list, all at once, retrying every few
// milliseconds, and prints when the last namespace got its first answer.
// With a command after "--" it starts the clock, runs the command (a
// netgen build, an ip script) and pings while it runs, so the figure is
// "from the start of the command until every namespace answers".
//
// It exists because timing with one `ip netns exec NS ping` process per
// namespace and try would add seconds of process start-up to a bring-up
// that itself takes a fraction of a second, and would blur the difference
// between the methods being compared. Here each namespace has a goroutine
// on a locked OS thread that enters the namespace once (setns) and sends ICMP
// echo requests from a raw socket; it needs root.
//
//	pingall -ns ns0,ns1,ns2 -to 10.1.0.1 [-timeout 120s] [-- COMMAND ARGS...]
//	pingall -prefix ns -count 100 -to 10.1.0.1 -- sh /root/up.sh
//
// Output, one key=value per line, times in milliseconds from the start:
// "command_ms" (when the command exited), "all_ms" (when every namespace
// had answered, or the command had exited, whichever is later), and
// "start_unix_ns" and "done_unix_ns" (the wall clock at the start and at
// all_ms, to relate the figure to events outside the process, such as the
// start of the container it runs in). The exit status is 1 if the command failed
// or a namespace never answered.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	nsList := flag.String("ns", "", "comma-separated namespaces (names under /run/netns)")
	prefix := flag.String("prefix", "", "namespaces PREFIX0 ... PREFIX<count-1> (with -count)")
	count := flag.Int("count", 0, "number of namespaces named PREFIXi")
	to := flag.String("to", "", "IPv4 address to ping from every namespace")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()

	var names []string
	if *nsList != "" {
		names = strings.Split(*nsList, ",")
	}
	for i := 0; i < *count; i++ {
		names = append(names, fmt.Sprintf("%s%d", *prefix, i))
	}
	dst, err := netip.ParseAddr(*to)
	if err != nil || !dst.Is4() || len(names) == 0 {
		fmt.Fprintln(os.Stderr, "pingall: need -to IPv4 and namespaces (-ns or -prefix/-count); see -help")
		os.Exit(2)
	}

	start := time.Now()
	deadline := start.Add(*timeout)
	fmt.Printf("start_unix_ns=%d\n", start.UnixNano())

	cmdDone := make(chan error, 1)
	var cmdAt time.Duration
	if args := flag.Args(); len(args) > 0 {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		go func() {
			err := cmd.Run()
			cmdAt = time.Since(start)
			cmdDone <- err
		}()
	} else {
		cmdDone <- nil
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	var last, lastSent time.Duration
	lastNS := ""
	var failed []string
	for _, ns := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := pingFrom(ns, dst, start, deadline)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", ns, err))
				return
			}
			if r.answered > last {
				last, lastNS = r.answered, ns
			}
			lastSent = max(lastSent, r.sent)
		}()
	}
	cmdErr := <-cmdDone
	wg.Wait()
	status := 0
	if flag.NArg() > 0 {
		fmt.Printf("command_ms=%.1f\n", ms(cmdAt))
		if cmdErr != nil {
			fmt.Fprintf(os.Stderr, "pingall: command: %v\n", cmdErr)
			status = 1
		}
	}
	fmt.Printf("sent_ms=%.1f\n", ms(lastSent))
	fmt.Printf("pinged_ms=%.1f\n", ms(last))
	fmt.Fprintf(os.Stderr, "pingall: last to answer: %s\n", lastNS)
	fmt.Printf("all_ms=%.1f\n", ms(max(last, cmdAt)))
	fmt.Printf("done_unix_ns=%d\n", start.Add(max(last, cmdAt)).UnixNano())
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "pingall: %d of %d namespaces never answered, e.g. %s\n", len(failed), len(names), failed[0])
		status = 1
	}
	os.Exit(status)
}

// interval is how often a namespace is looked for and an echo request
// sent: short enough for the figures' precision, long enough that hundreds
// of waiting threads do not steal the CPU from the bring-up they time.
const interval = 10 * time.Millisecond

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// result says when (since the start) a namespace could first send an echo
// request (it had its address and route) and when the first answer came.
type result struct{ sent, answered time.Duration }

// pingFrom waits for the namespace to exist, enters it and pings dst until
// the first answer.
func pingFrom(ns string, dst netip.Addr, start, deadline time.Time) (result, error) {
	var r result
	// The thread enters the namespace and is never given back: Go ends a
	// thread whose goroutine exits while locked, so no other goroutine
	// ever runs in this namespace by accident.
	runtime.LockOSThread()
	path := "/run/netns/" + ns
	var fd int
	for {
		var err error
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == nil {
			// `ip netns add` creates the file, then bind-mounts the
			// namespace on it: until then it is an empty file, and setns
			// on it fails.
			if _, _, e := syscall.Syscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0); e == 0 {
				break
			}
			syscall.Close(fd)
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("namespace %s never appeared: %v", ns, err)
		}
		time.Sleep(interval)
	}
	syscall.Close(fd)
	sock, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.IPPROTO_ICMP)
	if err != nil {
		return r, fmt.Errorf("raw ICMP socket: %v", err)
	}
	defer syscall.Close(sock)
	tv := syscall.NsecToTimeval(interval.Nanoseconds())
	if err := syscall.SetsockoptTimeval(sock, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return r, err
	}
	id := uint16(os.Getpid())
	to := &syscall.SockaddrInet4{Addr: dst.As4()}
	buf := make([]byte, 1500)
	var lastErr error
	for seq := uint16(1); time.Now().Before(deadline); seq++ {
		// Until the namespace has its address and route, sendto fails
		// (ENETUNREACH): wait and try again.
		if err := syscall.Sendto(sock, echo(id, seq), 0, to); err != nil {
			lastErr = err
			time.Sleep(interval)
			continue
		}
		if r.sent == 0 {
			r.sent = time.Since(start)
		}
		for {
			n, from, err := syscall.Recvfrom(sock, buf, 0)
			if err != nil {
				if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR) {
					lastErr = err
				}
				break
			}
			if f, ok := from.(*syscall.SockaddrInet4); ok && f.Addr == dst.As4() && isReply(buf[:n], id) {
				r.answered = time.Since(start)
				return r, nil
			}
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no answer")
	}
	return r, fmt.Errorf("no answer from %s: %v", dst, lastErr)
}

// echo is an ICMP echo request.
func echo(id, seq uint16) []byte {
	b := make([]byte, 16)
	b[0] = 8 // echo request
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
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

// isReply reports whether an IPv4 packet (a raw socket gets the IP header)
// is an echo reply with our id.
func isReply(p []byte, id uint16) bool {
	if len(p) < 20 {
		return false
	}
	hl := int(p[0]&0x0f) * 4
	if len(p) < hl+8 {
		return false
	}
	icmp := p[hl:]
	return icmp[0] == 0 && binary.BigEndian.Uint16(icmp[4:]) == id
}
