package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// Store is a store.Store that caches the reads of another (see the package
// documentation). It is safe for concurrent use.
type Store struct {
	inner store.Store
	batch store.BatchCommitter // inner's, or nil
	ttl   time.Duration
	clock func() time.Time

	// epoch stamps invalidations: see recShard.floor.
	epoch   atomic.Uint64
	records records
	users   *users
}

var (
	_ store.Store          = (*Store)(nil)
	_ store.BatchCommitter = (*Store)(nil)
)

// New wraps inner. The config gets its defaults (Config.WithDefaults); New
// panics when inner is nil or the config is invalid (Config.Validate), a
// programming error: validate a config read from outside first.
func New(inner store.Store, cfg Config) *Store {
	if inner == nil {
		panic("cache.New: nil inner store")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	s := &Store{
		inner:   inner,
		ttl:     cfg.UserTTL,
		clock:   cfg.Clock,
		records: newRecords(cfg.MaxRecords),
		users:   newUsers(cfg.MaxUsers),
	}
	s.batch, _ = inner.(store.BatchCommitter)
	return s
}

// Stats returns the number of reads answered from the cache (hits) and
// from the backend (misses) so far, counting Opportunity, Contact, User and
// UserByEmail.
func (s *Store) Stats() (hits, misses uint64) {
	for i := range s.records.shards {
		sh := &s.records.shards[i]
		hits += sh.hits.Load()
		misses += sh.misses.Load()
	}
	for i := range s.users.shards {
		sh := &s.users.shards[i]
		hits += sh.hits.Load()
		misses += sh.misses.Load()
	}
	return hits, misses
}

// Len returns the number of opportunities and contacts cached.
func (s *Store) Len() int {
	n := 0
	for i := range s.records.shards {
		n += s.records.shards[i].count()
	}
	return n
}

// Accounts implements store.Reader; it is not cached.
func (s *Store) Accounts(ctx context.Context) ([]record.Account, error) {
	return s.inner.Accounts(ctx)
}

// Account implements store.Reader; it is not cached.
func (s *Store) Account(ctx context.Context, id string) (record.Account, error) {
	return s.inner.Account(ctx, id)
}

// User implements store.Reader, from the cache when the answer (found or
// not) was read less than Config.UserTTL ago. Other errors are not cached.
func (s *Store) User(ctx context.Context, accountID, userID string) (record.User, error) {
	return s.user(ctx, userKey{account: accountID, by: userID})
}

// UserByEmail implements store.Reader as User does, keyed by the email as
// given.
func (s *Store) UserByEmail(ctx context.Context, accountID, email string) (record.User, error) {
	return s.user(ctx, userKey{byEmail: true, account: accountID, by: email})
}

func (s *Store) user(ctx context.Context, k userKey) (record.User, error) {
	sh := s.users.shard(&k)
	now := s.clock()
	if e, ok := sh.get(k, now); ok {
		sh.hits.Add(1)
		if !e.found {
			return record.User{}, store.ErrNotFound
		}
		return e.user, nil
	}
	sh.misses.Add(1)
	stamp := s.epoch.Load()
	var u record.User
	var err error
	if k.byEmail {
		u, err = s.inner.UserByEmail(ctx, k.account, k.by)
	} else {
		u, err = s.inner.User(ctx, k.account, k.by)
	}
	if err == nil || errors.Is(err, store.ErrNotFound) {
		sh.put(k, userEntry{user: u, found: err == nil, expires: now.Add(s.ttl)}, now, stamp)
	}
	return u, err
}

// Opportunity implements store.Reader, from the cache when the record is
// cached. A miss reads the backend and caches what it finds.
func (s *Store) Opportunity(ctx context.Context, accountID, id string) (o record.Opportunity, err error) {
	k := recKey{kindOpportunity, accountID, id}
	sh := s.records.shard(id)
	if sh.opportunity(k, &o) {
		sh.hits.Add(1)
		return o, nil
	}
	sh.misses.Add(1)
	stamp := s.epoch.Load()
	o, err = s.inner.Opportunity(ctx, accountID, id)
	if err != nil {
		return o, err
	}
	clipOpp(&o)
	sh.putOpportunity(k, &o, stamp)
	return o, nil
}

// Contact implements store.Reader as Opportunity does.
func (s *Store) Contact(ctx context.Context, accountID, id string) (c record.Contact, err error) {
	k := recKey{kindContact, accountID, id}
	sh := s.records.shard(id)
	if sh.contact(k, &c) {
		sh.hits.Add(1)
		return c, nil
	}
	sh.misses.Add(1)
	stamp := s.epoch.Load()
	c, err = s.inner.Contact(ctx, accountID, id)
	if err != nil {
		return c, err
	}
	clipContact(&c)
	sh.putContact(k, &c, stamp)
	return c, nil
}

// OpportunitiesByContact implements store.Reader; it is not cached.
func (s *Store) OpportunitiesByContact(ctx context.Context, accountID, contactID string) ([]record.Opportunity, error) {
	return s.inner.OpportunitiesByContact(ctx, accountID, contactID)
}

// Processed implements store.Reader; it is not cached.
func (s *Store) Processed(ctx context.Context, accountID, eventID string) (bool, error) {
	return s.inner.Processed(ctx, accountID, eventID)
}

// History implements store.Store; it is not cached.
func (s *Store) History(ctx context.Context, accountID string, kind record.Kind, id string) ([]record.HistoryEntry, error) {
	return s.inner.History(ctx, accountID, kind, id)
}

// StaleCandidates implements store.Store; it is not cached.
func (s *Store) StaleCandidates(ctx context.Context, cutoff time.Time, limit int) ([]record.Opportunity, error) {
	return s.inner.StaleCandidates(ctx, cutoff, limit)
}

// Export implements store.Store; it is not cached.
func (s *Store) Export(ctx context.Context) (*record.Dataset, error) {
	return s.inner.Export(ctx)
}

// Load implements store.Store: the backend loads the dataset, then every
// cached record and user is dropped (also when Load fails: part of the
// dataset may be stored).
func (s *Store) Load(ctx context.Context, d *record.Dataset) error {
	err := s.inner.Load(ctx, d)
	stamp := s.epoch.Add(1)
	for i := range s.records.shards {
		s.records.shards[i].reset(stamp)
	}
	for i := range s.users.shards {
		s.users.shards[i].reset(stamp)
	}
	return err
}

// Close implements store.Store by closing the backend.
func (s *Store) Close() error { return s.inner.Close() }

var _ store.MultiReader = (*Store)(nil)

// ReadOpportunities implements store.MultiReader: hits from the cache, the
// misses from inner in one round trip when inner is a store.MultiReader
// (one read each otherwise), cached as Opportunity caches them.
func (s *Store) ReadOpportunities(ctx context.Context, keys []store.Key) ([]record.Opportunity, []bool, error) {
	opps := make([]record.Opportunity, len(keys))
	found := make([]bool, len(keys))
	var missing []int
	for i, key := range keys {
		k := recKey{kindOpportunity, key.AccountID, key.ID}
		sh := s.records.shard(key.ID)
		if sh.opportunity(k, &opps[i]) {
			sh.hits.Add(1)
			found[i] = true
			continue
		}
		sh.misses.Add(1)
		missing = append(missing, i)
	}
	if len(missing) == 0 {
		return opps, found, nil
	}
	stamp := s.epoch.Load()
	mr, ok := s.inner.(store.MultiReader)
	if !ok {
		for _, i := range missing {
			o, err := s.inner.Opportunity(ctx, keys[i].AccountID, keys[i].ID)
			switch {
			case err == nil:
				opps[i], found[i] = o, true
			case !errors.Is(err, store.ErrNotFound):
				return nil, nil, err
			}
		}
	} else {
		ask := make([]store.Key, len(missing))
		for j, i := range missing {
			ask[j] = keys[i]
		}
		got, ok, err := mr.ReadOpportunities(ctx, ask)
		if err != nil {
			return nil, nil, err
		}
		for j, i := range missing {
			opps[i], found[i] = got[j], ok[j]
		}
	}
	for _, i := range missing {
		if found[i] {
			clipOpp(&opps[i])
			s.records.shard(keys[i].ID).putOpportunity(recKey{kindOpportunity, keys[i].AccountID, keys[i].ID}, &opps[i], stamp)
		}
	}
	return opps, found, nil
}
