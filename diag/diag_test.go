package diag

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestCountMatchesRender: the summary line counts exactly the diagnostics
// Render prints, so a problem reported twice (an anchored value decoded
// through two aliases) is neither printed nor counted twice.
func TestCountMatchesRender(t *testing.T) {
	l := &List{File: "lab.yml"}
	l.Errorf(Pos{3, 20}, "loopback must be true or false")
	l.Errorf(Pos{3, 20}, "loopback must be true or false")
	l.Warnf(Pos{1, 1}, "w")
	l.Warnf(Pos{1, 1}, "w")
	l.Errorf(Pos{3, 20}, "another problem at the same place")
	e, w := l.Count()
	if e != 2 || w != 1 {
		t.Errorf("Count() = %d errors, %d warnings; want 2, 1", e, w)
	}
	var out bytes.Buffer
	l.Render(&out, []byte("version: 1\nnamespaces:\n  a: &x {loopback: maybe}\n"))
	if got := strings.Count(out.String(), ": error: "); got != e {
		t.Errorf("Render printed %d errors, Count says %d:\n%s", got, e, out.String())
	}
	if got := strings.Count(out.String(), ": warning: "); got != w {
		t.Errorf("Render printed %d warnings, Count says %d:\n%s", got, w, out.String())
	}
}

func TestDidYouMean(t *testing.T) {
	keys := []string{"stp", "vlan-filtering", "mtu", "priority"}
	for word, want := range map[string]string{
		"sttp":           `did you mean "stp"?`,
		"vlan_filtering": `did you mean "vlan-filtering"?`,
		"VLANFiltering":  `did you mean "vlan-filtering"?`,
		"prioirty":       `did you mean "priority"?`,
		"colour":         "",
		"mt":             `did you mean "mtu"?`,
		"abc":            "",
	} {
		if got := DidYouMean(word, keys); got != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", word, got, want)
		}
	}
}

// TestLines: diag counts lines as yaml.v3 does, so that the line a caret is
// drawn under is the line yaml.v3 gave the position for.
func TestLines(t *testing.T) {
	got := Lines([]byte("a\r\nb\rc\nd\u0085e\u2028f\u2029g"))
	want := []string{"a", "b", "c", "d", "e", "f", "g"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Lines = %q, want %q", got, want)
	}
}

// TestRenderControlCharacters: a lab's control characters and stray bytes
// never reach the terminal, and the caret stays under its column.
func TestRenderControlCharacters(t *testing.T) {
	src := []byte("name: a\x1b[2Jb\xffc\td\n")
	l := &List{File: "lab.yml"}
	l.Errorf(Pos{1, 16}, "here") // the d: yaml.v3 counts one column per rune

	var out bytes.Buffer
	l.Render(&out, src)
	lines := strings.Split(out.String(), "\n")
	if bytes.IndexByte(out.Bytes(), 0x1b) >= 0 || bytes.IndexByte(out.Bytes(), 0xff) >= 0 || bytes.IndexByte(out.Bytes(), '\t') >= 0 {
		t.Fatalf("raw control bytes in the output: %q", out.String())
	}
	shown, caret := []rune(lines[1]), []rune(lines[2])
	if len(caret) > len(shown) || caret[len(caret)-1] != '^' || shown[len(caret)-1] != 'd' {
		t.Errorf("caret not under the d:\n%s\n%s", lines[1], lines[2])
	}
}
