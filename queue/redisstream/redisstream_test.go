package redisstream_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/internal/redistest"
	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/queue/queuetest"
	"github.com/followflow/followflow/queue/redisstream"
)

// newQueue returns a queue on client under prefix, closed when the test
// ends.
func newQueue(t *testing.T, client goredis.UniversalClient, cfg redisstream.Config) *redisstream.Queue {
	t.Helper()
	q, err := redisstream.New(context.Background(), client, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, partitions int, leaseTTL time.Duration) queue.Queue {
		client, prefix := redistest.Shared(t)
		return newQueue(t, client, redisstream.Config{Prefix: prefix, Partitions: partitions, LeaseTTL: leaseTTL})
	})
}

// TestConformanceCluster runs the suite on a one-node Redis Cluster, where
// a command or script touching keys of two hash slots fails, and where
// consumers poll instead of blocking on several streams.
func TestConformanceCluster(t *testing.T) {
	srv := redistest.Start(t, redistest.WithCluster())
	client := srv.ClusterClient(t)
	queuetest.Run(t, func(t *testing.T, partitions int, leaseTTL time.Duration) queue.Queue {
		return newQueue(t, client, redisstream.Config{Prefix: "q" + t.Name(), Partitions: partitions, LeaseTTL: leaseTTL})
	})
}

// setup is what most tests need: a queue on the shared server under a
// prefix of the test's own, and a plain client to act as a producer.
type setup struct {
	q      *redisstream.Queue
	client *goredis.Client
	prefix string
}

func newSetup(t *testing.T, cfg redisstream.Config) setup {
	t.Helper()
	client, prefix := redistest.Shared(t)
	cfg.Prefix = prefix
	return setup{q: newQueue(t, client, cfg), client: client, prefix: prefix}
}

