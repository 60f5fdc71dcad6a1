package queuetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
)

// OpenFunc returns a new, empty queue with that many partitions and that
// lease TTL. It closes the queue when the test ends (t.Cleanup).
type OpenFunc = func(t *testing.T, partitions int, leaseTTL time.Duration) queue.Queue

// Run runs the suite. open returns a new, empty queue with that many
// partitions and that lease TTL.
//
// Subtests that measure time run one after the other; the others run in
// parallel (t.Parallel), each on its own queue.
func Run(t *testing.T, open func(t *testing.T, partitions int, leaseTTL time.Duration) queue.Queue) {
	tests := []struct {
		name string
		// timed tests measure durations and do not run in parallel.
		timed bool
		fn    func(t *testing.T, open OpenFunc)
	}{
		{"fetch with nothing to read returns nil after block", true, testFetchEmptyWaitsForBlock},
		{"fetch with zero block returns at once", true, testFetchZeroBlock},
		{"push wakes a blocked fetch", true, testPushWakesFetch},
		{"cancelling the context wakes a blocked fetch", true, testCancelWakesFetch},

		{"push then fetch and ack delivers in push order", false, testPushFetchAck},
		{"push lands a batch whole or not at all", false, testPushAllOrNone},
		{"events of one record keep push order across consumers", false, testPerRecordOrder},
		{"an abandoned batch is delivered again first", false, testAbandonedBatch},
		{"unacknowledged messages are handed back on close", false, testHandBackOnClose},
		{"a dead consumer's partition is taken over after the lease TTL", false, testTakeover},
		{"fence epochs grow on every change of hands", false, testEpochsGrow},
		{"partitions are rebalanced when a consumer joins", false, testRebalance},
		{"dead letters leave the partition and can be replayed or purged", false, testDeadLetters},
		{"stats count unacknowledged messages and show owners", false, testStats},
		{"events of one record go to the partition of queue.PartitionOf", false, testPartitioning},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.timed {
				t.Parallel()
			}
			tc.fn(t, open)
		})
	}
}

// Event returns a valid opportunity.updated event of the opportunity
// recordID of the account.
func Event(id, accountID, recordID string) *event.Event {
	return &event.Event{ID: id, Type: event.OpportunityUpdated, AccountID: accountID, OpportunityID: recordID}
}

// ContactEvent returns a valid contact.updated event of the contact
// recordID of the account.
func ContactEvent(id, accountID, recordID string) *event.Event {
	return &event.Event{ID: id, Type: event.ContactUpdated, AccountID: accountID, ContactID: recordID}
}

// Events returns n events of one opportunity, with ids "RECORD#0" to
// "RECORD#n-1" in that order (see Seq).
func Events(accountID, recordID string, n int) []*event.Event {
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = Event(fmt.Sprintf("%s#%d", recordID, i), accountID, recordID)
	}
	return evs
}

// Push encodes the events and pushes them in one call.
func Push(t testing.TB, q queue.Queue, evs ...*event.Event) {
	t.Helper()
	if err := q.Push(context.Background(), evs, Bodies(t, evs...)); err != nil {
		t.Fatalf("Push(%d events): %v", len(evs), err)
	}
}

// Bodies encodes the events with event.Encode.
func Bodies(t testing.TB, evs ...*event.Event) [][]byte {
	t.Helper()
	bodies := make([][]byte, len(evs))
	for i, ev := range evs {
		b, err := event.Encode(ev)
		if err != nil {
			t.Fatalf("encoding event %s: %v", ev.ID, err)
		}
		bodies[i] = b
	}
	return bodies
}

// Decode decodes a message's body, failing the test when it is not a valid
// event.
func Decode(t testing.TB, m queue.Message) *event.Event {
	t.Helper()
	ev, err := event.Decode(m.Body, m.EnqueuedAt)
	if err != nil {
		t.Fatalf("message %s: %v (body %s)", m.ID, err, m.Body)
	}
	return ev
}

