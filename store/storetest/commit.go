package storetest

import (
	"testing"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func commitCases() []testCase {
	return []testCase{
		{"CreatesOpportunity", testCreatesOpportunity},
		{"CreatesContact", testCreatesContact},
		{"UpdatesOpportunity", testUpdatesOpportunity},
		{"UpdatesContact", testUpdatesContact},
		{"WritesSeveralRecords", testWritesSeveralRecords},
		{"StaleOpportunityVersionConflicts", testStaleOpportunityVersionConflicts},
		{"StaleContactVersionConflicts", testStaleContactVersionConflicts},
		{"NewRecordThatExistsConflicts", testNewRecordThatExistsConflicts},
		{"WrongVersionConflicts", testWrongVersionConflicts},
		{"ReadRefs", testReadRefs},
		{"AtomicWhenRefused", testAtomicWhenRefused},
		{"AlreadyProcessed", testAlreadyProcessed},
		{"LedgerIsPerAccount", testLedgerIsPerAccount},
		{"LedgerOnlyChangeset", testLedgerOnlyChangeset},
		{"ManualChangeHasNoLedgerEntry", testManualChangeHasNoLedgerEntry},
		{"FollowerLimit", testFollowerLimit},
		{"ErrorPrecedence", testErrorPrecedence},
	}
}

// A new record is committed with Version 0 and stored with Version 1.
func testCreatesOpportunity(t *testing.T, s store.Store) {
	loadFixture(t, s)
	o := newOpportunity(acme, "opp_new", "u_rep", "c_2")
	o.Followers = []string{"u_mgr", "u_rep"}
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(9), Opportunities: []record.Opportunity{o}})
	want := newOpportunity(acme, "opp_new", "u_rep", "c_2")
	want.Followers = []string{"u_mgr", "u_rep"}
	want.Version = 1
	wantOpp(t, "created opportunity", getOpp(t, s, acme, "opp_new"), want)
	wantByContact(t, s, acme, "c_2", "opp_3", "opp_new")
}

func testCreatesContact(t *testing.T, s store.Store) {
	loadFixture(t, s)
	c := newContact(acme, "c_new", "u_rep")
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(9), Contacts: []record.Contact{c}})
	want := newContact(acme, "c_new", "u_rep")
	want.Version = 1
	wantContact(t, "created contact", getContact(t, s, acme, "c_new"), want)
}

// Each commit that writes a record bumps its version by one, and every field
// is replaced.
func testUpdatesOpportunity(t *testing.T, s store.Store) {
	d := loadFixture(t, s)
	o := getOpp(t, s, acme, "opp_1")
	o.Name, o.Pipeline, o.Stage, o.Status = "Globex renewal (2y)", "Renewals", "Negotiation", record.StatusLost
	o.Value, o.OwnerID, o.ContactID = 19000.5, "u_mgr", "c_2"
	o.Tags = record.AddTag(o.Tags, "hot")
	rep := datasetUser(t, d, "u_rep")
	o.Followers, _ = record.AddFollower(o.Followers, acme, &rep)
	o.UpdatedAt, o.LastOwnerActivityAt = at(3), at(4)
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(9), Opportunities: []record.Opportunity{o}})
	want := o
	want.Tags = []string{"renewal", "q4", "hot"}
	want.Followers = []string{"u_mgr", "u_lim", "u_rep"}
	want.Version = 2
	wantOpp(t, "updated opportunity", getOpp(t, s, acme, "opp_1"), want)

	o = getOpp(t, s, acme, "opp_1")
	o.Followers, _ = record.RemoveFollower(o.Followers, "u_mgr")
	o.Tags = record.RemoveTag(o.Tags, "renewal")
	commit(t, s, &store.Changeset{AccountID: acme, Opportunities: []record.Opportunity{o}})
	want.Followers = []string{"u_lim", "u_rep"}
	want.Tags = []string{"q4", "hot"}
	want.Version = 3
	wantOpp(t, "opportunity updated twice", getOpp(t, s, acme, "opp_1"), want)
}

