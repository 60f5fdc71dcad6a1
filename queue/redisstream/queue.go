package redisstream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/internal/broadcast"
	"github.com/followflow/followflow/queue"
)

// ErrClosed is returned by the methods of a closed Queue or Consumer.
var ErrClosed = errors.New("redisstream: closed")

// ErrPartitionsMismatch is returned by New when the queue under the prefix
// was created with another number of partitions.
var ErrPartitionsMismatch = errors.New("redisstream: the number of partitions differs from the queue's")

// Queue is the Redis Streams queue.Queue, shared by many workers on many
// machines. It is safe for concurrent use.
type Queue struct {
	client goredis.UniversalClient
	cfg    Config
	keys   keys
	// blocking says whether consumers may wait on all their streams with
	// one XREAD (a *goredis.Client); otherwise they poll.
	blocking bool

	// ctx is cancelled by Close; it bounds the router.
	ctx    context.Context
	cancel context.CancelFunc

	routerOnce sync.Once
	routerDone chan struct{}

	// released counts the leases handed back by this Queue's consumers,
	// and wake wakes its waiting consumers when that happens, so that they
	// take those partitions at once rather than at their next rebalance.
	released atomic.Uint64
	wake     broadcast.Signal

	closeOnce sync.Once
}

var _ queue.Queue = (*Queue)(nil)

// New returns the queue whose keys start with cfg.Prefix, reached through
// client: a *redis.Client (a single server or a failover group) or a
// *redis.ClusterClient. It records the number of partitions on first use
// and returns ErrPartitionsMismatch when the queue has another.
//
// The queue does not own the client: Close leaves it open for its other
// users (the store, say), and the caller closes it after the queue. The
// client needs no special options: a waiting Fetch wakes on cancellation
// by itself (see Consumer).
func New(ctx context.Context, client goredis.UniversalClient, cfg Config) (*Queue, error) {
	if client == nil {
		return nil, errors.New("redisstream: nil client")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k := newKeys(cfg.Prefix, cfg.Partitions)
	if err := client.SetNX(ctx, k.partitions(), cfg.Partitions, 0).Err(); err != nil {
		return nil, fmt.Errorf("redisstream: recording the number of partitions: %w", err)
	}
	n, err := client.Get(ctx, k.partitions()).Int()
	if err != nil {
		return nil, fmt.Errorf("redisstream: reading the number of partitions: %w", err)
	}
	if n != cfg.Partitions {
		return nil, fmt.Errorf("%w: the queue under %q has %d partitions, Config.Partitions is %d", ErrPartitionsMismatch, cfg.Prefix, n, cfg.Partitions)
	}
	_, blocking := client.(*goredis.Client)
	q := &Queue{client: client, cfg: cfg, keys: k, blocking: blocking, routerDone: make(chan struct{})}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	return q, nil
}

// Partitions returns the number of partitions.
func (q *Queue) Partitions() int { return q.cfg.Partitions }

// InboxKey returns the key of the inbox stream producers add events to.
func (q *Queue) InboxKey() string { return q.keys.inbox() }

// StreamKey returns the key of a partition's stream.
func (q *Queue) StreamKey(partition int) string { return q.keys.parts[partition].stream }

// DeadLetterKey returns the key of the dead-letter stream.
func (q *Queue) DeadLetterKey() string { return q.keys.dlq() }

// Push adds the bodies in order, all or none. On a Redis Cluster it adds
// them to the inbox in one MULTI/EXEC, exactly as any producer would (XADD
// <prefix>:inbox * event <body>), and the router moves them to their
// partitions. On a single server, one script adds them straight to their
// partition streams (as the router would, in the same order) when the
// inbox holds nothing the router has yet to route, and to the inbox
// otherwise: the order of each record's events is the order of the
// pushes either way, and an event pushed while the inbox is caught up
// reaches its consumer without waiting for the router.
func (q *Queue) Push(ctx context.Context, events []*event.Event, bodies [][]byte) error {
	if len(events) != len(bodies) {
		return fmt.Errorf("redisstream: pushing %d events with %d bodies", len(events), len(bodies))
	}
	if len(bodies) == 0 {
		return nil
	}
	if err := q.checkOpen(); err != nil {
		return err
	}
	var err error
	if q.blocking && !slices.Contains(events, nil) {
		err = q.pushDirect(ctx, events, bodies)
	} else {
		err = q.addToInbox(ctx, bodies, nil)
	}
	if err != nil {
		return fmt.Errorf("redisstream: pushing %d event(s): %w", len(bodies), err)
	}
	return nil
}

// pushDirect runs pushScript: the bodies go to their partition streams
// when the inbox is caught up, to the inbox otherwise.
func (q *Queue) pushDirect(ctx context.Context, events []*event.Event, bodies [][]byte) error {
	keys := []string{q.keys.inbox(), q.keys.routerCursor()}
	index := make(map[int]int) // partition → its stream's index in KEYS (from 1)
	args := make([]any, 0, 2*len(bodies))
	for i, ev := range events {
		p := queue.PartitionOf(ev, q.cfg.Partitions)
		k, ok := index[p]
		if !ok {
			keys = append(keys, q.keys.parts[p].stream)
			k = len(keys)
			index[p] = k
		}
		args = append(args, k, bodies[i])
	}
	return pushScript.Run(ctx, q.client, keys, args...).Err()
}

// addToInbox adds the bodies to the inbox in one MULTI/EXEC, each with
// its enqueued_at if enqueued has a non-empty one.
func (q *Queue) addToInbox(ctx context.Context, bodies [][]byte, enqueued []string) error {
	_, err := q.client.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, b := range bodies {
			values := []any{fieldEvent, b}
			if i < len(enqueued) && enqueued[i] != "" {
				values = append(values, fieldEnqueuedAt, enqueued[i])
			}
			pipe.XAdd(ctx, &goredis.XAddArgs{Stream: q.keys.inbox(), Values: values})
		}
		return nil
	})
	return err
}

