package event_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
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
	f.Add([]byte(`{"ID":"e1","type":"opportunity.activity","account_id":"acme","opportunity_id":"o","data":{"Tag":"x"}}`))
	f.Add([]byte(`{"id":"e1","id":"e2","type":"opportunity.activity","account_id":"acme","opportunity_id":"o"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := event.Decode(b, time.Time{})
		if err != nil {
			if !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			if strings.Contains(err.Error(), "keys could not be read") {
				t.Fatalf("%q: encoding/json took JSON whose keys were not checked: %v", b, err)
			}
			return
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("decoded event does not validate: %v", err)
		}
		if key := unknownKey(b); key != "" {
			t.Fatalf("%q decoded with the key %s, not a field of SPEC §3", b, key)
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

// FuzzDecodeFast: whatever decodeFast takes, decodeSlow (encoding/json
// behind a check of the keys) decodes to the same event.
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
		`{"Id":"e"}`,
		`{"data":{"tag":"a","tag":"b"}}`,
		`{"data":{"tag":"a","Tag":"b"}}`,
		`{"opportunity":{"id":"o","followers":[]}}`,
		`{"contact":{"email":"a","email":"b"}}`,
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
		if err := event.DecodeSlow(b, &slow); err != nil {
			t.Fatalf("decodeFast took %q, decodeSlow refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", b, fast, slow)
		}
	})
}

// specFields are the keys of an event and of its objects, as SPEC §3 (and
// §1 for the snapshots) names them.
var specFields = map[string][]string{
	"":            {"id", "type", "account_id", "occurred_at", "opportunity_id", "contact_id", "actor_id", "data", "opportunity", "contact"},
	"data":        {"to_stage", "from_stage", "pipeline", "to_status", "from_status", "tag", "to_owner_id", "from_owner_id", "days", "days_inactive", "since"},
	"opportunity": {"name", "pipeline", "stage", "status", "value", "owner_id", "contact_id", "tags", "created_at", "updated_at", "last_owner_activity_at"},
	"contact":     {"name", "email", "owner_id", "tags", "created_at", "updated_at"},
}

// unknownKey returns the first key of b, an event Decode took, that is not
// exactly a field of specFields ("data.x" inside data), or "".
func unknownKey(b []byte) string {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return "(not an object: " + err.Error() + ")"
	}
	for key, raw := range top {
		if !slices.Contains(specFields[""], key) {
			return key
		}
		var sub map[string]json.RawMessage
		if key == "data" || key == "opportunity" || key == "contact" {
			if err := json.Unmarshal(raw, &sub); err != nil {
				return key + " (not an object: " + err.Error() + ")"
			}
		}
		for k := range sub {
			if !slices.Contains(specFields[key], k) {
				return key + "." + k
			}
		}
	}
	return ""
}
