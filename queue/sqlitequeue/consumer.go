package sqlitequeue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/store"
)

// consumer is a queue.Consumer. Its state is the partitions it believes it
// holds; the database decides: every read, acknowledgement and renewal
// checks the lease (partition, owner, epoch) in the transaction that uses
// it.
type consumer struct {
	q  *Queue
	id string
	// held maps each partition the consumer holds to its lease's epoch.
	held map[int]int64
	// pending lists held partitions that had messages, in the order Fetch
	// reads them; next is the partition to start from when pending is
	// listed again. Partitions with messages take turns.
	pending []int
	next    int
	// renewAt is when Fetch next renews the leases and rebalances.
	renewAt time.Time
	// changes is q.changes as of the last rebalance.
	changes uint64
	// emptyTo is the largest seq of the queue when the held partitions were
	// last seen empty (-1: not since the last acquisition). Messages pushed
	// later have larger seqs, so while the largest seq stays at or below it
	// there is nothing to read.
	emptyTo int64
	// poll is how long a blocked Fetch waits before it looks again for
	// messages of other processes: Config.PollInterval after a batch,
	// doubled by each look that finds nothing, up to MaxPollInterval.
	poll   time.Duration
	closed bool
	// acked lists the messages of ackedBatch that were acknowledged in
	// the transactions of their commits (AckOnCommit).
	acked      map[string]bool
	ackedBatch *queue.Batch
}

// Fetch returns up to limit of the oldest messages of a held partition.
// Held partitions that have messages take turns.
func (c *consumer) Fetch(ctx context.Context, limit int, block time.Duration) (*queue.Batch, error) {
	if c.closed {
		return nil, ErrClosed
	}
	limit = max(limit, 1)
	deadline := time.Now().Add(block)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := c.q.checkOpen(); err != nil {
			return nil, err
		}
		wake := c.q.wake.Wait()
		now := time.Now()
		if !now.Before(c.renewAt) || c.q.changes.Load() != c.changes {
			if err := c.rebalance(ctx, now); err != nil {
				return nil, c.ctxErr(ctx, err)
			}
		}
		b, err := c.read(ctx, limit)
		if b != nil {
			c.poll = c.q.cfg.PollInterval
		}
		if b != nil || err != nil {
			return b, c.ctxErr(ctx, err)
		}
		now = time.Now()
		left := deadline.Sub(now)
		if left <= 0 {
			return nil, nil
		}
		wait := min(left, c.poll, max(c.renewAt.Sub(now), 0))
		c.poll = min(2*c.poll, c.q.cfg.MaxPollInterval)
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.q.done:
			return nil, ErrClosed
		case <-wake:
		case <-timer.C:
		}
	}
}

// ctxErr returns ctx's error instead of err when ctx is done: a statement
// interrupted by a cancelled ctx reports it in its own words.
func (c *consumer) ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// rebalance heartbeats, renews the held leases, and brings the number held
// to the fair share, ceil(partitions / live consumers): it hands back the
// highest-numbered extras, or acquires free or expired leases, each
// acquisition bumping the lease's epoch.
func (c *consumer) rebalance(ctx context.Context, now time.Time) error {
	ttl := c.q.cfg.LeaseTTL
	nowNs, expires := now.UnixNano(), now.Add(ttl).UnixNano()
	changes := c.q.changes.Load()
	held := make(map[int]int64, len(c.held))
	var released, acquired bool
	err := c.q.write(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // see Queue.write
		clear(held)
		released, acquired = false, false
		if _, err := tx.StmtContext(ctx, c.q.stmts.heartbeat).ExecContext(ctx, c.id, nowNs); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue_consumers WHERE heartbeat <= ?`, nowNs-ttl.Nanoseconds()); err != nil {
			return err
		}
		var live int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM queue_consumers`).Scan(&live); err != nil {
			return err
		}
		share := (c.q.cfg.Partitions + live - 1) / max(live, 1)

		renew := tx.StmtContext(ctx, c.q.stmts.renew)
		for _, p := range slices.Sorted(maps.Keys(c.held)) {
			ok, err := affected(renew.ExecContext(ctx, expires, p, c.id, c.held[p]))
			if err != nil {
				return err
			}
			if ok {
				held[p] = c.held[p]
			}
		}
		if extra := len(held) - share; extra > 0 {
			ps := slices.Sorted(maps.Keys(held))
			for _, p := range ps[len(ps)-extra:] {
				_, err := tx.ExecContext(ctx, `UPDATE queue_leases SET owner = '', expires_at = 0
					WHERE partition = ? AND owner = ? AND epoch = ?`, p, c.id, held[p])
				if err != nil {
					return err
				}
				delete(held, p)
			}
			released = true
		}
		if want := share - len(held); want > 0 {
			rows, err := tx.QueryContext(ctx, `UPDATE queue_leases SET owner = ?1, epoch = epoch + 1, expires_at = ?2
				WHERE partition IN (SELECT partition FROM queue_leases WHERE owner = '' OR expires_at <= ?3 ORDER BY partition LIMIT ?4)
				RETURNING partition, epoch`, c.id, expires, nowNs, want)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var p int
				var epoch int64
				if err := rows.Scan(&p, &epoch); err != nil {
					return err
				}
				held[p] = epoch
				acquired = true
			}
			return rows.Close()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("consumer %s renewing its leases: %w", c.id, err)
	}
	c.held = held
	c.renewAt = now.Add(ttl / 3)
	c.changes = changes
	if acquired {
		c.emptyTo = -1
	}
	if released {
		c.q.changed()
	}
	return nil
}

