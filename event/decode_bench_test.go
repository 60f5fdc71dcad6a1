package event_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
)

var benchEvent = []byte(`{"id":"ev-000123","type":"opportunity.created","account_id":"acct-17","occurred_at":"2026-11-01T09:00:00Z",` +
	`"opportunity_id":"opp-17-42","actor_id":"u-17-3","opportunity":{"name":"Deal 42","pipeline":"Sales","stage":"New",` +
	`"status":"open","value":18250,"owner_id":"u-17-3","contact_id":"c-17-9","tags":["inbound"],"created_at":"2026-11-01T09:00:00Z"}}`)

// BenchmarkDecode compares Decode (its fast path takes this event) with
// encoding/json alone.
func BenchmarkDecode(b *testing.B) {
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := event.Decode(benchEvent, time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ev event.Event
			dec := json.NewDecoder(bytes.NewReader(benchEvent))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
