package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/followflow/followflow/internal/jsonfast"
)

// decodeSlow decodes b with encoding/json, strictly. encoding/json alone
// would not do: it matches keys case-insensitively, keeps the last of a
// repeated key and names an unknown field without the objects around it.
// So once encoding/json has read the value (a syntax error is reported as
// it is), checkKeys reports every key that is not one of the event's,
// exactly, and every key repeated in its object, each with its path; only
// when there is none is encoding/json's first wrong type or bad timestamp
// reported.
func decodeSlow(b []byte, ev *Event) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	// checkKeys reports unknown fields, with their path; this is a second
	// guard.
	dec.DisallowUnknownFields()
	err := dec.Decode(ev)
	if err != nil && notJSON(err) {
		return &InvalidError{Problems: []string{jsonProblem(err, b)}}
	}
	// The first value of b is JSON: its keys can be checked.
	problems, ok := checkKeys(b[:dec.InputOffset()])
	switch {
	case len(problems) > 0:
		return &InvalidError{Problems: problems}
	case err != nil:
		return &InvalidError{Problems: []string{jsonProblem(err, b)}}
	case !ok:
		// Not reached: encoding/json took what checkKeys could not
		// read. Refuse it rather than take keys that were not checked.
		return &InvalidError{Problems: []string{"not a JSON object: its keys could not be read"}}
	case dec.More():
		return &InvalidError{Problems: []string{"unexpected data after the JSON object"}}
	}
	return nil
}

// notJSON reports whether err, from json.Decoder.Decode, says that the
// value is not JSON (rather than not an event).
func notJSON(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// fields are the keys an object of the event may have.
type fields struct {
	// path is the object's path with a trailing dot ("data."), empty at
	// the top.
	path string
	// byName gives each key's field.
	byName map[string]field
}

type field struct {
	// bit is the field's bit in its object's set of seen keys.
	bit uint32
	// sub are the fields of the value when it is an object itself; nil
	// otherwise.
	sub *fields
}

// eventFields are the keys of Event and, under data, opportunity and
// contact, of the objects they hold, as their json tags name them.
var eventFields = fieldsOf(reflect.TypeFor[Event](), "")

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// fieldsOf returns the keys of a struct type by their json tags; path is
// the type's path in the event.
func fieldsOf(t reflect.Type, path string) *fields {
	fs := &fields{path: path, byName: map[string]field{}}
	for name, f := range jsonfast.Fields(t) {
		if len(fs.byName) == 32 {
			panic("event: more than 32 fields in " + t.String())
		}
		fd := field{bit: 1 << len(fs.byName)}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshalerType) {
			fd.sub = fieldsOf(ft, path+name+".")
		}
		fs.byName[name] = fd
	}
	return fs
}

// checkKeys returns a problem for every key of the event's objects (the
// event, data, opportunity, contact) that is not exactly the name of one
// of their fields, and for every key repeated in its object, each with its
// path: `data.foo: unknown field`, `id: duplicate field`. A key is
// reported once per object, in the order of b. Values are not checked
// (encoding/json does that), nor are the objects under an unknown key.
// b must be one JSON value; ok is false when it could not be read.
func checkKeys(b []byte) (problems []string, ok bool) {
	k := keyChecker{b: b}
	k.space()
	if k.i == len(b) || b[k.i] != '{' {
		return nil, true // not an object: encoding/json says so
	}
	ok = k.object(eventFields)
	return k.problems, ok
}

// keyChecker reads JSON that encoding/json has found valid, without
// checking it again; it gives up (false) on anything it does not expect.
type keyChecker struct {
	b        []byte
	i        int
	problems []string
}

