package cache_test

import (
	"strconv"
	"testing"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/cache"
	"github.com/followflow/followflow/store/memory"
)

const benchOpps = 1000

// benchIDs returns opp_0 … opp_{n-1}, made before the timer starts.
func benchIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "opp_" + strconv.Itoa(i)
	}
	return ids
}

// BenchmarkOpportunityHit reads cached opportunities, the engine's common
// read, over each backend; "direct" is the backend without the cache.
func BenchmarkOpportunityHit(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"memory", func(b *testing.B) store.Store { return memory.New() }},
		{"sqlite", func(b *testing.B) store.Store { return openSQLite(b) }},
		{"redis", func(b *testing.B) store.Store { return openRedis(b) }},
	}
	for _, be := range backends {
		for _, cached := range []bool{false, true} {
			name := be.name + "/direct"
			if cached {
				name = be.name + "/cached"
			}
			b.Run(name, func(b *testing.B) {
				ctx := b.Context()
				var s store.Store = be.open(b)
				b.Cleanup(func() { _ = s.Close() })
				if err := s.Load(ctx, dataset(benchOpps)); err != nil {
					b.Fatal(err)
				}
				if cached {
					s = cache.New(s, cache.Config{})
				}
				ids := benchIDs(benchOpps)
				for _, id := range ids { // warm up
					if _, err := s.Opportunity(ctx, "acme", id); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := s.Opportunity(ctx, "acme", ids[i%benchOpps]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// BenchmarkOpportunityHitParallel reads cached opportunities from every
// CPU at once.
func BenchmarkOpportunityHitParallel(b *testing.B) {
	ctx := b.Context()
	b0 := setup(b, benchOpps, cache.Config{})
	ids := benchIDs(benchOpps)
	for _, id := range ids {
		if _, err := b0.c.Opportunity(ctx, "acme", id); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := b0.c.Opportunity(ctx, "acme", ids[i%benchOpps]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkCommit commits, per op, one opportunity update, one history
// entry and one ledger entry, reusing the changeset as the engine does, on
// memory with and without the cache (as memory's own BenchmarkCommit).
func BenchmarkCommit(b *testing.B) {
	for _, cached := range []bool{false, true} {
		name := "memory/direct"
		if cached {
			name = "memory/cached"
		}
		b.Run(name, func(b *testing.B) {
			ctx := b.Context()
			bd := setup(b, benchOpps, cache.Config{})
			var s store.Store = bd.inner
			if cached {
				s = bd.c
			}
			o, err := s.Opportunity(ctx, "acme", "opp_1")
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]string, 0, b.N)
			for i := range b.N {
				ids = append(ids, "e"+strconv.Itoa(i))
			}
			stages := [2]string{"Demo", "Proposal"}
			var cs store.Changeset
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				o.Stage = stages[i&1]
				cs.Reset()
				cs.AccountID, cs.EventID, cs.ProcessedAt = "acme", ids[i], t0
				cs.Opportunities = append(cs.Opportunities, o)
				cs.History = append(cs.History, record.HistoryEntry{
					AccountID: "acme", Kind: record.KindOpportunity, RecordID: o.ID, At: t0,
					EventID: ids[i], WorkflowID: "wf", Step: "add_followers", UserID: "u_mgr", Outcome: record.AlreadyFollowing,
				})
				if err := s.Commit(ctx, &cs); err != nil {
					b.Fatal(err)
				}
				o.Version++
			}
		})
	}
}

// BenchmarkUserHit resolves a user as the engine does, from the cache.
func BenchmarkUserHit(b *testing.B) {
	ctx := b.Context()
	bd := setup(b, 0, cache.Config{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bd.c.User(ctx, "acme", "u_mgr"); err != nil {
			b.Fatal(err)
		}
	}
}
