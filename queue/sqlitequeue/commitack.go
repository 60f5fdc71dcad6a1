package sqlitequeue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/store"
)

var _ queue.CommitAcker = (*consumer)(nil)

// eventKey names an event: the ledger keys events by account and id.
type eventKey struct{ account, id string }

// AckOnCommit implements queue.CommitAcker when Config.InCommit is set.
// The hook it adds to the commits renews b's lease, as Ack does, and
// deletes the committed events' messages; when the lease is lost it
// deletes nothing and leaves the messages to Ack, which then reports
// queue.ErrLeaseLost. Runs of messages that follow each other in b are
// deleted by one range of seqs: b's messages are all the partition held
// between its first and its last.
func (c *consumer) AckOnCommit(ctx context.Context, b *queue.Batch, evs []*event.Event, msgs []queue.Message) context.Context {
	clear(c.acked)
	c.ackedBatch = b
	if c.q.cfg.InCommit == nil || len(evs) == 0 {
		return ctx
	}
	index := make(map[string]int, len(b.Messages)) // message id -> index in b
	for i, m := range b.Messages {
		index[m.ID] = i
	}
	of := make(map[eventKey]int, len(evs)) // event -> index of its first message in b
	for i, ev := range evs {
		k := eventKey{ev.AccountID, ev.ID}
		if _, dup := of[k]; dup {
			continue
		}
		if j, ok := index[msgs[i].ID]; ok {
			of[k] = j
		}
	}
	return c.q.cfg.InCommit(ctx, func(ctx context.Context, conn *sql.Conn, committed []*store.Changeset) (func(), error) {
		var ids []int
		for _, cs := range committed {
			if j, ok := of[eventKey{cs.AccountID, cs.EventID}]; ok {
				ids = append(ids, j)
			}
		}
		if len(ids) == 0 {
			return nil, nil
		}
		slices.Sort(ids)
		held, err := c.ackIn(ctx, conn, b, ids)
		if err != nil {
			return nil, fmt.Errorf("acknowledging %d message(s) of partition %d: %w", len(ids), b.Partition, err)
		}
		if !held {
			return nil, nil
		}
		return func() {
			if c.acked == nil {
				c.acked = make(map[string]bool, len(b.Messages))
			}
			for _, j := range ids {
				c.acked[b.Messages[j].ID] = true
			}
		}, nil
	})
}

// ackIn renews b's lease and deletes b.Messages[j] for each j of ids (in
// order) on conn, in the transaction open there; held is false, and nothing
// is deleted, when the consumer no longer holds the lease.
func (c *consumer) ackIn(ctx context.Context, conn *sql.Conn, b *queue.Batch, ids []int) (held bool, err error) {
	st, err := c.q.connStatements(ctx, conn)
	if err != nil {
		return false, err
	}
	expires := time.Now().Add(c.q.cfg.LeaseTTL).UnixNano()
	if held, err = affected(st.renew.ExecContext(ctx, expires, b.Partition, c.id, b.Fence.Epoch)); err != nil || !held {
		return false, err
	}
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[j-1]+1 {
			j++
		}
		first, last := seqOf(b.Messages[ids[i]]), seqOf(b.Messages[ids[j-1]])
		if _, err := st.ackRange.ExecContext(ctx, b.Partition, first, last); err != nil {
			return false, err
		}
		i = j
	}
	return true, nil
}

// unacked returns the ids of b that were not acknowledged in a commit.
func (c *consumer) unacked(b *queue.Batch, ids []string) []string {
	if b != c.ackedBatch || len(c.acked) == 0 {
		return ids
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !c.acked[id] {
			out = append(out, id)
		}
	}
	return out
}

// connStatements are statements prepared on a connection that is not the
// queue's, to run in a transaction open there (a store's commit).
type connStatements struct {
	renew    *sql.Stmt // expires_at, partition, owner, epoch
	ackRange *sql.Stmt // partition, first seq, last seq
}

// connStatements returns the statements prepared on conn, preparing them
// the first time.
func (q *Queue) connStatements(ctx context.Context, conn *sql.Conn) (*connStatements, error) {
	q.connMu.Lock()
	defer q.connMu.Unlock()
	if st, ok := q.conns[conn]; ok {
		return st, nil
	}
	if err := q.checkOpen(); err != nil {
		return nil, err
	}
	st := &connStatements{}
	var err error
	if st.renew, err = conn.PrepareContext(ctx, sqlRenew); err != nil {
		return nil, err
	}
	if st.ackRange, err = conn.PrepareContext(ctx, sqlAckRange); err != nil {
		st.renew.Close()
		return nil, err
	}
	if q.conns == nil {
		q.conns = map[*sql.Conn]*connStatements{}
	}
	q.conns[conn] = st
	return st, nil
}

// closeConnStatements closes the statements of connStatements.
func (q *Queue) closeConnStatements() error {
	q.connMu.Lock()
	defer q.connMu.Unlock()
	var errs []error
	for _, st := range q.conns {
		errs = append(errs, st.renew.Close(), st.ackRange.Close())
	}
	q.conns = nil
	return errors.Join(errs...)
}
