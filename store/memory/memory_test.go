package memory_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/memory"
	"github.com/followflow/followflow/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}

// A changeset that crosses accounts or writes a record twice is a bug of
// the caller: refused, with none of the store sentinels, and nothing written.
func TestCommitRefusesMalformedChangesets(t *testing.T) {
	ctx := t.Context()
	opp := func(account, id string) record.Opportunity {
		return record.Opportunity{ID: id, AccountID: account, Status: record.StatusOpen}
	}
	for _, c := range []struct {
		name string
		cs   store.Changeset
	}{
		{"opportunity of another account", store.Changeset{AccountID: "a", EventID: "e", Opportunities: []record.Opportunity{opp("b", "o1")}}},
		{"contact of another account", store.Changeset{AccountID: "a", EventID: "e", Contacts: []record.Contact{{ID: "c1", AccountID: "b"}}}},
		{"read of another account", store.Changeset{AccountID: "a", EventID: "e", Reads: []store.Ref{{Kind: record.KindContact, AccountID: "b", ID: "c1"}}}},
		{"history of another account", store.Changeset{AccountID: "a", EventID: "e", History: []record.HistoryEntry{{AccountID: "b", Kind: record.KindOpportunity, RecordID: "o1"}}}},
		{"no account", store.Changeset{EventID: "e", Opportunities: []record.Opportunity{opp("a", "o1")}}},
		{"opportunity twice", store.Changeset{AccountID: "a", EventID: "e", Opportunities: []record.Opportunity{opp("a", "o1"), opp("a", "o2"), opp("a", "o1")}}},
		{"contact twice", store.Changeset{AccountID: "a", EventID: "e", Contacts: []record.Contact{{ID: "c1", AccountID: "a"}, {ID: "c1", AccountID: "a"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := memory.New()
			err := s.Commit(ctx, &c.cs)
			if err == nil {
				t.Fatal("Commit accepted the changeset")
			}
			for _, sentinel := range []error{store.ErrNotFound, store.ErrConflict, store.ErrAlreadyProcessed, store.ErrFenced, store.ErrFollowerLimit} {
				if errors.Is(err, sentinel) {
					t.Errorf("Commit: %v, which is %v", err, sentinel)
				}
			}
			if ok, _ := s.Processed(ctx, "a", "e"); ok {
				t.Error("the refused changeset entered the ledger")
			}
			if _, err := s.Opportunity(ctx, "a", "o1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the refused changeset wrote o1: %v", err)
			}
		})
	}
}

// History is stored compactly; every field must come back, across chunk
// boundaries, for long strings, and for the zero time.
func TestHistoryRoundTrip(t *testing.T) {
	ctx := t.Context()
	s := memory.New()
	long := strings.Repeat("x", 100<<10) // longer than an arena chunk
	var want []record.HistoryEntry
	for i := range 1000 {
		e := record.HistoryEntry{
			AccountID: "a", Kind: record.KindOpportunity, RecordID: "o1",
			At:      time.Date(2026, 11, 1, 0, 0, i, i*1000, time.FixedZone("x", 3600)),
			EventID: fmt.Sprintf("e%d", i/3), WorkflowID: fmt.Sprintf("wf%d", i%7),
			ActorID: fmt.Sprintf("u%d", i%5), Step: "step", UserID: fmt.Sprintf("u%d", i%11),
			Outcome: record.Added, Detail: fmt.Sprintf("detail %d", i),
		}
		switch i {
		case 0:
			e.At = time.Time{}
		case 500:
			e.Detail = long
		case 501:
			e.EventID, e.WorkflowID, e.ActorID, e.Step, e.UserID, e.Outcome, e.Detail = "", "", "", "", "", "", ""
		}
		want = append(want, e)
		if err := s.Commit(ctx, &store.Changeset{AccountID: "a", History: []record.HistoryEntry{e}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.History(ctx, "a", record.KindOpportunity, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range got {
		w := want[i]
		w.Seq = int64(i + 1)
		if !got[i].At.Equal(w.At) || got[i].At.IsZero() != w.At.IsZero() {
			t.Errorf("entry %d at %v, want %v", i, got[i].At, w.At)
		}
		got[i].At, w.At = time.Time{}, time.Time{}
		if got[i] != w {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}
}

// A record's history may start before the record is stored (a changeset
// may write history for a record it does not write); the record keeps it
// once stored, and later entries follow it.
func TestHistoryFromBeforeTheRecordIsStored(t *testing.T) {
	ctx := t.Context()
	s := memory.New()
	entry := func(ev string) record.HistoryEntry {
		return record.HistoryEntry{AccountID: "a", Kind: record.KindOpportunity, RecordID: "o1", EventID: ev, UserID: "u1", Outcome: record.Added}
	}
	if err := s.Commit(ctx, &store.Changeset{AccountID: "a", EventID: "e1", History: []record.HistoryEntry{entry("e1")}}); err != nil {
		t.Fatal(err)
	}
	o := record.Opportunity{ID: "o1", AccountID: "a", Status: record.StatusOpen}
	if err := s.Commit(ctx, &store.Changeset{AccountID: "a", EventID: "e2", Opportunities: []record.Opportunity{o}, History: []record.HistoryEntry{entry("e2")}}); err != nil {
		t.Fatal(err)
	}
	o.Version = 1
	if err := s.Commit(ctx, &store.Changeset{AccountID: "a", EventID: "e3", Opportunities: []record.Opportunity{o}, History: []record.HistoryEntry{entry("e3")}}); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, "a", record.KindOpportunity, "o1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range h {
		got = append(got, fmt.Sprintf("%d:%s", e.Seq, e.EventID))
	}
	if want := "1:e1 2:e2 3:e3"; strings.Join(got, " ") != want {
		t.Errorf("history %q, want %q", strings.Join(got, " "), want)
	}
}
