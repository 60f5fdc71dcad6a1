package queuetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
)

// testTakeover: a consumer that stops (no Close, no more calls) keeps its
// partition for the lease TTL; then another takes it over, gets the
// unacknowledged messages first with a greater epoch, and the dead
// consumer's late Ack and DeadLetter fail with ErrLeaseLost.
func testTakeover(t *testing.T, open OpenFunc) {
	const ttl = 300 * time.Millisecond
	ctx := context.Background()
	q := open(t, 2, ttl)
	evs := Events("acme", "opp_1", 4)
	Push(t, q, evs...)

	a := newConsumer(t, q, "a")
	var ba *queue.Batch
	var fetched time.Time
	for deadline := time.Now().Add(5 * time.Second); ba == nil && time.Now().Before(deadline); {
		fetched = time.Now()
		ba = fetch(t, a, 10, 100*time.Millisecond)
	}
	if ba == nil {
		t.Fatalf("a got no batch")
	}
	// a dies here. Once its lease has expired, nobody holds the partition.
	time.Sleep(time.Until(fetched.Add(ttl + 100*time.Millisecond)))
	if _, owners := lags(t, q); owners[ba.Partition] != "" {
		t.Errorf("partition %d: owner %q after its lease expired, want none", ba.Partition, owners[ba.Partition])
	}

	b := newConsumer(t, q, "b")
	bb := fetchWithin(t, b, 10, 10*ttl+5*time.Second)
	if took := time.Since(fetched); took < ttl-20*time.Millisecond {
		t.Errorf("b took the partition over %v after a fetched, before the lease TTL %v", took, ttl)
	}
	if bb.Partition != ba.Partition {
		t.Fatalf("b got partition %d, a held %d", bb.Partition, ba.Partition)
	}
	if got, want := eventIDs(t, bb), evIDs(evs); !slices.Equal(got, want) {
		t.Errorf("b got %v, want a's unacknowledged %v", got, want)
	}
	for i, m := range bb.Messages {
		if m.ID != ba.Messages[i].ID || m.Deliveries != 2 {
			t.Errorf("message %d: ID %s, Deliveries %d; want ID %s, Deliveries 2", i, m.ID, m.Deliveries, ba.Messages[i].ID)
		}
	}
	if bb.Fence.Epoch <= ba.Fence.Epoch {
		t.Errorf("b's fence epoch %d is not greater than a's %d", bb.Fence.Epoch, ba.Fence.Epoch)
	}

	// a wakes up too late.
	if err := a.Ack(ctx, ba, ids(ba)); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("a's Ack after the takeover: %v, want ErrLeaseLost", err)
	}
	if err := a.DeadLetter(ctx, ba, ba.Messages[0], "late"); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("a's DeadLetter after the takeover: %v, want ErrLeaseLost", err)
	}
	if dls, err := q.DeadLetters(ctx, 0); err != nil || len(dls) != 0 {
		t.Errorf("DeadLetters after a refused DeadLetter: %v, %v; want none", dls, err)
	}
	if lag, _ := lags(t, q); sum(lag) != int64(len(evs)) {
		t.Errorf("lag %v after a's refused Ack, want %d", lag, len(evs))
	}
	ack(t, b, bb)
	if lag, _ := lags(t, q); sum(lag) != 0 {
		t.Errorf("lag %v after b's Ack, want 0", lag)
	}
}

