package cache_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/followflow/followflow/internal/redistest"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/cache"
	"github.com/followflow/followflow/store/memory"
	"github.com/followflow/followflow/store/redis"
	"github.com/followflow/followflow/store/sqlite"
	"github.com/followflow/followflow/store/storetest"
)

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return cache.New(memory.New(), cache.Config{}) })
}

// A cache far smaller than the suite's data evicts all the time: the suite
// must not notice.
func TestConformanceMemoryTinyCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return cache.New(memory.New(), cache.Config{MaxRecords: 2, MaxUsers: 1})
	})
}

// Without the backend's CommitBatch, the suite runs as on memory.
func TestConformanceMemoryWithoutBatch(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return cache.New(noBatch{memory.New()}, cache.Config{}) })
}

func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return cache.New(openSQLite(t), cache.Config{}) })
}

func TestConformanceRedis(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return cache.New(openRedis(t), cache.Config{}) })
}

func openSQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "followflow.db"), sqlite.Config{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	return s
}

func openRedis(t testing.TB) *redis.Store {
	t.Helper()
	client, prefix := redistest.Shared(t)
	s, err := redis.New(client, redis.Config{Prefix: prefix})
	if err != nil {
		t.Fatalf("redis.New: %v", err)
	}
	return s
}

// noBatch hides the backend's CommitBatch.
type noBatch struct{ store.Store }

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// dataset holds account acme, users u_rep and u_mgr (both active), contact
// c_1 and opportunities opp_0 … opp_{n-1} of c_1.
func dataset(n int) *record.Dataset {
	d := &record.Dataset{
		Accounts: []record.Account{{ID: "acme", Name: "Acme"}},
		Users: []record.User{
			{ID: "u_rep", AccountID: "acme", Name: "Rae", Email: "rae@acme.test", Role: record.RoleUser, Active: true},
			{ID: "u_mgr", AccountID: "acme", Name: "Max", Email: "max@acme.test", Role: record.RoleAdmin, Active: true},
		},
		Contacts: []record.Contact{{
			ID: "c_1", AccountID: "acme", Name: "Gil", OwnerID: "u_rep", Tags: []string{"vip"}, Followers: []string{"u_rep"},
			CreatedAt: t0, UpdatedAt: t0,
		}},
	}
	for i := range n {
		d.Opportunities = append(d.Opportunities, record.Opportunity{
			ID: fmt.Sprintf("opp_%d", i), AccountID: "acme", Name: "Deal", Pipeline: "Sales", Stage: "New",
			Status: record.StatusOpen, OwnerID: "u_rep", ContactID: "c_1",
			Tags: []string{"q4"}, Followers: []string{"u_mgr"},
			CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0,
		})
	}
	return d
}

// bundle is what setup returns: a memory backend loaded with dataset(n),
// the cache over it, and the cache's clock.
type bundle struct {
	inner *memory.Store
	c     *cache.Store
	clock *fakeClock
}

func setup(t testing.TB, n int, cfg cache.Config) bundle {
	t.Helper()
	inner := memory.New()
	if err := inner.Load(t.Context(), dataset(n)); err != nil {
		t.Fatalf("Load: %v", err)
	}
	clock := &fakeClock{now: t0}
	cfg.Clock = clock.Now
	return bundle{inner: inner, c: cache.New(inner, cfg), clock: clock}
}

func getOpp(t *testing.T, s store.Store, id string) record.Opportunity {
	t.Helper()
	o, err := s.Opportunity(t.Context(), "acme", id)
	if err != nil {
		t.Fatalf("Opportunity(%s): %v", id, err)
	}
	return o
}

// update commits o, read at its version, with a new stage.
func update(s store.Store, ctx context.Context, o record.Opportunity, stage string) error {
	o.Stage = stage
	return s.Commit(ctx, &store.Changeset{AccountID: o.AccountID, Opportunities: []record.Opportunity{o}})
}

// wantStats fails the test unless the cache's counters moved by the given
// hits and misses since before.
func wantStats(t *testing.T, c *cache.Store, before [2]uint64, hits, misses uint64) [2]uint64 {
	t.Helper()
	h, m := c.Stats()
	if h-before[0] != hits || m-before[1] != misses {
		t.Errorf("Stats moved by %d hits and %d misses, want %d and %d", h-before[0], m-before[1], hits, misses)
	}
	return [2]uint64{h, m}
}

