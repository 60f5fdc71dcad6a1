package sqlitequeue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue/queuetest"
	"github.com/followflow/followflow/queue/sqlitequeue"
	"github.com/followflow/followflow/store/sqlite"
)

// benchQueue returns a queue on a store's database, wired as followflow
// wires it.
func benchQueue(b *testing.B) *sqlitequeue.Queue {
	b.Helper()
	st, err := sqlite.Open(context.Background(), dbPath(b), sqlite.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return newQueue(b, st.DB(), sqlitequeue.Config{WriteTx: st.WithTx})
}

// benchEvents returns n events over 1,000 records, and their bodies.
func benchEvents(b *testing.B, n int) ([]*event.Event, [][]byte) {
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = queuetest.Event(fmt.Sprintf("e%d", i), "acme", fmt.Sprintf("opp_%d", i%1000))
	}
	return evs, queuetest.Bodies(b, evs...)
}

// BenchmarkPush pushes batches of events; ns/op is per event.
func BenchmarkPush(b *testing.B) {
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			q := benchQueue(b)
			evs, bodies := benchEvents(b, size)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i += len(evs) {
				if err := q.Push(ctx, evs, bodies); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFetchAck fetches and acknowledges batches of up to 100 with one
// consumer; ns/op is per message.
func BenchmarkFetchAck(b *testing.B) {
	q := benchQueue(b)
	ctx := context.Background()
	evs, bodies := benchEvents(b, 1000)
	for i := 0; i < b.N; i += len(evs) {
		if err := q.Push(ctx, evs, bodies); err != nil {
			b.Fatal(err)
		}
	}
	c, err := q.Consumer(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	b.ResetTimer()
	for n := 0; n < b.N; {
		batch, err := c.Fetch(ctx, 100, time.Second)
		if err != nil || batch == nil {
			b.Fatalf("Fetch: %v, %v after %d", batch, err, n)
		}
		ids := make([]string, len(batch.Messages))
		for i, m := range batch.Messages {
			ids[i] = m.ID
		}
		if err := c.Ack(ctx, batch, ids); err != nil {
			b.Fatal(err)
		}
		n += len(ids)
	}
}
