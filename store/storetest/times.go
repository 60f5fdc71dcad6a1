package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func timeCases() []testCase {
	return []testCase{
		{"MillisecondsAndZonesThroughCommit", testTimesThroughCommit},
		{"MillisecondsAndZonesThroughLoad", testTimesThroughLoad},
	}
}

// Times a backend must keep exactly: milliseconds, in zones other than UTC.
var (
	plus2      = time.FixedZone("UTC+2", 2*3600)
	minus5     = time.FixedZone("UTC-5", -5*3600)
	plus530    = time.FixedZone("UTC+5:30", 5*3600+1800)
	msCreated  = time.Date(2026, 11, 5, 10, 11, 12, 345e6, plus2)
	msUpdated  = time.Date(2026, 11, 5, 23, 59, 59, 999e6, time.UTC)
	msActivity = time.Date(2026, 11, 5, 7, 30, 0, 1e6, minus5)
	msHistory  = time.Date(2026, 11, 6, 0, 0, 0, 123e6, plus530)
)

func testTimesThroughCommit(t *testing.T, s store.Store) {
	loadFixture(t, s)
	o := newOpportunity(acme, "opp_ms", "u_rep", "c_1")
	o.CreatedAt, o.UpdatedAt, o.LastOwnerActivityAt = msCreated, msUpdated, msActivity
	c := newContact(acme, "c_ms", "u_rep")
	c.CreatedAt, c.UpdatedAt = msCreated, msUpdated
	e := entry(acme, record.KindOpportunity, "opp_ms", "e1", "u_rep", record.Added)
	e.At = msHistory
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: msUpdated,
		Opportunities: []record.Opportunity{o}, Contacts: []record.Contact{c}, History: []record.HistoryEntry{e}})

	got := getOpp(t, s, acme, "opp_ms")
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"opportunity created_at", got.CreatedAt, msCreated},
		{"opportunity updated_at", got.UpdatedAt, msUpdated},
		{"opportunity last_owner_activity_at", got.LastOwnerActivityAt, msActivity},
		{"contact created_at", getContact(t, s, acme, "c_ms").CreatedAt, msCreated},
		{"contact updated_at", getContact(t, s, acme, "c_ms").UpdatedAt, msUpdated},
	} {
		if !c.got.Equal(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if h := getHistory(t, s, acme, record.KindOpportunity, "opp_ms"); len(h) != 1 || !h[0].At.Equal(msHistory) {
		t.Errorf("history of opp_ms = %+v, want one entry at %v", h, msHistory)
	}
	// The stale index compares instants to the millisecond, cutoff included.
	if ids := staleIDs(t, s, msActivity, 0); !slices.Contains(ids, "acme/opp_ms") {
		t.Errorf("StaleCandidates at exactly its last_owner_activity_at = %v, want acme/opp_ms among them", ids)
	}
	if ids := staleIDs(t, s, msActivity.Add(-time.Millisecond), 0); slices.Contains(ids, "acme/opp_ms") {
		t.Errorf("StaleCandidates 1ms before its last_owner_activity_at = %v, want acme/opp_ms not among them", ids)
	}
}

func testTimesThroughLoad(t *testing.T, s store.Store) {
	dataset := func() *record.Dataset {
		d := fixture(t)
		for i := range d.Opportunities {
			o := &d.Opportunities[i]
			o.CreatedAt, o.UpdatedAt, o.LastOwnerActivityAt = msCreated, msUpdated, msActivity.Add(time.Duration(i)*time.Millisecond)
		}
		for i := range d.Contacts {
			c := &d.Contacts[i]
			c.CreatedAt, c.UpdatedAt = msCreated.Add(time.Duration(i)*time.Millisecond), msUpdated
		}
		return d
	}
	load(t, s, dataset())
	got, err := s.Export(t.Context())
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	d := dataset()
	d.Sort()
	if g, w := normDataset(got), normDataset(d); !reflect.DeepEqual(g.Opportunities, w.Opportunities) || !reflect.DeepEqual(g.Contacts, w.Contacts) {
		t.Errorf("Export after loading millisecond times:\n got %+v %+v\nwant %+v %+v", g.Opportunities, g.Contacts, w.Opportunities, w.Contacts)
	}
}
