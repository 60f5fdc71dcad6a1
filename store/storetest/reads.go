package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func readCases() []testCase {
	return []testCase{
		{"Accounts", testAccounts},
		{"Account", testAccount},
		{"User", testUser},
		{"UserOfAnotherAccount", testUserOfAnotherAccount},
		{"UserByEmail", testUserByEmail},
		{"Opportunity", testOpportunity},
		{"OpportunityIDsArePerAccount", testOpportunityIDsArePerAccount},
		{"Contact", testContact},
		{"OpportunitiesByContact", testOpportunitiesByContact},
		{"OpportunitiesByContactFollowsCommits", testOpportunitiesByContactFollowsCommits},
		{"ProcessedOnEmptyStore", testProcessedOnEmptyStore},
		{"ReadsOfEmptyStore", testReadsOfEmptyStore},
	}
}

// wantByContact fails the test unless OpportunitiesByContact returns the
// opportunities with these ids, in this order, each as stored.
func wantByContact(t *testing.T, s store.Store, account, contactID string, ids ...string) {
	t.Helper()
	got, err := s.OpportunitiesByContact(t.Context(), account, contactID)
	if err != nil {
		t.Fatalf("OpportunitiesByContact(%s, %s): %v", account, contactID, err)
	}
	gotIDs := []string{}
	for _, o := range got {
		gotIDs = append(gotIDs, o.AccountID+"/"+o.ID)
	}
	wantIDs := []string{}
	for _, id := range ids {
		wantIDs = append(wantIDs, account+"/"+id)
	}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("OpportunitiesByContact(%s, %s) = %v, want %v", account, contactID, gotIDs, wantIDs)
		return
	}
	for _, o := range got {
		wantOpp(t, "OpportunitiesByContact("+account+", "+contactID+")", o, getOpp(t, s, o.AccountID, o.ID))
	}
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.Accounts(ctx); err != nil || len(got) != 0 {
		t.Errorf("Accounts of an empty store = %v, %v; want none", got, err)
	}
	d := loadFixture(t, s)
	want := slices.Clone(d.Accounts)
	slices.SortFunc(want, func(a, b record.Account) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	got, err := s.Accounts(ctx)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Accounts() = %+v, %v; want %+v", got, err, want)
	}
}

func testAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := loadFixture(t, s)
	for _, want := range d.Accounts {
		if a, err := s.Account(ctx, want.ID); err != nil || a != want {
			t.Errorf("Account(%s) = %+v, %v; want %+v", want.ID, a, err, want)
		}
	}
	if a, err := s.Account(ctx, "initech"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Account(initech) = %+v, %v; want ErrNotFound", a, err)
	}
}

func testUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := loadFixture(t, s)
	for _, want := range d.Users {
		if u, err := s.User(ctx, want.AccountID, want.ID); err != nil || u != want {
			t.Errorf("User(%s, %s) = %+v, %v; want %+v", want.AccountID, want.ID, u, err, want)
		}
	}
	if u, err := s.User(ctx, acme, "u_nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User(acme, u_nobody) = %+v, %v; want ErrNotFound", u, err)
	}
	if u, err := s.User(ctx, "initech", "u_rep"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User(initech, u_rep) = %+v, %v; want ErrNotFound", u, err)
	}
}

func testUserOfAnotherAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	loadFixture(t, s)
	for _, c := range []struct{ account, id string }{{globex, "u_rep"}, {globex, "u_mgr"}, {acme, "g_rep"}} {
		if u, err := s.User(ctx, c.account, c.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("User(%s, %s) = %+v, %v; want ErrNotFound (a user of another account)", c.account, c.id, u, err)
		}
	}
}

func testUserByEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := loadFixture(t, s)
	loadUsers(t, s, acme, "u_w", 1)
	d.Users = append(d.Users, record.User{ID: "u_w01", AccountID: acme, Name: "User u_w01", Email: "u_w01@acme.test", Role: record.RoleUser, Active: true})
	for _, c := range []struct {
		account, email, want string
	}{
		{acme, "rae@acme.test", "u_rep"},
		{acme, "RAE@Acme.TEST", "u_rep"},
		{acme, "Max.Manager@Acme.Test", "u_mgr"},
		{acme, "max.manager@acme.test", "u_mgr"},
		{acme, "MAX.MANAGER@ACME.TEST", "u_mgr"},
		{acme, "gus@acme.test", "u_gone"}, // inactive users are found too
		{globex, "rae@acme.test", "g_rep"},
		{globex, "Gia@Globex.Test", "g_mgr"},
		{acme, "gia@globex.test", ""}, // another account's user
		{acme, "nobody@acme.test", ""},
		{acme, "u_w01@acme.test", "u_w01"},
		{acme, "U_W01@ACME.TEST", "u_w01"},
		// No pattern matching: _ and % are plain characters.
		{acme, "u-w01@acme.test", ""},
		{acme, "u%@acme.test", ""},
		{acme, "%", ""},
		{acme, "", ""},
		{acme, "rae@acme.tes", ""},
		{"initech", "rae@acme.test", ""},
	} {
		u, err := s.UserByEmail(ctx, c.account, c.email)
		if c.want == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UserByEmail(%s, %q) = %+v, %v; want ErrNotFound", c.account, c.email, u, err)
			}
			continue
		}
		if want := datasetUser(t, d, c.want); err != nil || u != want {
			t.Errorf("UserByEmail(%s, %q) = %+v, %v; want %+v", c.account, c.email, u, err, want)
		}
	}
}

