package redisstream

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/internal/redistest"
	"github.com/followflow/followflow/queue"
)

// TestRoutingAgainAddsNothingTwice routes a batch, then routes it again
// from an older cursor, as a router that crashed before it moved the
// cursor would (or one that lost its lease unawares): every event is in
// its partition once, in inbox order.
func TestRoutingAgainAddsNothingTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, prefix := redistest.Shared(t)
	q, err := New(ctx, client, Config{Prefix: prefix, Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	want := make([][]string, 4)
	for i := range 12 {
		ev := &event.Event{ID: fmt.Sprintf("e%d", i), Type: event.OpportunityUpdated, AccountID: "acme", OpportunityID: fmt.Sprintf("opp_%d", i%5)}
		body, _ := event.Encode(ev)
		if err := client.XAdd(ctx, &goredis.XAddArgs{Stream: q.keys.inbox(), Values: []any{fieldEvent, body}}).Err(); err != nil {
			t.Fatal(err)
		}
		p := queue.PartitionOf(ev, 4)
		want[p] = append(want[p], ev.ID)
	}
	entries, err := client.XRange(ctx, q.keys.inbox(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	// No consumer, so no router runs: this one holds the lease.
	r := &router{q: q, token: "test-router"}
	if err := client.Set(ctx, q.keys.routerLease(), r.token, 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, batch := range [][]int{{0, 5}, {0, 12}, {3, 9}, {0, 12}} {
		if err := r.route(ctx, entries[batch[0]:batch[1]]); err != nil {
			t.Fatalf("route(%v): %v", batch, err)
		}
	}
	for p := range 4 {
		msgs, err := client.XRange(ctx, q.keys.parts[p].stream, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range msgs {
			ev, err := event.Decode([]byte(m.Values[fieldEvent].(string)), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.ID)
		}
		if !slices.Equal(got, want[p]) {
			t.Errorf("partition %d holds %v, want %v once each", p, got, want[p])
		}
	}
	if cur := client.Get(ctx, q.keys.routerCursor()).Val(); cur != entries[11].ID {
		t.Errorf("cursor %s after routing an older batch again, want %s (it never moves back)", cur, entries[11].ID)
	}
}
