package sqlitequeue

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/store"
)

// MaxPartitions bounds Config.Partitions.
const MaxPartitions = 4096

// Config tunes a Queue. The zero value is usable: New applies WithDefaults.
type Config struct {
	// Partitions is the number of partitions. It is fixed when the queue's
	// tables are created: New refuses a file created with another number,
	// since that would move records to other partitions. Default
	// queue.DefaultPartitions.
	Partitions int

	// LeaseTTL is how long a partition lease lasts without renewal: how soon
	// the partitions of a dead consumer are taken over, and how long a
	// consumer that stopped fetching still counts towards the fair share. A
	// consumer renews its leases on every Fetch, Ack and DeadLetter, and at
	// least every LeaseTTL/3 while it fetches, so a batch must be processed
	// within LeaseTTL. Default 10s.
	LeaseTTL time.Duration

	// PollInterval is how often a blocked Fetch looks for rows pushed by
	// another process sharing the file while messages keep coming. Pushes
	// through the same *Queue wake waiting consumers at once. Default 5ms.
	PollInterval time.Duration

	// MaxPollInterval bounds the wait between those looks once the queue
	// stays empty: each look that finds nothing doubles the wait, from
	// PollInterval up to MaxPollInterval, and a batch read brings it back
	// to PollInterval. So an idle worker costs next to no CPU, and the
	// first message another process pushes after a quiet spell waits up to
	// MaxPollInterval. Default 100ms, and never below PollInterval.
	MaxPollInterval time.Duration

	// WriteTx, when set, runs each write transaction of the queue: it must
	// begin a transaction on the queue's database, run fn, and commit when
	// fn returns nil or roll back otherwise. Pass the store's
	// (*sqlite.Store).WithTx so that the store's and the queue's writes in
	// one process take turns in Go instead of polling SQLite's write lock.
	// Default: the queue's own, one write transaction at a time per Queue.
	// Either way, every write transaction of the queue starts with a
	// write, so it takes the write lock at once, waiting under the
	// connection's busy_timeout, even when BEGIN is DEFERRED.
	WriteTx func(ctx context.Context, fn func(tx *sql.Tx) error) error

	// InCommit, when set, lets consumers acknowledge messages in the write
	// transaction that commits their events (queue.CommitAcker): it
	// returns a context under which the store's commits run fn in their
	// transaction, on their connection, with the changesets they wrote,
	// and call the done that fn returns once that transaction committed.
	// Set it to a function that calls store/sqlite.WithCommitHook, for the
	// store whose database the queue's tables are in (backend.Open does).
	// Default: the consumers do not implement queue.CommitAcker's promise;
	// AckOnCommit returns ctx as it is and every Ack is a transaction of
	// its own.
	InCommit func(ctx context.Context, fn func(ctx context.Context, conn *sql.Conn, committed []*store.Changeset) (done func(), err error)) context.Context
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Partitions == 0 {
		c.Partitions = queue.DefaultPartitions
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 10 * time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = 5 * time.Millisecond
	}
	if c.MaxPollInterval == 0 {
		c.MaxPollInterval = max(100*time.Millisecond, c.PollInterval)
	}
	return c
}

// Validate reports the first field of c that holds a bad value.
func (c Config) Validate() error {
	switch {
	case c.Partitions < 1 || c.Partitions > MaxPartitions:
		return fmt.Errorf("sqlitequeue config: Partitions %d is not between 1 and %d", c.Partitions, MaxPartitions)
	case c.LeaseTTL < 10*time.Millisecond:
		return fmt.Errorf("sqlitequeue config: LeaseTTL %v is shorter than 10ms", c.LeaseTTL)
	case c.PollInterval <= 0:
		return fmt.Errorf("sqlitequeue config: PollInterval %v is not positive", c.PollInterval)
	case c.MaxPollInterval < c.PollInterval:
		return fmt.Errorf("sqlitequeue config: MaxPollInterval %v is below PollInterval %v", c.MaxPollInterval, c.PollInterval)
	}
	return nil
}
