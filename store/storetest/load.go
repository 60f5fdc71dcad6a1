package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func loadCases() []testCase {
	return []testCase{
		{"ExportOfEmptyStore", testExportOfEmptyStore},
		{"ExportRoundTrip", testExportRoundTrip},
		{"LoadSetsVersionOne", testLoadSetsVersionOne},
		{"LoadTwiceBumpsVersions", testLoadTwiceBumpsVersions},
		{"LoadUpserts", testLoadUpserts},
		{"LoadUpsertMovesIndexes", testLoadUpsertMovesIndexes},
		{"LoadDoesNotTouchLedgerOrHistory", testLoadDoesNotTouchLedgerOrHistory},
		{"ExportSeesCommits", testExportSeesCommits},
	}
}

func testExportOfEmptyStore(t *testing.T, s store.Store) {
	d, err := s.Export(t.Context())
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if d == nil {
		t.Fatal("Export returned a nil dataset")
	}
	if n := len(d.Accounts) + len(d.Users) + len(d.Opportunities) + len(d.Contacts); n != 0 {
		t.Errorf("Export of an empty store has %d records: %+v", n, d)
	}
}

// Load then Export gives the dataset back: sorted, defaults kept, no
// versions.
func testExportRoundTrip(t *testing.T, s store.Store) {
	want := loadFixture(t, s)
	want.Sort()
	got, err := s.Export(t.Context())
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	for _, o := range got.Opportunities {
		if o.Version != 0 {
			t.Errorf("exported opportunity %s/%s has Version %d, want 0 (versions are not exported)", o.AccountID, o.ID, o.Version)
		}
	}
	for _, c := range got.Contacts {
		if c.Version != 0 {
			t.Errorf("exported contact %s/%s has Version %d, want 0 (versions are not exported)", c.AccountID, c.ID, c.Version)
		}
	}
	g, w := normDataset(got), normDataset(want)
	if !reflect.DeepEqual(g.Accounts, w.Accounts) {
		t.Errorf("accounts:\n got %+v\nwant %+v", g.Accounts, w.Accounts)
	}
	if !reflect.DeepEqual(g.Users, w.Users) {
		t.Errorf("users:\n got %+v\nwant %+v", g.Users, w.Users)
	}
	if !reflect.DeepEqual(g.Opportunities, w.Opportunities) {
		t.Errorf("opportunities:\n got %+v\nwant %+v", g.Opportunities, w.Opportunities)
	}
	if !reflect.DeepEqual(g.Contacts, w.Contacts) {
		t.Errorf("contacts:\n got %+v\nwant %+v", g.Contacts, w.Contacts)
	}
	if p := got.Check(); len(p) > 0 {
		t.Errorf("exported dataset does not pass Check: %v", p)
	}
}

func testLoadSetsVersionOne(t *testing.T, s store.Store) {
	d := loadFixture(t, s)
	for _, o := range d.Opportunities {
		o.Version = 1
		wantOpp(t, "loaded opportunity", getOpp(t, s, o.AccountID, o.ID), o)
	}
	for _, c := range d.Contacts {
		c.Version = 1
		wantContact(t, "loaded contact", getContact(t, s, c.AccountID, c.ID), c)
	}
}

func testLoadTwiceBumpsVersions(t *testing.T, s store.Store) {
	loadFixture(t, s)
	d := loadFixture(t, s)
	for _, o := range d.Opportunities {
		o.Version = 2
		wantOpp(t, "opportunity loaded twice", getOpp(t, s, o.AccountID, o.ID), o)
	}
	for _, c := range d.Contacts {
		c.Version = 2
		wantContact(t, "contact loaded twice", getContact(t, s, c.AccountID, c.ID), c)
	}
	got, err := s.Export(t.Context())
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	d.Sort()
	if g, w := normDataset(got), normDataset(d); !reflect.DeepEqual(g, w) {
		t.Errorf("Export after loading twice:\n got %+v\nwant %+v", g, w)
	}
}

// upsertYAML changes some records of the fixture and leaves the others out.
const upsertYAML = `
accounts:
  - {id: acme, name: Acme Corporation}
users:
  - {id: u_rep, account_id: acme, name: Rae Representative, email: rae.rep@acme.test, only_assigned_data: true}
  - {id: u_mgr, account_id: acme, name: Max Manager, email: max@acme.test, role: user, active: false}
  - {id: u_new, account_id: acme, name: Ned New, email: ned@acme.test}
opportunities:
  - id: opp_1
    account_id: acme
    name: Globex renewal 2027
    pipeline: Renewals
    stage: Negotiation
    status: lost
    value: 17500.75
    owner_id: u_new
    contact_id: c_2
    tags: [q1]
    followers: [u_new, u_rep]
    created_at: 2026-11-01T09:00:00Z
    updated_at: 2026-11-20T09:00:00Z
    last_owner_activity_at: 2026-11-19T09:00:00Z
contacts:
  - id: c_1
    account_id: acme
    name: Gil Globex-Smith
    email: gil.smith@globex.test
    owner_id: u_new
    tags: []
    followers: [u_rep]
    created_at: 2026-10-01T08:00:00Z
`

