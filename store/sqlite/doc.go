// Package sqlite is the embedded, default backend of store.Store: one
// SQLite database file on one machine, no server to run. It uses the pure-Go
// driver modernc.org/sqlite (no cgo).
//
// The file is opened in WAL mode with synchronous=NORMAL by default: a
// committed transaction survives a crash of the process; after a crash of
// the operating system or a power loss the last commits may be rolled back,
// never half applied. Config.Synchronous "FULL" keeps those too, at the
// price of an fsync per commit. A goroutine of the Store copies the WAL back
// into the file (checkpoints) beside the writers, so that commits rarely
// do it themselves (Config.CheckpointInterval). Several processes on one machine (workers,
// a push) can share the file: write transactions begin IMMEDIATE and wait
// for the write lock up to Config.BusyTimeout, and readers never block
// writers. The file must not be on a network file system.
//
// Open creates or migrates the schema; its version is PRAGMA user_version.
// Records are rows keyed by (account_id, id), their tags and followers JSON
// arrays, their times unix nanoseconds (so the years 1678 to 2262 can be
// stored; see TimeRangeError). A partial index on the open, owned
// opportunities by last_owner_activity_at is the stale index. Commit is one
// transaction that checks the fence, the ledger and the versions and writes
// records, history, ledger and fence together, or nothing.
//
// Beyond store.Store, CommitBatch commits many changesets in one
// transaction, each still all or nothing, which is how a busy worker should
// commit. The embedded queue keeps its tables in the same file: Store.DB
// gives the database and Store.WithTx a write transaction that takes turns
// with the store's own.
//
// This package holds no queue and no business rule beyond what store.Store
// asks of a commit.
package sqlite
