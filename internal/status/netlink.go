package status

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Constants of linux/if_bridge.h and linux/rtnetlink.h that x/sys/unix
// does not name.
const (
	rtextFilterBRVLAN   = 1 << 1
	iflaBridgeVLANInfo  = 2
	bridgeVLANInfoPVID  = 1 << 1
	bridgeVLANInfoUntag = 1 << 2
	nlaTypeMask         = 0x3fff // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

// Request says what to read from the running system.
type Request struct {
	// Namespaces to read ("" is the namespace netgen runs in, the host's).
	Namespaces []string
	// Sysctls are /proc/sys-relative paths to read, per namespace.
	Sysctls map[string][]string
	// VLANs are the namespaces whose bridge port VLANs are read.
	VLANs map[string]bool
	// Qdiscs are the namespaces whose qdiscs are read (one dump), and
	// Wires, per namespace, the links whose ingress filters are read (one
	// dump per link: the kernel dumps filters of one device at a time).
	Qdiscs map[string]bool
	Wires  map[string][]string
	// FDB are the namespaces whose bridge FDB is read, for the flooding
	// entries of VXLAN devices.
	FDB map[string]bool
}

// Read reads every namespace of a request, in parallel: one netlink socket
// per namespace, opened by a thread that entered it, with one dump each of
// links, addresses and routes (and of port VLANs where asked), and the
// sysctls read by the same thread. No process is started.
func Read(req Request) map[string]*Namespace {
	out := make(map[string]*Namespace, len(req.Namespaces))
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Threads enter namespaces: a few per CPU is plenty, the work is the
	// kernel's.
	sem := make(chan struct{}, 4*runtime.GOMAXPROCS(0))
	for _, ns := range req.Namespaces {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n := readNS(ns, req)
			mu.Lock()
			out[ns] = n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// readNS reads one namespace; nil when it does not exist.
func readNS(ns string, req Request) *Namespace {
	sysctls := req.Sysctls[ns]
	if ns != "" {
		// The thread enters the namespace and is never given back: Go
		// ends a thread whose goroutine exits while locked, so nothing
		// else ever runs in this namespace by accident.
		runtime.LockOSThread()
		if err := enter(ns); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return &Namespace{Err: err.Error()}
		}
	}
	n := &Namespace{}
	s, err := dial()
	if err != nil {
		n.Err = err.Error()
		return n
	}
	defer unix.Close(s)
	if err := n.read(s, req.VLANs[ns]); err != nil {
		n.Err = err.Error()
	} else if err := n.readTC(s, req.Qdiscs[ns], req.Wires[ns], req.FDB[ns]); err != nil {
		n.Err = err.Error()
	}
	if len(sysctls) > 0 {
		n.Sysctls = map[string]string{}
		for _, p := range sysctls {
			b, err := os.ReadFile("/proc/sys/" + p)
			if err != nil {
				continue
			}
			n.Sysctls[p] = strings.Join(strings.Fields(string(b)), " ")
		}
	}
	return n
}

// enter moves the calling (locked) thread into a named namespace.
func enter(ns string) error {
	fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/run/netns/" + ns, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		// A file that `ip netns add` has not bind-mounted yet, or a
		// stale one: not a namespace.
		if errors.Is(err, unix.EINVAL) {
			return &os.PathError{Op: "setns", Path: "/run/netns/" + ns, Err: os.ErrNotExist}
		}
		return fmt.Errorf("entering namespace %s: %w", ns, err)
	}
	return nil
}

func dial() (int, error) {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return -1, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(s)
		return -1, fmt.Errorf("netlink bind: %w", err)
	}
	return s, nil
}

// request sends one netlink request and returns every message of its answer.
func request(s int, typ uint16, flags uint16, body []byte) ([]syscall.NetlinkMessage, error) {
	hdr := make([]byte, unix.SizeofNlMsghdr)
	binary.NativeEndian.PutUint32(hdr[0:], uint32(unix.SizeofNlMsghdr+len(body)))
	binary.NativeEndian.PutUint16(hdr[4:], typ)
	binary.NativeEndian.PutUint16(hdr[6:], flags|unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(hdr[8:], 1)
	if err := unix.Sendto(s, append(hdr, body...), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	var out []syscall.NetlinkMessage
	for {
		// A new buffer each time: the messages point into it.
		buf := make([]byte, 1<<16)
		n, _, err := unix.Recvfrom(s, buf, 0)
		if err != nil {
			return nil, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
						return out, unix.Errno(-code)
					}
				}
				return out, nil
			}
			out = append(out, m)
		}
		if flags&unix.NLM_F_DUMP == 0 {
			return out, nil
		}
	}
}

// attrs parses a run of netlink attributes.
func attrs(b []byte) map[uint16][]byte {
	out := map[uint16][]byte{}
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b))
		t := binary.NativeEndian.Uint16(b[2:]) & nlaTypeMask
		if l < unix.SizeofRtAttr || l > len(b) {
			break
		}
		if _, dup := out[t]; !dup {
			out[t] = b[unix.SizeofRtAttr:l]
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return out
}