func newConsumer(t *testing.T, q queue.Queue, id string) queue.Consumer {
	t.Helper()
	c, err := q.Consumer(context.Background(), id)
	if err != nil {
		t.Fatalf("Consumer(%q): %v", id, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

// consume fetches and acknowledges until n messages came, failing the test
// after timeout.
func consume(t *testing.T, c queue.Consumer, n int, timeout time.Duration) []queue.Message {
	t.Helper()
	ctx := context.Background()
	var got []queue.Message
	deadline := time.Now().Add(timeout)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d messages within %v, want %d", len(got), timeout, n)
		}
		b, err := c.Fetch(ctx, 100, 100*time.Millisecond)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if b == nil {
			continue
		}
		got = append(got, b.Messages...)
		if err := c.Ack(ctx, b, messageIDs(b.Messages)); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	return got
}

func messageIDs(ms []queue.Message) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func eventIDs(t *testing.T, ms []queue.Message) []string {
	t.Helper()
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = queuetest.Decode(t, m).ID
	}
	return ids
}

func encode(t *testing.T, ev *event.Event) string {
	t.Helper()
	b, err := event.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// xadd adds an entry with the fields given, as a producer would.
func xadd(t *testing.T, client goredis.UniversalClient, key string, fields ...any) string {
	t.Helper()
	id, err := client.XAdd(context.Background(), &goredis.XAddArgs{Stream: key, Values: fields}).Result()
	if err != nil {
		t.Fatalf("XADD %s: %v", key, err)
	}
	return id
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	t.Parallel()
	d := redisstream.Config{}.WithDefaults()
	want := redisstream.Config{Prefix: "followflow", Partitions: queue.DefaultPartitions, LeaseTTL: 10 * time.Second, RouterBatch: 500, PollInterval: 50 * time.Millisecond}
	if d.Prefix != want.Prefix || d.Partitions != want.Partitions || d.LeaseTTL != want.LeaseTTL || d.MaxLen != 0 || d.RouterBatch != want.RouterBatch || d.PollInterval != want.PollInterval {
		t.Errorf("WithDefaults() = %+v, want %+v", d, want)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Validate() of the defaults: %v", err)
	}
	for _, tc := range []struct {
		field string
		cfg   func(*redisstream.Config)
	}{
		{"Prefix", func(c *redisstream.Config) { c.Prefix = "a{b}" }},
		{"Partitions", func(c *redisstream.Config) { c.Partitions = -1 }},
		{"Partitions", func(c *redisstream.Config) { c.Partitions = redisstream.MaxPartitions + 1 }},
		{"LeaseTTL", func(c *redisstream.Config) { c.LeaseTTL = time.Millisecond }},
		{"MaxLen", func(c *redisstream.Config) { c.MaxLen = -5 }},
		{"RouterBatch", func(c *redisstream.Config) { c.RouterBatch = -1 }},
		{"PollInterval", func(c *redisstream.Config) { c.PollInterval = -time.Second }},
	} {
		cfg := redisstream.Config{}
		tc.cfg(&cfg)
		err := cfg.WithDefaults().Validate()
		var ce *redisstream.ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("Validate() of a bad %s = %v, want a *ConfigError naming %s", tc.field, err, tc.field)
		}
	}
}

func TestNewRefusesAnotherPartitionCount(t *testing.T) {
	t.Parallel()
	s := newSetup(t, redisstream.Config{Partitions: 8})
	_, err := redisstream.New(context.Background(), s.client, redisstream.Config{Prefix: s.prefix, Partitions: 4})
	if !errors.Is(err, redisstream.ErrPartitionsMismatch) {
		t.Errorf("New with 4 partitions on a queue of 8: %v, want ErrPartitionsMismatch", err)
	}
	if _, err := redisstream.New(context.Background(), s.client, redisstream.Config{Prefix: s.prefix, Partitions: 8}); err != nil {
		t.Errorf("New with the same number: %v", err)
	}
}

// TestRawInboxXAddIsConsumed is SPEC §3's producer contract: one XADD to
// <prefix>:inbox with the field event, from any client.
func TestRawInboxXAddIsConsumed(t *testing.T) {
	t.Parallel()
	s := newSetup(t, redisstream.Config{Partitions: 4})
	evs := queuetest.Events("acme", "opp_1", 3)
	before := time.Now()
	for _, ev := range evs {
		xadd(t, s.client, s.prefix+":inbox", "event", encode(t, ev))
	}
	c := newConsumer(t, s.q, "c1")
	got := consume(t, c, 3, 5*time.Second)
	if ids := eventIDs(t, got); !slices.Equal(ids, []string{"opp_1#0", "opp_1#1", "opp_1#2"}) {
		t.Errorf("consumed %v, want the pushed events in order", ids)
	}
	for _, m := range got {
		if m.Deliveries != 1 || m.EnqueuedAt.Before(before.Add(-5*time.Second)) || m.EnqueuedAt.After(time.Now().Add(5*time.Second)) {
			t.Errorf("message %s: Deliveries %d, EnqueuedAt %v; want 1, about %v", m.ID, m.Deliveries, m.EnqueuedAt, before)
		}
	}
	// The router trims the inbox behind it.
	waitFor(t, 5*time.Second, "the inbox to be trimmed", func() bool {
		return s.client.XLen(context.Background(), s.prefix+":inbox").Val() == 0
	})
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
	}
}

