package memory_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/memory"
)

var benchT0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// benchStore returns a store with one account, a few users and n open,
// owned opportunities opp_0 … opp_{n-1}.
func benchStore(b *testing.B, n int) *memory.Store {
	b.Helper()
	d := &record.Dataset{Accounts: []record.Account{{ID: "acme", Name: "Acme"}}}
	for _, id := range []string{"u_rep", "u_mgr"} {
		d.Users = append(d.Users, record.User{ID: id, AccountID: "acme", Name: id, Email: id + "@acme.test", Role: record.RoleUser, Active: true})
	}
	for i := range n {
		d.Opportunities = append(d.Opportunities, record.Opportunity{
			ID: "opp_" + strconv.Itoa(i), AccountID: "acme", Name: "Deal", Pipeline: "Sales", Stage: "New",
			Status: record.StatusOpen, Value: 18000, OwnerID: "u_rep", ContactID: "c_1",
			Tags: []string{"q4"}, Followers: []string{"u_mgr"},
			CreatedAt: benchT0, UpdatedAt: benchT0, LastOwnerActivityAt: benchT0.Add(time.Duration(i) * time.Second),
		})
	}
	s := memory.New()
	if err := s.Load(b.Context(), d); err != nil {
		b.Fatal(err)
	}
	return s
}

// eventIDs returns n distinct event ids, made before the timer starts so
// that the benchmark measures the store.
func eventIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + strconv.Itoa(i)
	}
	return ids
}

// BenchmarkCommit commits, per op, one opportunity update (its stage), one
// history entry and one ledger entry, reusing the changeset as the engine
// does.
func BenchmarkCommit(b *testing.B) {
	ctx := b.Context()
	s := benchStore(b, 1000)
	o, err := s.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		b.Fatal(err)
	}
	ids := eventIDs("e", b.N)
	stages := [2]string{"Demo", "Proposal"}
	var cs store.Changeset
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		o.Stage = stages[i&1]
		cs.Reset()
		cs.AccountID, cs.EventID, cs.ProcessedAt = "acme", ids[i], benchT0
		cs.Opportunities = append(cs.Opportunities, o)
		cs.History = append(cs.History, record.HistoryEntry{
			AccountID: "acme", Kind: record.KindOpportunity, RecordID: o.ID, At: benchT0,
			EventID: ids[i], WorkflowID: "wf", Step: "add_followers", UserID: "u_mgr", Outcome: record.AlreadyFollowing,
		})
		if err := s.Commit(ctx, &cs); err != nil {
			b.Fatal(err)
		}
		o.Version++
	}
}

// BenchmarkCommitParts splits BenchmarkCommit's cost: the update alone, and
// with the ledger entry or the history entry. The ledger and history grow
// with every op, and their growth is most of a commit's cost.
func BenchmarkCommitParts(b *testing.B) {
	for _, c := range []struct {
		name            string
		ledger, history bool
	}{{"update", false, false}, {"update+ledger", true, false}, {"update+history", false, true}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := b.Context()
			s := benchStore(b, 1000)
			o, err := s.Opportunity(ctx, "acme", "opp_1")
			if err != nil {
				b.Fatal(err)
			}
			ids := eventIDs("e", b.N)
			var cs store.Changeset
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				cs.Reset()
				cs.AccountID = "acme"
				if c.ledger {
					cs.EventID = ids[i]
				}
				cs.Opportunities = append(cs.Opportunities, o)
				if c.history {
					cs.History = append(cs.History, record.HistoryEntry{
						AccountID: "acme", Kind: record.KindOpportunity, RecordID: o.ID, At: benchT0,
						EventID: ids[i], WorkflowID: "wf", Step: "add_followers", UserID: "u_mgr", Outcome: record.AlreadyFollowing,
					})
				}
				if err := s.Commit(ctx, &cs); err != nil {
					b.Fatal(err)
				}
				o.Version++
			}
		})
	}
}

// BenchmarkEvent is what the engine asks of the store for a typical event:
// read the opportunity and a user, then commit as BenchmarkCommit does, with
// the owner's activity moving forward (the stale index moves too).
func BenchmarkEvent(b *testing.B) {
	ctx := b.Context()
	s := benchStore(b, 1000)
	ids := eventIDs("e", b.N)
	var cs store.Changeset
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		o, err := s.Opportunity(ctx, "acme", "opp_1")
		if err != nil {
			b.Fatal(err)
		}
		u, err := s.User(ctx, "acme", "u_mgr")
		if err != nil {
			b.Fatal(err)
		}
		o.LastOwnerActivityAt = o.LastOwnerActivityAt.Add(time.Second)
		cs.Reset()
		cs.AccountID, cs.EventID, cs.ProcessedAt = "acme", ids[i], benchT0
		cs.Opportunities = append(cs.Opportunities, o)
		cs.History = append(cs.History, record.HistoryEntry{
			AccountID: "acme", Kind: record.KindOpportunity, RecordID: o.ID, At: benchT0,
			EventID: ids[i], WorkflowID: "wf", Step: "add_followers", UserID: u.ID, Outcome: record.AlreadyFollowing,
		})
		if err := s.Commit(ctx, &cs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventParallel runs BenchmarkEvent's work from GOMAXPROCS
// goroutines, each on opportunities of its own, as partitioned workers do.
func BenchmarkEventParallel(b *testing.B) {
	ctx := b.Context()
	s := benchStore(b, 1000)
	ids := eventIDs("e", b.N+1000)
	var next, worker atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		oppID := "opp_" + strconv.Itoa(int(worker.Add(1)))
		var cs store.Changeset
		for pb.Next() {
			o, err := s.Opportunity(ctx, "acme", oppID)
			if err != nil {
				b.Error(err)
				return
			}
			u, err := s.User(ctx, "acme", "u_mgr")
			if err != nil {
				b.Error(err)
				return
			}
			id := ids[next.Add(1)]
			o.Stage = id
			cs.Reset()
			cs.AccountID, cs.EventID, cs.ProcessedAt = "acme", id, benchT0
			cs.Opportunities = append(cs.Opportunities, o)
			cs.History = append(cs.History, record.HistoryEntry{
				AccountID: "acme", Kind: record.KindOpportunity, RecordID: o.ID, At: benchT0,
				EventID: id, WorkflowID: "wf", Step: "add_followers", UserID: u.ID, Outcome: record.AlreadyFollowing,
			})
			if err := s.Commit(ctx, &cs); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkOpportunity is one read.
func BenchmarkOpportunity(b *testing.B) {
	ctx := b.Context()
	s := benchStore(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Opportunity(ctx, "acme", "opp_1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStaleCandidates returns 100 candidates out of 100,000
// opportunities.
func BenchmarkStaleCandidates(b *testing.B) {
	ctx := b.Context()
	s := benchStore(b, 100_000)
	cutoff := benchT0.Add(99 * time.Second)
	b.ReportAllocs()
	for b.Loop() {
		os, err := s.StaleCandidates(ctx, cutoff, 0)
		if err != nil || len(os) != 100 {
			b.Fatal(len(os), err)
		}
	}
}
