package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// encoded is a changeset turned into statement arguments, before the write
// lock is taken.
type encoded struct {
	opps, contacts [][]any // oppArgs / contactArgs, then the version read
	history        [][]any
	processedAt    int64
	overLimit      bool // a written record has too many followers
}

func encodeChangeset(cs *store.Changeset) (*encoded, error) {
	e := &encoded{
		opps:     make([][]any, len(cs.Opportunities)),
		contacts: make([][]any, len(cs.Contacts)),
		history:  make([][]any, len(cs.History)),
	}
	if err := cs.Check(); err != nil {
		return nil, err
	}
	var err error
	if e.processedAt, err = encodeTime("processed_at", cs.ProcessedAt); err != nil {
		return nil, err
	}
	for i := range cs.Opportunities {
		o := &cs.Opportunities[i]
		e.overLimit = e.overLimit || len(o.Followers) > record.MaxFollowers
		args, err := oppArgs(o)
		if err != nil {
			return nil, fmt.Errorf("opportunity %q: %w", o.ID, err)
		}
		e.opps[i] = append(args, o.Version)
	}
	for i := range cs.Contacts {
		c := &cs.Contacts[i]
		e.overLimit = e.overLimit || len(c.Followers) > record.MaxFollowers
		args, err := contactArgs(c)
		if err != nil {
			return nil, fmt.Errorf("contact %q: %w", c.ID, err)
		}
		e.contacts[i] = append(args, c.Version)
	}
	for i := range cs.History {
		h := &cs.History[i]
		at, err := encodeTime("at", h.At)
		if err != nil {
			return nil, fmt.Errorf("history of %s %q: %w", h.Kind, h.RecordID, err)
		}
		e.history[i] = []any{h.AccountID, string(h.Kind), h.RecordID, at, h.EventID, h.WorkflowID, h.ActorID,
			h.Step, h.UserID, string(h.Outcome), h.Detail}
	}
	return e, nil
}

