package redis_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/internal/redistest"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/memory"
	"github.com/followflow/followflow/store/redis"
)

// TestCommitBatchMatchesCommitOneByOne commits random batches of
// changesets of several accounts (stale versions, repeated event ids, old
// fences, records over the follower limit, contacts moving, stale
// candidates coming and going, invalid changesets) with CommitBatch, and
// the same changesets one by one with the memory store's Commit: every
// changeset's outcome and the final state must be the same. On one server
// a batch is one script call; on a cluster, one call per account.
func TestCommitBatchMatchesCommitOneByOne(t *testing.T) {
	t.Run("server", func(t *testing.T) {
		client, prefix := redistest.Shared(t)
		checkBatchesAgainstMemory(t, client, prefix)
	})
	t.Run("cluster", func(t *testing.T) {
		srv := redistest.Start(t, redistest.WithCluster())
		checkBatchesAgainstMemory(t, srv.ClusterClient(t), "batch")
	})
	// A plain client of a server that refuses scripts over several hash
	// slots (as a cluster node does, or a proxy in front of a cluster):
	// the first batch of several accounts is refused with CROSSSLOT, and
	// sent again one call per account.
	t.Run("plain client of a cluster node", func(t *testing.T) {
		srv := redistest.Start(t, redistest.WithCluster())
		checkBatchesAgainstMemory(t, srv.Client(t), "plain")
	})
}

