package event_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
)

// decodeCase is one input of the decoding tables: err is the whole error,
// empty when the event must decode.
type decodeCase struct {
	name string
	in   string
	err  string
}

// base is a valid opportunity event; rest is inserted after its first
// member.
func base(rest string) string {
	return `{"id":"e1"` + rest + `,"type":"opportunity.tag_applied","account_id":"acme","opportunity_id":"opp_1","data":{"tag":"VIP"}}`
}

// checkDecode runs each case through Decode and DecodeString, which must
// agree, and checks that what decodeFast takes, decodeSlow takes too, with
// the same event (both leave Validate to Decode).
func checkDecode(t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ev, err := event.Decode([]byte(c.in), time.Time{})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.err {
				t.Fatalf("Decode(%s):\n got error %q\nwant error %q", c.in, got, c.err)
			}
			evs, errs := event.DecodeString(c.in, time.Time{})
			if (err == nil) != (errs == nil) || errs != nil && errs.Error() != got || !reflect.DeepEqual(ev, evs) {
				t.Fatalf("DecodeString(%s): %+v, %v; Decode: %+v, %v", c.in, evs, errs, ev, err)
			}
			var fast, slow event.Event
			if !event.DecodeFast([]byte(c.in), &fast) {
				return
			}
			if err := event.DecodeSlow([]byte(c.in), &slow); err != nil || !reflect.DeepEqual(fast, slow) {
				t.Fatalf("decodeFast took %s:\nfast %+v\nslow %+v, %v", c.in, fast, slow, err)
			}
		})
	}
}

// TestDecodeKeysMatchExactly: a key that differs from a field's name only
// in case is an unknown field (encoding/json took "ID" as "id").
func TestDecodeKeysMatchExactly(t *testing.T) {
	t.Parallel()
	checkDecode(t, []decodeCase{
		{"exact", base(``), ""},
		{"upper case instead", strings.Replace(base(``), `"id"`, `"ID"`, 1), "invalid event: ID: unknown field"},
		{"beside the exact key", base(`,"Id":"e2"`), "invalid event: Id: unknown field"},
		{"type", strings.Replace(base(``), `"type"`, `"Type"`, 1), "invalid event: Type: unknown field"},
		{"in data", strings.Replace(base(``), `"tag"`, `"TAG"`, 1), "invalid event: data.TAG: unknown field"},
		{"in opportunity", base(`,"opportunity":{"Name":"x"}`), "invalid event: opportunity.Name: unknown field"},
		{"in contact", base(`,"contact_id":"c_1","contact":{"eMail":"x@y"}`), "invalid event: contact.eMail: unknown field"},
		{"escaped exact key", strings.Replace(base(``), `"id"`, `"i\u0064"`, 1), ""},
		{"escaped upper case", strings.Replace(base(``), `"id"`, `"\u0049D"`, 1), "invalid event: ID: unknown field"},
	})
}

// TestDecodeRepeatedKey: a key given twice in one object, at any depth, is
// an error naming it (encoding/json kept the last one).
func TestDecodeRepeatedKey(t *testing.T) {
	t.Parallel()
	checkDecode(t, []decodeCase{
		{"id", base(`,"id":"e2"`), "invalid event: id: duplicate field"},
		{"same value", base(`,"id":"e1"`), "invalid event: id: duplicate field"},
		{"three times, reported once", base(`,"id":"e2","id":"e3"`), "invalid event: id: duplicate field"},
		{"escaped", base(`,"i\u0064":"e2"`), "invalid event: id: duplicate field"},
		{"object", base(`,"data":{"tag":"x"}`), "invalid event: data: duplicate field"},
		{"in data", strings.Replace(base(``), `"tag":"VIP"`, `"tag":"VIP","tag":"x"`, 1), "invalid event: data.tag: duplicate field"},
		{"in opportunity", base(`,"opportunity":{"tags":["a"],"name":"x","tags":[]}`), "invalid event: opportunity.tags: duplicate field"},
		{"in contact", base(`,"contact_id":"c_1","contact":{"email":"a@b","email":"c@d"}`), "invalid event: contact.email: duplicate field"},
		{"null twice", base(`,"contact":null,"contact":null`), "invalid event: contact: duplicate field"},
		{"unknown key twice is unknown once", base(`,"foo":1,"foo":2`), "invalid event: foo: unknown field"},
		{"same key in two objects", base(`,"opportunity":{"pipeline":"Sales"},"contact_id":"c_1","contact":{"name":"x"}`), ""},
		{"several", base(`,"type":"x","data":{}`), "invalid event: type: duplicate field; data: duplicate field"},
	})
}

