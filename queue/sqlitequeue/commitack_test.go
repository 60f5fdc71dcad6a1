package sqlitequeue_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/queue/queuetest"
	"github.com/followflow/followflow/queue/sqlitequeue"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/sqlite"
)

// TestAckOnCommit: the messages of the events a commit writes are
// acknowledged in its transaction, those of refused or uncommitted events
// are not, and Ack then deletes only the rest.
func TestAckOnCommit(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dbPath(t), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q := newQueue(t, st.DB(), sqlitequeue.Config{
		WriteTx: st.WithTx,
		InCommit: func(ctx context.Context, fn func(context.Context, *sql.Conn, []*store.Changeset) (func(), error)) context.Context {
			return sqlite.WithCommitHook(ctx, fn)
		},
	})
	queuetest.Push(t, q, queuetest.Events("acme", "opp_1", 6)...)
	c, err := q.Consumer(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	b, err := c.Fetch(ctx, 10, time.Second)
	if err != nil || b == nil || len(b.Messages) != 6 {
		t.Fatalf("Fetch = %v, %v; want 6 messages", b, err)
	}
	evs := make([]*event.Event, len(b.Messages))
	for i, m := range b.Messages {
		if evs[i], err = event.Decode(m.Body, m.EnqueuedAt); err != nil {
			t.Fatal(err)
		}
	}
	// Event 2 was processed before: its changeset is refused.
	if err := st.Commit(ctx, changeset(evs[2], b)); err != nil {
		t.Fatal(err)
	}
	cctx := c.(queue.CommitAcker).AckOnCommit(ctx, b, evs, b.Messages)
	errs, err := st.CommitBatch(cctx, []*store.Changeset{changeset(evs[0], b), changeset(evs[1], b), changeset(evs[2], b), changeset(evs[4], b)})
	if err != nil || errs[0] != nil || errs[1] != nil || errs[3] != nil || errs[2] == nil {
		t.Fatalf("CommitBatch = %v, %v; want only the third refused", errs, err)
	}
	// Event 5 alone.
	if err := st.Commit(cctx, changeset(evs[5], b)); err != nil {
		t.Fatal(err)
	}
	if got, want := queued(t, st), []string{b.Messages[2].ID, b.Messages[3].ID}; !slices.Equal(got, want) {
		t.Fatalf("after the commits the queue holds %v, want %v", got, want)
	}
	if err := c.Ack(ctx, b, ackIDs(b)); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if got := queued(t, st); len(got) != 0 {
		t.Fatalf("after Ack the queue holds %v", got)
	}
}

func changeset(ev *event.Event, b *queue.Batch) *store.Changeset {
	return &store.Changeset{AccountID: ev.AccountID, EventID: ev.ID, ProcessedAt: time.Now(), Fence: &b.Fence}
}

// queued returns the ids of the messages in the queue, in order.
func queued(t *testing.T, st *sqlite.Store) []string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT seq FROM queue_messages ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}
