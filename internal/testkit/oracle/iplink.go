package oracle

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Link is one kernel link as `ip -d -j link show` and `ip -j addr show` print it
// after networkd is done.
type Link struct {
	Index int
	Name  string
	// Kind is linkinfo.info_kind: "bridge", "veth", "vxlan", "tun", "macvlan",
	// ... ("" for lo). A tap is "tun" (see TunType).
	Kind string
	// SlaveKind is linkinfo.info_slave_kind: "bridge" for a bridge port.
	SlaveKind string
	// Master is the name of the master (bridge) or "".
	Master string
	// Peer is the "link" field: the veth peer (or the parent of a macvlan/
	// vxlan) when it is in the same namespace.
	Peer      string
	MTU       int
	MAC       string // "address"
	OperState string // "UP", "DOWN", "UNKNOWN", ...
	Flags     []string
	// AddrGenMode is inet6_addr_gen_mode: "none" when networkd applied
	// LinkLocalAddressing=no (or ipv6) before bringing the link up.
	AddrGenMode string
	// Bridge is set for bridges (Kind "bridge").
	Bridge *BridgeInfo
	// Port is set for bridge ports (SlaveKind "bridge").
	Port *BridgePortInfo
	// InfoData and SlaveData are linkinfo.info_data and info_slave_data as
	// decoded by encoding/json, for what the typed fields do not cover (vxlan
	// id, macvlan mode, tun type, ...).
	InfoData  map[string]any
	SlaveData map[string]any
	// Addrs are the link's addresses (from `ip -j addr show`).
	Addrs []Addr
}

// BridgeInfo is the part of info_data of a bridge that netgen cares about.
// Timers are in hundredths of a second, as ip prints them (ForwardDelay 1500
// is 15 s); AgeingTime too (30000 is 300 s).
type BridgeInfo struct {
	STPState        int    `json:"stp_state"`
	VLANFiltering   int    `json:"vlan_filtering"`
	VLANProtocol    string `json:"vlan_protocol"`
	VLANDefaultPVID int    `json:"vlan_default_pvid"`
	Priority        int    `json:"priority"`
	ForwardDelay    int    `json:"forward_delay"`
	HelloTime       int    `json:"hello_time"`
	MaxAge          int    `json:"max_age"`
	AgeingTime      int    `json:"ageing_time"`
	// GroupFwdMask is printed by ip as a string ("0", "0x8").
	GroupFwdMask      string `json:"group_fwd_mask"`
	MulticastSnooping int    `json:"mcast_snooping"`
}

// BridgePortInfo is the part of info_slave_data of a bridge port that netgen
// cares about.
type BridgePortInfo struct {
	State     string `json:"state"` // "disabled", "blocking", "listening", "learning", "forwarding"
	Priority  int    `json:"priority"`
	Cost      int    `json:"cost"`
	Hairpin   bool   `json:"hairpin"`
	Learning  bool   `json:"learning"`
	Flood     bool   `json:"flood"`
	Isolated  bool   `json:"isolated"`
	Guard     bool   `json:"guard"`
	RootBlock bool   `json:"root_block"`
}

// Addr is one address of a link.
type Addr struct {
	Family    string // "inet" or "inet6"
	Local     string // "10.0.0.1", "fd00::1"
	PrefixLen int
	Scope     string // "global", "link", "host"
	// Flags lists, sorted, the boolean flags ip printed for the address:
	// "nodad", "tentative", "dadfailed", "noprefixroute", "dynamic", ...
	Flags []string
}

// Prefix returns "LOCAL/PREFIXLEN".
func (a Addr) Prefix() string { return a.Local + "/" + strconv.Itoa(a.PrefixLen) }

// HasFlag reports whether ip printed the flag (e.g. "nodad") for the address.
func (a Addr) HasFlag(flag string) bool { return slices.Contains(a.Flags, flag) }

// HasFlag reports whether the link has the flag (e.g. "UP", "LOWER_UP").
func (l *Link) HasFlag(flag string) bool { return slices.Contains(l.Flags, flag) }

// AddrsOf returns the link's addresses of one family ("inet", "inet6") and
// scope ("" for any scope).
func (l *Link) AddrsOf(family, scope string) []Addr {
	var out []Addr
	for _, a := range l.Addrs {
		if a.Family == family && (scope == "" || a.Scope == scope) {
			out = append(out, a)
		}
	}
	return out
}

