package sqlite

import (
	"sync"

	"github.com/followflow/followflow/record"
)

// hints remembers, for the opportunities this Store last read or wrote,
// the columns of its secondary indexes at a version, so that an update
// whose changeset read that version (the stored row is then exactly what
// was read) runs the one UPDATE that rewrites the index entries that change
// and no others, instead of trying the lightest first and falling back.
// A hint never decides what is written: every UPDATE checks the version and
// the columns it leaves alone. Bounded: it starts over when full.
type hints struct {
	mu sync.Mutex
	m  map[hintKey]indexed
}

type hintKey struct{ account, id string }

// indexed is an opportunity's columns of the secondary indexes, at version.
type indexed struct {
	version                int64
	status, owner, contact string
	activity               int64 // last_owner_activity_at, as stored
}

const maxHints = 1 << 16

func (h *hints) put(account, id string, v indexed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHints {
		h.m = make(map[hintKey]indexed, 1024)
	}
	h.m[hintKey{account, id}] = v
}

func (h *hints) get(account, id string) (indexed, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[hintKey{account, id}]
	return v, ok
}

// remember records what a read returned.
func (h *hints) remember(o *record.Opportunity) {
	activity, err := encodeTime("", o.LastOwnerActivityAt)
	if err != nil {
		return
	}
	h.put(o.AccountID, o.ID, indexed{o.Version, o.Status, o.OwnerID, o.ContactID, activity})
}

// argsIndexed returns the indexed columns of oppArgs's arguments.
func argsIndexed(version int64, args []any) indexed {
	return indexed{version, args[5].(string), args[7].(string), args[8].(string), args[13].(int64)}
}
