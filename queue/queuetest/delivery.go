package queuetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
)

// clockSlack allows for a backend whose times come from a server's clock.
const clockSlack = 5 * time.Second

func testPushFetchAck(t *testing.T, open OpenFunc) {
	q := open(t, 4, 10*time.Second)
	evs := Events("acme", "opp_1", 10)
	bodies := Bodies(t, evs...)
	before := time.Now()
	if err := q.Push(context.Background(), evs, bodies); err != nil {
		t.Fatalf("Push: %v", err)
	}
	after := time.Now()
	c := newConsumer(t, q, "c1")

	seen := map[string]bool{}
	var got []string
	for len(got) < len(evs) {
		b := fetchWithin(t, c, 3, 5*time.Second)
		if want := queue.PartitionOf(evs[0], 4); b.Partition != want {
			t.Fatalf("batch of partition %d, want %d (queue.PartitionOf)", b.Partition, want)
		}
		for _, m := range b.Messages {
			i := len(got)
			if !bytes.Equal(m.Body, bodies[i]) {
				t.Errorf("message %d: body %s, want %s", i, m.Body, bodies[i])
			}
			if m.Deliveries != 1 {
				t.Errorf("message %d: Deliveries = %d on first delivery, want 1", i, m.Deliveries)
			}
			if m.EnqueuedAt.Before(before.Add(-clockSlack)) || m.EnqueuedAt.After(after.Add(clockSlack)) {
				t.Errorf("message %d: EnqueuedAt = %v, want about %v", i, m.EnqueuedAt, before)
			}
			if m.ID == "" || seen[m.ID] {
				t.Errorf("message %d: ID %q empty or not unique", i, m.ID)
			}
			seen[m.ID] = true
			got = append(got, Decode(t, m).ID)
		}
		ack(t, c, b)
	}
	if want := evIDs(evs); !slices.Equal(got, want) {
		t.Errorf("delivered %v, want push order %v", got, want)
	}
	if b := fetch(t, c, 10, 100*time.Millisecond); b != nil {
		t.Errorf("acknowledged messages came back: %v", eventIDs(t, b))
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	c2 := newConsumer(t, q, "c2")
	if b := fetch(t, c2, 10, 300*time.Millisecond); b != nil {
		t.Errorf("acknowledged messages came back to a new consumer: %v", eventIDs(t, b))
	}
}

func testPushAllOrNone(t *testing.T, open OpenFunc) {
	q := open(t, 4, 10*time.Second)
	ctx := context.Background()

	var evs []*event.Event
	for i := range 60 {
		evs = append(evs, Event(fmt.Sprintf("e%d", i), "acme", fmt.Sprintf("opp_%d", i%20)))
	}
	if err := q.Push(ctx, evs, Bodies(t, evs...)); err != nil {
		t.Fatalf("Push: %v", err)
	}
	lag, _ := lags(t, q)
	if sum(lag) != 60 {
		t.Fatalf("after pushing 60 events, lag %v sums to %d", lag, sum(lag))
	}

	// A batch whose bodies do not match its events is refused whole.
	bad := []*event.Event{Event("x1", "acme", "opp_1"), Event("x2", "acme", "opp_2")}
	if err := q.Push(ctx, bad, Bodies(t, bad[0])); err == nil {
		t.Errorf("Push of 2 events with 1 body succeeded")
	}
	if lag, _ := lags(t, q); sum(lag) != 60 {
		t.Errorf("a refused push changed the lag to %v", lag)
	}

	c := newConsumer(t, q, "c1")
	got := map[string]int{}
	for n := 0; n < 60; {
		b := fetchWithin(t, c, 25, 5*time.Second)
		for _, id := range eventIDs(t, b) {
			got[id]++
		}
		n += len(b.Messages)
		ack(t, c, b)
	}
	for _, ev := range evs {
		if got[ev.ID] != 1 {
			t.Errorf("event %s delivered %d times, want 1", ev.ID, got[ev.ID])
		}
	}
	if len(got) != 60 {
		t.Errorf("delivered %d distinct events, want 60", len(got))
	}
}

// testPerRecordOrder runs 4 consumers while batches are pushed; with no
// crash, every event is seen once and each record's in push order.
func testPerRecordOrder(t *testing.T, open OpenFunc) {
	const (
		records   = 50
		total     = 2000
		batchSize = 100
		consumers = 4
	)
	q := open(t, 16, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cs := make([]queue.Consumer, consumers)
	for i := range cs {
		cs[i] = newConsumer(t, q, fmt.Sprintf("c%d", i))
	}

	var (
		mu    sync.Mutex
		seen  = map[string][]int{} // record -> sequence numbers, as delivered
		count atomic.Int64
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		next := map[string]int{}
		for start := 0; start < total; start += batchSize {
			evs := make([]*event.Event, 0, batchSize)
			for i := start; i < start+batchSize; i++ {
				acct, rec := "acme", fmt.Sprintf("opp_%d", i%records)
				if i%records%3 == 0 {
					acct = "globex"
				}
				evs = append(evs, Event(fmt.Sprintf("%s/%s#%d", acct, rec, next[rec]), acct, rec))
				next[rec]++
			}
			bodies := make([][]byte, len(evs))
			for i, ev := range evs {
				bodies[i], _ = event.Encode(ev)
			}
			if err := q.Push(ctx, evs, bodies); err != nil {
				t.Errorf("Push: %v", err)
				return
			}
		}
	})
	for _, c := range cs {
		wg.Go(func() {
			for count.Load() < total && ctx.Err() == nil {
				b, err := c.Fetch(ctx, 37, 50*time.Millisecond)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("Fetch: %v", err)
					}
					return
				}
				if b == nil {
					continue
				}
				mu.Lock()
				for _, m := range b.Messages {
					ev, err := event.Decode(m.Body, m.EnqueuedAt)
					if err != nil {
						t.Errorf("message %s: %v", m.ID, err)
						continue
					}
					rec, n, err := parseSeq(ev.ID)
					if err != nil {
						t.Error(err)
						continue
					}
					seen[rec] = append(seen[rec], n)
				}
				mu.Unlock()
				if err := c.Ack(ctx, b, ids(b)); err != nil {
					t.Errorf("Ack: %v", err)
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
	if len(seen) != records {
		t.Errorf("saw events of %d records, want %d", len(seen), records)
	}
	for rec, got := range seen {
		for i, n := range got {
			if n != i {
				t.Errorf("record %s: events delivered in order %v, want 0..%d each once", rec, got, total/records-1)
				break
			}
		}
		if len(got) != total/records {
			t.Errorf("record %s: %d events delivered, want %d", rec, len(got), total/records)
		}
	}
}

// testAbandonedBatch: a batch not acknowledged (the worker gave up on it)
// is delivered again, before anything newer of its partition.
func testAbandonedBatch(t *testing.T, open OpenFunc) {
	q := open(t, 2, 10*time.Second)
	evs := Events("acme", "opp_1", 5)
	Push(t, q, evs...)
	c := newConsumer(t, q, "c1")

	b1 := fetchWithin(t, c, 3, 5*time.Second)
	if got, want := eventIDs(t, b1), evIDs(evs[:3]); !slices.Equal(got, want) {
		t.Fatalf("first batch %v, want %v", got, want)
	}
	b2 := fetchWithin(t, c, 10, 5*time.Second)
	if got, want := eventIDs(t, b2), evIDs(evs); !slices.Equal(got, want) {
		t.Fatalf("after an abandoned batch, got %v, want %v", got, want)
	}
	for i, m := range b2.Messages {
		want := 1
		if i < 3 {
			want = 2
			if m.ID != b1.Messages[i].ID {
				t.Errorf("message %d: ID %s, was %s", i, m.ID, b1.Messages[i].ID)
			}
		}
		if m.Deliveries != want {
			t.Errorf("message %d: Deliveries = %d, want %d", i, m.Deliveries, want)
		}
	}
	// Acknowledging part of a batch leaves the rest pending, in order.
	if err := c.Ack(context.Background(), b2, ids(b2)[:2]); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	b3 := fetchWithin(t, c, 10, 5*time.Second)
	if got, want := eventIDs(t, b3), evIDs(evs[2:]); !slices.Equal(got, want) {
		t.Errorf("after acknowledging 2, got %v, want %v", got, want)
	}
}

func testHandBackOnClose(t *testing.T, open OpenFunc) {
	q := open(t, 4, 10*time.Second)
	evs := Events("acme", "opp_1", 8)
	Push(t, q, evs[:5]...)
	a := newConsumer(t, q, "a")
	ba := fetchWithin(t, a, 10, 5*time.Second)
	if got, want := eventIDs(t, ba), evIDs(evs[:5]); !slices.Equal(got, want) {
		t.Fatalf("a got %v, want %v", got, want)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	Push(t, q, evs[5:]...)

	b := newConsumer(t, q, "b")
	var got []queue.Message
	var first *queue.Batch
	for len(got) < len(evs) {
		bb := fetchWithin(t, b, 10, 5*time.Second)
		if first == nil {
			first = bb
		}
		got = append(got, bb.Messages...)
		ack(t, b, bb)
	}
	if first.Fence.Epoch <= ba.Fence.Epoch {
		t.Errorf("b's fence epoch %d is not greater than a's %d", first.Fence.Epoch, ba.Fence.Epoch)
	}
	var gotIDs []string
	for i, m := range got {
		gotIDs = append(gotIDs, Decode(t, m).ID)
		want := 1
		if i < 5 {
			want = 2
			if m.ID != ba.Messages[i].ID {
				t.Errorf("message %d: ID %s, was %s for a", i, m.ID, ba.Messages[i].ID)
			}
		}
		if m.Deliveries != want {
			t.Errorf("message %d: Deliveries = %d, want %d", i, m.Deliveries, want)
		}
	}
	if want := evIDs(evs); !slices.Equal(gotIDs, want) {
		t.Errorf("b got %v, want %v (a's unacknowledged first)", gotIDs, want)
	}
}

// holdAll makes c hold q's partitions: it fetches until c owns them all.
func holdAll(t *testing.T, q queue.Queue, c queue.Consumer, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b := fetch(t, c, 100, 50*time.Millisecond); b != nil {
			ack(t, c, b)
		}
		_, owners := lags(t, q)
		if !slices.ContainsFunc(owners, func(o string) bool { return o != id }) {
			return
		}
	}
	t.Fatalf("consumer %s alone does not hold every partition after 5s", id)
}

func testFetchEmptyWaitsForBlock(t *testing.T, open OpenFunc) {
	q := open(t, 4, 10*time.Second)
	c := newConsumer(t, q, "c1")
	holdAll(t, q, c, "c1")
	for _, block := range []time.Duration{200 * time.Millisecond, 600 * time.Millisecond} {
		start := time.Now()
		b := fetch(t, c, 10, block)
		took := time.Since(start)
		if b != nil {
			t.Fatalf("Fetch on an empty queue returned %d messages", len(b.Messages))
		}
		if took < block*8/10 || took > block+700*time.Millisecond {
			t.Errorf("Fetch(block %v) on an empty queue returned nil after %v", block, took)
		}
	}
}

func testFetchZeroBlock(t *testing.T, open OpenFunc) {
	q := open(t, 4, 10*time.Second)
	c := newConsumer(t, q, "c1")
	holdAll(t, q, c, "c1")
	start := time.Now()
	if b := fetch(t, c, 10, 0); b != nil {
		t.Fatalf("Fetch on an empty queue returned %d messages", len(b.Messages))
	}
	if took := time.Since(start); took > 300*time.Millisecond {
		t.Errorf("Fetch(block 0) on an empty queue took %v", took)
	}
	Push(t, q, Event("e1", "acme", "opp_1"))
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if b := fetch(t, c, 10, 0); b != nil {
			return
		}
	}
	t.Errorf("Fetch(block 0) never returned the pushed message")
}

func testPushWakesFetch(t *testing.T, open OpenFunc) {
	q := open(t, 4, 10*time.Second)
	c := newConsumer(t, q, "c1")
	holdAll(t, q, c, "c1")
	type result struct {
		b   *queue.Batch
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		b, err := c.Fetch(context.Background(), 10, 10*time.Second)
		done <- result{b, err, time.Now()}
	}()
	time.Sleep(150 * time.Millisecond)
	pushed := time.Now()
	Push(t, q, Event("e1", "acme", "opp_1"))
	select {
	case r := <-done:
		if r.err != nil || r.b == nil {
			t.Fatalf("blocked Fetch returned %v, %v; want the pushed message", r.b, r.err)
		}
		if took := r.at.Sub(pushed); took > time.Second {
			t.Errorf("blocked Fetch returned %v after the push", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("blocked Fetch did not return 5s after a push")
	}
}

func testCancelWakesFetch(t *testing.T, open OpenFunc) {
	q := open(t, 4, 10*time.Second)
	c := newConsumer(t, q, "c1")
	holdAll(t, q, c, "c1")
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		b   *queue.Batch
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		b, err := c.Fetch(ctx, 10, 30*time.Second)
		done <- result{b, err, time.Now()}
	}()
	time.Sleep(150 * time.Millisecond)
	cancelled := time.Now()
	cancel()
	select {
	case r := <-done:
		if r.b != nil || !isCtxErr(r.err) {
			t.Errorf("cancelled Fetch returned %v, %v; want nil and nil or the context's error", r.b, r.err)
		}
		if took := r.at.Sub(cancelled); took > time.Second {
			t.Errorf("cancelled Fetch returned %v after the cancel", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("blocked Fetch did not return 5s after its context was cancelled")
	}
}