// TestMalformedInboxEntriesAreDeadLettered: entries the router cannot route
// go to the dead letters with their reason and whole body, and the entries
// behind them are routed.
func TestMalformedInboxEntriesAreDeadLettered(t *testing.T) {
	t.Parallel()
	s := newSetup(t, redisstream.Config{Partitions: 4})
	inbox := s.prefix + ":inbox"
	evs := queuetest.Events("acme", "opp_1", 2)
	xadd(t, s.client, inbox, "event", encode(t, evs[0]))
	bad := []struct {
		fields []any
		body   string
		reason string
	}{
		{[]any{"event", "{not json"}, "{not json", "not a JSON object"},
		{[]any{"event", `{"id":"x1","type":"opportunity.exploded","account_id":"acme","opportunity_id":"o"}`}, "", `unknown event type "opportunity.exploded"`},
		{[]any{"event", `{"id":"x2","type":"opportunity.tag_applied","account_id":"acme","opportunity_id":"o"}`}, "", "data.tag: required"},
		{[]any{"evnt", "typo"}, `{"evnt":"typo"}`, `no "event" field`},
	}
	for i, b := range bad {
		xadd(t, s.client, inbox, b.fields...)
		if b.body == "" {
			bad[i].body = b.fields[1].(string)
		}
	}
	xadd(t, s.client, inbox, "event", encode(t, evs[1]))

	c := newConsumer(t, s.q, "c1")
	if ids := eventIDs(t, consume(t, c, 2, 5*time.Second)); !slices.Equal(ids, []string{"opp_1#0", "opp_1#1"}) {
		t.Errorf("consumed %v, want both valid events", ids)
	}
	var dls []queue.DeadLetter
	waitFor(t, 5*time.Second, "4 dead letters", func() bool {
		var err error
		dls, err = s.q.DeadLetters(context.Background(), 0)
		return err == nil && len(dls) == len(bad)
	})
	for i, d := range dls {
		if string(d.Body) != bad[i].body || !strings.Contains(d.Reason, bad[i].reason) || d.Partition != -1 || d.FailedAt.IsZero() {
			t.Errorf("dead letter %d: %+v (body %s); want body %s, reason containing %q, partition -1", i, d, d.Body, bad[i].body, bad[i].reason)
		}
	}
	// Nothing is left behind: the inbox is trimmed past them all.
	waitFor(t, 5*time.Second, "the inbox to be trimmed", func() bool {
		return s.client.XLen(context.Background(), inbox).Val() == 0
	})
}

// TestDirectPartitionProducer: a producer that computes the partition
// writes to the partition stream itself; an entry there without an event
// field is dead-lettered by the consumer.
func TestDirectPartitionProducer(t *testing.T) {
	t.Parallel()
	const partitions = 8
	s := newSetup(t, redisstream.Config{Partitions: partitions})
	evs := queuetest.Events("acme", "opp_7", 2)
	p := queue.Partition("acme", "opp_7", partitions)
	key := fmt.Sprintf("%s:{p%d}:stream", s.prefix, p)
	if key != s.q.StreamKey(p) {
		t.Fatalf("StreamKey(%d) = %q, want %q", p, s.q.StreamKey(p), key)
	}
	xadd(t, s.client, key, "event", encode(t, evs[0]))
	xadd(t, s.client, key, "body", "oops")
	xadd(t, s.client, key, "event", encode(t, evs[1]))

	c := newConsumer(t, s.q, "c1")
	if ids := eventIDs(t, consume(t, c, 2, 5*time.Second)); !slices.Equal(ids, []string{"opp_7#0", "opp_7#1"}) {
		t.Errorf("consumed %v, want both events", ids)
	}
	dls, err := s.q.DeadLetters(context.Background(), 0)
	if err != nil || len(dls) != 1 || dls[0].Partition != p || string(dls[0].Body) != `{"body":"oops"}` || !strings.Contains(dls[0].Reason, `no "event" field`) {
		t.Errorf("DeadLetters = %+v, %v; want the entry without an event field, partition %d", dls, err, p)
	}
	if lag := totalLag(t, s.q); lag != 0 {
		t.Errorf("lag %d, want 0", lag)
	}
}

func totalLag(t *testing.T, q queue.Queue) int64 {
	t.Helper()
	st, err := q.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	var n int64
	for _, s := range st {
		n += s.Lag
	}
	return n
}

