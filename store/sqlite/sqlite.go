package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/followflow/followflow/store"
)

// Store is the SQLite backend of store.Store. It is safe for concurrent use,
// and several Stores, in one process or several, may share one file.
type Store struct {
	db *sql.DB
	r  readStmts

	// wsem serialises this Store's write transactions, so that they queue
	// in Go instead of polling SQLite's lock under busy_timeout. Across
	// Stores and processes, BEGIN IMMEDIATE and busy_timeout do that.
	// Holding it gives the use of wconn, the connection every write
	// transaction runs on, and of w, its prepared statements.
	wsem  chan struct{}
	wconn *sql.Conn
	w     writeStmts

	// fences caches, for the write transactions on wconn, the newest
	// fence epoch of each (account, partition) they read or wrote, so
	// that a commit reads the fences table only for those it has not
	// seen. It holds while no other connection commits: write reads
	// PRAGMA data_version (which only another connection's commit
	// changes) at the start of each transaction, under the write lock, and
	// empties the cache when it moved, or when a transaction rolled back.
	// Used under wsem.
	fences      map[fenceKey]int64
	dataVersion int64

	// ckptKick wakes the background checkpointer after a commit; ckptDone
	// is closed when it has stopped. Both nil without one.
	ckptKick, ckptDone chan struct{}

	hints hints

	closed    chan struct{}
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open opens the database file at path, creating it (and its schema) when
// missing and migrating an older schema. The file is put in WAL mode, with
// synchronous as cfg says (see Config.Synchronous for what survives which
// crash), foreign keys enforced, cfg.BusyTimeout as busy_timeout, and write
// transactions that begin IMMEDIATE, so that several processes on one machine
// can share the file.
func Open(ctx context.Context, path string, cfg Config) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("opening sqlite store: %q is not a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	q := url.Values{}
	busy := int64((cfg.BusyTimeout + time.Millisecond - 1) / time.Millisecond) // ms, rounded up
	q.Set("_busy_timeout", strconv.FormatInt(busy, 10))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", strings.ToUpper(cfg.Synchronous))
	q.Set("_foreign_keys", "on")
	q.Set("_txlock", "immediate")
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -cfg.CacheSizeKiB))
	q.Add("_pragma", "temp_store(memory)")
	// Checkpoint every 16 MiB of WAL rather than every 4: the hot pages
	// (ledger, history, queue) are then copied back to the file far less
	// often. With the background checkpointer, which does most of the
	// copying, commits checkpoint only every 128 MiB (see checkpoint.go).
	frames := autocheckpointFrames
	if cfg.CheckpointInterval < 0 {
		frames = noBackgroundCheckpoint
	}
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", frames))
	// A URI, so that any character of the path is allowed.
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	db.SetMaxOpenConns(cfg.MaxOpenConns + 2) // + wconn and the checkpointer's
	db.SetMaxIdleConns(cfg.MaxOpenConns + 2) // keep connections and their prepared statements
	s := &Store{db: db, wsem: make(chan struct{}, 1), closed: make(chan struct{}), fences: map[fenceKey]int64{}}
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	if cfg.CheckpointInterval > 0 {
		conn, err := db.Conn(ctx)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
		}
		s.ckptKick, s.ckptDone = make(chan struct{}, 1), make(chan struct{})
		go s.checkpointLoop(conn, cfg.CheckpointInterval)
	}
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	var err error
	if s.wconn, err = s.db.Conn(ctx); err != nil {
		return err
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not wal (is the file on a network file system?)", mode)
	}
	if err := s.WithTx(ctx, func(tx *sql.Tx) error { return migrate(ctx, tx) }); err != nil {
		return err
	}
	if err := prepareAll(ctx, s.db, s.r.defs()); err != nil {
		return err
	}
	return prepareAll(ctx, s.wconn, s.w.defs())
}

// DB returns the database, for components that keep their tables in the
// same file (the embedded queue). Its connections have the settings Open
// describes; BeginTx begins IMMEDIATE, a write transaction, unless
// sql.TxOptions.ReadOnly. Write transactions should go through WithTx, so
// that they take turns with the Store's in Go rather than under
// busy_timeout, and be short: they hold the file's write lock. Do not close
// it: Close does.
func (s *Store) DB() *sql.DB { return s.db }

// WithTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it
// when fn returns nil; otherwise it rolls back and returns fn's error. ctx
// bounds the wait for this Store's other write transactions; the
// transaction itself is not cancelled with it (fn's statements are, if fn
// gives them ctx), so that database/sql starts no goroutine to watch it. Write transactions of one
// Store run one at a time, on one connection, so fn must not call a writing
// method of the Store (Commit, CommitBatch, Load, WithTx): that would
// deadlock. A panic in fn rolls back and goes on.
func (s *Store) WithTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.lockWrites(ctx); err != nil {
		return err
	}
	defer s.unlockWrites()
	tx, err := s.wconn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("beginning write transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rolling back: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	s.kickCheckpoint()
	return nil
}

// lockWrites takes the write turn of this Store: the use of wconn.
func (s *Store) lockWrites(ctx context.Context) error {
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return ErrClosed
	}
	select {
	case <-s.closed: // Close is waiting for the turn
		<-s.wsem
		return ErrClosed
	default:
		return nil
	}
}

func (s *Store) unlockWrites() { <-s.wsem }

// write is WithTx for the hot path: it runs the prepared BEGIN IMMEDIATE and
// COMMIT on wconn, without a sql.Tx, and gives fn a context without
// cancellation, so that database/sql and the driver start no goroutine per
// statement to watch it. ctx bounds the wait for the other writers of this
// Store; fn checks it where it may stop. The wait for another process's
// write lock is bounded by Config.BusyTimeout.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := s.lockWrites(ctx); err != nil {
		return err
	}
	defer s.unlockWrites()
	bg := context.WithoutCancel(ctx)
	if _, err := s.w.begin.ExecContext(bg); err != nil {
		return fmt.Errorf("beginning write transaction: %w", err)
	}
	done := false
	defer func() {
		if !done {
			// fn failed, or COMMIT did (the transaction may then be open
			// or not: a ROLLBACK without one fails harmlessly), or fn
			// panicked.
			s.w.rollback.ExecContext(bg)
			clear(s.fences)
		}
	}()
	var v int64
	if err := s.w.dataVersion.QueryRowContext(bg).Scan(&v); err != nil {
		return fmt.Errorf("reading data_version: %w", err)
	}
	if v != s.dataVersion || len(s.fences) >= maxFences {
		clear(s.fences)
		s.dataVersion = v
	}
	if err := fn(bg); err != nil {
		return err
	}
	if _, err := s.w.commit.ExecContext(bg); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	done = true
	s.kickCheckpoint()
	return nil
}

// ErrClosed is returned by the writing methods of a closed Store.
var ErrClosed = errors.New("sqlite store: closed")

// Close waits for the write transaction in progress, if any, and closes the
// database. The data stays in the file. Closing a closed Store does nothing.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		s.wsem <- struct{}{} // for good: writers see closed
		if s.ckptDone != nil {
			<-s.ckptDone
		}
		closeAll(s.r.defs())
		closeAll(s.w.defs())
		var errs []error
		if s.wconn != nil {
			errs = append(errs, s.wconn.Close())
		}
		err = errors.Join(append(errs, s.db.Close())...)
	})
	return err
}
