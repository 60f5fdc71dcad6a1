package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// Accounts of the fixture. Both hold an opportunity opp_1 and a contact c_1:
// ids are unique per account only.
const (
	acme   = "acme"
	globex = "globex"
)

// fixtureYAML is the dataset most subtests load. It is deliberately out of
// order (Export must sort) and leaves defaults to record.ParseDataFile:
// user role and active, opportunity status, updated_at and
// last_owner_activity_at.
//
// In acme, opportunities of contact c_1 are opp_1, opp_10 and opp_2 in order
// of id; opp_1 and opp_10 are stale candidates, opp_2 (won) and opp_3 (no
// owner) are not. globex/opp_1 is a stale candidate.
const fixtureYAML = `
accounts:
  - {id: globex, name: Globex}
  - {id: acme, name: Acme}
users:
  - {id: u_rep, account_id: acme, name: Rae Rep, email: rae@acme.test}
  - {id: u_mgr, account_id: acme, name: Max Manager, email: Max.Manager@Acme.Test, role: admin}
  - {id: u_gone, account_id: acme, name: Gus Gone, email: gus@acme.test, active: false}
  - {id: u_lim, account_id: acme, name: Lia Limited, email: lia@acme.test, only_assigned_data: true}
  - {id: u_anon, account_id: acme, name: Ann Anon}
  - {id: g_rep, account_id: globex, name: Gil Rep, email: rae@acme.test}
  - {id: g_mgr, account_id: globex, name: Gia Manager, email: gia@globex.test, role: admin}
opportunities:
  - id: opp_2
    account_id: acme
    name: Initech expansion
    pipeline: Sales
    stage: Closed
    status: won
    value: 9000
    owner_id: u_rep
    contact_id: c_1
    followers: [u_mgr]
    created_at: 2026-10-01T09:00:00Z
    updated_at: 2026-10-20T12:00:00Z
  - id: opp_1
    account_id: acme
    name: Globex renewal
    pipeline: Sales
    stage: Proposal
    value: 18000
    owner_id: u_rep
    contact_id: c_1
    tags: [renewal, q4]
    followers: [u_mgr, u_lim]
    created_at: 2026-11-01T09:00:00Z
  - id: opp_3
    account_id: acme
    name: Unowned lead
    pipeline: Sales
    stage: New
    value: 1200.25
    contact_id: c_2
    tags: []
    followers: []
    created_at: 2026-11-01T10:00:00Z
  - id: opp_10
    account_id: acme
    name: Umbrella pilot
    pipeline: Partners
    stage: Demo
    status: open
    value: 42000
    owner_id: u_mgr
    contact_id: c_1
    followers: [u_rep]
    created_at: 2026-11-02T09:00:00Z
    updated_at: 2026-11-03T10:00:00Z
    last_owner_activity_at: 2026-11-03T10:00:00Z
  - id: opp_1
    account_id: globex
    name: Globex own deal
    pipeline: Direct
    stage: New
    value: 500.5
    owner_id: g_rep
    contact_id: c_1
    followers: [g_mgr]
    created_at: 2026-11-01T08:00:00Z
contacts:
  - {id: c_2, account_id: acme, name: Cy Contact, created_at: 2026-10-02T09:00:00Z}
  - id: c_1
    account_id: acme
    name: Gil Globex
    email: gil@globex.test
    owner_id: u_rep
    tags: [vip]
    followers: [u_rep, u_mgr]
    created_at: 2026-10-01T08:00:00Z
    updated_at: 2026-10-05T08:00:00Z
  - {id: c_1, account_id: globex, name: Gus Globex, owner_id: g_rep, created_at: 2026-10-01T08:00:00Z}
`

// parseDataset parses a dataset in the data-file format, with defaults
// applied and checked, as the load command would.
func parseDataset(t *testing.T, yaml string) *record.Dataset {
	t.Helper()
	d, err := record.ParseDataFile("fixture.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("bad fixture: %v", err)
	}
	return d
}

