package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestSyntaxErrorPositions: a YAML syntax error points at the mistake
// itself, whatever line yaml.v3 names (it counts parser errors from 0 and
// names where the enclosing construct starts).
func TestSyntaxErrorPositions(t *testing.T) {
	for _, c := range []struct {
		name, src string
		at        string // LINE:COL
		msg       string
	}{
		{"unclosed { then a key", "version: 1\nnamespaces:\n  a: {}\n  b: {loopback: true\n  c: {}\n", "4:6", `"{" is not closed`},
		{"unclosed { at the end", "version: 1\nnamespaces:\n  a: {}\n  b: {loopback: true\n", "4:6", `"{" is not closed`},
		{"unclosed { on line 1", "{version: 1\n", "1:1", `"{" is not closed`},
		{"unclosed { then a top-level key", "version: 1\nnamespaces: {a: {}\nbridges: {}\n", "2:13", `"{" is not closed`},
		{"unclosed { over lines", "version: 1\nbridges:\n  br0: {stp: true,\n        mtu: 1500\nveths: []\n", "3:8", `"{" is not closed`},
		{"unclosed [ then an item", "version: 1\nveths:\n  - [a:x, b:y\n  - [c:x, d:y]\n", "3:5", `"[" is not closed`},
		{"unclosed [ at the end", "version: 1\nveths:\n  - [a:x, b:y\n", "3:5", `"[" is not closed`},
		{"unclosed inner [", "version: 1\nveths: [[a:x, b:y]\n", "2:8", `"[" is not closed`},
		{"{ closed by ]", "version: 1\nveths:\n  - [a:x, {name: b:y]\n", "3:11", `"{" is not closed`},
		{"extra }", "version: 1\nnamespaces: {a: {}}}\n", "2:20", `"}" closes nothing`},
		{"extra ]", "version: 1\nveths: [[a:x, b:y]]]\n", "2:20", `"]" closes nothing`},
		{"lone }", "version: 1\n}\n", "2:1", `"}" closes nothing`},
		{"comma in block", "version: 1\nname: a\n, b\n", "3:1", `","`},
		{"key indented under a complete value", "version: 1\nnamespaces:\n  a: {}\n    b: {}\n", "4:5", "indented deeper"},
		{"key outdented between levels", "version: 1\nnamespaces:\n  a: {}\n b: {}\n", "4:2", "matches no key"},
		{"key between two levels", "version: 1\nbridges:\n  br0:\n    stp: true\n   mtu: 1500\n", "5:4", "matches no key"},
		{"key of a list item misindented", "version: 1\nveths:\n  - name: a\n    mtu: 1\n   bridge: x\n", "5:4", "matches no key"},
		{"item indented deeper", "version: 1\nveths:\n  - [a:x, b:y]\n   - [c:x, d:y]\n", "4:4", "indented deeper"},
		{"item outdented", "version: 1\nveths:\n  - [a:x, b:y]\n - [c:x, d:y]\n", "4:2", "matches no key"},
		{"key among items", "version: 1\nveths:\n  - [a, b]\n  c: d\n", "4:3", "among the items"},
		{"continuation with a colon", "version: 1\nname: foo\n  bar: 1\n", "3:3", "indented deeper"},
		{"tab indentation", "version: 1\nnamespaces:\n\ta: {}\n", "3:1", "tab"},
		{"tab after spaces", "version: 1\nnamespaces:\n  a:\n  \tloopback: true\n", "4:3", "tab"},
		{"unterminated double quote", "version: 1\nname: \"abc\nnamespaces: {}\n", "2:7", "never closed"},
		{"unterminated single quote", "version: 1\nname: 'abc\nnamespaces: {}\n", "2:7", "never closed"},
		{"unterminated quote in brackets", "version: 1\nveths:\n  - [\"a:x, b:y]\n", "3:6", "never closed"},
		{"unknown escape", "version: 1\nname: \"a\\qb\"\n", "2:9", `unknown escape \q`},
		{"bad \\x escape", "version: 1\nname: \"a\\xZZ\"\n", "2:9", "unknown escape"},
		{"text after a quote", "version: 1\nname: \"x\" y\n", "2:11", "after the closing quote"},
		{"second colon", "version: 1\nname: a: b\n", "2:8", `second ": "`},
		{"second colon after other keys", "version: 1\nbridges:\n  br0: {mtu: 1500}\nname: lab: x\n", "4:10", `second ": "`},
		{"second colon on line 1", "version: 1: 2\n", "1:11", `second ": "`},
		{"second colon in brackets", "version: 1\nveths: [a: b: c]\n", "2:13", `second ": "`},
		{"list after key:", "version: 1\nveths: - [a, b]\n", "2:8", `list item ("- ") after "key: "`},
		{"bare word", "version: 1\nveths:\n- [a, b]\nfoo\n", "4:1", `"foo" is not followed by ":"`},
		{"key without colon", "version: 1\nnamespaces\n  a: {}\n", "2:1", `"namespaces" is not followed by ":"`},
		{"no space after a key's colon", "version:1\nname: x\n", "1:1", `"version:1" has no space after ":"`},
		{"no space after a dash", "version: 1\nveths:\n  - - a\n    -b\n", "4:5", `"-b" is not a list item`},
		{"bare word among items", "version: 1\nveths:\n  - a:x\n  b:y\n", "4:3", `"b:y" among the items of a list`},
		{"@", "version: 1\nname: @lab\n", "2:7", `"@" cannot start a value`},
		{"backtick", "version: 1\nname: `lab`\n", "2:7", "\"`\" cannot start a value"},
		{"not UTF-8", "version: 1\nnamespaces:\n  a\xff: {}\n", "3:4", "byte 0xff is not UTF-8"},
		{"not UTF-8 after a multibyte rune", "version: 1\nname: \"é\xe2\x82\"\n", "2:9", "not UTF-8"},
		{"control character", "version: 1\nnamespaces:\n  a\x01: {}\n", "3:4", "control character U+0001"},
		{"escape character", "version: 1\nname: x\x1b[31m\n", "2:8", "control character U+001B"},
		{"NUL", "version: 1\n\n\nname: x\x00\n", "4:8", "control character U+0000"},
		{"DEL after a CRLF", "version: 1\r\nname: x\x7f\r\n", "2:8", "control character U+007F"},
		{"unknown anchor", "version: 1\nnamespaces:\n  a: *nope\n", "3:6", `unknown anchor "nope"`},
		{"misspelt anchor", "version: 1\nnamespaces:\n  a: &defaults {}\n  b: {<<: *defualts}\n", "4:11", `unknown anchor "defualts"`},
		{"anchor defined later", "version: 1\nnamespaces:\n  a: *later\n  b: &later {}\n", "3:6", `unknown anchor "later"`},
		{"unknown anchor after a known one", "version: 1\nnamespaces:\n  a: &x {}\n  b: *x\n  c: *y\n", "5:6", `unknown anchor "y"`},
		{"error in a second document", "version: 1\n---\nname: [a\n", "3:7", `"[" is not closed`},
		{"after a block scalar", "version: 1\nname: |\n  text: with: colons\n  - and items\nnamespaces: {a: {}\n", "5:13", `"{" is not closed`},
		{"after a multi-line quote", "version: 1\nname: \"two\n  lines\"\nveths: [a\n", "4:8", `"[" is not closed`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, diags := Decode("lab.yml", []byte(c.src))
			if len(diags.Items) != 1 {
				t.Fatalf("want one diagnostic, got %v", diags.Items)
			}
			d := diags.Items[0]
			if got := fmt.Sprintf("%d:%d", d.Pos.Line, d.Pos.Col); got != c.at || !strings.Contains(d.Message, c.msg) {
				t.Errorf("got %s %s (hint %q), want %s ...%s...", got, d.Message, d.Hint, c.at, c.msg)
			}
			if !strings.HasPrefix(d.Message, "invalid YAML: ") {
				t.Errorf("message %q does not say it is a YAML error", d.Message)
			}
		})
	}
}

