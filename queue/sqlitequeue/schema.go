package sqlitequeue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations[i] takes the queue's schema from version i to i+1. The version
// is kept in queue_meta, which belongs to this package (the store keeps its
// own in PRAGMA user_version). Never edit a released migration; append a new
// one.
var migrations = []string{
	// 1: the initial schema. Times are unix nanoseconds.
	`
-- The messages not yet acknowledged. seq numbers them in push order
-- across the queue: Push takes the next numbers from queue_meta's "seq"
-- counter, so a new message always has a larger seq than any before it.
-- Keyed by (partition, seq), each partition's messages are stored together,
-- so a fetch or an acknowledgement touches few pages. redeliveries counts
-- the deliveries after the first; the first is implied once seq is at or
-- below its partition's delivered mark (queue_leases.delivered).
CREATE TABLE queue_messages (
	partition    INTEGER NOT NULL,
	seq          INTEGER NOT NULL,
	body         BLOB    NOT NULL,
	enqueued_at  INTEGER NOT NULL,
	redeliveries INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (partition, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO queue_meta (key, value) VALUES ('seq', 0);

-- One row per partition. owner is '' when the lease is free; epoch grows by
-- one on every acquisition and is the fence of the holder's commits.
-- delivered is the largest seq of the partition ever delivered.
CREATE TABLE queue_leases (
	partition  INTEGER PRIMARY KEY,
	owner      TEXT    NOT NULL DEFAULT '',
	epoch      INTEGER NOT NULL DEFAULT 0,
	expires_at INTEGER NOT NULL DEFAULT 0,
	delivered  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Live consumers, for the fair share of partitions.
CREATE TABLE queue_consumers (
	id        TEXT    NOT NULL PRIMARY KEY,
	heartbeat INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE queue_dead_letters (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	partition   INTEGER NOT NULL,
	message_seq INTEGER NOT NULL,
	body        BLOB    NOT NULL,
	reason      TEXT    NOT NULL,
	deliveries  INTEGER NOT NULL,
	enqueued_at INTEGER NOT NULL,
	failed_at   INTEGER NOT NULL
) STRICT;
`,
}

// migrate creates or upgrades the queue's tables and checks, or records,
// the number of partitions, in one transaction that begins IMMEDIATE
// whatever the database's default, so that processes opening a new file
// together create it once.
func migrate(ctx context.Context, db *sql.DB, partitions int) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("beginning write transaction: %w", err)
	}
	defer func() {
		if err != nil {
			// Not ctx: the rollback must run even when ctx is done.
			if _, rbErr := conn.ExecContext(context.Background(), "ROLLBACK"); rbErr != nil {
				err = errors.Join(err, fmt.Errorf("rolling back: %w", rbErr))
			}
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS queue_meta (
		key   TEXT    NOT NULL PRIMARY KEY,
		value INTEGER NOT NULL
	) STRICT, WITHOUT ROWID`); err != nil {
		return fmt.Errorf("creating queue_meta: %w", err)
	}
	v, _, err := meta(ctx, conn, "schema_version")
	if err != nil {
		return err
	}
	if v > int64(len(migrations)) {
		return fmt.Errorf("queue schema version %d is newer than this followflow supports (%d)", v, len(migrations))
	}
	for ; v < int64(len(migrations)); v++ {
		if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrating the queue to schema version %d: %w", v+1, err)
		}
		if err := setMeta(ctx, conn, "schema_version", v+1); err != nil {
			return err
		}
	}
	n, ok, err := meta(ctx, conn, "partitions")
	switch {
	case err != nil:
		return err
	case ok && n != int64(partitions):
		return fmt.Errorf("the queue has %d partitions, not %d: every process sharing the file must use the same number", n, partitions)
	case !ok:
		if err := setMeta(ctx, conn, "partitions", int64(partitions)); err != nil {
			return err
		}
		for p := range partitions {
			if _, err := conn.ExecContext(ctx, "INSERT INTO queue_leases (partition) VALUES (?)", p); err != nil {
				return fmt.Errorf("creating lease %d: %w", p, err)
			}
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

func meta(ctx context.Context, conn *sql.Conn, key string) (int64, bool, error) {
	var v int64
	err := conn.QueryRowContext(ctx, "SELECT value FROM queue_meta WHERE key = ?", key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("reading queue_meta %s: %w", key, err)
	}
	return v, true, nil
}

func setMeta(ctx context.Context, conn *sql.Conn, key string, v int64) error {
	_, err := conn.ExecContext(ctx, `INSERT INTO queue_meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	if err != nil {
		return fmt.Errorf("writing queue_meta %s: %w", key, err)
	}
	return nil
}
