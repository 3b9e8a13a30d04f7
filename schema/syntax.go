package schema

// Where a YAML syntax error really is.
//
// yaml.v3 reports a syntax error with one line number and no column, and
// for most parser errors that line is where the enclosing construct starts,
// counted from 0: an unclosed `{` on line 4 came out as line 3, a
// misindented key as the line of the first key of its map. Reader errors
// (a byte that is not UTF-8, a control character) and unknown anchors come
// with no position at all. The library keeps the exact marks private, so
// netgen finds the place itself: a light scan of the source (quotes,
// comments, flow brackets, block scalars, indentation) lists every
// definite mistake it sees, and the kind of error yaml.v3 reported picks
// the one it means. When the scan finds nothing of that kind, the line
// yaml.v3 gave is used, corrected to count from 1.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netgen-lab/netgen/diag"
)

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into a positioned diagnostic in
// netgen's words.
func (d *decoder) syntaxError(err error, src []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	f := locate(msg, line, src)
	d.errorf(f.pos, "invalid YAML: %s", f.msg).Hint = f.hint
}

// finding is one mistake the scan saw.
type finding struct {
	kind      findKind
	pos       Pos
	msg, hint string
}

type findKind int

const (
	fTab          findKind = iota // a tab in the indentation
	fReserved                     // @ or ` starting a value
	fUnterminated                 // a quoted string never closed
	fEscape                       // an unknown escape in a double-quoted string
	fAfterQuote                   // text after a closing quote
	fUnclosed                     // a [ or { not closed (or closed by the other bracket)
	fStray                        // a ] } or , outside any [ ] or { }
	fColon                        // a second ": " on a line
	fDash                         // "- " after "key: "
	fIndent                       // a line whose indentation fits no enclosing block
	fNoColon                      // a line with a bare word where a key is expected
)

// parserErrors are the messages of yaml.v3's parser (the others come from
// its scanner): their line counts from 0 and is often where the enclosing
// map, list or bracket starts.
var parserErrors = map[string]bool{
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or '}'":       true,
	"did not find expected ',' or ']'":       true,
	"did not find expected node content":     true,
	"did not find expected <document start>": true,
}

// locate finds the mistake behind a yaml.v3 error message. line is the
// line the message names (0: none).
func locate(msg string, line int, src []byte) finding {
	if f, ok := badChar(src); ok && readerError(msg) {
		return f
	}
	s := scanSource(src)
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		return s.unknownAnchor(strings.TrimSuffix(name, "' referenced"))
	}
	// The first line the mistake can be on: a scanner's line is the
	// mistake's own (or where its quoted string or key starts), a parser's
	// counts from 0.
	yline := max(line, 1)
	if parserErrors[msg] {
		yline = line + 1
	}
	lower := yline
	var kinds []findKind
	exact := false // the mistake is on the line yaml.v3 names
	switch msg {
	case "found character that cannot start any token":
		kinds, exact = []findKind{fTab, fReserved}, true
	case "found a tab character that violates indentation", "found a tab character where an indentation space is expected":
		kinds, exact = []findKind{fTab}, true
	case "found unexpected end of stream":
		kinds = []findKind{fUnterminated}
	case "found unknown escape character", "did not find expected hexdecimal number", "found invalid Unicode character escape code":
		kinds = []findKind{fEscape}
	case "did not find expected ',' or '}'", "did not find expected ',' or ']'":
		kinds, lower = []findKind{fUnclosed, fAfterQuote, fColon}, 1
	case "did not find expected key", "did not find expected '-' indicator":
		kinds = []findKind{fStray, fAfterQuote, fUnclosed, fIndent, fNoColon}
	case "mapping values are not allowed in this context":
		kinds, exact = []findKind{fColon, fIndent}, true
	case "block sequence entries are not allowed in this context":
		kinds, exact = []findKind{fDash, fIndent}, true
	case "could not find expected ':'":
		kinds = []findKind{fNoColon, fIndent, fAfterQuote}
	}
	for _, f := range s.found {
		if f.pos.Line >= lower && (!exact || f.pos.Line == yline) && slices.Contains(kinds, f.kind) {
			return f
		}
	}
	if msg == "mapping values are not allowed in this context" {
		// "version:1" then "name: x" reads as one plain value
		// "version:1 name" followed by ": ": the mistake is a line up.
		for _, f := range s.found {
			if f.kind == fNoColon && f.pos.Line == yline-1 {
				return f
			}
		}
	}
	return s.fallback(msg, yline)
}

