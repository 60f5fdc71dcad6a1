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

	"github.com/followflow/followflow/internal/jsonkeys"
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

// eventKeys are the keys of Event and, under data, opportunity and
// contact, of the objects they hold, as their json tags name them.
var eventKeys = jsonkeys.SchemaOf(reflect.TypeFor[Event]())

// checkKeys returns a problem for every key of the event's objects (the
// event, data, opportunity, contact) that is not exactly the name of one
// of their fields, and for every key repeated in its object, each with its
// path: `data.foo: unknown field`, `id: duplicate field`. A key is
// reported once per object, in the order of b. Values are not checked
// (encoding/json does that), nor are the objects under an unknown key.
// b must be one JSON value; ok is false when it could not be read.
func checkKeys(b []byte) (problems []string, ok bool) {
	found, ok := jsonkeys.Check(b, eventKeys)
	for _, p := range found {
		problems = append(problems, p.String())
	}
	return problems, ok
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
