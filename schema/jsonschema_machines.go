package schema

// The schema of several machines (branch machines: decoder list
// machineKeys, machine in namespaceKeys, machine, machines, vni
// and vxlan-port in bridgeKeys, vni and vxlan-port in vethMapKeys).
func init() {
	machineS := ref("machine-name")
	addFeature(feature{
		props: map[string]map[string]prop{
			"lab": {
				"machines": {Schema: obj{"type": []string{"object", "null"}, "propertyNames": machineS,
					"additionalProperties": ref("machine")},
					Doc: "the machines the lab spans, by name (their host names): each machine builds its part with netgen build --machine; an interface of a machine's root namespace is MACHINE:IFNAME"},
			},
			"namespace": {
				"machine": {Schema: machineS, Doc: "the machine the namespace is on; required in a lab with machines"},
			},
			"bridge": {
				"machine": {Schema: machineS,
					Doc: "the machine a root-namespace bridge is on; with machines, a root-namespace bridge says machine or machines"},
				"machines": {Schema: obj{"type": "array", "minItems": 1, "uniqueItems": true, "items": machineS},
					Doc: "the machines a root-namespace bridge is stretched over (VXLAN between their underlay addresses)"},
				"vni": {Schema: integer(1, MaxVNI),
					Doc: "with machines: the VNI of a stretched bridge's VXLAN (1-16777215); default: derived from the lab's and the bridge's names"},
				"vxlan-port": {Schema: integer(1, 65535), Default: VXLANPort,
					Doc: "with machines: the UDP port of a stretched bridge's VXLAN (1-65535)"},
			},
			"veth": {
				"vni": {Schema: integer(1, MaxVNI),
					Doc: "with machines: the VNI of a cable between two machines (1-16777215); default: derived from the lab's name and the cable's ends"},
				"vxlan-port": {Schema: integer(1, 65535), Default: VXLANPort,
					Doc: "with machines: the UDP port of a cable between two machines (1-65535)"},
			},
		},
		defs: map[string]obj{
			"machine-name": {
				"description": "a machine name: 1-63 bytes of a-z 0-9 -, first a letter or digit; not host",
				"type":        "string", "pattern": `^[a-z0-9][a-z0-9-]*$`, "maxLength": 63,
				"not": obj{"const": HostNS},
			},
		},
		objects: []object{{
			def: "machine", keysVar: "machineKeys", keys: machineKeys, section: "MACHINES",
			doc:      "a machine of the lab",
			required: []string{"underlay"},
			props: map[string]prop{
				"underlay": {Schema: ipS, Doc: "the address the other machines reach it at (IPv4 or IPv6, one family for all machines): VXLAN runs between them"},
				"underlay-mtu": {Schema: integer(1280, MaxMTU), Default: DefaultUnderlayMTU,
					Doc: "the MTU of its underlay (1280-65535): the cables and bridges carried over VXLAN default to 50 less (70 over IPv6)"},
			},
		}},
	})
}