// Loading again replaces what the dataset holds, field for field, bumps the
// versions of the records it writes, and keeps the rest.
func testLoadUpserts(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := loadFixture(t, s)
	up := parseDataset(t, upsertYAML)
	load(t, s, up)

	if a, err := s.Account(ctx, acme); err != nil || a != up.Accounts[0] {
		t.Errorf("Account(acme) = %+v, %v; want %+v", a, err, up.Accounts[0])
	}
	if a, err := s.Account(ctx, globex); err != nil || a.Name != "Globex" {
		t.Errorf("Account(globex) = %+v, %v; want it unchanged", a, err)
	}
	for _, id := range []string{"u_rep", "u_mgr", "u_new"} {
		want := datasetUser(t, up, id)
		if u, err := s.User(ctx, acme, id); err != nil || u != want {
			t.Errorf("User(%s) = %+v, %v; want %+v", id, u, err, want)
		}
	}
	if u, err := s.User(ctx, acme, "u_lim"); err != nil || u != datasetUser(t, before, "u_lim") {
		t.Errorf("User(u_lim) = %+v, %v; want it unchanged", u, err)
	}

	o := datasetOpp(t, up, acme, "opp_1")
	o.Version = 2
	wantOpp(t, "upserted opportunity", getOpp(t, s, acme, "opp_1"), o)
	c := datasetContact(t, up, acme, "c_1")
	c.Version = 2
	wantContact(t, "upserted contact", getContact(t, s, acme, "c_1"), c)

	for _, o := range before.Opportunities {
		if o.AccountID == acme && o.ID == "opp_1" {
			continue
		}
		o.Version = 1
		wantOpp(t, "opportunity not in the second load", getOpp(t, s, o.AccountID, o.ID), o)
	}
	for _, c := range before.Contacts {
		if c.AccountID == acme && c.ID == "c_1" {
			continue
		}
		c.Version = 1
		wantContact(t, "contact not in the second load", getContact(t, s, c.AccountID, c.ID), c)
	}
	d, err := s.Export(ctx)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if len(d.Accounts) != 2 || len(d.Users) != 8 || len(d.Opportunities) != 5 || len(d.Contacts) != 3 {
		t.Errorf("Export after upsert has %d accounts, %d users, %d opportunities, %d contacts; want 2, 8, 5, 3",
			len(d.Accounts), len(d.Users), len(d.Opportunities), len(d.Contacts))
	}
}

// An upsert that changes an email or a contact_id moves the record in the
// indexes that find it.
func testLoadUpsertMovesIndexes(t *testing.T, s store.Store) {
	ctx := t.Context()
	loadFixture(t, s)
	load(t, s, parseDataset(t, upsertYAML))

	for _, email := range []string{"rae@acme.test", "Max.Manager@Acme.Test"} {
		if u, err := s.UserByEmail(ctx, acme, email); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByEmail(%q) after the email changed = %+v, %v; want ErrNotFound", email, u, err)
		}
	}
	for email, id := range map[string]string{"RAE.REP@acme.test": "u_rep", "max@acme.test": "u_mgr", "ned@acme.test": "u_new"} {
		if u, err := s.UserByEmail(ctx, acme, email); err != nil || u.ID != id {
			t.Errorf("UserByEmail(%q) = %+v, %v; want user %s", email, u, err, id)
		}
	}
	if u, err := s.UserByEmail(ctx, globex, "rae@acme.test"); err != nil || u.ID != "g_rep" {
		t.Errorf("UserByEmail(globex, rae@acme.test) = %+v, %v; want g_rep (the other account is unchanged)", u, err)
	}
	wantByContact(t, s, acme, "c_1", "opp_10", "opp_2")
	wantByContact(t, s, acme, "c_2", "opp_1", "opp_3")
	wantByContact(t, s, globex, "c_1", "opp_1")
}

func testLoadDoesNotTouchLedgerOrHistory(t *testing.T, s store.Store) {
	loadFixture(t, s)
	h := entry(acme, record.KindOpportunity, "opp_1", "e1", "u_rep", record.Added)
	commit(t, s, &store.Changeset{AccountID: acme, EventID: "e1", ProcessedAt: at(9), History: []record.HistoryEntry{h}})
	loadFixture(t, s)
	if !processed(t, s, acme, "e1") {
		t.Error("the ledger lost event e1 when the fixture was loaded again")
	}
	wantHistory(t, "history after loading again", getHistory(t, s, acme, record.KindOpportunity, "opp_1"), []record.HistoryEntry{h})
}

func testExportSeesCommits(t *testing.T, s store.Store) {
	want := loadFixture(t, s)
	o := getOpp(t, s, acme, "opp_3")
	o.Stage, o.Tags = "Qualified", record.AddTag(o.Tags, "hot")
	update(t, s, o, "e1")
	n := newOpportunity(globex, "opp_0", "g_rep", "c_1")
	commit(t, s, &store.Changeset{AccountID: globex, Opportunities: []record.Opportunity{n}})

	for i := range want.Opportunities {
		if w := &want.Opportunities[i]; w.AccountID == acme && w.ID == "opp_3" {
			w.Stage, w.Tags = "Qualified", []string{"hot"}
		}
	}
	want.Opportunities = append(want.Opportunities, n)
	want.Sort()
	got, err := s.Export(t.Context())
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if g, w := normDataset(got), normDataset(want); !reflect.DeepEqual(g.Opportunities, w.Opportunities) {
		t.Errorf("exported opportunities after commits:\n got %+v\nwant %+v", g.Opportunities, w.Opportunities)
	}
}
