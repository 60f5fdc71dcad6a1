package yamlx

import (
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/followflow/followflow/diag"
)

// PosIn returns where rune i of n's value (counted in runes) is written in
// the file: a problem found inside a scalar, such as an expression's error,
// is reported there rather than at the scalar's start.
//
// The scalar is read again from Src by the YAML scanner's rules for its
// style (block literal and folded, plain, single- and double-quoted), giving
// each rune of the value the place of what wrote it: an escape sequence its
// backslash, a folded line break the break. When that reading does not give
// back n.Value exactly, or there is no Src, or i is not a rune of the value,
// PosIn returns the scalar's own position (d.Pos(n)): never a place outside
// the scalar.
func (d *Decoder) PosIn(n *yaml.Node, i int) diag.Pos {
	pos := d.Pos(n)
	if n.Kind != yaml.ScalarNode || d.Src == nil || i < 0 {
		return pos
	}
	start, ok := d.offset(n.Line, n.Column)
	if !ok {
		return pos
	}
	places, ok := placesOf(d.Src, start, n.Line-1, n.Column-1, n.Value)
	if !ok || i >= len(places) {
		return pos
	}
	return diag.Pos{File: d.File, Line: places[i].line + 1, Column: places[i].col + 1}
}

// offset returns the byte offset in Src of a 1-based line and column as the
// YAML scanner counts them: columns in runes, lines ended by LF, CR, CRLF,
// NEL, LS or PS, a UTF-8 byte order mark not counted.
func (d *Decoder) offset(line, col int) (int, bool) {
	if d.lines == nil {
		d.lines = lineStarts(d.Src)
	}
	if line < 1 || line > len(d.lines) || col < 1 {
		return 0, false
	}
	at := d.lines[line-1]
	for range col - 1 {
		if at >= len(d.Src) || breakWidth(d.Src, at) > 0 {
			return 0, false
		}
		_, w := utf8.DecodeRune(d.Src[at:])
		at += w
	}
	return at, true
}

func lineStarts(src []byte) []int {
	start := 0
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		start = 3
	}
	lines := []int{start}
	for i := start; i < len(src); {
		if w := breakWidth(src, i); w > 0 {
			i += w
			lines = append(lines, i)
			continue
		}
		_, w := utf8.DecodeRune(src[i:])
		i += w
	}
	return lines
}

// breakWidth returns the length in bytes of the line break at src[i:] (CRLF
// is one break), or 0 when there is none.
func breakWidth(src []byte, i int) int {
	if i >= len(src) {
		return 0
	}
	switch src[i] {
	case '\n':
		return 1
	case '\r':
		if i+1 < len(src) && src[i+1] == '\n' {
			return 2
		}
		return 1
	case 0xC2:
		if i+1 < len(src) && src[i+1] == 0x85 { // NEL
			return 2
		}
	case 0xE2:
		if i+2 < len(src) && src[i+1] == 0x80 && (src[i+2] == 0xA8 || src[i+2] == 0xA9) { // LS, PS
			return 3
		}
	}
	return 0
}

// place is a position in the file, 0-based as the scanner's marks.
type place struct{ line, col int }

// placed is a rune of the value with the place it was written at.
type placed struct {
	r rune
	p place
}

// placesOf reads the scalar that starts at byte start of src (line and col,
// 0-based, are that place) and returns the place of each rune of value, if
// the reading gives back value.
func placesOf(src []byte, start, line, col int, value string) ([]place, bool) {
	want := []rune(value)
	s := &scanner{src: src, at: start, line: line, col: col, want: want}
	s.skipProperties()
	switch s.peek(0) {
	case '|', '>':
		increment := s.header()
		if increment == 0 {
			s.block(0)
			break
		}
		// An explicit indentation indicator counts from the enclosing
		// block's indentation, which the node does not give: try each that
		// could be. Only one gives back the value (each gives the first
		// content line a different number of leading spaces).
		content := *s
		for indent := increment; indent <= increment+col; indent++ {
			*s = content
			if s.block(indent); s.complete() {
				break
			}
		}
	case '\'', '"':
		s.quoted()
	default:
		s.plain()
	}
	return s.got, s.complete()
}

// scanner follows the YAML scanner (go.yaml.in/yaml/v3's scannerc.go) over
// one scalar, checking each rune it gives against want and noting where it
// was written. Past the last rune wanted it stops: what ends a scalar
// (indentation, a comment, a flow indicator) need not be found.
type scanner struct {
	src       []byte
	at        int
	line, col int
	want      []rune
	got       []place
	bad       bool
	// literal: a '|' block (no folding); else '>'.
	literal bool
}

// complete reports whether every rune wanted was given, and matched.
func (s *scanner) complete() bool { return !s.bad && len(s.got) == len(s.want) }

// stop reports whether scanning further is useless.
func (s *scanner) stop() bool { return s.bad || len(s.got) == len(s.want) }

