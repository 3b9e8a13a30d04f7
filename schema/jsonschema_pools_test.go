package schema

func init() {
	schemaCases = append(schemaCases,
		schemaCase{"pools", "version: 1\npools:\n  p2p: {ipv4: 10.1.0.0/16, prefix: 30}\n  lan: {ipv4: 172.16.0.0/16, prefix: 24, ipv6: \"2001:db8:1::/48\", prefix6: 64}\nnamespaces: {r1: {sysctl: {net.ipv4.ip_forward: 1}}, r2: {}, h1: {}}\nbridges: {sw: {pool: lan}}\nveths:\n  - ends: [r1:eth0, r2:eth0]\n    pool: p2p\n  - [{name: h1:eth0, addresses: auto, gateway: auto}, {name: sw-h1, bridge: sw}]\n  - [{name: r1:eth1, addresses: auto}, {name: sw-r1, bridge: sw}]\n", true},
		schemaCase{"pool without range", "version: 1\npools: {p: {prefix: 24}}\n", false},
		schemaCase{"unknown pool key", "version: 1\npools: {p: {ipv4: 10.1.0.0/16, size: 24}}\n", false},
		schemaCase{"pool prefix 33", "version: 1\npools: {p: {ipv4: 10.1.0.0/16, prefix: 33}}\n", false},
		schemaCase{"addresses automatic", "version: 1\npools: {p: {ipv4: 10.1.0.0/16}}\nbridges: {sw: {pool: p}}\nveths: [[{name: a0, addresses: automatic}, {name: a1, bridge: sw}]]\n", false},
	)
}