func stats(c *cache.Store) [2]uint64 {
	h, m := c.Stats()
	return [2]uint64{h, m}
}

// Another worker commits behind the cache: the cached copy is stale, the
// commit built on it conflicts, and the record is then read fresh.
func TestCommitOnStaleCopyConflictsThenRereads(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, 3, cache.Config{})
	other := cache.New(b.inner, cache.Config{}) // a second worker
	st := stats(b.c)

	mine := getOpp(t, b.c, "opp_1")
	st = wantStats(t, b.c, st, 0, 1)
	if err := update(other, ctx, getOpp(t, other, "opp_1"), "Demo"); err != nil {
		t.Fatalf("other worker's commit: %v", err)
	}
	if o := getOpp(t, b.c, "opp_1"); o.Version != mine.Version || o.Stage != "New" {
		t.Errorf("cached opp_1 at version %d, stage %q; want the cached version %d, stage New", o.Version, o.Stage, mine.Version)
	}
	st = wantStats(t, b.c, st, 1, 0)

	if err := update(b.c, ctx, mine, "Proposal"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("commit on the stale copy: got %v, want ErrConflict", err)
	}
	fresh := getOpp(t, b.c, "opp_1")
	wantStats(t, b.c, st, 0, 1)
	if fresh.Version != mine.Version+1 || fresh.Stage != "Demo" {
		t.Errorf("after the conflict opp_1 is at version %d, stage %q; want %d, Demo (re-read)", fresh.Version, fresh.Stage, mine.Version+1)
	}
	if err := update(b.c, ctx, fresh, "Proposal"); err != nil {
		t.Fatalf("re-run on fresh state: %v", err)
	}
	if o, _ := b.inner.Opportunity(ctx, "acme", "opp_1"); o.Stage != "Proposal" || o.Version != mine.Version+2 {
		t.Errorf("backend holds opp_1 at version %d, stage %q; want %d, Proposal", o.Version, o.Stage, mine.Version+2)
	}
}

// Every kind of refused commit drops what the changeset read and wrote.
func TestFailedCommitForgetsItsRecords(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		cs   func(o record.Opportunity, ct record.Contact) *store.Changeset
		want error
	}{
		{"AlreadyProcessed", func(o record.Opportunity, ct record.Contact) *store.Changeset {
			return &store.Changeset{AccountID: "acme", EventID: "done", Opportunities: []record.Opportunity{o},
				Reads: []store.Ref{{Kind: record.KindContact, AccountID: "acme", ID: "c_1", Version: ct.Version}}}
		}, store.ErrAlreadyProcessed},
		{"FollowerLimit", func(o record.Opportunity, ct record.Contact) *store.Changeset {
			for i := range record.MaxFollowers + 1 {
				o.Followers = append(o.Followers, fmt.Sprintf("u_%d", i))
			}
			return &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{o},
				Reads: []store.Ref{{Kind: record.KindContact, AccountID: "acme", ID: "c_1", Version: ct.Version}}}
		}, store.ErrFollowerLimit},
		{"ConflictOnRead", func(o record.Opportunity, ct record.Contact) *store.Changeset {
			return &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{o},
				Reads: []store.Ref{{Kind: record.KindContact, AccountID: "acme", ID: "c_1", Version: ct.Version + 5}}}
		}, store.ErrConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b := setup(t, 2, cache.Config{})
			if err := b.c.Commit(ctx, &store.Changeset{AccountID: "acme", EventID: "done"}); err != nil {
				t.Fatal(err)
			}
			o := getOpp(t, b.c, "opp_1")
			ct, err := b.c.Contact(ctx, "acme", "c_1")
			if err != nil {
				t.Fatal(err)
			}
			if err := b.c.Commit(ctx, c.cs(o, ct)); !errors.Is(err, c.want) {
				t.Fatalf("Commit: got %v, want %v", err, c.want)
			}
			st := stats(b.c)
			getOpp(t, b.c, "opp_1")
			if _, err := b.c.Contact(ctx, "acme", "c_1"); err != nil {
				t.Fatal(err)
			}
			wantStats(t, b.c, st, 0, 2)
		})
	}
}

