package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// Commit implements store.Store with one script call (EVALSHA, or EVAL the
// first time a server sees the script) over the keys of cs.AccountID only.
// The script checks, in this order, the fence, the ledger, the versions of
// cs.Reads, of the written opportunities and of the written contacts, and
// the follower limit (decided here, refused there, so that a stale
// changeset reports ErrConflict first), and writes only when all pass: on
// any error nothing is written. The first commit of an account in this
// process also adds the account to the global set of accounts, one more
// round trip.
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
	if err := checkChangeset(cs); err != nil {
		return err
	}
	keys, args, err := s.commitArgs(cs)
	if err != nil {
		return err
	}
	if err := s.addAccount(ctx, cs.AccountID); err != nil {
		return err
	}
	err = commitScript.Run(ctx, s.client, keys, args...).Err()
	if err == nil {
		return nil
	}
	return commitErr(cs, err)
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

// commitArgs lays out KEYS and ARGV for commitScript.
func (s *Store) commitArgs(cs *store.Changeset) ([]string, []any, error) {
	k := s.keys(cs.AccountID)
	nr, no, nc, nh := len(cs.Reads), len(cs.Opportunities), len(cs.Contacts), len(cs.History)
	keys := make([]string, 0, 5+nr+no+nc+nh)
	args := make([]any, 0, 11+nr+6*no+4*nc+nh)

	ledgerKey, hasEvent := k.fences(), "0"
	if cs.EventID != "" {
		ledgerKey, hasEvent = k.ledger(cs.EventID), "1"
	}
	keys = append(keys, k.fences(), ledgerKey, k.stale(), k.opps(), k.contacts())

	partition, epoch := "", ""
	if cs.Fence != nil {
		partition = strconv.Itoa(cs.Fence.Partition)
		epoch = strconv.FormatInt(cs.Fence.Epoch, 10)
	}
	overLimit := "0"
	for i := range cs.Opportunities {
		if len(cs.Opportunities[i].Followers) > record.MaxFollowers {
			overLimit = "1"
		}
	}
	for i := range cs.Contacts {
		if len(cs.Contacts[i].Followers) > record.MaxFollowers {
			overLimit = "1"
		}
	}
	args = append(args, k.base, partition, epoch, hasEvent, cs.ProcessedAt.Format(time.RFC3339Nano),
		s.ledgerTTL, overLimit, nr, no, nc, nh)

	for i := range cs.Reads {
		r := &cs.Reads[i]
		key, _ := k.record(r.Kind, r.ID)
		keys = append(keys, key)
		args = append(args, r.Version)
	}
	for i := range cs.Opportunities {
		o := &cs.Opportunities[i]
		b, err := json.Marshal(o)
		if err != nil {
			return nil, nil, fmt.Errorf("redis store: encoding opportunity %q: %w", o.ID, err)
		}
		keys = append(keys, k.opp(o.ID))
		args = append(args, o.Version, o.Version+1, o.ID, o.ContactID, staleScore(o), b)
	}
	for i := range cs.Contacts {
		c := &cs.Contacts[i]
		b, err := json.Marshal(c)
		if err != nil {
			return nil, nil, fmt.Errorf("redis store: encoding contact %q: %w", c.ID, err)
		}
		keys = append(keys, k.contact(c.ID))
		args = append(args, c.Version, c.Version+1, c.ID, b)
	}
	for i := range cs.History {
		h := cs.History[i]
		h.Seq = 0 // the position in the list is the Seq
		b, err := json.Marshal(&h)
		if err != nil {
			return nil, nil, fmt.Errorf("redis store: encoding history entry of %s %q: %w", h.Kind, h.RecordID, err)
		}
		key, _ := k.history(h.Kind, h.RecordID)
		keys = append(keys, key)
		args = append(args, b)
	}
	return keys, args, nil
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

// commitErr maps an error of commitScript to the store's errors.
func commitErr(cs *store.Changeset, err error) error {
	var rerr goredis.Error
	if !errors.As(err, &rerr) {
		return fmt.Errorf("redis store: committing changeset of account %q: %w", cs.AccountID, err)
	}
	// Redis puts "ERR " before an error reply of one word.
	code, detail, _ := strings.Cut(strings.TrimPrefix(rerr.Error(), "ERR "), " ")
	switch code {
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
	return fmt.Errorf("redis store: committing changeset of account %q: %w", cs.AccountID, err)
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
