package sqlitequeue_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/queue/queuetest"
	"github.com/followflow/followflow/queue/sqlitequeue"
	"github.com/followflow/followflow/store/sqlite"
)

// openDB opens the database file at path as a process of its own would:
// WAL, a busy timeout, and BEGIN left DEFERRED (the queue must not rely on
// IMMEDIATE).
func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newQueue returns a queue on db, closed when the test ends.
func newQueue(t testing.TB, db *sql.DB, cfg sqlitequeue.Config) *sqlitequeue.Queue {
	t.Helper()
	q, err := sqlitequeue.New(context.Background(), db, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return q
}

func dbPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "followflow.db")
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, partitions int, leaseTTL time.Duration) queue.Queue {
		return newQueue(t, openDB(t, dbPath(t)), sqlitequeue.Config{Partitions: partitions, LeaseTTL: leaseTTL})
	})
}

// TestConformanceWithStore runs the suite on the store's database, with the
// store's write transactions, as followflow does.
func TestConformanceWithStore(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, partitions int, leaseTTL time.Duration) queue.Queue {
		st, err := sqlite.Open(context.Background(), dbPath(t), sqlite.Config{})
		if err != nil {
			t.Fatalf("opening the store: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return newQueue(t, st.DB(), sqlitequeue.Config{Partitions: partitions, LeaseTTL: leaseTTL, WriteTx: st.WithTx})
	})
}

// twoProcesses is one queue seen through two handles on one file, as two
// processes see it: pushes and consumers alternate between the handles, so
// every lease, takeover and wake-up of the suite crosses them.
type twoProcesses struct {
	*sqlitequeue.Queue // the first handle serves the rest
	other              *sqlitequeue.Queue
	pushes, consumers  atomic.Int64
}

func (w *twoProcesses) pick(n *atomic.Int64) *sqlitequeue.Queue {
	if n.Add(1)%2 == 0 {
		return w.other
	}
	return w.Queue
}

func (w *twoProcesses) Push(ctx context.Context, evs []*event.Event, bodies [][]byte) error {
	return w.pick(&w.pushes).Push(ctx, evs, bodies)
}

func (w *twoProcesses) Consumer(ctx context.Context, id string) (queue.Consumer, error) {
	return w.pick(&w.consumers).Consumer(ctx, id)
}

func TestConformanceTwoProcesses(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, partitions int, leaseTTL time.Duration) queue.Queue {
		path := dbPath(t)
		cfg := sqlitequeue.Config{Partitions: partitions, LeaseTTL: leaseTTL}
		return &twoProcesses{Queue: newQueue(t, openDB(t, path), cfg), other: newQueue(t, openDB(t, path), cfg)}
	})
}

