package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/followflow/followflow/record"
)

// userShards is the number of shards of the user cache.
const userShards = 16

// userKey names an answer: a user by id, or by email as given.
type userKey struct {
	byEmail     bool
	account, by string
}

// userEntry is a cached answer: the user, or that there is none.
type userEntry struct {
	user    record.User
	found   bool
	expires time.Time
}

// users is the user cache: answers kept until they expire.
type users struct {
	shards [userShards]userShard
	seed   maphash.Seed
}

type userShard struct {
	mu       sync.RWMutex
	m        map[userKey]userEntry
	capacity int
	floor    uint64 // as recShard.floor, raised by Load only

	hits, misses atomic.Uint64

	_ [64]byte
}

func newUsers(capacity int) *users {
	u := &users{seed: maphash.MakeSeed()}
	base, rem := capacity/userShards, capacity%userShards
	for i := range u.shards {
		sh := &u.shards[i]
		sh.capacity = base
		if i < rem {
			sh.capacity++
		}
		sh.m = make(map[userKey]userEntry)
	}
	return u
}

func (u *users) shard(k *userKey) *userShard {
	return &u.shards[maphash.String(u.seed, k.by)%userShards]
}

// get returns the answer cached for k if it has not expired at now.
func (sh *userShard) get(k userKey, now time.Time) (userEntry, bool) {
	sh.mu.RLock()
	e, ok := sh.m[k]
	sh.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return userEntry{}, false
	}
	return e, true
}

// put caches an answer read from the backend after stamp, unless a Load
// came since. When the shard is full it evicts expired answers among the
// first few it visits, or else the first it visits (map order is random).
func (sh *userShard) put(k userKey, e userEntry, now time.Time, stamp uint64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.floor > stamp || sh.capacity == 0 {
		return
	}
	if _, ok := sh.m[k]; !ok && len(sh.m) >= sh.capacity {
		const visits = 8
		n, evicted := 0, false
		var first userKey
		for ok, old := range sh.m {
			if n == 0 {
				first = ok
			}
			if !now.Before(old.expires) {
				delete(sh.m, ok)
				evicted = true
			}
			if n++; n == visits {
				break
			}
		}
		if !evicted {
			delete(sh.m, first)
		}
	}
	sh.m[k] = e
}

// reset drops every answer and refuses answers read before stamp.
func (sh *userShard) reset(stamp uint64) {
	sh.mu.Lock()
	clear(sh.m)
	sh.floor = max(sh.floor, stamp)
	sh.mu.Unlock()
}
