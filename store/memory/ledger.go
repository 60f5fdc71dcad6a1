package memory

// ledger is the processed-event ledger of every account. It keeps the
// hashKey of each (account, event id) rather than the ids: 16 bytes an
// event, which the garbage collector does not scan, where the ids would
// retain two strings an event.
//
// The keys sit in ledgerShards chosen by the top byte of a key's second
// half. Each shard grows on its own, so that a growth rehashes a table
// small enough to stay in the CPU's caches (one large table would rehash
// all of its keys at every doubling, a cache miss each).
type ledger struct {
	shards [256]ledgerShard
}

func newLedger() ledger {
	var l ledger
	for i := range l.shards {
		l.shards[i] = newLedgerShard()
	}
	return l
}

func (l *ledger) shard(k hashKey) *ledgerShard { return &l.shards[k[1]>>56] }

func (l *ledger) has(k hashKey) bool    { return l.shard(k).has(k) }
func (l *ledger) addNew(k hashKey) bool { return l.shard(k).addNew(k) }
func (l *ledger) remove(k hashKey)      { l.shard(k).remove(k) }

// ledgerShard is one open-addressing table (linear probing, at most 3/4
// full): a key's first half is already a uniform hash, so a look-up is one
// index and, mostly, one cache line, and an insert that finds the key
// there answers "already processed" in the same probe.
type ledgerShard struct {
	slots []hashKey // the zero key marks an empty slot
	n     int
}

func newLedgerShard() ledgerShard { return ledgerShard{slots: make([]hashKey, 16)} }

// find returns the slot of k, or of the empty slot where it would go.
func (l *ledgerShard) find(k hashKey) uint64 {
	mask := uint64(len(l.slots) - 1)
	i := k[0] & mask
	for l.slots[i] != k && l.slots[i] != (hashKey{}) {
		i = (i + 1) & mask
	}
	return i
}

func (l *ledgerShard) has(k hashKey) bool { return l.slots[l.find(k)] == k }

// addNew adds k and reports whether it was new, in one probe sequence.
func (l *ledgerShard) addNew(k hashKey) bool {
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

func (l *ledgerShard) grow() {
	old := l.slots
	l.slots = make([]hashKey, 2*len(old))
	for _, k := range old {
		if k != (hashKey{}) {
			l.slots[l.find(k)] = k
		}
	}
}

// remove takes k out, shifting back the keys probed past it so that every
// key stays reachable from its home slot.
func (l *ledgerShard) remove(k hashKey) {
	i := l.find(k)
	if l.slots[i] != k {
		return
	}
	mask := uint64(len(l.slots) - 1)
	for j := i; ; {
		j = (j + 1) & mask
		if l.slots[j] == (hashKey{}) {
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
	l.slots[i] = hashKey{}
	l.n--
}
