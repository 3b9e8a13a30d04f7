package schema

func init() {
	schemaCases = append(schemaCases,
		schemaCase{"netem and wires", "version: 1\nnamespaces: {a: {}, b: {}}\nveths:\n  - ends: [a:eth0, b:eth0]\n    netem: {delay: 40ms, jitter: 5ms, loss: 1%, duplicate: 0.5%, corrupt: 0%, reorder: 25%, rate: 10mbit, limit: 5000}\n  - [{name: a:eth1, netem: {loss: 5%}}, b:eth1]\ntaps: [{name: a:tap0, netem: {delay: 1s}}, a:tap1, a:tap2]\nwires: [[a:tap1, a:tap2]]\nvlans: [{parent: a:eth0, id: 10, netem: }]\n", true},
		schemaCase{"netem loss over 100%", "version: 1\nveths: [{ends: [a0, a1], netem: {loss: 150%}}]\n", false},
		schemaCase{"netem delay without unit", "version: 1\nveths: [{ends: [a0, a1], netem: {delay: 40}}]\n", false},
		schemaCase{"netem rate in bytes", "version: 1\nveths: [{ends: [a0, a1], netem: {rate: 10mbps}}]\n", false},
		schemaCase{"netem unknown key", "version: 1\nveths: [{ends: [a0, a1], netem: {latency: 40ms}}]\n", false},
		schemaCase{"wire with three ends", "version: 1\ntaps: [t0, t1, t2]\nwires: [[t0, t1, t2]]\n", false},
	)
}
