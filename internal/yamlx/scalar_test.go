package yamlx

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/followflow/followflow/diag"
)

// scalars are YAML documents whose value under "v" is read back by PosIn;
// FuzzPosIn starts from them too.
var scalars = []string{
	"v: plain text\n",
	"v: !!str plain\n",
	"v: &a anchored\n",
	"v: plain  two\n  lines\n\n\n  and more\n",
	"v: 'single ''quoted'''\n",
	"v: 'single\n   over\n\n   lines '\n",
	"v: \"double \\\"q\\\" \\t\\x41\\u00e9\\U0001F600 \\\\ \\N\\_\\L\\P é\"\n",
	"v: \"double\\\n   joined \\\n\n  and\tfolded\n  \"\n",
	"v: |\n  literal\n    more\n\n  end\n",
	"v: |-\n\n  literal strip\n",
	"v: |+\n  literal keep\n\n\n",
	"v: |2\n     literal indented\n   less\n",
	"v: >-1\n  folded\n  lines\n\n   more indented\n  back\n",
	"v: > # comment\n  folded\n\n\n  text\n",
	"- {v: flow plain, w: 'x'}\n",
	"- v: [a, \"b c\", 'd\n    e']\n",
	"v: \"crlf\r\n  lines\"\r\nw: |\r\n  block\r\n  crlf\r\n",
	"\uFEFFv: after a byte order mark\n",
	"v: line\u2028  separated\n",
	"v: !!str # a comment\n  &a\n  tagged on its own line\n",
	"--- |\n text\n--- >\n folded\n\n \ttab\n...\n",
	"? |\n  key\n: v\n",
	"v:\n- \"\\\n  \\ x\"\n- [a,b]\n",
	"é: \"é\tè\"\n",
}

// TestPosInReadsEveryStyle: every rune of each scalar gets the place it is
// written at (see checkPlaces).
func TestPosInReadsEveryStyle(t *testing.T) {
	t.Parallel()
	for _, src := range scalars {
		err := eachScalar(t, []byte(src), func(n *yaml.Node) {
			if !checkPlaces(t, []byte(src), n) {
				t.Errorf("%q: value %q was not read back", src, n.Value)
			}
		})
		if err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// TestPosInFallsBackToTheScalar: when the scalar cannot be read back (no
// source, a value that is not what the file says, a rune past the value),
// the place is the scalar's own.
func TestPosInFallsBackToTheScalar(t *testing.T) {
	t.Parallel()
	src := []byte("v: |\n  literal\n")
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0].Content[1]
	start := diag.Pos{File: "f", Line: 1, Column: 4}
	if got := (&Decoder{File: "f", Src: src}).PosIn(n, 1); got != (diag.Pos{File: "f", Line: 2, Column: 4}) {
		t.Errorf("PosIn = %v, want f:2:4", got)
	}
	for name, c := range map[string]struct {
		d *Decoder
		i int
	}{
		"no source":       {&Decoder{File: "f"}, 1},
		"past the value":  {&Decoder{File: "f", Src: src}, 8},
		"negative":        {&Decoder{File: "f", Src: src}, -1},
		"another content": {&Decoder{File: "f", Src: []byte("v: |\n  literaL\n")}, 1},
	} {
		if got := c.d.PosIn(n, c.i); got != start {
			t.Errorf("%s: PosIn = %v, want %v", name, got, start)
		}
	}
}

// FuzzPosIn: for any YAML, the places PosIn gives are the scalar's own or
// the places of its runes (checkPlaces), never a panic.
func FuzzPosIn(f *testing.F) {
	for _, s := range scalars {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<12 {
			return
		}
		eachScalar(t, src, func(n *yaml.Node) {
			checkPlaces(t, src, n)
			d := &Decoder{File: "f", Src: src}
			count := utf8.RuneCountInString(n.Value)
			for _, i := range []int{0, count / 2, count - 1, count} {
				if p := d.PosIn(n, i); p.Line < 1 || p.Column < 1 {
					t.Fatalf("PosIn(%d) = %v", i, p)
				}
			}
		})
	})
}

// eachScalar calls fn with each scalar of src's documents (the first 100),
// and returns the error that stopped their decoding, if any.
func eachScalar(t *testing.T, src []byte, fn func(*yaml.Node)) error {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(string(src)))
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			fn(n)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for range 100 {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		walk(&doc)
	}
	return nil
}

// checkPlaces reads n back from src and, when that gives its value, checks
// that the places come one after another from the scalar's start and that
// each is where its rune is written (or an escape sequence or line break
// that stands for it). It reports whether the value was read back.
func checkPlaces(t *testing.T, src []byte, n *yaml.Node) bool {
	t.Helper()
	d := &Decoder{File: "f", Src: src}
	start, ok := d.offset(n.Line, n.Column)
	if !ok {
		return false // an empty scalar at the end, say
	}
	places, ok := placesOf(src, start, n.Line-1, n.Column-1, n.Value)
	if !ok {
		return false
	}
	// The byte offset of each place of the file from the scalar's start.
	offsets := map[place]int{}
	for at, p := start, (place{n.Line - 1, n.Column - 1}); at < len(src); {
		offsets[p] = at
		if w := breakWidth(src, at); w > 0 {
			at += w
			p = place{p.line + 1, 0}
			continue
		}
		_, w := utf8.DecodeRune(src[at:])
		at += w
		p.col++
	}
	prev := place{n.Line - 1, n.Column - 2}
	for i, r := range []rune(n.Value) {
		p := places[i]
		if p.line < prev.line || (p.line == prev.line && p.col <= prev.col) {
			t.Fatalf("%q: rune %d of %q at %v, after %v", src, i, n.Value, p, prev)
		}
		prev = p
		at, ok := offsets[p]
		if !ok {
			t.Fatalf("%q: rune %d of %q at %v, not in the file", src, i, n.Value, p)
		}
		got, _ := utf8.DecodeRune(src[at:])
		if got != r && got != '\\' && breakWidth(src, at) == 0 {
			t.Fatalf("%q: rune %d of %q (%q) at %v, where %q is written", src, i, n.Value, r, p, got)
		}
	}
	return true
}