// A successful commit caches the records it wrote, at their new version.
func TestCommitCachesWrittenRecords(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, 2, cache.Config{})
	o := getOpp(t, b.c, "opp_0")
	n := record.Opportunity{ID: "opp_new", AccountID: "acme", Name: "New", Status: record.StatusOpen, ContactID: "c_1", CreatedAt: t0, UpdatedAt: t0}
	ct := record.Contact{ID: "c_new", AccountID: "acme", Name: "New", CreatedAt: t0, UpdatedAt: t0}
	o.Stage = "Won"
	if err := b.c.Commit(ctx, &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{o, n}, Contacts: []record.Contact{ct}}); err != nil {
		t.Fatal(err)
	}
	st := stats(b.c)
	for _, want := range []record.Opportunity{{ID: "opp_0", Stage: "Won", Version: o.Version + 1}, {ID: "opp_new", Version: 1}} {
		got := getOpp(t, b.c, want.ID)
		if got.Version != want.Version || got.Stage != want.Stage {
			t.Errorf("%s at version %d, stage %q; want %d, %q", want.ID, got.Version, got.Stage, want.Version, want.Stage)
		}
		if stored, _ := b.inner.Opportunity(ctx, "acme", want.ID); stored.Version != got.Version {
			t.Errorf("%s cached at version %d, stored at %d", want.ID, got.Version, stored.Version)
		}
	}
	if got, err := b.c.Contact(ctx, "acme", "c_new"); err != nil || got.Version != 1 {
		t.Errorf("c_new: %+v, %v; want version 1", got, err)
	}
	wantStats(t, b.c, st, 3, 0)
}

// A backend may change the changeset it commits: the cache keeps the
// versions it was given.
func TestCommitKeepsVersionsWhenBackendChangesChangeset(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	inner := memory.New()
	if err := inner.Load(ctx, dataset(1)); err != nil {
		t.Fatal(err)
	}
	c := cache.New(bumping{inner}, cache.Config{})
	o := getOpp(t, c, "opp_0")
	for i := range 3 {
		if err := update(c, ctx, o, fmt.Sprintf("s%d", i)); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		o = getOpp(t, c, "opp_0")
	}
	if stored, _ := inner.Opportunity(ctx, "acme", "opp_0"); o.Version != stored.Version {
		t.Errorf("cached version %d, stored %d", o.Version, stored.Version)
	}
}

// bumping bumps the versions of the changeset it commits, as the contract
// allows.
type bumping struct{ store.Store }

func (s bumping) Commit(ctx context.Context, cs *store.Changeset) error {
	err := s.Store.Commit(ctx, cs)
	if err == nil {
		for i := range cs.Opportunities {
			cs.Opportunities[i].Version += 10
		}
	}
	return err
}

// A record that is not found is not cached: another worker may create it.
func TestRecordNotFoundIsNotCached(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, 1, cache.Config{})
	for range 2 {
		if _, err := b.c.Opportunity(ctx, "acme", "opp_later"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Opportunity(opp_later): got %v, want ErrNotFound", err)
		}
		if _, err := b.c.Contact(ctx, "acme", "c_later"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Contact(c_later): got %v, want ErrNotFound", err)
		}
	}
	if h, m := b.c.Stats(); h != 0 || m != 4 {
		t.Errorf("Stats = %d hits, %d misses; want 0, 4", h, m)
	}
	n := record.Opportunity{ID: "opp_later", AccountID: "acme", Status: record.StatusOpen, CreatedAt: t0, UpdatedAt: t0}
	if err := b.inner.Commit(ctx, &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{n}}); err != nil {
		t.Fatal(err)
	}
	if o := getOpp(t, b.c, "opp_later"); o.Version != 1 {
		t.Errorf("opp_later at version %d, want 1", o.Version)
	}
}

