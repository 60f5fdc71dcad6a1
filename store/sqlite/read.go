package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// notFound turns sql.ErrNoRows into the bare store.ErrNotFound (a miss
// costs no allocation; callers add context) and wraps other errors with
// what was read.
func notFound(err error, what string, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return fmt.Errorf("reading %s %q: %w", what, id, err)
}

// short returns the context for a statement that reads a few rows: ctx's
// values without its cancellation, since watching it (a goroutine per
// statement in database/sql and in the driver) would cost as much as the
// statement itself. It returns ctx's error if ctx has ended already.
func short(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// Account implements store.Reader.
func (s *Store) Account(ctx context.Context, id string) (record.Account, error) {
	ctx, err := short(ctx)
	if err != nil {
		return record.Account{}, err
	}
	var a record.Account
	if err := s.r.account.QueryRowContext(ctx, id).Scan(&a.ID, &a.Name); err != nil {
		return record.Account{}, notFound(err, "account", id)
	}
	return a, nil
}

// Accounts returns every account, in order of id. (store.Store does not
// ask for it yet; the CLI would like to.)
func (s *Store) Accounts(ctx context.Context) ([]record.Account, error) {
	rows, err := s.r.accounts.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	defer rows.Close()
	var out []record.Account
	for rows.Next() {
		var a record.Account
		if err := rows.Scan(&a.ID, &a.Name); err != nil {
			return nil, fmt.Errorf("reading accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	return out, nil
}

// User implements store.Reader.
func (s *Store) User(ctx context.Context, accountID, userID string) (record.User, error) {
	ctx, err := short(ctx)
	if err != nil {
		return record.User{}, err
	}
	u, err := scanUser(s.r.user.QueryRowContext(ctx, accountID, userID))
	if err != nil {
		return record.User{}, notFound(err, "user", userID)
	}
	return u, nil
}

// UserByEmail implements store.Reader. Emails are compared after
// strings.ToLower.
func (s *Store) UserByEmail(ctx context.Context, accountID, email string) (record.User, error) {
	if email == "" {
		return record.User{}, store.ErrNotFound
	}
	ctx, err := short(ctx)
	if err != nil {
		return record.User{}, err
	}
	u, err := scanUser(s.r.userByEmail.QueryRowContext(ctx, accountID, strings.ToLower(email)))
	if err != nil {
		return record.User{}, notFound(err, "user with email", email)
	}
	return u, nil
}

// Opportunity implements store.Reader.
func (s *Store) Opportunity(ctx context.Context, accountID, id string) (record.Opportunity, error) {
	ctx, err := short(ctx)
	if err != nil {
		return record.Opportunity{}, err
	}
	o, err := scanOpportunity(s.r.opportunity.QueryRowContext(ctx, accountID, id))
	if err != nil {
		return record.Opportunity{}, notFound(err, "opportunity", id)
	}
	s.hints.remember(&o)
	return o, nil
}

var _ store.MultiReader = (*Store)(nil)

// ReadOpportunities implements store.MultiReader in one query: a batch's
// opportunities that the cache does not hold cost one statement rather
// than one each.
func (s *Store) ReadOpportunities(ctx context.Context, keys []store.Key) ([]record.Opportunity, []bool, error) {
	ctx, err := short(ctx)
	if err != nil {
		return nil, nil, err
	}
	opps, found := make([]record.Opportunity, len(keys)), make([]bool, len(keys))
	if len(keys) == 0 {
		return opps, found, nil
	}
	pairs := make([][2]string, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k.AccountID, k.ID}
	}
	list, err := json.Marshal(pairs)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %d opportunities: %w", len(keys), err)
	}
	rows, err := s.r.opportunities.QueryContext(ctx, string(list))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %d opportunities: %w", len(keys), err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		o, err := scanOpportunity(prefixed{rows, &i})
		if err != nil {
			return nil, nil, fmt.Errorf("reading %d opportunities: %w", len(keys), err)
		}
		if i < 0 || i >= len(keys) {
			return nil, nil, fmt.Errorf("reading %d opportunities: key %d out of range", len(keys), i)
		}
		s.hints.remember(&o)
		opps[i], found[i] = o, true
	}
	if err := rows.Close(); err != nil {
		return nil, nil, fmt.Errorf("reading %d opportunities: %w", len(keys), err)
	}
	return opps, found, nil
}

// prefixed scans a row whose first column is an int, into first, before
// the columns the caller scans.
type prefixed struct {
	rows  *sql.Rows
	first *int
}

func (p prefixed) Scan(dest ...any) error {
	return p.rows.Scan(append([]any{p.first}, dest...)...)
}

// Contact implements store.Reader.
func (s *Store) Contact(ctx context.Context, accountID, id string) (record.Contact, error) {
	ctx, err := short(ctx)
	if err != nil {
		return record.Contact{}, err
	}
	c, err := scanContact(s.r.contact.QueryRowContext(ctx, accountID, id))
	if err != nil {
		return record.Contact{}, notFound(err, "contact", id)
	}
	return c, nil
}

// OpportunitiesByContact implements store.Reader.
func (s *Store) OpportunitiesByContact(ctx context.Context, accountID, contactID string) ([]record.Opportunity, error) {
	if contactID == "" {
		return nil, nil // names no contact
	}
	ctx, err := short(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.oppsByContact.QueryContext(ctx, accountID, contactID)
	if err != nil {
		return nil, fmt.Errorf("reading opportunities of contact %q: %w", contactID, err)
	}
	out, err := collectOpportunities(rows)
	if err != nil {
		return nil, fmt.Errorf("reading opportunities of contact %q: %w", contactID, err)
	}
	return out, nil
}

func collectOpportunities(rows *sql.Rows) ([]record.Opportunity, error) {
	defer rows.Close()
	var out []record.Opportunity
	for rows.Next() {
		o, err := scanOpportunity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Processed implements store.Reader.
func (s *Store) Processed(ctx context.Context, accountID, eventID string) (bool, error) {
	ctx, err := short(ctx)
	if err != nil {
		return false, err
	}
	var one int
	err = s.r.processed.QueryRowContext(ctx, accountID, eventID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading ledger for event %q: %w", eventID, err)
	}
	return true, nil
}

// History implements store.Store.
func (s *Store) History(ctx context.Context, accountID string, kind record.Kind, id string) ([]record.HistoryEntry, error) {
	ctx, err := short(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.history.QueryContext(ctx, accountID, string(kind), id)
	if err != nil {
		return nil, fmt.Errorf("reading history of %s %q: %w", kind, id, err)
	}
	defer rows.Close()
	var out []record.HistoryEntry
	for rows.Next() {
		h, err := scanHistory(rows)
		if err != nil {
			return nil, fmt.Errorf("reading history of %s %q: %w", kind, id, err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading history of %s %q: %w", kind, id, err)
	}
	return out, nil
}

// StaleCandidates implements store.Store. It walks the partial index
// opportunities_stale, which holds only open, owned opportunities in order
// of last_owner_activity_at, so it reads what it returns and stops.
func (s *Store) StaleCandidates(ctx context.Context, cutoff time.Time, limit int) ([]record.Opportunity, error) {
	c, err := encodeTime("cutoff", cutoff)
	if err != nil {
		// Out of range: clamp, every stored time is within it.
		if cutoff.Before(minTime) {
			return nil, nil
		}
		c = maxTime.UnixNano()
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.stale.QueryContext(ctx, c, limit)
	if err != nil {
		return nil, fmt.Errorf("reading stale candidates: %w", err)
	}
	out, err := collectOpportunities(rows)
	if err != nil {
		return nil, fmt.Errorf("reading stale candidates: %w", err)
	}
	return out, nil
}