// fixture returns a fresh copy of the fixture dataset.
func fixture(t *testing.T) *record.Dataset {
	t.Helper()
	return parseDataset(t, fixtureYAML)
}

// loadFixture loads the fixture into s and returns it.
func loadFixture(t *testing.T, s store.Store) *record.Dataset {
	t.Helper()
	d := fixture(t)
	load(t, s, d)
	return fixture(t)
}

func load(t *testing.T, s store.Store, d *record.Dataset) {
	t.Helper()
	if err := s.Load(t.Context(), d); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

// loadUsers loads n active users of account (which must be loaded already
// or is created with them) with ids prefix01, prefix02, … and returns the
// ids.
func loadUsers(t *testing.T, s store.Store, account, prefix string, n int) []string {
	t.Helper()
	d := &record.Dataset{Accounts: []record.Account{{ID: account, Name: strings.ToUpper(account)}}}
	if a, err := s.Account(t.Context(), account); err == nil {
		d.Accounts[0] = a
	}
	var ids []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("%s%02d", prefix, i)
		ids = append(ids, id)
		d.Users = append(d.Users, record.User{
			ID: id, AccountID: account, Name: "User " + id, Email: id + "@" + account + ".test",
			Role: record.RoleUser, Active: true,
		})
	}
	if p := d.Check(); len(p) > 0 {
		t.Fatalf("bad users: %v", p)
	}
	load(t, s, d)
	return ids
}

// day0 is the base time of records built in code: whole seconds, UTC.
var day0 = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)

// at returns day0 plus h hours.
func at(h int) time.Time { return day0.Add(time.Duration(h) * time.Hour) }

// newOpportunity returns an opportunity of account that is not stored yet
// (Version 0), open and owned by ownerID (may be empty), with every field
// set.
func newOpportunity(account, id, ownerID, contactID string) record.Opportunity {
	return record.Opportunity{
		ID: id, AccountID: account, Name: "Deal " + id, Pipeline: "Sales", Stage: "New",
		Status: record.StatusOpen, Value: 1234.5, OwnerID: ownerID, ContactID: contactID,
		Tags: []string{"new"}, Followers: []string{},
		CreatedAt: at(0), UpdatedAt: at(1), LastOwnerActivityAt: at(2),
	}
}

// newContact returns a contact of account that is not stored yet.
func newContact(account, id, ownerID string) record.Contact {
	return record.Contact{
		ID: id, AccountID: account, Name: "Contact " + id, Email: id + "@example.test",
		OwnerID: ownerID, Tags: []string{"lead"}, Followers: []string{ownerID},
		CreatedAt: at(0), UpdatedAt: at(3),
	}
}

// entry returns a history entry for a record with every field set.
func entry(account string, kind record.Kind, id, eventID, userID string, outcome record.Outcome) record.HistoryEntry {
	return record.HistoryEntry{
		AccountID: account, Kind: kind, RecordID: id, At: at(5),
		EventID: eventID, WorkflowID: "wf-" + string(outcome), ActorID: "",
		Step: "Loop in leadership", UserID: userID, Outcome: outcome,
		Detail: "because " + string(outcome),
	}
}

// datasetOpp returns the opportunity of d with that account and id.
func datasetOpp(t *testing.T, d *record.Dataset, account, id string) record.Opportunity {
	t.Helper()
	for _, o := range d.Opportunities {
		if o.AccountID == account && o.ID == id {
			return o
		}
	}
	t.Fatalf("fixture has no opportunity %s/%s", account, id)
	return record.Opportunity{}
}

// datasetContact returns the contact of d with that account and id.
func datasetContact(t *testing.T, d *record.Dataset, account, id string) record.Contact {
	t.Helper()
	for _, c := range d.Contacts {
		if c.AccountID == account && c.ID == id {
			return c
		}
	}
	t.Fatalf("fixture has no contact %s/%s", account, id)
	return record.Contact{}
}

// datasetUser returns the user of d with that id.
func datasetUser(t *testing.T, d *record.Dataset, id string) record.User {
	t.Helper()
	for _, u := range d.Users {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("fixture has no user %s", id)
	return record.User{}
}