func TestStatsCountHitsAndMisses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, 3, cache.Config{})
	for range 3 {
		for _, id := range []string{"opp_0", "opp_1", "opp_2"} {
			getOpp(t, b.c, id)
		}
		if _, err := b.c.Contact(ctx, "acme", "c_1"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.c.User(ctx, "acme", "u_rep"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.c.UserByEmail(ctx, "acme", "nobody@acme.test"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UserByEmail(nobody): %v", err)
		}
	}
	if h, m := b.c.Stats(); h != 12 || m != 6 {
		t.Errorf("Stats = %d hits, %d misses; want 12, 6", h, m)
	}
}

// The cache never holds more than MaxRecords records, and evicting keeps
// every answer right.
func TestEvictionBound(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 7, 64, 1000} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			const n = 3000
			b := setup(t, n, cache.Config{MaxRecords: limit})
			for round := range 2 {
				for i := range n {
					id := fmt.Sprintf("opp_%d", i)
					o := getOpp(t, b.c, id)
					// Every third record is updated in round 0.
					want := int64(1)
					if i%3 == 0 {
						want += int64(round)
					}
					if o.ID != id || o.Version != want {
						t.Fatalf("round %d: Opportunity(%s) returned %s at version %d, want %d", round, id, o.ID, o.Version, want)
					}
					if round == 0 && i%3 == 0 {
						if err := update(b.c, ctx, o, "Demo"); err != nil {
							t.Fatalf("commit %s: %v", id, err)
						}
					}
					if l := b.c.Len(); l > limit {
						t.Fatalf("%d records cached, more than MaxRecords %d", l, limit)
					}
				}
			}
			if l := b.c.Len(); l < min(limit, n)*3/4 {
				t.Errorf("only %d records cached with MaxRecords %d after reading %d", l, limit, n)
			}
		})
	}
}

// A record read again and again stays cached while a scan of others goes
// through the cache.
func TestEvictionKeepsRecentlyUsed(t *testing.T) {
	t.Parallel()
	const n = 2000
	b := setup(t, n, cache.Config{MaxRecords: 100})
	getOpp(t, b.c, "opp_0")
	for i := 1; i < n; i++ {
		st := stats(b.c)
		getOpp(t, b.c, "opp_0")
		if h, _ := b.c.Stats(); h != st[0]+1 {
			t.Fatalf("opp_0 was evicted after reading %d other records", i-1)
		}
		getOpp(t, b.c, fmt.Sprintf("opp_%d", i))
	}
}

func TestUserTTL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, 0, cache.Config{UserTTL: 5 * time.Second})
	get := func(what string, wantActive bool, wantHit bool) {
		t.Helper()
		st := stats(b.c)
		u, err := b.c.User(ctx, "acme", "u_rep")
		if err != nil {
			t.Fatalf("%s: User: %v", what, err)
		}
		if u.Active != wantActive {
			t.Errorf("%s: u_rep active = %v, want %v", what, u.Active, wantActive)
		}
		var h, m uint64 = 0, 1
		if wantHit {
			h, m = 1, 0
		}
		wantStats(t, b.c, st, h, m)
	}
	get("first read", true, false)
	// Another process deactivates the user.
	d := dataset(0)
	d.Users[0].Active = false
	if err := b.inner.Load(ctx, d); err != nil {
		t.Fatal(err)
	}
	get("just after", true, true)
	b.clock.Advance(5*time.Second - time.Nanosecond)
	get("just before the TTL", true, true)
	b.clock.Advance(time.Nanosecond)
	get("at the TTL", false, false)
	get("after the re-read", false, true)
}

// Answers that there is no such user are cached too, for UserTTL.
func TestNegativeUserEntries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, 0, cache.Config{UserTTL: time.Minute})
	lookups := []struct {
		name string
		get  func() (record.User, error)
	}{
		{"User", func() (record.User, error) { return b.c.User(ctx, "acme", "u_new") }},
		{"UserByEmail", func() (record.User, error) { return b.c.UserByEmail(ctx, "acme", "New@Acme.test") }},
		{"User of another account", func() (record.User, error) { return b.c.User(ctx, "globex", "u_new") }},
	}
	for range 2 {
		for _, l := range lookups {
			if _, err := l.get(); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: got %v, want ErrNotFound", l.name, err)
			}
		}
	}
	if h, m := b.c.Stats(); h != 3 || m != 3 {
		t.Errorf("Stats = %d hits, %d misses; want 3, 3", h, m)
	}
	// Another process adds the user: the negative answers hold until the
	// TTL.
	d := dataset(0)
	d.Users = append(d.Users, record.User{ID: "u_new", AccountID: "acme", Name: "New", Email: "new@acme.test", Role: record.RoleUser, Active: true})
	if err := b.inner.Load(ctx, d); err != nil {
		t.Fatal(err)
	}
	for _, l := range lookups {
		if _, err := l.get(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s before the TTL: got %v, want ErrNotFound (cached)", l.name, err)
		}
	}
	b.clock.Advance(time.Minute)
	for i, l := range lookups {
		u, err := l.get()
		if i < 2 && (err != nil || u.ID != "u_new") {
			t.Errorf("%s after the TTL: %+v, %v; want u_new", l.name, u, err)
		}
		if i == 2 && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after the TTL: got %v, want ErrNotFound", l.name, err)
		}
	}
}

