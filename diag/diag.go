// Package diag is netgen's one diagnostic type: a problem in a lab file with
// its position, the path of the offending value, a message and an optional
// hint, rendered the way compilers do (FILE:LINE:COL: error: MESSAGE, the
// source line, a caret).
//
// Every stage (decode, validate, generate) reports through a *List so that a
// user sees every problem of a lab at once, sorted by position.
package diag

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Severity says whether a diagnostic stops the build.
type Severity int

const (
	// Error makes the lab unusable: nothing is written.
	Error Severity = iota
	// Warning is reported but does not stop the build.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a 1-based line and column in the lab file. The zero Pos means "the
// file as a whole" (used when a problem has no better place, such as an
// empty file).
type Pos struct {
	Line, Col int
}

// Before orders positions in reading order.
func (p Pos) Before(q Pos) bool {
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// Diagnostic is one problem found in a lab.
type Diagnostic struct {
	Severity Severity
	File     string
	Pos      Pos
	// Path names the value in the lab's structure, e.g. "veths[2].ends[0].name".
	Path    string
	Message string
	// Hint is a suggestion shown under the caret, e.g. `did you mean "stp"?`.
	Hint string
}

// String is the first line of the rendered diagnostic: FILE:LINE:COL: error: MESSAGE.
func (d Diagnostic) String() string {
	loc := d.File
	if d.Pos.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", d.File, d.Pos.Line, d.Pos.Col)
	}
	return fmt.Sprintf("%s: %s: %s", loc, d.Severity, d.Message)
}

// List collects diagnostics from every stage.
type List struct {
	File  string
	Items []Diagnostic
}

// Errorf records an error at pos.
func (l *List) Errorf(pos Pos, path, format string, args ...any) *Diagnostic {
	return l.add(Error, pos, path, fmt.Sprintf(format, args...))
}

// Warnf records a warning at pos.
func (l *List) Warnf(pos Pos, path, format string, args ...any) *Diagnostic {
	return l.add(Warning, pos, path, fmt.Sprintf(format, args...))
}

func (l *List) add(sev Severity, pos Pos, path, msg string) *Diagnostic {
	l.Items = append(l.Items, Diagnostic{Severity: sev, File: l.File, Pos: pos, Path: path, Message: msg})
	return &l.Items[len(l.Items)-1]
}

// HasErrors reports whether any diagnostic is an error.
func (l *List) HasErrors() bool {
	for _, d := range l.Items {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns the number of errors and warnings.
func (l *List) Count() (errors, warnings int) {
	for _, d := range l.Items {
		if d.Severity == Error {
			errors++
		} else {
			warnings++
		}
	}
	return
}

// Sorted returns the diagnostics in reading order; at one position errors
// come before warnings, and identical diagnostics are reported once.
func (l *List) Sorted() []Diagnostic {
	out := append([]Diagnostic(nil), l.Items...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Pos != b.Pos {
			return a.Pos.Before(b.Pos)
		}
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		return a.Message < b.Message
	})
	dedup := out[:0]
	for i, d := range out {
		if i > 0 && d == out[i-1] {
			continue
		}
		dedup = append(dedup, d)
	}
	return dedup
}

// Render writes every diagnostic with the offending source line and a caret
// under the column, like a compiler:
//
//	lab.yml:7:5: error: unknown key "sttp" in bridge "virbr4"
//	    7 |     sttp: true
//	      |     ^
//	      = hint: did you mean "stp"?
func (l *List) Render(w io.Writer, src []byte) {
	lines := Lines(src)
	for _, d := range l.Sorted() {
		fmt.Fprintln(w, d.String())
		if d.Pos.Line > 0 && d.Pos.Line <= len(lines) {
			line := lines[d.Pos.Line-1]
			gutter := fmt.Sprintf("%5d", d.Pos.Line)
			pad := strings.Repeat(" ", len(gutter))
			fmt.Fprintf(w, "%s | %s\n", gutter, expandTabs(line))
			fmt.Fprintf(w, "%s | %s^\n", pad, caretPad(d.Pos.Col))
			if d.Hint != "" {
				fmt.Fprintf(w, "%s = hint: %s\n", pad, d.Hint)
			}
		} else if d.Hint != "" {
			fmt.Fprintf(w, "      = hint: %s\n", d.Hint)
		}
	}
}

// Lines splits a source into lines the way YAML counts them: "\r\n", "\r"
// and "\n" all end a line.
func Lines(src []byte) []string {
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	return strings.Split(strings.ReplaceAll(s, "\r", "\n"), "\n")
}

// expandTabs keeps the caret aligned: a tab in the source line is shown as one
// space, exactly as caretPad counts it.
func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", " ") }

// caretPad returns the white space that puts a caret under column col:
// yaml.v3 counts columns in runes, and expandTabs shows each rune in one
// column.
func caretPad(col int) string {
	return strings.Repeat(" ", max(col-1, 0))
}

// Suggest returns the candidate closest to word when it is close enough to be
// a likely typo, or "" otherwise.
func Suggest(word string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := distance(strings.ToLower(word), strings.ToLower(c))
		limit := 2
		if len(c) <= 3 {
			limit = 1
		}
		if d <= limit && (best == "" || d < bestDist || (d == bestDist && c < best)) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		// "vlan_filtering" for "vlan-filtering", "VLANFiltering" for "vlan-filtering".
		norm := func(s string) string {
			return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(s))
		}
		for _, c := range candidates {
			if norm(c) == norm(word) {
				return c
			}
		}
	}
	return best
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance, so
// that a swapped pair of letters counts as one typo.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