func testUpdatesContact(t *testing.T, s store.Store) {
	d := loadFixture(t, s)
	c := getContact(t, s, acme, "c_1")
	c.Name, c.Email, c.OwnerID = "Gil G.", "gil.g@globex.test", "u_mgr"
	c.Tags = record.RemoveTag(c.Tags, "vip")
	lim := datasetUser(t, d, "u_lim")
	c.Followers, _ = record.AddFollower(c.Followers, acme, &lim)
	c.UpdatedAt = at(7)
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(9), Contacts: []record.Contact{c}})
	want := c
	want.Tags = nil
	want.Followers = []string{"u_rep", "u_mgr", "u_lim"}
	want.Version = 2
	wantContact(t, "updated contact", getContact(t, s, acme, "c_1"), want)

	c = getContact(t, s, acme, "c_1")
	c.Name = "Gil Globex"
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e2", ProcessedAt: at(9), Contacts: []record.Contact{c}})
	want.Name, want.Version = "Gil Globex", 3
	wantContact(t, "contact updated twice", getContact(t, s, acme, "c_1"), want)
}

func testWritesSeveralRecords(t *testing.T, s store.Store) {
	loadFixture(t, s)
	o1 := getOpp(t, s, acme, "opp_1")
	o1.Stage = "Contract Sent"
	on := newOpportunity(acme, "opp_new", "u_mgr", "c_new")
	c1 := getContact(t, s, acme, "c_1")
	c1.Name = "Gil Globex Jr."
	cn := newContact(acme, "c_new", "u_mgr")
	h1 := entry(acme, record.KindOpportunity, "opp_1", "e1", "u_rep", record.AlreadyFollowing)
	h2 := entry(acme, record.KindContact, "c_new", "e1", "u_mgr", record.Added)
	commit(t, s, &store.Changeset{
		AccountID: acme, EventID: "e1", ProcessedAt: at(9),
		Opportunities: []record.Opportunity{o1, on},
		Contacts:      []record.Contact{cn, c1},
		History:       []record.HistoryEntry{h1, h2},
	})
	o1.Version, on.Version, c1.Version, cn.Version = 2, 1, 2, 1
	wantOpp(t, "opp_1", getOpp(t, s, acme, "opp_1"), o1)
	wantOpp(t, "opp_new", getOpp(t, s, acme, "opp_new"), on)
	wantContact(t, "c_1", getContact(t, s, acme, "c_1"), c1)
	wantContact(t, "c_new", getContact(t, s, acme, "c_new"), cn)
	wantHistory(t, "opp_1", getHistory(t, s, acme, record.KindOpportunity, "opp_1"), []record.HistoryEntry{h1})
	wantHistory(t, "c_new", getHistory(t, s, acme, record.KindContact, "c_new"), []record.HistoryEntry{h2})
	if !processed(t, s, acme, "e1") {
		t.Error("e1 is not in the ledger")
	}
	wantByContact(t, s, acme, "c_new", "opp_new")
}

// A write at a version that is no longer current is refused, and nothing
// of the changeset is written.
func testStaleOpportunityVersionConflicts(t *testing.T, s store.Store) {
	loadFixture(t, s)
	first := getOpp(t, s, acme, "opp_1")
	second := first
	first.Stage = "First"
	stored := update(t, s, first, "e1")

	second.Stage = "Second"
	second.Followers = []string{"u_rep"}
	wantRefused(t, s, &store.Changeset{
		AccountID: acme, EventID: "e2", ProcessedAt: at(9),
		Opportunities: []record.Opportunity{second},
		History:       []record.HistoryEntry{entry(acme, record.KindOpportunity, "opp_1", "e2", "u_rep", record.Added)},
	}, store.ErrConflict)
	wantOpp(t, "opp_1 after a stale write", getOpp(t, s, acme, "opp_1"), stored)
}