// read takes a batch from the next partition of c.pending; when none is
// left, it lists the held partitions that have messages into c.pending,
// from c.next on, so that they take turns.
func (c *consumer) read(ctx context.Context, limit int) (*queue.Batch, error) {
	if len(c.held) == 0 {
		return nil, nil
	}
	if len(c.pending) == 0 {
		var top int64
		if err := c.q.stmts.top.QueryRowContext(ctx).Scan(&top); err != nil {
			return nil, fmt.Errorf("reading the queue: %w", err)
		}
		if top <= c.emptyTo {
			return nil, nil
		}
		ready, err := c.ready(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the queue: %w", err)
		}
		if len(ready) == 0 {
			c.emptyTo = top
			return nil, nil
		}
		start, _ := slices.BinarySearch(ready, c.next)
		c.pending = append(ready[start:], ready[:start]...)
	}
	for len(c.pending) > 0 {
		p := c.pending[0]
		c.pending = c.pending[1:]
		if _, ok := c.held[p]; !ok {
			continue
		}
		b, err := c.take(ctx, p, limit)
		switch {
		case errors.Is(err, queue.ErrLeaseLost):
			delete(c.held, p)
		case err != nil:
			return nil, fmt.Errorf("reading partition %d: %w", p, err)
		case b != nil:
			c.next = p + 1
			return b, nil
		}
	}
	return nil, nil
}

