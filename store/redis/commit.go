package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// Commit implements store.Store with one script call (EVALSHA, or EVAL the
// first time a server sees the script) over the keys of cs.AccountID only:
// CommitBatch of one changeset. The script checks, in this order, the
// fence, the ledger, the versions of cs.Reads, of the written opportunities
// and of the written contacts, and the follower limit (decided here,
// refused there, so that a stale changeset reports ErrConflict first), and
// writes only when all pass: on any error nothing is written. The first
// commit of an account in this process also adds the account to the global
// set of accounts, one more round trip.
//
// A changeset without an account, that writes a record twice, or that
// names a record, a read or a history entry of another account or of a kind
// without followers, is refused with an error that is none of the store
// sentinels. Commit does not change cs.
//
// A commit whose reply is lost (a network error after Redis ran it) may
// have been applied; running it again then reports ErrAlreadyProcessed, or
// ErrConflict for a changeset without an event id.
func (s *Store) Commit(ctx context.Context, cs *store.Changeset) error {
	errs, err := s.CommitBatch(ctx, []*store.Changeset{cs})
	if err != nil {
		return fmt.Errorf("redis store: committing changeset of account %q: %w", cs.AccountID, err)
	}
	return errs[0]
}

// checkChangeset refuses a changeset that has no account (its keys need
// the account's hash tag) or is invalid (store.Changeset.Check).
func checkChangeset(cs *store.Changeset) error {
	if cs.AccountID == "" {
		return errors.New("redis store: changeset has no account")
	}
	if err := cs.Check(); err != nil {
		return fmt.Errorf("redis store: %w", err)
	}
	return nil
}

// appendChangeset appends cs to a group of commitScript's arguments (see
// there); the ledger value (when the event was processed) only when
// ledgerValue, for ledger entries that are keys of their own.
func appendChangeset(m *msgpack, cs *store.Changeset, ledgerValue bool) error {
	if cs.Fence != nil {
		m.int64Str(int64(cs.Fence.Partition))
		m.int64Str(cs.Fence.Epoch)
	} else {
		m.str("")
		m.str("")
	}
	m.str(cs.EventID)
	if ledgerValue {
		var tmp [40]byte
		at := cs.ProcessedAt.AppendFormat(tmp[:0], time.RFC3339Nano)
		m.n++
		m.strHeader(len(at))
		m.b = append(m.b, at...)
	} else {
		m.str("") // the ledger set keeps no value
	}
	over := 0
	for i := range cs.Opportunities {
		if len(cs.Opportunities[i].Followers) > record.MaxFollowers {
			over = 1
		}
	}
	for i := range cs.Contacts {
		if len(cs.Contacts[i].Followers) > record.MaxFollowers {
			over = 1
		}
	}
	m.int(over)
	// History entries go in lists of consecutive entries of one record.
	lists := 0
	for i := range cs.History {
		if i == 0 || !sameRecord(&cs.History[i], &cs.History[i-1]) {
			lists++
		}
	}
	m.int(len(cs.Reads))
	m.int(len(cs.Opportunities))
	m.int(len(cs.Contacts))
	m.int(lists)

	for i := range cs.Reads {
		r := &cs.Reads[i]
		k := m.strStart()
		m.b = appendRecordKey(m.b, r.Kind, r.ID)
		m.strEnd(k)
		m.int64Str(r.Version)
	}
	for i := range cs.Opportunities {
		o := &cs.Opportunities[i]
		m.str(o.ID)
		m.int64Str(o.Version)
		m.int64Str(o.Version + 1)
		m.str(o.ContactID)
		if o.IsStaleCandidate() {
			m.int64Str(o.LastOwnerActivityAt.UnixMilli())
		} else {
			m.str("")
		}
		k := m.strStart()
		var ok bool
		if m.b, ok = appendOpportunityJSON(m.b, o); !ok {
			return fmt.Errorf("redis store: encoding opportunity %q: %w", o.ID, marshalErr(o))
		}
		m.strEnd(k)
	}
	for i := range cs.Contacts {
		c := &cs.Contacts[i]
		m.str(c.ID)
		m.int64Str(c.Version)
		m.int64Str(c.Version + 1)
		k := m.strStart()
		var ok bool
		if m.b, ok = appendContactJSON(m.b, c); !ok {
			return fmt.Errorf("redis store: encoding contact %q: %w", c.ID, marshalErr(c))
		}
		m.strEnd(k)
	}
	for i := 0; i < len(cs.History); {
		h := &cs.History[i]
		n := 1
		for i+n < len(cs.History) && sameRecord(&cs.History[i+n], h) {
			n++
		}
		k := m.strStart()
		m.b = appendHistoryKey(m.b, h.Kind, h.RecordID)
		m.strEnd(k)
		m.int(n)
		for j := i; j < i+n; j++ {
			k := m.strStart()
			var ok bool
			if m.b, ok = appendHistoryJSON(m.b, &cs.History[j]); !ok {
				return fmt.Errorf("redis store: encoding history entry of %s %q: %w", h.Kind, h.RecordID, marshalErr(&cs.History[j]))
			}
			m.strEnd(k)
		}
		i += n
	}
	return nil
}