func testStaleContactVersionConflicts(t *testing.T, s store.Store) {
	loadFixture(t, s)
	first := getContact(t, s, acme, "c_1")
	second := first
	first.Name = "First"
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", Contacts: []record.Contact{first}})
	stored := getContact(t, s, acme, "c_1")

	second.Name = "Second"
	wantRefused(t, s, &store.Changeset{
		AccountID: acme, EventID: "e2", ProcessedAt: at(9),
		Contacts: []record.Contact{second},
		History:  []record.HistoryEntry{entry(acme, record.KindContact, "c_1", "e2", "u_lim", record.Removed)},
	}, store.ErrConflict)
	wantContact(t, "c_1 after a stale write", getContact(t, s, acme, "c_1"), stored)
}

// Two creators of the same record: the second finds it exists.
func testNewRecordThatExistsConflicts(t *testing.T, s store.Store) {
	loadFixture(t, s)
	o := newOpportunity(acme, "opp_1", "u_rep", "c_1")
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e1", Opportunities: []record.Opportunity{o}}, store.ErrConflict)
	c := newContact(acme, "c_1", "u_rep")
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e2", Contacts: []record.Contact{c}}, store.ErrConflict)

	o = newOpportunity(acme, "opp_new", "u_rep", "c_1")
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e3", Opportunities: []record.Opportunity{o}})
	o = newOpportunity(acme, "opp_new", "u_mgr", "c_2")
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e4", Opportunities: []record.Opportunity{o}}, store.ErrConflict)
}

// A version ahead of the stored one, or any version but 0 for a record that
// is not stored, conflicts too.
func testWrongVersionConflicts(t *testing.T, s store.Store) {
	loadFixture(t, s)
	o := getOpp(t, s, acme, "opp_1")
	o.Version = 2
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e1", Opportunities: []record.Opportunity{o}}, store.ErrConflict)
	c := getContact(t, s, acme, "c_1")
	c.Version = 5
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e2", Contacts: []record.Contact{c}}, store.ErrConflict)

	o = newOpportunity(acme, "opp_new", "u_rep", "c_1")
	o.Version = 1
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e3", Opportunities: []record.Opportunity{o}}, store.ErrConflict)
	c = newContact(acme, "c_new", "u_rep")
	c.Version = 1
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e4", Contacts: []record.Contact{c}}, store.ErrConflict)
	// globex/opp_1 is at version 1, acme/opp_2 is not in globex.
	o = getOpp(t, s, acme, "opp_2")
	o.AccountID = globex
	wantRefused(t, s, &store.Changeset{AccountID: globex, EventID: "e5", Opportunities: []record.Opportunity{o}}, store.ErrConflict)
}