// A Load through the cache drops everything: the next reads see it.
func TestLoadDropsCachedRecordsAndUsers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, 2, cache.Config{})
	before := getOpp(t, b.c, "opp_0")
	if _, err := b.c.User(ctx, "acme", "u_rep"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.c.User(ctx, "acme", "u_new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	d := dataset(2)
	d.Opportunities[0].Stage = "Loaded"
	d.Users[0].Active = false
	d.Users = append(d.Users, record.User{ID: "u_new", AccountID: "acme", Name: "New", Role: record.RoleUser, Active: true})
	if err := b.c.Load(ctx, d); err != nil {
		t.Fatal(err)
	}
	if o := getOpp(t, b.c, "opp_0"); o.Stage != "Loaded" || o.Version != before.Version+1 {
		t.Errorf("opp_0 after Load at version %d, stage %q; want %d, Loaded", o.Version, o.Stage, before.Version+1)
	}
	if u, err := b.c.User(ctx, "acme", "u_rep"); err != nil || u.Active {
		t.Errorf("u_rep after Load: %+v, %v; want inactive", u, err)
	}
	if _, err := b.c.User(ctx, "acme", "u_new"); err != nil {
		t.Errorf("u_new after Load: %v", err)
	}
}

// The cache may share slices with its callers, but an append by one never
// shows in what another reads.
func TestAppendToReturnedSlicesDoesNotLeak(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, 1, cache.Config{})
	o := getOpp(t, b.c, "opp_0")
	o.Tags = append(o.Tags[:0:0], "x") // force spare capacity
	o.Tags = append(o.Tags, "y")[:1]
	if err := b.c.Commit(ctx, &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{o}}); err != nil {
		t.Fatal(err)
	}
	a, c := getOpp(t, b.c, "opp_0"), getOpp(t, b.c, "opp_0")
	a.Tags = append(a.Tags, "from-a")
	c.Tags = append(c.Tags, "from-c")
	if got := getOpp(t, b.c, "opp_0").Tags; len(got) != 1 || got[0] != "x" {
		t.Errorf("cached tags %v, want [x]", got)
	}
	if a.Tags[1] != "from-a" || c.Tags[1] != "from-c" {
		t.Errorf("appends collided: %v and %v", a.Tags, c.Tags)
	}
}

