package jsonfast

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Decoder reads JSON from s at i. ok turns false at the first thing it
// does not take. The strings read share s: they keep it alive.
type Decoder struct {
	s  string
	b  []byte // s as bytes, or nil
	i  int
	ok bool
}

// New returns a decoder of b: one copy of b is made, as a string.
func New(b []byte) *Decoder { return &Decoder{s: string(b), b: b} }

// NewString returns a decoder of s.
func NewString(s string) *Decoder { return &Decoder{s: s} }

// OK reports whether everything read so far was taken.
func (d *Decoder) OK() bool { return d.ok }

func (d *Decoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, reporting whether c was there.
func (d *Decoder) consume(c byte) bool {
	d.space()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// ObjectStart reads the opening brace of an object.
func (d *Decoder) ObjectStart() bool {
	d.ok = d.consume('{')
	return d.ok
}

// FirstKey reports whether an object just opened has a member (false
// after its closing brace, or with ok false).
func (d *Decoder) FirstKey() bool {
	if d.consume('}') {
		return false
	}
	return d.ok
}

// Object reads an object, calling member for each key with the decoder at
// the key's value. member returns the key's bit (one bit per known key)
// and whether it read the value. An unknown key (bit 0), a key seen twice
// or a value not read fails the object.
func (d *Decoder) Object(member func(key string) (bit uint16, ok bool)) bool {
	var seen uint16
	if !d.ObjectStart() {
		return false
	}
	for more := d.FirstKey(); more; more = d.NextKey() {
		key, ok := d.Key()
		if !ok {
			return false
		}
		bit, ok := member(key)
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return d.OK()
}

// NextKey reports whether another member follows the one just read.
func (d *Decoder) NextKey() bool {
	if d.consume(',') {
		return true
	}
	if !d.consume('}') {
		d.ok = false
	}
	return false
}

// Key reads a member's name and its colon.
func (d *Decoder) Key() (string, bool) {
	s, ok := d.RawString()
	if !ok || !d.consume(':') {
		d.ok = false
		return "", false
	}
	return s, true
}

// RawString reads a string without escapes or control characters, in
// valid UTF-8.
func (d *Decoder) RawString() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.i
	ascii := true
	for ; d.i < len(d.s); d.i++ {
		c := d.s[d.i]
		switch {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(s) {
				return "", false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// Str reads a string into *v.
func (d *Decoder) Str(v *string) bool {
	s, ok := d.RawString()
	*v = s
	return ok
}

// StrPtr reads a string into *to and points *v to it.
func (d *Decoder) StrPtr(v **string, to *string) bool {
	s, ok := d.RawString()
	*to, *v = s, to
	return ok
}

// Strs reads a list of strings ([] is an empty list, not nil).
func (d *Decoder) Strs(v *[]string) bool {
	if !d.consume('[') {
		return false
	}
	list := []string{}
	if !d.consume(']') {
		for {
			s, ok := d.RawString()
			if !ok {
				return false
			}
			list = append(list, s)
			if d.consume(']') {
				break
			}
			if !d.consume(',') {
				return false
			}
		}
	}
	*v = list
	return true
}

// StrsOrNull is Strs that also takes null, as nil.
func (d *Decoder) StrsOrNull(v *[]string) bool {
	d.space()
	if strings.HasPrefix(d.s[d.i:], "null") {
		d.i += len("null")
		*v = nil
		return true
	}
	return d.Strs(v)
}

// Time reads a timestamp as time.Time.UnmarshalJSON does (encoding/json
// calls it).
func (d *Decoder) Time(v *time.Time) bool {
	d.space()
	start := d.i
	if _, ok := d.RawString(); !ok {
		return false
	}
	if d.b != nil {
		return v.UnmarshalJSON(d.b[start:d.i]) == nil
	}
	return v.UnmarshalJSON([]byte(d.s[start:d.i])) == nil
}

// TimePtr reads a timestamp into *to and points *v to it.
func (d *Decoder) TimePtr(v **time.Time, to *time.Time) bool {
	*v = to
	return d.Time(to)
}

// number reads a number as JSON writes it.
func (d *Decoder) number() (string, bool) {
	d.space()
	b, i := d.s, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return "", false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return d.s[start:i], true
}

// Float reads a number as a float64, as encoding/json does.
func (d *Decoder) Float(v *float64) bool {
	s, ok := d.number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(s, 64)
	*v = f
	return err == nil
}

// Int reads an integer as an int, as encoding/json does.
func (d *Decoder) Int(v *int) bool {
	s, ok := d.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(s, 10, strconv.IntSize)
	*v = int(n)
	return err == nil
}

// End reports whether only white space follows.
func (d *Decoder) End() bool {
	d.space()
	return d.i == len(d.s)
}