func testOpportunity(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := loadFixture(t, s)
	for _, want := range d.Opportunities {
		want.Version = 1
		wantOpp(t, "Opportunity("+want.AccountID+", "+want.ID+")", getOpp(t, s, want.AccountID, want.ID), want)
	}
	for _, c := range []struct{ account, id string }{{acme, "opp_404"}, {globex, "opp_2"}, {"initech", "opp_1"}, {acme, ""}} {
		if o, err := s.Opportunity(ctx, c.account, c.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Opportunity(%s, %q) = %+v, %v; want ErrNotFound", c.account, c.id, o, err)
		}
	}
}

// Two accounts may use the same id for different records; a commit to one
// leaves the other alone.
func testOpportunityIDsArePerAccount(t *testing.T, s store.Store) {
	d := loadFixture(t, s)
	a, g := getOpp(t, s, acme, "opp_1"), getOpp(t, s, globex, "opp_1")
	if a.Name == g.Name || a.AccountID != acme || g.AccountID != globex {
		t.Fatalf("acme/opp_1 and globex/opp_1 are not distinct: %+v, %+v", a, g)
	}
	a.Stage = "Won over"
	update(t, s, a, "e1")
	want := datasetOpp(t, d, globex, "opp_1")
	want.Version = 1
	wantOpp(t, "globex/opp_1 after a commit to acme/opp_1", getOpp(t, s, globex, "opp_1"), want)
	c := getContact(t, s, globex, "c_1")
	wantC := datasetContact(t, d, globex, "c_1")
	wantC.Version = 1
	wantContact(t, "globex/c_1", c, wantC)
}

func testContact(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := loadFixture(t, s)
	for _, want := range d.Contacts {
		want.Version = 1
		wantContact(t, "Contact("+want.AccountID+", "+want.ID+")", getContact(t, s, want.AccountID, want.ID), want)
	}
	for _, c := range []struct{ account, id string }{{acme, "c_404"}, {globex, "c_2"}, {"initech", "c_1"}, {acme, "opp_1"}} {
		if o, err := s.Contact(ctx, c.account, c.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Contact(%s, %q) = %+v, %v; want ErrNotFound", c.account, c.id, o, err)
		}
	}
}

// OpportunitiesByContact orders by id (as strings: opp_10 before opp_2) and
// never crosses accounts.
func testOpportunitiesByContact(t *testing.T, s store.Store) {
	loadFixture(t, s)
	wantByContact(t, s, acme, "c_1", "opp_1", "opp_10", "opp_2")
	wantByContact(t, s, acme, "c_2", "opp_3")
	wantByContact(t, s, globex, "c_1", "opp_1")
	wantByContact(t, s, globex, "c_2")
	wantByContact(t, s, acme, "c_404")
	wantByContact(t, s, "initech", "c_1")
}

func testOpportunitiesByContactFollowsCommits(t *testing.T, s store.Store) {
	loadFixture(t, s)
	o := getOpp(t, s, acme, "opp_10")
	o.ContactID = "c_2"
	update(t, s, o, "e1")
	n := newOpportunity(acme, "opp_0", "u_rep", "c_1")
	commit(t, s, &store.Changeset{AccountID: acme, Opportunities: []record.Opportunity{n}})
	o = getOpp(t, s, acme, "opp_2")
	o.Name = "renamed"
	update(t, s, o, "e2")

	wantByContact(t, s, acme, "c_1", "opp_0", "opp_1", "opp_2")
	wantByContact(t, s, acme, "c_2", "opp_10", "opp_3")
	wantByContact(t, s, globex, "c_1", "opp_1")

	// A contact id of "" names no contact: an opportunity without one, new
	// or unlinked, is no contact's.
	o = getOpp(t, s, acme, "opp_2")
	o.ContactID = ""
	update(t, s, o, "e3")
	commit(t, s, &store.Changeset{AccountID: acme, Opportunities: []record.Opportunity{newOpportunity(acme, "opp_20", "u_rep", "")}})
	wantByContact(t, s, acme, "c_1", "opp_0", "opp_1")
	wantByContact(t, s, acme, "")
}

func testProcessedOnEmptyStore(t *testing.T, s store.Store) {
	if processed(t, s, acme, "e1") {
		t.Error("Processed(acme, e1) on an empty store = true")
	}
}

func testReadsOfEmptyStore(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.Account(ctx, acme); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Account: %v, want ErrNotFound", err)
	}
	if _, err := s.User(ctx, acme, "u_rep"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User: %v, want ErrNotFound", err)
	}
	if _, err := s.UserByEmail(ctx, acme, "rae@acme.test"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByEmail: %v, want ErrNotFound", err)
	}
	if _, err := s.Opportunity(ctx, acme, "opp_1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Opportunity: %v, want ErrNotFound", err)
	}
	if _, err := s.Contact(ctx, acme, "c_1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Contact: %v, want ErrNotFound", err)
	}
	wantByContact(t, s, acme, "c_1")
	if ids := staleIDs(t, s, at(1000), 0); len(ids) != 0 {
		t.Errorf("StaleCandidates of an empty store = %v, want none", ids)
	}
}
