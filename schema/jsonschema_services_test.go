package schema

func init() {
	schemaCases = append(schemaCases,
		schemaCase{"services, dns, masquerade", "version: 1\ndns: {names: true, nameservers: [10.0.0.53], hosts: {gw.lab.test: 10.0.0.254}}\nnamespaces:\n  srv:\n    dns: {search: [lab.test], hosts: {db: [10.0.0.3, \"2001:db8::3\"]}}\n    services:\n      web: {exec: \"nc -lk 8080\", user: nobody, restart: always, environment: {LANG: C, N: 1}}\n      dhcp: {exec: [dnsmasq, --keep-in-foreground], restart: no, group: 0}\nveths:\n  - [{name: srv:eth0, addresses: [10.0.0.2/24]}, {name: h0, addresses: [10.0.0.1/24], masquerade: ipv4}]\n", true},
		schemaCase{"service without exec", "version: 1\nnamespaces: {a: {services: {web: {user: nobody}}}}\n", false},
		schemaCase{"unknown service key", "version: 1\nnamespaces: {a: {services: {web: {exec: sleep 1, cmd: x}}}}\n", false},
		schemaCase{"restart sometimes", "version: 1\nnamespaces: {a: {services: {web: {exec: sleep 1, restart: sometimes}}}}\n", false},
		schemaCase{"names in a namespace", "version: 1\nnamespaces: {a: {dns: {names: true}}}\n", false},
		schemaCase{"nameserver not an address", "version: 1\ndns: {nameservers: [ns1.example]}\n", false},
		schemaCase{"masquerade both", "version: 1\nveths: [[{name: h0, addresses: [10.0.0.1/24], masquerade: both}, h1]]\n", false},
	)
}
