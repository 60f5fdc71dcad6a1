package cache

import (
	"context"

	"github.com/followflow/followflow/store"
)

// Commit implements store.Store: the backend commits the changeset. On
// success each written record is cached as the backend now holds it, at the
// version it was read at plus one; on any error every record the changeset
// read or wrote is dropped from the cache, so that a re-run reads it fresh.
// The changeset's slices are kept: see the package documentation.
func (s *Store) Commit(ctx context.Context, cs *store.Changeset) error {
	// A backend may change the changeset (the contract allows it): keep
	// the versions read.
	var buf [8]int64
	vers := readVersions(buf[:0], cs)
	stamp := s.epoch.Load()
	err := s.inner.Commit(ctx, cs)
	s.settle(cs, vers, err, stamp)
	return err
}

// CommitBatch implements store.BatchCommitter with the backend's
// CommitBatch, keeping the cache as Commit does for each changeset (and
// dropping the records of every changeset when the batch itself fails).
// When the backend has no CommitBatch, it commits the changesets one after
// another, with the same result.
func (s *Store) CommitBatch(ctx context.Context, css []*store.Changeset) ([]error, error) {
	if s.batch == nil {
		if len(css) == 0 {
			return nil, nil
		}
		errs := make([]error, len(css))
		for i, cs := range css {
			errs[i] = s.Commit(ctx, cs)
		}
		return errs, nil
	}
	n := 0
	for _, cs := range css {
		n += len(cs.Opportunities) + len(cs.Contacts)
	}
	vers := make([]int64, 0, n)
	for _, cs := range css {
		vers = readVersions(vers, cs)
	}
	stamp := s.epoch.Load()
	errs, err := s.batch.CommitBatch(ctx, css)
	if err == nil && len(errs) != len(css) {
		// Not what the interface promises: trust nothing.
		for _, cs := range css {
			s.forget(cs)
		}
		return errs, nil
	}
	for i, cs := range css {
		if err != nil {
			s.forget(cs)
			continue
		}
		k := len(cs.Opportunities) + len(cs.Contacts)
		s.settle(cs, vers[:k], errs[i], stamp)
		vers = vers[k:]
	}
	return errs, err
}

// readVersions appends the versions of cs's written records to vers:
// opportunities, then contacts.
func readVersions(vers []int64, cs *store.Changeset) []int64 {
	for i := range cs.Opportunities {
		vers = append(vers, cs.Opportunities[i].Version)
	}
	for i := range cs.Contacts {
		vers = append(vers, cs.Contacts[i].Version)
	}
	return vers
}

// settle updates the cache after the commit of cs ended with err: caches
// the written records at vers (as readVersions gave them) plus one, or
// drops every record cs named.
func (s *Store) settle(cs *store.Changeset, vers []int64, err error, stamp uint64) {
	if err != nil {
		s.forget(cs)
		return
	}
	for i := range cs.Opportunities {
		o := cs.Opportunities[i]
		o.Version = vers[i] + 1
		clipOpp(&o)
		s.records.shard(o.ID).putOpportunity(recKey{kindOpportunity, o.AccountID, o.ID}, &o, stamp)
	}
	vers = vers[len(cs.Opportunities):]
	for i := range cs.Contacts {
		c := cs.Contacts[i]
		c.Version = vers[i] + 1
		clipContact(&c)
		s.records.shard(c.ID).putContact(recKey{kindContact, c.AccountID, c.ID}, &c, stamp)
	}
}

// forget drops every record cs read or wrote, and refuses fills of them
// that started before.
func (s *Store) forget(cs *store.Changeset) {
	stamp := s.epoch.Add(1)
	for i := range cs.Reads {
		r := &cs.Reads[i]
		if k := kindOf(r.Kind); k != 0 {
			s.records.shard(r.ID).invalidate(recKey{k, r.AccountID, r.ID}, stamp)
		}
	}
	for i := range cs.Opportunities {
		o := &cs.Opportunities[i]
		s.records.shard(o.ID).invalidate(recKey{kindOpportunity, o.AccountID, o.ID}, stamp)
	}
	for i := range cs.Contacts {
		c := &cs.Contacts[i]
		s.records.shard(c.ID).invalidate(recKey{kindContact, c.AccountID, c.ID}, stamp)
	}
}