// CommitBatch keeps the cache as Commit does for each changeset, with the
// backend's CommitBatch and without.
func TestCommitBatch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		inner func(t *testing.T) store.Store
	}{
		{"memory", func(t *testing.T) store.Store { return memory.New() }},
		{"memory without CommitBatch", func(t *testing.T) store.Store { return noBatch{memory.New()} }},
		{"sqlite", func(t *testing.T) store.Store { return openSQLite(t) }},
		{"redis", func(t *testing.T) store.Store { return openRedis(t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			inner := c.inner(t)
			t.Cleanup(func() { _ = inner.Close() })
			if err := inner.Load(ctx, dataset(3)); err != nil {
				t.Fatal(err)
			}
			cc := cache.New(inner, cache.Config{})
			o0, o1, o2 := getOpp(t, cc, "opp_0"), getOpp(t, cc, "opp_1"), getOpp(t, cc, "opp_2")
			// Another worker moves opp_1 on behind the cache.
			if err := update(inner, ctx, o1, "Elsewhere"); err != nil {
				t.Fatal(err)
			}
			first := o0
			first.Stage = "Demo"
			second := first // built on the first, as a batch allows
			second.Version++
			second.Stage = "Proposal"
			stale := o1
			stale.Stage = "Lost"
			o2.Stage = "Won"
			css := []*store.Changeset{
				{AccountID: "acme", EventID: "e0", Opportunities: []record.Opportunity{first}},
				{AccountID: "acme", EventID: "e1", Opportunities: []record.Opportunity{stale}},
				{AccountID: "acme", EventID: "e2", Opportunities: []record.Opportunity{second}},
				{AccountID: "acme", EventID: "e0", Opportunities: []record.Opportunity{o2}},
			}
			errs, err := cc.CommitBatch(ctx, css)
			if err != nil {
				t.Fatalf("CommitBatch: %v", err)
			}
			for i, want := range []error{nil, store.ErrConflict, nil, store.ErrAlreadyProcessed} {
				if (want == nil && errs[i] != nil) || !errors.Is(errs[i], want) {
					t.Errorf("changeset %d: got %v, want %v", i, errs[i], want)
				}
			}
			st := stats(cc)
			for _, w := range []struct {
				id, stage string
				version   int64
			}{{"opp_0", "Proposal", o0.Version + 2}, {"opp_1", "Elsewhere", o1.Version + 1}, {"opp_2", "New", o2.Version}} {
				if got := getOpp(t, cc, w.id); got.Stage != w.stage || got.Version != w.version {
					t.Errorf("%s at version %d, stage %q; want %d, %q", w.id, got.Version, got.Stage, w.version, w.stage)
				}
			}
			wantStats(t, cc, st, 1, 2) // opp_0 cached; opp_1 and opp_2 re-read
			if errs, err := cc.CommitBatch(ctx, nil); err != nil || len(errs) != 0 {
				t.Errorf("empty CommitBatch: %v, %v", errs, err)
			}
		})
	}
}

// Many workers, each with a cache of its own over one backend, increment a
// counter with the engine's loop (read, commit, re-run on conflict): no
// increment is lost, and every cache ends up current.
func TestManyWorkersLoseNoUpdate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		inner func(t *testing.T) store.Store
	}{
		{"memory", func(t *testing.T) store.Store { return memory.New() }},
		{"sqlite", func(t *testing.T) store.Store { return openSQLite(t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			const workers, goroutines, increments = 4, 3, 30
			ctx := t.Context()
			inner := c.inner(t)
			t.Cleanup(func() { _ = inner.Close() })
			if err := inner.Load(ctx, dataset(2)); err != nil {
				t.Fatal(err)
			}
			caches := make([]*cache.Store, workers)
			for i := range caches {
				caches[i] = cache.New(inner, cache.Config{MaxRecords: 1 + i}) // some evict
			}
			var conflicts atomic.Int64
			var wg sync.WaitGroup
			for w := range workers {
				for g := range goroutines {
					wg.Go(func() {
						s := caches[w]
						for j := range increments {
							for attempt := 0; ; attempt++ {
								if attempt == 1000 {
									t.Errorf("worker %d: still conflicting", w)
									return
								}
								o, err := s.Opportunity(ctx, "acme", "opp_0")
								if err != nil {
									t.Error(err)
									return
								}
								ct, err := s.Contact(ctx, "acme", "c_1")
								if err != nil {
									t.Error(err)
									return
								}
								o.Value++
								err = s.Commit(ctx, &store.Changeset{
									AccountID: "acme", EventID: fmt.Sprintf("w%d-g%d-%d", w, g, j),
									Reads:         []store.Ref{{Kind: record.KindContact, AccountID: "acme", ID: "c_1", Version: ct.Version}},
									Opportunities: []record.Opportunity{o},
								})
								if errors.Is(err, store.ErrConflict) {
									conflicts.Add(1)
									continue
								}
								if err != nil {
									t.Error(err)
									return
								}
								break
							}
						}
					})
				}
			}
			wg.Wait()
			want := float64(workers * goroutines * increments)
			stored, err := inner.Opportunity(ctx, "acme", "opp_0")
			if err != nil {
				t.Fatal(err)
			}
			if stored.Value != want {
				t.Errorf("opp_0 value %v after %v increments", stored.Value, want)
			}
			t.Logf("%d conflicts", conflicts.Load())
			// A last commit through each cache either succeeds or
			// conflicts once and then succeeds on fresh state.
			for i, s := range caches {
				for attempt := 0; ; attempt++ {
					err := update(s, ctx, getOpp(t, s, "opp_0"), fmt.Sprint("final", i))
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrConflict) || attempt > 0 {
						t.Fatalf("worker %d's final commit, attempt %d: %v", i, attempt, err)
					}
				}
			}
		})
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	d := cache.Config{}.WithDefaults()
	if d.MaxRecords != cache.DefaultMaxRecords || d.MaxUsers != cache.DefaultMaxUsers || d.UserTTL != cache.DefaultUserTTL || d.Clock == nil {
		t.Errorf("WithDefaults() = %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	for _, c := range []struct {
		cfg   cache.Config
		field string
	}{
		{cache.Config{MaxRecords: -1}, "MaxRecords"},
		{cache.Config{MaxUsers: -1}, "MaxUsers"},
		{cache.Config{UserTTL: -time.Second}, "UserTTL"},
	} {
		err := c.cfg.WithDefaults().Validate()
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", c.cfg, err, c.field)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("New with a bad config did not panic")
		}
	}()
	cache.New(memory.New(), cache.Config{MaxRecords: -1})
}

