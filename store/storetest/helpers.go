package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// The suite compares records after normalizing what backends may represent
// differently: nil and empty slices are equal, and times are compared by
// instant (as time.Time.Equal does), whatever their Location.

func normTime(t time.Time) time.Time { return t.Round(0).UTC() }

func normStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func normOpp(o record.Opportunity) record.Opportunity {
	o.Tags, o.Followers = normStrings(o.Tags), normStrings(o.Followers)
	o.CreatedAt, o.UpdatedAt = normTime(o.CreatedAt), normTime(o.UpdatedAt)
	o.LastOwnerActivityAt = normTime(o.LastOwnerActivityAt)
	return o
}

func normContact(c record.Contact) record.Contact {
	c.Tags, c.Followers = normStrings(c.Tags), normStrings(c.Followers)
	c.CreatedAt, c.UpdatedAt = normTime(c.CreatedAt), normTime(c.UpdatedAt)
	return c
}

func normEntry(e record.HistoryEntry) record.HistoryEntry {
	e.At = normTime(e.At)
	return e
}

func normDataset(d *record.Dataset) record.Dataset {
	var n record.Dataset
	n.Accounts = append(n.Accounts, d.Accounts...)
	n.Users = append(n.Users, d.Users...)
	for _, o := range d.Opportunities {
		n.Opportunities = append(n.Opportunities, normOpp(o))
	}
	for _, c := range d.Contacts {
		n.Contacts = append(n.Contacts, normContact(c))
	}
	return n
}

