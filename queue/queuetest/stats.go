package queuetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
)

func testStats(t *testing.T, open OpenFunc) {
	const partitions = 4
	q := open(t, partitions, 10*time.Second)
	var evs []*event.Event
	want := make([]int64, partitions)
	for i := range 30 {
		ev := Event(fmt.Sprintf("e%d", i), "acme", fmt.Sprintf("opp_%d", i%12))
		evs = append(evs, ev)
		want[queue.PartitionOf(ev, partitions)]++
	}
	Push(t, q, evs...)
	lag, owners := lags(t, q)
	for p := range partitions {
		if lag[p] != want[p] || owners[p] != "" {
			t.Errorf("partition %d: lag %d, owner %q; want %d, no owner", p, lag[p], owners[p], want[p])
		}
	}

	c := newConsumer(t, q, "stats-consumer")
	b := fetchWithin(t, c, 100, 5*time.Second)
	lag, owners = lags(t, q)
	if owners[b.Partition] != "stats-consumer" {
		t.Errorf("partition %d was read by stats-consumer but its owner is %q", b.Partition, owners[b.Partition])
	}
	if lag[b.Partition] != want[b.Partition] {
		t.Errorf("partition %d: lag %d while its %d messages are unacknowledged, want %d", b.Partition, lag[b.Partition], len(b.Messages), want[b.Partition])
	}
	ack(t, c, b)
	lag, _ = lags(t, q)
	if w := want[b.Partition] - int64(len(b.Messages)); lag[b.Partition] != w {
		t.Errorf("partition %d: lag %d after acknowledging %d messages, want %d", b.Partition, lag[b.Partition], len(b.Messages), w)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, owners := lags(t, q); owners[b.Partition] != "" {
		t.Errorf("partition %d: owner %q after its consumer closed, want none", b.Partition, owners[b.Partition])
	}
}

func testPartitioning(t *testing.T, open OpenFunc) {
	// The partition function is part of the wire format: producers in other
	// languages compute it (FNV-1a 32 of account, 0, record id; modulo n).
	for _, tc := range []struct {
		account, record string
		n, want         int
	}{
		{"acme", "opp_1", 16, 14},
		{"acme", "opp_1", 7, 3},
		{"acme", "c_1", 16, 10},
		{"globex", "opp_42", 16, 2},
	} {
		if got := queue.Partition(tc.account, tc.record, tc.n); got != tc.want {
			t.Errorf("Partition(%q, %q, %d) = %d, want %d", tc.account, tc.record, tc.n, got, tc.want)
		}
	}
	opp := &event.Event{ID: "x", Type: event.OpportunityTagApplied, AccountID: "acme", OpportunityID: "opp_1", ContactID: "c_1"}
	if got := queue.PartitionOf(opp, 16); got != 14 {
		t.Errorf("PartitionOf(opportunity event of opp_1 with contact c_1) = %d, want 14, that of opp_1", got)
	}
	contact := &event.Event{ID: "y", Type: event.ContactTagApplied, AccountID: "acme", ContactID: "c_1", OpportunityID: "opp_1"}
	if got := queue.PartitionOf(contact, 16); got != 10 {
		t.Errorf("PartitionOf(contact event of c_1) = %d, want 10, that of c_1", got)
	}

	// The backend places each event in queue.PartitionOf's partition.
	const partitions = 8
	q := open(t, partitions, 10*time.Second)
	if q.Partitions() != partitions {
		t.Fatalf("Partitions() = %d, want %d", q.Partitions(), partitions)
	}
	var evs []*event.Event
	for i := range 60 {
		id, rec := fmt.Sprintf("e%d", i), fmt.Sprintf("r%d", i%20)
		if i%2 == 0 {
			evs = append(evs, Event(id, "acme", "opp_"+rec))
		} else {
			evs = append(evs, ContactEvent(id, "globex", "c_"+rec))
		}
	}
	Push(t, q, evs...)
	c := newConsumer(t, q, "c1")
	for n := 0; n < len(evs); {
		b := fetchWithin(t, c, 7, 5*time.Second)
		for _, m := range b.Messages {
			ev := Decode(t, m)
			if p := queue.PartitionOf(ev, partitions); p != b.Partition {
				t.Errorf("event %s (record %s) read from partition %d, want %d", ev.ID, ev.OpportunityID+ev.ContactID, b.Partition, p)
			}
		}
		n += len(b.Messages)
		ack(t, c, b)
	}
}
