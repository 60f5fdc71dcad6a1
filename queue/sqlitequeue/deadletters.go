package sqlitequeue

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/followflow/followflow/queue"
)

// DeadLetters lists up to limit dead letters, oldest first (limit <= 0:
// all). A dead letter's id is its own, not the message's.
func (q *Queue) DeadLetters(ctx context.Context, limit int) ([]queue.DeadLetter, error) {
	if limit <= 0 {
		limit = -1 // no limit
	}
	rows, err := q.db.QueryContext(ctx, `SELECT id, partition, body, reason, deliveries, failed_at
		FROM queue_dead_letters ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing dead letters: %w", err)
	}
	defer rows.Close()
	var dls []queue.DeadLetter
	for rows.Next() {
		var d queue.DeadLetter
		var id, failed int64
		if err := rows.Scan(&id, &d.Partition, &d.Body, &d.Reason, &d.Deliveries, &failed); err != nil {
			return nil, fmt.Errorf("listing dead letters: %w", err)
		}
		d.ID = strconv.FormatInt(id, 10)
		d.FailedAt = time.Unix(0, failed)
		dls = append(dls, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing dead letters: %w", err)
	}
	return dls, nil
}

// Replay pushes the named dead letters (all when ids is empty) back at the
// end of their partitions, in the order they failed, as new messages with
// no deliveries and their first enqueue time, and removes them from the dead
// letters. Ids that name no dead letter are ignored.
func (q *Queue) Replay(ctx context.Context, ids []string) (int, error) {
	list, err := idList(ids)
	if err != nil {
		return 0, fmt.Errorf("replaying dead letters: %w", err)
	}
	var n int64
	err = q.write(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // see Queue.write
		// New seqs follow the counter, in the order the letters failed;
		// the counter then moves past them.
		res, err := tx.ExecContext(ctx, `INSERT INTO queue_messages (partition, seq, body, enqueued_at)
			SELECT partition, (SELECT value FROM queue_meta WHERE key = 'seq') + row_number() OVER (ORDER BY id),
				body, enqueued_at
			FROM queue_dead_letters WHERE ?1 IS NULL OR id IN (SELECT value FROM json_each(?1)) ORDER BY id`, list)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE queue_meta SET value = value + ? WHERE key = 'seq'`, n); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM queue_dead_letters
			WHERE ?1 IS NULL OR id IN (SELECT value FROM json_each(?1))`, list)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("replaying dead letters: %w", err)
	}
	if n > 0 {
		q.wake.Notify()
	}
	return int(n), nil
}

// Purge removes the named dead letters (all when ids is empty). Ids that
// name no dead letter are ignored.
func (q *Queue) Purge(ctx context.Context, ids []string) (int, error) {
	list, err := idList(ids)
	if err != nil {
		return 0, fmt.Errorf("purging dead letters: %w", err)
	}
	var n int64
	err = q.write(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // see Queue.write
		res, err := tx.ExecContext(ctx, `DELETE FROM queue_dead_letters
			WHERE ?1 IS NULL OR id IN (SELECT value FROM json_each(?1))`, list)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purging dead letters: %w", err)
	}
	return int(n), nil
}

// Stats describes every partition: its messages not yet acknowledged and
// the consumer holding an unexpired lease on it.
func (q *Queue) Stats(ctx context.Context) ([]queue.PartitionStats, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT partition, owner, expires_at,
		(SELECT COUNT(*) FROM queue_messages AS m WHERE m.partition = l.partition)
		FROM queue_leases AS l ORDER BY partition`)
	if err != nil {
		return nil, fmt.Errorf("reading queue stats: %w", err)
	}
	defer rows.Close()
	now := time.Now().UnixNano()
	stats := make([]queue.PartitionStats, 0, q.cfg.Partitions)
	for rows.Next() {
		var s queue.PartitionStats
		var expires int64
		if err := rows.Scan(&s.Partition, &s.Owner, &expires, &s.Lag); err != nil {
			return nil, fmt.Errorf("reading queue stats: %w", err)
		}
		if expires <= now {
			s.Owner = ""
		}
		stats = append(stats, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading queue stats: %w", err)
	}
	return stats, nil
}
