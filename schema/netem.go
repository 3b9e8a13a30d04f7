package schema

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Netem is the impairment of the frames leaving an interface (the Linux
// netem queueing discipline). Every value keeps its text and position;
// Values gives the numbers once the lab is valid.
type Netem struct {
	Pos                               Pos
	Delay, Jitter                     Str
	Loss, Duplicate, Corrupt, Reorder Str
	Rate                              Str
	Limit                             Int
}

// NetemValues are a valid Netem's numbers. Zero means "not set" for every
// field: a 0% loss or a 0 ms delay is no impairment and is left out.
type NetemValues struct {
	// Delay and Jitter are in microseconds.
	Delay, Jitter int64
	// Loss, Duplicate, Corrupt and Reorder are percentages.
	Loss, Duplicate, Corrupt, Reorder float64
	// Rate is in bits per second.
	Rate int64
	// Limit is the queue length in packets: the lab's, or, with a rate and
	// no limit, DerivedLimit's. 0 leaves the kernel's (1000 packets).
	Limit int
}

// IsZero reports whether the values impair nothing.
func (v NetemValues) IsZero() bool { return v == NetemValues{} }

// Limits of netem values.
const (
	// MaxNetemDelay is the largest delay or jitter, in microseconds: a
	// minute is beyond any WAN a lab models, and far inside what the
	// kernel's 64-bit latency holds.
	MaxNetemDelay = 60_000_000
	// MaxNetemRate is the largest rate in bits per second (100 Gbit/s).
	MaxNetemRate = 100_000_000_000
	// MaxNetemLimit bounds the queue (packets): netem's tfifo holds that many
	// frames in memory.
	MaxNetemLimit = 10_000_000
	// minDerivedLimit is the kernel's own default limit: a derived limit is
	// never below it.
	minDerivedLimit = 1000
	// derivedSlackUS is the time, besides the delay and jitter, that a
	// derived limit leaves room for at the full rate.
	derivedSlackUS = 100_000
)

// DerivedLimit is the queue length netgen gives a rate-limited netem that
// sets no limit: enough 1500-byte packets to keep the link busy for the
// delay, the jitter and 100 ms more, and at least the kernel's 1000.
// Why: netem holds every frame for its delay *and* its rate slot in one
// queue; at 1 Gbit/s with 40 ms delay, 1000 packets is 12 ms of traffic,
// so the default limit drops most of a TCP window and throughput collapses.
func DerivedLimit(rate, delayUS, jitterUS int64) int {
	bits := float64(rate) * float64(delayUS+jitterUS+derivedSlackUS) / 1e6
	n := int(math.Ceil(bits / (8 * 1500)))
	if n < minDerivedLimit {
		return minDerivedLimit
	}
	if n > MaxNetemLimit {
		return MaxNetemLimit
	}
	return n
}

var (
	durationRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Zµ]*)$`)
	percentRE  = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*(%?)$`)
	rateRE     = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z/]*)$`)
)

var durationUnits = map[string]int64{"us": 1, "ms": 1000, "s": 1_000_000}

var rateUnits = map[string]int64{"bit": 1, "kbit": 1000, "mbit": 1_000_000, "gbit": 1_000_000_000}

// parseDuration reads `40ms`, `250us`, `1.5s` into microseconds.
func parseDuration(s string) (int64, string, string) {
	m := durationRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Sprintf("%q is not a duration", s), "write a number and a unit: us, ms or s (e.g. 40ms)"
	}
	mult, ok := durationUnits[m[2]]
	if !ok {
		if m[2] == "" {
			return 0, fmt.Sprintf("%q has no unit", s), fmt.Sprintf("write %sms (us, ms or s)", m[1])
		}
		return 0, fmt.Sprintf("%q has an unknown unit %q", s, m[2]), "the units are us, ms and s"
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	us := f * float64(mult)
	if us > MaxNetemDelay {
		return 0, fmt.Sprintf("%s is more than 60s", s), ""
	}
	if us != math.Trunc(us) {
		return 0, fmt.Sprintf("%s is not a whole number of microseconds", s), ""
	}
	return int64(us), "", ""
}

// parsePercent reads `1%`, `0.5%` (0-100).
func parsePercent(s string) (float64, string, string) {
	m := percentRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Sprintf("%q is not a percentage", s), "write e.g. 1% or 0.5%"
	}
	if m[2] == "" {
		return 0, fmt.Sprintf("%q has no %% sign", s), fmt.Sprintf("write %s%% (a percentage, 0-100%%)", m[1])
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	if f > 100 {
		return 0, fmt.Sprintf("%s is more than 100%%", s), ""
	}
	return f, "", ""
}

// parseRate reads `10mbit`, `512kbit`, `1.5gbit` into bits per second.
func parseRate(s string) (int64, string, string) {
	m := rateRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Sprintf("%q is not a rate", s), "write a number and a unit: bit, kbit, mbit or gbit (e.g. 10mbit)"
	}
	unit := m[2]
	mult, ok := rateUnits[unit]
	if !ok {
		hint := "the units are bit, kbit, mbit and gbit (per second, 1000-based)"
		switch l := strings.ToLower(unit); {
		case unit == "":
			hint = fmt.Sprintf("write %smbit (bit, kbit, mbit or gbit)", m[1])
		case rateUnits[l] != 0:
			hint = fmt.Sprintf("write %s%s", m[1], l)
		case strings.HasSuffix(l, "bps") || strings.HasSuffix(l, "bit/s"):
			base := strings.TrimSuffix(strings.TrimSuffix(l, "bps"), "bit/s")
			if _, ok := rateUnits[base+"bit"]; ok {
				hint = fmt.Sprintf("write %s%sbit (tc reads %q as bytes per second)", m[1], base, unit)
			}
		}
		if unit == "" {
			return 0, fmt.Sprintf("%q has no unit", s), hint
		}
		return 0, fmt.Sprintf("%q has an unknown unit %q", s, unit), hint
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	bits := f * float64(mult)
	switch {
	case bits < 1:
		return 0, fmt.Sprintf("%s lets nothing through", s), "leave `rate` out for no limit"
	case bits > MaxNetemRate:
		return 0, fmt.Sprintf("%s is more than 100gbit", s), ""
	case bits != math.Trunc(bits):
		return 0, fmt.Sprintf("%s is not a whole number of bits per second", s), ""
	}
	return int64(bits), "", ""
}

// Values returns the numbers of a netem that passed validation; a value
// that does not parse counts as unset.
func (n *Netem) Values() NetemValues {
	var v NetemValues
	if n == nil {
		return v
	}
	v.Delay, _, _ = parseDuration(n.Delay.Value)
	v.Jitter, _, _ = parseDuration(n.Jitter.Value)
	for _, p := range []struct {
		s   Str
		dst *float64
	}{{n.Loss, &v.Loss}, {n.Duplicate, &v.Duplicate}, {n.Corrupt, &v.Corrupt}, {n.Reorder, &v.Reorder}} {
		if p.s.Set {
			*p.dst, _, _ = parsePercent(p.s.Value)
		}
	}
	if n.Rate.Set {
		v.Rate, _, _ = parseRate(n.Rate.Value)
	}
	if !n.Delay.Set {
		v.Delay = 0
	}
	if !n.Jitter.Set {
		v.Jitter = 0
	}
	switch {
	case n.Limit.Set:
		v.Limit = n.Limit.Value
	case v.Rate != 0:
		v.Limit = DerivedLimit(v.Rate, v.Delay, v.Jitter)
	}
	if v.Delay == 0 && v.Jitter == 0 {
		v.Reorder = 0
	}
	return v
}

// NetemOf returns the impairment the lab puts on an interface (an end's
// own, else its veth entry's), nil when none.
func (i *Iface) NetemOf() *Netem {
	switch i.Kind {
	case KindVeth:
		if i.End.Netem != nil {
			return i.End.Netem
		}
		return i.Veth.Netem
	case KindTap:
		return i.Tap.Netem
	case KindVLAN:
		return i.VLAN.Netem
	}
	return nil
}

var netemKeys = keys([]string{"delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "rate", "limit"})

// netem decodes a `netem:` map; `netem: {}` is a netem that impairs
// nothing (on an end, it takes back its entry's).
func (d *decoder) netem(n *yaml.Node) *Netem {
	// `netem:` with no value is not written (an end inherits its entry's);
	// `netem: {}` is the explicit "none".
	if isNull(n) {
		return nil
	}
	ne := &Netem{Pos: pos(n)}
	d.fields(n, "netem", netemKeys, func(key string, v *yaml.Node, _ Pos) bool {
		switch key {
		case "delay":
			ne.Delay = d.str(v, "delay")
		case "jitter":
			ne.Jitter = d.str(v, "jitter")
		case "loss":
			ne.Loss = d.str(v, "loss")
		case "duplicate":
			ne.Duplicate = d.str(v, "duplicate")
		case "corrupt":
			ne.Corrupt = d.str(v, "corrupt")
		case "reorder":
			ne.Reorder = d.str(v, "reorder")
		case "rate":
			ne.Rate = d.str(v, "rate")
		case "limit":
			ne.Limit = d.int(v, "limit")
		default:
			return false
		}
		return true
	})
	if n.Kind != yaml.MappingNode {
		return nil
	}
	return ne
}

// netems checks every netem of the lab, an entry's once.
func (v *validator) netems() {
	for _, veth := range v.lab.Veths {
		v.netem(veth.Netem)
		for _, e := range veth.Ends {
			if e != nil {
				v.netem(e.Netem)
			}
		}
	}
	for _, t := range v.lab.Taps {
		v.netem(t.Netem)
	}
	for _, vl := range v.lab.VLANs {
		v.netem(vl.Netem)
	}
}

func (v *validator) netem(n *Netem) {
	if n == nil {
		return
	}
	ok := true
	check := func(s Str, what string, parse func(string) (string, string)) {
		if !s.Set {
			return
		}
		if msg, hint := parse(s.Value); msg != "" {
			v.errorf(s.Pos, "netem %s %s", what, msg).Hint = hint
			ok = false
		}
	}
	dur := func(s string) (string, string) { _, m, h := parseDuration(s); return m, h }
	pct := func(s string) (string, string) { _, m, h := parsePercent(s); return m, h }
	rate := func(s string) (string, string) { _, m, h := parseRate(s); return m, h }
	check(n.Delay, "delay", dur)
	check(n.Jitter, "jitter", dur)
	check(n.Loss, "loss", pct)
	check(n.Duplicate, "duplicate", pct)
	check(n.Corrupt, "corrupt", pct)
	check(n.Reorder, "reorder", pct)
	check(n.Rate, "rate", rate)
	if n.Limit.Set && (n.Limit.Value < 1 || n.Limit.Value > MaxNetemLimit) {
		v.errorf(n.Limit.Pos, "netem limit %d is out of range 1-%d (packets)", n.Limit.Value, MaxNetemLimit)
		ok = false
	}
	if !ok {
		return
	}
	vals := n.Values()
	if n.Jitter.Set && vals.Jitter != 0 && vals.Delay == 0 {
		v.errorf(n.Jitter.Pos, "netem jitter varies the delay, and there is no delay").Hint = "set `delay` too (jitter is the spread around it)"
	}
	if n.Reorder.Set && vals.Delay == 0 {
		v.errorf(n.Reorder.Pos, "netem reorder sends some frames at once and delays the others, and there is no delay").Hint = "set `delay` too"
	}
	if n.Limit.Set && vals.Rate != 0 {
		if want := DerivedLimit(vals.Rate, vals.Delay, vals.Jitter); n.Limit.Value < want {
			v.warnf(n.Limit.Pos, "netem limit %d packets holds less than the delay plus 100 ms at %s: TCP throughput will collapse", n.Limit.Value, n.Rate.Value).Hint =
				fmt.Sprintf("leave `limit` out and netgen uses %d", want)
		}
	}
}

// NetemField is one value of an impairment in the lab's words: "delay",
// "40ms"; Value is "" where the impairment does not set it.
type NetemField struct{ Name, Value string }

// Fields are every value of an impairment, in a fixed order, in the lab's
// words (percentages to 1/1000 of a percent: a kernel's 2^-32 steps read
// 20% back as 19.99999998%). Limit is "" when 0 (the kernel's default).
func (v NetemValues) Fields() []NetemField {
	limit := ""
	if v.Limit != 0 {
		limit = strconv.Itoa(v.Limit)
	}
	return []NetemField{{"delay", FormatMicros(v.Delay)}, {"jitter", FormatMicros(v.Jitter)},
		{"loss", fmtPercent(v.Loss)}, {"duplicate", fmtPercent(v.Duplicate)}, {"corrupt", fmtPercent(v.Corrupt)},
		{"reorder", fmtPercent(v.Reorder)}, {"rate", FormatRate(v.Rate)}, {"limit", limit}}
}

// String is what an impairment does: "delay 40ms loss 20%".
func (v NetemValues) String() string {
	var parts []string
	for _, f := range v.Fields() {
		if f.Value != "" {
			parts = append(parts, f.Name+" "+f.Value)
		}
	}
	return strings.Join(parts, " ")
}

// FormatMicros writes microseconds in the largest unit that keeps them
// whole, as tc and networkd read them ("40ms"); "" for 0.
func FormatMicros(us int64) string {
	switch {
	case us == 0:
		return ""
	case us%1_000_000 == 0:
		return fmt.Sprintf("%ds", us/1_000_000)
	case us%1000 == 0:
		return fmt.Sprintf("%dms", us/1000)
	}
	return fmt.Sprintf("%dus", us)
}

func fmtPercent(p float64) string {
	r := math.Round(p*1000) / 1000
	if r == 0 {
		return ""
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + "%"
}

// FormatRate writes bits per second in tc's units (1000-based, "10mbit");
// "" for 0.
func FormatRate(b int64) string {
	if b == 0 {
		return ""
	}
	for _, u := range []struct {
		name string
		mult int64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if b%u.mult == 0 {
			return fmt.Sprintf("%d%s", b/u.mult, u.name)
		}
	}
	return fmt.Sprintf("%dbit", b)
}