// testEpochsGrow hands one partition from consumer to consumer, by Close
// and by lease expiry, and checks that every new holder has a greater
// epoch and a holder keeps its epoch.
func testEpochsGrow(t *testing.T, open OpenFunc) {
	const ttl = 300 * time.Millisecond
	q := open(t, 1, ttl)
	Push(t, q, Event("e1", "acme", "opp_1")) // never acknowledged

	var last int64
	for i, handOver := range []string{"close", "expire", "close", "close", "expire", "close"} {
		c := newConsumer(t, q, fmt.Sprintf("c%d", i))
		b := fetchWithin(t, c, 1, 10*ttl+5*time.Second)
		if b.Fence.Epoch <= last {
			t.Errorf("holder %d has epoch %d, not greater than the previous %d", i, b.Fence.Epoch, last)
		}
		if again := fetchWithin(t, c, 1, 5*time.Second); again.Fence.Epoch != b.Fence.Epoch {
			t.Errorf("holder %d: epoch changed from %d to %d without a change of hands", i, b.Fence.Epoch, again.Fence.Epoch)
		}
		last = b.Fence.Epoch
		if handOver == "close" {
			if err := c.Close(context.Background()); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
	}
}

// testRebalance: a alone holds every partition; b joins; while both fetch,
// each comes to hold some partitions, and no (partition, epoch) is ever
// read by both.
func testRebalance(t *testing.T, open OpenFunc) {
	const (
		ttl        = 300 * time.Millisecond
		partitions = 8
	)
	q := open(t, partitions, ttl)
	// One record per partition, so that every partition gets messages.
	recs := make([]string, partitions)
	for i, found := 0, 0; found < partitions; i++ {
		rec := fmt.Sprintf("opp_%d", i)
		if p := queue.Partition("acme", rec, partitions); recs[p] == "" {
			recs[p] = rec
			found++
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type read struct {
		consumer string
		at       time.Time
	}
	var (
		mu     sync.Mutex
		reads  = map[[2]int64]read{} // (partition, epoch) -> first reader
		counts = map[string]map[int]int{}
		wg     sync.WaitGroup
	)
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { // pusher
		for n := 0; ctx.Err() == nil; n++ {
			evs := make([]*event.Event, partitions)
			for p, rec := range recs {
				evs[p] = Event(fmt.Sprintf("%s#%d", rec, n), "acme", rec)
			}
			bodies := make([][]byte, len(evs))
			for i, ev := range evs {
				bodies[i], _ = event.Encode(ev)
			}
			if err := q.Push(ctx, evs, bodies); err != nil && ctx.Err() == nil {
				t.Errorf("Push: %v", err)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	consume := func(id string, c queue.Consumer) {
		for ctx.Err() == nil {
			b, err := c.Fetch(ctx, 5, 20*time.Millisecond)
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("%s: Fetch: %v", id, err)
				}
				return
			}
			if b == nil {
				continue
			}
			key := [2]int64{int64(b.Partition), b.Fence.Epoch}
			mu.Lock()
			if r, ok := reads[key]; ok && r.consumer != id {
				t.Errorf("partition %d epoch %d read by %s at %v and by %s at %v",
					b.Partition, b.Fence.Epoch, r.consumer, r.at.Format(time.StampMicro), id, time.Now().Format(time.StampMicro))
			} else if !ok {
				reads[key] = read{id, time.Now()}
			}
			if counts[id] == nil {
				counts[id] = map[int]int{}
			}
			counts[id][b.Partition]++
			mu.Unlock()
			if err := c.Ack(ctx, b, ids(b)); err != nil && !errors.Is(err, queue.ErrLeaseLost) && ctx.Err() == nil {
				t.Errorf("%s: Ack: %v", id, err)
				return
			}
		}
	}

	a := newConsumer(t, q, "a")
	wg.Go(func() { consume("a", a) })
	waitOwners(t, q, 5*time.Second, func(owners []string) bool {
		return !slices.ContainsFunc(owners, func(o string) bool { return o != "a" })
	}, "a alone to hold every partition")

	b := newConsumer(t, q, "b")
	joined := time.Now()
	wg.Go(func() { consume("b", b) })
	waitOwners(t, q, 10*ttl+5*time.Second, func(owners []string) bool {
		return slices.Contains(owners, "a") && slices.Contains(owners, "b")
	}, "a and b each to hold partitions")
	t.Logf("rebalanced %v after b joined", time.Since(joined).Round(time.Millisecond))
	// Keep both going for a few lease periods more.
	time.Sleep(3 * ttl)
	cancel()
	wg.Wait()

	_, owners := lags(t, q)
	mu.Lock()
	defer mu.Unlock()
	if len(counts["b"]) == 0 {
		t.Errorf("b never read a batch; owners %v", owners)
	}
	t.Logf("batches read per partition: a %v, b %v; owners %v", counts["a"], counts["b"], owners)
}

// waitOwners polls Stats until ok(owners) or fails the test after timeout.
func waitOwners(t *testing.T, q queue.Queue, timeout time.Duration, ok func(owners []string) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var owners []string
	for time.Now().Before(deadline) {
		_, owners = lags(t, q)
		if ok(owners) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("waited %v for %s; owners %q", timeout, what, owners)
}