// Consumer registers a consumer and returns it; id names it in leases and
// Stats, and must be unique among live consumers. The first consumer
// starts this Queue's router (see the package documentation), which runs
// until Close.
func (q *Queue) Consumer(ctx context.Context, id string) (queue.Consumer, error) {
	if id == "" {
		return nil, errors.New("redisstream: a consumer needs an id")
	}
	if err := q.checkOpen(); err != nil {
		return nil, err
	}
	c := &consumer{q: q, id: id, token: id + "#" + randomHex(4), held: map[int]*part{}}
	if q.blocking {
		c.waiter = newWaiter(q.client, "")
	}
	if _, err := c.heartbeat(ctx); err != nil {
		return nil, fmt.Errorf("redisstream: registering consumer %s: %w", id, err)
	}
	q.routerOnce.Do(func() { go q.runRouter() })
	return c, nil
}

// Close stops the router, handing back its lease, and wakes waiting
// consumers, whose Fetch then returns ErrClosed. It does not release the
// leases of consumers not closed (they expire), nor close the client.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		q.cancel()
		started := true
		q.routerOnce.Do(func() { started = false })
		if started {
			<-q.routerDone
		}
	})
	return nil
}

func (q *Queue) checkOpen() error {
	if q.ctx.Err() != nil {
		return ErrClosed
	}
	return nil
}

func (q *Queue) ttlMs() int64 { return max(q.cfg.LeaseTTL.Milliseconds(), 1) }

// DeadLetters lists up to limit dead letters, oldest first (limit <= 0:
// all).
func (q *Queue) DeadLetters(ctx context.Context, limit int) ([]queue.DeadLetter, error) {
	var msgs []goredis.XMessage
	var err error
	if limit > 0 {
		msgs, err = q.client.XRangeN(ctx, q.keys.dlq(), "-", "+", int64(limit)).Result()
	} else {
		msgs, err = q.client.XRange(ctx, q.keys.dlq(), "-", "+").Result()
	}
	if err != nil {
		return nil, fmt.Errorf("redisstream: listing dead letters: %w", err)
	}
	out := make([]queue.DeadLetter, len(msgs))
	for i, m := range msgs {
		out[i] = toDeadLetter(m)
	}
	return out, nil
}

func toDeadLetter(m goredis.XMessage) queue.DeadLetter {
	str := func(f string) string { s, _ := m.Values[f].(string); return s }
	d := queue.DeadLetter{ID: m.ID, Body: []byte(str(dlqBody)), Reason: str(dlqReason)}
	d.Partition, _ = strconv.Atoi(str(dlqPartition))
	d.Deliveries, _ = strconv.Atoi(str(dlqDeliveries))
	if t, err := time.Parse(time.RFC3339Nano, str(dlqFailedAt)); err == nil {
		d.FailedAt = t
	} else {
		d.FailedAt = idTime(m.ID)
	}
	return d
}

// replayPage is how many dead letters Replay moves at once.
const replayPage = 500