// ready returns the held partitions that have messages, in order.
func (c *consumer) ready(ctx context.Context) ([]int, error) {
	rows, err := c.q.stmts.ready.QueryContext(ctx, c.id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []int
	for rows.Next() {
		var p int
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		if _, ok := c.held[p]; ok {
			ps = append(ps, p)
		}
	}
	return ps, rows.Err()
}

// take renews the lease of partition p and takes up to limit of its oldest
// messages, counting a delivery for each. It returns nil when p has none.
//
// The messages are read before the write transaction, on a connection of
// the pool, so that the one writer does not spend its turn reading them;
// the transaction then only claims them. That is safe because only the
// holder of p's lease deletes p's messages or counts their deliveries, and
// the claim checks that the lease is still the one held when they were
// read: an acquisition by another consumer would have bumped its epoch.
func (c *consumer) take(ctx context.Context, p, limit int) (*queue.Batch, error) {
	epoch := c.held[p]
	msgs, redeliveries, err := c.peek(ctx, p, limit)
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	first, last := seqOf(msgs[0]), seqOf(msgs[len(msgs)-1])
	var delivered int64
	expires := time.Now().Add(c.q.cfg.LeaseTTL).UnixNano()
	err = c.q.write(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // see Queue.write
		err := tx.StmtContext(ctx, c.q.stmts.claim).QueryRowContext(ctx, expires, p, c.id, epoch).Scan(&delivered)
		if errors.Is(err, sql.ErrNoRows) {
			return queue.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		if first <= delivered { // a redelivery: count it
			_, err := tx.StmtContext(ctx, c.q.stmts.redeliver).ExecContext(ctx, p, first, min(last, delivered))
			if err != nil {
				return err
			}
		}
		if last > delivered {
			_, err := tx.StmtContext(ctx, c.q.stmts.delivered).ExecContext(ctx, last, p)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		// The first delivery is implied by the delivered mark;
		// Deliveries counts this one.
		msgs[i].Deliveries = redeliveries[i] + 1
		if seqOf(msgs[i]) <= delivered {
			msgs[i].Deliveries++
		}
	}
	return &queue.Batch{Partition: p, Fence: store.Fence{Partition: p, Epoch: epoch}, Messages: msgs}, nil
}

// peek reads up to limit of the oldest messages of partition p, and the
// redeliveries counted for each, without claiming them.
func (c *consumer) peek(ctx context.Context, p, limit int) ([]queue.Message, []int, error) {
	rows, err := c.q.stmts.take.QueryContext(ctx, p, limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var msgs []queue.Message
	var redeliveries []int
	for rows.Next() {
		var m queue.Message
		var seq, enqueued int64
		var r int
		if err := rows.Scan(&seq, &m.Body, &enqueued, &r); err != nil {
			return nil, nil, err
		}
		m.ID = strconv.FormatInt(seq, 10)
		m.EnqueuedAt = time.Unix(0, enqueued)
		msgs, redeliveries = append(msgs, m), append(redeliveries, r)
	}
	return msgs, redeliveries, rows.Close()
}

// seqOf returns the seq of a message this queue returned.
func seqOf(m queue.Message) int64 {
	n, _ := strconv.ParseInt(m.ID, 10, 64)
	return n
}

// Ack deletes the acknowledged messages, if the consumer still holds the
// batch's lease (and renews it); otherwise it returns queue.ErrLeaseLost.
// Messages already acknowledged in the commit of their event (AckOnCommit)
// are left out; when that leaves none, Ack does nothing.
func (c *consumer) Ack(ctx context.Context, b *queue.Batch, ids []string) error {
	if ids = c.unacked(b, ids); len(ids) == 0 {
		return nil
	}
	list, err := idList(ids)
	if err != nil {
		return fmt.Errorf("acknowledging: %w", err)
	}
	expires := time.Now().Add(c.q.cfg.LeaseTTL).UnixNano()
	err = c.q.write(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // see Queue.write
		if err := c.checkLease(ctx, tx, b, expires); err != nil {
			return err
		}
		_, err := tx.StmtContext(ctx, c.q.stmts.ack).ExecContext(ctx, b.Partition, list)
		return err
	})
	if err != nil {
		return fmt.Errorf("acknowledging %d message(s) of partition %d: %w", len(ids), b.Partition, err)
	}
	return nil
}

// DeadLetter moves the message to the dead letters, if the consumer still
// holds the batch's lease; a message already gone (acknowledged) is left
// alone.
func (c *consumer) DeadLetter(ctx context.Context, b *queue.Batch, m queue.Message, reason string) error {
	seq, err := strconv.ParseInt(m.ID, 10, 64)
	if err != nil {
		return fmt.Errorf("dead-lettering: %q is not a message id of this queue", m.ID)
	}
	now := time.Now()
	err = c.q.write(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // see Queue.write
		if err := c.checkLease(ctx, tx, b, now.Add(c.q.cfg.LeaseTTL).UnixNano()); err != nil {
			return err
		}
		moved, err := affected(tx.ExecContext(ctx, `INSERT INTO queue_dead_letters
			(partition, message_seq, body, reason, deliveries, enqueued_at, failed_at)
			SELECT m.partition, m.seq, m.body, ?1, m.redeliveries + (m.seq <= l.delivered), m.enqueued_at, ?2
			FROM queue_messages AS m JOIN queue_leases AS l ON l.partition = m.partition
			WHERE m.partition = ?3 AND m.seq = ?4`,
			reason, now.UnixNano(), b.Partition, seq))
		if err != nil || !moved {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM queue_messages WHERE partition = ? AND seq = ?`, b.Partition, seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("dead-lettering message %s of partition %d: %w", m.ID, b.Partition, err)
	}
	return nil
}

// checkLease renews the lease b was read under, or returns
// queue.ErrLeaseLost when the consumer no longer holds it. It writes, so it
// may start a write transaction.
func (c *consumer) checkLease(ctx context.Context, tx *sql.Tx, b *queue.Batch, expires int64) error {
	ok, err := affected(tx.StmtContext(ctx, c.q.stmts.renew).ExecContext(ctx, expires, b.Partition, c.id, b.Fence.Epoch))
	if err != nil {
		return err
	}
	if !ok {
		return queue.ErrLeaseLost
	}
	return nil
}

// Close hands the consumer's leases back and leaves the registry; the
// messages it had not acknowledged go to the next holders, first.
func (c *consumer) Close(ctx context.Context) error {
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.q.write(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // see Queue.write
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue_consumers WHERE id = ?`, c.id); err != nil {
			return err
		}
		for p, epoch := range c.held {
			_, err := tx.ExecContext(ctx, `UPDATE queue_leases SET owner = '', expires_at = 0
				WHERE partition = ? AND owner = ? AND epoch = ?`, p, c.id, epoch)
			if err != nil {
				return err
			}
		}
		return nil
	})
	c.held = nil
	c.q.changed()
	if err != nil {
		return fmt.Errorf("closing consumer %s: %w", c.id, err)
	}
	return nil
}

// affected reports whether the statement changed a row.
func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