// Commit implements store.Store in one IMMEDIATE transaction. The common
// changeset, which writes one record, costs three statements: the ledger
// entry (whose primary key refuses a processed event), the record written on
// the condition that its version is still the one read, and a history entry;
// the fence is read, and written when it moves. A refused changeset writes
// nothing. The changeset itself is never changed. Each call is a transaction
// of its own, with its own write to the WAL (no fsync under synchronous
// NORMAL); CommitBatch spreads that cost over many changesets. A CommitHook
// in ctx (WithCommitHook) runs in the same transaction, after the changeset.
func (s *Store) Commit(ctx context.Context, cs *store.Changeset) error {
	e, err := encodeChangeset(cs)
	if err != nil {
		return fmt.Errorf("committing event %q: %w", cs.EventID, err)
	}
	hook := hookOf(ctx)
	var done func()
	err = s.write(ctx, func(ctx context.Context) error {
		if _, err := s.commit(ctx, cs, e); err != nil {
			return err
		}
		if hook != nil {
			var err error
			done, err = hook(ctx, s.wconn, []*store.Changeset{cs})
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("committing event %q: %w", cs.EventID, err)
	}
	if done != nil {
		done()
	}
	return nil
}

// CommitBatch commits several changesets in one write transaction, as if
// each were given to Commit in turn, at a fraction of the cost: each is
// applied entirely or not at all, and each sees the effects of those before
// it. errs[i] is what Commit would have returned for css[i] (nil:
// committed). When err is not nil, nothing of the batch was committed and
// errs is nil. ctx is checked between changesets. A CommitHook in ctx
// (WithCommitHook) runs in the same transaction, after the changesets.
func (s *Store) CommitBatch(ctx context.Context, css []*store.Changeset) (errs []error, err error) {
	if len(css) == 0 {
		return nil, nil
	}
	errs = make([]error, len(css))
	enc := make([]*encoded, len(css))
	for i, cs := range css {
		if enc[i], err = encodeChangeset(cs); err != nil {
			errs[i] = fmt.Errorf("committing event %q: %w", cs.EventID, err)
		}
	}
	hook := hookOf(ctx)
	var done func()
	err = s.write(ctx, func(wctx context.Context) error {
		for i, cs := range css {
			if err := ctx.Err(); err != nil {
				return err
			}
			if errs[i] != nil {
				continue
			}
			if wrote, err := s.commit(wctx, cs, enc[i]); err != nil {
				if wrote {
					// Part of the changeset is written: give up the batch.
					return fmt.Errorf("committing event %q: %w", cs.EventID, err)
				}
				errs[i] = fmt.Errorf("committing event %q: %w", cs.EventID, err)
			}
		}
		if hook == nil {
			return nil
		}
		committed := make([]*store.Changeset, 0, len(css))
		for i, cs := range css {
			if errs[i] == nil {
				committed = append(committed, cs)
			}
		}
		if len(committed) == 0 {
			return nil
		}
		var err error
		done, err = hook(wctx, s.wconn, committed)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("committing batch: %w", err)
	}
	if done != nil {
		done()
	}
	return errs, nil
}

type fenceKey struct {
	account   string
	partition int
}

// maxFences bounds Store.fences: it starts over when full.
const maxFences = 1 << 16

// commit applies one changeset in the caller's write transaction (write),
// reading fences through s.fences. A refused changeset writes nothing, or
// undoes what it wrote; wrote reports an error after which part of the
// changeset may be written (which only a failing database causes): the
// transaction must then be rolled back. Refusals come in the contract's order: fenced, already
// processed, conflict, follower limit.
func (s *Store) commit(ctx context.Context, cs *store.Changeset, e *encoded) (wrote bool, err error) {
	fences := s.fences
	st := &s.w
	writeFence := false
	if cs.Fence != nil {
		k := fenceKey{cs.AccountID, cs.Fence.Partition}
		newest, found := fences[k]
		if !found {
			err := st.fence.QueryRowContext(ctx, cs.AccountID, cs.Fence.Partition).Scan(&newest)
			found = err == nil
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return false, fmt.Errorf("reading fence: %w", err)
			}
		}
		if found && newest > cs.Fence.Epoch {
			return false, fmt.Errorf("partition %d epoch %d, newest %d: %w", cs.Fence.Partition, cs.Fence.Epoch, newest, store.ErrFenced)
		}
		writeFence = !found || newest < cs.Fence.Epoch
		if fences != nil {
			fences[k] = cs.Fence.Epoch
			defer func() {
				if err != nil {
					delete(fences, k) // perhaps not written: read it again
				}
			}()
		}
	}

	// Versions that the writes will not check themselves: those of the
	// records read, and those of the records written when there are
	// several (the writes then must not fail halfway) or when the limit is
	// exceeded (a conflict comes first). The refusal waits for the ledger
	// check, which comes before it.
	var refusal error
	for _, r := range cs.Reads {
		if refusal = s.checkVersion(ctx, r.Kind, r.AccountID, r.ID, r.Version); refusal != nil {
			break
		}
	}
	if refusal == nil && (len(e.opps)+len(e.contacts) > 1 || e.overLimit) {
		for i := 0; i < len(cs.Opportunities) && refusal == nil; i++ {
			o := &cs.Opportunities[i]
			refusal = s.checkVersion(ctx, record.KindOpportunity, o.AccountID, o.ID, o.Version)
		}
		for i := 0; i < len(cs.Contacts) && refusal == nil; i++ {
			c := &cs.Contacts[i]
			refusal = s.checkVersion(ctx, record.KindContact, c.AccountID, c.ID, c.Version)
		}
	}
	if refusal != nil && !errors.Is(refusal, store.ErrConflict) {
		return false, refusal // a failed read
	}
	if refusal == nil && e.overLimit {
		refusal = store.ErrFollowerLimit
	}

	ledgered := false
	if cs.EventID != "" {
		n, err := execCount(ctx, st.ledger, cs.AccountID, cs.EventID, e.processedAt)
		if err != nil {
			return false, fmt.Errorf("recording event in ledger: %w", err)
		}
		if n == 0 {
			return false, store.ErrAlreadyProcessed
		}
		ledgered = true
	}
	// refuse undoes the ledger entry and returns the refusal.
	refuse := func(refusal error) (bool, error) {
		if ledgered {
			if _, err := st.unledger.ExecContext(ctx, cs.AccountID, cs.EventID); err != nil {
				return true, errors.Join(refusal, fmt.Errorf("undoing ledger entry: %w", err))
			}
		}
		return false, refusal
	}
	if refusal != nil {
		return refuse(refusal)
	}

	wrote = ledgered
	for i, args := range e.opps {
		o := &cs.Opportunities[i]
		n, err := s.writeOpportunity(ctx, o.Version, args)
		if err != nil {
			return wrote, fmt.Errorf("writing opportunity %q: %w", o.ID, err)
		}
		if n == 0 {
			err := conflict(record.KindOpportunity, o.ID, -1, o.Version)
			if i == 0 {
				return refuse(err)
			}
			return true, err // checked above: cannot happen
		}
		wrote = true
	}
	for i, args := range e.contacts {
		c := &cs.Contacts[i]
		stmt := st.updateContact
		if c.Version == 0 {
			stmt, args = st.insertContact, args[:len(args)-1]
		}
		n, err := execCount(ctx, stmt, args...)
		if err != nil {
			return wrote, fmt.Errorf("writing contact %q: %w", c.ID, err)
		}
		if n == 0 {
			err := conflict(record.KindContact, c.ID, -1, c.Version)
			if i == 0 && len(e.opps) == 0 {
				return refuse(err)
			}
			return true, err // checked above: cannot happen
		}
		wrote = true
	}
	for _, args := range e.history {
		if _, err := st.addHistory.ExecContext(ctx, args...); err != nil {
			return wrote, fmt.Errorf("appending history: %w", err)
		}
		wrote = true
	}
	if writeFence {
		if _, err := st.setFence.ExecContext(ctx, cs.AccountID, cs.Fence.Partition, cs.Fence.Epoch); err != nil {
			return wrote, fmt.Errorf("recording fence: %w", err)
		}
	}
	return false, nil
}

// writeOpportunity inserts (version 0) or updates the opportunity on the
// condition that its stored version is the one read, and returns the number
// of rows written: 0 on a conflict. An update first tries not to touch the
// columns of the secondary indexes, then not those of the contact index,
// which spares rewriting their entries when those columns keep their
// values, as they mostly do (an activity moves the stale index only).
//
// When the Store knows the indexed columns of the version read (hints.go),
// it runs the one statement that fits at once.
func (s *Store) writeOpportunity(ctx context.Context, version int64, args []any) (n int64, err error) {
	account, id := args[0].(string), args[1].(string)
	now := argsIndexed(version+1, args)
	defer func() {
		if err == nil && n > 0 {
			s.hints.put(account, id, now)
		}
	}()
	if version == 0 {
		return execCount(ctx, s.w.insertOpp, args[:len(args)-1]...)
	}
	if was, ok := s.hints.get(account, id); ok && was.version == version {
		stmt := s.w.updateOpp
		switch {
		case was.status == now.status && was.owner == now.owner && was.contact == now.contact && was.activity == now.activity:
			stmt = s.w.updateOppLight
		case was.contact == now.contact:
			stmt = s.w.updateOppStale
		}
		if n, err := execCount(ctx, stmt, args...); err != nil || n > 0 {
			return n, err
		}
		// The version moved on (another process), or the hint was wrong:
		// try them all.
	}
	for _, stmt := range []*sql.Stmt{s.w.updateOppLight, s.w.updateOppStale} {
		n, err := execCount(ctx, stmt, args...)
		if err != nil || n > 0 {
			return n, err
		}
	}
	return execCount(ctx, s.w.updateOpp, args...)
}

// conflict reports a record whose stored version is not the one read
// (stored -1: not known).
func conflict(kind record.Kind, id string, stored, read int64) error {
	if stored < 0 {
		return fmt.Errorf("%s %q is not at version %d: %w", kind, id, read, store.ErrConflict)
	}
	return fmt.Errorf("%s %q is at version %d, read at %d: %w", kind, id, stored, read, store.ErrConflict)
}

func (s *Store) checkVersion(ctx context.Context, kind record.Kind, accountID, id string, want int64) error {
	q := s.w.oppVersion
	if kind == record.KindContact {
		q = s.w.contactVersion
	}
	var v int64
	err := q.QueryRowContext(ctx, accountID, id).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading version of %s %q: %w", kind, id, err)
	}
	if v != want {
		return conflict(kind, id, v, want)
	}
	return nil
}

func execCount(ctx context.Context, stmt *sql.Stmt, args ...any) (int64, error) {
	res, err := stmt.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