func (k *keyChecker) space() {
	for k.i < len(k.b) {
		switch k.b[k.i] {
		case ' ', '\t', '\n', '\r':
			k.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether c follows, reading it.
func (k *keyChecker) next(c byte) bool {
	k.space()
	if k.i < len(k.b) && k.b[k.i] == c {
		k.i++
		return true
	}
	return false
}

// object reads an object of fields fs, at its opening brace.
func (k *keyChecker) object(fs *fields) bool {
	k.i++
	if k.next('}') {
		return true
	}
	var seen, reported uint32
	var unknown map[string]bool
	for {
		k.space()
		raw, plain, ok := k.string()
		if !ok || !k.next(':') {
			return false
		}
		if !plain {
			raw = []byte(jsonString(raw))
		}
		f, known := fs.byName[string(raw)]
		switch {
		case known && seen&f.bit != 0 && reported&f.bit == 0:
			reported |= f.bit
			k.problems = append(k.problems, fs.path+keyName(string(raw))+": duplicate field")
		case !known && !unknown[string(raw)]:
			if unknown == nil {
				unknown = map[string]bool{}
			}
			unknown[string(raw)] = true
			k.problems = append(k.problems, fs.path+keyName(string(raw))+": unknown field")
		}
		seen |= f.bit
		k.space()
		if known && f.sub != nil && k.i < len(k.b) && k.b[k.i] == '{' {
			ok = k.object(f.sub)
		} else {
			ok = k.skip()
		}
		if !ok {
			return false
		}
		if k.next('}') {
			return true
		}
		if !k.next(',') {
			return false
		}
	}
}

// string reads a string, at its opening quote, returning what is between
// the quotes; plain is false when that has escapes or is not ASCII.
func (k *keyChecker) string() (raw []byte, plain, ok bool) {
	if k.i >= len(k.b) || k.b[k.i] != '"' {
		return nil, false, false
	}
	start := k.i
	plain = true
	for k.i++; k.i < len(k.b); k.i++ {
		switch c := k.b[k.i]; {
		case c == '"':
			k.i++
			return k.b[start+1 : k.i-1], plain, true
		case c == '\\':
			k.i++
			plain = false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return nil, false, false
}

// skip reads a value, at its first character.
func (k *keyChecker) skip() bool {
	if k.i >= len(k.b) {
		return false
	}
	switch k.b[k.i] {
	case '"':
		_, _, ok := k.string()
		return ok
	case '{', '[':
		for depth := 0; k.i < len(k.b); {
			switch k.b[k.i] {
			case '"':
				if _, _, ok := k.string(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			k.i++
			if depth == 0 {
				return true
			}
		}
		return false
	}
	start := k.i
	for k.i < len(k.b) {
		switch k.b[k.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return k.i > start
		}
		k.i++
	}
	return k.i > start
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

// keyName returns key as a problem names it: as it is when it is made of
// ASCII letters, digits and underscores, quoted otherwise.
func keyName(key string) string {
	if key == "" {
		return `""`
	}
	for _, c := range key {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return fmt.Sprintf("%q", key)
		}
	}
	return key
}

// jsonProblem describes an error of encoding/json decoding the event b.
func jsonProblem(err error, b []byte) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "event"
		}
		return fmt.Sprintf("%s: expected %s, got JSON %s", field, te.Type, te.Value)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %q is not an RFC 3339 time", timeField(b, pe.Value), pe.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Sprintf("%s: unknown field", strings.Trim(f, `"`))
	}
	return "not a JSON object: " + strings.TrimPrefix(msg, "json: ")
}

// timeFields are the paths of the event's times.
var timeFields = [][]string{
	{"occurred_at"}, {"data", "since"},
	{"opportunity", "created_at"}, {"opportunity", "updated_at"}, {"opportunity", "last_owner_activity_at"},
	{"contact", "created_at"}, {"contact", "updated_at"},
}

// timeField returns the path of the first time field of the event b whose
// value is the string value, which encoding/json could not parse (its
// error does not say which field it was); "timestamp" when none is.
func timeField(b []byte, value string) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return "timestamp"
	}
	for _, path := range timeFields {
		obj, raw := top, json.RawMessage(nil)
		for i, key := range path {
			raw = obj[key]
			if i < len(path)-1 {
				obj = nil
				if json.Unmarshal(raw, &obj) != nil {
					break
				}
			}
		}
		var s string
		if raw != nil && json.Unmarshal(raw, &s) == nil && s == value {
			return strings.Join(path, ".")
		}
	}
	return "timestamp"
}
