package storetest

import (
	"testing"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func historyCases() []testCase {
	return []testCase{
		{"AppendsInOrder", testHistoryAppendsInOrder},
		{"FieldsRoundTrip", testHistoryFieldsRoundTrip},
		{"ScopedPerRecord", testHistoryScopedPerRecord},
		{"NoHistory", testNoHistory},
		{"WithoutWritingTheRecord", testHistoryWithoutWritingTheRecord},
	}
}

// Entries come back oldest first, within a changeset and across changesets,
// with Seqs that increase.
func testHistoryAppendsInOrder(t *testing.T, s store.Store) {
	loadFixture(t, s)
	var want []record.HistoryEntry
	for i, step := range []struct {
		eventID string
		users   []string
	}{
		{"e1", []string{"u_rep", "u_mgr", "u_lim"}},
		{"e2", []string{"u_anon"}},
		{"e3", []string{"u_gone", "u_rep"}},
	} {
		cs := &store.Changeset{AccountID: acme, EventID: step.eventID, ProcessedAt: at(9)}
		for j, u := range step.users {
			e := entry(acme, record.KindOpportunity, "opp_1", step.eventID, u, record.Added)
			e.At = at(10*i + j)
			cs.History = append(cs.History, e)
			want = append(want, e)
		}
		o := getOpp(t, s, acme, "opp_1")
		o.Stage = step.eventID
		cs.Opportunities = []record.Opportunity{o}
		commit(t, s, cs)
	}
	wantHistory(t, "history of opp_1", getHistory(t, s, acme, record.KindOpportunity, "opp_1"), want)
}

// Every field of an entry, Seq aside, comes back as it was committed.
func testHistoryFieldsRoundTrip(t *testing.T, s store.Store) {
	loadFixture(t, s)
	entries := []record.HistoryEntry{
		{
			AccountID: acme, Kind: record.KindOpportunity, RecordID: "opp_1", At: at(1),
			EventID: "e1", WorkflowID: "high-value-visibility", Step: "Loop in leadership",
			UserID: "u_mgr", Outcome: record.LimitReached, Detail: "10 followers already",
		},
		{
			AccountID: acme, Kind: record.KindOpportunity, RecordID: "opp_1", At: at(2),
			ActorID: "u_mgr", Step: "remove_followers", UserID: "u_lim", Outcome: record.Removed,
		},
		{
			AccountID: acme, Kind: record.KindOpportunity, RecordID: "opp_1", At: at(3),
			EventID: "e1", WorkflowID: "contract-sent", Step: "condition",
			Outcome: record.ConditionError, Detail: "cannot fetch value from <nil>: opportunity.value\n (1:13)",
		},
		{
			// Seq set by the caller is ignored: the store assigns it.
			Seq: 99, AccountID: acme, Kind: record.KindOpportunity, RecordID: "opp_1", At: at(4),
			EventID: "e1", WorkflowID: "ünïcode-✓", Step: "add_followers", UserID: "u_rep",
			Outcome: record.AlreadyFollowing, Detail: `quotes " and ' and \ backslash`,
		},
	}
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(9), History: entries})
	got := getHistory(t, s, acme, record.KindOpportunity, "opp_1")
	want := append([]record.HistoryEntry(nil), entries...)
	want[3].Seq = 0
	wantHistory(t, "history of opp_1", got, want)
}

// History belongs to one record: kind, account and id all count.
func testHistoryScopedPerRecord(t *testing.T, s store.Store) {
	loadFixture(t, s)
	// A contact and an opportunity with the same id.
	commit(t, s, &store.Changeset{AccountID: acme, Opportunities: []record.Opportunity{newOpportunity(acme, "x_1", "u_rep", "x_1")}, Contacts: []record.Contact{newContact(acme, "x_1", "u_rep")}})

	recs := []struct {
		account string
		kind    record.Kind
		id      string
	}{
		{acme, record.KindOpportunity, "opp_1"},
		{globex, record.KindOpportunity, "opp_1"},
		{acme, record.KindOpportunity, "opp_10"},
		{acme, record.KindOpportunity, "x_1"},
		{acme, record.KindContact, "x_1"},
		{acme, record.KindContact, "c_1"},
		{globex, record.KindContact, "c_1"},
	}
	want := make([][]record.HistoryEntry, len(recs))
	for round := range 2 {
		for i, r := range recs {
			eventID := "e" + string(rune('a'+round)) + string(rune('a'+i))
			e := entry(r.account, r.kind, r.id, eventID, "u_rep", record.Added)
			e.Detail = r.account + "/" + string(r.kind) + "/" + r.id
			e.At = at(round)
			want[i] = append(want[i], e)
			commit(t, s, &store.Changeset{AccountID: r.account, EventID: eventID, History: []record.HistoryEntry{e}})
		}
	}
	for i, r := range recs {
		wantHistory(t, r.account+"/"+string(r.kind)+"/"+r.id, getHistory(t, s, r.account, r.kind, r.id), want[i])
	}
}

// A stored record without history has none, and no error.
func testNoHistory(t *testing.T, s store.Store) {
	loadFixture(t, s)
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", History: []record.HistoryEntry{entry(acme, record.KindOpportunity, "opp_1", "e1", "u_rep", record.Added)}})
	for _, r := range []struct {
		kind record.Kind
		id   string
	}{{record.KindOpportunity, "opp_10"}, {record.KindContact, "c_1"}, {record.KindContact, "c_2"}} {
		if h := getHistory(t, s, acme, r.kind, r.id); len(h) != 0 {
			t.Errorf("History(%s %s) = %+v, want none", r.kind, r.id, h)
		}
	}
	if h := getHistory(t, s, globex, record.KindOpportunity, "opp_1"); len(h) != 0 {
		t.Errorf("History(globex opp_1) = %+v, want none (the entry is acme's)", h)
	}
}

// A refused follower action leaves the record as it was but still records
// history: a changeset may append history to a record it does not write.
func testHistoryWithoutWritingTheRecord(t *testing.T, s store.Store) {
	loadFixture(t, s)
	e := entry(acme, record.KindOpportunity, "opp_1", "e1", "u_gone", record.InactiveUser)
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(9), History: []record.HistoryEntry{e}})
	wantHistory(t, "history of opp_1", getHistory(t, s, acme, record.KindOpportunity, "opp_1"), []record.HistoryEntry{e})
	if v := getOpp(t, s, acme, "opp_1").Version; v != 1 {
		t.Errorf("opp_1 at version %d after a history-only commit, want 1", v)
	}
}
