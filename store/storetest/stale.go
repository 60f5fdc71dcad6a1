package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func staleCases() []testCase {
	return []testCase{
		{"Candidates", testStaleCandidates},
		{"FollowsCommits", testStaleFollowsCommits},
		{"FollowsLoad", testStaleFollowsLoad},
	}
}

// staleT0 is the base time of staleYAML.
var staleT0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// st returns staleT0 plus h hours.
func st(h int) time.Time { return staleT0.Add(time.Duration(h) * time.Hour) }

// staleYAML holds, by (last_owner_activity_at, account, id):
//
//	T0 acme/s_c (by default: created_at), T1 acme/s_a, acme/s_b, globex/s_a,
//	T2 acme/s_d, T3 acme/s_e
//
// and, at T0, opportunities that are not candidates: won, lost, abandoned,
// open without an owner.
const staleYAML = `
accounts: [{id: globex, name: Globex}, {id: acme, name: Acme}]
users:
  - {id: u_rep, account_id: acme, name: Rae Rep, email: rae@acme.test}
  - {id: g_rep, account_id: globex, name: Gil Rep, email: gil@globex.test}
opportunities:
  - {id: s_e, account_id: acme, name: E, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z", last_owner_activity_at: "2026-11-01T03:00:00Z"}
  - {id: s_b, account_id: acme, name: B, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z", last_owner_activity_at: "2026-11-01T01:00:00Z"}
  - {id: s_a, account_id: globex, name: A, owner_id: g_rep, created_at: "2026-11-01T00:00:00Z", last_owner_activity_at: "2026-11-01T01:00:00Z"}
  - {id: s_a, account_id: acme, name: A, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z", last_owner_activity_at: "2026-11-01T01:00:00Z"}
  - {id: s_d, account_id: acme, name: D, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z", last_owner_activity_at: "2026-11-01T02:00:00Z"}
  - {id: s_c, account_id: acme, name: C, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z"}
  - {id: s_won, account_id: acme, name: Won, status: won, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z"}
  - {id: s_lost, account_id: acme, name: Lost, status: lost, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z"}
  - {id: s_gone, account_id: acme, name: Gone, status: abandoned, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z"}
  - {id: s_free, account_id: acme, name: Free, created_at: "2026-11-01T00:00:00Z"}
`