// TestTwoHandlesShareLeases: consumers of two handles on one file (two
// processes) split the partitions and never read one message at the same
// time: with no crash, each message is delivered once, and each record's in
// push order.
func TestTwoHandlesShareLeases(t *testing.T) {
	const (
		partitions = 8
		records    = 40
		total      = 1200
	)
	path := dbPath(t)
	cfg := sqlitequeue.Config{Partitions: partitions, LeaseTTL: 10 * time.Second}
	handles := []*sqlitequeue.Queue{newQueue(t, openDB(t, path), cfg), newQueue(t, openDB(t, path), cfg)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var (
		mu         sync.Mutex
		seen       = map[string][]int{}        // record -> sequence numbers delivered
		byConsumer = map[string]map[int]bool{} // consumer -> partitions read
		count      atomic.Int64
		pushed     atomic.Int64 // batches pushed
		wg         sync.WaitGroup
	)
	var consumers []queue.Consumer
	var names []string
	for h, q := range handles {
		for i := range 2 {
			id := fmt.Sprintf("p%d-c%d", h, i)
			c, err := q.Consumer(ctx, id)
			if err != nil {
				t.Fatalf("Consumer: %v", err)
			}
			defer c.Close(context.Background())
			consumers = append(consumers, c)
			names = append(names, id)
		}
	}
	// Batches of 50 events; each record's events go in order across them.
	type batch struct {
		evs    []*event.Event
		bodies [][]byte
	}
	batches := make([]batch, total/50)
	for k := range batches {
		evs := make([]*event.Event, 50)
		for i := range evs {
			n := k*50 + i
			rec := fmt.Sprintf("opp_%d", n%records)
			evs[i] = queuetest.Event(fmt.Sprintf("%s#%d", rec, n/records), "acme", rec)
		}
		batches[k] = batch{evs, queuetest.Bodies(t, evs...)}
	}
	for h, q := range handles { // the processes push every other batch
		wg.Go(func() {
			for k := h; k < len(batches); k += 2 {
				// Batch k goes only after batch k-1, for the records' order.
				for pushed.Load() < int64(k) && ctx.Err() == nil {
					time.Sleep(time.Millisecond)
				}
				if err := q.Push(ctx, batches[k].evs, batches[k].bodies); err != nil {
					t.Errorf("Push: %v", err)
					return
				}
				pushed.Add(1)
			}
		})
	}
	for i, c := range consumers {
		wg.Go(func() {
			for count.Load() < total && ctx.Err() == nil {
				b, err := c.Fetch(ctx, 25, 50*time.Millisecond)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("%s: Fetch: %v", names[i], err)
					}
					return
				}
				if b == nil {
					continue
				}
				mu.Lock()
				if byConsumer[names[i]] == nil {
					byConsumer[names[i]] = map[int]bool{}
				}
				byConsumer[names[i]][b.Partition] = true
				for _, m := range b.Messages {
					ev, err := event.Decode(m.Body, m.EnqueuedAt)
					if err != nil {
						t.Errorf("message %s: %v", m.ID, err)
						continue
					}
					rec, n, _ := strings.Cut(ev.ID, "#")
					seq, err := strconv.Atoi(n)
					if err != nil {
						t.Errorf("event id %q: %v", ev.ID, err)
					}
					seen[rec] = append(seen[rec], seq)
				}
				mu.Unlock()
				if err := c.Ack(ctx, b, ackIDs(b)); err != nil {
					t.Errorf("%s: Ack: %v", names[i], err)
					return
				}
				count.Add(int64(len(b.Messages)))
			}
		})
	}
	wg.Wait()
	if n := count.Load(); n != total {
		t.Fatalf("consumers saw %d messages, want %d", n, total)
	}
	for rec, got := range seen {
		for i, n := range got {
			if n != i {
				t.Errorf("record %s: delivered %v, want 0..%d each once, in order", rec, got, total/records-1)
				break
			}
		}
	}
	// Partitions are split: each consumer read some, and no partition was
	// read by consumers of both processes (leases do not move without a
	// failure or a change of membership after the start).
	owner := map[int]string{}
	for id, ps := range byConsumer {
		for p := range ps {
			if o, ok := owner[p]; ok && o != id {
				t.Errorf("partition %d read by %s and %s", p, o, id)
			}
			owner[p] = id
		}
	}
	for _, id := range names {
		if len(byConsumer[id]) == 0 {
			t.Errorf("consumer %s read no partition; read: %v", id, byConsumer)
		}
	}
}

func ackIDs(b *queue.Batch) []string {
	ids := make([]string, len(b.Messages))
	for i, m := range b.Messages {
		ids[i] = m.ID
	}
	return ids
}

