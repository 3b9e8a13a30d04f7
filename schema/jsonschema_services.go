package schema

// The schema of services, dns and masquerade (branch services: decoder
// lists serviceKeys, dnsKeys, and masquerade in l3Keys).
func init() {
	addFeature(feature{
		props: map[string]map[string]prop{
			"lab": {
				"dns": {Schema: ref("dns"),
					Doc: "name resolution in every namespace: nameservers, search and hosts are defaults a namespace's own dns replaces key by key; names: true makes each namespace's name resolve to its addresses"},
			},
			"namespace": {
				"services": {Schema: obj{"type": []string{"object", "null"}, "propertyNames": ref("service-name"),
					"additionalProperties": ref("service")},
					Doc: "programs run inside the namespace, by name; started once the namespace and its links and addresses are up, at boot too, stopped by down"},
				// names is lab-wide: the decoder refuses it here.
				"dns": {Schema: obj{"allOf": []obj{ref("dns"), {"not": obj{"required": []string{"names"}}}}},
					Doc: "name resolution for programs in the namespace; each key replaces the lab's dns key of the same name (names is lab-wide)"},
			},
		},
		shared: map[string]prop{
			"masquerade": {Schema: obj{"enum": []any{true, false, "true", "false", "ipv4", "ipv6"}}, Default: false,
				Doc: "source NAT: traffic from this interface's subnets forwarded out of another interface of the namespace leaves with that interface's address; true: IPv4 and IPv6, ipv4 or ipv6: one family; switches forwarding on in the namespace"},
		},
		defs: map[string]obj{
			"host-name": {
				"description": "a host name: dot-separated labels of A-Z a-z 0-9 - _, 1-63 bytes each, not starting or ending with -; at most 253 bytes",
				"type":        "string", "maxLength": 253,
				"pattern": `^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$`,
			},
			"service-name": {
				"description": "a service name: 1-32 bytes of A-Z a-z 0-9 _ . -, first a letter or digit",
				"type":        "string", "pattern": `^[A-Za-z0-9][A-Za-z0-9_.-]*$`, "maxLength": MaxNSName,
			},
		},
		objects: []object{
			{
				def: "service", keysVar: "serviceKeys", keys: serviceKeys, section: "SERVICES",
				doc:      "a program run inside its namespace",
				required: []string{"exec"},
				props: map[string]prop{
					"exec": {Schema: obj{"anyOf": []obj{{"type": "string", "minLength": 1},
						{"type": "array", "minItems": 1, "items": obj{"type": []string{"string", "number", "boolean"}}}}},
						Doc: "the command: a string split into words as systemd's ExecStart= does (no shell), or a list of arguments; the program is found on PATH or given by its absolute path"},
					"user":    {Schema: ref("user"), Default: "root", Doc: "the user it runs as"},
					"group":   {Schema: ref("user"), Default: "root", Doc: "the group it runs as"},
					"restart": {Schema: obj{"enum": []string{"on-failure", "always", "no"}}, Default: "on-failure", Doc: "when systemd starts it again: on-failure, always or no"},
					"environment": {Schema: obj{"type": []string{"object", "null"},
						"propertyNames":        str(`^[A-Za-z_][A-Za-z0-9_]*$`),
						"additionalProperties": obj{"type": []string{"string", "number", "boolean"}}},
						Doc: "environment variables: NAME: value"},
				},
			},
			{
				def: "dns", keysVar: "dnsKeys", keys: dnsKeys, section: "DNS",
				doc: "name resolution for programs in a namespace", nullable: true,
				props: map[string]prop{
					"nameservers": {Schema: listOf(ipS), Doc: "the resolver's name servers (resolv.conf), in order"},
					"search":      {Schema: listOf(ref("host-name")), Doc: "search domains, in order (the resolver reads 6)"},
					"hosts": {Schema: obj{"type": []string{"object", "null"}, "propertyNames": ref("host-name"),
						"additionalProperties": obj{"anyOf": []obj{ipS, {"type": "array", "items": ipS}}}},
						Doc: "host names and their addresses: NAME: IP or [IP, ...] (/etc/hosts)"},
					"names": {Schema: boolS, Default: false,
						Doc: "top level only: each namespace's name resolves, in every namespace, to that namespace's addresses"},
				},
			},
		},
	})
}