func checkBatchesAgainstMemory(t *testing.T, client goredis.UniversalClient, prefix string) {
	ctx := t.Context()
	rs, err := redis.New(client, redis.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ms := memory.New()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	accounts := []string{"acme", "globex", "in{it}ech"}
	users := []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10", "u11", "u12"}
	d := &record.Dataset{}
	for _, a := range accounts {
		d.Accounts = append(d.Accounts, record.Account{ID: a, Name: a})
		for _, u := range users {
			d.Users = append(d.Users, record.User{ID: u, AccountID: a, Name: u, Role: record.RoleUser, Active: true})
		}
		d.Opportunities = append(d.Opportunities, record.Opportunity{
			ID: "o1", AccountID: a, Name: "loaded", Status: record.StatusOpen, OwnerID: "u1", ContactID: "c1",
			CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0,
		})
		d.Contacts = append(d.Contacts, record.Contact{ID: "c1", AccountID: a, Name: "loaded", CreatedAt: t0, UpdatedAt: t0})
	}
	for _, s := range []store.Store{rs, ms} {
		if err := s.Load(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	// version returns a version of the record as the memory store holds it,
	// sometimes one behind or ahead (a conflict).
	version := func(kind record.Kind, account, id string) int64 {
		var v int64
		switch kind {
		case record.KindOpportunity:
			if o, err := ms.Opportunity(ctx, account, id); err == nil {
				v = o.Version
			}
		case record.KindContact:
			if c, err := ms.Contact(ctx, account, id); err == nil {
				v = c.Version
			}
		}
		if rng.IntN(8) == 0 {
			v += int64(rng.IntN(3)) - 1
		}
		return max(v, 0)
	}
	oppIDs, contactIDs := []string{"o1", "o2", "o3", "o4"}, []string{"c1", "c2", "c3"}
	outcomes := map[string]int{}
	for round := range 30 {
		var batch []*store.Changeset
		for n := range 1 + rng.IntN(25) {
			a := pick(accounts)
			cs := &store.Changeset{AccountID: a, ProcessedAt: t0.Add(time.Duration(round*100+n) * time.Second)}
			if rng.IntN(6) != 0 {
				cs.EventID = fmt.Sprintf("e%d", rng.IntN(150))
			}
			if rng.IntN(3) != 0 {
				cs.Fence = &store.Fence{Partition: rng.IntN(3), Epoch: int64(round/4 + rng.IntN(3))}
			}
			at := t0.Add(time.Duration(rng.IntN(1000)) * time.Hour)
			written := map[string]bool{}
			for range rng.IntN(3) {
				id := pick(oppIDs)
				if written[id] {
					continue
				}
				written[id] = true
				o, err := ms.Opportunity(ctx, a, id)
				if err != nil {
					o = record.Opportunity{ID: id, AccountID: a, Status: record.StatusOpen, CreatedAt: at}
				}
				o.Version = version(record.KindOpportunity, a, id)
				o.Name = fmt.Sprintf("round %d", round)
				o.Value = float64(rng.IntN(30000)) / 4
				o.ContactID = pick(append(contactIDs, ""))
				o.OwnerID = pick([]string{"", "u1", "u2"})
				o.Status = pick([]string{record.StatusOpen, record.StatusOpen, record.StatusWon})
				o.Tags = []string{pick([]string{"vip", "new", "q\"uote\n"})}
				o.LastOwnerActivityAt, o.UpdatedAt = at, at
				o.Followers = users[:rng.IntN(12)]
				cs.Opportunities = append(cs.Opportunities, o)
				for range rng.IntN(3) {
					cs.History = append(cs.History, record.HistoryEntry{
						AccountID: a, Kind: record.KindOpportunity, RecordID: id, At: at,
						EventID: cs.EventID, WorkflowID: "wf", Step: "add", UserID: pick(users), Outcome: record.Added,
					})
				}
			}
			if rng.IntN(3) == 0 {
				id := pick(contactIDs)
				c, err := ms.Contact(ctx, a, id)
				if err != nil {
					c = record.Contact{ID: id, AccountID: a, CreatedAt: at}
				}
				c.Version = version(record.KindContact, a, id)
				c.Name, c.UpdatedAt = fmt.Sprintf("round %d", round), at
				c.Followers = users[:rng.IntN(11)]
				cs.Contacts = append(cs.Contacts, c)
				cs.History = append(cs.History, record.HistoryEntry{
					AccountID: a, Kind: record.KindContact, RecordID: id, At: at, ActorID: "u1", UserID: "u2",
					Outcome: record.Removed, Detail: "by hand",
				})
			}
			for range rng.IntN(2) {
				kind, id := record.KindOpportunity, pick(oppIDs)
				if rng.IntN(2) == 0 {
					kind, id = record.KindContact, pick(contactIDs)
				}
				if !written[id] {
					cs.Reads = append(cs.Reads, store.Ref{Kind: kind, AccountID: a, ID: id, Version: version(kind, a, id)})
				}
			}
			if rng.IntN(40) == 0 {
				cs.Reads = append(cs.Reads, store.Ref{Kind: record.KindOpportunity, AccountID: "other", ID: "o1"})
			}
			batch = append(batch, cs)
		}
		errs, err := rs.CommitBatch(ctx, batch)
		if err != nil {
			t.Fatalf("round %d: CommitBatch: %v", round, err)
		}
		for i, cs := range batch {
			want := ms.Commit(ctx, cs)
			outcomes[outcome(want)]++
			if outcome(errs[i]) != outcome(want) {
				t.Fatalf("round %d, changeset %d (%s): CommitBatch %v, Commit one by one %v", round, i, cs.EventID, errs[i], want)
			}
		}
	}

	t.Logf("outcomes: %v", outcomes)

	// The same state, read every way.
	got, err := rs.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ms.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Export differs:\nredis  %+v\nmemory %+v", got, want)
	}
	for _, a := range accounts {
		for _, id := range oppIDs {
			compare(t, "Opportunity "+a+"/"+id, func(s store.Store) (any, error) { return s.Opportunity(ctx, a, id) }, rs, ms)
			compare(t, "History "+a+"/"+id, func(s store.Store) (any, error) {
				return s.History(ctx, a, record.KindOpportunity, id)
			}, rs, ms)
		}
		for _, id := range contactIDs {
			compare(t, "Contact "+a+"/"+id, func(s store.Store) (any, error) { return s.Contact(ctx, a, id) }, rs, ms)
			compare(t, "History "+a+"/"+id, func(s store.Store) (any, error) {
				return s.History(ctx, a, record.KindContact, id)
			}, rs, ms)
			compare(t, "OpportunitiesByContact "+a+"/"+id, func(s store.Store) (any, error) {
				return s.OpportunitiesByContact(ctx, a, id)
			}, rs, ms)
		}
		for e := range 150 {
			id := fmt.Sprintf("e%d", e)
			compare(t, "Processed "+a+"/"+id, func(s store.Store) (any, error) { return s.Processed(ctx, a, id) }, rs, ms)
		}
	}
	compare(t, "StaleCandidates", func(s store.Store) (any, error) {
		return s.StaleCandidates(ctx, t0.Add(500*time.Hour), 0)
	}, rs, ms)
}

// outcome names the class of a commit error: nil, a store sentinel, or
// another error.
func outcome(err error) string {
	for _, s := range []error{store.ErrFenced, store.ErrAlreadyProcessed, store.ErrConflict, store.ErrFollowerLimit} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err != nil {
		return "other error"
	}
	return "ok"
}

func compare(t *testing.T, what string, read func(store.Store) (any, error), rs, ms store.Store) {
	t.Helper()
	got, gerr := read(rs)
	want, werr := read(ms)
	if outcome(gerr) != outcome(werr) && !(errors.Is(gerr, store.ErrNotFound) && errors.Is(werr, store.ErrNotFound)) {
		t.Errorf("%s: redis error %v, memory error %v", what, gerr, werr)
		return
	}
	if !reflect.DeepEqual(got, want) && !bothEmpty(got, want) {
		t.Errorf("%s:\nredis  %+v\nmemory %+v", what, got, want)
	}
}

// bothEmpty reports two empty lists, nil or not.
func bothEmpty(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Kind() == reflect.Slice && vb.Kind() == reflect.Slice && va.Len() == 0 && vb.Len() == 0
}

// TestCommitBatchAfterScriptFlush: a server that lost its scripts runs the
// batch once, with EVAL, and reports each changeset's own outcome.
func TestCommitBatchAfterScriptFlush(t *testing.T) {
	ctx := t.Context()
	for _, c := range []struct {
		name   string
		client func(*redistest.Server) goredis.UniversalClient
		opts   []redistest.Option
	}{
		{"server", func(s *redistest.Server) goredis.UniversalClient { return s.Client(t) }, nil},
		{"cluster", func(s *redistest.Server) goredis.UniversalClient { return s.ClusterClient(t) }, []redistest.Option{redistest.WithCluster()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := redistest.Start(t, c.opts...)
			client := c.client(srv)
			s, err := redis.New(client, redis.Config{Prefix: "flush"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Commit(ctx, &store.Changeset{AccountID: "acme", EventID: "e0"}); err != nil {
				t.Fatal(err)
			}
			if err := srv.Client(t).ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			errs, err := s.CommitBatch(ctx, []*store.Changeset{
				{AccountID: "acme", EventID: "e1"},
				{AccountID: "globex", EventID: "e1"},
				{AccountID: "acme", EventID: "e0"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], store.ErrAlreadyProcessed) {
				t.Errorf("after SCRIPT FLUSH: %v; want nil, nil, ErrAlreadyProcessed", errs)
			}
		})
	}
}

// TestCommitBatchStoppedHalfWay: when a command fails in the middle of a
// batch's script (here a record key of the wrong type), the changesets
// before it are whole, ledger entry included, and the ones from it on are
// not written: the batch run again finds the first ones processed.
func TestCommitBatchStoppedHalfWay(t *testing.T) {
	ctx := t.Context()
	client, prefix := redistest.Shared(t)
	s, err := redis.New(client, redis.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Set(ctx, prefix+":{acme}:opp:bad", "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	opp := func(id string) record.Opportunity {
		return record.Opportunity{ID: id, AccountID: "acme", Status: record.StatusOpen}
	}
	batch := []*store.Changeset{
		{AccountID: "acme", EventID: "e1", Fence: &store.Fence{Partition: 1, Epoch: 3}, Opportunities: []record.Opportunity{opp("o1")}},
		{AccountID: "acme", EventID: "e2", Opportunities: []record.Opportunity{opp("bad")}},
		{AccountID: "acme", EventID: "e3", Opportunities: []record.Opportunity{opp("o3")}},
	}
	errs, err := s.CommitBatch(ctx, batch)
	if err == nil {
		for i, e := range errs {
			if e == nil {
				t.Errorf("changeset %d: no error from a script that failed", i)
			}
		}
	}
	for id, want := range map[string]bool{"e1": true, "e2": false, "e3": false} {
		if done, err := s.Processed(ctx, "acme", id); err != nil || done != want {
			t.Errorf("Processed(%s) = %v, %v; want %v", id, done, err, want)
		}
	}
	if o, err := s.Opportunity(ctx, "acme", "o1"); err != nil || o.Version != 1 {
		t.Errorf("o1 = %+v, %v; want it written", o, err)
	}
	if _, err := s.Opportunity(ctx, "acme", "o3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("o3: %v; want it not written", err)
	}
	// e1's fence was recorded with it.
	if err := s.Commit(ctx, &store.Changeset{AccountID: "acme", EventID: "e4", Fence: &store.Fence{Partition: 1, Epoch: 2}}); !errors.Is(err, store.ErrFenced) {
		t.Errorf("older epoch after the half batch: %v; want ErrFenced", err)
	}
	if err := s.Commit(ctx, batch[0]); !errors.Is(err, store.ErrAlreadyProcessed) {
		t.Errorf("e1 again: %v; want ErrAlreadyProcessed", err)
	}
}