// Replay pushes the named dead letters (all when ids is empty) back onto
// the inbox, keeping when they were first pushed (EnqueuedAt), and then
// deletes them from the dead letters; unknown ids are skipped. A crash between the two replays them again on the next call:
// replay is at least once, and the store's ledger makes a second run of an
// event a no-op.
func (q *Queue) Replay(ctx context.Context, ids []string) (int, error) {
	if err := q.checkOpen(); err != nil {
		return 0, err
	}
	n := 0
	move := func(msgs []goredis.XMessage) error {
		if len(msgs) == 0 {
			return nil
		}
		bodies := make([][]byte, len(msgs))
		enqueued := make([]string, len(msgs))
		del := make([]string, len(msgs))
		for i, m := range msgs {
			s, _ := m.Values[dlqBody].(string)
			bodies[i], del[i] = []byte(s), m.ID
			enqueued[i], _ = m.Values[dlqEnqueuedAt].(string)
		}
		if err := q.addToInbox(ctx, bodies, enqueued); err != nil {
			return err
		}
		if err := q.client.XDel(ctx, q.keys.dlq(), del...).Err(); err != nil {
			return err
		}
		n += len(msgs)
		return nil
	}
	if len(ids) > 0 {
		msgs, err := q.deadLettersByID(ctx, ids)
		if err == nil {
			for page := range slices.Chunk(msgs, replayPage) {
				if err = move(page); err != nil {
					break
				}
			}
		}
		if err != nil {
			return n, fmt.Errorf("redisstream: replaying dead letters: %w", err)
		}
		return n, nil
	}
	// All of them, up to the newest one now: an event replayed and
	// dead-lettered again is not replayed twice in one call.
	last, err := q.client.XRevRangeN(ctx, q.keys.dlq(), "+", "-", 1).Result()
	if err != nil || len(last) == 0 {
		return 0, wrapErr("replaying dead letters", err)
	}
	for start := "-"; ; {
		msgs, err := q.client.XRangeN(ctx, q.keys.dlq(), start, last[0].ID, replayPage).Result()
		if err != nil {
			return n, wrapErr("replaying dead letters", err)
		}
		if err := move(msgs); err != nil {
			return n, wrapErr("replaying dead letters", err)
		}
		if len(msgs) < replayPage {
			return n, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// deadLettersByID returns the dead letters of the ids that exist, in the
// order given, each once.
func (q *Queue) deadLettersByID(ctx context.Context, ids []string) ([]goredis.XMessage, error) {
	seen := make(map[string]bool, len(ids))
	pipe := q.client.Pipeline()
	var cmds []*goredis.XMessageSliceCmd
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		cmds = append(cmds, pipe.XRange(ctx, q.keys.dlq(), id, id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	var out []goredis.XMessage
	for _, c := range cmds {
		out = append(out, c.Val()...)
	}
	return out, nil
}

// Purge deletes the named dead letters (all when ids is empty) and returns
// how many it deleted.
func (q *Queue) Purge(ctx context.Context, ids []string) (int, error) {
	if len(ids) > 0 {
		n, err := q.client.XDel(ctx, q.keys.dlq(), ids...).Result()
		return int(n), wrapErr("purging dead letters", err)
	}
	var n *goredis.IntCmd
	_, err := q.client.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		n = pipe.XLen(ctx, q.keys.dlq())
		pipe.Del(ctx, q.keys.dlq())
		return nil
	})
	if err != nil {
		return 0, wrapErr("purging dead letters", err)
	}
	return int(n.Val()), nil
}

// Stats describes every partition: Lag is its entries not yet acknowledged
// (pending, and not yet delivered), plus the events of the partition
// still in the inbox, waiting for the router, among the first
// Config.RouterBatch of them; Owner is the id of the consumer holding its
// lease. It reads the inbox first, then each partition at one instant
// (with the last inbox id routed to it), so that an event routed in
// between is counted once.
func (q *Queue) Stats(ctx context.Context) ([]queue.PartitionStats, error) {
	from, err := q.client.Get(ctx, q.keys.routerCursor()).Result()
	if errors.Is(err, goredis.Nil) {
		from, err = "0-0", nil
	}
	if err != nil {
		return nil, wrapErr("reading stats", err)
	}
	waiting, err := q.client.XRangeN(ctx, q.keys.inbox(), "("+from, "+", int64(q.cfg.RouterBatch)).Result()
	if err != nil {
		return nil, wrapErr("reading stats", err)
	}
	calls := make([]*scriptCall, q.cfg.Partitions)
	for p, k := range q.keys.parts {
		calls[p] = &scriptCall{script: statsScript, keys: []string{k.stream, k.lease, k.routed}, args: []any{Group}}
	}
	runScripts(ctx, q.client, calls)
	out := make([]queue.PartitionStats, q.cfg.Partitions)
	routed := make([]streamID, q.cfg.Partitions)
	for p, c := range calls {
		res, err := c.cmd.Slice()
		if err != nil {
			return nil, wrapErr(fmt.Sprintf("reading stats of partition %d", p), err)
		}
		if len(res) != 3 {
			return nil, fmt.Errorf("redisstream: unexpected stats reply %v", res)
		}
		lag, _ := res[0].(int64)
		owner, _ := res[1].(string)
		out[p] = queue.PartitionStats{Partition: p, Lag: lag, Owner: owner}
		if s, _ := res[2].(string); s != "" {
			routed[p], _ = parseID(s)
		}
	}
	for _, m := range waiting {
		body, _ := m.Values[fieldEvent].(string)
		ev, err := event.Decode([]byte(body), time.Time{})
		if err != nil {
			continue // bound for the dead letters
		}
		p := queue.PartitionOf(ev, q.cfg.Partitions)
		if id, err := parseID(m.ID); err == nil && routed[p].less(id) {
			out[p].Lag++
		}
	}
	return out, nil
}

func wrapErr(doing string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redisstream: %s: %w", doing, err)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fieldsJSON renders an entry's fields as a JSON object: the body of an
// entry without an event field, so that it reaches the dead letters whole.
func fieldsJSON(values map[string]any) []byte {
	b, err := json.Marshal(values)
	if err != nil {
		return []byte(fmt.Sprint(values))
	}
	return b
}
