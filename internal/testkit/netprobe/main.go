// Command netprobe is the e2e tiers' traffic tool, built statically and
// copied into the test image (which has no netcat or LLDP daemon):
//
//	netprobe lldp-send IFACE           send 5 LLDP frames (802.1AB, to 01:80:c2:00:00:0e), 100 ms apart
//	netprobe lldp-recv IFACE SECONDS   exit 0 when an LLDP frame from lldp-send arrives on IFACE in time
//	netprobe sink ADDR:PORT            accept one TCP connection and read it to the end
//	netprobe send ADDR:PORT BYTES      send BYTES over TCP; print the seconds and Mbit/s it took
//
// LLDP frames are what a Linux bridge keeps to itself (unless its
// group_fwd_mask says otherwise) and a transparent wire must pass.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

const ethPLLDP = 0x88cc

// chassis marks the frames netprobe sends, so that lldp-recv counts only those.
var chassis = []byte("netprobe-e2e")

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "lldp-send":
		err = lldpSend(os.Args[2])
	case "lldp-recv":
		if len(os.Args) != 4 {
			usage()
		}
		secs, _ := strconv.Atoi(os.Args[3])
		err = lldpRecv(os.Args[2], time.Duration(secs)*time.Second)
	case "sink":
		err = sink(os.Args[2])
	case "send":
		if len(os.Args) != 4 {
			usage()
		}
		n, _ := strconv.Atoi(os.Args[3])
		err = send(os.Args[2], n)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netprobe:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: netprobe lldp-send IFACE | lldp-recv IFACE SECONDS | sink ADDR:PORT | send ADDR:PORT BYTES")
	os.Exit(2)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetSocket opens a raw socket bound to iface for LLDP frames.
func packetSocket(iface string) (int, *net.Interface, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return -1, nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(ethPLLDP)))
	if err != nil {
		return -1, nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(ethPLLDP), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	return fd, ifi, nil
}

// tlv is one LLDP TLV: 7 bits of type, 9 of length.
func tlv(typ int, value []byte) []byte {
	h := uint16(typ)<<9 | uint16(len(value))
	return append(binary.BigEndian.AppendUint16(nil, h), value...)
}

func lldpFrame(src net.HardwareAddr) []byte {
	f := []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}
	f = append(f, src...)
	f = binary.BigEndian.AppendUint16(f, ethPLLDP)
	f = append(f, tlv(1, append([]byte{7}, chassis...))...) // chassis id, locally assigned
	f = append(f, tlv(2, append([]byte{7}, "port1"...))...) // port id, locally assigned
	f = append(f, tlv(3, []byte{0, 120})...)                // TTL 120 s
	return append(f, tlv(0, nil)...)                        // end of LLDPDU
}

func lldpSend(iface string) error {
	fd, ifi, err := packetSocket(iface)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	frame := lldpFrame(ifi.HardwareAddr)
	to := &unix.SockaddrLinklayer{Protocol: htons(ethPLLDP), Ifindex: ifi.Index, Halen: 6}
	copy(to.Addr[:], frame[:6])
	for i := 0; i < 5; i++ {
		if err := unix.Sendto(fd, frame, 0, to); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

func lldpRecv(iface string, wait time.Duration) error {
	fd, _, err := packetSocket(iface)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(wait)
	buf := make([]byte, 2048)
	for time.Now().Before(deadline) {
		tv := unix.NsecToTimeval(int64(time.Until(deadline)))
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			return err
		}
		if n > 14 && bytes.Contains(buf[14:n], chassis) {
			fmt.Printf("lldp frame from %s on %s\n", net.HardwareAddr(buf[6:12]), iface)
			return nil
		}
	}
	return fmt.Errorf("no LLDP frame on %s in %v", iface, wait)
}

func sink(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := l.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	n, err := io.Copy(io.Discard, c)
	fmt.Printf("received %d bytes\n", n)
	return err
}

func send(addr string, n int) error {
	var c net.Conn
	var err error
	// The sink may not listen yet: retry for a few seconds.
	for i := 0; i < 50; i++ {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	start := time.Now()
	if _, err := io.CopyN(c, zeros{}, int64(n)); err != nil {
		return err
	}
	// Closing for writing and waiting for the sink's close means every
	// byte has crossed, not only left this socket's buffer.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, c)
	d := time.Since(start)
	c.Close()
	fmt.Printf("seconds=%.3f mbit=%.2f\n", d.Seconds(), float64(n)*8/d.Seconds()/1e6)
	return nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