// Prefixes returns the link's addresses as "LOCAL/PREFIXLEN" strings, in
// kernel order, excluding IPv6 link-local ones (scope link).
func (l *Link) Prefixes() []string {
	var out []string
	for _, a := range l.Addrs {
		if a.Family == "inet6" && a.Scope == "link" {
			continue
		}
		out = append(out, a.Prefix())
	}
	return out
}

type ipLinkJSON struct {
	Ifindex     int      `json:"ifindex"`
	Ifname      string   `json:"ifname"`
	Link        string   `json:"link"`
	Flags       []string `json:"flags"`
	MTU         int      `json:"mtu"`
	Master      string   `json:"master"`
	Operstate   string   `json:"operstate"`
	Address     string   `json:"address"`
	AddrGenMode string   `json:"inet6_addr_gen_mode"`
	Linkinfo    *struct {
		InfoKind      string          `json:"info_kind"`
		InfoData      json.RawMessage `json:"info_data"`
		InfoSlaveKind string          `json:"info_slave_kind"`
		InfoSlaveData json.RawMessage `json:"info_slave_data"`
	} `json:"linkinfo"`
}

type ipAddrJSON struct {
	Ifindex  int              `json:"ifindex"`
	AddrInfo []map[string]any `json:"addr_info"`
}

// ParseIPLinks parses the JSON of `ip -d -j link show` and `ip -j addr show`
// (of one namespace) into links with their addresses.
func ParseIPLinks(linkJSON, addrJSON []byte) ([]Link, error) {
	var raw []ipLinkJSON
	if err := json.Unmarshal(linkJSON, &raw); err != nil {
		return nil, fmt.Errorf("parse ip -d -j link show: %w", err)
	}
	links := make([]Link, 0, len(raw))
	byIndex := make(map[int]int)
	for _, r := range raw {
		l := Link{
			Index:       r.Ifindex,
			Name:        r.Ifname,
			Peer:        r.Link,
			Flags:       r.Flags,
			MTU:         r.MTU,
			Master:      r.Master,
			OperState:   r.Operstate,
			MAC:         r.Address,
			AddrGenMode: r.AddrGenMode,
		}
		if li := r.Linkinfo; li != nil {
			l.Kind = li.InfoKind
			l.SlaveKind = li.InfoSlaveKind
			if len(li.InfoData) > 0 {
				if err := json.Unmarshal(li.InfoData, &l.InfoData); err != nil {
					return nil, fmt.Errorf("%s: info_data: %w", l.Name, err)
				}
				if l.Kind == "bridge" {
					l.Bridge = new(BridgeInfo)
					if err := json.Unmarshal(li.InfoData, l.Bridge); err != nil {
						return nil, fmt.Errorf("%s: bridge info_data: %w", l.Name, err)
					}
				}
			}
			if len(li.InfoSlaveData) > 0 {
				if err := json.Unmarshal(li.InfoSlaveData, &l.SlaveData); err != nil {
					return nil, fmt.Errorf("%s: info_slave_data: %w", l.Name, err)
				}
				if l.SlaveKind == "bridge" {
					l.Port = new(BridgePortInfo)
					if err := json.Unmarshal(li.InfoSlaveData, l.Port); err != nil {
						return nil, fmt.Errorf("%s: bridge port info_slave_data: %w", l.Name, err)
					}
				}
			}
		}
		byIndex[l.Index] = len(links)
		links = append(links, l)
	}

	var addrs []ipAddrJSON
	if err := json.Unmarshal(addrJSON, &addrs); err != nil {
		return nil, fmt.Errorf("parse ip -j addr show: %w", err)
	}
	for _, a := range addrs {
		i, ok := byIndex[a.Ifindex]
		if !ok {
			continue // link appeared between the two ip calls
		}
		for _, ai := range a.AddrInfo {
			ad := Addr{}
			for k, v := range ai {
				switch k {
				case "family":
					ad.Family, _ = v.(string)
				case "local":
					ad.Local, _ = v.(string)
				case "prefixlen":
					f, _ := v.(float64)
					ad.PrefixLen = int(f)
				case "scope":
					ad.Scope, _ = v.(string)
				default:
					if b, ok := v.(bool); ok && b {
						ad.Flags = append(ad.Flags, k)
					}
				}
			}
			slices.Sort(ad.Flags)
			links[i].Addrs = append(links[i].Addrs, ad)
		}
	}
	return links, nil
}