// Seq returns the record and the sequence number of an event made by
// Events.
func Seq(t testing.TB, ev *event.Event) (string, int) {
	t.Helper()
	rec, n, err := parseSeq(ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	return rec, n
}

func parseSeq(id string) (string, int, error) {
	i := strings.LastIndexByte(id, '#')
	n, err := strconv.Atoi(id[i+1:])
	if i < 0 || err != nil {
		return "", 0, fmt.Errorf("event id %q was not made by Events", id)
	}
	return id[:i], n, nil
}

// newConsumer returns a consumer that is closed when the test ends.
func newConsumer(t *testing.T, q queue.Queue, id string) queue.Consumer {
	t.Helper()
	c, err := q.Consumer(context.Background(), id)
	if err != nil {
		t.Fatalf("Consumer(%q): %v", id, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx) // closing twice, or after a takeover, may fail
	})
	return c
}

// fetch fetches once and fails the test on an error.
func fetch(t *testing.T, c queue.Consumer, limit int, block time.Duration) *queue.Batch {
	t.Helper()
	b, err := c.Fetch(context.Background(), limit, block)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if b != nil {
		checkBatch(t, b, limit)
	}
	return b
}

// fetchWithin fetches until a batch comes, and fails the test when none
// came within timeout.
func fetchWithin(t *testing.T, c queue.Consumer, limit int, timeout time.Duration) *queue.Batch {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b := fetch(t, c, limit, min(100*time.Millisecond, time.Until(deadline))); b != nil {
			return b
		}
	}
	t.Fatalf("no batch within %v", timeout)
	return nil
}

// checkBatch checks what every batch must be.
func checkBatch(t *testing.T, b *queue.Batch, limit int) {
	t.Helper()
	switch {
	case len(b.Messages) == 0:
		t.Errorf("Fetch returned a batch without messages (partition %d); want nil", b.Partition)
	case len(b.Messages) > limit:
		t.Errorf("Fetch(max %d) returned %d messages", limit, len(b.Messages))
	}
	if b.Fence.Partition != b.Partition {
		t.Errorf("batch of partition %d has the fence of partition %d", b.Partition, b.Fence.Partition)
	}
	if b.Fence.Epoch < 1 {
		t.Errorf("batch of partition %d has fence epoch %d; want at least 1", b.Partition, b.Fence.Epoch)
	}
	for _, m := range b.Messages {
		if m.Deliveries < 1 {
			t.Errorf("message %s: Deliveries = %d, want at least 1", m.ID, m.Deliveries)
		}
	}
}

// ack acknowledges every message of b.
func ack(t *testing.T, c queue.Consumer, b *queue.Batch) {
	t.Helper()
	if err := c.Ack(context.Background(), b, ids(b)); err != nil {
		t.Fatalf("Ack: %v", err)
	}
}

func ids(b *queue.Batch) []string {
	ids := make([]string, len(b.Messages))
	for i, m := range b.Messages {
		ids[i] = m.ID
	}
	return ids
}

// eventIDs returns the event ids of the batch's messages, in order.
func eventIDs(t *testing.T, b *queue.Batch) []string {
	t.Helper()
	out := make([]string, len(b.Messages))
	for i, m := range b.Messages {
		out[i] = Decode(t, m).ID
	}
	return out
}

func evIDs(evs []*event.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

// lags returns the lag of each partition, checking that Stats describes
// each partition once.
func lags(t *testing.T, q queue.Queue) ([]int64, []string) {
	t.Helper()
	st, err := q.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	lag := make([]int64, q.Partitions())
	owner := make([]string, q.Partitions())
	seen := make([]bool, q.Partitions())
	for _, s := range st {
		if s.Partition < 0 || s.Partition >= q.Partitions() || seen[s.Partition] {
			t.Fatalf("Stats: partition %d out of range or twice: %+v", s.Partition, st)
		}
		seen[s.Partition] = true
		lag[s.Partition], owner[s.Partition] = s.Lag, s.Owner
	}
	if len(st) != q.Partitions() {
		t.Fatalf("Stats described %d partitions, want %d", len(st), q.Partitions())
	}
	return lag, owner
}

func sum(xs []int64) int64 {
	var n int64
	for _, x := range xs {
		n += x
	}
	return n
}

// isCtxErr reports whether err is nil or the error of a cancelled context.
func isCtxErr(err error) bool {
	return err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