func sameRecord(a, b *record.HistoryEntry) bool {
	return a.Kind == b.Kind && a.RecordID == b.RecordID
}

// staleScore is the opportunity's score in the stale index,
// last_owner_activity_at in unix milliseconds (rounded down), or "" when
// it is not a stale candidate.
func staleScore(o *record.Opportunity) string {
	if !o.IsStaleCandidate() {
		return ""
	}
	return strconv.FormatInt(o.LastOwnerActivityAt.UnixMilli(), 10)
}

// commitReply maps a reply of commitScript for cs to the store's errors:
// nil for "OK".
func commitReply(cs *store.Changeset, reply string) error {
	code, detail, _ := strings.Cut(reply, " ")
	switch code {
	case "OK":
		return nil
	case replyFenced:
		return fmt.Errorf("redis store: partition %d of account %q is at epoch %s, changeset has %d: %w",
			cs.Fence.Partition, cs.AccountID, detail, cs.Fence.Epoch, store.ErrFenced)
	case replyProcessed:
		return fmt.Errorf("redis store: event %q of account %q: %w", cs.EventID, cs.AccountID, store.ErrAlreadyProcessed)
	case replyConflict:
		idx, stored, _ := strings.Cut(detail, " ")
		return fmt.Errorf("redis store: %s: stored version %s: %w", conflictTarget(cs, idx), stored, store.ErrConflict)
	case replyLimit:
		return fmt.Errorf("redis store: changeset of account %q: a record has more than %d followers: %w",
			cs.AccountID, record.MaxFollowers, store.ErrFollowerLimit)
	}
	return fmt.Errorf("redis store: committing changeset of account %q: unexpected reply %q", cs.AccountID, reply)
}

// conflictTarget names the record at index i of the script's version checks:
// reads, then opportunities, then contacts.
func conflictTarget(cs *store.Changeset, idx string) string {
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 {
		return "a record"
	}
	if i < len(cs.Reads) {
		r := cs.Reads[i]
		return fmt.Sprintf("%s %q of account %q read at version %d", r.Kind, r.ID, r.AccountID, r.Version)
	}
	i -= len(cs.Reads)
	if i < len(cs.Opportunities) {
		o := &cs.Opportunities[i]
		return fmt.Sprintf("opportunity %q of account %q written at version %d", o.ID, o.AccountID, o.Version)
	}
	i -= len(cs.Opportunities)
	if i < len(cs.Contacts) {
		c := &cs.Contacts[i]
		return fmt.Sprintf("contact %q of account %q written at version %d", c.ID, c.AccountID, c.Version)
	}
	return "a record"
}

// addAccount adds the account to the global set of accounts, once per
// process. It runs before the account's own keys are written, so that
// StaleCandidates and Export never miss an account that has data.
func (s *Store) addAccount(ctx context.Context, ids ...string) error {
	var missing []any
	for _, id := range ids {
		if _, ok := s.known.Load(id); !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := s.client.SAdd(ctx, s.accountsKey(), missing...).Err(); err != nil {
		return fmt.Errorf("redis store: adding accounts to %s: %w", s.accountsKey(), err)
	}
	for _, id := range missing {
		s.known.Store(id, true)
	}
	return nil
}
