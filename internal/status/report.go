package status

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	sd "github.com/coreos/go-systemd/v22/dbus"
)

// ReadUnits asks systemd, over D-Bus and in one call, for the load and
// active state of units.
func ReadUnits(ctx context.Context, names []string) (map[string]Unit, error) {
	conn, err := sd.NewSystemConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot reach systemd over D-Bus: %v", err)
	}
	defer conn.Close()
	list, err := conn.ListUnitsByNamesContext(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("listing units: %v", err)
	}
	out := map[string]Unit{}
	for _, u := range list {
		out[u.Name] = Unit{Load: u.LoadState, Active: u.ActiveState}
	}
	return out, nil
}

// JSON writes the report as indented JSON: the format pipelines read, stable
// across releases (fields are only ever added).
func (r *Report) JSON(w io.Writer) error {
	if r.Objects == nil {
		r.Objects = []Object{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ANSI colours of the states, used only on a terminal.
var colours = map[string]string{OK: "\x1b[32m", Different: "\x1b[33m", Missing: "\x1b[31m", Leftover: "\x1b[35m"}

// Table writes the report for people: one line per object (state, object,
// what differs) and a summary line; colour only when colour is true.
func (r *Report) Table(w io.Writer, colour bool) {
	type row struct{ state, object, detail string }
	rows := []row{{"STATE", "OBJECT", "DETAIL"}}
	for _, o := range r.Objects {
		var detail []string
		for _, d := range o.Differences {
			detail = append(detail, d.String())
		}
		if o.Detail != "" {
			detail = append(detail, o.Detail)
		}
		rows = append(rows, row{o.State, o.Kind + " " + o.Name, strings.Join(detail, "; ")})
	}
	ws, wo := 0, 0
	for _, rw := range rows {
		ws, wo = max(ws, len(rw.state)), max(wo, len(rw.object))
	}
	for i, rw := range rows {
		state := fmt.Sprintf("%-*s", ws, rw.state)
		if c, ok := colours[rw.state]; ok && colour && i > 0 {
			state = c + state + "\x1b[0m"
		}
		line := state + "  " + rw.object
		if rw.detail != "" {
			line = fmt.Sprintf("%s  %-*s  %s", state, wo, rw.object, rw.detail)
		}
		fmt.Fprintln(w, line)
	}
	if r.UnitsNotChecked != "" {
		fmt.Fprintf(w, "units not checked: %s\n", r.UnitsNotChecked)
	}
	c := r.Counts
	verdict := "as the lab says"
	if !r.OK {
		verdict = "not as the lab says"
	}
	fmt.Fprintf(w, "lab %s: %s (%d ok, %d different, %d missing, %d leftover)\n", r.Lab, verdict, c.OK, c.Different, c.Missing, c.Leftover)
}
