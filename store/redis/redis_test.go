package redis_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/internal/redistest"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/redis"
	"github.com/followflow/followflow/store/storetest"
)

// newStore returns a store on client under prefix.
func newStore(t testing.TB, client goredis.UniversalClient, prefix string) *redis.Store {
	t.Helper()
	s, err := redis.New(client, redis.Config{Prefix: prefix})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		client, prefix := redistest.Shared(t)
		return newStore(t, client, prefix)
	})
}

// TestConformanceCluster runs the suite on a one-node Redis Cluster, which
// refuses any command or script whose keys are not in one hash slot.
func TestConformanceCluster(t *testing.T) {
	srv := redistest.Start(t, redistest.WithCluster())
	client := srv.ClusterClient(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, client, fmt.Sprintf("cluster%d", n.Add(1)))
	})
}

func TestCommitSurvivesRestartWithAOF(t *testing.T) {
	ctx := t.Context()
	srv := redistest.Start(t, redistest.WithAOF())
	s := newStore(t, srv.Client(t), "followflow")

	d := &record.Dataset{
		Accounts: []record.Account{{ID: "acme", Name: "Acme"}},
		Users: []record.User{
			{ID: "u_rep", AccountID: "acme", Name: "Rae", Email: "rae@acme.test", Role: record.RoleUser, Active: true},
			{ID: "u_mgr", AccountID: "acme", Name: "Max", Email: "max@acme.test", Role: record.RoleAdmin, Active: true},
		},
	}
	if err := s.Load(ctx, d); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	opp := record.Opportunity{
		ID: "opp_1", AccountID: "acme", Name: "Renewal", Status: record.StatusOpen, OwnerID: "u_rep",
		ContactID: "c_1", Followers: []string{"u_mgr"}, CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0,
	}
	cs := &store.Changeset{
		AccountID: "acme", EventID: "e1", ProcessedAt: t0, Fence: &store.Fence{Partition: 3, Epoch: 7},
		Opportunities: []record.Opportunity{opp},
		History: []record.HistoryEntry{{
			AccountID: "acme", Kind: record.KindOpportunity, RecordID: "opp_1", At: t0,
			EventID: "e1", UserID: "u_mgr", Outcome: record.Added,
		}},
	}
	if err := s.Commit(ctx, cs); err != nil {
		t.Fatal(err)
	}

	srv.Restart()

	got, err := s.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatalf("Opportunity after restart: %v", err)
	}
	if got.Version != 1 || len(got.Followers) != 1 || got.Followers[0] != "u_mgr" {
		t.Errorf("opportunity after restart = %+v, want version 1 followed by u_mgr", got)
	}
	if ok, err := s.Processed(ctx, "acme", "e1"); err != nil || !ok {
		t.Errorf("Processed(e1) after restart = %v, %v; want true", ok, err)
	}
	if h, err := s.History(ctx, "acme", record.KindOpportunity, "opp_1"); err != nil || len(h) != 1 || h[0].Seq != 1 {
		t.Errorf("History after restart = %+v, %v; want one entry with Seq 1", h, err)
	}
	if u, err := s.UserByEmail(ctx, "acme", "MAX@acme.test"); err != nil || u.ID != "u_mgr" {
		t.Errorf("UserByEmail after restart = %+v, %v", u, err)
	}
	if c, err := s.StaleCandidates(ctx, t0, 0); err != nil || len(c) != 1 {
		t.Errorf("StaleCandidates after restart = %+v, %v; want opp_1", c, err)
	}
	// The fence survived too: an older epoch is refused.
	old := &store.Changeset{AccountID: "acme", EventID: "e2", Fence: &store.Fence{Partition: 3, Epoch: 6}}
	if err := s.Commit(ctx, old); !errors.Is(err, store.ErrFenced) {
		t.Errorf("Commit with an older epoch after restart: err = %v, want ErrFenced", err)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   redis.Config
		field string // "" when valid
	}{
		{"zero value", redis.Config{}, ""},
		{"ttl", redis.Config{Prefix: "ff", LedgerTTL: 24 * time.Hour}, ""},
		{"brace in prefix", redis.Config{Prefix: "ff{x}"}, "Prefix"},
		{"negative ttl", redis.Config{LedgerTTL: -time.Second}, "LedgerTTL"},
		{"sub-millisecond ttl", redis.Config{LedgerTTL: time.Microsecond}, "LedgerTTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.WithDefaults().Validate()
			var cerr *redis.ConfigError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.field != "" && !errors.As(err, &cerr):
				t.Fatalf("Validate() = %v, want a *ConfigError", err)
			case tt.field != "" && cerr.Field != tt.field:
				t.Fatalf("Validate() names field %q, want %q", cerr.Field, tt.field)
			}
		})
	}
	if got := (redis.Config{}).WithDefaults().Prefix; got != redis.DefaultPrefix {
		t.Errorf("default Prefix = %q, want %q", got, redis.DefaultPrefix)
	}
	if _, err := redis.New(nil, redis.Config{}); err == nil {
		t.Error("New(nil client) succeeded")
	}
}