// Reads refs must all be at the stored version (0: not stored) or the commit
// conflicts.
func testReadRefs(t *testing.T, s store.Store) {
	loadFixture(t, s)
	c := getContact(t, s, acme, "c_1")
	c.Name = "bumped"
	commit(t, s, &store.Changeset{AccountID: acme, Contacts: []record.Contact{c}}) // c_1 at 2
	o := getOpp(t, s, acme, "opp_2")
	update(t, s, o, "") // opp_2 at 2

	ref := func(kind record.Kind, id string, version int64) store.Ref {
		return store.Ref{Kind: kind, AccountID: acme, ID: id, Version: version}
	}
	opp, contact := record.KindOpportunity, record.KindContact
	for i, c := range []struct {
		name  string
		reads []store.Ref
		want  error
	}{
		{"current", []store.Ref{ref(contact, "c_1", 2), ref(opp, "opp_2", 2), ref(opp, "opp_1", 1)}, nil},
		{"missing at version 0", []store.Ref{ref(opp, "opp_404", 0), ref(contact, "c_404", 0), ref(contact, "opp_1", 0)}, nil},
		{"stale contact", []store.Ref{ref(contact, "c_1", 1)}, store.ErrConflict},
		{"stale opportunity", []store.Ref{ref(opp, "opp_2", 1)}, store.ErrConflict},
		{"version ahead", []store.Ref{ref(opp, "opp_2", 3)}, store.ErrConflict},
		{"version 0 of a stored opportunity", []store.Ref{ref(opp, "opp_1", 0)}, store.ErrConflict},
		{"version 0 of a stored contact", []store.Ref{ref(contact, "c_2", 0)}, store.ErrConflict},
		{"missing opportunity at version 1", []store.Ref{ref(opp, "opp_404", 1)}, store.ErrConflict},
		{"missing contact at version 1", []store.Ref{ref(contact, "opp_1", 1)}, store.ErrConflict},
		{"one stale among current", []store.Ref{ref(contact, "c_1", 2), ref(opp, "opp_1", 1), ref(opp, "opp_2", 1)}, store.ErrConflict},
	} {
		o := getOpp(t, s, acme, "opp_10")
		o.Stage = c.name
		eventID := "e" + string(rune('a'+i))
		cs := &store.Changeset{
			AccountID: acme, EventID: eventID, ProcessedAt: at(9), Reads: c.reads,
			Opportunities: []record.Opportunity{o},
			History:       []record.HistoryEntry{entry(acme, record.KindOpportunity, "opp_10", eventID, "u_lim", record.Added)},
		}
		if c.want != nil {
			t.Run(c.name, func(t *testing.T) { wantRefused(t, s, cs, c.want) })
			continue
		}
		before := o.Version
		wantErr(t, c.name, s.Commit(t.Context(), cs), nil)
		if v := getOpp(t, s, acme, "opp_10").Version; v != before+1 {
			t.Errorf("%s: opp_10 at version %d after commit, want %d", c.name, v, before+1)
		}
	}
}

// A refused changeset writes nothing, even when the record that fails comes
// after records that would pass.
func testAtomicWhenRefused(t *testing.T, s store.Store) {
	loadFixture(t, s)
	users := loadUsers(t, s, acme, "u_x", record.MaxFollowers+1)
	c := getContact(t, s, acme, "c_1")
	stale := c
	c.Name = "bumped"
	commit(t, s, &store.Changeset{AccountID: acme, Contacts: []record.Contact{c}})

	build := func(eventID string) *store.Changeset {
		o1 := getOpp(t, s, acme, "opp_1")
		o1.Stage = "Contract Sent"
		o1.Followers = withFollowers(users, 3)
		on := newOpportunity(acme, "opp_new", "u_rep", "c_1")
		cn := newContact(acme, "c_new", "u_rep")
		return &store.Changeset{
			AccountID: acme, EventID: eventID, ProcessedAt: at(9),
			Opportunities: []record.Opportunity{on, o1},
			Contacts:      []record.Contact{cn},
			History: []record.HistoryEntry{
				entry(acme, record.KindOpportunity, "opp_new", eventID, "u_rep", record.Added),
				entry(acme, record.KindOpportunity, "opp_1", eventID, users[0], record.Added),
			},
		}
	}
	t.Run("stale contact last", func(t *testing.T) {
		cs := build("e1")
		cs.Contacts = append(cs.Contacts, stale)
		wantRefused(t, s, cs, store.ErrConflict)
	})
	t.Run("stale read last", func(t *testing.T) {
		cs := build("e2")
		cs.Reads = []store.Ref{
			{Kind: record.KindOpportunity, AccountID: acme, ID: "opp_10", Version: 1},
			{Kind: record.KindContact, AccountID: acme, ID: "c_1", Version: 1},
		}
		wantRefused(t, s, cs, store.ErrConflict)
	})
	t.Run("follower limit last", func(t *testing.T) {
		cs := build("e3")
		o := getOpp(t, s, acme, "opp_10")
		o.Followers = withFollowers(users, record.MaxFollowers+1)
		cs.Opportunities = append(cs.Opportunities, o)
		wantRefused(t, s, cs, store.ErrFollowerLimit)
	})
	t.Run("passes", func(t *testing.T) {
		commit(t, s, build("e4"))
		if v := getOpp(t, s, acme, "opp_1").Version; v != 2 {
			t.Errorf("opp_1 at version %d, want 2", v)
		}
		if v := getOpp(t, s, acme, "opp_new").Version; v != 1 {
			t.Errorf("opp_new at version %d, want 1", v)
		}
	})
}