// gated is a backend whose Opportunity, when armed, reads and then waits
// for release before it returns: the answer is old by the time the cache
// gets it.
type gated struct {
	store.Store
	armed   atomic.Bool
	read    chan struct{}
	release chan struct{}
}

func newGated(inner store.Store) *gated {
	return &gated{Store: inner, read: make(chan struct{}), release: make(chan struct{})}
}

func (g *gated) Opportunity(ctx context.Context, accountID, id string) (record.Opportunity, error) {
	o, err := g.Store.Opportunity(ctx, accountID, id)
	if g.armed.CompareAndSwap(true, false) {
		g.read <- struct{}{}
		<-g.release
	}
	return o, err
}

// A read that fetched a record before a failed commit dropped it must not
// cache it after.
func TestFillOlderThanInvalidationIsNotCached(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	inner := memory.New()
	if err := inner.Load(ctx, dataset(1)); err != nil {
		t.Fatal(err)
	}
	g := newGated(inner)
	c := cache.New(g, cache.Config{})
	old := getOpp(t, inner, "opp_0")

	g.armed.Store(true)
	done := make(chan record.Opportunity)
	go func() {
		o, _ := c.Opportunity(ctx, "acme", "opp_0")
		done <- o
	}()
	<-g.read // the slow read has opp_0 at its old version
	if err := update(inner, ctx, old, "Elsewhere"); err != nil {
		t.Fatal(err)
	}
	if err := update(c, ctx, old, "Mine"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("commit on the old version: got %v, want ErrConflict", err)
	}
	close(g.release)
	if o := <-done; o.Version != old.Version {
		t.Fatalf("the slow read returned version %d, want %d", o.Version, old.Version)
	}
	if o := getOpp(t, c, "opp_0"); o.Version != old.Version+1 || o.Stage != "Elsewhere" {
		t.Errorf("after the failed commit opp_0 reads at version %d, stage %q; want %d, Elsewhere", o.Version, o.Stage, old.Version+1)
	}
}

// A read that fetched a record before a commit through the cache wrote it
// must not replace the newer copy the commit cached.
func TestFillOlderThanCommitDoesNotReplaceIt(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	inner := memory.New()
	if err := inner.Load(ctx, dataset(1)); err != nil {
		t.Fatal(err)
	}
	g := newGated(inner)
	c := cache.New(g, cache.Config{})
	old := getOpp(t, inner, "opp_0")

	g.armed.Store(true)
	done := make(chan struct{})
	go func() {
		_, _ = c.Opportunity(ctx, "acme", "opp_0")
		close(done)
	}()
	<-g.read
	if err := update(c, ctx, old, "Mine"); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	<-done
	st := stats(c)
	if o := getOpp(t, c, "opp_0"); o.Version != old.Version+1 || o.Stage != "Mine" {
		t.Errorf("opp_0 reads at version %d, stage %q; want %d, Mine", o.Version, o.Stage, old.Version+1)
	}
	wantStats(t, c, st, 1, 0)
}
