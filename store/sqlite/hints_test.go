package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// TestUpdateIndexesWithAndWithoutHints: an update that moves the contact
// or the stale index's columns leaves both indexes right, whether the
// Store knows the version read (a hint) or not, and a hint of another
// handle's older version does not let a stale write through.
func TestUpdateIndexesWithAndWithoutHints(t *testing.T) {
	ctx := context.Background()
	a, path := setup(t)
	b := open(t, path)
	later := t0.Add(time.Hour)
	steps := []struct {
		name string
		via  *Store
		edit func(o *record.Opportunity)
	}{
		{"stage only", a, func(o *record.Opportunity) { o.Stage = "Demo" }},
		{"owner activity", a, func(o *record.Opportunity) { o.LastOwnerActivityAt = later }},
		{"contact", a, func(o *record.Opportunity) { o.ContactID = "c_2" }},
		{"closed", b, func(o *record.Opportunity) { o.Status = record.StatusWon }},
		{"reopened, other handle", a, func(o *record.Opportunity) { o.Status = record.StatusOpen }},
	}
	for i, st := range steps {
		o, err := st.via.Opportunity(ctx, "acme", "opp_1")
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			a.hints = hints{} // no hint: every statement is tried
		}
		st.edit(&o)
		if err := st.via.Commit(ctx, update("e-"+st.name, o, o.Stage)); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := st.via.Opportunity(ctx, "acme", "opp_1")
		if err != nil {
			t.Fatal(err)
		}
		byContact, err := a.OpportunitiesByContact(ctx, "acme", got.ContactID)
		if err != nil || len(byContact) != 1 || byContact[0].ID != "opp_1" {
			t.Errorf("%s: by contact %s: %v, %v", st.name, got.ContactID, byContact, err)
		}
		stale, err := a.StaleCandidates(ctx, later, 0)
		if err != nil {
			t.Fatal(err)
		}
		inStale := len(stale) == 1 && stale[0].ID == "opp_1" && stale[0].LastOwnerActivityAt.Equal(got.LastOwnerActivityAt)
		if want := got.Status == record.StatusOpen; inStale != want {
			t.Errorf("%s: stale candidates %v, want opp_1 listed: %v", st.name, stale, want)
		}
	}
	// a's hint is of the version a last wrote; b moves it on; a's write of
	// the version it read before is refused.
	o, err := a.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	moved := o
	moved.OwnerID = "u_mgr"
	if err := b.Commit(ctx, update("e-b", moved, "Moved")); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, update("e-a", o, "Stale")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a's write of an old version: %v, want ErrConflict", err)
	}
}
