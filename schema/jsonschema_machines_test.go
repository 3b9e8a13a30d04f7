package schema

func init() {
	schemaCases = append(schemaCases,
		schemaCase{"machines", "version: 1\nmachines: {m1: {underlay: 192.0.2.11}, m2: {underlay: 192.0.2.12, underlay-mtu: 9000}}\nnamespaces: {a: {machine: m1}, b: {machine: m2}}\nbridges: {sw: {machines: [m1, m2]}, br1: {machine: m1}}\nveths:\n  - [a:eth0, b:eth0]\n  - [a:eth1, {name: m1:a-sw, bridge: sw}]\n", true},
		schemaCase{"machine without underlay", "version: 1\nmachines: {m1: {}}\nnamespaces: {a: {machine: m1}}\n", false},
		schemaCase{"unknown machine key", "version: 1\nmachines: {m1: {underlay: 192.0.2.11, mtu: 9000}}\nnamespaces: {a: {machine: m1}}\n", false},
		schemaCase{"underlay-mtu out of range", "version: 1\nmachines: {m1: {underlay: 192.0.2.11, underlay-mtu: 1000}}\nnamespaces: {a: {machine: m1}}\n", false},
		schemaCase{"machine name with capitals", "version: 1\nmachines: {M1: {underlay: 192.0.2.11}}\nnamespaces: {a: {machine: M1}}\n", false},
	)
}
