package sqlitequeue_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/queue/queuetest"
	"github.com/followflow/followflow/queue/sqlitequeue"
	"github.com/followflow/followflow/store/sqlite"
)

func TestNewRefusesAnotherPartitionCount(t *testing.T) {
	db := openDB(t, dbPath(t))
	newQueue(t, db, sqlitequeue.Config{Partitions: 8})
	_, err := sqlitequeue.New(context.Background(), db, sqlitequeue.Config{Partitions: 16})
	if err == nil || !strings.Contains(err.Error(), "8 partitions, not 16") {
		t.Fatalf("New with 16 partitions on a queue of 8: %v, want an error naming both", err)
	}
}

func TestNewRefusesANewerSchema(t *testing.T) {
	db := openDB(t, dbPath(t))
	newQueue(t, db, sqlitequeue.Config{})
	if _, err := db.Exec(`UPDATE queue_meta SET value = 99 WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	_, err := sqlitequeue.New(context.Background(), db, sqlitequeue.Config{})
	if err == nil || !strings.Contains(err.Error(), "schema version 99 is newer") {
		t.Fatalf("New on a newer schema: %v, want an error", err)
	}
}

func TestNewRejectsABadConfig(t *testing.T) {
	db := openDB(t, dbPath(t))
	for _, tc := range []struct {
		cfg   sqlitequeue.Config
		field string
	}{
		{sqlitequeue.Config{Partitions: -1}, "Partitions"},
		{sqlitequeue.Config{Partitions: sqlitequeue.MaxPartitions + 1}, "Partitions"},
		{sqlitequeue.Config{LeaseTTL: time.Millisecond}, "LeaseTTL"},
		{sqlitequeue.Config{PollInterval: -time.Second}, "PollInterval"},
		{sqlitequeue.Config{PollInterval: time.Second, MaxPollInterval: time.Millisecond}, "MaxPollInterval"},
	} {
		if _, err := sqlitequeue.New(context.Background(), db, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("New(%+v): %v, want an error naming %s", tc.cfg, err, tc.field)
		}
	}
	d := sqlitequeue.Config{}.WithDefaults()
	if d.Partitions != queue.DefaultPartitions || d.LeaseTTL != 10*time.Second || d.PollInterval != 5*time.Millisecond || d.MaxPollInterval != 100*time.Millisecond {
		t.Errorf("defaults %+v", d)
	}
}

// TestSharesTheStoreFile: the queue's tables live beside the store's,
// whichever opens the file first, and leave the store's schema version
// alone.
func TestSharesTheStoreFile(t *testing.T) {
	ctx := context.Background()
	for _, queueFirst := range []bool{false, true} {
		path := dbPath(t)
		if queueFirst {
			db := openDB(t, path)
			newQueue(t, db, sqlitequeue.Config{})
			db.Close()
		}
		st, err := sqlite.Open(ctx, path, sqlite.Config{})
		if err != nil {
			t.Fatalf("opening the store (queue first: %v): %v", queueFirst, err)
		}
		var before int
		if err := st.DB().QueryRow("PRAGMA user_version").Scan(&before); err != nil {
			t.Fatal(err)
		}
		q := newQueue(t, st.DB(), sqlitequeue.Config{WriteTx: st.WithTx})
		var after int
		if err := st.DB().QueryRow("PRAGMA user_version").Scan(&after); err != nil {
			t.Fatal(err)
		}
		if before == 0 || after != before {
			t.Errorf("queue first: %v: store user_version %d before New, %d after", queueFirst, before, after)
		}
		queuetest.Push(t, q, queuetest.Event("e1", "acme", "opp_1"))
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
}

// TestStateSurvivesARestart: messages, deliveries and lease epochs are in
// the file, so a restarted process carries on: the store fences commits by
// epoch, so epochs must never go back.
func TestStateSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	cfg := sqlitequeue.Config{Partitions: 4, LeaseTTL: time.Minute}
	evs := queuetest.Events("acme", "opp_1", 3)

	db := openDB(t, path)
	q := newQueue(t, db, cfg)
	queuetest.Push(t, q, evs...)
	c, err := q.Consumer(ctx, "before")
	if err != nil {
		t.Fatal(err)
	}
	b1, err := c.Fetch(ctx, 10, time.Second)
	if err != nil || b1 == nil {
		t.Fatalf("Fetch: %v, %v", b1, err)
	}
	if err := c.Close(ctx); err != nil { // a clean shutdown, nothing acknowledged
		t.Fatal(err)
	}
	q.Close()
	db.Close()

	q2 := newQueue(t, openDB(t, path), cfg)
	c2, err := q2.Consumer(ctx, "after")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	b2, err := c2.Fetch(ctx, 10, time.Second)
	if err != nil || b2 == nil {
		t.Fatalf("Fetch after a restart: %v, %v", b2, err)
	}
	if len(b2.Messages) != len(evs) || b2.Messages[0].ID != b1.Messages[0].ID || b2.Messages[0].Deliveries != 2 {
		t.Errorf("after a restart got %+v, want the 3 messages again, delivered twice", b2.Messages)
	}
	if b2.Fence.Epoch <= b1.Fence.Epoch {
		t.Errorf("epoch %d after a restart, not greater than %d before", b2.Fence.Epoch, b1.Fence.Epoch)
	}
}

func TestBadIDsAndClosedQueues(t *testing.T) {
	ctx := context.Background()
	q := newQueue(t, openDB(t, dbPath(t)), sqlitequeue.Config{Partitions: 1})
	queuetest.Push(t, q, queuetest.Event("e1", "acme", "opp_1"))
	c, err := q.Consumer(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Fetch(ctx, 10, time.Second)
	if err != nil || b == nil {
		t.Fatalf("Fetch: %v, %v", b, err)
	}
	if err := c.Ack(ctx, b, []string{"1-0"}); err == nil {
		t.Errorf("Ack of a malformed id succeeded")
	}
	if _, err := q.Replay(ctx, []string{"x"}); err == nil {
		t.Errorf("Replay of a malformed id succeeded")
	}
	if _, err := q.Consumer(ctx, ""); err == nil {
		t.Errorf("Consumer without an id succeeded")
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(ctx, 10, 0); !errors.Is(err, sqlitequeue.ErrClosed) {
		t.Errorf("Fetch on a closed consumer: %v, want ErrClosed", err)
	}
	if err := c.Ack(ctx, b, []string{b.Messages[0].ID}); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Ack on a closed consumer: %v, want ErrLeaseLost", err)
	}
	q.Close()
	if err := q.Push(ctx, nil, nil); err != nil {
		t.Errorf("empty Push on a closed queue: %v", err)
	}
	if _, err := q.Consumer(ctx, "c2"); !errors.Is(err, sqlitequeue.ErrClosed) {
		t.Errorf("Consumer on a closed queue: %v, want ErrClosed", err)
	}
}