// TestCancelWakesBlockedFetch checks that a wait much longer than the test
// (LeaseTTL/4 bounds it) ends at once on cancel, and on Queue.Close, with
// a plain client (XREAD BLOCK woken by CLIENT UNBLOCK) and with a cluster
// client (polling), whatever ContextTimeoutEnabled says.
func TestCancelWakesBlockedFetch(t *testing.T) {
	t.Parallel()
	cluster := redistest.Start(t, redistest.WithCluster())
	shared, prefix := redistest.Shared(t)
	timeoutClient := goredis.NewClient(&goredis.Options{Addr: shared.Options().Addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = timeoutClient.Close() })
	for _, tc := range []struct {
		name   string
		client goredis.UniversalClient
	}{
		{"client", shared},
		{"client with ContextTimeoutEnabled", timeoutClient},
		{"cluster client", cluster.ClusterClient(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, how := range []string{"cancel", "close"} {
				q := newQueue(t, tc.client, redisstream.Config{Prefix: prefix + ":" + tc.name + how, Partitions: 2, LeaseTTL: 2 * time.Minute})
				c := newConsumer(t, q, "c1")
				if b, err := c.Fetch(context.Background(), 10, 0); b != nil || err != nil {
					t.Fatalf("Fetch on an empty queue: %v, %v", b, err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					_, err := c.Fetch(ctx, 10, time.Minute)
					done <- err
				}()
				time.Sleep(200 * time.Millisecond)
				start := time.Now()
				want := context.Canceled
				if how == "cancel" {
					cancel()
				} else {
					_ = q.Close()
					want = redisstream.ErrClosed
				}
				select {
				case err := <-done:
					if !errors.Is(err, want) {
						t.Errorf("%s: Fetch returned %v, want %v", how, err, want)
					}
					if took := time.Since(start); took > 500*time.Millisecond {
						t.Errorf("%s: Fetch returned %v after", how, took)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: Fetch still blocked 10s after", how)
				}
				cancel()
			}
		})
	}
}

// TestMaxLenTrimsOnlyAcknowledged: with MaxLen, acknowledged entries are
// trimmed; pending and undelivered ones never are.
func TestMaxLenTrimsOnlyAcknowledged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSetup(t, redisstream.Config{Partitions: 1, MaxLen: 50})
	evs := queuetest.Events("acme", "opp_1", 600)
	for i := 0; i < len(evs); i += 100 {
		queuetest.Push(t, s.q, evs[i:i+100]...)
	}
	c := newConsumer(t, s.q, "c1")
	waitFor(t, 10*time.Second, "the router to route every event", func() bool {
		return s.client.XLen(ctx, s.q.StreamKey(0)).Val() == 600
	})
	got := consume(t, c, 300, 10*time.Second)
	// 100 more read but not acknowledged: pending.
	b, err := c.Fetch(ctx, 100, time.Second)
	if err != nil || b == nil {
		t.Fatalf("Fetch: %v, %v", b, err)
	}
	if n := s.client.XLen(ctx, s.q.StreamKey(0)).Val(); n >= 600 || n < 300 {
		t.Errorf("XLEN after acknowledging 300 of 600 = %d, want fewer than 600 and at least the 300 not acknowledged", n)
	}
	// The abandoned batch comes again, then the rest: nothing was trimmed
	// that was not acknowledged.
	got = append(got, consume(t, c, 300, 10*time.Second)...)
	if ids, want := eventIDs(t, got), eventIDs(t, toMessages(t, evs)); !slices.Equal(ids, want) {
		t.Errorf("consumed %d events, not the 600 pushed in order", len(ids))
	}
	if n := s.client.XLen(ctx, s.q.StreamKey(0)).Val(); n > 150 {
		t.Errorf("XLEN after acknowledging everything = %d, want about MaxLen (trimming is by whole nodes of 100)", n)
	}
}

func toMessages(t *testing.T, evs []*event.Event) []queue.Message {
	t.Helper()
	ms := make([]queue.Message, len(evs))
	for i, ev := range evs {
		ms[i] = queue.Message{Body: []byte(encode(t, ev))}
	}
	return ms
}

// TestServerRestart kills a private Redis (with AOF) while consumers read
// and a producer pushes, and starts it again: Fetch fails while the server
// is down, then everything resumes, nothing is lost, and each record's
// events are first seen in push order.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	const (
		records = 10
		total   = 600
		batch   = 20
	)
	srv := redistest.Start(t, redistest.WithAOF())
	client := srv.Client(t)
	q := newQueue(t, client, redisstream.Config{Partitions: 4, LeaseTTL: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var (
		mu         sync.Mutex
		firstSeen  = map[string][]int{} // record -> sequence numbers, first deliveries only
		seen       = map[string]bool{}
		fetchErrs  atomic.Int64
		pushing    sync.Mutex // held by the pusher around each push; the test takes it to pause it
		wg         sync.WaitGroup
		pushedDone atomic.Bool
	)
	wg.Go(func() {
		next := make([]int, records)
		for start := 0; start < total; start += batch {
			evs := make([]*event.Event, batch)
			for i := range evs {
				r := (start + i) % records
				evs[i] = queuetest.Event(fmt.Sprintf("opp_%d#%d", r, next[r]), "acme", fmt.Sprintf("opp_%d", r))
				next[r]++
			}
			bodies := queuetest.Bodies(t, evs...)
			for {
				pushing.Lock()
				err := q.Push(ctx, evs, bodies)
				pushing.Unlock()
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return
				}
				time.Sleep(50 * time.Millisecond) // the server is down: push again
			}
			time.Sleep(5 * time.Millisecond)
		}
		pushedDone.Store(true)
	})
	for i := range 2 {
		c := newConsumer(t, q, fmt.Sprintf("c%d", i))
		wg.Go(func() {
			for ctx.Err() == nil {
				b, err := c.Fetch(ctx, 20, 100*time.Millisecond)
				if err != nil {
					fetchErrs.Add(1)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if b == nil {
					mu.Lock()
					done := len(seen) == total
					mu.Unlock()
					if done {
						return
					}
					continue
				}
				mu.Lock()
				for _, m := range b.Messages {
					ev := queuetest.Decode(t, m)
					if !seen[ev.ID] {
						seen[ev.ID] = true
						rec, n := queuetest.Seq(t, ev)
						firstSeen[rec] = append(firstSeen[rec], n)
					}
				}
				mu.Unlock()
				_ = c.Ack(ctx, b, messageIDs(b.Messages)) // a lost Ack means a redelivery
			}
		})
	}
	progress := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	waitFor(t, 20*time.Second, "a third of the events to be consumed", func() bool { return progress() >= total/3 })

	pushing.Lock()
	if err := srv.WaitAOF(ctx); err != nil {
		t.Fatalf("WaitAOF: %v", err)
	}
	srv.Kill()
	errsBefore := fetchErrs.Load()
	pushing.Unlock()
	downAt := progress()
	// Longer than the lease TTL, and than a failing command takes with the
	// client's default retries (about 1.7s).
	time.Sleep(4 * time.Second)
	if fetchErrs.Load() == errsBefore {
		t.Errorf("no Fetch failed while the server was down")
	}
	srv.Restart()
	t.Logf("server down with %d of %d events consumed; %d failed fetches", downAt, total, fetchErrs.Load()-errsBefore)

	waitFor(t, 30*time.Second, "every event to be consumed", func() bool { return progress() == total && pushedDone.Load() })
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for rec, got := range firstSeen {
		if !slices.IsSorted(got) || len(got) != total/records {
			t.Errorf("record %s: first seen in order %v, want 0..%d", rec, got, total/records-1)
		}
	}
}

// TestWorkersShareAPrefix runs three queues on one prefix, as three worker
// processes would, two consumers each, while a producer adds events to the
// inbox with plain XADDs. Midway one worker dies holding an unacknowledged
// batch: its partitions are taken over after the lease TTL, its batch
// delivered again first. Every event is acknowledged exactly once, each
// record's in push order.
func TestWorkersShareAPrefix(t *testing.T) {
	t.Parallel()
	const (
		records = 60
		total   = 1800
	)
	client, prefix := redistest.Shared(t)
	cfg := redisstream.Config{Prefix: prefix, Partitions: 8, LeaseTTL: 400 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var (
		mu    sync.Mutex
		acked = map[string][]int{}
		count int
		wg    sync.WaitGroup
	)
	defer wg.Wait()
	defer cancel()
	dying := make(chan struct{})
	for w := range 3 {
		q := newQueue(t, client, cfg)
		for i := range 2 {
			c := newConsumer(t, q, fmt.Sprintf("w%d-%d", w, i))
			wg.Go(func() {
				for ctx.Err() == nil {
					b, err := c.Fetch(ctx, 25, 50*time.Millisecond)
					if err != nil {
						if ctx.Err() == nil && !(w == 0 && errors.Is(err, redisstream.ErrClosed)) {
							t.Errorf("Fetch: %v", err)
						}
						return
					}
					if b == nil {
						continue
					}
					if w == 0 {
						select {
						case <-dying:
							_ = q.Close() // its router stops too
							return        // without acknowledging b
						default:
						}
					}
					err = c.Ack(ctx, b, messageIDs(b.Messages))
					if errors.Is(err, queue.ErrLeaseLost) {
						continue
					}
					if err != nil {
						t.Errorf("Ack: %v", err)
						return
					}
					mu.Lock()
					for _, m := range b.Messages {
						rec, n := queuetest.Seq(t, queuetest.Decode(t, m))
						acked[rec] = append(acked[rec], n)
					}
					count += len(b.Messages)
					mu.Unlock()
				}
			})
		}
	}
	wg.Go(func() {
		next := make([]int, records)
		for i := range total {
			if i == total/2 {
				close(dying)
			}
			r := i % records
			ev := queuetest.Event(fmt.Sprintf("opp_%d#%d", r, next[r]), "acme", fmt.Sprintf("opp_%d", r))
			next[r]++
			if err := client.XAdd(ctx, &goredis.XAddArgs{Stream: prefix + ":inbox", Values: []any{"event", encode(t, ev)}}).Err(); err != nil {
				t.Errorf("XADD: %v", err)
				return
			}
		}
	})
	waitFor(t, 50*time.Second, "every event to be acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return count >= total
	})
	cancel()
	wg.Wait()
	if count != total {
		t.Errorf("%d acknowledged, want %d", count, total)
	}
	for rec, got := range acked {
		for i, n := range got {
			if n != i {
				t.Errorf("record %s acknowledged in order %v, want 0..%d once each", rec, got, total/records-1)
				break
			}
		}
	}
}

// TestReplayKeepsEnqueuedAt: a replayed event keeps the time it was first
// pushed, its default occurred_at.
func TestReplayKeepsEnqueuedAt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSetup(t, redisstream.Config{Partitions: 2})
	queuetest.Push(t, s.q, queuetest.Event("e1", "acme", "opp_1"))
	c := newConsumer(t, s.q, "c1")
	var b *queue.Batch
	waitFor(t, 5*time.Second, "a batch", func() bool {
		var err error
		b, err = c.Fetch(ctx, 10, 100*time.Millisecond)
		return err == nil && b != nil
	})
	first := b.Messages[0]
	time.Sleep(20 * time.Millisecond)
	if err := c.DeadLetter(ctx, b, first, "boom"); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	if n, err := s.q.Replay(ctx, nil); n != 1 || err != nil {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	again := consume(t, c, 1, 5*time.Second)[0]
	if !again.EnqueuedAt.Equal(first.EnqueuedAt) || again.ID == first.ID || string(again.Body) != string(first.Body) {
		t.Errorf("replayed message %s enqueued at %v, want a new message with the first's time %v and body", again.ID, again.EnqueuedAt, first.EnqueuedAt)
	}
}

// TestQuietPartitionIsNotStarved: a consumer does not read a partition
// again while nothing follows the tip its last read found, but a busy
// partition must not keep it from seeing the quiet one's new entry.
func TestQuietPartitionIsNotStarved(t *testing.T) {
	t.Parallel()
	const partitions = 4
	s := newSetup(t, redisstream.Config{Partitions: partitions})
	c := newConsumer(t, s.q, "c1")
	ctx := context.Background()
	// Take every partition and find them empty.
	if b, err := c.Fetch(ctx, 10, 200*time.Millisecond); err != nil || b != nil {
		t.Fatalf("Fetch on an empty queue = %v, %v", b, err)
	}
	busy, quiet := 0, 1
	evs := queuetest.Events("acme", "opp_busy", 40)
	next := 0
	push := func(p int, body string) {
		xadd(t, s.client, s.q.StreamKey(p), "event", body)
	}
	for range 3 {
		push(busy, encode(t, evs[next]))
		next++
	}
	// A first batch of the busy partition: the consumer now reads it on,
	// and no wait comes to say what else has new entries.
	b, err := c.Fetch(ctx, 1, time.Second)
	if err != nil || b == nil || b.Partition != busy {
		t.Fatalf("first Fetch = %+v, %v; want a batch of partition %d", b, err, busy)
	}
	if err := c.Ack(ctx, b, messageIDs(b.Messages)); err != nil {
		t.Fatal(err)
	}
	push(quiet, encode(t, queuetest.Events("acme", "opp_quiet", 1)[0]))
	for i := range 10 {
		b, err := c.Fetch(ctx, 1, time.Second)
		if err != nil || b == nil {
			t.Fatalf("Fetch %d = %v, %v", i, b, err)
		}
		if err := c.Ack(ctx, b, messageIDs(b.Messages)); err != nil {
			t.Fatal(err)
		}
		if b.Partition == quiet {
			return
		}
		push(busy, encode(t, evs[next])) // the busy partition never runs dry
		next++
	}
	t.Fatal("10 fetches never returned the quiet partition's entry")
}

// TestPushWaitsBehindTheInbox: Push adds to the partition streams directly
// only when the inbox is caught up; behind an entry the router has not
// routed yet, it goes to the inbox, so that the record's events keep the
// order of their pushes.
func TestPushWaitsBehindTheInbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSetup(t, redisstream.Config{Partitions: 4})
	evs := queuetest.Events("acme", "opp_1", 4)
	// No consumer yet, so no router: the first event waits in the inbox.
	xadd(t, s.client, s.q.InboxKey(), "event", encode(t, evs[0]))
	queuetest.Push(t, s.q, evs[1])
	if n := s.client.XLen(ctx, s.q.InboxKey()).Val(); n != 2 {
		t.Fatalf("inbox holds %d entries after a push behind an unrouted one, want 2", n)
	}
	c := newConsumer(t, s.q, "c1")
	got := consume(t, c, 2, 5*time.Second)
	// Caught up: the next pushes skip the inbox.
	waitFor(t, 5*time.Second, "the inbox to be trimmed", func() bool {
		return s.client.XLen(ctx, s.q.InboxKey()).Val() == 0
	})
	queuetest.Push(t, s.q, evs[2], evs[3])
	if n := s.client.XLen(ctx, s.q.InboxKey()).Val(); n != 0 {
		t.Errorf("inbox holds %d entries after a push with the inbox caught up, want 0", n)
	}
	got = append(got, consume(t, c, 2, 5*time.Second)...)
	if ids := eventIDs(t, got); !slices.Equal(ids, []string{"opp_1#0", "opp_1#1", "opp_1#2", "opp_1#3"}) {
		t.Errorf("consumed %v, want the events in push order", ids)
	}
}

