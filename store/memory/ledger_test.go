package memory

import (
	"math/rand/v2"
	"testing"
)

// TestLedgerShardAgainstAMap: random adds and removes, with home slots crowded
// on purpose so that probe runs wrap and overlap, agree with a Go map.
func TestLedgerShardAgainstAMap(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	l := newLedgerShard()
	ref := map[hashKey]bool{}
	var keys []hashKey
	for i := range 20000 {
		// Few distinct homes, many keys: long, wrapping runs.
		// Homes near the end of the table (for every size up to 2^20), so
		// that runs also wrap around to the start.
		k := hashKey{1<<20 - 32 + uint64(r.IntN(64)), uint64(i)<<1 | 1}
		if r.IntN(3) == 0 && len(keys) > 0 {
			k = keys[r.IntN(len(keys))]
		}
		switch r.IntN(3) {
		case 0, 1:
			if got, want := l.addNew(k), !ref[k]; got != want {
				t.Fatalf("step %d: addNew(%v) = %v, want %v", i, k, got, want)
			}
			ref[k] = true
			keys = append(keys, k)
		default:
			l.remove(k)
			delete(ref, k)
		}
		if i%997 == 0 {
			n := 0
			for _, kk := range keys {
				if got := l.has(kk); got != ref[kk] {
					t.Fatalf("step %d: has(%v) = %v, want %v", i, kk, got, ref[kk])
				}
			}
			for range ref {
				n++
			}
			if l.n != n {
				t.Fatalf("step %d: %d keys, want %d", i, l.n, n)
			}
		}
	}
}