// TestAccountIDsCannotCollide checks that account ids with braces, which
// would otherwise end the hash tag early, do not share keys.
func TestAccountIDsCannotCollide(t *testing.T) {
	ctx := t.Context()
	client, prefix := redistest.Shared(t)
	s := newStore(t, client, prefix)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	// Without escaping, both keys would be "<p>:{a}:opp:x}:opp:y".
	writes := []struct{ account, id string }{{"a", "x}:opp:y"}, {"a}:opp:x", "y"}, {"%7D", "z"}, {"}", "z"}}
	for _, w := range writes {
		cs := &store.Changeset{AccountID: w.account, Opportunities: []record.Opportunity{{
			ID: w.id, AccountID: w.account, Name: w.account + "/" + w.id, Status: record.StatusOpen, CreatedAt: t0,
		}}}
		if err := s.Commit(ctx, cs); err != nil {
			t.Fatalf("Commit %s/%s: %v", w.account, w.id, err)
		}
	}
	for _, w := range writes {
		o, err := s.Opportunity(ctx, w.account, w.id)
		if err != nil || o.Name != w.account+"/"+w.id || o.Version != 1 {
			t.Errorf("Opportunity(%q, %q) = %q v%d, %v", w.account, w.id, o.Name, o.Version, err)
		}
	}
}