// wantOpp fails the test unless got equals want, Version included.
func wantOpp(t *testing.T, what string, got, want record.Opportunity) {
	t.Helper()
	if g, w := normOpp(got), normOpp(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

// wantContact fails the test unless got equals want, Version included.
func wantContact(t *testing.T, what string, got, want record.Contact) {
	t.Helper()
	if g, w := normContact(got), normContact(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

// wantErr fails the test unless errors.Is(err, want); want nil means no
// error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func getOpp(t *testing.T, s store.Store, account, id string) record.Opportunity {
	t.Helper()
	o, err := s.Opportunity(t.Context(), account, id)
	if err != nil {
		t.Fatalf("Opportunity(%s, %s): %v", account, id, err)
	}
	return o
}

func getContact(t *testing.T, s store.Store, account, id string) record.Contact {
	t.Helper()
	c, err := s.Contact(t.Context(), account, id)
	if err != nil {
		t.Fatalf("Contact(%s, %s): %v", account, id, err)
	}
	return c
}

func getHistory(t *testing.T, s store.Store, account string, kind record.Kind, id string) []record.HistoryEntry {
	t.Helper()
	h, err := s.History(t.Context(), account, kind, id)
	if err != nil {
		t.Fatalf("History(%s, %s, %s): %v", account, kind, id, err)
	}
	return h
}

func processed(t *testing.T, s store.Store, account, eventID string) bool {
	t.Helper()
	ok, err := s.Processed(t.Context(), account, eventID)
	if err != nil {
		t.Fatalf("Processed(%s, %s): %v", account, eventID, err)
	}
	return ok
}

func commit(t *testing.T, s store.Store, cs *store.Changeset) {
	t.Helper()
	if err := s.Commit(t.Context(), cs); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// update commits o (read at its Version) alone, under event eventID, and
// returns it as stored.
func update(t *testing.T, s store.Store, o record.Opportunity, eventID string) record.Opportunity {
	t.Helper()
	commit(t, s, &store.Changeset{AccountID: o.AccountID, EventID: eventID, ProcessedAt: at(9), Opportunities: []record.Opportunity{o}})
	return getOpp(t, s, o.AccountID, o.ID)
}

// wantHistory fails the test unless got holds the entries of want in order,
// field for field, with positive Seqs that increase.
func wantHistory(t *testing.T, what string, got, want []record.HistoryEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d history entries, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
		return
	}
	for i := range got {
		g, w := normEntry(got[i]), normEntry(want[i])
		w.Seq = g.Seq
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: entry %d:\n got %+v\nwant %+v", what, i, g, w)
		}
		if got[i].Seq <= 0 || (i > 0 && got[i].Seq <= got[i-1].Seq) {
			t.Errorf("%s: entry %d has Seq %d after %d; want positive, increasing", what, i, got[i].Seq, seqBefore(got, i))
		}
	}
}

func seqBefore(h []record.HistoryEntry, i int) int64 {
	if i == 0 {
		return 0
	}
	return h[i-1].Seq
}

// staleIDs returns "account/id" of each stale candidate at cutoff.
func staleIDs(t *testing.T, s store.Store, cutoff time.Time, limit int) []string {
	t.Helper()
	os, err := s.StaleCandidates(t.Context(), cutoff, limit)
	if err != nil {
		t.Fatalf("StaleCandidates(%v, %d): %v", cutoff, limit, err)
	}
	ids := make([]string, 0, len(os))
	for _, o := range os {
		ids = append(ids, o.AccountID+"/"+o.ID)
	}
	return ids
}

// recordRef names a record for a snapshot.
type recordRef struct {
	kind        record.Kind
	account, id string
}

func (r recordRef) String() string { return fmt.Sprintf("%s %s/%s", r.kind, r.account, r.id) }

// snapshot is everything a refused commit must leave as it was: the
// exported data, versions and history of every record exported or named by
// the changeset, the ledger entry of its event and the stale index.
type snapshot struct {
	data      record.Dataset
	versions  map[recordRef]int64
	history   map[recordRef][]record.HistoryEntry
	processed bool
	stale     []string
}

// takeSnapshot records the state of s that cs could change.
func takeSnapshot(t *testing.T, s store.Store, cs *store.Changeset) snapshot {
	t.Helper()
	ctx := t.Context()
	d, err := s.Export(ctx)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	refs := map[recordRef]bool{}
	for _, o := range d.Opportunities {
		refs[recordRef{record.KindOpportunity, o.AccountID, o.ID}] = true
	}
	for _, c := range d.Contacts {
		refs[recordRef{record.KindContact, c.AccountID, c.ID}] = true
	}
	for _, o := range cs.Opportunities {
		refs[recordRef{record.KindOpportunity, o.AccountID, o.ID}] = true
	}
	for _, c := range cs.Contacts {
		refs[recordRef{record.KindContact, c.AccountID, c.ID}] = true
	}
	for _, r := range cs.Reads {
		refs[recordRef{r.Kind, r.AccountID, r.ID}] = true
	}
	for _, h := range cs.History {
		refs[recordRef{h.Kind, h.AccountID, h.RecordID}] = true
	}
	snap := snapshot{
		data:     normDataset(d),
		versions: map[recordRef]int64{},
		history:  map[recordRef][]record.HistoryEntry{},
		stale:    staleIDs(t, s, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0),
	}
	for r := range refs {
		var v int64
		var err error
		switch r.kind {
		case record.KindOpportunity:
			var o record.Opportunity
			o, err = s.Opportunity(ctx, r.account, r.id)
			v = o.Version
		case record.KindContact:
			var c record.Contact
			c, err = s.Contact(ctx, r.account, r.id)
			v = c.Version
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("reading %v: %v", r, err)
		}
		snap.versions[r] = v
		// History of a record that was never stored may be ErrNotFound or
		// empty: the interface does not say.
		entries, err := s.History(ctx, r.account, r.kind, r.id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("History(%v): %v", r, err)
		}
		var h []record.HistoryEntry
		for _, e := range entries {
			h = append(h, normEntry(e))
		}
		snap.history[r] = h
	}
	if cs.EventID != "" {
		snap.processed = processed(t, s, cs.AccountID, cs.EventID)
	}
	return snap
}

// diff describes how b differs from a, or returns "".
func (a snapshot) diff(b snapshot) string {
	var d []string
	if !reflect.DeepEqual(a.data, b.data) {
		d = append(d, fmt.Sprintf("exported data changed:\n before %+v\n after  %+v", a.data, b.data))
	}
	for r, v := range a.versions {
		if b.versions[r] != v {
			d = append(d, fmt.Sprintf("version of %v changed from %d to %d", r, v, b.versions[r]))
		}
	}
	for r, h := range a.history {
		if !reflect.DeepEqual(h, b.history[r]) {
			d = append(d, fmt.Sprintf("history of %v changed:\n before %+v\n after  %+v", r, h, b.history[r]))
		}
	}
	if a.processed != b.processed {
		d = append(d, fmt.Sprintf("ledger entry of the event changed from %v to %v", a.processed, b.processed))
	}
	if !slices.Equal(a.stale, b.stale) {
		d = append(d, fmt.Sprintf("stale candidates changed from %v to %v", a.stale, b.stale))
	}
	return strings.Join(d, "\n")
}

// wantRefused commits cs, expects an error matching want, and fails the test
// if the commit wrote anything.
func wantRefused(t *testing.T, s store.Store, cs *store.Changeset, want error) {
	t.Helper()
	before := takeSnapshot(t, s, cs)
	err := s.Commit(t.Context(), cs)
	if !errors.Is(err, want) {
		t.Errorf("Commit: got error %v, want %v", err, want)
	}
	if d := before.diff(takeSnapshot(t, s, cs)); d != "" {
		t.Errorf("Commit refused with %v wrote something:\n%s", err, d)
	}
}

// withFollowers returns followers as a new slice of n user ids taken from
// users.
func withFollowers(users []string, n int) []string {
	return slices.Clone(users[:n])
}