// wantStale fails the test unless StaleCandidates(cutoff, limit) returns
// the opportunities named "account/id", in this order, each as stored.
func wantStale(t *testing.T, s store.Store, cutoff time.Time, limit int, want ...string) {
	t.Helper()
	got, err := s.StaleCandidates(t.Context(), cutoff, limit)
	if err != nil {
		t.Fatalf("StaleCandidates(%v, %d): %v", cutoff, limit, err)
	}
	ids := []string{}
	for _, o := range got {
		ids = append(ids, o.AccountID+"/"+o.ID)
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(ids, want) {
		t.Errorf("StaleCandidates(%v, %d) = %v, want %v", cutoff.Format(time.RFC3339Nano), limit, ids, want)
		return
	}
	for _, o := range got {
		wantOpp(t, "stale candidate", o, getOpp(t, s, o.AccountID, o.ID))
	}
}

func testStaleCandidates(t *testing.T, s store.Store) {
	load(t, s, parseDataset(t, staleYAML))
	all := []string{"acme/s_c", "acme/s_a", "acme/s_b", "globex/s_a", "acme/s_d", "acme/s_e"}
	for _, c := range []struct {
		cutoff time.Time
		limit  int
		want   []string
	}{
		{st(3), 0, all},
		{st(3), -1, all},
		{st(3), 100, all},
		{st(3), 6, all},
		{st(3), 5, all[:5]},
		{st(3), 1, all[:1]},
		{st(2), 0, all[:5]},
		{st(2), 4, all[:4]},
		{st(2), 2, all[:2]},
		{st(1), 0, all[:4]},
		{st(1).Add(-time.Second), 0, all[:1]},
		{st(0), 0, all[:1]},
		{st(0).Add(-time.Second), 0, nil},
		{st(3).Add(365 * 24 * time.Hour), 0, all},
	} {
		wantStale(t, s, c.cutoff, c.limit, c.want...)
	}
}

// Every commit that changes status, owner or last_owner_activity_at keeps
// the index current; one that changes none of them leaves the record where
// it was.
func testStaleFollowsCommits(t *testing.T, s store.Store) {
	load(t, s, parseDataset(t, staleYAML))
	edit := func(account, id string, f func(o *record.Opportunity)) func() {
		return func() {
			o := getOpp(t, s, account, id)
			f(&o)
			update(t, s, o, "")
		}
	}
	end := st(9)
	for _, step := range []struct {
		name string
		do   func()
		want string // at cutoff st(9), in order
	}{
		{"stage changed", edit(acme, "s_a", func(o *record.Opportunity) { o.Stage = "Demo"; o.Tags = []string{"x"} }),
			"acme/s_c acme/s_a acme/s_b globex/s_a acme/s_d acme/s_e"},
		{"won", edit(acme, "s_a", func(o *record.Opportunity) { o.Status = record.StatusWon }),
			"acme/s_c acme/s_b globex/s_a acme/s_d acme/s_e"},
		{"owner cleared", edit(acme, "s_b", func(o *record.Opportunity) { o.OwnerID = "" }),
			"acme/s_c globex/s_a acme/s_d acme/s_e"},
		{"activity forward", edit(acme, "s_c", func(o *record.Opportunity) { o.LastOwnerActivityAt = st(2) }),
			"globex/s_a acme/s_c acme/s_d acme/s_e"},
		{"activity past the cutoff", edit(acme, "s_d", func(o *record.Opportunity) { o.LastOwnerActivityAt = st(10) }),
			"globex/s_a acme/s_c acme/s_e"},
		{"activity backward", edit(acme, "s_e", func(o *record.Opportunity) { o.LastOwnerActivityAt = st(1) }),
			"acme/s_e globex/s_a acme/s_c"},
		{"reopened", edit(acme, "s_won", func(o *record.Opportunity) { o.Status = record.StatusOpen }),
			"acme/s_won acme/s_e globex/s_a acme/s_c"},
		{"owner assigned", edit(acme, "s_free", func(o *record.Opportunity) { o.OwnerID = "u_rep" }),
			"acme/s_free acme/s_won acme/s_e globex/s_a acme/s_c"},
		{"clock restarted", edit(globex, "s_a", func(o *record.Opportunity) { o.LastOwnerActivityAt = st(4) }),
			"acme/s_free acme/s_won acme/s_e acme/s_c globex/s_a"},
		{"lost", edit(acme, "s_won", func(o *record.Opportunity) { o.Status = record.StatusLost }),
			"acme/s_free acme/s_e acme/s_c globex/s_a"},
		{"abandoned and reopened at once", edit(acme, "s_gone", func(o *record.Opportunity) { o.Status = record.StatusOpen; o.LastOwnerActivityAt = st(3) }),
			"acme/s_free acme/s_e acme/s_c acme/s_gone globex/s_a"},
		{"created", func() {
			owned := newOpportunity(acme, "s_new", "u_rep", "")
			owned.LastOwnerActivityAt = st(0)
			free := newOpportunity(acme, "s_new_free", "", "")
			free.LastOwnerActivityAt = st(0)
			won := newOpportunity(globex, "s_new_won", "g_rep", "")
			won.Status, won.LastOwnerActivityAt = record.StatusWon, st(0)
			commit(t, s, &store.Changeset{AccountID: acme, Opportunities: []record.Opportunity{owned, free}})
			commit(t, s, &store.Changeset{AccountID: globex, Opportunities: []record.Opportunity{won}})
		}, "acme/s_free acme/s_new acme/s_e acme/s_c acme/s_gone globex/s_a"},
	} {
		step.do()
		t.Run(step.name, func(t *testing.T) {
			wantStale(t, s, end, 0, strings.Fields(step.want)...)
		})
	}
	wantStale(t, s, st(1), 2, "acme/s_free", "acme/s_new")
	wantStale(t, s, st(2).Add(-time.Second), 0, "acme/s_free", "acme/s_new", "acme/s_e")
	// The first two, their owners active past the cutoff, hide nothing
	// behind them (an index may keep their old place until a scan finds
	// them: store/redis does).
	edit(acme, "s_free", func(o *record.Opportunity) { o.LastOwnerActivityAt = st(20) })()
	edit(acme, "s_new", func(o *record.Opportunity) { o.LastOwnerActivityAt = st(20) })()
	wantStale(t, s, end, 1, "acme/s_e")
	wantStale(t, s, end, 2, "acme/s_e", "acme/s_c")
}

func testStaleFollowsLoad(t *testing.T, s store.Store) {
	load(t, s, parseDataset(t, staleYAML))
	reload := strings.NewReplacer(
		// acme/s_a won, acme/s_e back to T0, s_free owned at T2, s_won reopened at T1.
		`{id: s_a, account_id: acme, name: A, owner_id: u_rep,`, `{id: s_a, account_id: acme, name: A, status: won, owner_id: u_rep,`,
		`{id: s_e, account_id: acme, name: E, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z", last_owner_activity_at: "2026-11-01T03:00:00Z"}`,
		`{id: s_e, account_id: acme, name: E, owner_id: u_rep, created_at: "2026-11-01T00:00:00Z"}`,
		`{id: s_free, account_id: acme, name: Free,`, `{id: s_free, account_id: acme, name: Free, owner_id: u_rep, last_owner_activity_at: "2026-11-01T02:00:00Z",`,
		`{id: s_won, account_id: acme, name: Won, status: won,`, `{id: s_won, account_id: acme, name: Won, last_owner_activity_at: "2026-11-01T01:00:00Z",`,
	).Replace(staleYAML)
	if reload == staleYAML {
		t.Fatal("bad test: the replacements changed nothing")
	}
	d := parseDataset(t, reload)
	load(t, s, d)
	want := "acme/s_c acme/s_e acme/s_b acme/s_won globex/s_a acme/s_d acme/s_free"
	wantStale(t, s, st(9), 0, strings.Fields(want)...)
}
