package schema

// The schema of automatic addressing (branch pools: decoder list
// poolKeys, pool in bridgeKeys, vethMapKeys, vlanKeys, and the value auto
// of addresses and gateway).
func init() {
	addresses := prop{Schema: obj{"anyOf": []obj{{"const": "auto"}, listOf(cidrS)}},
		Doc: "IPv4 and IPv6 addresses in CIDR notation, unique across the lab; auto: the next free address of the subnet a pool gives the interface's segment"}
	bridgeAddresses := addresses
	bridgeAddresses.Doc = "addresses of the bridge itself, or auto (from the bridge's pool): allowed with a warning, host access belongs on a veth attached to the bridge"
	pool := func(doc string) prop { return prop{Schema: ref("pool-name"), Doc: doc} }
	addFeature(feature{
		props: map[string]map[string]prop{
			"lab": {
				"pools": {Schema: obj{"type": []string{"object", "null"}, "propertyNames": ref("pool-name"),
					"additionalProperties": ref("pool")},
					Doc: "address pools, by name, that pool: and addresses: auto take subnets and addresses from"},
			},
			"bridge": {
				"pool":      pool("a pool: the bridge's segment gets one subnet of it, for the addresses: auto behind its ports"),
				"addresses": bridgeAddresses,
			},
			"veth": {"pool": pool("a pool: the cable gets one subnet of it and each end an address (an end's own addresses win)")},
			"vlan": {"pool": pool("a pool: the VLAN's segment gets one subnet of it, for the addresses: auto on it")},
		},
		shared: map[string]prop{
			"addresses": addresses,
			"gateway": {Schema: obj{"anyOf": []obj{{"const": "auto"}, ipS}},
				Doc: "a default route of the gateway's family through this interface (metric 0); outside every subnet of the interface: a warning, and the route is on-link; auto: the lowest address on the segment of a namespace that forwards"},
		},
		defs: map[string]obj{
			"pool-name": {
				"description": "a pool name: 1-32 bytes of A-Z a-z 0-9 _ . -, first a letter or digit",
				"type":        "string", "pattern": `^[A-Za-z0-9][A-Za-z0-9_.-]*$`, "maxLength": MaxNSName,
			},
		},
		objects: []object{{
			def: "pool", keysVar: "poolKeys", keys: poolKeys, section: "POOLS",
			doc: "an address pool: IPv4 and/or IPv6 ranges and the size of the subnets cut from them",
			// A pool without a range is an error.
			extra: obj{"anyOf": []obj{{"required": []string{"ipv4"}}, {"required": []string{"ipv6"}}}},
			props: map[string]prop{
				"ipv4": {Schema: str(`^[0-9]{1,3}(?:\.[0-9]{1,3}){3}/[0-9]{1,2}$`),
					Doc: "the IPv4 range, a CIDR prefix without host bits: 10.1.0.0/16"},
				"ipv6": {Schema: str(`^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/[0-9]{1,3}$`),
					Doc: "the IPv6 range, a CIDR prefix without host bits: 2001:db8:1::/48"},
				"prefix": {Schema: integer(1, 32), Default: DefaultPoolPrefix,
					Doc: "the prefix length of the IPv4 subnets cut from the range (31: point-to-point)"},
				"prefix6": {Schema: integer(1, 128), Default: DefaultPoolPrefix6,
					Doc: "the prefix length of the IPv6 subnets cut from the range (127: point-to-point)"},
			},
		}},
	})
}
