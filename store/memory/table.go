package memory

import "hash/maphash"

// hashKey is a 128-bit hash of an account id and an id (of a record or an
// event). Two different pairs share one with probability about n²/2¹²⁹
// for n pairs, nil in practice, so the store keeps and compares these
// instead of the strings: a look-up costs one hash of strings the caller
// already has in cache, and no visit to the stored strings. It is never
// the zero key, which marks an empty slot.
type hashKey [2]uint64

// hasher makes hashKeys with seeds of its own, so that keys cannot be
// chosen to collide.
type hasher struct{ seeds [2]maphash.Seed }

func newHasher() hasher {
	return hasher{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// key hashes an id of an account. It needs no lock. The two strings are
// hashed as a pair (maphash.Comparable of a struct), so that no two pairs
// hash the same bytes.
func (hs *hasher) key(accountID, id string) hashKey {
	pair := idPair{accountID, id}
	return hashKey{maphash.Comparable(hs.seeds[0], pair), maphash.Comparable(hs.seeds[1], pair) | 1}
}

type idPair struct{ account, id string }

// table maps hashKeys to values in one open-addressing array (linear
// probing, at most 3/4 full): a look-up is one index and, mostly, one cache
// line, then the value itself. Entries are never removed: the store keeps
// records for its whole life.
type table[V any] struct {
	slots []tableSlot[V]
	n     int
}

type tableSlot[V any] struct {
	k hashKey
	v *V
}

func newTable[V any]() table[V] { return table[V]{slots: make([]tableSlot[V], 64)} }

// find returns the index of k's slot, or of the empty slot where it would go.
func (t *table[V]) find(k hashKey) uint64 {
	mask := uint64(len(t.slots) - 1)
	i := k[0] & mask
	for t.slots[i].k != k && t.slots[i].k != (hashKey{}) {
		i = (i + 1) & mask
	}
	return i
}

// get returns the value of k, or nil.
func (t *table[V]) get(k hashKey) *V { return t.slots[t.find(k)].v }

// put sets the value of k.
func (t *table[V]) put(k hashKey, v *V) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	i := t.find(k)
	if t.slots[i].k != k {
		t.slots[i].k = k
		t.n++
	}
	t.slots[i].v = v
}

func (t *table[V]) grow() {
	old := t.slots
	t.slots = make([]tableSlot[V], 2*len(old))
	for _, s := range old {
		if s.k != (hashKey{}) {
			t.slots[t.find(s.k)] = s
		}
	}
}

// all calls f with every value, in no particular order.
func (t *table[V]) all(f func(*V)) {
	for _, s := range t.slots {
		if s.v != nil {
			f(s.v)
		}
	}
}
