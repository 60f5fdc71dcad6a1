package event_test

import (
	"bufio"
	"errors"
	"os"
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
