package redisstream

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// waiter runs blocking XREADs on a connection of its own, so that a
// cancelled context can wake them: go-redis does not interrupt a command
// when its context is cancelled (only a deadline bounds the socket, and
// only with ContextTimeoutEnabled), so on cancellation the waiter sends
// CLIENT UNBLOCK for its connection from the client's pool, and the XREAD
// returns as if it had timed out. XREAD (unlike XREADGROUP) changes
// nothing, so a wait that is cut short or whose reply is lost loses
// nothing.
//
// A waiter is used by one goroutine at a time.
type waiter struct {
	// node returns the client of the server that holds key.
	node func(ctx context.Context) (*goredis.Client, error)

	client *goredis.Client
	conn   *goredis.Conn
	connID int64
}

// newWaiter returns a waiter for streams in key's hash slot, or nil when
// the client cannot block on them with a connection of its own (then the
// caller polls).
func newWaiter(c goredis.UniversalClient, key string) *waiter {
	switch c := c.(type) {
	case *goredis.Client:
		return &waiter{node: func(context.Context) (*goredis.Client, error) { return c, nil }}
	case *goredis.ClusterClient:
		return &waiter{node: func(ctx context.Context) (*goredis.Client, error) { return c.MasterForKey(ctx, key) }}
	}
	return nil
}

// xread runs XREAD BLOCK block on the waiter's connection and returns its
// entries, or nil when it timed out or ctx was cancelled (check ctx).
func (w *waiter) xread(ctx context.Context, streams []string, count int64, block time.Duration) ([]goredis.XStream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		block = min(block, time.Until(dl))
	}
	block = max(block, time.Millisecond)
	if w.conn == nil {
		client, err := w.node(ctx)
		if err != nil {
			return nil, err
		}
		conn := client.Conn()
		id, err := conn.ClientID(ctx).Result()
		if err != nil {
			_ = conn.Close()
			return nil, err
		}
		w.client, w.conn, w.connID = client, conn, id
	}
	client, connID := w.client, w.connID
	done := make(chan struct{})
	unblocked := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(unblocked)
		// CLIENT UNBLOCK does nothing if it arrives before the XREAD; try
		// again until the XREAD returns.
		for {
			uctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = client.ClientUnblock(uctx, connID).Err()
			cancel()
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	// Not ctx: the connection must not be cut by a deadline mid-reply (the
	// block is already bounded by ctx's deadline above).
	res, err := w.conn.XRead(context.WithoutCancel(ctx), &goredis.XReadArgs{Streams: streams, Count: count, Block: block}).Result()
	close(done)
	if !stop() {
		<-unblocked
	}
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		w.close()
		return nil, err
	}
	return res, nil
}

// close releases the waiter's connection; the next xread opens another.
func (w *waiter) close() {
	if w != nil && w.conn != nil {
		_ = w.conn.Close()
		w.client, w.conn, w.connID = nil, nil, 0
	}
}

// sleep waits d, or until ctx is done (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