// TestAckReadsTheNextBatch: the acknowledgement that ends a batch reads
// the partition's next batch in the same script (they are pending as soon
// as Ack returns), and the next Fetch returns it, in order.
func TestAckReadsTheNextBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSetup(t, redisstream.Config{Partitions: 1})
	evs := queuetest.Events("acme", "opp_1", 5)
	queuetest.Push(t, s.q, evs...)
	c := newConsumer(t, s.q, "c1")
	var got []queue.Message
	var b *queue.Batch
	waitFor(t, 5*time.Second, "a first batch", func() bool {
		var err error
		b, err = c.Fetch(ctx, 2, 100*time.Millisecond)
		return err == nil && b != nil
	})
	for len(got) < len(evs) {
		got = append(got, b.Messages...)
		if err := c.Ack(ctx, b, messageIDs(b.Messages)); err != nil {
			t.Fatal(err)
		}
		pending := s.client.XPending(ctx, s.q.StreamKey(0), redisstream.Group).Val().Count
		if want := int64(min(2, len(evs)-len(got))); pending != want {
			t.Errorf("after acknowledging %d of %d: %d pending, want %d read ahead", len(got), len(evs), pending, want)
		}
		if len(got) == len(evs) {
			break
		}
		var err error
		if b, err = c.Fetch(ctx, 2, time.Second); err != nil || b == nil {
			t.Fatalf("Fetch after %d = %v, %v", len(got), b, err)
		}
	}
	if ids := eventIDs(t, got); !slices.Equal(ids, []string{"opp_1#0", "opp_1#1", "opp_1#2", "opp_1#3", "opp_1#4"}) {
		t.Errorf("consumed %v, want the events in order", ids)
	}
	for _, m := range got {
		if m.Deliveries != 1 {
			t.Errorf("message %s delivered %d times, want 1", m.ID, m.Deliveries)
		}
	}
}
