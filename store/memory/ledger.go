package memory

import "hash/maphash"

// ledger is the processed-event ledger of every account. It keeps a 128-bit
// hash of each (account, event id) rather than the ids: 16 bytes an event,
// which the garbage collector does not scan, where the ids would retain two
// strings an event. Two different events share a hash with probability
// about n²/2¹²⁹ for n events, which is nil in practice (10¹² events: 10⁻¹⁵).
//
// The keys sit in one open-addressing table (linear probing, at most 3/4
// full): a key's first half is already a uniform hash, so a look-up is one
// index and, mostly, one cache line, and an insert that finds the key
// there answers "already processed" in the same probe.
type ledger struct {
	seeds [2]maphash.Seed
	slots []ledgerKey // the zero key marks an empty slot
	n     int
}

type ledgerKey [2]uint64

func newLedger() ledger {
	return ledger{
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		slots: make([]ledgerKey, 1024),
	}
}

// key hashes an event id of an account. It needs no lock. It is never the
// zero key.
func (l *ledger) key(accountID, eventID string) ledgerKey {
	var k ledgerKey
	var h maphash.Hash
	for i, seed := range l.seeds {
		h.SetSeed(seed)
		h.WriteString(accountID)
		h.WriteByte(0)
		h.WriteString(eventID)
		k[i] = h.Sum64()
	}
	k[1] |= 1
	return k
}

// find returns the slot of k, or of the empty slot where it would go.
func (l *ledger) find(k ledgerKey) uint64 {
	mask := uint64(len(l.slots) - 1)
	i := k[0] & mask
	for l.slots[i] != k && l.slots[i] != (ledgerKey{}) {
		i = (i + 1) & mask
	}
	return i
}

func (l *ledger) has(k ledgerKey) bool { return l.slots[l.find(k)] == k }

// addNew adds k and reports whether it was new, in one probe sequence.
func (l *ledger) addNew(k ledgerKey) bool {
	if 4*(l.n+1) > 3*len(l.slots) {
		l.grow()
	}
	i := l.find(k)
	if l.slots[i] == k {
		return false
	}
	l.slots[i] = k
	l.n++
	return true
}

func (l *ledger) grow() {
	old := l.slots
	l.slots = make([]ledgerKey, 2*len(old))
	for _, k := range old {
		if k != (ledgerKey{}) {
			l.slots[l.find(k)] = k
		}
	}
}

// remove takes k out, shifting back the keys probed past it so that every
// key stays reachable from its home slot.
func (l *ledger) remove(k ledgerKey) {
	i := l.find(k)
	if l.slots[i] != k {
		return
	}
	mask := uint64(len(l.slots) - 1)
	for j := i; ; {
		j = (j + 1) & mask
		if l.slots[j] == (ledgerKey{}) {
			break
		}
		home := l.slots[j][0] & mask
		// The key at j stays when its home lies cyclically in (i, j].
		if (i < j && i < home && home <= j) || (i > j && (home > i || home <= j)) {
			continue
		}
		l.slots[i] = l.slots[j]
		i = j
	}
	l.slots[i] = ledgerKey{}
	l.n--
}
