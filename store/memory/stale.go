package memory

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/google/btree"
)

// staleIndex holds the stale candidates (open, owned opportunities) in
// buckets of staleBucketWidth by last_owner_activity_at, each an unordered
// slice of slots; a slot knows its bucket and its place there. Moving a
// record's activity time (every owner activity does) is a swap-remove from
// one bucket and an append to another, usually the bucket of the current
// minute, which is in cache: no tree to walk. A scan walks the buckets in
// order of time up to the cutoff and sorts each bucket it returns from, so
// its cost follows the candidates returned plus one bucket, not the number
// of opportunities stored.
type staleIndex struct {
	buckets map[int64]*staleBucket
	// order holds the ids of the buckets, which are never empty.
	order *btree.BTreeG[int64]
}

// staleBucketWidth is the span of last_owner_activity_at of one bucket.
const staleBucketWidth = 60 // seconds

type staleBucket struct {
	id    int64
	slots []*oppSlot
}

func newStaleIndex() staleIndex {
	return staleIndex{buckets: map[int64]*staleBucket{}, order: btree.NewOrderedG[int64](btreeDegree)}
}

func staleBucketOf(t time.Time) int64 {
	sec := t.Unix()
	id := sec / staleBucketWidth
	if sec%staleBucketWidth < 0 {
		id-- // round down before 1970 too
	}
	return id
}

// add puts a slot that is in no bucket into the bucket of its time.
func (x *staleIndex) add(p *oppSlot) {
	id := staleBucketOf(p.rec.LastOwnerActivityAt)
	b := x.buckets[id]
	if b == nil {
		b = &staleBucket{id: id}
		x.buckets[id] = b
		x.order.ReplaceOrInsert(id)
	}
	p.stale, p.staleAt = b, len(b.slots)
	b.slots = append(b.slots, p)
}

// remove takes a slot out of its bucket.
func (x *staleIndex) remove(p *oppSlot) {
	b, i := p.stale, p.staleAt
	last := b.slots[len(b.slots)-1]
	b.slots[i], last.staleAt = last, i
	b.slots[len(b.slots)-1] = nil
	b.slots = b.slots[:len(b.slots)-1]
	p.stale = nil
	if len(b.slots) == 0 {
		delete(x.buckets, b.id)
		x.order.Delete(b.id)
	}
}

// move follows a change of a slot's record to its state now (p.rec);
// wasStale and wasAt are what the record was before.
func (x *staleIndex) move(p *oppSlot, wasStale bool, wasAt time.Time) {
	isStale := p.rec.IsStaleCandidate()
	switch {
	case wasStale && isStale:
		if staleBucketOf(wasAt) != staleBucketOf(p.rec.LastOwnerActivityAt) {
			x.remove(p)
			x.add(p)
		}
	case wasStale:
		x.remove(p)
	case isStale:
		x.add(p)
	}
}

// candidates returns the stale candidates whose time is at or before
// cutoff, in order of (time, account, id), at most limit (limit <= 0: all).
func (x *staleIndex) candidates(cutoff time.Time, limit int) []*oppSlot {
	var out []*oppSlot
	last := staleBucketOf(cutoff)
	x.order.Ascend(func(id int64) bool {
		if id > last {
			return false
		}
		start := len(out)
		for _, p := range x.buckets[id].slots {
			if !p.rec.LastOwnerActivityAt.After(cutoff) {
				out = append(out, p)
			}
		}
		slices.SortFunc(out[start:], compareStale)
		return limit <= 0 || len(out) < limit
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func compareStale(a, b *oppSlot) int {
	if c := a.rec.LastOwnerActivityAt.Compare(b.rec.LastOwnerActivityAt); c != 0 {
		return c
	}
	return cmp.Or(strings.Compare(a.rec.AccountID, b.rec.AccountID), strings.Compare(a.rec.ID, b.rec.ID))
}