// A repeated event id is refused and writes nothing.
func testAlreadyProcessed(t *testing.T, s store.Store) {
	loadFixture(t, s)
	o := getOpp(t, s, acme, "opp_1")
	o.Stage = "First"
	update(t, s, o, "e1")
	if !processed(t, s, acme, "e1") {
		t.Fatal("e1 is not in the ledger after its commit")
	}
	o = getOpp(t, s, acme, "opp_10")
	o.Stage = "Again"
	wantRefused(t, s, &store.Changeset{
		AccountID: acme, EventID: "e1", ProcessedAt: at(10),
		Opportunities: []record.Opportunity{o},
		History:       []record.HistoryEntry{entry(acme, record.KindOpportunity, "opp_10", "e1", "u_rep", record.Added)},
	}, store.ErrAlreadyProcessed)
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(10)}, store.ErrAlreadyProcessed)
	if processed(t, s, acme, "e2") {
		t.Error("Processed(acme, e2) = true for an event never committed")
	}
}

func testLedgerIsPerAccount(t *testing.T, s store.Store) {
	loadFixture(t, s)
	o := getOpp(t, s, acme, "opp_1")
	o.Stage = "acme"
	update(t, s, o, "e1")
	if !processed(t, s, acme, "e1") || processed(t, s, globex, "e1") {
		t.Errorf("after committing e1 in acme: Processed(acme, e1) = %v, Processed(globex, e1) = %v; want true, false",
			processed(t, s, acme, "e1"), processed(t, s, globex, "e1"))
	}
	g := getOpp(t, s, globex, "opp_1")
	g.Stage = "globex"
	if err := s.Commit(t.Context(), &store.Changeset{AccountID: globex, EventID: "e1", Opportunities: []record.Opportunity{g}}); err != nil {
		t.Fatalf("committing e1 in globex after acme: %v", err)
	}
	if !processed(t, s, globex, "e1") {
		t.Error("Processed(globex, e1) = false after its commit")
	}
	wantRefused(t, s, &store.Changeset{AccountID: globex, EventID: "e1"}, store.ErrAlreadyProcessed)
}

// A changeset that writes nothing but its event id still marks the event
// processed: an event whose workflows changed nothing is done.
func testLedgerOnlyChangeset(t *testing.T, s store.Store) {
	loadFixture(t, s)
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(9)})
	if !processed(t, s, acme, "e1") {
		t.Error("a ledger-only changeset did not enter the ledger")
	}
	if v := getOpp(t, s, acme, "opp_1").Version; v != 1 {
		t.Errorf("opp_1 at version %d after a ledger-only commit, want 1", v)
	}
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(9)}, store.ErrAlreadyProcessed)
}

// A manual change has no event id: it enters no ledger and may repeat.
func testManualChangeHasNoLedgerEntry(t *testing.T, s store.Store) {
	loadFixture(t, s)
	for range 2 {
		o := getOpp(t, s, acme, "opp_1")
		o.Followers, _ = record.RemoveFollower(o.Followers, "u_lim")
		h := entry(acme, record.KindOpportunity, "opp_1", "", "u_lim", record.Removed)
		h.ActorID, h.WorkflowID = "u_mgr", ""
		commit(t, s, &store.Changeset{AccountID: acme, Opportunities: []record.Opportunity{o}, History: []record.HistoryEntry{h}})
	}
	if v := getOpp(t, s, acme, "opp_1").Version; v != 3 {
		t.Errorf("opp_1 at version %d after two manual changes, want 3", v)
	}
	if processed(t, s, acme, "") {
		t.Error(`Processed(acme, "") = true: a manual change entered the ledger`)
	}
	if h := getHistory(t, s, acme, record.KindOpportunity, "opp_1"); len(h) != 2 {
		t.Errorf("%d history entries after two manual changes, want 2", len(h))
	}
}

