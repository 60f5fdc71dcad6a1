package backend

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/queue/redisstream"
	"github.com/followflow/followflow/queue/sqlitequeue"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/cache"
	redisstore "github.com/followflow/followflow/store/redis"
	"github.com/followflow/followflow/store/sqlite"
)

// DefaultDBPath is the SQLite database used when no backend is chosen.
const DefaultDBPath = "followflow.db"

// Options choose and tune the backend.
type Options struct {
	// RedisURL, when set (redis://[user:pass@]host:port/db), puts store and
	// queue in Redis. Otherwise the SQLite database DBPath is used.
	RedisURL string
	// DBPath is the SQLite database file. Default DefaultDBPath.
	DBPath string
	// Prefix starts every Redis key. Default "followflow".
	Prefix string
	// Partitions is the number of queue partitions. Default
	// queue.DefaultPartitions. Every worker and producer of one deployment
	// must use the same number.
	Partitions int
	// LeaseTTL is how long a partition lease lasts without renewal: how
	// soon a dead worker's partitions are taken over. Default 10s.
	LeaseTTL time.Duration
}

// StreamMaxLen is the redisstream.Config.MaxLen of the Redis backend: a
// partition stream keeps about this many entries once they are
// acknowledged (entries not acknowledged are never trimmed), so that
// Redis's memory does not grow with every event ever pushed.
const StreamMaxLen = 10000

// Backend is an open store and queue.
type Backend struct {
	// Name describes the backend for logs ("sqlite followflow.db").
	Name string
	// Store reads records through a cache (store/cache): every commit
	// checks the versions it read, so a copy another worker changed only
	// costs a re-run. Users are cached for 5 seconds.
	Store store.Store
	Queue queue.Queue
	close []func() error
}

// Open opens the backend the options choose.
func Open(ctx context.Context, o Options) (*Backend, error) {
	if o.Partitions == 0 {
		o.Partitions = queue.DefaultPartitions
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = 10 * time.Second
	}
	if o.RedisURL != "" {
		return openRedis(ctx, o)
	}
	if o.DBPath == "" {
		o.DBPath = DefaultDBPath
	}
	st, err := sqlite.Open(ctx, o.DBPath, sqlite.Config{})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", o.DBPath, err)
	}
	q, err := sqlitequeue.New(ctx, st.DB(), sqlitequeue.Config{
		Partitions: o.Partitions, LeaseTTL: o.LeaseTTL,
		// The queue's writes take turns with the store's in this process
		// instead of polling for SQLite's write lock.
		WriteTx: st.WithTx,
		// A batch's messages are acknowledged in the transactions that
		// commit their events.
		InCommit: func(ctx context.Context, fn func(context.Context, *sql.Conn, []*store.Changeset) (func(), error)) context.Context {
			return sqlite.WithCommitHook(ctx, fn)
		},
	})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("opening the queue in %s: %w", o.DBPath, err)
	}
	return &Backend{Name: "sqlite " + o.DBPath, Store: cache.New(st, cache.Config{}), Queue: q, close: []func() error{q.Close, st.Close}}, nil
}

func openRedis(ctx context.Context, o Options) (*Backend, error) {
	opts, err := goredis.ParseURL(o.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("--redis %q: %w", o.RedisURL, err)
	}
	// Blocking reads must wake when the context is cancelled (shutdown).
	opts.ContextTimeoutEnabled = true
	client := goredis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("connecting to Redis at %s: %w", opts.Addr, err)
	}
	st, err := redisstore.New(client, redisstore.Config{Prefix: o.Prefix})
	if err != nil {
		client.Close()
		return nil, err
	}
	q, err := redisstream.New(ctx, client, redisstream.Config{Prefix: o.Prefix, Partitions: o.Partitions, LeaseTTL: o.LeaseTTL, MaxLen: StreamMaxLen})
	if err != nil {
		client.Close()
		return nil, err
	}
	return &Backend{Name: "redis " + opts.Addr, Store: cache.New(st, cache.Config{}), Queue: q, close: []func() error{q.Close, st.Close, client.Close}}, nil
}

// Close closes the queue, the store and their connections.
func (b *Backend) Close() error {
	var errs []error
	for _, c := range b.close {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}
