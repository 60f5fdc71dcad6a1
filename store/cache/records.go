package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/followflow/followflow/record"
)

// kind tells the record kinds apart in a key, cheaper to hash than
// record.Kind.
type kind uint8

const (
	kindOpportunity kind = iota + 1
	kindContact
)

// kindOf maps a store.Ref kind; 0 for a kind the cache does not hold.
func kindOf(k record.Kind) kind {
	switch k {
	case record.KindOpportunity:
		return kindOpportunity
	case record.KindContact:
		return kindContact
	}
	return 0
}

// recKey names a cached record.
type recKey struct {
	kind        kind
	account, id string
}

// maxShards bounds the number of record shards; each shard holds at least
// minShardRecords records so that eviction stays close to global.
const (
	maxShards       = 64
	minShardRecords = 64
)

// records is the record cache: shards chosen by a hash of the id,
// each a map to slots swept by a CLOCK hand.
type records struct {
	shards []recShard
	mask   uint64
	seed   maphash.Seed
}

func newRecords(capacity int) records {
	n := 1
	for n < maxShards && capacity/(2*n) >= minShardRecords {
		n *= 2
	}
	r := records{shards: make([]recShard, n), mask: uint64(n - 1), seed: maphash.MakeSeed()}
	base, rem := capacity/n, capacity%n
	for i := range r.shards {
		sh := &r.shards[i]
		sh.capacity = base
		if i < rem {
			sh.capacity++
		}
		sh.index = make(map[recKey]int32)
	}
	return r
}

// shard returns the shard of a record. The id alone spreads records well
// (accounts may share ids; their records then share a shard).
func (r *records) shard(id string) *recShard {
	return &r.shards[maphash.String(r.seed, id)&r.mask]
}

// recShard is one shard of the record cache.
//
// floor guards against caching what an invalidation meant to drop: every
// invalidation takes a new stamp from the Store's epoch and raises floor to
// it; a fill (a read or a commit's result) takes the epoch before it asks the
// backend and is not cached into an empty slot when floor has passed its
// stamp since.
type recShard struct {
	mu sync.RWMutex
	// hits and misses share the lock's cache line, which every read
	// writes anyway.
	hits, misses atomic.Uint64

	index    map[recKey]int32
	slots    []slot
	free     []int32 // indexes of invalidated slots
	hand     int     // the CLOCK hand
	capacity int
	floor    uint64

	_ [64]byte // keeps shards on cache lines of their own
}

// slot holds one cached record. Its record lives behind a pointer that the
// slot keeps across reuse, so that a full cache allocates nothing.
type slot struct {
	key recKey // zero when the slot is free
	// ref is the CLOCK bit: set (atomically, under the read lock) by a hit,
	// cleared by the hand, which evicts a slot found clear.
	ref     uint32
	opp     *record.Opportunity
	contact *record.Contact
}

// opportunity copies the cached opportunity, if any, to o.
func (sh *recShard) opportunity(k recKey, o *record.Opportunity) bool {
	sh.mu.RLock()
	i, ok := sh.index[k]
	if !ok {
		sh.mu.RUnlock()
		return false
	}
	sl := &sh.slots[i]
	*o = *sl.opp
	touch(sl)
	sh.mu.RUnlock()
	return true
}

// contact copies the cached contact, if any, to c.
func (sh *recShard) contact(k recKey, c *record.Contact) bool {
	sh.mu.RLock()
	i, ok := sh.index[k]
	if !ok {
		sh.mu.RUnlock()
		return false
	}
	sl := &sh.slots[i]
	*c = *sl.contact
	touch(sl)
	sh.mu.RUnlock()
	return true
}

// touch sets the slot's CLOCK bit, writing only when it is clear so that
// hot records do not bounce their cache line between cores.
func touch(sl *slot) {
	if atomic.LoadUint32(&sl.ref) == 0 {
		atomic.StoreUint32(&sl.ref, 1)
	}
}