// TestPushWakesConsumersOfTheSameQueue: a push through a *Queue wakes its
// blocked consumers at once, without waiting for a poll.
func TestPushWakesConsumersOfTheSameQueue(t *testing.T) {
	ctx := context.Background()
	q := newQueue(t, openDB(t, dbPath(t)), sqlitequeue.Config{Partitions: 2, PollInterval: time.Minute})
	c, err := q.Consumer(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if b, err := c.Fetch(ctx, 10, 0); b != nil || err != nil { // takes the leases
		t.Fatalf("Fetch on an empty queue: %v, %v", b, err)
	}
	evs := []*event.Event{queuetest.Event("e1", "acme", "opp_1")}
	bodies := queuetest.Bodies(t, evs...)
	go func() {
		time.Sleep(100 * time.Millisecond)
		if err := q.Push(ctx, evs, bodies); err != nil {
			t.Errorf("Push: %v", err)
		}
	}()
	start := time.Now()
	b, err := c.Fetch(ctx, 10, 10*time.Second)
	if err != nil || b == nil {
		t.Fatalf("Fetch: %v, %v", b, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("a push woke the blocked Fetch after %v", took)
	}
}

// TestIdlePollingBacksOff: a blocked Fetch that keeps finding nothing
// looks for other processes' messages less and less often, up to
// MaxPollInterval, and still finds a message another handle pushes then;
// a batch read brings the polls back to PollInterval.
func TestIdlePollingBacksOff(t *testing.T) {
	const fast, slow = 2 * time.Millisecond, 64 * time.Millisecond
	ctx := context.Background()
	path := dbPath(t)
	cfg := sqlitequeue.Config{Partitions: 2, PollInterval: fast, MaxPollInterval: slow}
	q, other := newQueue(t, openDB(t, path), cfg), newQueue(t, openDB(t, path), cfg)
	c, err := q.Consumer(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if got := sqlitequeue.PollOf(c); got != fast {
		t.Fatalf("a new consumer polls every %v, want %v", got, fast)
	}
	// fast+2fast+...+slow is under 2*slow: a wait of 4*slow reaches slow.
	if b, err := c.Fetch(ctx, 10, 4*slow); b != nil || err != nil {
		t.Fatalf("Fetch on an empty queue: %v, %v", b, err)
	}
	if got := sqlitequeue.PollOf(c); got != slow {
		t.Fatalf("after an idle Fetch the consumer polls every %v, want %v", got, slow)
	}

	evs := []*event.Event{queuetest.Event("e1", "acme", "opp_1")}
	go func() {
		time.Sleep(slow / 2)
		if err := other.Push(ctx, evs, queuetest.Bodies(t, evs...)); err != nil {
			t.Errorf("Push: %v", err)
		}
	}()
	b, err := c.Fetch(ctx, 10, 10*time.Second)
	if err != nil || b == nil || len(b.Messages) != 1 {
		t.Fatalf("Fetch of a message pushed by another handle: %v, %v", b, err)
	}
	if got := sqlitequeue.PollOf(c); got != fast {
		t.Errorf("after a batch the consumer polls every %v, want %v", got, fast)
	}
}

// TestTakeoverAfterSeeingEmptyPartitions: a consumer that found its own
// partitions empty still reads the messages of a partition it then takes
// over, though nothing new was pushed.
func TestTakeoverAfterSeeingEmptyPartitions(t *testing.T) {
	const ttl = 300 * time.Millisecond
	ctx := context.Background()
	q := newQueue(t, openDB(t, dbPath(t)), sqlitequeue.Config{Partitions: 2, LeaseTTL: ttl})
	a, err := q.Consumer(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.Consumer(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	// Two live consumers: a takes partition 0, b partition 1.
	if _, err := a.Fetch(ctx, 10, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Fetch(ctx, 10, 0); err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	for i := 0; len(evs) < 3; i++ {
		if ev := queuetest.Event(fmt.Sprintf("e%d", i), "acme", fmt.Sprintf("opp_%d", i)); queue.PartitionOf(ev, 2) == 0 {
			evs = append(evs, ev)
		}
	}
	queuetest.Push(t, q, evs...)
	ba, err := a.Fetch(ctx, 10, time.Second)
	if err != nil || ba == nil || ba.Partition != 0 {
		t.Fatalf("a's Fetch: %+v, %v; want partition 0", ba, err)
	}
	// a dies; b, which has seen its partition empty, takes partition 0 over.
	deadline := time.Now().Add(10 * ttl)
	for time.Now().Before(deadline) {
		bb, err := b.Fetch(ctx, 10, 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if bb != nil {
			if bb.Partition != 0 || len(bb.Messages) != 3 {
				t.Errorf("b got %+v, want a's 3 messages of partition 0", bb)
			}
			return
		}
	}
	t.Fatalf("b did not read a's messages within %v", 10*ttl)
}
