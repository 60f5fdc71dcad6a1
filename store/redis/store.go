package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// Store is the Redis store.Store, shared by many workers on many machines.
// It is safe for concurrent use.
type Store struct {
	client    goredis.UniversalClient
	prefix    string
	ledgerTTL int64 // ms; 0: forever

	// known holds the account ids this Store has added to the global set
	// of accounts, so that a commit adds an account once per process.
	known sync.Map

	// slotBound is set once a server refused a commit call over several
	// accounts (CROSSSLOT: a proxy that keeps scripts to one hash slot);
	// commits then make one call per account (see CommitBatch).
	slotBound atomic.Bool
}

var _ store.Store = (*Store)(nil)

// New returns a store that keeps its data in Redis through client: a
// *goredis.Client, a *goredis.ClusterClient or a failover client. The
// store does not own the client: Close leaves it open for its other users
// (a queue, say), and the caller closes it.
func New(client goredis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, errors.New("redis store: nil client")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ttl := cfg.LedgerTTL.Milliseconds()
	return &Store{client: client, prefix: cfg.Prefix, ledgerTTL: ttl}, nil
}

// Close implements store.Store. It releases nothing: the client belongs to
// the caller (see New).
func (s *Store) Close() error { return nil }

// Accounts implements store.Reader: the global set of account ids, then
// one pipelined GET per account; ids known only from commits (no account
// was loaded) are left out.
func (s *Store) Accounts(ctx context.Context) ([]record.Account, error) {
	ids, err := s.client.SMembers(ctx, s.accountsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redis store: reading accounts: %w", err)
	}
	slices.Sort(ids)
	pipe := s.client.Pipeline()
	cmds := make([]*goredis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.Get(ctx, s.keys(id).account())
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis store: reading accounts: %w", err)
	}
	out := make([]record.Account, 0, len(ids))
	for i, c := range cmds {
		b, err := c.Bytes()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("redis store: reading account %q: %w", ids[i], err)
		}
		var a record.Account
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Errorf("redis store: decoding account %q: %w", ids[i], err)
		}
		out = append(out, a)
	}
	return out, nil
}

// Account implements store.Reader with one GET.
func (s *Store) Account(ctx context.Context, id string) (record.Account, error) {
	var a record.Account
	if id == "" {
		return a, store.ErrNotFound
	}
	b, err := s.client.Get(ctx, s.keys(id).account()).Bytes()
	if err != nil {
		return a, readErr("account", id, err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("redis store: decoding account %q: %w", id, err)
	}
	return a, nil
}

// User implements store.Reader with one HGET.
func (s *Store) User(ctx context.Context, accountID, userID string) (record.User, error) {
	var u record.User
	if accountID == "" {
		return u, store.ErrNotFound
	}
	b, err := s.client.HGet(ctx, s.keys(accountID).user(userID), "d").Bytes()
	if err != nil {
		return u, readErr("user", userID, err)
	}
	if err := json.Unmarshal(b, &u); err != nil {
		return u, fmt.Errorf("redis store: decoding user %q of account %q: %w", userID, accountID, err)
	}
	return u, nil
}

// UserByEmail implements store.Reader with one script call over the
// account's email index. Emails compare after strings.ToLower; an empty
// email matches no user.
func (s *Store) UserByEmail(ctx context.Context, accountID, email string) (record.User, error) {
	var u record.User
	if accountID == "" || email == "" {
		return u, store.ErrNotFound
	}
	k := s.keys(accountID)
	lower := strings.ToLower(email)
	b, err := userByEmailScript.Run(ctx, s.client, []string{k.emails()}, lower, k.user("")).Text()
	if err != nil {
		return u, readErr("user with email", email, err)
	}
	if err := json.Unmarshal([]byte(b), &u); err != nil {
		return u, fmt.Errorf("redis store: decoding user with email %q of account %q: %w", email, accountID, err)
	}
	if strings.ToLower(u.Email) != lower {
		// The index is kept in step with the users; this is a safeguard.
		return record.User{}, store.ErrNotFound
	}
	return u, nil
}

// Opportunity implements store.Reader with one HMGET.
func (s *Store) Opportunity(ctx context.Context, accountID, id string) (record.Opportunity, error) {
	var o record.Opportunity
	if accountID == "" {
		return o, store.ErrNotFound
	}
	vals, err := s.client.HMGet(ctx, s.keys(accountID).opp(id), "v", "d").Result()
	if err != nil {
		return o, readErr("opportunity", id, err)
	}
	return decodeOpp(vals[0], vals[1], accountID, id)
}

// Contact implements store.Reader with one HMGET.
func (s *Store) Contact(ctx context.Context, accountID, id string) (record.Contact, error) {
	var c record.Contact
	if accountID == "" {
		return c, store.ErrNotFound
	}
	vals, err := s.client.HMGet(ctx, s.keys(accountID).contact(id), "v", "d").Result()
	if err != nil {
		return c, readErr("contact", id, err)
	}
	return decodeContact(vals[0], vals[1], accountID, id)
}

// OpportunitiesByContact implements store.Reader with one script call over
// the account's contact index.
func (s *Store) OpportunitiesByContact(ctx context.Context, accountID, contactID string) ([]record.Opportunity, error) {
	if accountID == "" || contactID == "" {
		return nil, nil // "" names no contact: such opportunities are in no contact-opps set
	}
	k := s.keys(accountID)
	vals, err := oppsByContactScript.Run(ctx, s.client, []string{k.contactOpps(contactID)}, k.opp("")).Slice()
	if err != nil {
		return nil, fmt.Errorf("redis store: opportunities of contact %q of account %q: %w", contactID, accountID, err)
	}
	out := make([]record.Opportunity, 0, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		o, err := decodeOpp(vals[i], vals[i+1], accountID, "")
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b record.Opportunity) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Processed implements store.Reader with one round trip: SISMEMBER on the
// account's ledger set and EXISTS on the entry's own key (entries with a
// TTL, and those written by versions before the set).
func (s *Store) Processed(ctx context.Context, accountID, eventID string) (bool, error) {
	if accountID == "" || eventID == "" {
		return false, nil
	}
	k := s.keys(accountID)
	pipe := s.client.Pipeline()
	inSet := pipe.SIsMember(ctx, k.ledgerSet(), eventID)
	key := pipe.Exists(ctx, k.ledger(eventID))
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("redis store: ledger of account %q: %w", accountID, err)
	}
	return inSet.Val() || key.Val() == 1, nil
}

// History implements store.Store with one LRANGE. Seq is the entry's
// position in the record's list, from 1. A record without history (stored
// or not, or of a kind without followers) has none and no error.
func (s *Store) History(ctx context.Context, accountID string, kind record.Kind, id string) ([]record.HistoryEntry, error) {
	key, ok := s.keys(accountID).history(kind, id)
	if accountID == "" || !ok {
		return nil, nil
	}
	vals, err := s.client.LRange(ctx, key, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis store: history of %s %q of account %q: %w", kind, id, accountID, err)
	}
	if len(vals) == 0 {
		return nil, nil
	}
	out := make([]record.HistoryEntry, len(vals))
	for i, v := range vals {
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, fmt.Errorf("redis store: decoding history entry %d of %s %q of account %q: %w", i+1, kind, id, accountID, err)
		}
		out[i].Seq = int64(i + 1)
	}
	return out, nil
}

