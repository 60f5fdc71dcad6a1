package sqlitequeue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// insertRows is the rows statements.inserts inserts: one statement per row
// cost a push of many messages more than the rows themselves.
const insertRows = 50

const (
	sqlRenew    = `UPDATE queue_leases SET expires_at = ? WHERE partition = ? AND owner = ? AND epoch = ?`
	sqlAckRange = `DELETE FROM queue_messages WHERE partition = ? AND seq BETWEEN ? AND ?`
)

// statements are the queue's hot statements, prepared once. database/sql
// prepares each again on a connection the first time it is used there and
// keeps it.
type statements struct {
	nextSeqs  *sql.Stmt // n -> the last of the n seqs taken
	insert    *sql.Stmt // partition, seq, body, enqueued_at
	inserts   *sql.Stmt // insert of insertRows rows, their arguments in turn
	heartbeat *sql.Stmt // id, now
	renew     *sql.Stmt // expires_at, partition, owner, epoch
	claim     *sql.Stmt // expires_at, partition, owner, epoch -> delivered
	take      *sql.Stmt // partition, max -> seq, body, enqueued_at, redeliveries
	redeliver *sql.Stmt // partition, first seq, last seq
	delivered *sql.Stmt // seq, partition
	ack       *sql.Stmt // partition, seqs (JSON array)
	top       *sql.Stmt // -> the last seq taken
	ready     *sql.Stmt // owner -> partitions holding messages
	all       []*sql.Stmt
}

func (s *statements) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&s.nextSeqs, `UPDATE queue_meta SET value = value + ? WHERE key = 'seq' RETURNING value`},
		{&s.insert, `INSERT INTO queue_messages (partition, seq, body, enqueued_at) VALUES (?, ?, ?, ?)`},
		{&s.inserts, `INSERT INTO queue_messages (partition, seq, body, enqueued_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", insertRows), ", ")},
		{&s.heartbeat, `INSERT INTO queue_consumers (id, heartbeat) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat`},
		{&s.renew, sqlRenew},
		{&s.claim, `UPDATE queue_leases SET expires_at = ? WHERE partition = ? AND owner = ? AND epoch = ?
			RETURNING delivered`},
		{&s.take, `SELECT seq, body, enqueued_at, redeliveries FROM queue_messages
			WHERE partition = ? ORDER BY seq LIMIT ?`},
		{&s.redeliver, `UPDATE queue_messages SET redeliveries = redeliveries + 1
			WHERE partition = ? AND seq BETWEEN ? AND ?`},
		{&s.delivered, `UPDATE queue_leases SET delivered = ? WHERE partition = ?`},
		{&s.ack, `DELETE FROM queue_messages WHERE partition = ? AND seq IN (SELECT value FROM json_each(?))`},
		{&s.top, `SELECT value FROM queue_meta WHERE key = 'seq'`},
		{&s.ready, `SELECT partition FROM queue_leases AS l WHERE owner = ?
			AND EXISTS (SELECT 1 FROM queue_messages AS m WHERE m.partition = l.partition) ORDER BY partition`},
	} {
		stmt, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			return errors.Join(fmt.Errorf("preparing %q: %w", p.query, err), s.close())
		}
		*p.stmt = stmt
		s.all = append(s.all, stmt)
	}
	return nil
}

func (s *statements) close() error {
	var errs []error
	for _, stmt := range s.all {
		errs = append(errs, stmt.Close())
	}
	s.all = nil
	return errors.Join(errs...)
}
