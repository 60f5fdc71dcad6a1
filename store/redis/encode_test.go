package redis

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
)

// FuzzRecordJSON: the appenders write JSON that json.Unmarshal reads back
// as the record, and whatever decodeOpportunityJSON and decodeContactJSON
// take, json.Unmarshal decodes to the same record.
func FuzzRecordJSON(f *testing.F) {
	f.Add("opp_1", "Globex \"renewal\"\n", "u_rep", 18000.5, "vip", int64(1798707600), 3)
	f.Add("", "é\x00\u2028<&>", "", -1e-7, "", int64(-62135596800), 0)
	f.Add("o", "\xff", "u", 1e21, "a,b", int64(253402300799), 11)
	f.Fuzz(func(t *testing.T, id, name, owner string, value float64, tag string, unix int64, followers int) {
		at := time.Unix(unix, 0).In(time.FixedZone("", 3600))
		o := record.Opportunity{
			ID: id, AccountID: "acme", Name: name, Pipeline: "Sales", Stage: name, Status: record.StatusOpen, Value: value,
			OwnerID: owner, ContactID: tag, CreatedAt: at, UpdatedAt: at.UTC(), LastOwnerActivityAt: at.Add(time.Nanosecond),
		}
		if tag != "" {
			o.Tags = []string{tag, name}
		} else if followers%2 == 0 {
			o.Tags = []string{}
		}
		for i := range followers % 12 {
			o.Followers = append(o.Followers, owner+string(rune('a'+i)))
		}
		c := record.Contact{ID: id, AccountID: "acme", Name: name, Email: tag, OwnerID: owner, Tags: o.Tags, Followers: o.Followers, CreatedAt: at, UpdatedAt: at}
		h := record.HistoryEntry{AccountID: "acme", Kind: record.KindOpportunity, RecordID: id, At: at, EventID: tag, WorkflowID: name,
			Step: owner, UserID: owner, Outcome: record.Added, Detail: name}

		ob, ok := appendOpportunityJSON(nil, &o)
		if _, err := json.Marshal(&o); (err == nil) != ok {
			t.Fatalf("appendOpportunityJSON ok %v, json.Marshal error %v", ok, err)
		}
		if ok {
			checkOpp(t, string(ob))
			var fromOurs, fromStd record.Opportunity
			std, _ := json.Marshal(&o)
			_ = json.Unmarshal(std, &fromStd)
			if err := json.Unmarshal(ob, &fromOurs); err != nil || !reflect.DeepEqual(fromOurs, fromStd) {
				t.Fatalf("%s reads back as %+v (%v), json.Marshal's as %+v", ob, fromOurs, err, fromStd)
			}
		}
		cb, ok := appendContactJSON(nil, &c)
		if ok {
			checkContact(t, string(cb))
			var fromOurs, fromStd record.Contact
			std, _ := json.Marshal(&c)
			_ = json.Unmarshal(std, &fromStd)
			if err := json.Unmarshal(cb, &fromOurs); err != nil || !reflect.DeepEqual(fromOurs, fromStd) {
				t.Fatalf("%s reads back as %+v (%v), json.Marshal's as %+v", cb, fromOurs, err, fromStd)
			}
		}
		hb, ok := appendHistoryJSON(nil, &h)
		if ok {
			var got record.HistoryEntry
			if err := json.Unmarshal(hb, &got); err != nil {
				t.Fatalf("history entry %s: %v", hb, err)
			}
			want := h
			var wantJSON record.HistoryEntry
			b, _ := json.Marshal(&want)
			_ = json.Unmarshal(b, &wantJSON)
			if !reflect.DeepEqual(got, wantJSON) {
				t.Fatalf("history entry %s:\ngot  %+v\nwant %+v", hb, got, wantJSON)
			}
		}
		// Any text: what the fast decoders take, encoding/json reads alike.
		checkOpp(t, name)
		checkContact(t, name)
	})
}

// checkOpp checks that decodeOpportunityJSON, when it takes s, agrees with
// json.Unmarshal; s written by appendOpportunityJSON it must take.
func checkOpp(t *testing.T, s string) {
	t.Helper()
	var fast, slow record.Opportunity
	ok := decodeOpportunityJSON(s, &fast)
	if !ok {
		return
	}
	if err := json.Unmarshal([]byte(s), &slow); err != nil {
		t.Fatalf("decodeOpportunityJSON took %q, json.Unmarshal refuses it: %v", s, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q:\nfast %+v\nslow %+v", s, fast, slow)
	}
}

func checkContact(t *testing.T, s string) {
	t.Helper()
	var fast, slow record.Contact
	if !decodeContactJSON(s, &fast) {
		return
	}
	if err := json.Unmarshal([]byte(s), &slow); err != nil {
		t.Fatalf("decodeContactJSON took %q, json.Unmarshal refuses it: %v", s, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q:\nfast %+v\nslow %+v", s, fast, slow)
	}
}

// TestAppendersMatchEncodingJSON: a record written by the appenders reads
// back as the record json.Marshal's JSON reads back as, and the fast
// decoders take it.
func TestAppendersMatchEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 1, 9, 0, 0, 123456789, time.FixedZone("", -5*3600))
	o := record.Opportunity{ID: "o", AccountID: "a", Name: "N \"q\" \\ é \x01", Value: 18000.25, Tags: []string{}, Followers: []string{"u1", "u2"},
		CreatedAt: at, UpdatedAt: at, LastOwnerActivityAt: at}
	b, ok := appendOpportunityJSON(nil, &o)
	if !ok {
		t.Fatal("appendOpportunityJSON declined")
	}
	std, _ := json.Marshal(&o)
	var fromStd, fromOurs, fast record.Opportunity
	_ = json.Unmarshal(std, &fromStd)
	if err := json.Unmarshal(b, &fromOurs); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if !reflect.DeepEqual(fromStd, fromOurs) {
		t.Errorf("appendOpportunityJSON:\n%s\nreads back %+v, json.Marshal's %+v", b, fromOurs, fromStd)
	}
	// The name has escapes: the fast decoder gives up; one without does not.
	o.Name = "plain"
	b, _ = appendOpportunityJSON(nil, &o)
	if !decodeOpportunityJSON(string(b), &fast) {
		t.Errorf("decodeOpportunityJSON declined %s", b)
	}
}