func TestStaleCandidatesOrdersBelowTheMillisecond(t *testing.T) {
	ctx := t.Context()
	client, prefix := redistest.Shared(t)
	s := newStore(t, client, prefix)
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	// Same millisecond, so same score; the ids sort against the times.
	times := map[string]time.Duration{"a": 900 * time.Microsecond, "b": 500 * time.Microsecond, "c": 100 * time.Microsecond}
	for id, dt := range times {
		at := base.Add(dt)
		cs := &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{{
			ID: id, AccountID: "acme", Status: record.StatusOpen, OwnerID: "u", CreatedAt: at, LastOwnerActivityAt: at,
		}}}
		if err := s.Commit(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		cutoff time.Duration
		limit  int
		want   string
	}{
		{time.Millisecond, 0, "cba"},
		{time.Millisecond, 1, "c"},
		{time.Millisecond, 2, "cb"},
		{600 * time.Microsecond, 0, "cb"},
		{100 * time.Microsecond, 5, "c"},
		{99 * time.Microsecond, 0, ""},
	}
	for _, tt := range tests {
		got, err := s.StaleCandidates(ctx, base.Add(tt.cutoff), tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		ids := ""
		for _, o := range got {
			ids += o.ID
		}
		if ids != tt.want {
			t.Errorf("StaleCandidates(base+%v, %d) = %q, want %q", tt.cutoff, tt.limit, ids, tt.want)
		}
	}
}

func BenchmarkCommit(b *testing.B) {
	ctx := b.Context()
	client, prefix := redistest.Shared(b)
	s := newStore(b, client, prefix)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	opp := record.Opportunity{
		ID: "opp_1", AccountID: "acme", Name: "Renewal", Pipeline: "Sales", Stage: "Proposal",
		Status: record.StatusOpen, Value: 18000, OwnerID: "u_rep", ContactID: "c_1",
		Tags: []string{"renewal"}, Followers: []string{"u_mgr"}, CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0,
	}
	cs := &store.Changeset{AccountID: "acme", Fence: &store.Fence{Partition: 1, Epoch: 1}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		cs.Reset()
		cs.AccountID = "acme"
		cs.Fence = &store.Fence{Partition: 1, Epoch: 1}
		cs.EventID = fmt.Sprintf("e%d", i)
		cs.ProcessedAt = t0
		cs.Reads = append(cs.Reads, store.Ref{Kind: record.KindContact, AccountID: "acme", ID: "c_1"})
		o := opp
		o.Version = int64(i)
		o.UpdatedAt = t0.Add(time.Duration(i) * time.Second)
		cs.Opportunities = append(cs.Opportunities, o)
		cs.History = append(cs.History, record.HistoryEntry{
			AccountID: "acme", Kind: record.KindOpportunity, RecordID: "opp_1", At: o.UpdatedAt,
			EventID: cs.EventID, WorkflowID: "wf", Step: "Loop in leadership", UserID: "u_mgr", Outcome: record.AlreadyFollowing,
		})
		if err := s.Commit(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommitParallel commits to many records of many accounts from
// parallel goroutines, as many workers would.
func BenchmarkCommitParallel(b *testing.B) {
	ctx := b.Context()
	client, prefix := redistest.Shared(b)
	s := newStore(b, client, prefix)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var worker atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		w := worker.Add(1)
		account := fmt.Sprintf("acct%d", w%8)
		versions := map[string]int64{}
		cs := &store.Changeset{}
		for i := 0; pb.Next(); i++ {
			id := fmt.Sprintf("opp_%d_%d", w, i%100)
			cs.Reset()
			cs.AccountID = account
			cs.EventID = fmt.Sprintf("e%d_%d", w, i)
			cs.Opportunities = append(cs.Opportunities, record.Opportunity{
				ID: id, AccountID: account, Status: record.StatusOpen, OwnerID: "u", ContactID: "c",
				Followers: []string{"u2"}, CreatedAt: t0, LastOwnerActivityAt: t0, Version: versions[id],
			})
			if err := s.Commit(ctx, cs); err != nil {
				b.Error(err)
				return
			}
			versions[id]++
		}
	})
}

// TestStaleIndexIsLazy: an owner's activity leaves the opportunity's stale
// score where it was (no ZADD); StaleCandidates leaves it out, moves its
// score, and still returns the first candidates in order when it had taken
// the place of one behind it (limit 1: acme/f, found early, hides acme/t,
// which comes before globex/u).
func TestStaleIndexIsLazy(t *testing.T) {
	ctx := t.Context()
	client, prefix := redistest.Shared(t)
	s := newStore(t, client, prefix)
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	put := func(account, id string, version int64, activity time.Time) {
		t.Helper()
		cs := &store.Changeset{AccountID: account, Opportunities: []record.Opportunity{{
			ID: id, AccountID: account, Status: record.StatusOpen, OwnerID: "u", CreatedAt: base,
			LastOwnerActivityAt: activity, Version: version,
		}}}
		if err := s.Commit(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	score := func(account, id string) float64 {
		t.Helper()
		var key string
		for _, k := range client.Keys(ctx, prefix+"*"+account+"*:stale").Val() {
			key = k
		}
		v, err := client.ZScore(ctx, key, id).Result()
		if err != nil {
			t.Fatalf("ZSCORE %s %s: %v", key, id, err)
		}
		return v
	}
	put("acme", "f", 0, at(1))
	put("acme", "t", 0, at(2))
	put("globex", "u", 0, at(3))
	put("acme", "f", 1, at(100)) // the owner was active: f moves later
	if got, want := score("acme", "f"), float64(at(1).UnixMilli()); got != want {
		t.Errorf("after an activity the stale score of acme/f is %v, want %v (left where it was)", got, want)
	}
	got, err := s.StaleCandidates(ctx, at(10), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "t" {
		t.Errorf("StaleCandidates(limit 1) = %v, want acme/t", got)
	}
	if got, want := score("acme", "f"), float64(at(100).UnixMilli()); got != want {
		t.Errorf("after the scan the stale score of acme/f is %v, want %v", got, want)
	}
	// An activity backward, which is rare, moves the score at once.
	put("acme", "f", 2, at(0))
	if got, want := score("acme", "f"), float64(at(0).UnixMilli()); got != want {
		t.Errorf("after an activity backward the stale score of acme/f is %v, want %v", got, want)
	}
}