// TestDecodeUnknownFieldPath: an unknown field is named with the objects
// around it (it was "foo: unknown field" inside data).
func TestDecodeUnknownFieldPath(t *testing.T) {
	t.Parallel()
	checkDecode(t, []decodeCase{
		{"top", base(`,"foo":1`), "invalid event: foo: unknown field"},
		{"data", strings.Replace(base(``), `"tag":"VIP"`, `"tag":"VIP","foo":{"a":1}`, 1), "invalid event: data.foo: unknown field"},
		{"opportunity.followers", base(`,"opportunity":{"followers":[]}`), "invalid event: opportunity.followers: unknown field"},
		{"opportunity.id", base(`,"opportunity":{"id":"opp_1"}`), "invalid event: opportunity.id: unknown field"},
		{"opportunity.account_id", base(`,"opportunity":{"name":"x","account_id":"acme"}`), "invalid event: opportunity.account_id: unknown field"},
		{"contact.id", base(`,"contact_id":"c_1","contact":{"id":"c_1"}`), "invalid event: contact.id: unknown field"},
		{"contact.followers", base(`,"contact_id":"c_1","contact":{"followers":[]}`), "invalid event: contact.followers: unknown field"},
		{"every one, in order", base(`,"foo":1,"opportunity":{"id":"o","followers":[]},"bar":{"baz":1}`),
			"invalid event: foo: unknown field; opportunity.id: unknown field; opportunity.followers: unknown field; bar: unknown field"},
		{"not descended into", base(`,"foo":{"id":1,"id":2}`), "invalid event: foo: unknown field"},
		{"empty key", base(`,"":1`), `invalid event: "": unknown field`},
		{"key with a dot", strings.Replace(base(``), `"tag":"VIP"`, `"tag":"VIP","a.b":1`, 1), `invalid event: data."a.b": unknown field`},
		{"key with a quote", base(`,"a\"b":1`), `invalid event: "a\"b": unknown field`},
	})
}

// TestDecodeErrorsUnchanged: the other decoding errors read as before.
func TestDecodeErrorsUnchanged(t *testing.T) {
	t.Parallel()
	checkDecode(t, []decodeCase{
		{"wrong type", `{"id":5}`, "invalid event: id: expected string, got JSON number"},
		{"wrong type in data", `{"data":{"days":"x"}}`, "invalid event: data.days: expected int, got JSON string"},
		{"wrong type in opportunity", `{"opportunity":{"value":"x"}}`, "invalid event: opportunity.value: expected float64, got JSON string"},
		{"not an object", `[1]`, "invalid event: event: expected event.Event, got JSON array"},
		{"truncated", `{"id":"e1","foo":`, "invalid event: not a JSON object: unexpected EOF"},
		{"after the object", base(``) + ` {}`, "invalid event: unexpected data after the JSON object"},
		{"missing fields", `{"id":"e1"}`, "invalid event: account_id: required; type: required"},
	})
}

// TestDecodeIDLengthInCharacters: an id's limit counts characters, not
// bytes (150 "é" were refused as 300 characters).
func TestDecodeIDLengthInCharacters(t *testing.T) {
	t.Parallel()
	id := func(s string, n int) string {
		return strings.Replace(base(``), `"e1"`, `"`+strings.Repeat(s, n)+`"`, 1)
	}
	checkDecode(t, []decodeCase{
		{"150 é", id("é", 150), ""},
		{"200 é", id("é", event.MaxIDLength), ""},
		{"200 four-byte characters", id("𝄞", event.MaxIDLength), ""},
		{"200 ascii", id("a", event.MaxIDLength), ""},
		{"201 é", id("é", event.MaxIDLength+1), "invalid event: id: 201 characters, at most 200 allowed"},
		{"201 ascii", id("a", event.MaxIDLength+1), "invalid event: id: 201 characters, at most 200 allowed"},
		{"escaped", id(`\u00e9`, event.MaxIDLength+1), "invalid event: id: 201 characters, at most 200 allowed"},
	})
}

// TestStaleEventDataIsOptional: SPEC §3 marks no opportunity.stale data
// field required (the scanner fills them; a producer need not).
func TestStaleEventDataIsOptional(t *testing.T) {
	ev, err := event.Decode([]byte(`{"id":"s1","type":"opportunity.stale","account_id":"acme","opportunity_id":"opp_1","occurred_at":"2026-11-01T00:00:00Z"}`), time.Now())
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if ev.Data.Days != 0 {
		t.Errorf("days = %d, want 0", ev.Data.Days)
	}
	if _, err := event.Decode([]byte(`{"id":"s2","type":"opportunity.stale","account_id":"acme","opportunity_id":"opp_1","data":{"days":-1}}`), time.Now()); err == nil {
		t.Error("days -1 accepted")
	}
}

// TestBadTimeNamesItsField: a time that is not RFC 3339 is reported with
// its field, like every other problem.
func TestBadTimeNamesItsField(t *testing.T) {
	head := `{"id":"e1","type":"opportunity.created","account_id":"a","opportunity_id":"o",`
	for body, want := range map[string]string{
		`"occurred_at":"yesterday"}`:                              `occurred_at: "yesterday" is not an RFC 3339 time`,
		`"opportunity":{"created_at":"2026-13-01T00:00:00Z"}}`:    `opportunity.created_at: "2026-13-01T00:00:00Z" is not an RFC 3339 time`,
		`"opportunity":{"last_owner_activity_at":"x","value":1}}`: `opportunity.last_owner_activity_at: "x" is not an RFC 3339 time`,
	} {
		_, err := event.Decode([]byte(head+body), time.Now())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}