// readErr maps goredis.Nil to store.ErrNotFound and wraps other errors.
func readErr(what, id string, err error) error {
	if errors.Is(err, goredis.Nil) {
		return store.ErrNotFound
	}
	return fmt.Errorf("redis store: reading %s %q: %w", what, id, err)
}

// decodeOpp decodes the v and d fields of an opportunity hash, as returned
// by HMGET (nil when missing). id names it in errors when known.
func decodeOpp(v, d any, accountID, id string) (record.Opportunity, error) {
	var o record.Opportunity
	version, data, err := versionAndData(v, d)
	if err != nil {
		return o, fmt.Errorf("redis store: opportunity %q of account %q: %w", id, accountID, err)
	}
	if data == "" {
		return o, store.ErrNotFound
	}
	if !decodeOpportunityJSON(data, &o) {
		o = record.Opportunity{}
		if err := json.Unmarshal([]byte(data), &o); err != nil {
			return o, fmt.Errorf("redis store: decoding opportunity %q of account %q: %w", id, accountID, err)
		}
	}
	o.Version = version
	return o, nil
}

// decodeContact is decodeOpp for a contact.
func decodeContact(v, d any, accountID, id string) (record.Contact, error) {
	var c record.Contact
	version, data, err := versionAndData(v, d)
	if err != nil {
		return c, fmt.Errorf("redis store: contact %q of account %q: %w", id, accountID, err)
	}
	if data == "" {
		return c, store.ErrNotFound
	}
	if !decodeContactJSON(data, &c) {
		c = record.Contact{}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return c, fmt.Errorf("redis store: decoding contact %q of account %q: %w", id, accountID, err)
		}
	}
	c.Version = version
	return c, nil
}

// versionAndData reads the version and JSON of a record hash; data is ""
// when the record does not exist.
func versionAndData(v, d any) (int64, string, error) {
	vs, ok1 := v.(string)
	ds, ok2 := d.(string)
	if !ok1 || !ok2 {
		return 0, "", nil
	}
	version, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("bad version %q: %w", vs, err)
	}
	return version, ds, nil
}

var _ store.MultiReader = (*Store)(nil)

// ReadOpportunities implements store.MultiReader: one pipelined HMGET per
// opportunity, one round trip in all.
func (s *Store) ReadOpportunities(ctx context.Context, keys []store.Key) ([]record.Opportunity, []bool, error) {
	opps := make([]record.Opportunity, len(keys))
	found := make([]bool, len(keys))
	if len(keys) == 0 {
		return opps, found, nil
	}
	pipe := s.client.Pipeline()
	cmds := make([]*goredis.SliceCmd, len(keys))
	for i, k := range keys {
		if k.AccountID != "" {
			cmds[i] = pipe.HMGet(ctx, s.keys(k.AccountID).opp(k.ID), "v", "d")
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, nil, fmt.Errorf("redis store: reading %d opportunities: %w", len(keys), err)
	}
	for i, k := range keys {
		if cmds[i] == nil {
			continue
		}
		vals, err := cmds[i].Result()
		if err != nil {
			return nil, nil, readErr("opportunity", k.ID, err)
		}
		o, err := decodeOpp(vals[0], vals[1], k.AccountID, k.ID)
		switch {
		case err == nil:
			opps[i], found[i] = o, true
		case !errors.Is(err, store.ErrNotFound):
			return nil, nil, err
		}
	}
	return opps, found, nil
}
