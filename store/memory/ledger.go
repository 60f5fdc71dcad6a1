package memory

import "hash/maphash"

// ledger is the processed-event ledger of every account. It keeps a 128-bit
// hash of each (account, event id) rather than the ids: 16 bytes an event,
// which the garbage collector does not scan, where the ids would retain two
// strings an event. Two different events share a hash with probability
// about n²/2¹²⁹ for n events, which is nil in practice (10¹² events: 10⁻¹⁵).
type ledger struct {
	seeds [2]maphash.Seed
	m     map[ledgerKey]struct{}
}

type ledgerKey [2]uint64

func newLedger() ledger {
	return ledger{
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		m:     map[ledgerKey]struct{}{},
	}
}

// key hashes an event id of an account. It needs no lock.
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
	return k
}

func (l *ledger) has(k ledgerKey) bool {
	_, ok := l.m[k]
	return ok
}

// addNew adds k and reports whether it was new, in one map probe.
func (l *ledger) addNew(k ledgerKey) bool {
	n := len(l.m)
	l.m[k] = struct{}{}
	return len(l.m) > n
}

func (l *ledger) remove(k ledgerKey) { delete(l.m, k) }
