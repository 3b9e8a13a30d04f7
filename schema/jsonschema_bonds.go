package schema

// The schema of bonds, dummies, VRFs and bridge port settings (branch
// bonds: decoder lists bondKeys, dummyKeys, vrfKeys, portOptKeys, and
// port in portKeys).
func init() {
	bondMembers := prop{Schema: obj{"type": "array", "minItems": 1, "items": refS},
		Doc: "the bonded interfaces: veth ends or taps of the bond's namespace with no address, bridge, VLAN or external, in no other bond or VRF"}
	vrfMembers := prop{Schema: listOf(refS),
		Doc: "interfaces of the VRF's namespace whose addresses and routes go into its table; not an uplink, a bridge port or another VRF"}
	addFeature(feature{
		props: map[string]map[string]prop{
			"lab": {
				"bonds":   {Schema: listOf(ref("bond")), Doc: "bonds (link aggregation) of interfaces of one namespace"},
				"dummies": {Schema: listOf(ref("dummy")), Doc: "dummy interfaces: always up, carrying addresses (a router's loopback)"},
				"vrfs":    {Schema: listOf(ref("vrf")), Doc: "VRFs: interfaces whose addresses and routes go into a routing table of their own"},
			},
		},
		shared: map[string]prop{
			"port": {Schema: ref("port-settings"),
				Doc: "bridge port settings (needs bridge): cost, priority, isolated, learning, flood, hairpin, bpdu-guard, root-guard"},
		},
		objects: []object{
			{
				def: "bond", keysVar: "bondKeys", keys: bondKeys, section: "BONDS",
				doc:      "a bond: several interfaces of one namespace as one link",
				required: []string{"name", "members"},
				props: map[string]prop{
					"name":    {Schema: refS, Doc: "the bond: [NAMESPACE:]IFNAME"},
					"members": bondMembers,
					"mode": {Schema: obj{"enum": BondModes}, Default: "802.3ad",
						Doc: "balance-rr, active-backup, balance-xor, broadcast, 802.3ad (LACP), balance-tlb or balance-alb"},
					"lacp-rate": {Schema: obj{"enum": []string{"slow", "fast"}},
						Doc: "how often LACP partners send: slow (30 s) or fast (1 s); mode 802.3ad only; default: the kernel's, slow"},
					"xmit-hash-policy": {Schema: obj{"enum": []string{"layer2", "layer2+3", "layer3+4"}},
						Doc: "how a frame's member is chosen in modes balance-xor, 802.3ad, balance-tlb, balance-alb; default: the kernel's, layer2"},
					"miimon": {Schema: integer(0, 65535), Default: 100, Doc: "link monitoring interval in ms (0-65535); 0: off"},
				},
			},
			{
				def: "dummy", keysVar: "dummyKeys", keys: dummyKeys, section: "DUMMIES",
				doc:      "a dummy interface: a reference [NAMESPACE:]IFNAME or a map",
				required: []string{"name"},
				scalar:   refS,
				props: map[string]prop{
					"name": {Schema: refS, Doc: "the dummy: [NAMESPACE:]IFNAME"},
				},
			},
			{
				def: "vrf", keysVar: "vrfKeys", keys: vrfKeys, section: "VRFS",
				doc:      "a VRF: a routing table of its own for its members",
				required: []string{"name", "table"},
				props: map[string]prop{
					"name": {Schema: refS, Doc: "the VRF device: [NAMESPACE:]IFNAME"},
					"table": {Schema: obj{"type": "integer", "minimum": 1, "maximum": 4294967295, "not": obj{"enum": []int{253, 254, 255}}},
						Doc: "its routing table (1-4294967295, not 253-255, the kernel's), unique in its namespace"},
					"members": vrfMembers,
				},
			},
			{
				def: "port-settings", keysVar: "portOptKeys", keys: portOptKeys, section: "PORT SETTINGS",
				doc: "the settings of a bridge port", nullable: true,
				props: map[string]prop{
					"cost":       {Schema: integer(1, 65535), Doc: "STP path cost (1-65535); default: the kernel's, from the link speed"},
					"priority":   {Schema: integer(0, 63), Doc: "STP port priority (0-63); default: the kernel's, 32"},
					"isolated":   {Schema: boolS, Default: false, Doc: "an isolated port reaches only non-isolated ports"},
					"learning":   {Schema: boolS, Default: true, Doc: "learn the source MAC addresses of frames arriving on the port"},
					"flood":      {Schema: boolS, Default: true, Doc: "send frames to unknown unicast addresses out of this port"},
					"hairpin":    {Schema: boolS, Default: false, Doc: "send frames back out of the port they arrived on"},
					"bpdu-guard": {Schema: boolS, Default: false, Doc: "shut the port when an STP BPDU arrives on it"},
					"root-guard": {Schema: boolS, Default: false, Doc: "never let the port become the STP root port"},
				},
			},
		},
	})
}