// TestScanValidYAML: on YAML that parses, the scan finds no mistake, so a
// real error elsewhere in a lab is never blamed on a sound construct.
func TestScanValidYAML(t *testing.T) {
	srcs := map[string]string{
		"tricky": `# a comment with "quotes" and [brackets
version: 1   # trailing comment with 'quote
name: lab-1
namespaces:
  a: {sysctl: {net.ipv4.ip_forward: 1}}
  b: &defaults
    loopback: true
  c:
    <<: *defaults
  "d": {}
  'e': {sysctl: {"net.ipv6.conf.all.forwarding": '1'}}
bridges:
  br0: {
    stp: true,
    mtu: 1500
  }
  br1: {namespace: a, addresses: [10.0.0.1/24,
                                  10.0.1.1/24]}
veths:
- [a:x, b:y]
- - c:x
  - d:y
- ends:
    - name: a:p
      addresses: [192.168.1.1/24]
      routes:
        - {to: default, via: 192.168.1.254}
    - {name: b:p, bridge: br1}
  mtu: 9000
- [{name: "a:q"}, 'b:q']
taps:
  - name: a#b
  - {name: "t\"1", user: it's}
  - name: plain with spaces and a:colon-free # comment
uplinks:
  - interface: |
      eth0
    mtu: 1500
  - >-
    folded
    text
  - "multi
    line"
  - 'it''s'
  - http://example.com/x
  - !!str 10
`,
	}
	files, _ := filepath.Glob("../examples/*.yml")
	files2, _ := filepath.Glob("../e2e/testdata/labs/*.yml")
	for _, f := range append(files, files2...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs[f] = string(src)
	}
	for name, src := range srcs {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(src), &n); err != nil {
			t.Fatalf("%s is not valid YAML: %v", name, err)
		}
		s := scanSource([]byte(src))
		if len(s.found) != 0 {
			t.Errorf("%s: the scan sees mistakes in valid YAML: %v", name, s.found)
		}
	}
}
