// Package diag is netgen's one diagnostic type: a problem in a lab file with
// its position, a message and an optional hint, rendered the way compilers
// do (FILE:LINE:COL: error: MESSAGE, the source line, a caret).
//
// Every stage (decode, validate, generate) reports through a *List so that a
// user sees every problem of a lab at once, sorted by position.
package diag

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
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
	Message  string
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
//
// The second argument is not kept: the position already names the value,
// and a path such as "veths[2].ends[0]" was shown nowhere. It stays only
// while callers still pass it ("").
func (l *List) Errorf(pos Pos, format string, args ...any) *Diagnostic {
	return l.add(Error, pos, fmt.Sprintf(format, args...))
}

// Warnf records a warning at pos; see Errorf for the unused second argument.
func (l *List) Warnf(pos Pos, format string, args ...any) *Diagnostic {
	return l.add(Warning, pos, fmt.Sprintf(format, args...))
}

func (l *List) add(sev Severity, pos Pos, msg string) *Diagnostic {
	l.Items = append(l.Items, Diagnostic{Severity: sev, File: l.File, Pos: pos, Message: msg})
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

// Count returns the number of errors and warnings that Render prints: a
// diagnostic reported twice (an anchored value reached through two aliases
// is decoded twice) counts once.
func (l *List) Count() (errors, warnings int) {
	for _, d := range l.Sorted() {
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
			fmt.Fprintf(w, "%s | %s\n", gutter, printable(line))
			fmt.Fprintf(w, "%s | %s^\n", pad, caretPad(d.Pos.Col))
			if d.Hint != "" {
				fmt.Fprintf(w, "%s = hint: %s\n", pad, d.Hint)
			}
		} else if d.Hint != "" {
			fmt.Fprintf(w, "      = hint: %s\n", d.Hint)
		}
	}
}

// Lines splits a source into lines the way yaml.v3 counts them: "\r\n",
// "\r", "\n" and the Unicode breaks U+0085, U+2028 and U+2029 all end a
// line.
func Lines(src []byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(src); {
		n := lineBreak(src[i:])
		if n == 0 {
			i++
			continue
		}
		out = append(out, string(src[start:i]))
		i += n
		start = i
	}
	return append(out, string(src[start:]))
}

// lineBreak returns the length of the line break b starts with, or 0.
func lineBreak(b []byte) int {
	switch {
	case b[0] == '\n':
		return 1
	case b[0] == '\r':
		if len(b) > 1 && b[1] == '\n' {
			return 2
		}
		return 1
	case b[0] == 0xC2 && len(b) > 1 && b[1] == 0x85:
		return 2
	case b[0] == 0xE2 && len(b) > 2 && b[1] == 0x80 && (b[2] == 0xA8 || b[2] == 0xA9):
		return 3
	}
	return 0
}

// printable is a source line as Render shows it: one column per rune, as
// caretPad counts them. A tab is shown as one space; a control character or
// a byte that is not UTF-8 as U+FFFD, so that a stray escape in a lab cannot
// drive the user's terminal.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s { // a byte that is not UTF-8 comes out as RuneError
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// caretPad returns the white space that puts a caret under column col:
// yaml.v3 counts columns in runes, and expandTabs shows each rune in one
// column.
func caretPad(col int) string {
	return strings.Repeat(" ", max(col-1, 0))
}

// DidYouMean is the hint for a word that is not one of candidates:
// `did you mean "stp"?` when one is a likely typo of it, "" otherwise.
func DidYouMean(word string, candidates []string) string {
	if s := Suggest(word, candidates); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return ""
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
