package schema

func init() {
	schemaCases = append(schemaCases,
		schemaCase{"bonds, dummies, vrfs, port", "version: 1\nnamespaces: {r1: {}, r2: {}}\nbridges: {sw: {stp: true}}\nveths:\n  - [r1:eth1, r2:eth1]\n  - [r1:eth2, r2:eth2]\n  - [r1:eth3, {name: sw-r1, bridge: sw, port: {cost: 10, priority: 16, isolated: true, learning: false, flood: false, hairpin: true, bpdu-guard: true, root-guard: true}}]\nbonds:\n  - {name: r1:bond0, members: [r1:eth1, r1:eth2], mode: 802.3ad, lacp-rate: fast, xmit-hash-policy: layer3+4, miimon: 50, addresses: [10.0.9.1/30]}\n  - {name: r2:bond0, members: [r2:eth1, r2:eth2], mode: active-backup, addresses: [10.0.9.2/30]}\ndummies:\n  - {name: r1:lo0, addresses: [10.255.0.1/32]}\n  - r2:lo0\nvrfs:\n  - {name: r1:blue, table: 100, members: [r1:eth3]}\n", true},
		schemaCase{"bond mode lacp", "version: 1\nveths: [[a0, b0], [a1, b1]]\nbonds: [{name: bond0, members: [a0, a1], mode: lacp}]\n", false},
		schemaCase{"bond without members", "version: 1\nbonds: [{name: bond0}]\n", false},
		schemaCase{"miimon out of range", "version: 1\nveths: [[a0, b0], [a1, b1]]\nbonds: [{name: bond0, members: [a0, a1], miimon: 70000}]\n", false},
		schemaCase{"vrf table 254", "version: 1\nvrfs: [{name: blue, table: 254}]\n", false},
		schemaCase{"vrf without table", "version: 1\nvrfs: [{name: blue}]\n", false},
		schemaCase{"port priority 64", "version: 1\nbridges: {sw: {}}\nveths: [[a0, {name: a1, bridge: sw, port: {priority: 64}}]]\n", false},
		schemaCase{"port cost 0", "version: 1\nbridges: {sw: {}}\nveths: [[a0, {name: a1, bridge: sw, port: {cost: 0}}]]\n", false},
		schemaCase{"dummy with gateway", "version: 1\ndummies: [{name: lo0, addresses: [10.255.0.1/32], gateway: 10.0.0.1}]\n", false},
	)
}
