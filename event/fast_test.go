package event

import (
	"reflect"
	"testing"
	"time"
)

// sampleEvent is a typical event of about 340 bytes.
var sampleEvent = []byte(`{"id":"evt-000123-7f3a9c2e","type":"opportunity.stage_changed","account_id":"acct-42","occurred_at":"2026-11-20T10:15:30.123Z","opportunity_id":"opp-000981","actor_id":"u-42-7","data":{"from_stage":"Proposal","to_stage":"Contract Sent","pipeline":"sales"},"opportunity":{"name":"Acme renewal","value":25000,"owner_id":"u-42-0","tags":["Technical Evaluation","Q4"]}}`)

// BenchmarkDecode compares the fast path with encoding/json on one event.
func BenchmarkDecode(b *testing.B) {
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(sampleEvent)))
		for b.Loop() {
			var ev Event
			if !decodeFast(sampleEvent, &ev) {
				b.Fatal("the fast path gave up")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(sampleEvent)))
		for b.Loop() {
			var ev Event
			if err := decodeJSON(sampleEvent, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzDecodeFast: whenever the fast path decodes an input, encoding/json
// decodes it too, to the same event.
func FuzzDecodeFast(f *testing.F) {
	f.Add(sampleEvent)
	f.Add([]byte(`{"id":"e1","type":"contact.tag_applied","account_id":"a","contact_id":"c","data":{"tag":"VIP","days":3,"since":"2026-01-01T00:00:00+02:00"},"contact":{"email":"A@b.test","tags":[]}}`))
	f.Add([]byte(`{"id":"e1","ID":"e2"}`))
	f.Add([]byte(`{"opportunity":{"value":-0.5e-3,"created_at":"2026-11-20T10:15:30Z"}} `))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Event
		if !decodeFast(b, &fast) {
			return
		}
		var std Event
		if err := decodeJSON(b, &std); err != nil {
			t.Fatalf("the fast path decoded %q, encoding/json says %v", b, err)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q: fast path %+v, encoding/json %+v", b, fast, std)
		}
	})
}

// The fast path takes the usual shapes and leaves the rest to
// encoding/json.
func TestDecodeFastShapes(t *testing.T) {
	for _, c := range []struct {
		in   string
		fast bool
	}{
		{string(sampleEvent), true},
		{`  {"id":"e","type":"opportunity.created","account_id":"a","opportunity_id":"o"}  `, true},
		{`{"id":"e","tags":[]}`, false},            // unknown key at the top
		{`{"id":"e","id":"f"}`, false},             // repeated key
		{`{"ID":"e"}`, false},                      // encoding/json matches keys without case
		{`{"id":"\u0065"}`, false},                 // escape
		{`{"id":null}`, false},                     // null
		{`{"data":{"days":1.5}}`, false},           // not an int
		{`{"opportunity":{"value":1e400}}`, false}, // out of range
		{`{"occurred_at":"yesterday"}`, false},     // not RFC 3339
		{`{"id":"e"} {}`, false},                   // data after the object
		{"{\"id\":\"caf\xc3\xa9\"}", true},         // UTF-8
		{"{\"id\":\"caf\xc3\"}", false},            // not UTF-8
	} {
		var ev Event
		if got := decodeFast([]byte(c.in), &ev); got != c.fast {
			t.Errorf("decodeFast(%s) = %v, want %v", c.in, got, c.fast)
		}
	}
	var ev Event
	if !decodeFast(sampleEvent, &ev) || ev.Data.ToStage != "Contract Sent" || *ev.Opportunity.Value != 25000 ||
		!ev.OccurredAt.Equal(time.Date(2026, 11, 20, 10, 15, 30, 123e6, time.UTC)) || len(ev.Opportunity.Tags) != 2 {
		t.Errorf("sample decoded as %+v", ev)
	}
}
