package queuetest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/followflow/followflow/queue"
)

func testDeadLetters(t *testing.T, open OpenFunc) {
	ctx := context.Background()
	q := open(t, 2, 10*time.Second)
	evs := Events("acme", "opp_1", 3)
	Push(t, q, evs...)
	c := newConsumer(t, q, "c1")

	b := fetchWithin(t, c, 10, 5*time.Second)
	if len(b.Messages) != 3 {
		t.Fatalf("got %d messages, want 3", len(b.Messages))
	}
	bad := b.Messages[1]
	before := time.Now()
	if err := c.DeadLetter(ctx, b, bad, "data.tag: required"); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	if err := c.Ack(ctx, b, []string{b.Messages[0].ID, b.Messages[2].ID}); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	dls := deadLetters(t, q, 0)
	if len(dls) != 1 {
		t.Fatalf("DeadLetters = %+v, want 1", dls)
	}
	d := dls[0]
	if d.ID == "" || d.Reason != "data.tag: required" || d.Partition != b.Partition || !bytes.Equal(d.Body, bad.Body) {
		t.Errorf("dead letter %+v (body %s), want reason %q, partition %d, body %s", d, d.Body, "data.tag: required", b.Partition, bad.Body)
	}
	if d.Deliveries < 1 {
		t.Errorf("dead letter Deliveries = %d, want at least 1", d.Deliveries)
	}
	if d.FailedAt.Before(before.Add(-clockSlack)) || d.FailedAt.After(time.Now().Add(clockSlack)) {
		t.Errorf("dead letter FailedAt = %v, want about %v", d.FailedAt, before)
	}
	if b := fetch(t, c, 10, 200*time.Millisecond); b != nil {
		t.Fatalf("after DeadLetter and Ack, Fetch returned %v; want nothing", eventIDs(t, b))
	}
	if lag, _ := lags(t, q); sum(lag) != 0 {
		t.Errorf("lag %v with only a dead letter left, want 0", lag)
	}

	// Replay(ids) delivers it again, as a new push, and removes it.
	if n, err := q.Replay(ctx, []string{d.ID}); err != nil || n != 1 {
		t.Fatalf("Replay(%s) = %d, %v; want 1", d.ID, n, err)
	}
	if dls := deadLetters(t, q, 0); len(dls) != 0 {
		t.Errorf("DeadLetters after Replay = %+v, want none", dls)
	}
	rb := fetchWithin(t, c, 10, 5*time.Second)
	if len(rb.Messages) != 1 || !bytes.Equal(rb.Messages[0].Body, bad.Body) || rb.Partition != b.Partition {
		t.Fatalf("after Replay got %v of partition %d, want %s of partition %d", eventIDs(t, rb), rb.Partition, evs[1].ID, b.Partition)
	}
	if m := rb.Messages[0]; m.Deliveries != 1 {
		t.Errorf("replayed message: Deliveries = %d, want 1 (a new push)", m.Deliveries)
	}

	// Dead letters are listed oldest first; Replay(nil) replays them all.
	Push(t, q, Events("acme", "opp_2", 1)...)
	twoDead := func() []queue.DeadLetter {
		t.Helper()
		var order []string
		for len(order) < 2 {
			b := fetchWithin(t, c, 10, 5*time.Second)
			for _, m := range b.Messages {
				if err := c.DeadLetter(ctx, b, m, "reason "+Decode(t, m).ID); err != nil {
					t.Fatalf("DeadLetter: %v", err)
				}
				order = append(order, "reason "+Decode(t, m).ID)
			}
		}
		dls := deadLetters(t, q, 0)
		var reasons []string
		for _, d := range dls {
			reasons = append(reasons, d.Reason)
		}
		if !slices.Equal(reasons, order) {
			t.Fatalf("DeadLetters reasons %q, want oldest first %q", reasons, order)
		}
		if first := deadLetters(t, q, 1); len(first) != 1 || first[0].ID != dls[0].ID {
			t.Errorf("DeadLetters(1) = %+v, want the oldest, %s", first, dls[0].ID)
		}
		return dls
	}
	twoDead()
	if n, err := q.Replay(ctx, nil); err != nil || n != 2 {
		t.Fatalf("Replay(nil) = %d, %v; want 2", n, err)
	}
	if dls := deadLetters(t, q, 0); len(dls) != 0 {
		t.Errorf("DeadLetters after Replay(nil) = %+v, want none", dls)
	}

	// Purge(ids) and Purge(nil) remove them for good; twoDead reads the
	// replayed messages again.
	dls = twoDead()
	if n, err := q.Purge(ctx, []string{dls[0].ID}); err != nil || n != 1 {
		t.Fatalf("Purge(%s) = %d, %v; want 1", dls[0].ID, n, err)
	}
	if left := deadLetters(t, q, 0); len(left) != 1 || left[0].ID != dls[1].ID {
		t.Errorf("DeadLetters after Purge(%s) = %+v, want only %s", dls[0].ID, left, dls[1].ID)
	}
	if n, err := q.Purge(ctx, nil); err != nil || n != 1 {
		t.Fatalf("Purge(nil) = %d, %v; want 1", n, err)
	}
	if left := deadLetters(t, q, 0); len(left) != 0 {
		t.Errorf("DeadLetters after Purge(nil) = %+v, want none", left)
	}
	if b := fetch(t, c, 10, 200*time.Millisecond); b != nil {
		t.Errorf("purged messages came back: %v", eventIDs(t, b))
	}
}

func deadLetters(t *testing.T, q queue.Queue, limit int) []queue.DeadLetter {
	t.Helper()
	dls, err := q.DeadLetters(context.Background(), limit)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	return dls
}