// putOpportunity caches o (slices clipped by the caller) unless a higher
// or equal version is cached, or the slot is empty and an invalidation came
// after stamp.
func (sh *recShard) putOpportunity(k recKey, o *record.Opportunity, stamp uint64) {
	sh.mu.Lock()
	if i, ok := sh.index[k]; ok {
		if sl := &sh.slots[i]; sl.opp.Version < o.Version {
			*sl.opp = *o
		}
		sh.mu.Unlock()
		return
	}
	if sh.floor > stamp {
		sh.mu.Unlock()
		return
	}
	i := sh.alloc()
	sl := &sh.slots[i]
	sl.key = k
	if sl.opp == nil {
		sl.opp = new(record.Opportunity)
	}
	*sl.opp = *o
	sh.index[k] = i
	sh.mu.Unlock()
}

// putContact is putOpportunity for a contact.
func (sh *recShard) putContact(k recKey, c *record.Contact, stamp uint64) {
	sh.mu.Lock()
	if i, ok := sh.index[k]; ok {
		if sl := &sh.slots[i]; sl.contact.Version < c.Version {
			*sl.contact = *c
		}
		sh.mu.Unlock()
		return
	}
	if sh.floor > stamp {
		sh.mu.Unlock()
		return
	}
	i := sh.alloc()
	sl := &sh.slots[i]
	sl.key = k
	if sl.contact == nil {
		sl.contact = new(record.Contact)
	}
	*sl.contact = *c
	sh.index[k] = i
	sh.mu.Unlock()
}

// alloc returns an empty slot: a freed one, a new one while below
// capacity, or else the first slot the CLOCK hand finds not referenced
// since its last pass, evicted. The new slot's CLOCK bit is clear, so a
// record read once goes before one read again. Called with mu held.
func (sh *recShard) alloc() int32 {
	if n := len(sh.free); n > 0 {
		i := sh.free[n-1]
		sh.free = sh.free[:n-1]
		return i
	}
	if len(sh.slots) < sh.capacity {
		sh.slots = append(sh.slots, slot{})
		return int32(len(sh.slots) - 1)
	}
	// Every slot is in use: at most one full turn clears every bit.
	for {
		if sh.hand >= len(sh.slots) {
			sh.hand = 0
		}
		i := sh.hand
		sh.hand++
		sl := &sh.slots[i]
		if sl.ref != 0 {
			sl.ref = 0
			continue
		}
		sh.release(int32(i))
		return int32(i)
	}
}

// release empties a slot in use, dropping its record's references so that
// the garbage collector can have them. Called with mu held.
func (sh *recShard) release(i int32) {
	sl := &sh.slots[i]
	delete(sh.index, sl.key)
	switch sl.key.kind {
	case kindOpportunity:
		*sl.opp = record.Opportunity{}
	case kindContact:
		*sl.contact = record.Contact{}
	}
	sl.key, sl.ref = recKey{}, 0
}

// invalidate drops the record, if cached, and refuses fills that started
// before stamp.
func (sh *recShard) invalidate(k recKey, stamp uint64) {
	sh.mu.Lock()
	if i, ok := sh.index[k]; ok {
		sh.release(i)
		sh.free = append(sh.free, i)
	}
	sh.floor = max(sh.floor, stamp)
	sh.mu.Unlock()
}

// reset drops every record and refuses fills that started before stamp.
func (sh *recShard) reset(stamp uint64) {
	sh.mu.Lock()
	clear(sh.index)
	sh.slots, sh.free, sh.hand = nil, nil, 0
	sh.floor = max(sh.floor, stamp)
	sh.mu.Unlock()
}

// count returns the number of records cached in the shard.
func (sh *recShard) count() int {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return len(sh.index)
}

// clipOpp leaves o's slices without spare capacity, so that an append by
// any holder copies instead of writing into an array others share.
func clipOpp(o *record.Opportunity) {
	o.Tags = o.Tags[:len(o.Tags):len(o.Tags)]
	o.Followers = o.Followers[:len(o.Followers):len(o.Followers)]
}

func clipContact(c *record.Contact) {
	c.Tags = c.Tags[:len(c.Tags):len(c.Tags)]
	c.Followers = c.Followers[:len(c.Followers):len(c.Followers)]
}