// each calls f for every attribute of a run, repeats included.
func each(b []byte, f func(t uint16, v []byte)) {
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b))
		t := binary.NativeEndian.Uint16(b[2:]) & nlaTypeMask
		if l < unix.SizeofRtAttr || l > len(b) {
			break
		}
		f(t, b[unix.SizeofRtAttr:l])
		b = b[min((l+3)&^3, len(b)):]
	}
}

func u32(b []byte) int {
	if len(b) < 4 {
		return 0
	}
	return int(binary.NativeEndian.Uint32(b))
}

func u16(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	return int(binary.NativeEndian.Uint16(b))
}

func u8(b []byte) int {
	if len(b) < 1 {
		return 0
	}
	return int(b[0])
}

func cstring(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// read dumps the namespace's links, addresses and routes (and port VLANs).
func (n *Namespace) read(s int, vlans bool) error {
	ifi := make([]byte, unix.SizeofIfInfomsg)
	msgs, err := request(s, unix.RTM_GETLINK, unix.NLM_F_DUMP, ifi)
	if err != nil {
		return fmt.Errorf("link dump: %w", err)
	}
	byIndex := map[int]*Link{}
	masters := map[*Link]int{}
	for _, m := range msgs {
		if len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		index := int(int32(binary.NativeEndian.Uint32(m.Data[4:])))
		flags := binary.NativeEndian.Uint32(m.Data[8:])
		a := attrs(m.Data[unix.SizeofIfInfomsg:])
		l := &Link{Name: cstring(a[unix.IFLA_IFNAME]), MTU: u32(a[unix.IFLA_MTU]), Up: flags&unix.IFF_UP != 0, index: index}
		if hw := a[unix.IFLA_ADDRESS]; len(hw) == 6 {
			l.MAC = net.HardwareAddr(hw).String()
		}
		if v, ok := a[unix.IFLA_MASTER]; ok {
			masters[l] = u32(v)
		}
		if li, ok := a[unix.IFLA_LINKINFO]; ok {
			info := attrs(li)
			l.Kind = cstring(info[unix.IFLA_INFO_KIND])
			data := attrs(info[unix.IFLA_INFO_DATA])
			switch l.Kind {
			case "bridge":
				l.Bridge = &Bridge{
					STP:           u32(data[unix.IFLA_BR_STP_STATE]) != 0,
					VLANFiltering: u8(data[unix.IFLA_BR_VLAN_FILTERING]) != 0,
					DefaultPVID:   u16(data[unix.IFLA_BR_VLAN_DEFAULT_PVID]),
					Priority:      u16(data[unix.IFLA_BR_PRIORITY]),
					ForwardDelay:  u32(data[unix.IFLA_BR_FORWARD_DELAY]),
					HelloTime:     u32(data[unix.IFLA_BR_HELLO_TIME]),
					MaxAge:        u32(data[unix.IFLA_BR_MAX_AGE]),
					AgeingTime:    u32(data[unix.IFLA_BR_AGEING_TIME]),
					GroupFwdMask:  u16(data[unix.IFLA_BR_GROUP_FWD_MASK]),
				}
				root, self := data[unix.IFLA_BR_ROOT_ID], data[unix.IFLA_BR_BRIDGE_ID]
				l.Bridge.NonRoot = l.Bridge.STP && len(root) == 8 && len(self) == 8 && string(root) != string(self)
			case "vlan":
				l.VLANID = u16(data[unix.IFLA_VLAN_ID])
			case "bond":
				if m, ok := data[unix.IFLA_BOND_MODE]; ok && int(u8(m)) < len(bondModes) {
					l.BondMode = bondModes[u8(m)]
				}
				l.BondOpts = bondInfo(data)
			case "vrf":
				l.VRFTable = u32(data[unix.IFLA_VRF_TABLE])
			case "vxlan":
				l.VXLAN = vxlanInfo(data)
			case "tun":
				switch u8(data[unix.IFLA_TUN_TYPE]) {
				case 1:
					l.TunType = "tun"
				case 2:
					l.TunType = "tap"
				}
			}
			if cstring(info[unix.IFLA_INFO_SLAVE_KIND]) == "bridge" {
				p := attrs(info[unix.IFLA_INFO_SLAVE_DATA])
				l.Port = &PortInfo{Cost: u32(p[unix.IFLA_BRPORT_COST]), Priority: u16(p[unix.IFLA_BRPORT_PRIORITY]),
					Isolated: u8(p[unix.IFLA_BRPORT_ISOLATED]) != 0, Learning: u8(p[unix.IFLA_BRPORT_LEARNING]) != 0,
					Flood: u8(p[unix.IFLA_BRPORT_UNICAST_FLOOD]) != 0, Hairpin: u8(p[unix.IFLA_BRPORT_MODE]) != 0,
					BPDUGuard: u8(p[unix.IFLA_BRPORT_GUARD]) != 0, RootGuard: u8(p[unix.IFLA_BRPORT_PROTECT]) != 0}
			}
		}
		byIndex[index] = l
		n.Links = append(n.Links, l)
	}
	for l, idx := range masters {
		if m := byIndex[idx]; m != nil {
			l.Master = m.Name
		}
	}

	ifa := make([]byte, unix.SizeofIfAddrmsg)
	msgs, err = request(s, unix.RTM_GETADDR, unix.NLM_F_DUMP, ifa)
	if err != nil {
		return fmt.Errorf("address dump: %w", err)
	}
	for _, m := range msgs {
		if len(m.Data) < unix.SizeofIfAddrmsg {
			continue
		}
		bits, scope := int(m.Data[1]), m.Data[3]
		index := int(binary.NativeEndian.Uint32(m.Data[4:]))
		a := attrs(m.Data[unix.SizeofIfAddrmsg:])
		raw := a[unix.IFA_LOCAL]
		if raw == nil {
			raw = a[unix.IFA_ADDRESS]
		}
		ip, ok := netip.AddrFromSlice(raw)
		l := byIndex[index]
		if !ok || l == nil {
			continue
		}
		p := netip.PrefixFrom(ip.Unmap(), bits)
		if ip.Is6() && scope == unix.RT_SCOPE_LINK {
			l.LinkLocal = append(l.LinkLocal, p)
			continue
		}
		l.Addrs = append(l.Addrs, p)
	}

	rtm := make([]byte, unix.SizeofRtMsg)
	msgs, err = request(s, unix.RTM_GETROUTE, unix.NLM_F_DUMP, rtm)
	if err != nil {
		return fmt.Errorf("route dump: %w", err)
	}
	for _, m := range msgs {
		if len(m.Data) < unix.SizeofRtMsg {
			continue
		}
		family, dstLen, table, proto, typ := m.Data[0], int(m.Data[1]), int(m.Data[4]), int(m.Data[5]), m.Data[7]
		a := attrs(m.Data[unix.SizeofRtMsg:])
		if t, ok := a[unix.RTA_TABLE]; ok {
			table = u32(t)
		}
		// The main table, and a VRF's (any other but local and
		// default): routes of a VRF's members are in its table.
		if table == unix.RT_TABLE_LOCAL || table == unix.RT_TABLE_DEFAULT || typ != unix.RTN_UNICAST {
			continue
		}
		r := Route{Proto: proto, Metric: u32(a[unix.RTA_PRIORITY]), Table: table}
		if l := byIndex[u32(a[unix.RTA_OIF])]; l != nil {
			r.Dev = l.Name
		}
		var zero netip.Addr
		if family == unix.AF_INET {
			zero = netip.IPv4Unspecified()
		} else {
			zero = netip.IPv6Unspecified()
		}
		dst := zero
		if d, ok := netip.AddrFromSlice(a[unix.RTA_DST]); ok {
			dst = d
		}
		r.To = netip.PrefixFrom(dst, dstLen)
		if gw, ok := netip.AddrFromSlice(a[unix.RTA_GATEWAY]); ok {
			r.Via = gw
		}
		r.OnLink = binary.NativeEndian.Uint32(m.Data[8:])&unix.RTNH_F_ONLINK != 0
		n.Routes = append(n.Routes, r)
	}

	if vlans {
		ifi := make([]byte, unix.SizeofIfInfomsg)
		ifi[0] = unix.AF_BRIDGE
		ext := make([]byte, 8)
		binary.NativeEndian.PutUint16(ext, 8)
		binary.NativeEndian.PutUint16(ext[2:], unix.IFLA_EXT_MASK)
		binary.NativeEndian.PutUint32(ext[4:], rtextFilterBRVLAN)
		msgs, err := request(s, unix.RTM_GETLINK, unix.NLM_F_DUMP, append(ifi, ext...))
		if err != nil {
			return fmt.Errorf("bridge VLAN dump: %w", err)
		}
		n.VLANsRead = true
		for _, m := range msgs {
			if len(m.Data) < unix.SizeofIfInfomsg {
				continue
			}
			l := byIndex[int(int32(binary.NativeEndian.Uint32(m.Data[4:])))]
			if l == nil {
				continue
			}
			a := attrs(m.Data[unix.SizeofIfInfomsg:])
			each(a[unix.IFLA_AF_SPEC], func(t uint16, v []byte) {
				if t != iflaBridgeVLANInfo || len(v) < 4 {
					return
				}
				flags := u16(v)
				l.VLANs = append(l.VLANs, PortVLAN{ID: u16(v[2:]), PVID: flags&bridgeVLANInfoPVID != 0, Untagged: flags&bridgeVLANInfoUntag != 0})
			})
		}
	}
	return nil
}
