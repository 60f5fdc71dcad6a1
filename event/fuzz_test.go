package event_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
)

// FuzzDecode: any input decodes to a valid event that round-trips, or to an
// *InvalidError; never a panic.
func FuzzDecode(f *testing.F) {
	file, err := os.Open("../examples/events.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(append([]byte(nil), sc.Bytes()...))
	}
	file.Close()
	f.Add([]byte(`{"id":"","type":"x"}`))
	f.Add([]byte(`{"id":"a","type":"opportunity.stale","account_id":"a","opportunity_id":"o","data":{"days":-3}}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := event.Decode(b, time.Time{})
		if err != nil {
			if !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			return
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("decoded event does not validate: %v", err)
		}
		out, err := event.Encode(ev)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		again, err := event.Decode(out, time.Time{})
		if err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if again.ID != ev.ID || again.Type != ev.Type || !again.OccurredAt.Equal(ev.OccurredAt) {
			t.Fatalf("round trip changed the event: %+v vs %+v", ev, again)
		}
	})
}

// FuzzDecodeFast: whatever decodeFast takes, encoding/json decodes to the
// same event.
func FuzzDecodeFast(f *testing.F) {
	file, err := os.Open("../examples/events.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(append([]byte(nil), sc.Bytes()...))
	}
	file.Close()
	for _, s := range []string{
		`{"id":"e","type":"opportunity.created","account_id":"a","opportunity_id":"o","occurred_at":"2026-11-01T09:00:00.5+02:00",` +
			`"opportunity":{"name":"N é","value":-1.5e3,"tags":[],"created_at":"2026-11-01T09:00:00Z","owner_id":"u"}}`,
		`{"id":"e","type":"opportunity.stale","account_id":"a","opportunity_id":"o","data":{"days":30,"days_inactive":31,"since":"2026-10-01T00:00:00Z"}}`,
		`{"id":"e","type":"contact.updated","account_id":"a","contact_id":"c","contact":{"name":"x","email":"x@y","tags":["a","b"]}}`,
		` {"id" : "e" , "ID":"f"} `,
		`{"id":"e","id":"f"}`,
		`{"id":"e\u0041"}`,
		`{"data":{"days":1.0}}`,
		`{"data":{"days":01}}`,
		`{"opportunity":{"value":1e400}}`,
		`{"opportunity":null}`,
		`{"id":"e"} x`,
		`{"id":"e"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := event.Decode(b, time.Time{})
		evs, errs := event.DecodeString(string(b), time.Time{})
		if fmt.Sprint(err) != fmt.Sprint(errs) || !reflect.DeepEqual(ev, evs) {
			t.Fatalf("%q: Decode %+v, %v; DecodeString %+v, %v", b, ev, err, evs, errs)
		}
		var fast event.Event
		if !event.DecodeFast(b, &fast) {
			return
		}
		var slow event.Event
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&slow); err != nil {
			t.Fatalf("decodeFast took %q, encoding/json refuses it: %v", b, err)
		}
		if dec.More() {
			t.Fatalf("decodeFast took %q, which has data after the object", b)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", b, fast, slow)
		}
	})
}
