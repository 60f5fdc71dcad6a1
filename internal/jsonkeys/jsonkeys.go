// Package jsonkeys checks the keys of a JSON value against the struct type
// it decodes into, as encoding/json alone does not: a key must be a field's
// name exactly (encoding/json matches case-insensitively) and appear once
// in its object (encoding/json keeps the last). Events and data files use
// it before decoding with encoding/json.
package jsonkeys

import (
	"encoding/json"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/followflow/followflow/internal/jsonfast"
)

// Schema is the keys an object of a struct type may have.
type Schema struct {
	byName map[string]field
}

type field struct {
	// bit is the field's bit in its object's set of seen keys.
	bit uint64
	// sub is the schema of the value when it is an object, or an array of
	// objects (array); nil otherwise.
	sub   *Schema
	array bool
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// SchemaOf returns the schema of the struct type t (or pointer to one), by
// its fields' json names. Fields that are structs, pointers to structs or
// slices of structs have schemas of their own, except types that decode
// themselves (time.Time). It panics over 64 fields.
func SchemaOf(t reflect.Type) *Schema {
	s := &Schema{byName: map[string]field{}}
	for name, f := range jsonfast.Fields(structOf(t)) {
		if len(s.byName) == 64 {
			panic("jsonkeys: more than 64 fields in " + t.String())
		}
		fd := field{bit: 1 << len(s.byName)}
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft, fd.array = ft.Elem(), true
		}
		if st := structOf(ft); st != nil && !reflect.PointerTo(st).Implements(unmarshalerType) {
			fd.sub = SchemaOf(st)
		} else {
			fd.array = false
		}
		s.byName[name] = fd
	}
	return s
}

func structOf(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// Problem is a key that is not a field of its object, or repeats one.
type Problem struct {
	// Offset is where the key starts in the value (its opening quote).
	Offset int
	// Path names the key: "data.foo", "users[2].emal".
	Path string
	// Duplicate: the key repeats one before it; else it is unknown.
	Duplicate bool
}

func (p Problem) String() string {
	if p.Duplicate {
		return p.Path + ": duplicate field"
	}
	return p.Path + ": unknown field"
}

// Check returns the problems of the keys of b, an object of schema s, in
// the order of b: each unknown key once per object, each repeated key once
// per object. Values are not checked (the decoder does that), nor what lies
// under an unknown key. b must be one JSON value that encoding/json has
// found valid; ok is false when Check could not read it. A b that is not an
// object has no problems.
func Check(b []byte, s *Schema) (problems []Problem, ok bool) {
	c := checker{b: b}
	c.space()
	if c.i == len(b) || b[c.i] != '{' {
		return nil, true
	}
	ok = c.object(s, "")
	return c.problems, ok
}

// checker reads JSON without checking it again; it gives up (false) on
// anything it does not expect.
type checker struct {
	b        []byte
	i        int
	problems []Problem
}

func (c *checker) space() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether ch follows, reading it.
func (c *checker) next(ch byte) bool {
	c.space()
	if c.i < len(c.b) && c.b[c.i] == ch {
		c.i++
		return true
	}
	return false
}

// object reads an object of schema s at path ("" at the top), at its
// opening brace.
func (c *checker) object(s *Schema, path string) bool {
	c.i++
	if c.next('}') {
		return true
	}
	var seen, reported uint64
	var unknown map[string]bool
	for {
		c.space()
		at := c.i
		raw, plain, ok := c.string()
		if !ok || !c.next(':') {
			return false
		}
		key := string(raw)
		if !plain {
			key = jsonString(raw)
		}
		f, known := s.byName[key]
		switch {
		case known && seen&f.bit != 0 && reported&f.bit == 0:
			reported |= f.bit
			c.problems = append(c.problems, Problem{Offset: at, Path: join(path, key), Duplicate: true})
		case !known && !unknown[key]:
			if unknown == nil {
				unknown = map[string]bool{}
			}
			unknown[key] = true
			c.problems = append(c.problems, Problem{Offset: at, Path: join(path, key)})
		}
		seen |= f.bit
		c.space()
		switch {
		case known && f.sub != nil && !f.array && c.i < len(c.b) && c.b[c.i] == '{':
			ok = c.object(f.sub, join(path, key))
		case known && f.sub != nil && f.array && c.i < len(c.b) && c.b[c.i] == '[':
			ok = c.array(f.sub, join(path, key))
		default:
			ok = c.skip()
		}
		if !ok {
			return false
		}
		if c.next('}') {
			return true
		}
		if !c.next(',') {
			return false
		}
	}
}

// array reads an array whose objects have schema s, at its opening bracket.
func (c *checker) array(s *Schema, path string) bool {
	c.i++
	if c.next(']') {
		return true
	}
	for n := 0; ; n++ {
		c.space()
		var ok bool
		if c.i < len(c.b) && c.b[c.i] == '{' {
			ok = c.object(s, fmt.Sprintf("%s[%d]", path, n))
		} else {
			ok = c.skip()
		}
		if !ok {
			return false
		}
		if c.next(']') {
			return true
		}
		if !c.next(',') {
			return false
		}
	}
}

// string reads a string, at its opening quote, returning what is between
// the quotes; plain is false when that has escapes or is not ASCII.
func (c *checker) string() (raw []byte, plain, ok bool) {
	if c.i >= len(c.b) || c.b[c.i] != '"' {
		return nil, false, false
	}
	start := c.i
	plain = true
	for c.i++; c.i < len(c.b); c.i++ {
		switch ch := c.b[c.i]; {
		case ch == '"':
			c.i++
			return c.b[start+1 : c.i-1], plain, true
		case ch == '\\':
			c.i++
			plain = false
		case ch >= utf8.RuneSelf:
			plain = false
		}
	}
	return nil, false, false
}

// skip reads a value, at its first character.
func (c *checker) skip() bool {
	if c.i >= len(c.b) {
		return false
	}
	switch c.b[c.i] {
	case '"':
		_, _, ok := c.string()
		return ok
	case '{', '[':
		for depth := 0; c.i < len(c.b); {
			switch c.b[c.i] {
			case '"':
				if _, _, ok := c.string(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			c.i++
			if depth == 0 {
				return true
			}
		}
		return false
	}
	start := c.i
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return c.i > start
		}
		c.i++
	}
	return c.i > start
}

// jsonString returns the string that raw, the inside of a JSON string,
// stands for, as encoding/json reads it (invalid UTF-8 as U+FFFD).
func jsonString(raw []byte) string {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var s string
	if json.Unmarshal(q, &s) != nil {
		return string(raw)
	}
	return s
}

// join names key inside path: as it is when it is made of ASCII letters,
// digits and underscores, quoted otherwise.
func join(path, key string) string {
	name := key
	for _, ch := range key {
		if !(ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
			name = fmt.Sprintf("%q", key)
			break
		}
	}
	if key == "" {
		name = `""`
	}
	if path == "" {
		return name
	}
	return path + "." + name
}
