package sqlitequeue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/internal/broadcast"
	"github.com/followflow/followflow/queue"
)

// ErrClosed is returned by the methods of a closed Queue or Consumer.
var ErrClosed = errors.New("sqlitequeue: closed")

// Queue is the embedded queue.Queue: tables in a SQLite database, shared
// by every process that opens the file. It is safe for concurrent use.
type Queue struct {
	db    *sql.DB
	cfg   Config
	stmts statements
	// wsem serialises the write transactions of this Queue when
	// Config.WriteTx is not set.
	wsem chan struct{}
	// wake wakes this Queue's waiting consumers when messages were pushed
	// or consumers came, went or handed leases back; changes counts the
	// latter, so that they rebalance at once rather than at their next
	// renewal.
	wake    broadcast.Signal
	changes atomic.Uint64
	done    chan struct{}
	closing sync.Once
	// conns holds the statements prepared on connections of others, for
	// acknowledgements in their transactions (Config.InCommit).
	connMu sync.Mutex
	conns  map[*sql.Conn]*connStatements
}

var _ queue.Queue = (*Queue)(nil)

// New creates the queue's tables in db if missing (tables queue_*, with
// their own schema version in queue_meta) and returns the queue. The
// database should be in WAL mode, with a busy_timeout on its connections
// (store/sqlite.Open does both); New does not close it, and neither does
// Close.
func New(ctx context.Context, db *sql.DB, cfg Config) (*Queue, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, cfg.Partitions); err != nil {
		return nil, fmt.Errorf("creating the queue's tables: %w", err)
	}
	q := &Queue{db: db, cfg: cfg, wsem: make(chan struct{}, 1), done: make(chan struct{})}
	if err := q.stmts.prepare(ctx, db); err != nil {
		return nil, fmt.Errorf("preparing the queue's statements: %w", err)
	}
	return q, nil
}

// Partitions returns the number of partitions.
func (q *Queue) Partitions() int { return q.cfg.Partitions }

// Push appends the bodies in one transaction, each to the partition of its
// event (queue.PartitionOf), numbered in order.
func (q *Queue) Push(ctx context.Context, events []*event.Event, bodies [][]byte) error {
	if len(events) != len(bodies) {
		return fmt.Errorf("pushing: %d events but %d bodies", len(events), len(bodies))
	}
	if len(events) == 0 {
		return nil
	}
	if err := q.checkOpen(); err != nil {
		return err
	}
	parts := make([]int, len(events))
	for i, ev := range events {
		if ev == nil {
			return fmt.Errorf("pushing: event %d is nil", i)
		}
		parts[i] = queue.PartitionOf(ev, q.cfg.Partitions)
	}
	now := time.Now().UnixNano()
	err := q.write(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // see Queue.write
		var last int64
		if err := tx.StmtContext(ctx, q.stmts.nextSeqs).QueryRowContext(ctx, len(bodies)).Scan(&last); err != nil {
			return err
		}
		seq := last - int64(len(bodies))
		// insertRows rows per statement, then the rest one by one.
		args := make([]any, 0, 4*insertRows)
		i := 0
		if len(bodies) >= insertRows {
			insert := tx.StmtContext(ctx, q.stmts.inserts)
			for ; i+insertRows <= len(bodies); i += insertRows {
				args = args[:0]
				for j := i; j < i+insertRows; j++ {
					seq++
					args = append(args, parts[j], seq, bodies[j], now)
				}
				if _, err := insert.ExecContext(ctx, args...); err != nil {
					return err
				}
			}
		}
		insert := tx.StmtContext(ctx, q.stmts.insert)
		for ; i < len(bodies); i++ {
			seq++
			if _, err := insert.ExecContext(ctx, parts[i], seq, bodies[i], now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pushing %d message(s): %w", len(bodies), err)
	}
	q.wake.Notify()
	return nil
}

// Consumer registers a consumer and returns it. id must be unique among
// the live consumers of every process sharing the file.
func (q *Queue) Consumer(ctx context.Context, id string) (queue.Consumer, error) {
	if id == "" {
		return nil, errors.New("sqlitequeue: a consumer needs an id")
	}
	if err := q.checkOpen(); err != nil {
		return nil, err
	}
	now := time.Now()
	err := q.write(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // see Queue.write
		_, err := tx.StmtContext(ctx, q.stmts.heartbeat).ExecContext(ctx, id, now.UnixNano())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registering consumer %s: %w", id, err)
	}
	q.changed()
	return &consumer{q: q, id: id, held: map[int]int64{}, emptyTo: -1, poll: q.cfg.PollInterval}, nil
}

// changed tells this Queue's consumers that the consumers or the leases
// changed, so that they rebalance.
func (q *Queue) changed() {
	q.changes.Add(1)
	q.wake.Notify()
}

// Close releases the queue's prepared statements and wakes its waiting
// consumers, whose Fetch then returns ErrClosed. It does not close the
// database, nor release the leases of consumers not closed.
func (q *Queue) Close() error {
	var err error
	q.closing.Do(func() {
		close(q.done)
		err = errors.Join(q.stmts.close(), q.closeConnStatements())
	})
	return err
}

func (q *Queue) checkOpen() error {
	select {
	case <-q.done:
		return ErrClosed
	default:
		return nil
	}
}

// write runs fn in a write transaction. fn must start with a statement
// that writes, so that the transaction takes SQLite's write lock at once
// (waiting under busy_timeout) even if BEGIN was DEFERRED: a deferred
// transaction that read first could fail to upgrade with SQLITE_BUSY.
// ctx bounds the wait for the write turn; the transaction and fn's
// statements run without cancellation (each fn shadows ctx with
// context.WithoutCancel): they are short, and with a context that can end
// database/sql and the driver start a goroutine per statement to watch it,
// which cost a Push of 500 messages more than its inserts.
func (q *Queue) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if q.cfg.WriteTx != nil {
		return q.cfg.WriteTx(ctx, fn)
	}
	select {
	case q.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-q.wsem }()
	tx, err := q.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("beginning write transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rolling back: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// idList returns ids, message or dead-letter ids, as a JSON array of
// integers for json_each, or nil for no ids.
func idList(ids []string) (any, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not an id of this queue", id)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(n, 10))
	}
	b.WriteByte(']')
	return b.String(), nil
}