func readerError(msg string) bool {
	switch msg {
	case "invalid leading UTF-8 octet", "incomplete UTF-8 octet sequence", "invalid trailing UTF-8 octet",
		"invalid length of a UTF-8 sequence", "invalid Unicode character", "control characters are not allowed":
		return true
	}
	return false
}

// badChar finds the first character yaml.v3's reader refuses: a byte that
// is not UTF-8, or a control character (YAML takes tab, line breaks and
// printable characters only).
func badChar(src []byte) (finding, bool) {
	for i, l := range diag.Lines(src) {
		col := 1
		for j := 0; j < len(l); col++ {
			r, n := utf8.DecodeRuneInString(l[j:])
			p := Pos{Line: i + 1, Col: col}
			switch {
			case r == utf8.RuneError && n == 1:
				return finding{pos: p, msg: fmt.Sprintf("byte 0x%02x is not UTF-8", l[j]),
					hint: "netgen reads UTF-8 text: save the lab as UTF-8"}, true
			case !yamlPrintable(r) && !(i == 0 && j == 0 && r == 0xFEFF):
				return finding{pos: p, msg: fmt.Sprintf("control character %U is not allowed", r),
					hint: "remove it: YAML takes tabs and line breaks but no other control character"}, true
			}
			j += n
		}
	}
	return finding{}, false
}

