package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// BenchmarkCommit measures one event's commit: an opportunity update, one
// history entry and the ledger entry, on a store of benchOpps opportunities.
func BenchmarkCommit(b *testing.B) {
	s, opps := benchSetup(b)
	ctx := b.Context() // one that can end, as the worker's does
	cs := &store.Changeset{}
	b.ReportAllocs()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		fillChangeset(cs, opps, i)
		if err := s.Commit(ctx, cs); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportRates(b, cpu0)
}

// reportRates reports commits per second of wall time and the process's CPU
// time per commit, which the load of a shared machine disturbs less.
func reportRates(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const benchOpps = 1000

// benchSetup returns a store holding benchOpps opportunities, and them.
func benchSetup(b *testing.B) (*Store, []record.Opportunity) {
	b.Helper()
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	d := dataset()
	d.Opportunities = d.Opportunities[:0]
	for i := range benchOpps {
		d.Opportunities = append(d.Opportunities, record.Opportunity{
			ID: fmt.Sprintf("opp_%04d", i), AccountID: "acme", Name: "Deal", Pipeline: "Sales", Stage: "New",
			Status: record.StatusOpen, Value: 1000, OwnerID: "u_rep", ContactID: "c_1",
			Tags: []string{"q4"}, Followers: []string{"u_rep"}, CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0,
		})
	}
	if err := s.Load(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	for i := range d.Opportunities {
		d.Opportunities[i].Version = 1
	}
	return s, d.Opportunities
}

// fillChangeset makes cs event number i: a stage change of one of opps
// (whose version it bumps, as the commit will), with one history entry and
// the fence of its partition.
func fillChangeset(cs *store.Changeset, opps []record.Opportunity, i int) {
	o := &opps[i%len(opps)]
	cs.Reset()
	cs.AccountID, cs.EventID, cs.ProcessedAt = "acme", fmt.Sprintf("ev-%d", i), t0
	cs.Fence = &store.Fence{Partition: i % 16, Epoch: 1}
	next := *o
	next.Stage = fmt.Sprintf("S%d", i%7)
	cs.Opportunities = append(cs.Opportunities, next)
	cs.History = append(cs.History, record.HistoryEntry{
		AccountID: "acme", Kind: record.KindOpportunity, RecordID: o.ID, At: t0, EventID: cs.EventID,
		WorkflowID: "wf", Step: "Loop in leadership", UserID: "u_mgr", Outcome: record.Added,
	})
	o.Version++
}

// BenchmarkCommitBatch is BenchmarkCommit with the changesets committed by
// CommitBatch, batchSize at a time; ns/op is per changeset.
func BenchmarkCommitBatch(b *testing.B) {
	for _, batchSize := range []int{10, 100} {
		b.Run(fmt.Sprint(batchSize), func(b *testing.B) {
			s, opps := benchSetup(b)
			ctx := b.Context()
			batch := make([]*store.Changeset, 0, batchSize)
			pool := make([]store.Changeset, batchSize)
			b.ReportAllocs()
			cpu0 := cpuTime()
			i := 0
			flush := func() {
				errs, err := s.CommitBatch(ctx, batch)
				if err != nil {
					b.Fatal(err)
				}
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				batch = batch[:0]
			}
			for b.Loop() {
				cs := &pool[len(batch)]
				fillChangeset(cs, opps, i)
				batch = append(batch, cs)
				if len(batch) == batchSize {
					flush()
				}
				i++
			}
			if len(batch) > 0 {
				flush()
			}
			reportRates(b, cpu0)
		})
	}
}

// BenchmarkOpportunity measures the read the engine makes for each event.
func BenchmarkOpportunity(b *testing.B) {
	s, opps := benchSetup(b)
	ctx := b.Context() // one that can end, as the worker's does
	b.ReportAllocs()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		if _, err := s.Opportunity(ctx, "acme", opps[i%len(opps)].ID); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkReadOpportunities reads a batch's opportunities that a cache
// would miss, half of them not stored (created by the batch), in one query
// ("one") or one read each ("each"); ns/op is per key.
func BenchmarkReadOpportunities(b *testing.B) {
	s, opps := benchSetup(b)
	keys := make([]store.Key, 40)
	for i := range keys {
		keys[i] = store.Key{AccountID: "acme", ID: opps[(i*37)%len(opps)].ID}
		if i%2 == 1 {
			keys[i].ID += "-new"
		}
	}
	ctx := b.Context()
	b.Run("one", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.ReadOpportunities(ctx, keys); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
	})
	b.Run("each", func(b *testing.B) {
		for b.Loop() {
			for _, k := range keys {
				if _, err := s.Opportunity(ctx, k.AccountID, k.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
	})
}