// A written record may have at most record.MaxFollowers followers.
func testFollowerLimit(t *testing.T, s store.Store) {
	loadFixture(t, s)
	users := loadUsers(t, s, acme, "u_f", record.MaxFollowers+1)
	over, full := withFollowers(users, record.MaxFollowers+1), withFollowers(users, record.MaxFollowers)

	o := getOpp(t, s, acme, "opp_1")
	o.Followers = over
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e1", Opportunities: []record.Opportunity{o}}, store.ErrFollowerLimit)
	c := getContact(t, s, acme, "c_1")
	c.Followers = over
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e2", Contacts: []record.Contact{c}}, store.ErrFollowerLimit)
	n := newOpportunity(acme, "opp_new", "u_rep", "c_1")
	n.Followers = over
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e3", Opportunities: []record.Opportunity{n}}, store.ErrFollowerLimit)
	nc := newContact(acme, "c_new", "u_rep")
	nc.Followers = over
	wantRefused(t, s, &store.Changeset{AccountID: acme, EventID: "e4", Contacts: []record.Contact{nc}}, store.ErrFollowerLimit)

	o = getOpp(t, s, acme, "opp_1")
	o.Followers = full
	c = getContact(t, s, acme, "c_1")
	c.Followers = withFollowers(users, record.MaxFollowers)
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e5", Opportunities: []record.Opportunity{o}, Contacts: []record.Contact{c}})
	if f := getOpp(t, s, acme, "opp_1").Followers; len(f) != record.MaxFollowers {
		t.Errorf("opp_1 has %d followers, want %d", len(f), record.MaxFollowers)
	}
	if f := getContact(t, s, acme, "c_1").Followers; len(f) != record.MaxFollowers {
		t.Errorf("c_1 has %d followers, want %d", len(f), record.MaxFollowers)
	}
}

// When a changeset breaks several rules, Commit reports the first in the
// order of the store.Store documentation: fence, ledger, versions, follower
// limit.
func testErrorPrecedence(t *testing.T, s store.Store) {
	loadFixture(t, s)
	users := loadUsers(t, s, acme, "u_x", record.MaxFollowers+1)
	o := getOpp(t, s, acme, "opp_10")
	commit(t, s, &store.Changeset{AccountID: acme, Fence: &store.Fence{Partition: 1, Epoch: 2}, EventID: "e1", Opportunities: []record.Opportunity{o}})
	o = getOpp(t, s, acme, "opp_1")
	stale := o
	update(t, s, o, "") // opp_1 at 2

	for _, c := range []struct {
		name                              string
		fenced, processed, conflict, over bool
		want                              error
	}{
		{"fenced first", true, true, true, true, store.ErrFenced},
		{"then already processed", false, true, true, true, store.ErrAlreadyProcessed},
		{"then conflict", false, false, true, true, store.ErrConflict},
		{"then follower limit", false, false, false, true, store.ErrFollowerLimit},
	} {
		t.Run(c.name, func(t *testing.T) {
			cs := &store.Changeset{AccountID: acme, Fence: &store.Fence{Partition: 1, Epoch: 2}, EventID: "e2", ProcessedAt: at(9)}
			if c.fenced {
				cs.Fence.Epoch = 1
			}
			if c.processed {
				cs.EventID = "e1"
			}
			w := getOpp(t, s, acme, "opp_1")
			if c.conflict {
				w = stale
			}
			if c.over {
				w.Followers = withFollowers(users, record.MaxFollowers+1)
			}
			cs.Opportunities = []record.Opportunity{w}
			wantRefused(t, s, cs, c.want)
		})
	}
}