// yamlPrintable is YAML's set of characters a file may hold.
func yamlPrintable(r rune) bool {
	return r == '\t' || r >= 0x20 && r <= 0x7E || r == 0x85 || r >= 0xA0 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// A scan of the source: the mistakes it saw in reading order, the anchors
// and aliases, and what each line of block structure is.
type scan struct {
	lines   [][]rune
	found   []finding
	anchors []named // &name, in reading order
	aliases []named // *name, in reading order
	block   []lineInfo
}

type named struct {
	name string
	pos  Pos
}

type lineKind int

const (
	kKey   lineKind = iota // key: ...
	kItem                  // - ...
	kOther                 // a bare value (or the continuation of one)
	kDoc                   // --- or ...
)

// lineInfo is a line of block structure (not inside brackets, a quoted
// string or a block scalar; not blank).
type lineInfo struct {
	line   int
	indent int // spaces before the first token
	kind   lineKind
	opens  bool // ends in "key:" or "-" with no value: a nested block may follow
	// nested are the columns (0-based) of the further "- " of "- - ...".
	nested []int
	// itemKey is the column (0-based) of the key in "- key: ...", or -1.
	itemKey   int
	itemOpens bool // "- key:" with no value
}

type flowOpen struct {
	ch          rune
	pos         Pos
	ownerIndent int // indentation of the block line the outermost bracket is on
}

// scanSource reads src line by line as YAML's scanner would, closely
// enough to see its mistakes: it runs only on a lab yaml.v3 refused, and
// TestScanValidYAML holds it to finding nothing in YAML that parses.
func scanSource(src []byte) *scan {
	s := &scan{}
	for _, l := range diag.Lines(src) {
		s.lines = append(s.lines, []rune(l))
	}
	var (
		flow        []flowOpen
		quote       rune // inside a quoted string that runs on past its line
		quoteStart  Pos
		blockScalar = -1 // indentation a block scalar's lines must exceed
		lastIndent  int
	)
	for li, r := range s.lines {
		ln := li + 1
		j := 0
		if quote != 0 {
			var closed bool
			j, closed = s.quoted(r, 0, ln, quote)
			if !closed {
				continue
			}
			quote = 0
		}
		ind := 0
		for ind < len(r) && r[ind] == ' ' {
			ind++
		}
		blank := blankLine(r[ind:])
		if blockScalar >= 0 {
			if blank || ind > blockScalar {
				continue
			}
			blockScalar = -1
		}
		if j == 0 && !blank && len(flow) > 0 && ind <= flow[0].ownerIndent && looksBlock(r[ind:]) {
			// Back at the indentation of block keys with a bracket still
			// open: that bracket is the mistake.
			o := flow[len(flow)-1]
			s.add(fUnclosed, o.pos, fmt.Sprintf("%q is not closed", string(o.ch)),
				fmt.Sprintf("line %d is back at the indentation of the keys around it while it is open: close it with %q", ln, string(closer(o.ch))))
			flow = nil
		}
		info := lineInfo{line: ln, indent: ind, itemKey: -1, kind: kOther}
		inBlock := j == 0 && len(flow) == 0
		if inBlock {
			lastIndent = ind
			// A tab before the first token: YAML indents with spaces.
			for k := ind; k < len(r) && (r[k] == ' ' || r[k] == '\t'); k++ {
				if r[k] == '\t' && !blank {
					s.add(fTab, Pos{Line: ln, Col: k + 1}, "a tab in the indentation", "YAML indents with spaces only")
					break
				}
			}
			if blank {
				continue
			}
			if ind == 0 && (hasPrefixWord(r, "---") || hasPrefixWord(r, "...")) {
				info.kind = kDoc
				s.block = append(s.block, info)
				continue
			}
			if ind == 0 && len(r) > 0 && r[0] == '%' {
				continue // a directive
			}
		}
		if j == 0 {
			j = ind
		}
		// Tokens of the rest of the line.
		tokenStart := true
		plain := false // inside a plain (unquoted) scalar
		colons := 0    // value indicators at block level on this line
		first := true  // the next token is the line's first
		dashes := 0    // "- " indicators before the first other token
		afterColon := false
		entryColons := 0 // value indicators in the current entry of a [ ] or { }
	tokens:
		for j < len(r) {
			c := r[j]
			depth := len(flow)
			switch {
			case c == ' ' || c == '\t':
				j++
				if !plain {
					tokenStart = true
				}
				continue
			case c == '#' && (j == 0 || r[j-1] == ' ' || r[j-1] == '\t'):
				break tokens
			case c == ':' && (j+1 == len(r) || r[j+1] == ' ' || r[j+1] == '\t' || depth > 0 && strings.ContainsRune(",[]{}", r[j+1])):
				plain = false
				if depth > 0 {
					if entryColons++; entryColons > 1 {
						s.add(fColon, Pos{Line: ln, Col: j + 1}, `a second ": " in one entry`,
							`quote the value if the ": " belongs to it ("a: b"), or separate the entries with ","`)
					}
				}
				if depth == 0 {
					colons++
					if colons == 1 && (info.kind == kOther || info.kind == kItem) && inBlock {
						if dashes > 0 {
							if info.itemKey < 0 {
								info.itemKey = firstTokenCol(r, ind)
							}
						} else {
							info.kind = kKey
						}
					} else if colons > 1 {
						s.add(fColon, Pos{Line: ln, Col: j + 1}, `a second ": " on one line`,
							`quote the value if the ": " belongs to it ("a: b"), or put the key on a line of its own`)
					}
					afterColon = true
				}
				j++
				tokenStart = true
				continue
			case plain && depth > 0 && strings.ContainsRune(",[]{}", c):
				plain = false
			case plain:
				j++
				continue
			}
			// c starts a token (or is a flow indicator).
			switch {
			case (c == '"' || c == '\'') && tokenStart:
				start := Pos{Line: ln, Col: j + 1}
				var closed bool
				j, closed = s.quoted(r, j+1, ln, c)
				if !closed {
					quote, quoteStart = c, start
					break tokens
				}
				s.afterQuote(r, j, ln, len(flow) > 0)
				tokenStart = false
			case c == '[' || c == '{':
				if depth == 0 && !tokenStart {
					plain = true
					j++
					continue
				}
				owner := lastIndent
				if depth > 0 {
					owner = flow[0].ownerIndent
				}
				flow = append(flow, flowOpen{ch: c, pos: Pos{Line: ln, Col: j + 1}, ownerIndent: owner})
				entryColons = 0
				j++
				tokenStart = true
			case c == ']' || c == '}':
				if depth == 0 {
					if tokenStart {
						s.add(fStray, Pos{Line: ln, Col: j + 1}, fmt.Sprintf("%q closes nothing", string(c)),
							fmt.Sprintf("remove it, or add the %q it was meant to close", string(opener(c))))
						j++
						continue
					}
					plain = true
					j++
					continue
				}
				o := flow[depth-1]
				flow = flow[:depth-1]
				if closer(o.ch) != c {
					s.add(fUnclosed, o.pos, fmt.Sprintf("%q is not closed", string(o.ch)),
						fmt.Sprintf("the %q at line %d, column %d closes it: close the %s with %q first",
							string(c), ln, j+1, map[rune]string{'[': "list", '{': "map"}[o.ch], string(closer(o.ch))))
					// The closer belongs to an outer bracket, if one matches.
					for k := len(flow) - 1; k >= 0; k-- {
						if closer(flow[k].ch) == c {
							flow = flow[:k]
							break
						}
					}
				}
				j++
				tokenStart = true
				entryColons = 0
			case c == ',':
				entryColons = 0
				if depth == 0 && tokenStart {
					s.add(fStray, Pos{Line: ln, Col: j + 1}, `"," outside [ ] or { }`,
						"a list of values on one line is written in brackets: [a, b]")
				}
				j++
				tokenStart = true
			case (c == '&' || c == '*') && tokenStart:
				k := j + 1
				for k < len(r) && anchorChar(r[k]) {
					k++
				}
				nm := named{string(r[j+1 : k]), Pos{Line: ln, Col: j + 1}}
				if c == '&' {
					s.anchors = append(s.anchors, nm)
				} else {
					s.aliases = append(s.aliases, nm)
					first = false
				}
				j = k
				continue
			case c == '!' && tokenStart:
				for j < len(r) && r[j] != ' ' && r[j] != '\t' {
					j++
				}
				continue
			case (c == '|' || c == '>') && tokenStart && depth == 0:
				blockScalar = ind
				if dashes > 0 && info.itemKey < 0 {
					blockScalar = firstTokenCol(r, ind) - 1
				}
				break tokens
			case (c == '@' || c == '`') && tokenStart:
				s.add(fReserved, Pos{Line: ln, Col: j + 1}, fmt.Sprintf("%q cannot start a value", string(c)),
					fmt.Sprintf("quote the value: \"%s\"", strings.TrimSpace(string(r[j:]))))
				break tokens
			case c == '-' && tokenStart && depth == 0 && (j+1 == len(r) || r[j+1] == ' ' || r[j+1] == '\t'):
				if first || dashes > 0 && !afterColon {
					dashes++
					if inBlock && first {
						info.kind = kItem
					} else if inBlock && info.kind == kItem {
						info.nested = append(info.nested, j)
					}
					first = false
				} else if afterColon {
					s.add(fDash, Pos{Line: ln, Col: j + 1}, `a list item ("- ") after "key: "`,
						"start the list on the next line, indented under the key, or write it in brackets: [a, b]")
				}
				j++
				continue
			case c == '?' && tokenStart && (j+1 == len(r) || r[j+1] == ' '):
				j++
				continue
			default:
				plain = true
				j++
			}
			first = false
		}
		if !inBlock {
			continue
		}
		// Does the line end with an empty value (a nested block follows)?
		rest := strings.TrimSpace(stripComment(string(r[ind:])))
		switch {
		case info.kind == kItem && info.itemKey >= 0:
			info.itemOpens = strings.HasSuffix(rest, ":") || endsInAnchor(rest)
		case info.kind == kItem:
			info.opens = strings.TrimLeft(rest, "- ") == "" || endsInAnchor(rest)
		case info.kind == kKey:
			info.opens = strings.HasSuffix(rest, ":") || endsInAnchor(rest)
		}
		if len(flow) > 0 || blockScalar >= 0 {
			info.opens = false
			info.itemOpens = false
		}
		s.block = append(s.block, info)
	}
	if quote != 0 {
		s.add(fUnterminated, quoteStart, "this quoted string is never closed",
			fmt.Sprintf("end it with %c (a quote inside it is written %s)", quote, map[rune]string{'"': `\"`, '\'': `''`}[quote]))
	} else if len(flow) > 0 {
		o := flow[len(flow)-1]
		s.add(fUnclosed, o.pos, fmt.Sprintf("%q is not closed", string(o.ch)),
			fmt.Sprintf("the file ends while it is open: close the %s with %q", map[rune]string{'[': "list", '{': "map"}[o.ch], string(closer(o.ch))))
	}
	s.indentation()
	sortFindings(s.found)
	return s
}

// quoted scans a quoted string from r[j] (after the opening quote) and
// returns where it ends, or false if it runs past the line.
func (s *scan) quoted(r []rune, j, ln int, q rune) (int, bool) {
	for j < len(r) {
		c := r[j]
		switch {
		case q == '\'' && c == '\'':
			if j+1 < len(r) && r[j+1] == '\'' {
				j += 2
				continue
			}
			return j + 1, true
		case q == '"' && c == '"':
			return j + 1, true
		case q == '"' && c == '\\':
			if j+1 == len(r) {
				return j + 1, false // an escaped line break
			}
			if n, ok := escapeLen(r[j+1:]); ok {
				j += 1 + n
				continue
			}
			s.add(fEscape, Pos{Line: ln, Col: j + 1}, fmt.Sprintf("unknown escape %s in a double-quoted string", string(r[j:min(j+2, len(r))])),
				`write \\ for a backslash, or use single quotes, where a backslash is an ordinary character`)
			j += 2
			continue
		}
		j++
	}
	return j, false
}

// escapeLen is the length of a valid escape after a backslash.
func escapeLen(r []rune) (int, bool) {
	if strings.ContainsRune("0abt\tnvfre \"/\\N_LP", r[0]) {
		return 1, true
	}
	digits := map[rune]int{'x': 2, 'u': 4, 'U': 8}[r[0]]
	if digits == 0 || len(r) < 1+digits {
		return 0, false
	}
	v, err := strconv.ParseUint(string(r[1:1+digits]), 16, 32)
	if err != nil || v >= 0xD800 && v <= 0xDFFF || v > 0x10FFFF {
		return 0, false
	}
	return 1 + digits, true
}

// afterQuote checks what follows a closing quote: a ":", a comment, the
// end of the line, or in brackets a "," or the closing bracket.
func (s *scan) afterQuote(r []rune, j, ln int, inFlow bool) {
	k := j
	for k < len(r) && (r[k] == ' ' || r[k] == '\t') {
		k++
	}
	if k == len(r) || r[k] == ':' || r[k] == '#' && k > j || inFlow && strings.ContainsRune(",]}", r[k]) {
		return
	}
	s.add(fAfterQuote, Pos{Line: ln, Col: k + 1}, "text after the closing quote",
		"put the whole value inside the quotes")
}

// indentation walks the lines of block structure and reports the first one
// whose indentation fits no enclosing map or list.
func (s *scan) indentation() {
	type level struct {
		indent int
		seq    bool
	}
	var st []level
	opens := true
	for _, l := range s.block {
		if l.kind == kDoc {
			st, opens = nil, true
			continue
		}
		i := l.indent
		switch {
		case len(st) == 0 && l.kind == kOther:
			s.bareWord(l, false)
		case len(st) == 0 || opens && i > st[len(st)-1].indent:
			if l.kind != kOther {
				st = append(st, level{i, l.kind == kItem})
			}
		case opens && i == st[len(st)-1].indent && l.kind == kItem && !st[len(st)-1].seq:
			st = append(st, level{i, true}) // a list under "key:" at the key's own indentation
		default:
			popped := 0
			for len(st) > 0 && st[len(st)-1].indent > i {
				popped = st[len(st)-1].indent
				st = st[:len(st)-1]
			}
			if len(st) == 0 || st[len(st)-1].indent != i {
				if l.kind == kOther && popped == 0 {
					break // the continuation of a value on the line above
				}
				var cols []string
				if popped > 0 {
					cols = append(cols, strconv.Itoa(popped+1))
				}
				if len(st) > 0 {
					cols = append(cols, strconv.Itoa(st[len(st)-1].indent+1))
				}
				msg := "this line is indented deeper than the line above it, which already has its value"
				if popped > 0 {
					msg = "this line's indentation matches no key or list item above it"
				}
				s.add(fIndent, Pos{Line: l.line, Col: i + 1}, msg,
					"the keys of one map, and the items of one list, start in the same column: here column "+strings.Join(cols, " or "))
				return
			}
			top := st[len(st)-1]
			switch {
			case top.seq && l.kind == kKey:
				if len(st) >= 2 && st[len(st)-2].indent == i && !st[len(st)-2].seq {
					st = st[:len(st)-1] // the end of a list at its key's indentation
					break
				}
				s.add(fIndent, Pos{Line: l.line, Col: i + 1}, `a "key:" line among the items of a list`,
					`start it with "- " to make it an item, or indent it under the item it belongs to`)
				return
			case !top.seq && l.kind == kItem:
				s.add(fIndent, Pos{Line: l.line, Col: i + 1}, "a list item among the keys of a map",
					"a list goes under a key of its own: `key:`, then the items on the lines below")
				return
			case l.kind == kOther:
				// A bare word where a key (or, in a list, an item) is
				// expected; after a list at its key's indentation, a key.
				s.bareWord(l, top.seq && !(len(st) >= 2 && st[len(st)-2].indent == i))
				return
			}
		}
		for _, c := range l.nested {
			st = append(st, level{c, true})
		}
		if l.kind == kItem && l.itemKey >= 0 {
			st = append(st, level{l.itemKey, false})
			opens = l.itemOpens
		} else {
			opens = l.opens
		}
	}
}

// bareWord reports a line holding a bare value where a key, or in a list
// an item, is expected: most often "key:value" or "-item" without the
// space YAML needs after ":" and "-".
func (s *scan) bareWord(l lineInfo, inList bool) {
	r := s.lines[l.line-1]
	word := ""
	if f := strings.Fields(stripComment(string(r[l.indent:]))); len(f) > 0 {
		word = f[0]
	}
	p := Pos{Line: l.line, Col: l.indent + 1}
	switch k, v, ok := strings.Cut(word, ":"); {
	case strings.HasPrefix(word, "-") && len(word) > 1:
		s.add(fNoColon, p, fmt.Sprintf("%q is not a list item: \"-\" needs a space after it", word),
			fmt.Sprintf("write - %s", word[1:]))
	case ok && k != "" && v != "" && !inList:
		s.add(fNoColon, p, fmt.Sprintf("%q has no space after \":\"", word),
			fmt.Sprintf("write %s: %s (a key's \":\" is followed by a space)", k, v))
	case inList:
		s.add(fNoColon, p, fmt.Sprintf("%q among the items of a list", word),
			`start it with "- " to make it an item`)
	default:
		s.add(fNoColon, p, fmt.Sprintf("%q is not followed by \":\"", word),
			"a map entry is written `key: value`; a list item starts with \"- \"")
	}
}

// unknownAnchor finds the alias yaml.v3 could not resolve: the first *name
// with no &name before it.
func (s *scan) unknownAnchor(name string) finding {
	for _, a := range s.aliases {
		if a.name != name {
			continue
		}
		var defined []string
		later := Pos{}
		for _, d := range s.anchors {
			if d.pos.Before(a.pos) {
				defined = append(defined, d.name)
			} else if d.name == name && later.Line == 0 {
				later = d.pos
			}
		}
		if slices.Contains(defined, name) {
			continue
		}
		f := finding{pos: a.pos, msg: fmt.Sprintf("unknown anchor %q (*%s)", name, name)}
		switch {
		case later.Line > 0:
			f.hint = fmt.Sprintf("&%s is defined later, at line %d: YAML reads anchors in order, so move it above its first use", name, later.Line)
		default:
			if f.hint = diag.DidYouMean(name, defined); f.hint == "" {
				f.hint = fmt.Sprintf("mark the value to repeat with &%s above its first use", name)
			}
		}
		return f
	}
	return finding{pos: Pos{Line: 1, Col: 1}, msg: fmt.Sprintf("unknown anchor %q (*%s)", name, name)}
}

// fallback places an error the scan did not recognise on the line yaml.v3
// gave (counted from 1), at its first character.
func (s *scan) fallback(msg string, line int) finding {
	line = min(max(line, 1), len(s.lines))
	col := 1
	if line >= 1 {
		r := s.lines[line-1]
		for col-1 < len(r) && (r[col-1] == ' ' || r[col-1] == '\t') {
			col++
		}
		if col-1 == len(r) {
			col = 1
		}
	}
	return finding{pos: Pos{Line: line, Col: col}, msg: friendlyYAML(msg)}
}

// friendlyYAML rewords the yaml.v3 messages the scan did not place.
func friendlyYAML(msg string) string {
	switch {
	case strings.HasPrefix(msg, "mapping values are not allowed in this context"):
		return `a "key: value" where no map can start (check the indentation, or quote a value that contains ": ")`
	case strings.HasPrefix(msg, "did not find expected key"):
		return "the indentation does not line up with the keys above"
	case strings.HasPrefix(msg, "found character that cannot start any token"):
		return "a character that cannot start a value here"
	case strings.HasPrefix(msg, "did not find expected '-' indicator"):
		return "a list item is indented differently from the items before it"
	}
	return msg
}

func (s *scan) add(k findKind, p Pos, msg, hint string) {
	s.found = append(s.found, finding{kind: k, pos: p, msg: msg, hint: hint})
}

func sortFindings(fs []finding) {
	// Insertion sort, stable: findings are few and nearly in order.
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].pos.Before(fs[j-1].pos); j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

func closer(c rune) rune { return map[rune]rune{'[': ']', '{': '}'}[c] }
func opener(c rune) rune { return map[rune]rune{']': '[', '}': '{'}[c] }

// anchorChar is a character of an anchor or alias name, as yaml.v3 reads it.
func anchorChar(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-'
}

func blankLine(r []rune) bool {
	for _, c := range r {
		if c == '#' {
			return true
		}
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

func hasPrefixWord(r []rune, w string) bool {
	s := string(r)
	return strings.HasPrefix(s, w) && (len(s) == len(w) || s[len(w)] == ' ' || s[len(w)] == '\t')
}

// looksBlock reports whether a line starts a block key or list item.
func looksBlock(r []rune) bool {
	s := string(r)
	if s == "-" || strings.HasPrefix(s, "- ") {
		return true
	}
	k := 0
	for k < len(r) && (anchorChar(r[k]) || r[k] == '.') {
		k++
	}
	return k > 0 && k < len(r) && r[k] == ':' && (k+1 == len(r) || r[k+1] == ' ')
}

// firstTokenCol is the column (0-based) of the first token after the "- "
// indicators of a line.
func firstTokenCol(r []rune, ind int) int {
	k := ind
	for k < len(r) && (r[k] == '-' || r[k] == ' ') {
		k++
	}
	return k
}

func stripComment(s string) string {
	inQuote := rune(0)
	for i, c := range s {
		switch {
		case inQuote != 0:
			if c == inQuote {
				inQuote = 0
			}
		case c == '"' || c == '\'':
			if i == 0 || s[i-1] == ' ' {
				inQuote = c
			}
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

// endsInAnchor reports whether a line ends in "key: &name" (or a tag): the
// value, anchored, starts on the next line.
func endsInAnchor(rest string) bool {
	f := strings.Fields(rest)
	if len(f) < 2 {
		return false
	}
	last := f[len(f)-1]
	return (last[0] == '&' || last[0] == '!') && strings.HasSuffix(f[len(f)-2], ":")
}
