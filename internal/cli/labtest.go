package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/netgen-lab/netgen/internal/reach"
	"github.com/netgen-lab/netgen/internal/status"
)

// testReport is `netgen test --json`.
type testReport struct {
	Lab    string `json:"lab"`
	OK     bool   `json:"ok"`
	Passed int    `json:"passed"`
	Failed int    `json:"failed"`
	// Skipped are pairs not pinged, to keep the kernel's neighbour
	// tables from overflowing.
	Skipped int         `json:"skipped"`
	Checks  []testCheck `json:"checks"`
}

type testCheck struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Answer is what the lab implies: true, the address must answer.
	Answer  bool   `json:"answer"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Why     string `json:"why"`
	Detail  string `json:"detail"`
}

func testCmd(args []string, st IO) int {
	fs := newFlags("test LAB", "test LAB [--json] [--timeout DURATION]", st)
	asJSON := fs.Bool("json", false, "print every check as JSON")
	timeout := fs.Duration("timeout", 10*time.Second, "how long an address that must answer has to answer")
	if code, ok := parse(fs, args, st); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(st.Err, "netgen: test takes exactly one LAB")
		fs.Usage()
		return ExitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintln(st.Err, "netgen: --timeout must be positive")
		return ExitUsage
	}
	res, code := compileLab(fs.Arg(0), "", st)
	if code != ExitOK {
		return code
	}
	exps := reach.Derive(res.Plan)
	checks := status.Probe(exps, status.ProbeOptions{Timeout: *timeout, Quiet: 3 * time.Second})
	rep := testReport{Lab: res.Plan.Lab, Checks: []testCheck{}}
	skipDetail := ""
	for _, c := range checks {
		switch {
		case c.Skipped:
			rep.Skipped++
			skipDetail = c.Detail
		case c.OK:
			rep.Passed++
		default:
			rep.Failed++
		}
		rep.Checks = append(rep.Checks, testCheck{From: c.From, To: c.To.String(), Answer: c.Answer, OK: c.OK, Skipped: c.Skipped, Why: c.Why, Detail: c.Detail})
	}
	rep.OK = rep.Failed == 0
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(st.Out, "%s\n", b)
	} else {
		for _, c := range checks {
			if c.OK || c.Skipped {
				continue
			}
			want := "must answer"
			if !c.Answer {
				want = "must not answer"
			}
			fmt.Fprintf(st.Out, "FAIL %s: %s (%s): %s\n", c.Name(), want, c.Why, c.Detail)
		}
		if rep.Skipped > 0 {
			fmt.Fprintf(st.Out, "%d of the %d pairs were %s\n", rep.Skipped, len(checks), skipDetail)
		}
		fmt.Fprintf(st.Out, "lab %s: %d of %d checks passed (%d must answer, %d must not)\n",
			rep.Lab, rep.Passed, len(checks)-rep.Skipped, count(checks, true), count(checks, false))
	}
	if !rep.OK {
		return ExitDiffers
	}
	return ExitOK
}

// count counts the pinged checks that must (or must not) answer.
func count(checks []status.Check, answer bool) int {
	n := 0
	for _, c := range checks {
		if c.Answer == answer && !c.Skipped {
			n++
		}
	}
	return n
}