func (s *scanner) emit(r rune, p place) {
	if s.stop() {
		return
	}
	if s.want[len(s.got)] != r {
		s.bad = true
		return
	}
	s.got = append(s.got, p)
}

func (s *scanner) emitAll(rs []placed) {
	for _, x := range rs {
		s.emit(x.r, x.p)
	}
}

func (s *scanner) here() place { return place{s.line, s.col} }

// peek returns the byte k bytes ahead, 0 at the end of the source.
func (s *scanner) peek(k int) byte {
	if s.at+k >= len(s.src) {
		return 0
	}
	return s.src[s.at+k]
}

func (s *scanner) end() bool     { return s.at >= len(s.src) || s.src[s.at] == 0 }
func (s *scanner) blank() bool   { return s.peek(0) == ' ' || s.peek(0) == '\t' }
func (s *scanner) isBreak() bool { return breakWidth(s.src, s.at) > 0 }
func (s *scanner) blankz() bool  { return s.blank() || s.isBreak() || s.end() }

// char returns the rune at the scanner.
func (s *scanner) char() rune {
	r, _ := utf8.DecodeRune(s.src[s.at:])
	return r
}

// skip moves over one rune of a line.
func (s *scanner) skip() {
	_, w := utf8.DecodeRune(s.src[s.at:])
	s.at += w
	s.col++
}

// readLine moves over a line break and returns it as the value holds it:
// LS and PS as they are, any other break as '\n'.
func (s *scanner) readLine() placed {
	x := placed{'\n', s.here()}
	w := breakWidth(s.src, s.at)
	if w == 3 {
		x.r, _ = utf8.DecodeRune(s.src[s.at:])
	}
	s.at += w
	s.line++
	s.col = 0
	return x
}

// skipProperties moves over a tag and an anchor before the scalar, and the
// blanks, comments and line breaks after them.
func (s *scanner) skipProperties() {
	for s.peek(0) == '!' || s.peek(0) == '&' {
		anchor := s.peek(0) == '&'
		s.skip()
		for !s.blankz() && (!anchor || isAlpha(s.peek(0))) {
			s.skip()
		}
		for s.blank() || s.isBreak() || s.peek(0) == '#' {
			if s.peek(0) == '#' {
				for !s.isBreak() && !s.end() {
					s.skip()
				}
				continue
			}
			if s.blank() {
				s.skip()
			} else {
				s.readLine()
			}
		}
	}
}

// isAlpha reports whether c can be part of an anchor's name.
func isAlpha(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-'
}

// header moves over a block scalar's header up to its content and returns
// its indentation indicator (0 when none).
func (s *scanner) header() int {
	s.literal = s.peek(0) == '|'
	s.skip()
	increment := 0
	for range 2 {
		switch c := s.peek(0); {
		case c == '+' || c == '-':
			s.skip()
		case c >= '1' && c <= '9':
			increment = int(c - '0')
			s.skip()
		}
	}
	for !s.isBreak() && !s.end() {
		s.skip() // blanks and a comment
	}
	if s.isBreak() {
		s.readLine()
	}
	return increment
}

// blockBreaks moves over indentation and empty lines, as
// yaml_parser_scan_block_scalar_breaks does, and sets indent when it is 0.
func (s *scanner) blockBreaks(indent *int, breaks *[]placed) {
	maxIndent := 0
	for {
		for (*indent == 0 || s.col < *indent) && s.peek(0) == ' ' {
			s.skip()
		}
		maxIndent = max(maxIndent, s.col)
		if !s.isBreak() {
			break
		}
		*breaks = append(*breaks, s.readLine())
	}
	if *indent == 0 {
		// The scanner also keeps it above the enclosing block's; when it
		// had to, the value is only line breaks and fails to match here.
		*indent = max(maxIndent, 1)
	}
}

// block reads a block scalar's content (after its header) at indent, or at
// the indentation its first lines give when indent is 0.
func (s *scanner) block(indent int) {
	var leadingBreak, trailingBreaks []placed
	s.blockBreaks(&indent, &trailingBreaks)
	var leadingBlank bool
	for s.col == indent && !s.end() && !s.stop() {
		trailingBlank := s.blank()
		if !s.literal && !leadingBlank && !trailingBlank && len(leadingBreak) > 0 && leadingBreak[0].r == '\n' {
			if len(trailingBreaks) == 0 {
				s.emit(' ', leadingBreak[0].p)
			}
		} else {
			s.emitAll(leadingBreak)
		}
		leadingBreak = leadingBreak[:0]
		s.emitAll(trailingBreaks)
		trailingBreaks = trailingBreaks[:0]
		leadingBlank = s.blank()
		for !s.isBreak() && !s.end() && !s.stop() {
			s.emit(s.char(), s.here())
			s.skip()
		}
		if s.end() || s.stop() {
			break
		}
		leadingBreak = append(leadingBreak, s.readLine())
		s.blockBreaks(&indent, &trailingBreaks)
	}
	// Chomping: only trailing line breaks can be left, and only when kept.
	s.emitAll(leadingBreak)
	s.emitAll(trailingBreaks)
}

