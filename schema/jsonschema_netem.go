package schema

// The schema of netem and wires (branch netem: decoder lists netemKeys,
// and netem in vethMapKeys, endKeys, vlanKeys, tapKeys).
func init() {
	netem := prop{Schema: ref("netem"),
		Doc: "link impairment of the frames leaving this interface: delay, jitter, loss, duplicate, corrupt, reorder, rate, limit; changed in place by build"}
	pct := func(what string) prop {
		return prop{Schema: ref("netem-percent"), Doc: what + ", a percentage 0-100% (0.5%)"}
	}
	addFeature(feature{
		props: map[string]map[string]prop{
			"lab": {
				"wires": {Schema: listOf(obj{"type": "array", "minItems": 2, "maxItems": 2, "items": refS}),
					Doc: "transparent wires: [END, END], two interfaces of one namespace joined so that every frame arriving on one leaves through the other (LACP, STP, LLDP pass)"},
			},
			"veth": {
				"netem": {Schema: ref("netem"), Doc: "link impairment of both ends (an end's own netem wins)"},
			},
			"veth-end": {"netem": netem},
			"vlan":     {"netem": netem},
			"tap":      {"netem": netem},
		},
		defs: map[string]obj{
			"netem-duration": {
				"description": "a duration: a number and us, ms or s (40ms, 1.5ms), at most 60s",
				"type":        "string", "pattern": `^\s*[0-9]+(?:\.[0-9]+)?\s*(?:us|ms|s)\s*$`,
			},
			"netem-percent": {
				"description": "a percentage, 0-100%: 1%, 0.5%",
				"type":        "string", "pattern": `^\s*(?:100(?:\.0+)?|[0-9]{1,2}(?:\.[0-9]+)?)\s*%\s*$`,
			},
			"netem-rate": {
				"description": "a rate: a number and bit, kbit, mbit or gbit (per second, 1000-based): 10mbit",
				"type":        "string", "pattern": `^\s*[0-9]+(?:\.[0-9]+)?\s*(?:bit|kbit|mbit|gbit)\s*$`,
			},
		},
		objects: []object{{
			def: "netem", keysVar: "netemKeys", keys: netemKeys, section: "NETEM",
			doc: "link impairment (sch_netem) of the frames leaving an interface", nullable: true,
			props: map[string]prop{
				"delay":     {Schema: ref("netem-duration"), Doc: "added delay: us, ms or s (40ms), at most 60s"},
				"jitter":    {Schema: ref("netem-duration"), Doc: "the spread of the delay: us, ms or s; needs delay"},
				"loss":      pct("frames dropped at random"),
				"duplicate": pct("frames sent twice"),
				"corrupt":   pct("frames with a bit flipped"),
				"reorder":   pct("frames sent at once, ahead of the delayed others; needs delay"),
				"rate":      {Schema: ref("netem-rate"), Doc: "the rate limit: bit, kbit, mbit or gbit per second (10mbit), at most 100gbit"},
				"limit": {Schema: integer(1, MaxNetemLimit),
					Doc: "the queue length in packets (1-10000000); default 1000, or with rate what the delay plus 100 ms hold at that rate"},
			},
		}},
	})
}
