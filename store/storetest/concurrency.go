package storetest

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func concurrencyCases() []testCase {
	return []testCase{
		{"FollowerLimitUnderContention", testFollowerLimitUnderContention},
		{"SameEventCommittedOnce", testSameEventCommittedOnce},
		{"DifferentRecordsAllSucceed", testDifferentRecordsAllSucceed},
		{"ReadsSeeWholeCommits", testReadsSeeWholeCommits},
	}
}

// maxAttempts bounds an optimistic loop, so that a broken backend fails the
// test instead of hanging it.
const maxAttempts = 1000

// 20 workers each add a different user to an opportunity with 9 followers,
// the way the engine does: read, decide, commit, re-run on ErrConflict. The
// decision to refuse (limit_reached) depends on the record too, so it
// commits with the record in Reads. Exactly one worker adds its user.
func testFollowerLimitUnderContention(t *testing.T, s store.Store) {
	const workers = 20
	ctx := t.Context()
	loadFixture(t, s)
	users := loadUsers(t, s, acme, "u_c", record.MaxFollowers-1+workers)
	o := getOpp(t, s, acme, "opp_1")
	o.Followers = withFollowers(users, record.MaxFollowers-1)
	update(t, s, o, "")
	initial := getOpp(t, s, acme, "opp_1")

	outcomes := make([]record.Outcome, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			eventID := fmt.Sprintf("add-%02d", i)
			u, err := s.User(ctx, acme, users[record.MaxFollowers-1+i])
			if err != nil {
				t.Errorf("worker %d: User: %v", i, err)
				return
			}
			<-start
			for range maxAttempts {
				o, err := s.Opportunity(ctx, acme, "opp_1")
				if err != nil {
					t.Errorf("worker %d: Opportunity: %v", i, err)
					return
				}
				followers, outcome := record.AddFollower(o.Followers, acme, &u)
				e := entry(acme, record.KindOpportunity, "opp_1", eventID, u.ID, outcome)
				cs := &store.Changeset{AccountID: acme, EventID: eventID, History: []record.HistoryEntry{e}}
				if outcome == record.Added {
					o.Followers = followers
					cs.Opportunities = []record.Opportunity{o}
				} else {
					cs.Reads = []store.Ref{{Kind: record.KindOpportunity, AccountID: acme, ID: "opp_1", Version: o.Version}}
				}
				// The engine runs workflows between read and commit: let
				// the other workers interleave.
				runtime.Gosched()
				err = s.Commit(ctx, cs)
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					t.Errorf("worker %d: Commit: %v", i, err)
					return
				}
				outcomes[i] = outcome
				return
			}
			t.Errorf("worker %d: still conflicting after %d attempts", i, maxAttempts)
		})
	}
	close(start)
	wg.Wait()

	var added []string
	for i, out := range outcomes {
		switch out {
		case record.Added:
			added = append(added, users[record.MaxFollowers-1+i])
		case record.LimitReached:
		default:
			t.Errorf("worker %d ended with outcome %q, want added or limit_reached", i, out)
		}
	}
	if len(added) != 1 {
		t.Fatalf("%d workers added their user (%v), want exactly 1", len(added), added)
	}
	want := initial
	want.Followers = append(slices.Clone(initial.Followers), added[0])
	want.Version = initial.Version + 1
	wantOpp(t, "opp_1 after the race", getOpp(t, s, acme, "opp_1"), want)

	h := getHistory(t, s, acme, record.KindOpportunity, "opp_1")
	var nAdded, nLimit int
	for _, e := range h {
		switch e.Outcome {
		case record.Added:
			nAdded++
			if e.UserID != added[0] {
				t.Errorf("history says %s was added, but the follower added is %s", e.UserID, added[0])
			}
		case record.LimitReached:
			nLimit++
		}
	}
	if nAdded != 1 || nLimit != workers-1 || len(h) != workers {
		t.Errorf("history has %d entries, %d added and %d limit_reached; want %d, 1 and %d", len(h), nAdded, nLimit, workers, workers-1)
	}
	for i := range workers {
		if id := fmt.Sprintf("add-%02d", i); !processed(t, s, acme, id) {
			t.Errorf("event %s is not in the ledger", id)
		}
	}
}

