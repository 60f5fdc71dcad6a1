package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] takes the store's schema from version i to i+1. The version
// is kept in PRAGMA user_version, which belongs to this package: other
// components sharing the file (the embedded queue) keep theirs elsewhere.
// Never edit a released migration; append a new one.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE accounts (
	id   TEXT NOT NULL PRIMARY KEY,
	name TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
	account_id         TEXT    NOT NULL,
	id                 TEXT    NOT NULL,
	name               TEXT    NOT NULL,
	email              TEXT    NOT NULL,
	email_lower        TEXT    NOT NULL, -- strings.ToLower(email), set by Go
	role               TEXT    NOT NULL,
	active             INTEGER NOT NULL,
	only_assigned_data INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX users_email ON users (account_id, email_lower) WHERE email_lower <> '';

-- Times are unix nanoseconds (the zero time.Time is the smallest int64), so
-- that they order. tags and followers are JSON arrays, NULL for a nil list.
CREATE TABLE opportunities (
	account_id             TEXT    NOT NULL,
	id                     TEXT    NOT NULL,
	name                   TEXT    NOT NULL,
	pipeline               TEXT    NOT NULL,
	stage                  TEXT    NOT NULL,
	status                 TEXT    NOT NULL,
	value                  REAL    NOT NULL,
	owner_id               TEXT    NOT NULL,
	contact_id             TEXT    NOT NULL,
	tags                   TEXT,
	followers              TEXT,
	created_at             INTEGER NOT NULL,
	updated_at             INTEGER NOT NULL,
	last_owner_activity_at INTEGER NOT NULL,
	version                INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX opportunities_contact ON opportunities (account_id, contact_id);
-- The stale index: only open, owned opportunities are in it, so a scan
-- costs what it returns.
CREATE INDEX opportunities_stale ON opportunities (last_owner_activity_at, account_id, id)
	WHERE status = 'open' AND owner_id <> '';

CREATE TABLE contacts (
	account_id TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	email      TEXT    NOT NULL,
	owner_id   TEXT    NOT NULL,
	tags       TEXT,
	followers  TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
) STRICT, WITHOUT ROWID;

-- seq numbers the entries of one record from 1; the primary key keeps
-- each record's entries together, so an append writes one page.
CREATE TABLE history (
	account_id  TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	record_id   TEXT    NOT NULL,
	seq         INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	event_id    TEXT    NOT NULL,
	workflow_id TEXT    NOT NULL,
	actor_id    TEXT    NOT NULL,
	step        TEXT    NOT NULL,
	user_id     TEXT    NOT NULL,
	outcome     TEXT    NOT NULL,
	detail      TEXT    NOT NULL,
	PRIMARY KEY (account_id, kind, record_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE ledger (
	account_id   TEXT    NOT NULL,
	event_id     TEXT    NOT NULL,
	processed_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, event_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE fences (
	account_id  TEXT    NOT NULL,
	"partition" INTEGER NOT NULL,
	epoch       INTEGER NOT NULL,
	PRIMARY KEY (account_id, "partition")
) STRICT, WITHOUT ROWID;
`,
	// 2: the ledger keyed by event id first. Keyed by account first, a
	// batch of events of many accounts wrote one page of the ledger per
	// account; keyed by event id, events whose ids grow with time (sequence
	// numbers, ULIDs, UUIDv7) append to the same few pages, and random ids
	// cost what they did.
	`
CREATE TABLE ledger_v2 (
	event_id     TEXT    NOT NULL,
	account_id   TEXT    NOT NULL,
	processed_at INTEGER NOT NULL,
	PRIMARY KEY (event_id, account_id)
) STRICT, WITHOUT ROWID;
INSERT INTO ledger_v2 (event_id, account_id, processed_at) SELECT event_id, account_id, processed_at FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_v2 RENAME TO ledger;
`,
}

// migrate brings the store's schema to SchemaVersion in one write
// transaction, so that processes opening a new file together create it once.
func migrate(ctx context.Context, tx *sql.Tx) error {
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this followflow supports (%d)", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrating schema to version %d: %w", v+1, err)
		}
		// PRAGMA takes no parameters; v is an int.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			return fmt.Errorf("setting schema version %d: %w", v+1, err)
		}
	}
	return nil
}