// fold gives the line breaks between two parts of a flow or plain scalar:
// one break is a space, more are all but the first.
func (s *scanner) fold(leadingBreak placed, trailingBreaks []placed) {
	if leadingBreak.r != '\n' {
		s.emit(leadingBreak.r, leadingBreak.p)
		s.emitAll(trailingBreaks)
	} else if len(trailingBreaks) == 0 {
		s.emit(' ', leadingBreak.p)
	} else {
		s.emitAll(trailingBreaks)
	}
}

// quoted reads a single- or double-quoted scalar, as
// yaml_parser_scan_flow_scalar does.
func (s *scanner) quoted() {
	single := s.peek(0) == '\''
	s.skip()
	var g gap
	for !s.stop() && !s.end() {
		g.leadingBlanks = false
		for !s.blankz() && !s.stop() {
			c := s.peek(0)
			switch {
			case single && c == '\'' && s.peek(1) == '\'':
				s.emit('\'', s.here())
				s.skip()
				s.skip()
				continue
			case single && c == '\'', !single && c == '"':
				return // the closing quote
			case !single && c == '\\' && breakWidth(s.src, s.at+1) > 0:
				s.skip()
				s.readLine()
				g.leadingBlanks = true
			case !single && c == '\\':
				s.escape()
				continue
			default:
				s.emit(s.char(), s.here())
				s.skip()
				continue
			}
			break // an escaped line break
		}
		if (single && s.peek(0) == '\'') || (!single && s.peek(0) == '"') {
			return
		}
		s.blanks(&g)
		if g.leadingBlanks {
			if g.leadingBreak.r != 0 {
				s.fold(g.leadingBreak, g.trailingBreaks)
			} else {
				s.emitAll(g.trailingBreaks) // after an escaped line break
			}
			g.leadingBreak = placed{}
			g.trailingBreaks = g.trailingBreaks[:0]
		} else {
			s.emitAll(g.whitespaces)
			g.whitespaces = g.whitespaces[:0]
		}
	}
}

var escapes = map[byte]rune{
	'0': 0, 'a': '\a', 'b': '\b', 't': '\t', '\t': '\t', 'n': '\n', 'v': '\v',
	'f': '\f', 'r': '\r', 'e': 0x1B, ' ': ' ', '"': '"', '\'': '\'', '\\': '\\',
	'N': 0x85, '_': 0xA0, 'L': 0x2028, 'P': 0x2029,
}

// escape reads an escape sequence of a double-quoted scalar; the rune it
// stands for is placed at its backslash.
func (s *scanner) escape() {
	p := s.here()
	c := s.peek(1)
	s.skip()
	s.skip()
	if r, ok := escapes[c]; ok {
		s.emit(r, p)
		return
	}
	digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if digits == 0 {
		s.bad = true
		return
	}
	var r rune
	for range digits {
		c := s.peek(0)
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 + rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 + rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 + rune(c-'A'+10)
		default:
			s.bad = true
			return
		}
		s.skip()
	}
	s.emit(r, p)
}

// plain reads a plain scalar, as yaml_parser_scan_plain_scalar does, minus
// the checks for its end: it stops after the last rune wanted.
func (s *scanner) plain() {
	var g gap
	for !s.stop() && !s.end() {
		for !s.blankz() && !s.stop() {
			if g.leadingBlanks {
				s.fold(g.leadingBreak, g.trailingBreaks)
				g.trailingBreaks = g.trailingBreaks[:0]
				g.leadingBlanks = false
			} else {
				s.emitAll(g.whitespaces)
				g.whitespaces = g.whitespaces[:0]
			}
			s.emit(s.char(), s.here())
			s.skip()
		}
		s.blanks(&g)
	}
}

// gap is what lies between two runs of a flow or plain scalar's runes, as
// the YAML scanner reads it: the blanks before any line break, the first
// break (leadingBlanks says there was one), and the breaks after it.
type gap struct {
	whitespaces    []placed
	leadingBreak   placed
	trailingBreaks []placed
	leadingBlanks  bool
}

// blanks reads blanks and line breaks into g.
func (s *scanner) blanks(g *gap) {
	for s.blank() || s.isBreak() {
		switch {
		case s.blank() && !g.leadingBlanks:
			g.whitespaces = append(g.whitespaces, placed{s.char(), s.here()})
			s.skip()
		case s.blank():
			s.skip()
		case !g.leadingBlanks:
			g.whitespaces = g.whitespaces[:0]
			g.leadingBreak = s.readLine()
			g.leadingBlanks = true
		default:
			g.trailingBreaks = append(g.trailingBreaks, s.readLine())
		}
	}
}