// 10 workers commit the same event id with different edits, all read at
// the same versions: exactly one changeset is written, whole.
func testSameEventCommittedOnce(t *testing.T, s store.Store) {
	const workers = 10
	ctx := t.Context()
	loadFixture(t, s)
	base := getOpp(t, s, acme, "opp_1")

	errs := make([]error, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		o := base
		o.Stage = fmt.Sprintf("stage-%d", i)
		n := newOpportunity(acme, fmt.Sprintf("new_%d", i), "u_rep", "c_1")
		cs := &store.Changeset{
			AccountID: acme, EventID: "shared", ProcessedAt: at(9),
			Opportunities: []record.Opportunity{n, o},
			History:       []record.HistoryEntry{entry(acme, record.KindOpportunity, n.ID, "shared", "u_rep", record.Added)},
		}
		wg.Go(func() {
			<-start
			errs[i] = s.Commit(ctx, cs)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("workers %d and %d both committed event %q", winner, i, "shared")
			}
			winner = i
		case errors.Is(err, store.ErrAlreadyProcessed), errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("worker %d: got error %v, want nil, ErrAlreadyProcessed or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no worker committed the event")
	}
	o := getOpp(t, s, acme, "opp_1")
	if want := fmt.Sprintf("stage-%d", winner); o.Stage != want || o.Version != base.Version+1 {
		t.Errorf("opp_1 has stage %q at version %d, want %q at %d (worker %d's edit)", o.Stage, o.Version, want, base.Version+1, winner)
	}
	for i := range workers {
		id := fmt.Sprintf("new_%d", i)
		_, err := s.Opportunity(ctx, acme, id)
		// The losers' records were never stored: their History may be
		// ErrNotFound.
		h, herr := s.History(ctx, acme, record.KindOpportunity, id)
		if herr != nil && (i == winner || !errors.Is(herr, store.ErrNotFound)) {
			t.Errorf("History(%s): %v", id, herr)
		}
		if i == winner {
			if err != nil || len(h) != 1 {
				t.Errorf("the winner's %s: %v, %d history entries; want it stored with 1 entry", id, err, len(h))
			}
		} else if !errors.Is(err, store.ErrNotFound) || len(h) != 0 {
			t.Errorf("a loser's %s: error %v, %d history entries; want ErrNotFound and none", id, err, len(h))
		}
	}
	if !processed(t, s, acme, "shared") {
		t.Error("the shared event is not in the ledger")
	}
}

// Commits to different records never conflict, even when they all read the
// same record.
func testDifferentRecordsAllSucceed(t *testing.T, s store.Store) {
	const workers, commits = 8, 10
	ctx := t.Context()
	loadFixture(t, s)
	contact := getContact(t, s, acme, "c_1")

	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			<-start
			o := newOpportunity(acme, fmt.Sprintf("par_%d", i), "u_rep", "c_1")
			for j := range commits {
				eventID := fmt.Sprintf("par-%d-%d", i, j)
				o.Stage = eventID
				cs := &store.Changeset{
					AccountID: acme, EventID: eventID, ProcessedAt: at(9),
					Reads:         []store.Ref{{Kind: record.KindContact, AccountID: acme, ID: "c_1", Version: contact.Version}},
					Opportunities: []record.Opportunity{o},
					History:       []record.HistoryEntry{entry(acme, record.KindOpportunity, o.ID, eventID, "u_rep", record.AlreadyFollowing)},
				}
				if err := s.Commit(ctx, cs); err != nil {
					t.Errorf("worker %d, commit %d: %v", i, j, err)
					return
				}
				o.Version++
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range workers {
		id := fmt.Sprintf("par_%d", i)
		o := getOpp(t, s, acme, id)
		if want := fmt.Sprintf("par-%d-%d", i, commits-1); o.Version != commits || o.Stage != want {
			t.Errorf("%s at version %d with stage %q, want %d and %q", id, o.Version, o.Stage, commits, want)
		}
		h := getHistory(t, s, acme, record.KindOpportunity, id)
		var want []record.HistoryEntry
		for j := range commits {
			want = append(want, entry(acme, record.KindOpportunity, id, fmt.Sprintf("par-%d-%d", i, j), "u_rep", record.AlreadyFollowing))
		}
		wantHistory(t, id, h, want)
		for j := range commits {
			if eventID := fmt.Sprintf("par-%d-%d", i, j); !processed(t, s, acme, eventID) {
				t.Errorf("event %s is not in the ledger", eventID)
			}
		}
	}
}

// Readers running during commits see each record as one commit left it,
// never half of one, and the stale index never loses a record that stays a
// candidate.
func testReadsSeeWholeCommits(t *testing.T, s store.Store) {
	const commits, readers = 50, 3
	ctx := t.Context()
	loadFixture(t, s)
	users := loadUsers(t, s, acme, "u_r", record.MaxFollowers)
	// The state a commit at version v leaves: name, followers and activity
	// all derived from v.
	state := func(o record.Opportunity, v int64) record.Opportunity {
		o.Name = fmt.Sprintf("v%d", v)
		o.Followers = withFollowers(users, int(v)%(record.MaxFollowers+1))
		o.LastOwnerActivityAt = at(int(v))
		return o
	}
	o := getOpp(t, s, acme, "opp_1")
	update(t, s, state(o, o.Version+1), "")

	consistent := func(o record.Opportunity) error {
		if w := state(o, o.Version); o.Name != w.Name || len(o.Followers) != len(w.Followers) || !o.LastOwnerActivityAt.Equal(w.LastOwnerActivityAt) {
			return fmt.Errorf("opp_1 at version %d is half a commit: name %q, %d followers, activity %v", o.Version, o.Name, len(o.Followers), o.LastOwnerActivityAt)
		}
		return nil
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				var err error
				switch r {
				case 0:
					var o record.Opportunity
					if o, err = s.Opportunity(ctx, acme, "opp_1"); err == nil {
						err = consistent(o)
					}
				case 1:
					var os []record.Opportunity
					if os, err = s.OpportunitiesByContact(ctx, acme, "c_1"); err == nil {
						if len(os) != 3 || os[0].ID != "opp_1" {
							err = fmt.Errorf("OpportunitiesByContact(c_1) returned %d records during commits, want 3 starting with opp_1", len(os))
						} else {
							err = consistent(os[0])
						}
					}
				case 2:
					var os []record.Opportunity
					if os, err = s.StaleCandidates(ctx, at(10*commits), 0); err == nil {
						n := 0
						for _, o := range os {
							if o.AccountID == acme && o.ID == "opp_1" {
								n++
								if e := consistent(o); e != nil {
									err = e
								}
							}
						}
						if n != 1 && err == nil {
							err = fmt.Errorf("StaleCandidates returned opp_1 %d times during commits, want once", n)
						}
					}
				}
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
			}
		})
	}
	for range commits {
		o := getOpp(t, s, acme, "opp_1")
		if err := s.Commit(ctx, &store.Changeset{AccountID: acme, Opportunities: []record.Opportunity{state(o, o.Version+1)}}); err != nil {
			t.Errorf("Commit: %v", err)
			break
		}
	}
	close(done)
	wg.Wait()
}
